#include "calico/bird/bird_config.h"

#include <algorithm>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"

namespace calico::bird {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// ---- Scenarios (one golden file each) ----

BirdInput TwoNodeMesh() {
  return BirdInput{
      .node_name = "node-a",
      .router_id = "10.192.0.2",
      .ipv4 = "10.192.0.2",
      .nodes = {{.name = "node-b", .ipv4 = "10.192.0.3"}, {.name = "node-a", .ipv4 = "10.192.0.2"}},
      .pools = {{.cidr = "192.168.0.0/16", .ipip_mode = EncapMode::kAlways, .nat_outgoing = true},
                {.cidr = "172.16.0.0/16", .disable_bgp_export = true},
                {.cidr = "10.244.0.0/16", .nat_outgoing = true}},
      .blocks = {"192.168.221.64/26", "10.244.7.0/26"},
  };
}

BirdInput GlobalPeerNoMesh() {
  return BirdInput{
      .node_name = "node-a",
      .router_id = "10.192.0.2",
      .ipv4 = "10.192.0.2",
      .as_number = 64512,
      .node_to_node_mesh = false,
      .nodes = {{.name = "node-b", .ipv4 = "10.192.0.3"}},
      .peers = {{.scope = PeerScope::kGlobal,
                 .peer_ip = "10.192.0.1",
                 .as_number = 65001,
                 .keep_original_next_hop = true,
                 .password = "t0p-secret"},
                {.scope = PeerScope::kNode,
                 .peer_ip = "10.192.0.254",
                 .as_number = 64512,
                 .source_address = SourceAddress::kNone}},
      .pools = {{.cidr = "10.244.0.0/16"}},
      .blocks = {"10.244.7.0/26"},
      .bfd = true,
  };
}

// rr-1 reflects for cluster 224.0.0.1. Its peers come from BGPPeers with peerSelectors: two
// clients, the other reflector of its cluster (no `rr client`) and one of another cluster (a
// client).
BirdInput RouteReflector() {
  return BirdInput{
      .node_name = "rr-1",
      .router_id = "10.192.0.10",
      .ipv4 = "10.192.0.10",
      .node_to_node_mesh = true,
      .nodes = {{.name = "node-a", .ipv4 = "10.192.0.2"},
                {.name = "node-b", .ipv4 = "10.192.0.3"},
                {.name = "rr-2", .ipv4 = "10.192.0.11", .rr_cluster_id = "224.0.0.1"}},
      .peers = {{.scope = PeerScope::kNode, .peer_ip = "10.192.0.2", .calico_node = true},
                {.scope = PeerScope::kNode, .peer_ip = "10.192.0.3", .calico_node = true},
                {.scope = PeerScope::kNode,
                 .peer_ip = "10.192.0.11",
                 .calico_node = true,
                 .rr_cluster_id = "224.0.0.1"},
                {.scope = PeerScope::kNode,
                 .peer_ip = "10.192.1.10",
                 .calico_node = true,
                 .rr_cluster_id = "224.0.0.2"}},
      .rr_cluster_id = "224.0.0.1",
      .pools = {{.cidr = "192.168.0.0/16"}},
  };
}

// node-a, a route-reflector client with the mesh still on: meshes with node-b, not with rr-1, and
// peers with rr-1 through a global BGPPeer (peerSelector).
BirdInput RouteReflectorClient() {
  return BirdInput{
      .node_name = "node-a",
      .router_id = "10.192.0.2",
      .ipv4 = "10.192.0.2",
      .nodes = {{.name = "node-b", .ipv4 = "10.192.0.3"},
                {.name = "rr-1", .ipv4 = "10.192.0.10", .rr_cluster_id = "224.0.0.1"}},
      .peers = {{.scope = PeerScope::kGlobal,
                 .peer_ip = "10.192.0.10",
                 .calico_node = true,
                 .rr_cluster_id = "224.0.0.1"}},
      .pools = {{.cidr = "192.168.0.0/16"}},
      .blocks = {"192.168.5.0/26"},
  };
}

BirdInput DualStack() {
  return BirdInput{
      .node_name = "node-a",
      .router_id = "10.192.0.2",
      .ipv4 = "10.192.0.2",
      .ipv6 = "fd00:192::2",
      .listen_port = 1790,
      .nodes =
          {{.name = "node-b", .ipv4 = "10.192.0.3", .ipv6 = "fd00:192::3", .listen_port = 1790},
           {.name = "node-c", .ipv4 = "10.192.0.4", .listen_port = 1790},
           {.name = "node-0", .ipv4 = "10.192.0.1", .ipv6 = "fd00:192::1"}},
      .peers = {{.scope = PeerScope::kGlobal, .peer_ip = "fd00:192::fe", .as_number = 65010}},
      .pools = {{.cidr = "fd00:10::/48"}, {.cidr = "10.244.0.0/16"}},
      .blocks = {"fd00:10:0:1:2:3:4:0/122", "10.244.7.0/26", "10.244.9.5/32"},
  };
}

BirdInput Vxlan() {
  return BirdInput{
      .node_name = "node-a",
      .router_id = "10.192.0.2",
      .ipv4 = "10.192.0.2",
      .nodes = {{.name = "node-b", .ipv4 = "10.192.0.3"}},
      .pools = {{.cidr = "192.168.0.0/16", .vxlan_mode = EncapMode::kAlways, .nat_outgoing = true},
                {.cidr = "10.10.0.0/16", .vxlan_mode = EncapMode::kCrossSubnet, .disabled = true}},
      .blocks = {"192.168.221.64/26"},
  };
}

struct Scenario {
  const char* name;
  BirdInput (*make)();
};

void PrintTo(const Scenario& scenario, std::ostream* os) {
  *os << scenario.name;
}

constexpr std::array<Scenario, 6> kScenarios = {{
    {"mesh_2node", TwoNodeMesh},
    {"global_peer_no_mesh", GlobalPeerNoMesh},
    {"route_reflector", RouteReflector},
    {"route_reflector_client", RouteReflectorClient},
    {"dual_stack", DualStack},
    {"vxlan", Vxlan},
}};

// ---- Helpers ----

// The golden of a scenario, relative to the source tree.
std::string GoldenFile(const std::string& name) {
  return "src/calico/bird/testdata/" + name + ".conf";
}

std::string Render(const BirdInput& input) {
  auto text = BuildBirdConfig(input);
  EXPECT_TRUE(text.has_value()) << text.error().message();
  return text.has_value() ? *text : std::string();
}

// ---- Golden tests (bird_parse_test.cc checks every golden with `bird -p`) ----

class ScenarioTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(ScenarioTest, MatchesGolden) {
  calico::testing::ExpectGolden(GoldenFile(GetParam().name), Render(GetParam().make()));
}

TEST_P(ScenarioTest, IndependentOfInputOrder) {
  BirdInput input = GetParam().make();
  const std::string expected = RenderBirdConfig(input);
  std::reverse(input.nodes.begin(), input.nodes.end());
  std::reverse(input.peers.begin(), input.peers.end());
  std::reverse(input.pools.begin(), input.pools.end());
  std::reverse(input.blocks.begin(), input.blocks.end());
  EXPECT_EQ(RenderBirdConfig(input), expected);
}

INSTANTIATE_TEST_SUITE_P(Bird, ScenarioTest, ::testing::ValuesIn(kScenarios),
                         [](const ::testing::TestParamInfo<Scenario>& param_info) {
                           return std::string(param_info.param.name);
                         });

// ---- Behaviour ----

TEST(BirdConfigTest, MeshIsUnidirectionalByAddressString) {
  const std::string text = Render(TwoNodeMesh());
  // "10.192.0.3" > "10.192.0.2": node-a waits for node-b to connect.
  EXPECT_THAT(text, HasSubstr("protocol bgp Mesh_10_192_0_3 from bgp_template {\n"
                              "  local 10.192.0.2 as 64512;\n"
                              "  neighbor 10.192.0.3 as 64512;\n"
                              "  multihop;\n"
                              "  passive on;\n"));
  BirdInput b = TwoNodeMesh();
  b.node_name = "node-b";
  b.router_id = b.ipv4 = "10.192.0.3";
  EXPECT_THAT(Render(b), HasSubstr("  neighbor 10.192.0.2 as 64512;\n  multihop;\n  ipv4 {"));
}

TEST(BirdConfigTest, SkipsSelfInMesh) {
  const std::string text = Render(TwoNodeMesh());
  EXPECT_THAT(text, HasSubstr("# Mesh_10_192_0_2 (Node node-a): skipped, this node."));
  EXPECT_THAT(text, Not(HasSubstr("protocol bgp Mesh_10_192_0_2")));
}

TEST(BirdConfigTest, RouteReflectorClientsAndClusterPeers) {
  const std::string text = Render(RouteReflector());
  EXPECT_THAT(text, Not(HasSubstr("protocol bgp Mesh_")));
  EXPECT_THAT(text, HasSubstr("# Node-to-node mesh: off, this node is a route reflector"));
  EXPECT_THAT(text, HasSubstr("protocol bgp Node_10_192_0_2 from bgp_template {\n"
                              "  local 10.192.0.10 as 64512;\n"
                              "  neighbor 10.192.0.2 as 64512;\n"
                              "  multihop;\n"
                              "  passive on;\n"
                              "  rr client;\n"
                              "  rr cluster id 224.0.0.1;\n"));
  // Same cluster: a plain iBGP peering (and passive, "10.192.0.11" > "10.192.0.10").
  EXPECT_THAT(text, HasSubstr("protocol bgp Node_10_192_0_11 from bgp_template {\n"
                              "  local 10.192.0.10 as 64512;\n"
                              "  neighbor 10.192.0.11 as 64512;\n"
                              "  multihop;\n"
                              "  passive on;\n"
                              "  ipv4 {"));
  // Another cluster: reflected to like a client.
  EXPECT_THAT(text, HasSubstr("  neighbor 10.192.1.10 as 64512;\n  multihop;\n  passive on;\n"
                              "  rr client;\n"));
}

TEST(BirdConfigTest, RouteReflectorDoesNotReflectToEbgpPeers) {
  BirdInput input = RouteReflector();
  input.peers = {{.peer_ip = "10.0.0.1", .as_number = 65001}};
  EXPECT_THAT(Render(input), Not(HasSubstr("rr client")));
}

TEST(BirdConfigTest, MeshSkipsRouteReflectors) {
  const std::string text = Render(RouteReflectorClient());
  EXPECT_THAT(text, HasSubstr("protocol bgp Mesh_10_192_0_3 "));
  EXPECT_THAT(text, HasSubstr("# Mesh_10_192_0_10 (Node rr-1): skipped, route reflector"));
  EXPECT_THAT(text, HasSubstr("protocol bgp Global_10_192_0_10 "));
  EXPECT_THAT(text, Not(HasSubstr("rr client")));
}

TEST(BirdConfigTest, NextHopKeepOnlyForEbgp) {
  BirdInput input = GlobalPeerNoMesh();
  input.peers = {{.peer_ip = "10.0.0.1", .as_number = 65001, .keep_original_next_hop = true},
                 {.peer_ip = "10.0.0.2", .as_number = 64512, .keep_original_next_hop = true}};
  const std::string text = Render(input);
  const auto ebgp = text.find("protocol bgp Global_10_0_0_1 ");
  const auto ibgp = text.find("protocol bgp Global_10_0_0_2 ");
  ASSERT_NE(ebgp, std::string::npos);
  ASSERT_NE(ibgp, std::string::npos);
  EXPECT_NE(text.substr(ebgp, ibgp - ebgp).find("next hop keep;"), std::string::npos);
  EXPECT_EQ(text.substr(ibgp).find("next hop keep;"), std::string::npos);
  EXPECT_THAT(text, HasSubstr("calico_export_to_bgp_peers(false); reject;"));
  EXPECT_THAT(text, HasSubstr("calico_export_to_bgp_peers(true); reject;"));
}

TEST(BirdConfigTest, NodePeerDuplicatingGlobalPeerIsDropped) {
  BirdInput input = GlobalPeerNoMesh();
  input.peers = {{.scope = PeerScope::kNode, .peer_ip = "10.0.0.1", .as_number = 65001},
                 {.scope = PeerScope::kGlobal, .peer_ip = "10.0.0.1", .as_number = 65001},
                 {.scope = PeerScope::kGlobal, .peer_ip = "10.0.0.1", .as_number = 65001}};
  const std::string text = Render(input);
  EXPECT_THAT(text, HasSubstr("protocol bgp Global_10_0_0_1 "));
  EXPECT_THAT(text, HasSubstr("# Global_10_0_0_1 (Global BGPPeer): skipped, duplicate peering."));
  EXPECT_THAT(text,
              HasSubstr("# Node_10_0_0_1 (Node BGPPeer): skipped, duplicates a global peering."));
  EXPECT_THAT(text, Not(HasSubstr("protocol bgp Node_")));
}

TEST(BirdConfigTest, PortsInNamesAndLocalAddress) {
  BirdInput input = GlobalPeerNoMesh();
  input.listen_port = 1790;
  input.peers = {{.peer_ip = "10.0.0.1", .port = 1179, .as_number = 65001}};
  EXPECT_THAT(Render(input),
              HasSubstr("protocol bgp Global_10_0_0_1_port_1179 from bgp_template {\n"
                        "  local 10.192.0.2 port 1790 as 64512;\n"
                        "  neighbor 10.0.0.1 port 1179 as 65001;\n"));
}

TEST(BirdConfigTest, PeerOfMissingFamilyIsSkipped) {
  BirdInput input = GlobalPeerNoMesh();
  input.peers = {{.peer_ip = "fd00::1", .as_number = 65001}};
  const std::string text = Render(input);
  EXPECT_THAT(text, HasSubstr("# Global_fd00__1 (Global BGPPeer): skipped, this node has no IPv6"));
  EXPECT_THAT(text, Not(HasSubstr("kernel_v6")));
}

TEST(BirdConfigTest, KernelFilterLeavesEncapsulatedPoolsToFelix) {
  const std::string vxlan = Render(Vxlan());
  EXPECT_THAT(vxlan, HasSubstr("  if ( net ~ 192.168.0.0/16 ) then { reject; } # VXLAN routes are "
                               "handled by Felix.\n"));
  // VXLAN blocks are still advertised to peers, as Calico does.
  EXPECT_THAT(vxlan, HasSubstr("  calico_aggr();\n  if ( net ~ 10.10.0.0/16 ) then { accept; }\n"
                               "  if ( net ~ 192.168.0.0/16 ) then { accept; }\n}"));
  const std::string ipip = Render(TwoNodeMesh());
  EXPECT_THAT(ipip, HasSubstr("  if ( net ~ 192.168.0.0/16 ) then { reject; } # IPIP routes"));
  EXPECT_THAT(ipip, HasSubstr("  if ( net ~ 10.244.0.0/16 ) then { accept; }\n  if ( net ~ "
                              "172.16.0.0/16 ) then { accept; }\n"));
  EXPECT_THAT(ipip, HasSubstr("|| (ifname ~ \"tunl0\")"));
  EXPECT_THAT(vxlan, Not(HasSubstr("tunl0")));
}

TEST(BirdConfigTest, DisabledBgpExportRejectsPool) {
  const std::string text = Render(TwoNodeMesh());
  EXPECT_THAT(text, HasSubstr("function calico_export_to_bgp_peers(bool internal_peer) {\n"
                              "  if ( net ~ 172.16.0.0/16 ) then { reject; } # BGP export is "
                              "disabled.\n"));
}

TEST(BirdConfigTest, SlashThirtyTwoBlockHasNoBlackhole) {
  const std::string text = Render(DualStack());
  EXPECT_THAT(text, Not(HasSubstr("route 10.244.9.5/32 blackhole")));
  EXPECT_THAT(text, HasSubstr("if ( net = 10.244.9.5/32 ) then { accept; }"));
  EXPECT_THAT(text, HasSubstr("protocol static static_blocks_v6 {\n  ipv6;\n"
                              "  route fd00:10:0:1:2:3:4:0/122 blackhole;\n}"));
}

TEST(BirdConfigTest, CommentsCannotInjectConfiguration) {
  BirdInput input = TwoNodeMesh();
  input.node_name = "evil\nprotocol device x {}";
  input.nodes[0].name = "b\r\n}";
  const std::string text = Render(input);
  EXPECT_THAT(text, HasSubstr("calico node evil?protocol device x {}, generated"));
  EXPECT_THAT(text, HasSubstr("# Node b??}\n"));
}

TEST(BirdConfigTest, ValidationErrors) {
  struct Case {
    const char* what;
    void (*mutate)(BirdInput&);
    const char* message;
  };
  const std::vector<Case> cases = {
      {"router id", [](BirdInput& in) { in.router_id = "fd00::1"; }, "router_id"},
      {"no address",
       [](BirdInput& in) {
         in.ipv4.clear();
         in.ipv6.clear();
       },
       "neither"},
      {"ipv4 family", [](BirdInput& in) { in.ipv4 = "fd00::2"; }, "ipv4"},
      {"ipv4 with prefix", [](BirdInput& in) { in.ipv4 = "10.192.0.2/24"; }, "ipv4"},
      {"as 0", [](BirdInput& in) { in.as_number = 0; }, "as_number"},
      {"mesh password quote", [](BirdInput& in) { in.mesh_password = "a\"b"; }, "mesh_password"},
      {"peer password backslash",
       [](BirdInput& in) { in.peers = {{.peer_ip = "10.0.0.1", .password = "a\\b"}}; },
       "peer 10.0.0.1 password"},
      {"password too long",
       [](BirdInput& in) {
         in.peers = {{.peer_ip = "10.0.0.1", .password = std::string(81, 'x')}};
       },
       "longer than 80"},
      {"peer ip", [](BirdInput& in) { in.peers = {{.peer_ip = "10.0.0"}}; }, "peer 10.0.0"},
      {"node ip", [](BirdInput& in) { in.nodes[0].ipv4 = "fd00::3"; }, "node node-b ipv4"},
      {"cluster id", [](BirdInput& in) { in.rr_cluster_id = "cluster-1"; }, "rr_cluster_id"},
      {"pool host bits", [](BirdInput& in) { in.pools[0].cidr = "192.168.0.1/16"; }, "pool"},
      {"pool both encaps", [](BirdInput& in) { in.pools[0].vxlan_mode = EncapMode::kAlways; },
       "both"},
      {"v6 ipip",
       [](BirdInput& in) { in.pools = {{.cidr = "fd00::/48", .ipip_mode = EncapMode::kAlways}}; },
       "IPv6"},
      {"block", [](BirdInput& in) { in.blocks = {"10.244.7.1/26"}; }, "block 10.244.7.1/26"},
  };
  for (const Case& c : cases) {
    BirdInput input = TwoNodeMesh();
    c.mutate(input);
    auto result = BuildBirdConfig(input);
    ASSERT_FALSE(result.has_value()) << c.what;
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument) << c.what;
    EXPECT_THAT(result.error().message(), HasSubstr(c.message)) << c.what;
  }
}

TEST(BirdConfigTest, AllScenariosValidate) {
  for (const Scenario& s : kScenarios) {
    EXPECT_TRUE(ValidateBirdInput(s.make()).has_value()) << s.name;
  }
}

}  // namespace
}  // namespace calico::bird
