// `calicoctl node run --init-system`: the unit printed is the one the Debian package ships
// (packaging/systemd/calico-node.service) with this installation's calico-node, and the
// environment file is packaging/etc/calico.env with the flags' settings filled in.
#include "calico/ctl/init_system.h"

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
#include "calico/ctl/node_command.h"

namespace calico::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadSource(const std::string& path) {
  std::ifstream in(std::string(CALICO_SOURCE_DIR) + "/" + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(InitSystemTest, UnitIsTheShippedOneWithThisCalicoNode) {
  std::string shipped = ReadSource("packaging/systemd/calico-node.service");
  ASSERT_THAT(shipped, HasSubstr("\nExecStart=/usr/bin/calico-node\n"));
  EXPECT_EQ(RenderNodeUnit("/usr/bin/calico-node"), shipped);
  std::string local = RenderNodeUnit("/usr/local/bin/calico-node");
  EXPECT_THAT(local, HasSubstr("\nExecStart=/usr/local/bin/calico-node\n"));
  EXPECT_THAT(local, Not(HasSubstr("/usr/bin/calico-node")));
  EXPECT_THAT(local, HasSubstr("EnvironmentFile=/etc/calico/calico.env"));
}

TEST(InitSystemTest, EnvironmentFileFilledIn) {
  std::string env = RenderCalicoEnv({{"NODENAME", "calico-01"},
                                     {"IP", "10.0.0.1"},
                                     {"AS", "64513"},
                                     {"CALICO_NETWORKING_BACKEND", "vxlan"},
                                     {"ETCD_ENDPOINTS", "https://10.0.0.9:2379"},
                                     {"CALICO_RUN_DIR", "/srv/calico/run"}});
  // In place of the commented defaults, each once; an unknown variable goes to the end.
  EXPECT_THAT(env, HasSubstr("\nNODENAME=calico-01\n"));
  EXPECT_THAT(env, HasSubstr("\nIP=10.0.0.1\n"));
  EXPECT_THAT(env, HasSubstr("\n#IP_AUTODETECTION_METHOD=first-found\n"));
  EXPECT_THAT(env, HasSubstr("\nAS=64513\n"));
  EXPECT_THAT(env, HasSubstr("\nCALICO_NETWORKING_BACKEND=vxlan\n"));
  EXPECT_THAT(env, Not(HasSubstr("CALICO_NETWORKING_BACKEND=bird")));
  EXPECT_THAT(env, HasSubstr("\n#DATASTORE_TYPE=local\n"));
  EXPECT_THAT(env, HasSubstr("ETCD_ENDPOINTS=https://10.0.0.9:2379\n"));
  EXPECT_THAT(env, Not(HasSubstr("\n#ETCD_ENDPOINTS=")));
  EXPECT_THAT(env, HasSubstr("calicoctl node run ---"));
  EXPECT_TRUE(env.ends_with("\nCALICO_RUN_DIR=/srv/calico/run\n")) << env;
  calico::testing::ExpectGolden("src/calico/ctl/testdata/init_system_env.golden", env);
  // Nothing set: the shipped file as it is.
  EXPECT_EQ(RenderCalicoEnv({}), ReadSource("packaging/etc/calico.env"));
}

TEST(InitSystemTest, NodeRunInitSystemPrintsUnitEnvAndCommands) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  Context ctx{in, out, err, nullptr, {}, 0};
  ::setenv("DATASTORE_TYPE", "local", 1);
  ::setenv("CALICO_DATASTORE_PATH", "/var/lib/calico/calico.db", 1);
  std::vector<std::string> args = {"run",
                                   "--init-system",
                                   "--name=calico-01",
                                   "--ip=10.0.0.1",
                                   "--as=64513",
                                   "--libnetwork",
                                   "--config=/nonexistent/calicoctl.cfg"};
  // A config file named with --config must exist; the default one need not.
  EXPECT_EQ(RunNode(args, ctx), 1);
  EXPECT_THAT(err.str(), HasSubstr("Error reading config file"));
  args.pop_back();
  err.str("");
  ASSERT_EQ(RunNode(args, ctx), 0) << err.str();
  ::unsetenv("DATASTORE_TYPE");
  ::unsetenv("CALICO_DATASTORE_PATH");
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("[Service]\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("\nExecStart=/[^\n]*calico-node\n"));
  EXPECT_THAT(text, HasSubstr("\nNODENAME=calico-01\n"));
  EXPECT_THAT(text, HasSubstr("\nIP=10.0.0.1\n"));
  EXPECT_THAT(text, HasSubstr("\nAS=64513\n"));
  EXPECT_THAT(text, HasSubstr("\nDATASTORE_TYPE=local\n"));
  // The nodename file stays where the CNI plugin looks (/var/lib/calico/nodename).
  EXPECT_THAT(text, Not(HasSubstr("CALICO_NODENAME_FILE")));
  EXPECT_THAT(text, Not(HasSubstr("CALICO_RUN_DIR")));
  EXPECT_THAT(text, HasSubstr("systemctl enable --now calico-node\n"));
  EXPECT_THAT(text, HasSubstr("systemctl enable --now calico-libnetwork.socket\n"));
  EXPECT_THAT(text, HasSubstr("Use the following command to stop calico-node:\n\n"
                              "systemctl stop calico-node\n"));
  EXPECT_THAT(text, Not(HasSubstr("Running the following command")));  // Nothing started.
}

}  // namespace
}  // namespace calico::ctl
