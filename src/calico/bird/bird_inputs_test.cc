#include "calico/bird/bird_inputs.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/datastore/client.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/model/resource.h"

namespace calico::bird {
namespace {

using model::Json;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class BirdInputsTest : public ::testing::Test {
 protected:
  void Create(std::string_view kind, std::string_view name, Json spec, Json labels = Json()) {
    model::Resource r(kind, name);
    r.spec() = std::move(spec);
    if (!labels.is_null()) r.metadata()["labels"] = std::move(labels);
    auto created = client_.Create(std::move(r));
    ASSERT_TRUE(created) << kind << " " << name << ": " << created.error().message();
  }
  void Node(std::string_view name, std::string_view ipv4, Json labels = Json(),
            Json extra_bgp = Json::object()) {
    Json bgp = std::move(extra_bgp);
    if (!ipv4.empty()) bgp["ipv4Address"] = std::string(ipv4);
    Create("Node", name, bgp.empty() ? Json::object() : Json{{"bgp", bgp}}, std::move(labels));
  }
  void Affinity(std::string_view node, std::string_view cidr, std::string_view state) {
    ASSERT_TRUE(store_.Put(
        datastore::BlockAffinityKey{.cidr = *net::CIDR::Parse(cidr), .host = std::string(node)}
            .Format(),
        Json{{"state", std::string(state)}, {"deleted", false}}.dump()));
  }
  Result<BirdInput> Resolve(std::string_view node, const BirdInputOptions& options = {},
                            SecretFiles* secrets = nullptr) {
    return BirdInputFromDatastore(client_, store_, node, options, secrets);
  }

  datastore::MemBackend store_;
  datastore::Client client_{store_};
};

std::vector<std::string> PeerIPs(const BirdInput& in) {
  std::vector<std::string> out;
  for (const auto& p : in.peers)
    out.push_back(p.peer_ip);
  return out;
}

TEST_F(BirdInputsTest, MeshWithDefaults) {
  Node("node-a", "198.18.0.1/24");
  Node("node-b", "198.18.0.2/24");
  Node("node-c", "");  // Not started yet: no BGP address, not a mesh peer.
  Create("IPPool", "pool-a",
         Json{{"cidr", "10.65.0.0/16"}, {"ipipMode", "Never"}, {"natOutgoing", true}});
  Create("IPPool", "pool-b",
         Json{{"cidr", "10.66.0.0/16"}, {"vxlanMode", "Always"}, {"disabled", true}});
  Affinity("node-a", "10.65.0.0/26", "confirmed");
  Affinity("node-a", "10.65.0.64/26", "pending");
  Affinity("node-b", "10.65.1.0/26", "confirmed");
  ASSERT_TRUE(store_.Put(
      datastore::BlockAffinityKey{.cidr = *net::CIDR::Parse("10.65.0.128/26"), .host = "node-a"}
          .Format(),
      "{}"));

  auto in = Resolve("node-a");
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(in->node_name, "node-a");
  EXPECT_EQ(in->router_id, "198.18.0.1");
  EXPECT_EQ(in->ipv4, "198.18.0.1");
  EXPECT_EQ(in->as_number, 64512u);
  EXPECT_EQ(in->listen_port, 179);
  EXPECT_TRUE(in->node_to_node_mesh);
  EXPECT_EQ(in->log_severity, "Info");
  ASSERT_EQ(in->nodes.size(), 1u);
  EXPECT_EQ(in->nodes[0], (PeerNode{.name = "node-b", .ipv4 = "198.18.0.2"}));
  EXPECT_THAT(in->peers, IsEmpty());
  ASSERT_EQ(in->pools.size(), 2u);
  EXPECT_EQ(in->pools[0], (IPPool{.cidr = "10.65.0.0/16", .nat_outgoing = true}));
  EXPECT_EQ(in->pools[1],
            (IPPool{.cidr = "10.66.0.0/16", .vxlan_mode = EncapMode::kAlways, .disabled = true}));
  // Confirmed and implicitly confirmed (no state) affinities; not the pending one.
  EXPECT_THAT(in->blocks, ElementsAre("10.65.0.0/26", "10.65.0.128/26"));

  auto config = BuildBirdConfig(*in);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_THAT(*config, HasSubstr("protocol bgp Mesh_198_18_0_2"));
}

TEST_F(BirdInputsTest, MeshOffWithGlobalPeer) {
  Node("node-a", "198.18.0.1/24");
  Node("node-b", "198.18.0.2/24");
  Create("BGPConfiguration", "default",
         Json{{"nodeToNodeMeshEnabled", false},
              {"asNumber", 65010},
              {"listenPort", 1179},
              {"logSeverityScreen", "Debug"}});
  Create("BGPPeer", "tor",
         Json{{"peerIP", "198.18.0.254"}, {"asNumber", 65001}, {"keepOriginalNextHop", true}});
  Create("BGPPeer", "tor-port", Json{{"peerIP", "198.18.0.253:1790"}, {"asNumber", 65001}});

  auto in = Resolve("node-a");
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_FALSE(in->node_to_node_mesh);
  EXPECT_EQ(in->as_number, 65010u);
  EXPECT_EQ(in->listen_port, 1179);
  EXPECT_EQ(in->log_severity, "Debug");
  EXPECT_EQ(in->nodes.at(0).as_number, 65010u);
  EXPECT_EQ(in->nodes.at(0).listen_port, 1179);
  ASSERT_EQ(in->peers.size(), 2u);
  EXPECT_EQ(in->peers[0], (BgpPeer{.scope = PeerScope::kGlobal,
                                   .peer_ip = "198.18.0.254",
                                   .as_number = 65001,
                                   .keep_original_next_hop = true,
                                   .origin = "BGPPeer tor"}));
  EXPECT_EQ(in->peers[1], (BgpPeer{.scope = PeerScope::kGlobal,
                                   .peer_ip = "198.18.0.253",
                                   .port = 1790,
                                   .as_number = 65001,
                                   .origin = "BGPPeer tor-port"}));
  auto config = BuildBirdConfig(*in);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_THAT(*config, HasSubstr("protocol bgp Global_198_18_0_254 "));
  EXPECT_THAT(*config, HasSubstr("debug all;"));
  EXPECT_THAT(*config, ::testing::Not(HasSubstr("Mesh_")));
}

TEST_F(BirdInputsTest, NodeSpecificPeersByNameAndSelector) {
  Node("node-a", "198.18.0.1/24", Json{{"rack", "r1"}});
  Node("node-b", "198.18.0.2/24", Json{{"rack", "r2"}});
  Create("BGPPeer", "a-only",
         Json{{"node", "node-a"},
              {"peerIP", "198.18.0.250"},
              {"asNumber", 65002},
              {"sourceAddress", "None"}});
  Create("BGPPeer", "b-only",
         Json{{"node", "node-b"}, {"peerIP", "198.18.0.251"}, {"asNumber", 65002}});
  Create("BGPPeer", "rack1",
         Json{{"nodeSelector", "rack == 'r1'"}, {"peerIP", "198.18.0.252"}, {"asNumber", 65003}});
  Create("BGPPeer", "rack2",
         Json{{"nodeSelector", "rack == 'r2'"}, {"peerIP", "198.18.0.253"}, {"asNumber", 65003}});

  auto a = Resolve("node-a");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_THAT(PeerIPs(*a), ElementsAre("198.18.0.250", "198.18.0.252"));
  for (const auto& p : a->peers)
    EXPECT_EQ(p.scope, PeerScope::kNode);
  EXPECT_EQ(a->peers[0].source_address, SourceAddress::kNone);
  EXPECT_EQ(a->peers[1].as_number, 65003u);

  auto b = Resolve("node-b");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_THAT(PeerIPs(*b), ElementsAre("198.18.0.251", "198.18.0.253"));
}

TEST_F(BirdInputsTest, PeerSelectorWithRouteReflectors) {
  // The usual route-reflector set-up: mesh off, every node peers with the reflectors, the
  // reflectors peer with each other.
  Node("node-a", "198.18.0.1/24");
  Node("node-b", "198.18.0.2/24", Json(), Json{{"asNumber", 65020}});
  Node("rr-1", "198.18.0.10/24", Json{{"route-reflector", "true"}},
       Json{{"routeReflectorClusterID", "224.0.0.1"}});
  Node("rr-2", "198.18.0.11/24", Json{{"route-reflector", "true"}},
       Json{{"routeReflectorClusterID", "224.0.0.1"}});
  Create("BGPConfiguration", "default", Json{{"nodeToNodeMeshEnabled", false}});
  Create("BGPPeer", "to-rr",
         Json{{"nodeSelector", "all()"}, {"peerSelector", "has(route-reflector)"}});

  auto a = Resolve("node-a");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_THAT(PeerIPs(*a), ElementsAre("198.18.0.10", "198.18.0.11"));
  EXPECT_TRUE(a->rr_cluster_id.empty());
  for (const auto& p : a->peers) {
    EXPECT_TRUE(p.calico_node);
    EXPECT_EQ(p.rr_cluster_id, "224.0.0.1");
    EXPECT_EQ(p.scope, PeerScope::kNode);
  }

  // The reflector: forward peerings to the other reflector, reverse ones to every node.
  auto rr = Resolve("rr-1");
  ASSERT_TRUE(rr) << rr.error().message();
  EXPECT_EQ(rr->rr_cluster_id, "224.0.0.1");
  EXPECT_THAT(PeerIPs(*rr), ElementsAre("198.18.0.11", "198.18.0.1", "198.18.0.2"));
  EXPECT_EQ(rr->peers[2].as_number, 65020u);  // node-b's own AS.
  auto config = BuildBirdConfig(*rr);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_THAT(*config, HasSubstr("rr cluster id 224.0.0.1;"));
}

TEST_F(BirdInputsTest, PerNodeOverrides) {
  Node("node-a", "198.18.0.1/24");
  Node("node-b", "198.18.0.2/24", Json(), Json{{"asNumber", "65030"}});
  Create("BGPConfiguration", "default", Json{{"logSeverityScreen", "Warning"}});
  Create("BGPConfiguration", "node.node-a",
         Json{{"logSeverityScreen", "Debug"}, {"listenPort", 1790}});
  Create("BGPConfiguration", "node.node-b", Json{{"listenPort", 1791}});

  auto a = Resolve("node-a");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->listen_port, 1790);
  EXPECT_EQ(a->log_severity, "Debug");
  ASSERT_EQ(a->nodes.size(), 1u);
  EXPECT_EQ(a->nodes[0].listen_port, 1791);
  EXPECT_EQ(a->nodes[0].as_number, 65030u);

  auto b = Resolve("node-b");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->as_number, 65030u);
  EXPECT_EQ(b->listen_port, 1791);
  // node.node-b exists, and its logSeverityScreen was defaulted to Info on create: it wins over
  // the global Warning, as the per-host loglevel key does in confd.
  EXPECT_EQ(b->log_severity, "Info");
}

TEST_F(BirdInputsTest, NodeWithIPv6) {
  Node("node-a", "198.18.0.1/24", Json(), Json{{"ipv6Address", "fd00:18::1/64"}});
  Node("node-b", "198.18.0.2/24", Json(), Json{{"ipv6Address", "fd00:18::2/64"}});
  Affinity("node-a", "fd00:65::/122", "confirmed");
  auto a = Resolve("node-a");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->ipv6, "fd00:18::1");
  EXPECT_EQ(a->nodes.at(0).ipv6, "fd00:18::2");
  EXPECT_THAT(a->blocks, ElementsAre("fd00:65::/122"));
}

TEST_F(BirdInputsTest, Errors) {
  auto missing = Resolve("ghost");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message(), HasSubstr("node ghost has no Node resource"));

  Node("bare", "");
  auto bare = Resolve("bare");
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bare.error().message(),
            "node bare has no IPv4 BGP address: run calico-node startup (IP=autodetect)");

  store_.FailNext(Error(ErrorCode::kUnavailable, "etcd down"));
  auto down = Resolve("bare");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code(), ErrorCode::kUnavailable);
}

TEST_F(BirdInputsTest, SelfIsNeverAPeer) {
  Node("node-a", "198.18.0.1/24", Json{{"x", "1"}});
  Node("node-b", "198.18.0.2/24", Json{{"x", "1"}});
  Create("BGPPeer", "all-to-all", Json{{"nodeSelector", "has(x)"}, {"peerSelector", "has(x)"}});
  Create("BGPPeer", "to-self",
         Json{{"node", "node-a"}, {"peerIP", "198.18.0.1"}, {"asNumber", 64512}});
  auto a = Resolve("node-a");
  ASSERT_TRUE(a) << a.error().message();
  // node-b once (forward and reverse give the same session), never node-a itself.
  EXPECT_THAT(PeerIPs(*a), ElementsAre("198.18.0.2"));
}

// A directory of secrets laid out like a mounted Kubernetes Secret: <dir>/<name>/<key>.
class SecretsDir {
 public:
  SecretsDir()
      : path_(std::filesystem::temp_directory_path() /
              ("bird_inputs_secrets_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~SecretsDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  SecretsDir(const SecretsDir&) = delete;
  SecretsDir& operator=(const SecretsDir&) = delete;
  SecretsDir(SecretsDir&&) = delete;
  SecretsDir& operator=(SecretsDir&&) = delete;
  void Write(const std::string& name, const std::string& key, const std::string& value) {
    std::filesystem::create_directories(path_ / name);
    std::ofstream(path_ / name / key, std::ios::binary) << value;
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST_F(BirdInputsTest, EveryBGPPeerFieldReachesThePeering) {
  SecretsDir secrets;
  secrets.Write("bgp-secrets", "tor", "s3cret\n");  // `echo s3cret > ...`: the newline is dropped.
  Node("node-a", "198.18.0.1/24");
  Create("BGPFilter", "f1", Json::parse(R"({"exportV4": [{"action": "Reject"}]})"));
  Create("BGPPeer", "tor",
         Json::parse(R"({"peerIP": "198.18.0.254", "asNumber": 65000, "localASNumber": 65100,
             "nextHopMode": "Keep", "keepaliveTime": "10s", "maxRestartTime": "1m30.6s",
             "ttlSecurity": 2, "numAllowedLocalASNumbers": 1, "reachableBy": "198.18.0.1",
             "filters": ["f1"], "sourceAddress": "None",
             "password": {"secretKeyRef": {"name": "bgp-secrets", "key": "tor"}}})"));
  SecretFiles files;
  auto in = Resolve("node-a", {.secrets_dir = secrets.path()}, &files);
  ASSERT_TRUE(in) << in.error().message();
  ASSERT_EQ(in->peers.size(), 1u);
  const BgpPeer& p = in->peers[0];
  EXPECT_EQ(p.peer_ip, "198.18.0.254");
  EXPECT_EQ(p.as_number, 65000u);
  EXPECT_EQ(p.local_as_number, 65100u);
  EXPECT_EQ(p.next_hop_mode, NextHopMode::kKeep);
  EXPECT_EQ(p.keepalive_time, 10u);
  EXPECT_EQ(p.restart_time, 91u);  // Rounded to whole seconds, as confd does.
  EXPECT_EQ(p.ttl_security, 2);
  EXPECT_EQ(p.num_allow_local_as, 1u);
  EXPECT_EQ(p.reachable_by, "198.18.0.1");
  EXPECT_THAT(p.filters, ElementsAre("f1"));
  EXPECT_EQ(p.source_address, SourceAddress::kNone);
  EXPECT_EQ(p.password, "s3cret");
  EXPECT_EQ(p.origin, "BGPPeer tor");
  EXPECT_THAT(files.paths, ElementsAre(secrets.path() + "/bgp-secrets/tor"));
  EXPECT_EQ(files.fingerprint, FilesFingerprint(files.paths));
  EXPECT_THAT(in->notes, IsEmpty());
  ASSERT_EQ(in->filters.size(), 1u);
  EXPECT_EQ(in->filters[0].name, "f1");
  auto config = BuildBirdConfig(*in);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_THAT(*config, HasSubstr("password \"s3cret\";"));
}

// confd's secret watcher: a secret that cannot be read leaves the peering without a password
// and is reported (the file, never the content); names that are not one path component are
// refused; the fingerprint of the consulted files changes when one is written.
TEST_F(BirdInputsTest, SecretsFromFiles) {
  SecretsDir secrets;
  Node("node-a", "198.18.0.1/24");
  Node("node-b", "198.18.0.2/24");
  Create("BGPConfiguration", "default",
         Json::parse(R"({"nodeMeshPassword": {"secretKeyRef": {"name": "mesh", "key": "pw"}}})"));
  Create("BGPPeer", "evil", Json::parse(R"({"peerIP": "198.18.0.250", "asNumber": 65000,
             "password": {"secretKeyRef": {"name": "..", "key": "passwd"}}})"));
  SecretFiles files;
  auto in = Resolve("node-a", {.secrets_dir = secrets.path()}, &files);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(in->mesh_password, "");
  EXPECT_THAT(in->notes,
              ElementsAre(HasSubstr("BGPConfiguration default nodeMeshPassword: secret mesh/pw "
                                    "cannot be read (" +
                                    secrets.path() +
                                    "/mesh/pw: No such file or directory): configured without a "
                                    "password"),
                          HasSubstr("BGPPeer evil password: secret name \"..\" and key \"passwd\" "
                                    "must be plain names")));
  EXPECT_THAT(files.paths, ElementsAre(secrets.path() + "/mesh/pw"));
  EXPECT_EQ(files.fingerprint, FilesFingerprint(files.paths));  // Unchanged since read.

  secrets.Write("mesh", "pw", "m3sh");
  EXPECT_NE(FilesFingerprint(files.paths), files.fingerprint);
  in = Resolve("node-a", {.secrets_dir = secrets.path()});
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(in->mesh_password, "m3sh");
  for (const std::string& note : in->notes)
    EXPECT_THAT(note, Not(HasSubstr("m3sh")));

  secrets.Write("mesh", "pw", std::string(5000, 'x'));
  in = Resolve("node-a", {.secrets_dir = secrets.path()});
  ASSERT_TRUE(in);
  EXPECT_EQ(in->mesh_password, "");
  EXPECT_THAT(in->notes, Contains(HasSubstr("larger than 4096 bytes")));
}

TEST_F(BirdInputsTest, ReversePeeringAutoAndManual) {
  Node("node-a", "198.18.0.1/24", Json{{"rack", "a"}});
  Node("node-b", "198.18.0.2/24", Json{{"rack", "b"}});
  Node("node-c", "198.18.0.3/24", Json{{"rack", "a"}});
  // Rack a peers with node-b's address: node-b gets the reverse peerings.
  Create("BGPPeer", "a-to-b",
         Json{{"nodeSelector", "rack == 'a'"}, {"peerIP", "198.18.0.2"}, {"asNumber", 64512}});
  auto b = Resolve("node-b");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_THAT(PeerIPs(*b), ElementsAre("198.18.0.1", "198.18.0.3"));
  for (const auto& p : b->peers) {
    EXPECT_EQ(p.scope, PeerScope::kNode);
    EXPECT_EQ(p.origin, "BGPPeer a-to-b");
  }
  auto a = Resolve("node-a");
  ASSERT_TRUE(a);
  EXPECT_THAT(PeerIPs(*a), ElementsAre("198.18.0.2"));
  EXPECT_TRUE(a->peers[0].calico_node);

  // Manual: node-b gets nothing until a BGPPeer says so.
  ASSERT_TRUE(client_.Delete("BGPPeer", "", "a-to-b"));
  Create("BGPPeer", "a-to-b-manual",
         Json{{"nodeSelector", "rack == 'a'"},
              {"peerIP", "198.18.0.2"},
              {"asNumber", 64512},
              {"reversePeering", "Manual"}});
  Create("BGPPeer", "rack-a-to-rack-b",
         Json{{"nodeSelector", "rack == 'a'"},
              {"peerSelector", "rack == 'b'"},
              {"reversePeering", "Manual"}});
  b = Resolve("node-b");
  ASSERT_TRUE(b);
  EXPECT_THAT(b->peers, IsEmpty());
  a = Resolve("node-a");
  ASSERT_TRUE(a);
  EXPECT_THAT(PeerIPs(*a), ElementsAre("198.18.0.2"));  // One peering: the first BGPPeer wins.
  EXPECT_EQ(a->peers[0].origin, "BGPPeer a-to-b-manual");
  EXPECT_THAT(a->notes, Contains(HasSubstr("BGPPeer rack-a-to-rack-b: the peering with "
                                           "198.18.0.2 port 179 is already configured by "
                                           "BGPPeer a-to-b-manual")));
}

// A peerIP of a calico node without a port peers on that node's listen port.
TEST_F(BirdInputsTest, PeerIPOfACalicoNodeUsesItsListenPort) {
  Node("node-a", "198.18.0.1/24");
  Node("node-b", "198.18.0.2/24");
  Create("BGPConfiguration", "node.node-b", Json{{"listenPort", 1790}});
  Create("BGPPeer", "to-b", Json{{"node", "node-a"}, {"peerIP", "198.18.0.2"}});
  Create("BGPPeer", "to-other", Json{{"node", "node-a"}, {"peerIP", "198.18.0.9"}});
  auto a = Resolve("node-a");
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_EQ(a->peers.size(), 2u);
  EXPECT_EQ(a->peers[0].peer_ip, "198.18.0.2");
  EXPECT_EQ(a->peers[0].port, 1790);
  EXPECT_EQ(a->peers[0].as_number, 64512u);
  EXPECT_EQ(a->peers[1].port, 179);
}

TEST_F(BirdInputsTest, CommunitiesNamedLiteralAndPerNode) {
  Node("node-a", "198.18.0.1/24");
  Node("node-b", "198.18.0.2/24");
  Create("BGPConfiguration", "default",
         Json::parse(R"({"communities": [{"name": "lab", "value": "65000:100"}],
             "prefixAdvertisements": [
               {"cidr": "198.19.0.0/16", "communities": ["lab", "1:2:3", "65000:100"]}]})"));
  Create("BGPConfiguration", "node.node-b",
         Json::parse(R"({"prefixAdvertisements": [{"cidr": "198.19.7.0/24",
                                                   "communities": ["7:7"]}]})"));
  auto a = Resolve("node-a");
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_EQ(a->communities.size(), 1u);
  EXPECT_EQ(a->communities[0],
            (CommunityRule{.cidr = "198.19.0.0/16", .communities = {"1:2:3", "65000:100"}}));
  auto b = Resolve("node-b");
  ASSERT_TRUE(b);
  ASSERT_EQ(b->communities.size(), 1u);
  EXPECT_EQ(b->communities[0], (CommunityRule{.cidr = "198.19.7.0/24", .communities = {"7:7"}}));
}

TEST_F(BirdInputsTest, ServiceRanges) {
  Node("node-a", "198.18.0.1/24");
  Node("node-x", "198.18.0.9/24",
       Json{{"node.kubernetes.io/exclude-from-external-load-balancers", "true"}});
  Node("rr", "198.18.0.10/24", Json(), Json{{"routeReflectorClusterID", "224.0.0.1"}});
  Create("BGPConfiguration", "default",
         Json::parse(R"({"serviceClusterIPs": [{"cidr": "10.96.0.0/12"}],
             "serviceExternalIPs": [{"cidr": "198.51.100.0/24"}, {"cidr": "198.51.100.7/32"}],
             "serviceLoadBalancerIPs": [{"cidr": "203.0.113.0/24"}]})"));
  auto a = Resolve("node-a");
  ASSERT_TRUE(a) << a.error().message();
  // Single addresses are advertised per Service (Kubernetes only), not as ranges.
  EXPECT_THAT(a->static_routes, ElementsAre("10.96.0.0/12", "198.51.100.0/24", "203.0.113.0/24"));
  EXPECT_EQ(a->reject_cidrs, a->static_routes);
  EXPECT_THAT(a->service_external_ips, ElementsAre("198.51.100.0/24", "198.51.100.7/32"));
  EXPECT_THAT(a->service_load_balancer_ips, ElementsAre("203.0.113.0/24"));
  // An excluded node advertises nothing but still keeps the ranges out of its kernel.
  auto x = Resolve("node-x");
  ASSERT_TRUE(x);
  EXPECT_THAT(x->static_routes, IsEmpty());
  EXPECT_EQ(x->reject_cidrs, a->reject_cidrs);
  auto rr = Resolve("rr");
  ASSERT_TRUE(rr);
  auto rr_config = BuildBirdConfig(*rr);
  ASSERT_TRUE(rr_config) << rr_config.error().message();
  EXPECT_THAT(*rr_config, HasSubstr("  if ( net ~ 198.51.100.7/32 ) then { accept; }\n"));

  // Without aggregation, LoadBalancer ranges are not advertised as ranges.
  ASSERT_TRUE(client_.Apply([] {
    model::Resource r("BGPConfiguration", "default");
    r.spec() = Json::parse(R"({"serviceLoadBalancerIPs": [{"cidr": "203.0.113.0/24"}],
                               "serviceLoadBalancerAggregation": "Disabled"})");
    return r;
  }()));
  a = Resolve("node-a");
  ASSERT_TRUE(a);
  EXPECT_THAT(a->static_routes, IsEmpty());
}

TEST_F(BirdInputsTest, ClusterWideSettings) {
  Node("node-a", "198.18.0.1/24");
  Create("BGPConfiguration", "default",
         Json::parse(R"({"bindMode": "NodeIP", "ignoredInterfaces": ["eth9"],
             "nodeMeshMaxRestartTime": "45s", "ipv4NormalRoutePriority": 512,
             "ipv6NormalRoutePriority": 256, "programClusterRoutes": "Disabled"})"));
  auto a = Resolve("node-a");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_TRUE(a->bind_node_ip);
  EXPECT_THAT(a->ignored_interfaces, ElementsAre("eth9"));
  EXPECT_EQ(a->mesh_restart_time, 45u);
  EXPECT_EQ(a->normal_route_priority_v4, 512u);
  EXPECT_EQ(a->normal_route_priority_v6, 256u);
  EXPECT_EQ(a->program_cluster_routes, ProgramClusterRoutes::kDisabled);
  EXPECT_EQ(a->router_id, "198.18.0.1");
  // CALICO_ROUTER_ID.
  EXPECT_EQ(Resolve("node-a", {.router_id = "hash"})->router_id, "102.87.15.240");
  EXPECT_EQ(Resolve("node-a", {.router_id = "10.9.9.9"})->router_id, "10.9.9.9");
}

TEST(RouterIDTest, HashLikeConfd) {
  EXPECT_EQ(RouterIDFromHash("node-a"), "102.87.15.240");
  EXPECT_EQ(RouterIDFromHash("calico-01"), "93.7.234.58");
  // First byte 245 > 223 (multicast and above are not router IDs): lowered by 32.
  EXPECT_EQ(RouterIDFromHash("node-18"), "213.194.139.227");
}

TEST_F(BirdInputsTest, RouteReflectorClusterIDAnnotationAndPerNodeAS) {
  Node("node-a", "198.18.0.1/24", Json(), Json{{"asNumber", 65001}});
  model::Resource rr("Node", "rr");
  rr.spec() = Json{{"bgp", {{"ipv4Address", "198.18.0.10/24"}}}};
  rr.metadata()["annotations"] = Json{{"projectcalico.org/RouteReflectorClusterID", "224.0.0.9"}};
  ASSERT_TRUE(client_.Create(std::move(rr)));
  auto in = Resolve("rr");
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(in->rr_cluster_id, "224.0.0.9");
  auto a = Resolve("node-a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->as_number, 65001u);
  ASSERT_EQ(a->nodes.size(), 1u);
  EXPECT_EQ(a->nodes[0].rr_cluster_id, "224.0.0.9");  // Not a mesh peer.
  auto config = BuildBirdConfig(*a);
  ASSERT_TRUE(config);
  EXPECT_THAT(*config, HasSubstr("local as 65001;"));
}

TEST_F(BirdInputsTest, NotesForWhatIsNotRendered) {
  Node("node-a", "198.18.0.1/24");
  Create("BGPConfiguration", "default", Json{{"localWorkloadPeeringIPV4", "169.254.0.179"}});
  Create("BGPPeer", "wl", Json{{"localWorkloadSelector", "app == 'router'"}, {"asNumber", 65500}});
  Create("BGPPeer", "tor", Json{{"peerIP", "198.18.0.254"}, {"filters", {"nope"}}});
  auto a = Resolve("node-a");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_THAT(a->notes, ElementsAre("BGPConfiguration default: localWorkloadPeeringIPV4/IPV6 are "
                                    "not supported, as localWorkloadSelector peerings are not "
                                    "(docs/COMPATIBILITY.md)",
                                    "BGPPeer tor: BGPFilter nope does not exist (skipped)",
                                    "BGPPeer wl: localWorkloadSelector peerings are not supported "
                                    "(docs/COMPATIBILITY.md)"));
  EXPECT_THAT(PeerIPs(*a), ElementsAre("198.18.0.254"));
}

TEST_F(BirdInputsTest, MalformedBGPResourcesAreNamed) {
  Node("node-a", "198.18.0.1/24");
  model::Resource bad("BGPFilter", "broken");
  bad.spec() = Json::parse(R"({"exportV4": [{"action": "Maybe"}]})");
  ASSERT_TRUE(store_.Put(
      datastore::ResourceKey{.kind = model::LookupKind("BGPFilter"), .name = "broken"}.Format(),
      datastore::EncodeStoredResource(bad)));
  auto a = Resolve("node-a");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(a.error().message(), HasSubstr("BGPFilter broken: spec.exportV4[0].action"));
}

}  // namespace
}  // namespace calico::bird
