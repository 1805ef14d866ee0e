#include "calico/ctl/node_command.h"

#include <gtest/gtest.h>

#include "calico/ctl/rule_counters.h"
#include "calico/ctl/testing/ctl_fixture.h"

namespace calico::ctl {
namespace {

// `calicoctl node ...` with no datastore configured (node run takes it from the environment).
class NodeCommandTest : public testing::CtlFixture {
 protected:
  void SetUp() override { NoDatastore(); }
  testing::CommandOutcome Node(const std::vector<std::string>& args) {
    return RunHandler(RunNode, args);
  }
};

TEST_F(NodeCommandTest, RunDryrunPrintsTheProcessItWouldStart) {
  ::setenv("DATASTORE_TYPE", "local", 1);
  ::setenv("CALICO_DATASTORE_PATH", "/tmp/x.db", 1);
  auto r = Node({"run", "--dryrun", "--name=calico-01", "--ip=198.18.0.11", "--as=64513",
                 "--backend=vxlan", "--log-dir=/tmp/logs", "--no-default-ippools"});
  ::unsetenv("DATASTORE_TYPE");
  ::unsetenv("CALICO_DATASTORE_PATH");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Running the following command to start calico-node:"), std::string::npos);
  for (const char* want :
       {"NODENAME=calico-01", "IP=198.18.0.11", "AS=64513", "CALICO_NETWORKING_BACKEND=vxlan",
        "NO_DEFAULT_POOLS=true", "DATASTORE_TYPE=local", "CALICO_DATASTORE_PATH=/tmp/x.db",
        "IP_AUTODETECTION_METHOD=first-found", ">> /tmp/logs/calico-node.log"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  }
}

TEST_F(NodeCommandTest, LegacyNodeWithLibnetworkMeansRun) {
  auto r = Node({"--libnetwork", "--dryrun"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("and the libnetwork plugin:"), std::string::npos) << r.out;
}

TEST_F(NodeCommandTest, BadInputIsNamed) {
  auto r = Node({"run", "--backend=gobgp", "--dryrun"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--backend must be bird, vxlan or none"), std::string::npos);
  r = Node({"frobnicate"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Invalid option: 'node frobnicate'"), std::string::npos);
  r = Node({"run", "--no-such-flag"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown flag: --no-such-flag"), std::string::npos) << r.err;
}

TEST_F(NodeCommandTest, StopWithNothingRunning) {
  auto r = Node({"stop", "--run-dir=/tmp/calico-no-such-run-dir"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "Calico node is not running.\n");
}

// `node counters` through the injected reader: the table, sorted by packets; --all adds the rules
// that never matched; no table and no reader are named.
TEST_F(NodeCommandTest, CountersFromTheInjectedReader) {
  std::vector<nft_model::RuleCounter> counters = {
      {.chain = "cali-pi-_a",
       .handle = 7,
       .comment = "policy default/allow ingress #0",
       .packets = 3,
       .bytes = 180},
      {.chain = "cali-tw-cali1", .handle = 9, .comment = "", .packets = 0, .bytes = 0},
      {.chain = "cali-pi-_b",
       .handle = 8,
       .comment = "policy default/deny ingress #1",
       .packets = 12,
       .bytes = 1008},
  };
  Handler node = NodeCommand({.bgp_status = nullptr, .rule_counters = [&] {
                                return Result<std::vector<nft_model::RuleCounter>>(counters);
                              }});
  auto r = RunHandler(node, {"counters"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "PACKETS   BYTES   CHAIN        RULE\n"
            "12        1008    cali-pi-_b   policy default/deny ingress #1\n"
            "3         180     cali-pi-_a   policy default/allow ingress #0\n");
  r = RunHandler(node, {"counters", "--all"});
  EXPECT_NE(r.out.find("0         0       cali-tw-cali1   (handle 9)\n"), std::string::npos)
      << r.out;

  Handler no_table =
      NodeCommand({.bgp_status = nullptr, .rule_counters = [] {
                     return Result<std::vector<nft_model::RuleCounter>>(NotFound("no such table"));
                   }});
  r = RunHandler(no_table, {"counters"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "no calico table on this host: is calico-node running here?\n");

  r = Node({"counters"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "rule counters are not available in this build\n");
}

TEST(RuleCountersTest, NothingMatchedYet) {
  EXPECT_EQ(
      RenderRuleCounters({{.chain = "c", .handle = 1, .comment = "x", .packets = 0, .bytes = 0}},
                         /*all=*/false),
      "PACKETS   BYTES   CHAIN   RULE\n"
      "(no rule has matched a packet yet; --all lists every rule)\n");
}

}  // namespace
}  // namespace calico::ctl
