// calicoctl ipam show/release/configure/check and datastore migrate, in-process on MemBackend.
#include "calico/ctl/ipam_command.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
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
  calico::testing::ExpectGolden("src/calico/ctl/testdata/ipam_show.golden", transcript);
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

// calicoctl/calicoctl/commands/ipam/configure.go updateIPAMConfig: read the whole config, change
// only what was asked, write it back; fields this build's IPAM does not act on survive.
TEST_F(IpamCommandTest, ConfigureKeepsTheFieldsItWasNotAskedToChange) {
  ASSERT_TRUE(
      backend_.Put("/calico/ipam/v2/config",
                   R"({"auto_allocate_blocks":true,"kubeVirtVMAddressPersistence":"Disabled",)"
                   R"("ipCooldownSeconds":30})"));
  testing::CommandOutcome o = Run({"ipam", "configure", "--strictaffinity=true"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(
      ipam::Json::parse(backend_.Get("/calico/ipam/v2/config")->value),
      ipam::Json::parse(R"({"strict_affinity":true,"auto_allocate_blocks":true,)"
                        R"("kubeVirtVMAddressPersistence":"Disabled","ipCooldownSeconds":30})"));
  o = Run({"ipam", "configure", "--kubevirt-ip-persistence=Enabled", "--ip-cooldown-seconds=0"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out,
            "Successfully set KubeVirtVMAddressPersistence to: Enabled\n"
            "Successfully set IPCooldownSeconds to: 0\n");
  EXPECT_EQ(ipam::Json::parse(backend_.Get("/calico/ipam/v2/config")->value),
            ipam::Json::parse(R"({"strict_affinity":true,"auto_allocate_blocks":true,)"
                              R"("kubeVirtVMAddressPersistence":"Enabled"})"));
  o = Run({"ipam", "configure", "--kubevirt-ip-persistence=yes"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "invalid value for --kubevirt-ip-persistence. Use Enabled or Disabled\n");
  o = Run({"ipam", "configure", "--ip-cooldown-seconds=-5"});
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("--ip-cooldown-seconds"), std::string::npos) << o.err;
}

// A record stored by Calico with AutoAllocateBlocks false has no auto_allocate_blocks field
// (omitempty): it reads as false, so `ipam show --show-configuration` and block allocation agree
// with Calico's.
TEST_F(IpamCommandTest, StoredConfigMissingFieldsReadAsGoZeroValues) {
  ASSERT_TRUE(backend_.Put("/calico/ipam/v2/config", R"({"strict_affinity":true})"));
  testing::CommandOutcome o = Run({"ipam", "show", "--show-configuration"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("| AutoAllocateBlocks           | false "), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("(*ipam.VMAddressPersistence)(nil)"), std::string::npos) << o.out;
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
  testing::CommandOutcome o = Run({"ipam", "check", "--show-problem-ips"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("Found 1 IPs that are allocated in IPAM but not actually in use."),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find(r.ipv4[1].addr().String()), std::string::npos);
  EXPECT_NE(o.out.find("Found 1 handles with no matching IPs"), std::string::npos) << o.out;
}

// What a crash in the middle of a CNI ADD or DEL leaves, each found by ipam check: an allocation
// without an endpoint (ADD killed after IPAM), an endpoint whose address is no longer allocated
// (DEL killed after IPAM), a handle without addresses (ADD killed between the handle and the block
// write). `-o` writes Calico's report; `release --from-report` frees the leaked address and the
// handle and leaves everything in use alone, after which check is clean.
TEST_F(IpamCommandTest, CheckReportThenReleaseFromReportCleansEveryLeak) {
  auto used = Allocate(1, 0, "net.used");
  auto leaked = Allocate(1, 0, "net.leaked");
  auto gone = Allocate(1, 0, "net.gone");
  auto make_wep = [&](const std::string& cid, const net::CIDR& ip) {
    model::Resource wep("WorkloadEndpoint", "", "default");
    wep.spec() = model::Json{{"node", "node1"},
                             {"orchestrator", "cni"},
                             {"containerID", cid},
                             {"endpoint", "eth0"},
                             {"interfaceName", "cali" + cid},
                             {"ipNetworks", {ip.addr().String() + "/32"}}};
    ASSERT_TRUE(client_.Create(wep));
  };
  make_wep("used", used.ipv4[0]);
  make_wep("gone", gone.ipv4[0]);
  ASSERT_TRUE(ipam_.ReleaseIPs(std::vector<net::IPAddr>{gone.ipv4[0].addr()}));  // DEL killed
  ASSERT_TRUE(backend_.Put("/calico/ipam/v2/handle/net.orphan", R"({"block":{},"deleted":false})"));
  model::Resource info("ClusterInformation", "default");
  info.spec() = model::Json{{"clusterGUID", "abc"}, {"datastoreReady", true}};
  ASSERT_TRUE(client_.Create(info));

  std::string report = ::testing::TempDir() + "/ipam-report.json";
  testing::CommandOutcome o = Run({"ipam", "check", "--show-problem-ips", "-o", report});
  ASSERT_EQ(o.code, 0) << o.err;
  const std::string leaked_ip = leaked.ipv4[0].addr().String();
  EXPECT_NE(o.out.find("  " + leaked_ip + " leaked; attrs Main:net.leaked"), std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("Found 1 IPs that are allocated in IPAM but not actually in use."),
            std::string::npos);
  EXPECT_NE(o.out.find("Found 1 in-use IPs that are in active IP pools but have no corresponding "
                       "IPAM allocation."),
            std::string::npos);
  EXPECT_NE(o.out.find(gone.ipv4[0].addr().String() + " in use by Workload(default/"),
            std::string::npos);
  EXPECT_NE(o.out.find("Found 1 handles with no matching IPs (and 2 handles with matches)."),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("Check complete; found 3 problems."), std::string::npos) << o.out;
  auto doc = nlohmann::json::parse(std::ifstream(report));
  EXPECT_EQ(doc["clusterGUID"], "abc");
  EXPECT_EQ(doc["allocations"][leaked_ip][0]["inUse"], false);
  EXPECT_EQ(doc["allocations"][leaked_ip][0]["handle"], "net.leaked");
  EXPECT_EQ(doc["leakedHandles"].size(), 1u);

  // The datastore is not locked (datastoreReady is true): refused without --force.
  testing::CommandOutcome refused = Run({"ipam", "release", "--from-report", report});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("data store is not locked"), std::string::npos) << refused.err;
  testing::CommandOutcome released = Run({"ipam", "release", "--from-report", report, "--force"});
  EXPECT_EQ(released.code, 0) << released.err << released.out;
  EXPECT_NE(released.out.find("Released 1 IPs successfully"), std::string::npos) << released.out;
  EXPECT_NE(released.out.find("Released 1 handles; 0 skipped; 0 errors."), std::string::npos)
      << released.out;
  EXPECT_FALSE(*ipam_.GetAssignmentAttributes(leaked.ipv4[0].addr()));
  EXPECT_TRUE(*ipam_.GetAssignmentAttributes(used.ipv4[0].addr()));

  // What is left is the endpoint without an allocation: a CNI DEL's job, not release's.
  testing::CommandOutcome after = Run({"ipam", "check"});
  EXPECT_NE(after.out.find("Check complete; found 1 problems."), std::string::npos) << after.out;
  auto weps = client_.List("WorkloadEndpoint", "default");
  ASSERT_TRUE(weps);
  for (const model::Resource& wep : *weps) {
    if (wep.spec().value("containerID", "") == "gone") {
      ASSERT_TRUE(client_.Delete("WorkloadEndpoint", "default", wep.name()));
    }
  }
  testing::CommandOutcome clean = Run({"ipam", "check"});
  EXPECT_NE(clean.out.find("Check complete; found 0 problems."), std::string::npos) << clean.out;
}

// An address released and allocated again after the report was made is not freed by it.
TEST_F(IpamCommandTest, ReleaseFromAStaleReportSparesReallocatedAddresses) {
  auto leaked = Allocate(1, 0, "net.a");
  std::string report = ::testing::TempDir() + "/ipam-report-stale.json";
  ASSERT_EQ(Run({"ipam", "check", "-o", report}).code, 0);
  ASSERT_TRUE(ipam_.ReleaseIPs(std::vector<net::IPAddr>{leaked.ipv4[0].addr()}));
  ASSERT_TRUE(ipam_.AssignIP(leaked.ipv4[0].addr(), "net.b", ipam::Json::object(), "node1"));
  testing::CommandOutcome o = Run({"ipam", "release", "--from-report", report, "--force"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("Released 0 IPs successfully"), std::string::npos) << o.out;
  auto attr = ipam_.GetAssignmentAttributes(leaked.ipv4[0].addr());
  ASSERT_TRUE(attr && *attr);
  EXPECT_EQ((*attr)->handle_id, "net.b");
  std::ofstream(report) << "{\"clusterGUID\": \"other\"}";
  testing::CommandOutcome other = Run({"ipam", "release", "--from-report", report, "--force"});
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.err.find("mismatched cluster GUID"), std::string::npos) << other.err;
}

TEST_F(IpamCommandTest, MigrateExportImportThroughTheCommand) {
  Allocate(1, 0, "web");
  ASSERT_TRUE(client_.EnsureInitialized().has_value());
  // datastore/migrate/export.go Export: refused unless `migrate lock` ran (common.CheckLocked).
  testing::CommandOutcome unlocked = Run({"datastore", "migrate", "export"});
  EXPECT_EQ(unlocked.code, 1);
  EXPECT_EQ(unlocked.err,
            "datastore is not locked. Run the `calicoctl datastore migrate lock` command in order "
            "to begin migration\n");
  testing::CommandOutcome lock = Run({"datastore", "migrate", "lock"});
  ASSERT_EQ(lock.code, 0) << lock.err;
  EXPECT_EQ(lock.out, "Datastore locked.\n");
  testing::CommandOutcome exported = Run({"datastore", "migrate", "export"});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_NE(exported.out.find("IPAMData"), std::string::npos);
  testing::CommandOutcome imported =
      Run({"datastore", "migrate", "import", "-f", "-"}, exported.out);
  EXPECT_EQ(imported.code, 0) << imported.err;
  EXPECT_NE(imported.out.find("Successfully imported"), std::string::npos);
  EXPECT_EQ(Run({"datastore", "migrate", "sideways"}).code, 1);
  testing::CommandOutcome unlock = Run({"datastore", "migrate", "unlock"});
  ASSERT_EQ(unlock.code, 0) << unlock.err;
  EXPECT_EQ(unlock.out, "Datastore unlocked.\n");
  auto info = client_.Get("ClusterInformation", "", "default");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->spec().value("datastoreReady", false), true);
  EXPECT_EQ(Run({"datastore", "migrate", "export"}).code, 1);
}

}  // namespace
}  // namespace calico::ctl
