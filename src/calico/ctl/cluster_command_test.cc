// `calicoctl cluster diags` (calicoctl/calicoctl/commands/cluster/diags.go collectDiags): the
// bundle ./calico-diagnostics-<time>.tar.gz, owner-only, holding every kind's resources, the IPAM
// views and keys and the nodes' status reports, with secrets redacted.
#include "calico/ctl/cluster_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/ctl/ipam_command.h"
#include "calico/ctl/testing/ctl_fixture.h"
#include "calico/datastore/keys.h"

namespace calico::ctl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ClusterDiagsTest : public testing::CtlFixture {
 protected:
  void SetUp() override {
    registry_.Register("cluster", "cluster", RunCluster);
    registry_.Register("ipam", "IP address management", RunIpam);
    ASSERT_TRUE(client_.EnsureInitialized().has_value());
    char tmpl[] = "/tmp/calico-cluster-diags-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    work_ = tmpl;
    old_cwd_ = fs::current_path();
    fs::current_path(work_);
  }
  void TearDown() override {
    fs::current_path(old_cwd_);
    fs::remove_all(work_);
  }

  // `tar -xzf` of the bundle into work_/x; returns the bundle's directory.
  fs::path Extract(const std::string& archive) {
    fs::create_directories(work_ / "x");
    const std::string cmd =
        "tar -xzf '" + (work_ / archive).string() + "' -C '" + (work_ / "x").string() + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    for (const auto& e : fs::directory_iterator(work_ / "x"))
      return e.path();
    return {};
  }
  static std::string Read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  fs::path work_;
  fs::path old_cwd_;
};

TEST_F(ClusterDiagsTest, BundleHoldsResourcesIpamAndNodeStatus) {
  auto r = Run({"create", "-f", "-"}, R"y(apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: diags-pool}
spec: {cidr: 10.70.0.0/16}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: np1, namespace: shop}
spec: {selector: all()}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node1}
spec: {}
)y");
  ASSERT_EQ(r.code, 0) << r.err;
  // A node's status report, and a secret where one should never be (an etcd password in a
  // stored value) to prove redaction.
  ASSERT_TRUE(backend_.Put(datastore::FelixStatusKey("node1"), R"({"time":"2026-12-07T10:00:00Z"})")
                  .has_value());
  ASSERT_TRUE(
      backend_
          .Put("/calico/ipam/v2/config", R"({"strict_affinity":false,"note":"--password=hunter2"})")
          .has_value());

  r = Run({"cluster", "diags"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("==== Begin collecting diagnostics. ===="));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m,
                                std::regex(R"(Diagnostic bundle created at \./(calico-diagnostics-)"
                                           R"(\d{8}_\d{6}\.tar\.gz))")))
      << r.out;
  const std::string archive = m[1];
  struct stat st {};
  ASSERT_EQ(::stat((work_ / archive).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  // The temporary directory is gone.
  const std::string tmp_line = r.out.substr(r.out.find("Created temporary directory: ") + 29);
  EXPECT_FALSE(fs::exists(tmp_line.substr(0, tmp_line.find('\n'))));

  const fs::path dir = Extract(archive);
  EXPECT_EQ(dir.filename().string() + ".tar.gz", archive);
  EXPECT_THAT(Read(dir / "resources" / "ippools.yaml"), HasSubstr("name: diags-pool"));
  EXPECT_THAT(Read(dir / "resources" / "ippools.txt"), HasSubstr("10.70.0.0/16"));
  EXPECT_THAT(Read(dir / "resources" / "networkpolicies.yaml"), HasSubstr("namespace: shop"));
  EXPECT_THAT(Read(dir / "resources" / "nodes.yaml"), HasSubstr("name: node1"));
  EXPECT_THAT(Read(dir / "resources" / "tiers.yaml"), HasSubstr("kube-baseline"));
  EXPECT_THAT(Read(dir / "ipam" / "show.txt"), HasSubstr("10.70.0.0/16"));
  EXPECT_THAT(Read(dir / "ipam" / "show-configuration.txt"), HasSubstr("StrictAffinity"));
  EXPECT_THAT(Read(dir / "ipam" / "check.txt"), HasSubstr("Checking IPAM for inconsistencies"));
  EXPECT_TRUE(fs::exists(dir / "ipam" / "check-report.json"));
  const std::string keys = Read(dir / "ipam" / "keys.json");
  EXPECT_THAT(keys, HasSubstr("/calico/ipam/v2/config"));
  EXPECT_THAT(keys, ::testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(Read(dir / "nodes" / "node1" / "status.json"), HasSubstr("2026-12-07T10:00:00Z"));
  EXPECT_THAT(Read(dir / "cluster-information.txt"), HasSubstr("clusterGUID"));
}

TEST_F(ClusterDiagsTest, BadUsage) {
  auto r = Run({"cluster"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("calicoctl cluster diags"));
  r = Run({"cluster", "diags", "--bogus"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(fs::is_empty(work_)) << "nothing is written on bad usage";
}

}  // namespace
}  // namespace calico::ctl
