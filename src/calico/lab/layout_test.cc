#include "calico/lab/layout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace calico::lab {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

LabConfig Config(Datastore d = Datastore::kLocal, bool ipv6 = false) {
  return {.hosts = {"calico-01", "calico-02"},
          .datastore = d,
          .backend = Backend::kBird,
          .ipv6 = ipv6,
          .bin_dir = "/opt/lab/bin",
          .node_command = {"/opt/lab/bin/calico-node", "-felix"},
          .controllers = true};
}

TEST(LayoutTest, Names) {
  EXPECT_EQ(HostName(1), "calico-01");
  EXPECT_EQ(HostName(12), "calico-12");
  EXPECT_EQ(HostIndex("calico-07"), 7);
  EXPECT_EQ(HostIndex("calico-7"), 0);
  EXPECT_EQ(HostIndex("calico-0x"), 0);
  EXPECT_EQ(HostIndex("web"), 0);
  EXPECT_EQ(HostNetns("calico-01"), "calico-lab-calico-01");
  EXPECT_EQ(WorkloadNetns("web"), "calico-lab-wl-web");
  EXPECT_EQ(NetnsPath("calico-lab-fabric"), "/run/netns/calico-lab-fabric");
  EXPECT_EQ(HostAddressV4(1), "198.18.0.11");
  EXPECT_EQ(HostAddressV6(2), "fd00:198:18::12");
}

TEST(LayoutTest, Paths) {
  Paths p("/run/calico-lab");
  EXPECT_EQ(p.LabJson(), "/run/calico-lab/lab.json");
  EXPECT_EQ(p.Lock(), "/run/calico-lab.lock");
  EXPECT_EQ(p.Conflist("calico-01", "backend"),
            "/run/calico-lab/calico-01/net.d/10-calico-backend.conflist");
  EXPECT_EQ(p.NodePid("calico-02"), "/run/calico-lab/calico-02/node.pid");
  EXPECT_EQ(p.WorkloadJson("web"), "/run/calico-lab/workloads/web/workload.json");
  EXPECT_EQ(p.EtcdPid(), "/run/calico-lab/fabric/etcd.pid");
  EXPECT_EQ(p.EtcdPid(2), "/run/calico-lab/fabric/etcd-2.pid");
  EXPECT_EQ(p.EtcdData(1), "/run/calico-lab/fabric/etcd-1");
  EXPECT_EQ(p.IpamLock("calico-01"), "/run/calico-lab/calico-01/ipam.lock");
}

TEST(LayoutTest, EtcdMembers) {
  EXPECT_EQ(EtcdMemberName(0), "etcd");
  EXPECT_EQ(EtcdMemberName(2), "etcd-2");
  EXPECT_EQ(EtcdMemberIndex("etcd"), 0);
  EXPECT_EQ(EtcdMemberIndex("etcd-2"), 2);
  EXPECT_EQ(EtcdMemberIndex("etcd-0"), -1);
  EXPECT_EQ(EtcdMemberIndex("etcd-9"), -1);
  EXPECT_EQ(EtcdMemberIndex("calico-01"), -1);
  LabConfig c = Config(Datastore::kEtcd);
  c.etcd_members = 3;
  EXPECT_EQ(EtcdEndpoints(c),
            "http://198.18.0.1:2379,http://198.18.0.2:2379,http://198.18.0.3:2379");
  auto j = nlohmann::json::parse(ConflistJson(c, Paths("/s"), "calico-01", "n"));
  EXPECT_EQ(j["plugins"][0]["etcd_endpoints"], EtcdEndpoints(c));
  EXPECT_EQ(HostEnv(c, Paths("/s"), "calico-01", {})["ETCD_ENDPOINTS"], EtcdEndpoints(c));
}

TEST(LayoutTest, ConflistForTheLocalStore) {
  Paths p("/s");
  auto j = nlohmann::json::parse(ConflistJson(Config(), p, "calico-01", "backend"));
  EXPECT_EQ(j["cniVersion"], "0.4.0");
  EXPECT_EQ(j["name"], "backend");
  ASSERT_EQ(j["plugins"].size(), 1u);
  const auto& plugin = j["plugins"][0];
  EXPECT_EQ(plugin["type"], "calico");
  EXPECT_EQ(plugin["nodename"], "calico-01");
  EXPECT_EQ(plugin["datastore_type"], "local");
  EXPECT_EQ(plugin["datastore_path"], "/s/datastore/calico.db");
  EXPECT_EQ(plugin["ipam"]["type"], "calico-ipam");
  EXPECT_FALSE(plugin["ipam"].contains("assign_ipv6"));
  EXPECT_EQ(plugin["mtu"], 1500);
  // Every lab host is its own Calico host: its own host-wide IPAM lock.
  EXPECT_EQ(plugin["ipam_lock_file"], "/s/calico-01/ipam.lock");
}

TEST(LayoutTest, ConflistForEtcdAndIPv6) {
  Paths p("/s");
  auto j = nlohmann::json::parse(ConflistJson(Config(Datastore::kEtcd, true), p, "calico-02", "f"));
  const auto& plugin = j["plugins"][0];
  EXPECT_EQ(plugin["datastore_type"], "etcdv3");
  EXPECT_EQ(plugin["etcd_endpoints"], "http://198.18.0.1:2379");
  EXPECT_FALSE(plugin.contains("datastore_path"));
  EXPECT_EQ(plugin["ipam"]["assign_ipv6"], "true");
}

TEST(LayoutTest, PluginConfigIsWhatLibcniSends) {
  Paths p("/s");
  auto conf = PluginConfig(ConflistJson(Config(), p, "calico-01", "backend"));
  ASSERT_TRUE(conf) << conf.error().message();
  auto j = nlohmann::json::parse(*conf);
  EXPECT_EQ(j["name"], "backend");
  EXPECT_EQ(j["cniVersion"], "0.4.0");
  EXPECT_EQ(j["type"], "calico");
  EXPECT_FALSE(j.contains("plugins"));
  EXPECT_FALSE(j.contains("prevResult"));

  conf = PluginConfig(ConflistJson(Config(), p, "calico-01", "backend"),
                      R"({"cniVersion":"0.4.0","ips":[]})");
  ASSERT_TRUE(conf);
  EXPECT_EQ(nlohmann::json::parse(*conf)["prevResult"]["cniVersion"], "0.4.0");

  EXPECT_FALSE(PluginConfig("{"));
  EXPECT_FALSE(PluginConfig(R"({"name":"x","plugins":[]})"));
}

// Pods: k8s-pod-network carries policy type k8s (Calico's manifests); a pod's labels and named
// ports reach the plugin in the config's args, its identity in CNI_ARGS as the kubelet sends it.
TEST(LayoutTest, PodsAsTheKubeletRunsThem) {
  Paths p("/s");
  auto k8s = nlohmann::json::parse(ConflistJson(Config(), p, "calico-01", "k8s-pod-network"));
  EXPECT_EQ(k8s["plugins"][0]["policy"]["type"], "k8s");
  auto other = nlohmann::json::parse(ConflistJson(Config(), p, "calico-01", "backend"));
  EXPECT_FALSE(other["plugins"][0].contains("policy"));

  std::string args =
      PodArgsJson({{"app", "web"}}, {{.name = "http", .port = 80, .protocol = "TCP"}});
  auto conf = PluginConfig(ConflistJson(Config(), p, "calico-01", "k8s-pod-network"), "", args);
  ASSERT_TRUE(conf);
  auto j = nlohmann::json::parse(*conf);
  EXPECT_EQ(j["args"], nlohmann::json::parse(R"j({"cni":{
      "labels":[{"key":"app","value":"web"}],
      "ports":[{"name":"http","protocol":"TCP","containerPort":80}]}})j"));
  EXPECT_EQ(PodArgsJson({}, {}), "");

  EnvMap cni = CniEnv("ADD", "c1", "/n", "eth0", "/b", "", "shop", "web");
  EXPECT_EQ(
      cni["CNI_ARGS"],
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=c1");
  cni = CniEnv("ADD", "c1", "/n", "eth0", "/b", "198.19.0.9", "shop", "web");
  EXPECT_THAT(cni["CNI_ARGS"], ::testing::EndsWith(";IP=198.19.0.9"));
  EXPECT_THAT(NamespaceYaml("shop"), HasSubstr("kind: Namespace"));
  EXPECT_THAT(NamespaceYaml("y"), HasSubstr("name: \"y\"\n"));  // not YAML 1.1's true
}

TEST(LayoutTest, HostEnvReplacesTheCallersDatastoreSettings) {
  Paths p("/s");
  EnvMap caller = {{"PATH", "/usr/bin"},
                   {"HOME", "/root"},
                   {"CALICO_DATASTORE_TYPE", "etcdv3"},
                   {"CALICO_ETCD_ENDPOINTS", "http://elsewhere:2379"},
                   {"ETCD_ENDPOINTS", "http://elsewhere:2379"},
                   {"NODENAME", "mine"}};
  EnvMap env = HostEnv(Config(), p, "calico-02", caller);
  EXPECT_EQ(env["DATASTORE_TYPE"], "local");
  EXPECT_EQ(env["CALICO_DATASTORE_PATH"], "/s/datastore/calico.db");
  EXPECT_EQ(env["NODENAME"], "calico-02");
  EXPECT_EQ(env["CALICO_NODENAME_FILE"], "/s/calico-02/nodename");
  EXPECT_EQ(env["PATH"], "/opt/lab/bin:/usr/bin");
  EXPECT_EQ(env["HOME"], "/root");
  EXPECT_FALSE(env.contains("CALICO_DATASTORE_TYPE"));
  EXPECT_FALSE(env.contains("CALICO_ETCD_ENDPOINTS"));
  EXPECT_FALSE(env.contains("ETCD_ENDPOINTS"));

  env = HostEnv(Config(Datastore::kEtcd), p, "calico-01", caller);
  EXPECT_EQ(env["DATASTORE_TYPE"], "etcdv3");
  EXPECT_EQ(env["ETCD_ENDPOINTS"], "http://198.18.0.1:2379");
  EXPECT_EQ(env["ETCDCTL_ENDPOINTS"], "http://198.18.0.1:2379");
  EXPECT_FALSE(env.contains("CALICO_DATASTORE_PATH"));
}

TEST(LayoutTest, NodeEnv) {
  Paths p("/s");
  EnvMap env = NodeEnv(Config(), p, "calico-02", {});
  EXPECT_EQ(env["NODENAME"], "calico-02");
  EXPECT_EQ(env["IP"], "198.18.0.12/24");
  EXPECT_EQ(env["IP6"], "none");
  EXPECT_EQ(env["CALICO_NETWORKING_BACKEND"], "bird");
  EXPECT_EQ(env["NO_DEFAULT_POOLS"], "true");
  env = NodeEnv(Config(Datastore::kLocal, true), p, "calico-01", {});
  EXPECT_EQ(env["IP6"], "fd00:198:18::11/64");
}

TEST(LayoutTest, WorkloadAndCniEnv) {
  EnvMap env = WorkloadEnv(Config(), "web", {{"TERM", "xterm"}, {"SECRET", "x"}});
  EXPECT_EQ(env["HOSTNAME"], "web");
  EXPECT_EQ(env["TERM"], "xterm");
  EXPECT_FALSE(env.contains("SECRET"));
  EXPECT_THAT(env["PATH"], ::testing::StartsWith("/opt/lab/bin:"));

  EnvMap cni = CniEnv("ADD", "abc", "/run/netns/calico-lab-wl-web", "eth0", "/opt/lab/bin", "");
  EXPECT_EQ(cni["CNI_COMMAND"], "ADD");
  EXPECT_EQ(cni["CNI_CONTAINERID"], "abc");
  EXPECT_EQ(cni["CNI_NETNS"], "/run/netns/calico-lab-wl-web");
  EXPECT_EQ(cni["CNI_IFNAME"], "eth0");
  EXPECT_EQ(cni["CNI_PATH"], "/opt/lab/bin");
  EXPECT_FALSE(cni.contains("CNI_ARGS"));
  cni = CniEnv("ADD", "abc", "/n", "eth0", "/b", "198.19.0.9");
  EXPECT_EQ(cni["CNI_ARGS"], "IgnoreUnknown=1;IP=198.19.0.9");
}

TEST(LayoutTest, Pools) {
  std::string v4 = PoolsYaml(Config());
  EXPECT_THAT(v4, HasSubstr("cidr: 198.19.0.0/16"));
  EXPECT_THAT(v4, HasSubstr("vxlanMode: Never"));
  EXPECT_THAT(v4, Not(HasSubstr("fd00:198:19::/48")));
  LabConfig vx = Config(Datastore::kLocal, true);
  vx.backend = Backend::kVxlan;
  std::string both = PoolsYaml(vx);
  EXPECT_THAT(both, HasSubstr("vxlanMode: Always"));
  EXPECT_THAT(both, HasSubstr("cidr: fd00:198:19::/48"));
}

TEST(LayoutTest, FlowLogsGoToTheLabsCalicoFlows) {
  EXPECT_EQ(FlowLogsFelixYaml(),
            "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata:\n  name: "
            "default\nspec:\n  flowLogsGoldmaneServer: 198.18.0.1:7443\n  "
            "flowLogsFlushInterval: 1s\n");
  EXPECT_EQ(Paths("/run/calico-lab").FlowsPid(), "/run/calico-lab/fabric/flows.pid");
}

}  // namespace
}  // namespace calico::lab
