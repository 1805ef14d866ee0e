#include "calico/bird/bird_inputs.h"

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
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

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
  Result<BirdInput> Resolve(std::string_view node) {
    return BirdInputFromDatastore(client_, store_, node);
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
                                   .keep_original_next_hop = true}));
  EXPECT_EQ(in->peers[1], (BgpPeer{.scope = PeerScope::kGlobal,
                                   .peer_ip = "198.18.0.253",
                                   .port = 1790,
                                   .as_number = 65001}));
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

}  // namespace
}  // namespace calico::bird
