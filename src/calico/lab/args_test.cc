#include "calico/lab/args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace calico::lab {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Result<Invocation> Parse(std::vector<std::string> args) {
  return ParseArgs(args);
}

std::string ErrorOf(std::vector<std::string> args) {
  auto r = Parse(std::move(args));
  return r ? "" : r.error().message();
}

TEST(ArgsTest, UpDefaults) {
  auto inv = Parse({"up"});
  ASSERT_TRUE(inv) << inv.error().message();
  const auto& up = std::get<UpCommand>(inv->command);
  EXPECT_EQ(up.hosts, 2);
  EXPECT_EQ(up.datastore, Datastore::kLocal);
  EXPECT_EQ(up.backend, Backend::kBird);
  EXPECT_FALSE(up.ipv6);
  EXPECT_TRUE(up.node_command.empty());
}

TEST(ArgsTest, UpAllFlags) {
  auto inv = Parse({"up", "--hosts", "3", "--datastore=etcd", "--backend", "vxlan", "--ipv6",
                    "--node-cmd", "calico-node  -felix"});
  ASSERT_TRUE(inv) << inv.error().message();
  const auto& up = std::get<UpCommand>(inv->command);
  EXPECT_EQ(up.hosts, 3);
  EXPECT_EQ(up.datastore, Datastore::kEtcd);
  EXPECT_EQ(up.backend, Backend::kVxlan);
  EXPECT_TRUE(up.ipv6);
  EXPECT_THAT(up.node_command, ElementsAre("calico-node", "-felix"));
}

TEST(ArgsTest, UpErrors) {
  EXPECT_EQ(ErrorOf({"up", "--hosts", "0"}), "up: invalid --hosts \"0\" (1-99)");
  EXPECT_EQ(ErrorOf({"up", "--hosts", "x"}), "up: invalid --hosts \"x\" (1-99)");
  EXPECT_EQ(ErrorOf({"up", "--hosts", "100"}), "up: invalid --hosts \"100\" (1-99)");
  EXPECT_EQ(ErrorOf({"up", "--hosts"}), "up: flag --hosts needs a value");
  EXPECT_EQ(ErrorOf({"up", "--datastore", "kdd"}), "up: invalid datastore \"kdd\" (local or etcd)");
  EXPECT_EQ(ErrorOf({"up", "--backend", "ipip"}), "up: invalid backend \"ipip\" (bird or vxlan)");
  EXPECT_EQ(ErrorOf({"up", "--ipv6=yes"}), "up: flag --ipv6 takes no value");
  EXPECT_EQ(ErrorOf({"up", "--bogus"}), "up: unknown flag --bogus");
  EXPECT_EQ(ErrorOf({"up", "extra"}), "up: unexpected argument \"extra\"");
}

TEST(ArgsTest, Run) {
  auto inv = Parse({"run", "calico-01", "--net", "backend", "--ip=198.19.0.5", "--name", "web",
                    "--", "busybox", "httpd", "-f", "-p", "80"});
  ASSERT_TRUE(inv) << inv.error().message();
  const auto& run = std::get<RunCommand>(inv->command);
  EXPECT_EQ(run.host, "calico-01");
  EXPECT_THAT(run.nets, ElementsAre("backend"));
  EXPECT_EQ(run.ip, "198.19.0.5");
  EXPECT_EQ(run.name, "web");
  EXPECT_THAT(run.argv, ElementsAre("busybox", "httpd", "-f", "-p", "80"));
}

TEST(ArgsTest, RunFlagsBeforeHostAndSeveralNetworks) {
  auto inv = Parse(
      {"run", "--name", "c", "--net", "a,b", "calico-02", "--net", "c", "--", "sleep", "600"});
  ASSERT_TRUE(inv) << inv.error().message();
  const auto& run = std::get<RunCommand>(inv->command);
  EXPECT_EQ(run.host, "calico-02");
  EXPECT_THAT(run.nets, ElementsAre("a", "b", "c"));
}

TEST(ArgsTest, RunErrors) {
  EXPECT_EQ(ErrorOf({"run", "--net", "a", "--name", "x", "--", "sleep"}), "run: missing HOST");
  EXPECT_EQ(ErrorOf({"run", "h", "--name", "x", "--", "sleep"}),
            "run: missing --net NET (or --namespace NS)");
  EXPECT_EQ(ErrorOf({"run", "h", "--net", "a", "--", "sleep"}), "run: missing --name NAME");
  EXPECT_THAT(ErrorOf({"run", "h", "--net", "a", "--name", "x"}),
              HasSubstr("run: missing the command"));
  EXPECT_THAT(ErrorOf({"run", "h", "--net", "a", "--name", "x", "--"}),
              HasSubstr("run: missing the command"));
  EXPECT_EQ(ErrorOf({"run", "h", "--net", "a", "--name", "x", "sleep", "1"}),
            "run: unexpected argument \"sleep\" (put the command after --)");
  EXPECT_EQ(ErrorOf({"run", "h", "--net", "a", "--name", "x", "--ip", "1.2.3", "--", "sleep"}),
            "run: invalid --ip \"1.2.3\" (an IPv4 or IPv6 address)");
  EXPECT_THAT(ErrorOf({"run", "h", "--net", "a b", "--name", "x", "--", "sleep"}),
              HasSubstr("invalid network name \"a b\""));
  EXPECT_EQ(ErrorOf({"run", "h", "--net", "a,a", "--name", "x", "--", "sleep"}),
            "run: network a given twice");
  EXPECT_THAT(ErrorOf({"run", "h", "--net", "a", "--name", "Web", "--", "sleep"}),
              HasSubstr("invalid workload name \"Web\""));
}

TEST(ArgsTest, RunAPod) {
  auto inv = Parse({"run", "calico-01", "--namespace", "shop", "--label", "app=web", "--label",
                    "tier=", "--port", "http=8080", "--port", "dns=53/UDP", "--name", "web", "--",
                    "sleep", "1"});
  ASSERT_TRUE(inv) << inv.error().message();
  const auto& run = std::get<RunCommand>(inv->command);
  EXPECT_EQ(run.k8s_namespace, "shop");
  EXPECT_THAT(run.nets, ElementsAre("k8s-pod-network"));  // the default network of pods
  EXPECT_EQ(run.labels, (std::map<std::string, std::string>{{"app", "web"}, {"tier", ""}}));
  ASSERT_EQ(run.ports.size(), 2u);
  EXPECT_EQ(run.ports[0], (PodPort{.name = "http", .port = 8080, .protocol = "TCP"}));
  EXPECT_EQ(run.ports[1], (PodPort{.name = "dns", .port = 53, .protocol = "UDP"}));
  // A pod on another network keeps it.
  inv = Parse({"run", "h", "--namespace", "a", "--net", "backend", "--name", "p", "--", "x"});
  ASSERT_TRUE(inv);
  EXPECT_THAT(std::get<RunCommand>(inv->command).nets, ElementsAre("backend"));
}

TEST(ArgsTest, RunAPodErrors) {
  EXPECT_THAT(ErrorOf({"run", "h", "--namespace", "Shop", "--name", "x", "--", "y"}),
              HasSubstr("invalid --namespace \"Shop\""));
  EXPECT_THAT(
      ErrorOf({"run", "h", "--namespace", "s", "--label", "novalue", "--name", "x", "--", "y"}),
      HasSubstr("invalid --label \"novalue\" (KEY=VALUE)"));
  EXPECT_THAT(
      ErrorOf({"run", "h", "--namespace", "s", "--port", "http=99999", "--name", "x", "--", "y"}),
      HasSubstr("invalid --port \"http=99999\""));
  EXPECT_THAT(ErrorOf({"run", "h", "--namespace", "s", "--port", "8080", "--name", "x", "--", "y"}),
              HasSubstr("invalid --port \"8080\""));
  EXPECT_THAT(
      ErrorOf({"run", "h", "--namespace", "s", "--port", "a=1/ICMP", "--name", "x", "--", "y"}),
      HasSubstr("invalid --port"));
  EXPECT_EQ(ErrorOf({"run", "h", "--net", "n", "--label", "a=b", "--name", "x", "--", "y"}),
            "run: --label and --port describe a pod: give its --namespace too");
}

TEST(ArgsTest, ExecAndHostTakeEverythingAfterTheName) {
  auto inv = Parse({"exec", "client", "--", "busybox", "wget", "-q", "-O", "-", "http://x/"});
  ASSERT_TRUE(inv) << inv.error().message();
  const auto& exec = std::get<ExecCommand>(inv->command);
  EXPECT_EQ(exec.name, "client");
  EXPECT_THAT(exec.argv, ElementsAre("busybox", "wget", "-q", "-O", "-", "http://x/"));

  inv = Parse({"host", "calico-01", "calicoctl", "get", "nodes", "-o", "wide"});
  ASSERT_TRUE(inv) << inv.error().message();
  const auto& host = std::get<HostCommand>(inv->command);
  EXPECT_EQ(host.host, "calico-01");
  EXPECT_THAT(host.argv, ElementsAre("calicoctl", "get", "nodes", "-o", "wide"));

  // A "--" inside the command stays.
  inv = Parse({"host", "calico-01", "--", "sh", "-c", "--", "x"});
  ASSERT_TRUE(inv);
  EXPECT_THAT(std::get<HostCommand>(inv->command).argv, ElementsAre("sh", "-c", "--", "x"));

  EXPECT_EQ(ErrorOf({"exec"}), "exec: missing NAME");
  EXPECT_EQ(ErrorOf({"exec", "web"}), "exec: missing the command after NAME");
  EXPECT_EQ(ErrorOf({"host", "calico-01", "--"}), "host: missing the command after HOST");
}

TEST(ArgsTest, GlobalFlagsBeforeOrAfterTheCommand) {
  auto inv = Parse({"--bin", "/b", "--state-dir=/s", "-v", "list"});
  ASSERT_TRUE(inv) << inv.error().message();
  EXPECT_EQ(inv->global.bin_dir, "/b");
  EXPECT_EQ(inv->global.state_dir, "/s");
  EXPECT_TRUE(inv->global.verbose);
  EXPECT_TRUE(std::holds_alternative<ListCommand>(inv->command));

  inv = Parse({"down", "--state-dir", "/t"});
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->global.state_dir, "/t");
  EXPECT_TRUE(std::holds_alternative<DownCommand>(inv->command));

  // Flags of the workload's command are the command's, not calico-lab's.
  inv = Parse({"exec", "web", "-v"});
  ASSERT_TRUE(inv);
  EXPECT_FALSE(inv->global.verbose);
  EXPECT_THAT(std::get<ExecCommand>(inv->command).argv, ElementsAre("-v"));
}

TEST(ArgsTest, SimpleCommands) {
  auto inv = Parse({"rm", "web"});
  ASSERT_TRUE(inv);
  EXPECT_EQ(std::get<RmCommand>(inv->command).name, "web");
  inv = Parse({"tutorial", "rkt"});
  ASSERT_TRUE(inv);
  EXPECT_EQ(std::get<TutorialCommand>(inv->command).name, "rkt");
  EXPECT_TRUE(std::holds_alternative<HelpCommand>(Parse({"--help"})->command));
  EXPECT_TRUE(std::holds_alternative<HelpCommand>(Parse({"help"})->command));
  EXPECT_TRUE(std::holds_alternative<HelpCommand>(Parse({"up", "-h"})->command));

  EXPECT_EQ(ErrorOf({}), "missing command (see calico-lab --help)");
  EXPECT_EQ(ErrorOf({"restart"}), "unknown command \"restart\" (see calico-lab --help)");
  EXPECT_EQ(ErrorOf({"rm"}), "rm: missing NAME");
  EXPECT_EQ(ErrorOf({"rm", "a", "b"}), "rm: unexpected argument \"b\"");
  EXPECT_EQ(ErrorOf({"list", "x"}), "list: unexpected argument \"x\"");
  EXPECT_EQ(ErrorOf({"down", "--", "x"}), "down: takes no command after --");
  EXPECT_EQ(ErrorOf({"--bin"}), "flag --bin needs a value");
}

TEST(ArgsTest, StopAndStart) {
  auto inv = Parse({"stop", "calico-02", "--kill"});
  ASSERT_TRUE(inv) << inv.error().message();
  EXPECT_EQ(std::get<StopCommand>(inv->command).target, "calico-02");
  EXPECT_TRUE(std::get<StopCommand>(inv->command).kill);
  inv = Parse({"stop", "etcd-1"});
  ASSERT_TRUE(inv);
  EXPECT_FALSE(std::get<StopCommand>(inv->command).kill);
  inv = Parse({"start", "etcd"});
  ASSERT_TRUE(inv);
  EXPECT_EQ(std::get<StartCommand>(inv->command).target, "etcd");
  EXPECT_EQ(ErrorOf({"stop"}), "stop: missing HOST or etcd member");
  EXPECT_EQ(ErrorOf({"start", "a", "b"}), "start: unexpected argument \"b\"");
  EXPECT_EQ(ErrorOf({"start", "a", "--kill"}), "start: unknown flag --kill");
}

TEST(ArgsTest, EtcdMembers) {
  auto inv = Parse({"up", "--datastore", "etcd", "--etcd-members", "3"});
  ASSERT_TRUE(inv) << inv.error().message();
  EXPECT_EQ(std::get<UpCommand>(inv->command).etcd_members, 3);
  EXPECT_EQ(std::get<UpCommand>(Parse({"up"})->command).etcd_members, 1);
  EXPECT_EQ(ErrorOf({"up", "--etcd-members", "3"}), "up: --etcd-members needs --datastore etcd");
  EXPECT_EQ(ErrorOf({"up", "--datastore=etcd", "--etcd-members", "6"}),
            "up: invalid --etcd-members \"6\" (1-5)");
}

TEST(ArgsTest, WorkloadNames) {
  EXPECT_TRUE(ValidateWorkloadName("web"));
  EXPECT_TRUE(ValidateWorkloadName("web-1.a_b"));
  EXPECT_TRUE(ValidateWorkloadName("0"));
  EXPECT_FALSE(ValidateWorkloadName(""));
  EXPECT_FALSE(ValidateWorkloadName("-web"));
  EXPECT_FALSE(ValidateWorkloadName("we/b"));
  EXPECT_FALSE(ValidateWorkloadName(std::string(41, 'a')));
  EXPECT_THAT(ValidateWorkloadName("node").error().message(), HasSubstr("reserved"));
}

TEST(ArgsTest, SplitCommand) {
  EXPECT_THAT(SplitCommand("  calico-node\t-felix  "), ElementsAre("calico-node", "-felix"));
  EXPECT_TRUE(SplitCommand("   ").empty());
}

}  // namespace
}  // namespace calico::lab
