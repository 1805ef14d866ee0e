#include "calico/ctl/node_command.h"

#include <sstream>

#include <gtest/gtest.h>

namespace calico::ctl {
namespace {

struct Io {
  std::istringstream in;
  std::ostringstream out, err;
  Context ctx{in, out, err, nullptr, {}, 0};
};

int Node(Io& io, std::vector<std::string> args) {
  return RunNode(args, io.ctx);
}

TEST(NodeCommandTest, RunDryrunPrintsTheProcessItWouldStart) {
  Io io;
  ::setenv("DATASTORE_TYPE", "local", 1);
  ::setenv("CALICO_DATASTORE_PATH", "/tmp/x.db", 1);
  ASSERT_EQ(Node(io, {"run", "--dryrun", "--name=calico-01", "--ip=198.18.0.11", "--as=64513",
                      "--backend=vxlan", "--log-dir=/tmp/logs", "--no-default-ippools"}),
            0)
      << io.err.str();
  std::string out = io.out.str();
  EXPECT_NE(out.find("Running the following command to start calico-node:"), std::string::npos);
  for (const char* want :
       {"NODENAME=calico-01", "IP=198.18.0.11", "AS=64513", "CALICO_NETWORKING_BACKEND=vxlan",
        "NO_DEFAULT_POOLS=true", "DATASTORE_TYPE=local", "CALICO_DATASTORE_PATH=/tmp/x.db",
        "IP_AUTODETECTION_METHOD=first-found", ">> /tmp/logs/calico-node.log"}) {
    EXPECT_NE(out.find(want), std::string::npos) << want << "\n" << out;
  }
  ::unsetenv("DATASTORE_TYPE");
  ::unsetenv("CALICO_DATASTORE_PATH");
}

TEST(NodeCommandTest, LegacyNodeWithLibnetworkMeansRun) {
  Io io;
  ASSERT_EQ(Node(io, {"--libnetwork", "--dryrun"}), 0) << io.err.str();
  EXPECT_NE(io.out.str().find("and the libnetwork plugin:"), std::string::npos) << io.out.str();
}

TEST(NodeCommandTest, BadInputIsNamed) {
  Io io;
  EXPECT_EQ(Node(io, {"run", "--backend=gobgp", "--dryrun"}), 1);
  EXPECT_NE(io.err.str().find("--backend must be bird, vxlan or none"), std::string::npos);
  Io io2;
  EXPECT_EQ(Node(io2, {"frobnicate"}), 1);
  EXPECT_NE(io2.err.str().find("Invalid option: 'node frobnicate'"), std::string::npos);
  Io io3;
  EXPECT_EQ(Node(io3, {"run", "--no-such-flag"}), 1);
  EXPECT_NE(io3.err.str().find("unknown flag: --no-such-flag"), std::string::npos) << io3.err.str();
}

TEST(NodeCommandTest, StopWithNothingRunning) {
  Io io;
  EXPECT_EQ(Node(io, {"stop", "--run-dir=/tmp/calico-no-such-run-dir"}), 0);
  EXPECT_EQ(io.out.str(), "Calico node is not running.\n");
}

}  // namespace
}  // namespace calico::ctl
