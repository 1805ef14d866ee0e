// Unit tests of calico-node start-up against the in-memory datastore and the fake host (Calico's
// node/pkg/lifecycle/startup/startup_test.go: node name, IP configuration, conflicts, pools).
#include "calico/node/startup.h"

#include <stdlib.h>  // mkdtemp  NOLINT(modernize-deprecated-headers)
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "calico/base/strings.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/node/testing/fake_address_source.h"

namespace calico::node {
namespace {

using model::Json;
using model::Resource;
using testing::FakeAddressSource;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class StartupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "calico-node-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    host_.AddInterface("lo", {"127.0.0.1/8", "::1/128"})
        .AddInterface("docker0", {"172.17.0.1/16"})
        .AddInterface("eth0", {"10.0.0.5/24", "2001:db8::5/64", "fe80::5/64"})
        .AddInterface("eth1", {"10.1.0.5/16"});
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string NodenameFile() const { return dir_ + "/lib/calico/nodename"; }

  // The environment of a node called node-a plus `extra`.
  Result<StartupResult> Run(const EnvMap& extra = {}) {
    EnvMap env{{"NODENAME", "node-a"}, {"CALICO_NODENAME_FILE", NodenameFile()}};
    for (const auto& [k, v] : extra) {
      env[k] = v;
    }
    auto config = StartupConfig::FromEnv(env);
    if (!config) return Unexpected(config.error());
    return RunStartup(*config, client_, host_);
  }

  Json NodeSpec(const std::string& name = "node-a") {
    auto n = client_.Get("Node", "", name);
    EXPECT_TRUE(n) << name;
    return n ? n->spec() : Json();
  }
  std::optional<Json> PoolSpec(const std::string& name) {
    auto p = client_.Get("IPPool", "", name);
    if (!p) return std::nullopt;
    return p->spec();
  }
  size_t PoolCount() {
    auto pools = client_.List("IPPool");
    EXPECT_TRUE(pools);
    return pools ? pools->size() : 0;
  }
  void PutNode(const std::string& name, Json spec, Json labels = Json()) {
    Resource n("Node", name);
    n.spec() = std::move(spec);
    if (!labels.is_null()) n.metadata()["labels"] = std::move(labels);
    auto created = client_.Create(std::move(n));
    ASSERT_TRUE(created) << created.error().message();
  }

  std::string dir_;
  datastore::MemBackend backend_;
  datastore::Client client_{backend_};
  FakeAddressSource host_;
};

// ---------------------------------------------------------------------------------------------
// Configuration from the environment

TEST(StartupConfigTest, Defaults) {
  auto c = StartupConfig::FromEnv({});
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->nodename_file, "/var/lib/calico/nodename");
  EXPECT_EQ(c->backend, NetworkingBackend::kBird);
  EXPECT_FALSE(c->as_number);
  EXPECT_FALSE(c->no_default_pools);
  EXPECT_TRUE(c->ipv4_pool.enabled);
  EXPECT_FALSE(c->ipv4_pool.cidr);
  EXPECT_EQ(c->ipv4_pool.block_size, 26);
  EXPECT_EQ(c->ipv4_pool.ipip, EncapMode::kNever);  // Calico's code default; manifests set Always.
  EXPECT_EQ(c->ipv4_pool.vxlan, EncapMode::kNever);
  EXPECT_TRUE(c->ipv4_pool.nat_outgoing);
  EXPECT_EQ(c->ipv4_pool.node_selector, "all()");
  EXPECT_FALSE(c->ipv4_pool.disable_bgp_export);
  EXPECT_EQ(c->ipv6_pool.block_size, 122);
  EXPECT_FALSE(c->ipv6_pool.nat_outgoing);
}

TEST(StartupConfigTest, Overrides) {
  auto c = StartupConfig::FromEnv({
      {"IP", "autodetect"},
      {"IP6", "fd00::7/64"},
      {"IP_AUTODETECTION_METHOD", "interface=eth.*"},
      {"IP6_AUTODETECTION_METHOD", "can-reach=2001:4860::8888"},
      {"AS", "1.10"},
      {"CALICO_NETWORKING_BACKEND", "VXLAN"},
      {"CALICO_ROUTER_ID", "hash"},
      {"CALICO_IPV4POOL_CIDR", "10.244.3.0/16"},
      {"CALICO_IPV4POOL_BLOCK_SIZE", "24"},
      {"CALICO_IPV4POOL_IPIP", "cross-subnet"},
      {"CALICO_IPV4POOL_NAT_OUTGOING", "No"},
      {"CALICO_IPV4POOL_DISABLE_BGP_EXPORT", "true"},
      {"CALICO_IPV6POOL_VXLAN", "always"},
      {"CALICO_IPV6POOL_NAT_OUTGOING", "yes"},
      {"CALICO_IPV6POOL_BLOCK_SIZE", "116"},
      {"CALICO_IPV6POOL_NODE_SELECTOR", "ipv6 == 'yes'"},
  });
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->as_number, (1u << 16) | 10u);
  EXPECT_EQ(c->backend, NetworkingBackend::kVxlan);
  EXPECT_EQ(c->router_id, "hash");
  EXPECT_EQ(c->ipv4_pool.cidr->String(), "10.244.0.0/16");  // masked, as Calico's ParseCIDR
  EXPECT_EQ(c->ipv4_pool.block_size, 24);
  EXPECT_EQ(c->ipv4_pool.ipip, EncapMode::kCrossSubnet);
  EXPECT_FALSE(c->ipv4_pool.nat_outgoing);
  EXPECT_TRUE(c->ipv4_pool.disable_bgp_export);
  EXPECT_EQ(c->ipv6_pool.vxlan, EncapMode::kAlways);
  EXPECT_TRUE(c->ipv6_pool.nat_outgoing);
  EXPECT_EQ(c->ipv6_pool.block_size, 116);
  EXPECT_EQ(c->ipv6_pool.node_selector, "ipv6 == 'yes'");
  EXPECT_EQ(StartupConfig::FromEnv({{"CALICO_IPV4POOL_IPIP", "Off"}})->ipv4_pool.ipip,
            EncapMode::kNever);
  EXPECT_EQ(StartupConfig::FromEnv({{"CALICO_IPV4POOL_VXLAN", "CrossSubnet"}})->ipv4_pool.vxlan,
            EncapMode::kCrossSubnet);
  EXPECT_EQ(StartupConfig::FromEnv({{"AS", "4294967295"}})->as_number, 4294967295u);
  EXPECT_FALSE(StartupConfig::FromEnv({{"CALICO_IPV4POOL_CIDR", "none"}})->ipv4_pool.enabled);
}

TEST(StartupConfigTest, InvalidValuesGiveClearErrors) {
  struct Case {
    EnvMap env;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{{"CALICO_IPV4POOL_CIDR", "10.0.0.0/33"}},
       "Invalid CIDR specified in CALICO_IPV4POOL_CIDR '10.0.0.0/33'"},
      {{{"CALICO_IPV4POOL_CIDR", "fd00::/64"}},
       "Invalid CIDR specified in CALICO_IPV4POOL_CIDR 'fd00::/64'"},
      {{{"CALICO_IPV6POOL_CIDR", "bogus"}},
       "Invalid CIDR specified in CALICO_IPV6POOL_CIDR 'bogus'"},
      {{{"CALICO_IPV4POOL_BLOCK_SIZE", "19"}},
       "Invalid block size specified in CALICO_IPV4POOL_BLOCK_SIZE '19': must be between 20 and "
       "32 for IPv4"},
      {{{"CALICO_IPV4POOL_BLOCK_SIZE", "twenty"}},
       "Invalid block size specified in CALICO_IPV4POOL_BLOCK_SIZE 'twenty': must be between 20 "
       "and 32 for IPv4"},
      {{{"CALICO_IPV6POOL_BLOCK_SIZE", "129"}},
       "Invalid block size specified in CALICO_IPV6POOL_BLOCK_SIZE '129': must be between 116 and "
       "128 for IPv6"},
      {{{"CALICO_IPV4POOL_CIDR", "10.0.0.0/28"}},
       "CALICO_IPV4POOL_CIDR 10.0.0.0/28 is smaller than one /26 block "
       "(CALICO_IPV4POOL_BLOCK_SIZE)"},
      {{{"CALICO_IPV4POOL_IPIP", "sometimes"}},
       "Unrecognized IPIP mode specified in CALICO_IPV4POOL_IPIP 'sometimes' (use Never, Always "
       "or CrossSubnet)"},
      {{{"CALICO_IPV6POOL_VXLAN", "yes"}},
       "Unrecognized VXLAN mode specified in CALICO_IPV6POOL_VXLAN 'yes' (use Never, Always or "
       "CrossSubnet)"},
      {{{"CALICO_IPV4POOL_IPIP", "Always"}, {"CALICO_IPV4POOL_VXLAN", "CrossSubnet"}},
       "Invalid configuration: CALICO_IPV4POOL_IPIP (Always) and CALICO_IPV4POOL_VXLAN "
       "(CrossSubnet) cannot both be enabled; set one of them to Never"},
      {{{"NO_DEFAULT_POOLS", "true"}, {"CALICO_IPV4POOL_CIDR", "10.0.0.0/16"}},
       "Invalid configuration with NO_DEFAULT_POOLS defined and CALICO_IPV4POOL_CIDR or "
       "CALICO_IPV6POOL_CIDR defined."},
      {{{"CALICO_IPV4POOL_DISABLE_BGP_EXPORT", "maybe"}},
       "Invalid value 'maybe' for CALICO_IPV4POOL_DISABLE_BGP_EXPORT: must be true or false"},
      {{{"AS", "65536.1"}},
       "The AS number specified in the environment (AS=65536.1) is not valid: use a number up to "
       "4294967295 or AS-dot notation"},
      {{{"AS", "4294967296"}},
       "The AS number specified in the environment (AS=4294967296) is not valid: use a number up "
       "to 4294967295 or AS-dot notation"},
      {{{"IP", "10.0.0.300"}},
       "Invalid IPv4 address specified in IP environment variable: '10.0.0.300' (use an address, "
       "address/prefix, autodetect or none)"},
      {{{"IP", "fd00::1"}},
       "Invalid IPv4 address specified in IP environment variable: 'fd00::1' (use an address, "
       "address/prefix, autodetect or none)"},
      {{{"IP6", "10.0.0.1"}},
       "Invalid IPv6 address specified in IP6 environment variable: '10.0.0.1' (use an address, "
       "address/prefix, autodetect or none)"},
      {{{"IP_AUTODETECTION_METHOD", "best-guess"}}, "Invalid IP autodetection method: best-guess"},
      {{{"IP6_AUTODETECTION_METHOD", "interface=(eth"}},
       "Invalid IP autodetection method: interface=(eth (invalid regex '(eth')"},
      {{{"CALICO_NETWORKING_BACKEND", "gobgp"}},
       "Invalid CALICO_NETWORKING_BACKEND 'gobgp' (use bird, vxlan or none)"},
      {{{"CALICO_ROUTER_ID", "fd00::1"}},
       "Invalid CALICO_ROUTER_ID 'fd00::1' (use an IPv4 address or hash)"},
      {{{"DISABLE_NODE_IP_CHECK", "yes please"}},
       "Invalid value 'yes please' for DISABLE_NODE_IP_CHECK: must be true or false"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    auto r = StartupConfig::FromEnv(c.env);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message(), c.message);
  }
  auto k8s = StartupConfig::FromEnv({{"IP_AUTODETECTION_METHOD", "kubernetes-internal-ip"}});
  ASSERT_FALSE(k8s);
  EXPECT_EQ(k8s.error().code(), ErrorCode::kUnsupported);
}

TEST_F(StartupTest, NodeNameComesFromNodenameThenFileThenHostname) {
  StartupConfig c;
  c.nodename_file = dir_ + "/nodename";
  c.hostname = "Host-B.Example";
  c.nodename = "explicit";
  EXPECT_EQ(*DetermineNodeName(c), "explicit");
  c.nodename.clear();
  EXPECT_EQ(*DetermineNodeName(c), "host-b.example");  // lower-cased
  std::ofstream(c.nodename_file) << "from-file\n";
  EXPECT_EQ(*DetermineNodeName(c), "from-file");
  std::filesystem::remove(c.nodename_file);
  c.hostname.clear();
  auto os = DetermineNodeName(c);  // the OS host name, lower-cased
  ASSERT_TRUE(os);
  EXPECT_FALSE(os->empty());
  EXPECT_EQ(*os, AsciiLower(*os));
}

// ---------------------------------------------------------------------------------------------
// Fresh node

TEST_F(StartupTest, FreshStartCreatesNodeDefaultPoolAndNodenameFile) {
  auto r = Run();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->node_name, "node-a");
  EXPECT_TRUE(r->node_created);
  EXPECT_FALSE(r->node_updated);
  EXPECT_EQ(r->ipv4->String(), "10.0.0.5/24");
  EXPECT_EQ(r->ipv4_interface, "eth0");
  EXPECT_FALSE(r->ipv6);  // IPv6 is detected only with IP6=autodetect
  EXPECT_EQ(r->created_pools, std::vector<std::string>{"default-ipv4-ippool"});

  // EnsureInitialized ran: the datastore is marked ready.
  auto info = client_.Get("ClusterInformation", "", "default");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->spec()["datastoreReady"], true);

  Json spec = NodeSpec();
  EXPECT_EQ(spec, Json::parse(R"({"bgp": {"ipv4Address":"10.0.0.5/24"}})"));
  EXPECT_EQ(r->node.spec(), spec);

  auto pool = PoolSpec("default-ipv4-ippool");
  ASSERT_TRUE(pool);
  EXPECT_EQ((*pool)["cidr"], "192.168.0.0/16");
  EXPECT_EQ((*pool)["blockSize"], 26);
  EXPECT_EQ((*pool)["ipipMode"], "Never");
  EXPECT_EQ((*pool)["vxlanMode"], "Never");
  EXPECT_EQ((*pool)["natOutgoing"], true);
  EXPECT_EQ((*pool)["nodeSelector"], "all()");
  EXPECT_FALSE(pool->contains("disableBGPExport"));
  EXPECT_EQ(PoolCount(), 1u);  // the fake host has no IPv6: no default ULA pool

  EXPECT_EQ(ReadFile(NodenameFile()), "node-a");  // no newline: the CNI plugin reads it raw
}

TEST_F(StartupTest, InterfacesAreRecordedForTheFamiliesAskedFor) {
  host_.AddInterface("cali0123456789a", {"10.9.0.1/32"}).AddInterface("bond0", {"10.2.0.5/16"});
  auto r = Run({{"IP", "autodetect"}});
  ASSERT_TRUE(r) << r.error().message();
  // Sorted by name, default exclusions applied, IPv4 only (IP6 is unset).
  EXPECT_EQ(NodeSpec()["interfaces"], Json::parse(R"([
      {"name":"bond0","addresses":["10.2.0.5"]},
      {"name":"eth0","addresses":["10.0.0.5"]},
      {"name":"eth1","addresses":["10.1.0.5"]}])"));
  auto both = Run({{"IP", "autodetect"}, {"IP6", "autodetect"}});
  ASSERT_TRUE(both) << both.error().message();
  EXPECT_EQ(NodeSpec()["interfaces"][1],
            Json::parse(R"({"name":"eth0","addresses":["10.0.0.5","2001:db8::5","fe80::5"]})"));
  auto cleared = Run();
  ASSERT_TRUE(cleared) << cleared.error().message();
  EXPECT_FALSE(NodeSpec().contains("interfaces"));
}

TEST_F(StartupTest, SecondRunChangesNothing) {
  ASSERT_TRUE(Run());
  auto before = client_.Get("Node", "", "node-a");
  auto again = Run();
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_FALSE(again->node_created);
  EXPECT_FALSE(again->node_updated);
  EXPECT_TRUE(again->created_pools.empty());
  EXPECT_EQ(client_.Get("Node", "", "node-a")->resource_version(), before->resource_version());
}

// ---------------------------------------------------------------------------------------------
// Default configuration (startup.go ensureDefaultConfig, clientv3 ensureClusterInformation)

TEST_F(StartupTest, FreshStartCreatesFelixDefaultsAndClusterVersion) {
  auto config = StartupConfig::FromEnv(
      {{"NODENAME", "node-a"}, {"CALICO_NODENAME_FILE", NodenameFile()}, {"CLUSTER_TYPE", "bgp,"}});
  ASSERT_TRUE(config) << config.error().message();
  config->calico_version = "v3.99.0";
  auto r = RunStartup(*config, client_, host_);
  ASSERT_TRUE(r) << r.error().message();

  auto global = client_.Get("FelixConfiguration", "", "default");
  ASSERT_TRUE(global) << global.error().message();
  EXPECT_EQ(global->spec()["reportingInterval"], "0s");
  EXPECT_EQ(global->spec()["logSeverityScreen"], "Info");
  auto per_node = client_.Get("FelixConfiguration", "", "node.node-a");
  ASSERT_TRUE(per_node) << per_node.error().message();
  EXPECT_EQ(per_node->spec()["defaultEndpointToHostAction"], "Return");
  EXPECT_FALSE(per_node->spec().contains("reportingInterval"));
  EXPECT_EQ(r->created_records, (std::vector<std::string>{"FelixConfiguration/default",
                                                          "FelixConfiguration/node.node-a"}));

  auto info = client_.Get("ClusterInformation", "", "default");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->spec()["calicoVersion"], "v3.99.0");
  // The trailing comma is trimmed; a fresh store's ClusterInformation has no type before it
  // (calicoctl's ensureClusterInformation writes only clusterGUID and datastoreReady).
  EXPECT_EQ(info->spec()["clusterType"], "bgp");
  EXPECT_EQ(info->spec()["datastoreReady"], true);  // untouched
}

TEST_F(StartupTest, DefaultsNeverOverwriteWhatTheUserSet) {
  Resource global("FelixConfiguration", "default");
  global.spec()["logSeverityScreen"] = "Debug";
  global.spec()["ipipEnabled"] = false;
  ASSERT_TRUE(client_.Create(std::move(global)));
  Resource per_node("FelixConfiguration", "node.node-a");
  per_node.spec()["defaultEndpointToHostAction"] = "Drop";
  ASSERT_TRUE(client_.Create(std::move(per_node)));

  auto r = Run();
  ASSERT_TRUE(r) << r.error().message();
  // Only the unset field was filled in.
  Json global_spec = client_.Get("FelixConfiguration", "", "default")->spec();
  EXPECT_EQ(global_spec["logSeverityScreen"], "Debug");
  EXPECT_EQ(global_spec["ipipEnabled"], false);
  EXPECT_EQ(global_spec["reportingInterval"], "0s");
  EXPECT_EQ(
      client_.Get("FelixConfiguration", "", "node.node-a")->spec()["defaultEndpointToHostAction"],
      "Drop");
  EXPECT_TRUE(r->created_records.empty());
  EXPECT_EQ(r->updated_records, std::vector<std::string>{"FelixConfiguration/default"});
}

TEST_F(StartupTest, ClusterTypeAccumulatesAndVersionFollowsTheNode) {
  ASSERT_TRUE(client_.EnsureInitialized());
  auto info = client_.Get("ClusterInformation", "", "default");
  ASSERT_TRUE(info);
  info->spec()["clusterType"] = "k8s,bgp";
  info->spec()["calicoVersion"] = "v3.1.0";
  ASSERT_TRUE(client_.Update(*info));

  auto run = [&](const std::string& type, const std::string& version) {
    auto config = StartupConfig::FromEnv(
        {{"NODENAME", "node-a"}, {"CALICO_NODENAME_FILE", NodenameFile()}, {"CLUSTER_TYPE", type}});
    EXPECT_TRUE(config);
    config->calico_version = version;
    auto r = RunStartup(*config, client_, host_);
    EXPECT_TRUE(r) << r.error().message();
    return client_.Get("ClusterInformation", "", "default")->spec();
  };
  Json spec = run("bgp,openstack", "v3.2.0");
  EXPECT_EQ(spec["clusterType"], "k8s,bgp,openstack");
  EXPECT_EQ(spec["calicoVersion"], "v3.2.0");
  // Nothing new: nothing written.
  auto rv = client_.Get("ClusterInformation", "", "default")->resource_version();
  spec = run("openstack", "v3.2.0");
  EXPECT_EQ(spec["clusterType"], "k8s,bgp,openstack");
  EXPECT_EQ(client_.Get("ClusterInformation", "", "default")->resource_version(), rv);
  // No CLUSTER_TYPE and no version: both kept.
  spec = run("", "");
  EXPECT_EQ(spec["clusterType"], "k8s,bgp,openstack");
  EXPECT_EQ(spec["calicoVersion"], "v3.2.0");
}

TEST_F(StartupTest, PoolEnvOverrides) {
  host_.set_supports_ipv6(true);
  auto r = Run({{"CALICO_IPV4POOL_CIDR", "10.244.0.0/16"},
                {"CALICO_IPV4POOL_BLOCK_SIZE", "24"},
                {"CALICO_IPV4POOL_IPIP", "CrossSubnet"},
                {"CALICO_IPV4POOL_NAT_OUTGOING", "false"},
                {"CALICO_IPV4POOL_NODE_SELECTOR", "pool == 'a'"},
                {"CALICO_IPV4POOL_DISABLE_BGP_EXPORT", "true"},
                {"CALICO_IPV6POOL_CIDR", "fd10:20::/64"},
                {"CALICO_IPV6POOL_BLOCK_SIZE", "120"},
                {"CALICO_IPV6POOL_VXLAN", "Always"},
                {"CALICO_IPV6POOL_NAT_OUTGOING", "true"}});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->created_pools,
            (std::vector<std::string>{"default-ipv4-ippool", "default-ipv6-ippool"}));
  auto v4 = PoolSpec("default-ipv4-ippool");
  ASSERT_TRUE(v4);
  EXPECT_EQ((*v4)["cidr"], "10.244.0.0/16");
  EXPECT_EQ((*v4)["blockSize"], 24);
  EXPECT_EQ((*v4)["ipipMode"], "CrossSubnet");
  EXPECT_EQ((*v4)["vxlanMode"], "Never");
  EXPECT_EQ((*v4)["natOutgoing"], false);
  EXPECT_EQ((*v4)["nodeSelector"], "pool == 'a'");
  EXPECT_EQ((*v4)["disableBGPExport"], true);
  auto v6 = PoolSpec("default-ipv6-ippool");
  ASSERT_TRUE(v6);
  EXPECT_EQ((*v6)["cidr"], "fd10:20::/64");
  EXPECT_EQ((*v6)["blockSize"], 120);
  EXPECT_EQ((*v6)["ipipMode"], "Never");
  EXPECT_EQ((*v6)["vxlanMode"], "Always");
  EXPECT_EQ((*v6)["natOutgoing"], true);
}

TEST_F(StartupTest, DefaultIPv6PoolIsARandomULAOnIPv6Hosts) {
  host_.set_supports_ipv6(true);
  auto r = Run();
  ASSERT_TRUE(r) << r.error().message();
  auto v6 = PoolSpec("default-ipv6-ippool");
  ASSERT_TRUE(v6);
  auto cidr = net::CIDR::Parse((*v6)["cidr"].get<std::string>());
  ASSERT_TRUE(cidr);
  EXPECT_EQ(cidr->prefix_len(), 48);
  EXPECT_EQ(cidr->addr().bytes()[0], 0xfd);
  EXPECT_EQ((*v6)["blockSize"], 122);
  EXPECT_EQ((*v6)["natOutgoing"], false);
}

TEST_F(StartupTest, DefaultIPv4PoolAvoidsHostSubnets) {
  host_.AddInterface("eth2", {"192.168.1.10/24"}).AddInterface("eth3", {"172.16.5.5/16"});
  auto r = Run();
  ASSERT_TRUE(r) << r.error().message();
  // 172.16.0.0/16 is eth3's subnet and 172.17.0.0/16 docker0's.
  EXPECT_EQ((*PoolSpec("default-ipv4-ippool"))["cidr"], "172.18.0.0/16");
  ASSERT_EQ(r->warnings.size(), 1u);
}

TEST_F(StartupTest, ExistingPoolsAreLeftAlone) {
  Resource mine("IPPool", "mine");
  mine.spec()["cidr"] = "10.50.0.0/16";
  mine.spec()["ipipMode"] = "Always";
  ASSERT_TRUE(client_.Create(std::move(mine)));
  auto r = Run({{"CALICO_IPV4POOL_CIDR", "10.60.0.0/16"}, {"CALICO_IPV6POOL_CIDR", "fd00:9::/48"}});
  ASSERT_TRUE(r) << r.error().message();
  // IPv4 already has a pool; IPv6 had none and gets its default.
  EXPECT_EQ(r->created_pools, std::vector<std::string>{"default-ipv6-ippool"});
  EXPECT_FALSE(PoolSpec("default-ipv4-ippool"));
  EXPECT_EQ((*PoolSpec("mine"))["ipipMode"], "Always");
  EXPECT_EQ(PoolCount(), 2u);
}

TEST_F(StartupTest, NoDefaultPoolsAndPerFamilyNone) {
  auto none = Run({{"NO_DEFAULT_POOLS", "true"}});
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_TRUE(none->created_pools.empty());
  EXPECT_EQ(PoolCount(), 0u);

  host_.set_supports_ipv6(true);
  auto v6_only = Run({{"CALICO_IPV4POOL_CIDR", "none"}});
  ASSERT_TRUE(v6_only) << v6_only.error().message();
  EXPECT_EQ(v6_only->created_pools, std::vector<std::string>{"default-ipv6-ippool"});
}

TEST_F(StartupTest, PoolIsValidatedThroughTheClient) {
  auto r = Run({{"CALICO_IPV4POOL_NODE_SELECTOR", "this is not a selector"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message().rfind("Failed to create default IPv4 IP pool 192.168.0.0/16: ", 0),
            0u)
      << r.error().message();
}

// ---------------------------------------------------------------------------------------------
// Existing node and addresses

TEST_F(StartupTest, UpdateKeepsOtherNodeFields) {
  PutNode("node-a", Json::parse(R"({
      "bgp": {"ipv4Address": "10.9.9.9/24", "ipv4IPIPTunnelAddr": "192.168.3.1",
              "routeReflectorClusterID": "224.0.0.1"},
      "ipv4VXLANTunnelAddr": "192.168.3.2",
      "orchRefs": [{"nodeName": "k8s-a", "orchestrator": "k8s"}]})"),
          Json{{"rack", "r1"}});
  auto r = Run({{"IP", "autodetect"}, {"AS", "65001"}});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->node_created);
  EXPECT_TRUE(r->node_updated);
  auto node = client_.Get("Node", "", "node-a");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->metadata()["labels"], Json({{"rack", "r1"}}));
  Json spec = node->spec();
  EXPECT_EQ(spec["bgp"], Json::parse(R"({"ipv4Address": "10.0.0.5/24", "asNumber": 65001,
      "ipv4IPIPTunnelAddr": "192.168.3.1", "routeReflectorClusterID": "224.0.0.1"})"));
  EXPECT_EQ(spec["ipv4VXLANTunnelAddr"], "192.168.3.2");
  EXPECT_EQ(spec["orchRefs"], Json::parse(R"([{"nodeName": "k8s-a", "orchestrator": "k8s"}])"));
}

TEST_F(StartupTest, UnsetIPKeepsTheStoredAddress) {
  PutNode("node-a", Json::parse(R"({"bgp": {"ipv4Address": "10.1.0.5/16"}})"));
  auto r = Run();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->ipv4->String(), "10.1.0.5/16");  // not re-detected as eth0's 10.0.0.5
  EXPECT_EQ(r->ipv4_interface, "eth1");
  EXPECT_TRUE(r->warnings.empty());

  auto none = Run({{"IP", "none"}});
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_EQ(none->ipv4->String(), "10.1.0.5/16");
}

TEST_F(StartupTest, KeptAddressNotOnTheHostIsAWarning) {
  PutNode("node-a", Json::parse(R"({"bgp": {"ipv4Address": "10.200.0.1/24"}})"));
  auto r = Run();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->ipv4->String(), "10.200.0.1/24");
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], "Unable to confirm IPv4 address 10.200.0.1 is assigned to this host");
}

TEST_F(StartupTest, ExplicitAddresses) {
  auto bare = Run({{"IP", "10.1.0.5"}, {"IP6", "2001:db8::5"}});
  ASSERT_TRUE(bare) << bare.error().message();
  EXPECT_EQ(bare->ipv4->String(), "10.1.0.5/16");  // prefix from eth1
  EXPECT_EQ(bare->ipv4_interface, "eth1");
  EXPECT_EQ(bare->ipv6->String(), "2001:db8::5/128");  // Calico completes only IPv4
  EXPECT_TRUE(bare->warnings.empty());

  auto cidr = Run({{"IP", "10.0.0.5/16"}});
  ASSERT_TRUE(cidr) << cidr.error().message();
  EXPECT_EQ(cidr->ipv4->String(), "10.0.0.5/16");  // as given

  auto foreign = Run({{"IP", "10.123.0.1"}});
  ASSERT_TRUE(foreign) << foreign.error().message();
  EXPECT_EQ(foreign->ipv4->String(), "10.123.0.1/32");
  ASSERT_EQ(foreign->warnings.size(), 1u);
  EXPECT_EQ(foreign->warnings[0],
            "Unable to confirm IPv4 address 10.123.0.1 is assigned to this host");
}

TEST_F(StartupTest, IPv6AutodetectAndMethods) {
  auto r = Run(
      {{"IP", "autodetect"}, {"IP_AUTODETECTION_METHOD", "interface=eth1"}, {"IP6", "autodetect"}});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->ipv4->String(), "10.1.0.5/16");
  EXPECT_EQ(r->ipv6->String(), "2001:db8::5/64");
  EXPECT_EQ(NodeSpec()["bgp"]["ipv6Address"], "2001:db8::5/64");

  host_.SetRoute("10.0.0.1", 4, "10.0.0.5");
  auto reach = Run({{"IP", "autodetect"}, {"IP_AUTODETECTION_METHOD", "can-reach=10.0.0.1"}});
  ASSERT_TRUE(reach) << reach.error().message();
  EXPECT_EQ(reach->ipv4->String(), "10.0.0.5/24");
  EXPECT_EQ(reach->ipv4_interface, "eth0");
}

TEST_F(StartupTest, AutodetectFailureWithNothingStoredStops) {
  FakeAddressSource empty_host;
  empty_host.AddInterface("lo", {"127.0.0.1/8"});
  auto config =
      StartupConfig::FromEnv({{"NODENAME", "node-a"}, {"CALICO_NODENAME_FILE", NodenameFile()}});
  ASSERT_TRUE(config);
  auto r = RunStartup(*config, client_, empty_host);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message(),
            "Couldn't autodetect an IPv4 address. If auto-detecting, choose a different "
            "autodetection method. Otherwise provide an explicit address. (No valid IPv4 "
            "addresses found on the host interfaces)");
  EXPECT_FALSE(client_.Get("Node", "", "node-a"));
  EXPECT_EQ(PoolCount(), 0u);
  EXPECT_FALSE(std::filesystem::exists(NodenameFile()));

  auto v6 = Run({{"IP6", "autodetect"}, {"IP6_AUTODETECTION_METHOD", "cidr=fd77::/16"}});
  ASSERT_FALSE(v6);
  EXPECT_EQ(v6.error().message(),
            "Couldn't autodetect an IPv6 address. If auto-detecting, choose a different "
            "autodetection method. Otherwise provide an explicit address. (No valid IPv6 "
            "addresses found inside fd77::/16)");
}

TEST_F(StartupTest, AutodetectFailureKeepsAStoredAddress) {
  PutNode("node-a", Json::parse(R"({"bgp": {"ipv4Address": "10.0.0.5/24"}})"));
  auto r = Run({{"IP", "autodetect"}, {"IP_AUTODETECTION_METHOD", "interface=wlan0"}});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->ipv4->String(), "10.0.0.5/24");
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0],
            "Autodetection of IPv4 address failed, keeping existing value: 10.0.0.5/24 (No valid "
            "IPv4 addresses found on interfaces matching wlan0)");
}

TEST_F(StartupTest, DuplicateAddressIsAnError) {
  PutNode("node-b", Json::parse(R"({"bgp": {"ipv4Address": "10.0.0.5/16"}})"));
  auto r = Run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(r.error().message(),
            "Calico node 'node-b' is already using the IPv4 address 10.0.0.5.");
  EXPECT_EQ(PoolCount(), 0u);
  EXPECT_FALSE(std::filesystem::exists(NodenameFile()));

  // Explicit addresses conflict too, and IPv6 is checked as well.
  PutNode("node-c", Json::parse(R"({"bgp": {"ipv6Address": "2001:db8::5/64"}})"));
  auto v6 = Run({{"IP", "10.1.0.5"}, {"IP6", "2001:db8::5/64"}});
  ASSERT_FALSE(v6);
  EXPECT_EQ(v6.error().message(),
            "Calico node 'node-c' is already using the IPv6 address 2001:db8::5.");

  auto unchecked = Run({{"DISABLE_NODE_IP_CHECK", "true"}});
  ASSERT_TRUE(unchecked) << unchecked.error().message();
  EXPECT_EQ(unchecked->ipv4->String(), "10.0.0.5/24");

  // As in Calico, only a changed address is checked: a node already sharing one keeps running.
  auto unchanged = Run();
  ASSERT_TRUE(unchanged) << unchanged.error().message();
}

TEST_F(StartupTest, ConflictingAutodetectedAddressIsClearedFromTheStore) {
  PutNode("node-a", Json::parse(R"({"bgp": {"ipv4Address": "10.1.0.5/16", "asNumber": 65002}})"));
  PutNode("node-b", Json::parse(R"({"bgp": {"ipv4Address": "10.0.0.5/24"}})"));
  auto r = Run({{"IP", "autodetect"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kAlreadyExists);
  // The next start detects again rather than trusting a stale value.
  EXPECT_EQ(NodeSpec()["bgp"], Json::parse(R"({"asNumber": 65002})"));
}

TEST_F(StartupTest, BackendNoneWritesNoBgpFields) {
  auto r = Run({{"CALICO_NETWORKING_BACKEND", "none"}, {"IP", "none"}, {"AS", "64512"}});
  ASSERT_TRUE(r) << r.error().message();  // no address is fine in policy-only mode
  EXPECT_FALSE(r->ipv4);
  EXPECT_TRUE(r->node_created);
  EXPECT_FALSE(NodeSpec().contains("bgp"));  // nor is the AS number written
  EXPECT_EQ(r->created_pools, std::vector<std::string>{"default-ipv4-ippool"});

  // Addresses are still detected (felix uses them), the AS number still is not.
  auto detected = Run({{"CALICO_NETWORKING_BACKEND", "none"}, {"AS", "64512"}});
  ASSERT_TRUE(detected) << detected.error().message();
  EXPECT_EQ(NodeSpec()["bgp"], Json::parse(R"({"ipv4Address": "10.0.0.5/24"})"));
}

TEST_F(StartupTest, NoAddressAtAllIsAnErrorWithABgpBackend) {
  auto r = Run({{"IP", "none"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "No IPv4 or IPv6 addresses configured or detected, required for Calico networking");
  EXPECT_FALSE(std::filesystem::exists(NodenameFile()));
}

TEST_F(StartupTest, IPv6OnlyBirdNodeWarnsAboutTheRouterId) {
  auto r = Run({{"IP", "none"}, {"IP6", "autodetect"}});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->ipv4);
  EXPECT_EQ(r->ipv6->String(), "2001:db8::5/64");
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("CALICO_ROUTER_ID"), std::string::npos);

  auto hashed = Run({{"IP", "none"}, {"IP6", "autodetect"}, {"CALICO_ROUTER_ID", "hash"}});
  ASSERT_TRUE(hashed) << hashed.error().message();
  EXPECT_TRUE(hashed->warnings.empty());
  EXPECT_EQ(hashed->router_id, "hash");
}

TEST_F(StartupTest, DatastoreFailuresAreWrapped) {
  backend_.FailNext(Error(ErrorCode::kUnavailable, "etcd down"));
  auto r = Run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message().rfind("initialize the datastore: ", 0), 0u) << r.error().message();
}

TEST_F(StartupTest, HostFailuresAreWrapped) {
  host_.FailNextList(Error(ErrorCode::kUnavailable, "netlink: boom"));
  auto r = Run();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message().find("list host interfaces: netlink: boom"), std::string::npos)
      << r.error().message();
}

}  // namespace
}  // namespace calico::node
