#include "calico/ctl/node_command.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace calico::ctl
