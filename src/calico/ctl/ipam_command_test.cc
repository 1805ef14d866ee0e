// calicoctl ipam show/release/configure/check and datastore migrate, in-process on MemBackend.
#include "calico/ctl/ipam_command.h"

#include <gtest/gtest.h>

#include "calico/ctl/golden.h"
#include "calico/ctl/migrate_command.h"
#include "calico/ctl/testing/ctl_fixture.h"
#include "calico/ipam/ipam.h"

namespace calico::ctl {
namespace {

class IpamCommandTest : public testing::CtlFixture {
 protected:
  void SetUp() override {
    registry_.Register("ipam", "IP address management", RunIpam);
    registry_.Register("datastore migrate", "Migrate", RunDatastoreMigrate);
    for (const char* cidr : {"10.65.0.0/16", "fd5f:abcd:64::/48"}) {
      model::Resource pool("IPPool", cidr[0] == '1' ? "pool4" : "pool6");
      pool.spec()["cidr"] = cidr;
      ASSERT_TRUE(client_.Create(pool));
    }
  }

  ipam::AssignResult Allocate(int num4, int num6, const std::string& handle) {
    ipam::AutoAssignArgs args;
    args.num4 = num4;
    args.num6 = num6;
    args.handle = handle;
    args.host = "node1";
    args.attrs = ipam::Json{{"node", "node1"}, {"namespace", "default"}, {"pod", handle}};
    auto r = ipam_.AutoAssign(args);
    EXPECT_TRUE(r);
    return r ? *r : ipam::AssignResult{};
  }

  ipam::IpamClient ipam_{backend_};
};

TEST_F(IpamCommandTest, ShowTablesAndAddresses) {
  auto r = Allocate(5, 7, "web");
  ASSERT_EQ(r.ipv4.size(), 5u);
  std::string transcript;
  for (const std::vector<std::string>& cmd : {std::vector<std::string>{"ipam", "show"},
                                              {"ipam", "show", "--show-blocks"},
                                              {"ipam", "show", "--show-configuration"}}) {
    testing::CommandOutcome o = Run(cmd);
    EXPECT_EQ(o.code, 0) << o.err;
    transcript += "$ calicoctl";
    for (const auto& w : cmd)
      transcript += " " + w;
    transcript += "\n" + o.out;
  }
  // Block choice is deterministic per host name (FNV-1 seeded), so the golden is stable.
  testing::ExpectGolden("ipam_show.golden", transcript);
  testing::CommandOutcome ip = Run({"ipam", "show", "--ip=" + r.ipv4[0].addr().String()});
  EXPECT_NE(ip.out.find("is in use"), std::string::npos);
  EXPECT_NE(ip.out.find("Handle ID: web"), std::string::npos);
  EXPECT_NE(ip.out.find("  pod: web"), std::string::npos);
  EXPECT_NE(Run({"ipam", "show", "--ip=10.65.255.255"}).out.find("is not assigned"),
            std::string::npos);
  testing::CommandOutcome bad = Run({"ipam", "show", "--ip=nonsense"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("invalid IP address"), std::string::npos);
}

TEST_F(IpamCommandTest, ReleaseAndConfigure) {
  auto r = Allocate(1, 0, "web");
  std::string ip = r.ipv4[0].addr().String();
  testing::CommandOutcome released = Run({"ipam", "release", "--ip=" + ip});
  EXPECT_EQ(released.code, 0) << released.err;
  EXPECT_EQ(released.out, "Successfully released IP address " + ip + "\n");
  testing::CommandOutcome again = Run({"ipam", "release", "--ip=" + ip});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err, "IP address " + ip + " is not assigned\n");
  testing::CommandOutcome cfg = Run({"ipam", "configure", "--strictaffinity=true"});
  EXPECT_EQ(cfg.code, 0);
  EXPECT_EQ(cfg.out, "Successfully set StrictAffinity to: true\n");
  EXPECT_TRUE(ipam_.GetConfig()->strict_affinity);
  EXPECT_EQ(Run({"ipam", "configure", "--strictaffinity=maybe"}).code, 1);
}

TEST_F(IpamCommandTest, CheckFindsLeaks) {
  auto r = Allocate(2, 0, "leaky");
  ASSERT_EQ(r.ipv4.size(), 2u);
  // An endpoint uses the first address; the second is allocated but used by nothing.
  model::Resource wep("WorkloadEndpoint", "", "default");
  wep.spec() = model::Json{{"node", "node1"},
                           {"orchestrator", "cni"},
                           {"containerID", "leaky"},
                           {"endpoint", "eth0"},
                           {"interfaceName", "calileaky"},
                           {"ipNetworks", {r.ipv4[0].addr().String() + "/32"}}};
  ASSERT_TRUE(client_.Create(wep));
  ASSERT_TRUE(backend_.Put("/calico/ipam/v2/handle/orphan", R"({"block":{},"deleted":false})"));
  testing::CommandOutcome o = Run({"ipam", "check"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("Found 1 IPs that are allocated in IPAM but not actually in use."),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find(r.ipv4[1].addr().String()), std::string::npos);
  EXPECT_NE(o.out.find("Found 1 handles with no matching IPs"), std::string::npos) << o.out;
}

TEST_F(IpamCommandTest, MigrateExportImportThroughTheCommand) {
  Allocate(1, 0, "web");
  testing::CommandOutcome exported = Run({"datastore", "migrate", "export"});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_NE(exported.out.find("IPAMData"), std::string::npos);
  testing::CommandOutcome imported =
      Run({"datastore", "migrate", "import", "-f", "-"}, exported.out);
  EXPECT_EQ(imported.code, 0) << imported.err;
  EXPECT_NE(imported.out.find("Successfully imported"), std::string::npos);
  EXPECT_EQ(Run({"datastore", "migrate", "sideways"}).code, 1);
}

}  // namespace
}  // namespace calico::ctl
