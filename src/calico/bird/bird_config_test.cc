#include "calico/bird/bird_config.h"

#include <algorithm>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/redact.h"
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

// Every BGPPeer option confd renders (bgp_processor.go buildPeerFromData): local AS, next hop
// modes, timers, TTL security, allowed local AS, password, reachableBy, filters.
BirdInput PeerOptions() {
  return BirdInput{
      .node_name = "node-a",
      .router_id = "10.192.0.2",
      .ipv4 = "10.192.0.2",
      .node_to_node_mesh = false,
      .peers = {{.scope = PeerScope::kGlobal,
                 .peer_ip = "10.225.0.4",
                 .as_number = 65515,
                 .local_as_number = 65100,
                 .next_hop_mode = NextHopMode::kKeep,
                 .password = "tor-secret",
                 .restart_time = 300,
                 .keepalive_time = 10,
                 .ttl_security = 1,
                 .num_allow_local_as = 2,
                 .reachable_by = "10.192.0.1",
                 .filters = {"tor-export", "missing"},
                 .origin = "BGPPeer tor-a"},
                {.scope = PeerScope::kGlobal,
                 .peer_ip = "10.225.0.5",
                 .as_number = 64512,
                 .next_hop_mode = NextHopMode::kSelf,
                 .origin = "BGPPeer rr-external"},
                {.scope = PeerScope::kNode,
                 .peer_ip = "10.225.0.6",
                 .as_number = 65000,
                 .keep_original_next_hop = true,
                 .source_address = SourceAddress::kNone,
                 .origin = "BGPPeer legacy-keep"}},
      .pools = {{.cidr = "10.244.0.0/16"}},
      .blocks = {"10.244.7.0/26"},
      .filters = {{.name = "tor-export",
                   .spec = {.export_v4 = {{.cidr = "10.244.0.0/16",
                                           .prefix_length = {{.min = 26}},
                                           .match_operator = model::v3::BGPFilterMatchOperator::kIn,
                                           .action = model::v3::BGPFilterAction::kAccept},
                                          {.action = model::v3::BGPFilterAction::kReject}}}}},
  };
}

// BGPFilter functions for both families (template_funcs.go BGPFilterBIRDFuncs): every match and
// every operation, peer types, and a name long enough to be shortened with its hash.
BirdInput Filters() {
  using model::v3::BGPFilterAction;
  using model::v3::BGPFilterMatchOperator;
  using model::v3::BGPFilterPeerType;
  return BirdInput{
      .node_name = "node-a",
      .router_id = "10.192.0.2",
      .ipv4 = "10.192.0.2",
      .ipv6 = "fd00:192::2",
      .nodes = {{.name = "node-b", .ipv4 = "10.192.0.3", .ipv6 = "fd00:192::3"}},
      .peers =
          {{.scope = PeerScope::kGlobal,
            .peer_ip = "10.225.0.4",
            .as_number = 65515,
            .filters = {"greater-than-64-characters.so.this.should.definitely.truncate-1234567890",
                        "match", "peer-type"},
            .origin = "BGPPeer tor-v4"},
           {.scope = PeerScope::kGlobal,
            .peer_ip = "fd00:225::4",
            .as_number = 64512,
            .filters = {"match", "peer-type"},
            .origin = "BGPPeer rr-v6"}},
      .pools = {{.cidr = "10.244.0.0/16"}, {.cidr = "fd00:244::/48"}},
      .blocks = {"10.244.7.0/26", "fd00:244::/122"},
      .filters = {{.name = "match",
                   .spec = {.export_v4 = {{.cidr = "77.0.0.0/16",
                                           .match_operator = BGPFilterMatchOperator::kIn,
                                           .action = BGPFilterAction::kAccept},
                                          {.cidr = "77.1.0.0/16",
                                           .match_operator = BGPFilterMatchOperator::kNotIn,
                                           .action = BGPFilterAction::kReject},
                                          {.cidr = "77.2.0.0/16",
                                           .match_operator = BGPFilterMatchOperator::kEqual,
                                           .action = BGPFilterAction::kAccept},
                                          {.cidr = "77.3.0.0/16",
                                           .match_operator = BGPFilterMatchOperator::kNotEqual,
                                           .action = BGPFilterAction::kReject}},
                            .import_v4 = {{.cidr = "44.0.0.0/8",
                                           .prefix_length = {{.min = 16, .max = 24}},
                                           .source_remote_peers = true,
                                           .match_operator = BGPFilterMatchOperator::kIn,
                                           .action = BGPFilterAction::kAccept},
                                          {.interface = "eth*", .action = BGPFilterAction::kReject},
                                          {.communities = {"65000:100"},
                                           .action = BGPFilterAction::kAccept,
                                           .operations = {{.set_priority = 256}}},
                                          {.communities = {"65000:1:2"},
                                           .as_path_prefix = {65000, 65001},
                                           .action = BGPFilterAction::kAccept,
                                           .operations = {{.add_community = "65001:200"},
                                                          {.prepend_as_path = {65000, 65001}}}},
                                          {.priority = 512, .action = BGPFilterAction::kReject}},
                            .export_v6 = {{.cidr = "fd00:244::/48",
                                           .prefix_length = {{.max = 64}},
                                           .match_operator = BGPFilterMatchOperator::kIn,
                                           .action = BGPFilterAction::kAccept}},
                            .import_v6 = {{.cidr = "fd00:99::/48",
                                           .match_operator = BGPFilterMatchOperator::kNotIn,
                                           .action = BGPFilterAction::kReject}}}},
                  {.name = "peer-type",
                   .spec = {.export_v4 = {{.cidr = "10.0.0.0/8",
                                           .match_operator = BGPFilterMatchOperator::kIn,
                                           .peer_type = BGPFilterPeerType::kEBGP,
                                           .action = BGPFilterAction::kAccept},
                                          {.cidr = "172.16.0.0/12",
                                           .match_operator = BGPFilterMatchOperator::kIn,
                                           .peer_type = BGPFilterPeerType::kIBGP,
                                           .action = BGPFilterAction::kReject}},
                            .export_v6 = {{.peer_type = BGPFilterPeerType::kIBGP,
                                           .action = BGPFilterAction::kReject}}}},
                  {.name =
                       "greater-than-64-characters.so.this.should.definitely.truncate-1234567890",
                   .spec = {.import_v4 = {{.cidr = "44.4.0.0/16",
                                           .match_operator = BGPFilterMatchOperator::kIn,
                                           .action = BGPFilterAction::kAccept}}}},
                  {.name = "empty"}},
  };
}

// BGPConfiguration fields around the sessions: communities, service ranges (and a route
// reflector's acceptance of LoadBalancer/external ranges), bindMode, ignoredInterfaces, the mesh
// password and restart time, route priorities, programClusterRoutes, debug logging.
BirdInput ClusterSettings() {
  return BirdInput{
      .node_name = "node-a",
      .router_id = "10.192.0.2",
      .ipv4 = "10.192.0.2",
      .ipv6 = "fd00:192::2",
      .mesh_password = "mesh-secret",
      .mesh_restart_time = 30,
      .nodes = {{.name = "node-b", .ipv4 = "10.192.0.3", .ipv6 = "fd00:192::3"}},
      .peers = {{.scope = PeerScope::kNode,
                 .peer_ip = "10.192.0.10",
                 .calico_node = true,
                 .rr_cluster_id = "224.0.0.1",
                 .origin = "BGPPeer to-rr"},
                {.scope = PeerScope::kGlobal,
                 .peer_ip = "10.225.0.4",
                 .as_number = 65000,
                 .source_address = SourceAddress::kNone,
                 .origin = "BGPPeer tor"}},
      .pools = {{.cidr = "10.244.0.0/16"}, {.cidr = "fd00:244::/48"}},
      .blocks = {"10.244.7.0/26", "fd00:244::/122"},
      .log_severity = "debug",
      .bind_node_ip = true,
      .ignored_interfaces = {"eth9", "ign*"},
      .communities = {{.cidr = "10.244.0.0/16", .communities = {"100:555:107", "65000:100"}},
                      {.cidr = "fd00:244::/48", .communities = {"65000:106"}}},
      .static_routes = {"10.96.0.0/12", "fd00:96::/112"},
      .reject_cidrs = {"10.96.0.0/12", "fd00:96::/112"},
      .service_load_balancer_ips = {"203.0.113.0/24"},
      .normal_route_priority_v4 = 512,
      .normal_route_priority_v6 = 256,
      .program_cluster_routes = ProgramClusterRoutes::kDisabled,
      .notes =
          {"BGPPeer tor password: secret bgp/tor cannot be read (/etc/calico/secrets/bgp/tor)"},
  };
}

// A route reflector with service ranges: it accepts (re-advertises) routes within the
// LoadBalancer and external ranges; "Warning" logging means no debug output.
BirdInput ReflectorServices() {
  BirdInput in = RouteReflector();
  in.log_severity = "Warning";
  in.service_load_balancer_ips = {"203.0.113.0/24", "203.0.113.7/32"};
  in.service_external_ips = {"198.51.100.0/24"};
  in.static_routes = {"198.51.100.0/24", "203.0.113.0/24"};
  in.reject_cidrs = {"198.51.100.0/24", "203.0.113.0/24"};
  return in;
}

struct Scenario {
  const char* name;
  BirdInput (*make)();
};

void PrintTo(const Scenario& scenario, std::ostream* os) {
  *os << scenario.name;
}

constexpr std::array<Scenario, 10> kScenarios = {{
    {"mesh_2node", TwoNodeMesh},
    {"global_peer_no_mesh", GlobalPeerNoMesh},
    {"route_reflector", RouteReflector},
    {"route_reflector_client", RouteReflectorClient},
    {"dual_stack", DualStack},
    {"vxlan", Vxlan},
    {"peer_options", PeerOptions},
    {"bgp_filters", Filters},
    {"cluster_settings", ClusterSettings},
    {"reflector_services", ReflectorServices},
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
  std::reverse(input.filters.begin(), input.filters.end());
  std::reverse(input.static_routes.begin(), input.static_routes.end());
  std::reverse(input.reject_cidrs.begin(), input.reject_cidrs.end());
  std::reverse(input.service_load_balancer_ips.begin(), input.service_load_balancer_ips.end());
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
                              "  ttl security off;\n"
                              "  multihop;\n"
                              "  passive on;\n"));
  BirdInput b = TwoNodeMesh();
  b.node_name = "node-b";
  b.router_id = b.ipv4 = "10.192.0.3";
  EXPECT_THAT(Render(b), HasSubstr("  neighbor 10.192.0.2 as 64512;\n  ttl security off;\n"
                                   "  multihop;\n  ipv4 {"));
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
                              "  ttl security off;\n"
                              "  multihop;\n"
                              "  passive on;\n"
                              "  rr client;\n"
                              "  rr cluster id 224.0.0.1;\n"));
  // Same cluster: a plain iBGP peering (and passive, "10.192.0.11" > "10.192.0.10").
  EXPECT_THAT(text, HasSubstr("protocol bgp Node_10_192_0_11 from bgp_template {\n"
                              "  local 10.192.0.10 as 64512;\n"
                              "  neighbor 10.192.0.11 as 64512;\n"
                              "  ttl security off;\n"
                              "  multihop;\n"
                              "  passive on;\n"
                              "  ipv4 {"));
  // Another cluster: reflected to like a client.
  EXPECT_THAT(text, HasSubstr("  neighbor 10.192.1.10 as 64512;\n  ttl security off;\n"
                              "  multihop;\n  passive on;\n  rr client;\n"));
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
  EXPECT_THAT(text, HasSubstr("calico_export_to_bgp_peers(false);\n      reject;"));
  EXPECT_THAT(text, HasSubstr("calico_export_to_bgp_peers(true);\n      reject;"));
}

TEST(BirdConfigTest, NodePeerDuplicatingGlobalPeerIsDropped) {
  BirdInput input = GlobalPeerNoMesh();
  input.peers = {{.scope = PeerScope::kNode, .peer_ip = "10.0.0.1", .as_number = 65001},
                 {.scope = PeerScope::kGlobal, .peer_ip = "10.0.0.1", .as_number = 65001}};
  const std::string text = Render(input);
  EXPECT_THAT(text, HasSubstr("protocol bgp Global_10_0_0_1 "));
  EXPECT_THAT(text,
              HasSubstr("# Node_10_0_0_1 (Node BGPPeer): skipped, duplicates a global peering."));
  EXPECT_THAT(text, Not(HasSubstr("protocol bgp Node_")));
}

// Two peerings of one protocol name make BIRD refuse the whole file ("Symbol ... already
// defined", which is how Calico reports it); the error names both sides before BIRD sees it.
TEST(BirdConfigTest, CollidingPeeringsAreRefused) {
  BirdInput input = GlobalPeerNoMesh();
  input.peers = {{.peer_ip = "10.0.0.1", .as_number = 65001, .origin = "BGPPeer a"},
                 {.peer_ip = "10.0.0.1", .as_number = 65002, .origin = "BGPPeer b"}};
  auto result = BuildBirdConfig(input);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(result.error().message(),
            "BGPPeer a and BGPPeer b both configure the peering Global_10_0_0_1: they collide "
            "(BIRD: Symbol 'Global_10_0_0_1' already defined)");

  BirdInput mesh = TwoNodeMesh();
  mesh.nodes.push_back({.name = "node-c", .ipv4 = "10.192.0.3"});
  result = BuildBirdConfig(mesh);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(),
            "nodes node-b and node-c have the same BGP address 10.192.0.3: their peerings "
            "collide (BIRD: Symbol 'Mesh_10_192_0_3' already defined)");
  // Without the mesh the two nodes do not collide.
  mesh.node_to_node_mesh = false;
  EXPECT_TRUE(BuildBirdConfig(mesh));

  // BIRD itself refuses such a file the same way (bird_parse_test, RefusesCollidingPeerings).
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
  // tunl0 routes are Felix's (BIRD 2 cannot program them), so never exported to iBGP peers.
  EXPECT_THAT(ipip, HasSubstr("|| (ifname ~ \"tunl0\")"));
  EXPECT_THAT(vxlan, HasSubstr("|| (ifname ~ \"tunl0\")"));
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
  EXPECT_THAT(text, HasSubstr("protocol static static_v6 {\n  ipv6;\n  # IP blocks for this host.\n"
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
      {"community",
       [](BirdInput& in) { in.communities = {{.cidr = "10.0.0.0/8", .communities = {"70000:1"}}}; },
       "\"70000:1\" is not a community"},
      {"service range", [](BirdInput& in) { in.static_routes = {"10.96.0.1/12"}; },
       "static route 10.96.0.1/12"},
      {"ignored interface quote", [](BirdInput& in) { in.ignored_interfaces = {"eth\"0"}; },
       "ignoredInterfaces"},
      {"ignored everything", [](BirdInput& in) { in.ignored_interfaces = {"*"}; },
       "would ignore every interface"},
      {"reachableBy family",
       [](BirdInput& in) { in.peers = {{.peer_ip = "10.0.0.1", .reachable_by = "fd00::1"}}; },
       "peer 10.0.0.1 reachable_by"},
      {"priority", [](BirdInput& in) { in.normal_route_priority_v4 = 0; }, "normal route priority"},
      {"keepalive 0",
       [](BirdInput& in) { in.peers = {{.peer_ip = "10.0.0.1", .keepalive_time = 0}}; },
       "peer 10.0.0.1: keepalive time 0 s: BIRD needs 1 to 65535"},
      {"filter name", [](BirdInput& in) { in.filters = {{.name = "it's"}}; },
       "BGPFilter it's: the name"},
      {"filter family",
       [](BirdInput& in) {
         in.filters = {
             {.name = "f",
              .spec = {.export_v4 = {{.cidr = "fd00::/8",
                                      .match_operator = model::v3::BGPFilterMatchOperator::kIn}}}}};
       },
       "BGPFilter f: exportV4[0]: cidr \"fd00::/8\" is not an IPv4 CIDR"},
      {"filter operator",
       [](BirdInput& in) {
         in.filters = {{.name = "f", .spec = {.import_v6 = {{.cidr = "fd00::/8"}}}}};
       },
       "importV6[0]: cidr and matchOperator must both be set"},
      {"filter prefix range",
       [](BirdInput& in) {
         in.filters = {
             {.name = "f",
              .spec = {.import_v4 = {{.cidr = "10.0.0.0/16",
                                      .prefix_length = {{.max = 8}},
                                      .match_operator = model::v3::BGPFilterMatchOperator::kIn}}}}};
       },
       "prefixLength allows no prefix length (16 to 8)"},
      {"filter interface",
       [](BirdInput& in) {
         in.filters = {{.name = "f", .spec = {.import_v4 = {{.interface = "a b"}}}}};
       },
       "importV4[0]: interface"},
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

// ---- BGPConfiguration, BGPPeer and BGPFilter fields ----

// The text of one `protocol bgp` block.
std::string SessionText(const std::string& config, const std::string& name) {
  const auto at = config.find("protocol bgp " + name + " ");
  if (at == std::string::npos) return "";
  return config.substr(at, config.find("\n}\n", at) + 3 - at);
}

// Filter functions as confd renders them (ported from confd/tests/compiled_templates/bgpfilter:
// match_operators, filter_names, peer_type, communities_and_operations, as_path_and_priority,
// match_source; the inputs are those tests' BGPFilters).
TEST(BirdFilterTest, FunctionsMatchConfd) {
  using model::v3::BGPFilterAction;
  using model::v3::BGPFilterMatchOperator;
  using model::v3::BGPFilterPeerType;
  BirdInput in = GlobalPeerNoMesh();
  auto rule = [](const char* cidr, BGPFilterMatchOperator op, BGPFilterAction action) {
    return model::v3::BGPFilterRule{.cidr = cidr, .match_operator = op, .action = action};
  };
  in.filters = {
      {.name = "test-filter-match-operators",
       .spec = {.import_v4 =
                    {rule("44.0.0.0/16", BGPFilterMatchOperator::kIn, BGPFilterAction::kAccept),
                     rule("44.1.0.0/16", BGPFilterMatchOperator::kNotIn, BGPFilterAction::kReject),
                     rule("44.2.0.0/16", BGPFilterMatchOperator::kEqual, BGPFilterAction::kAccept),
                     rule("44.3.0.0/16", BGPFilterMatchOperator::kNotEqual,
                          BGPFilterAction::kReject)}}},
      {.name = "46characters.exactly.so.should.truncate-123456",
       .spec = {.import_v4 = {rule("44.2.0.0/16", BGPFilterMatchOperator::kIn,
                                   BGPFilterAction::kAccept)}}},
      {.name = "45characters.exactly.so.should.not.truncate-1",
       .spec = {.import_v4 = {rule("44.0.0.0/16", BGPFilterMatchOperator::kIn,
                                   BGPFilterAction::kAccept)}}},
      {.name = "test-filter-peertype",
       .spec = {.export_v4 = {{.cidr = "10.0.0.0/8",
                               .match_operator = BGPFilterMatchOperator::kIn,
                               .peer_type = BGPFilterPeerType::kEBGP,
                               .action = BGPFilterAction::kAccept},
                              {.cidr = "172.16.0.0/12",
                               .match_operator = BGPFilterMatchOperator::kIn,
                               .peer_type = BGPFilterPeerType::kIBGP,
                               .action = BGPFilterAction::kReject},
                              {.action = BGPFilterAction::kReject}}}},
      {.name = "test-filter-communities-ops",
       .spec = {.export_v4 = {{.communities = {"65000:42"},
                               .action = BGPFilterAction::kAccept,
                               .operations = {{.add_community = "65001:200"},
                                              {.prepend_as_path = {65000}}}}},
                .import_v4 = {{.communities = {"65000:100"},
                               .action = BGPFilterAction::kAccept,
                               .operations = {{.set_priority = 256}}},
                              {.action = BGPFilterAction::kReject}}}},
      {.name = "test-filter-aspath-prio",
       .spec = {.export_v4 = {{.priority = 200,
                               .action = BGPFilterAction::kAccept,
                               .operations = {{.prepend_as_path = {65000, 65001}}}}},
                .import_v4 = {{.as_path_prefix = {65000, 65001},
                               .action = BGPFilterAction::kAccept,
                               .operations = {{.set_priority = 200}}}}}},
      {.name = "test-filter-match-source",
       .spec = {.export_v4 = {{.source_remote_peers = true, .action = BGPFilterAction::kAccept}}}},
  };
  const std::string text = Render(in);
  for (const char* expected : {
           "# v4 BGPFilter test-filter-match-operators\n"
           "function 'bgp_test-filter-match-operators_importFilterV4'() {\n"
           "  if ((net ~ 44.0.0.0/16)) then { accept; }\n"
           "  if ((net !~ 44.1.0.0/16)) then { reject; }\n"
           "  if ((net = 44.2.0.0/16)) then { accept; }\n"
           "  if ((net != 44.3.0.0/16)) then { reject; }\n"
           "}\n",
           "function 'bgp_45characters.exactly.so.should.not.truncate-1_importFilterV4'() {\n",
           "function 'bgp_46characters.exactly.so.shou_9615CBDC00BAC628_importFilterV4'() {\n",
           "function 'bgp_test-filter-peertype_exportFilterV4'(bool is_same_as) {\n"
           "  if (!is_same_as) then { if ((net ~ 10.0.0.0/8)) then { accept; } }\n"
           "  if (is_same_as) then { if ((net ~ 172.16.0.0/12)) then { reject; } }\n"
           "  reject;\n"
           "}\n",
           "function 'bgp_test-filter-communities-ops_importFilterV4'() {\n"
           "  if (((65000, 100) ~ bgp_community)) then { bgp_local_pref = 2147483391; accept; }\n"
           "  reject;\n"
           "}\n",
           "  if (((65000, 42) ~ bgp_community)) then { bgp_community.add((65001, 200)); "
           "bgp_path.prepend(65000); accept; }\n",
           "  if ((bgp_path ~ [= 65000 65001 * =])) then { bgp_local_pref = 2147483447; accept; "
           "}\n",
           "  if ((defined(bgp_local_pref)&&(bgp_local_pref = 2147483447))) then { "
           "bgp_path.prepend(65001); bgp_path.prepend(65000); accept; }\n",
           "  if (((defined(source))&&(source ~ [ RTS_BGP ]))) then { accept; }\n",
       }) {
    EXPECT_THAT(text, HasSubstr(expected));
  }
  // No export rules, no export function.
  EXPECT_THAT(text, Not(HasSubstr("test-filter-match-operators_exportFilterV4")));
}

// A peer's BGPFilters run in the peer's order, before Calico's own export policy (bgp_processor.go
// buildImportFilter / buildExportFilter); a filter with peer-type rules is told whether the peer
// is in the same AS; filters without rules for the direction or family are not called.
TEST(BirdFilterTest, PeersCallTheirFiltersInOrder) {
  const std::string text = Render(Filters());
  const std::string v4 = SessionText(text, "Global_10_225_0_4");
  EXPECT_THAT(
      v4, HasSubstr("    import filter {\n"
                    "      'bgp_greater-than-64-characters.s_4C5DB3273E544641_importFilterV4'();\n"
                    "      'bgp_match_importFilterV4'();\n"
                    "      if (defined(bgp_local_pref) && (bgp_local_pref > 2147482623)) "
                    "then preference = 200;\n"
                    "      accept;\n"
                    "    };\n"));
  EXPECT_THAT(v4, HasSubstr("      'bgp_match_exportFilterV4'();\n"
                            "      'bgp_peer-type_exportFilterV4'(false);\n"
                            "      calico_export_to_bgp_peers(false);\n"
                            "      reject;\n"));
  const std::string v6 = SessionText(text, "Global_fd00_225__4");
  EXPECT_THAT(v6, HasSubstr("      'bgp_match_importFilterV6'();\n"));
  EXPECT_THAT(v6, HasSubstr("      'bgp_match_exportFilterV6'();\n"
                            "      'bgp_peer-type_exportFilterV6'(true);\n"
                            "      calico_export_to_bgp_peers(true);\n"));
  EXPECT_THAT(text, HasSubstr("  if ((net ~ [ 44.0.0.0/8{16,24} ])&&((defined(source))&&(source ~ "
                              "[ RTS_BGP ]))) then { accept; }\n"));
  EXPECT_THAT(text, HasSubstr("  if ((net ~ [ fd00:244::/48{48,64} ])) then { accept; }\n"));
  EXPECT_THAT(text,
              HasSubstr("  if (((defined(ifname))&&(ifname ~ \"eth*\"))) then { reject; }\n"));
  EXPECT_THAT(text, HasSubstr("  if (((65000, 1, 2) ~ bgp_large_community)&&(bgp_path ~ [= 65000 "
                              "65001 * =])) then { bgp_community.add((65001, 200)); "
                              "bgp_path.prepend(65001); bgp_path.prepend(65000); accept; }\n"));
  // The mesh has no BGPFilters (confd passes none for mesh peers).
  EXPECT_THAT(SessionText(text, "Mesh_10_192_0_3"), Not(HasSubstr("'bgp_")));
  EXPECT_THAT(text, Not(HasSubstr("'bgp_empty_")));
}

TEST(BirdConfigTest, PeerOptions) {
  const std::string text = Render(PeerOptions());
  const std::string tor = SessionText(text, "Global_10_225_0_4");
  EXPECT_THAT(tor, HasSubstr("  local 10.192.0.2 as 65100;\n  neighbor 10.225.0.4 as 65515;\n"
                             "  ttl security on;\n  multihop 1;\n"));
  EXPECT_THAT(tor, HasSubstr("  graceful restart time 300;\n  keepalive time 10;\n"));
  EXPECT_THAT(tor, HasSubstr("  password \"tor-secret\";\n  allow local as 2;\n"));
  EXPECT_THAT(tor, HasSubstr("    next hop keep;\n"));
  EXPECT_THAT(tor, HasSubstr("'bgp_tor-export_exportFilterV4'();\n"));
  EXPECT_THAT(tor, Not(HasSubstr("missing")));
  // reachableBy: a static route to the peer through the gateway.
  EXPECT_THAT(text, HasSubstr("  # Static routes needed for BGP peers (reachableBy).\n"
                              "  route 10.225.0.4/32 via 10.192.0.1;\n"));
  // iBGP with nextHopMode Self.
  const std::string rr = SessionText(text, "Global_10_225_0_5");
  EXPECT_THAT(rr, HasSubstr("    next hop self;\n"));
  EXPECT_THAT(rr, HasSubstr("calico_export_to_bgp_peers(true);"));
  // The legacy keepOriginalNextHop (eBGP), without a source address.
  const std::string legacy = SessionText(text, "Node_10_225_0_6");
  EXPECT_THAT(legacy, HasSubstr("  local as 64512;\n"));
  EXPECT_THAT(legacy, HasSubstr("    next hop keep;\n"));
}

TEST(BirdConfigTest, NextHopModes) {
  BirdInput in = GlobalPeerNoMesh();
  in.peers = {{.peer_ip = "10.0.0.1", .as_number = 65001, .next_hop_mode = NextHopMode::kAuto},
              {.peer_ip = "10.0.0.2", .as_number = 65001, .next_hop_mode = NextHopMode::kSelf},
              {.peer_ip = "10.0.0.3", .as_number = 64512, .next_hop_mode = NextHopMode::kKeep},
              {.peer_ip = "10.0.0.4", .as_number = 64512, .keep_original_next_hop = true},
              // localASNumber makes an eBGP session of a peer in the node's AS.
              {.peer_ip = "10.0.0.5",
               .as_number = 64512,
               .local_as_number = 65005,
               .keep_original_next_hop = true}};
  const std::string text = Render(in);
  EXPECT_THAT(SessionText(text, "Global_10_0_0_1"), Not(HasSubstr("next hop")));
  EXPECT_THAT(SessionText(text, "Global_10_0_0_2"), HasSubstr("next hop self;"));
  EXPECT_THAT(SessionText(text, "Global_10_0_0_3"), HasSubstr("next hop keep;"));
  EXPECT_THAT(SessionText(text, "Global_10_0_0_4"), Not(HasSubstr("next hop")));
  const std::string local_as = SessionText(text, "Global_10_0_0_5");
  EXPECT_THAT(local_as, HasSubstr("  local 10.192.0.2 as 65005;\n"));
  EXPECT_THAT(local_as, HasSubstr("next hop keep;"));
  EXPECT_THAT(local_as, HasSubstr("calico_export_to_bgp_peers(false);"));
}

TEST(BirdConfigTest, MeshPasswordAndRestartTime) {
  const std::string text = Render(ClusterSettings());
  const std::string mesh = SessionText(text, "Mesh_10_192_0_3");
  EXPECT_THAT(mesh, HasSubstr("  graceful restart time 30;\n"));
  EXPECT_THAT(mesh, HasSubstr("  password \"mesh-secret\";\n"));
  // Only the mesh: the explicit peers have their own (none here).
  EXPECT_THAT(SessionText(text, "Global_10_225_0_4"), Not(HasSubstr("password")));
  EXPECT_THAT(SessionText(text, "Global_10_225_0_4"), Not(HasSubstr("graceful restart time")));
}

TEST(BirdConfigTest, CommunitiesAreAddedOnExport) {
  const std::string text = Render(ClusterSettings());
  EXPECT_THAT(text, HasSubstr("function apply_communities() {\n"
                              "  if ( net ~ 10.244.0.0/16 ) then {\n"
                              "    bgp_large_community.add((100, 555, 107));\n"
                              "    bgp_community.add((65000, 100));\n"
                              "  }\n"
                              "  if ( net ~ fd00:244::/48 ) then {\n"
                              "    bgp_community.add((65000, 106));\n"
                              "  }\n"
                              "}\n"));
  EXPECT_THAT(text,
              HasSubstr("  reject_local_routes();\n  apply_communities();\n  calico_aggr();\n"));
}

TEST(BirdConfigTest, ServiceRangesAreOriginatedButNotProgrammed) {
  const std::string text = Render(ClusterSettings());
  EXPECT_THAT(text, HasSubstr("  # Service address ranges advertised from this host.\n"
                              "  route 10.96.0.0/12 blackhole;\n"));
  EXPECT_THAT(text, HasSubstr("  route fd00:96::/112 blackhole;\n"));
  EXPECT_THAT(text, HasSubstr("  calico_aggr();\n  # Service address ranges advertised from this "
                              "host.\n  if ( net ~ 10.96.0.0/12 ) then { accept; }\n"));
  EXPECT_THAT(text, HasSubstr("filter calico_kernel_programming {\n"
                              "  # Service address ranges are never programmed into the kernel.\n"
                              "  if ( net ~ 10.96.0.0/12 ) then { reject; }\n"));
  EXPECT_THAT(text, HasSubstr("filter calico_kernel_programming_v6 {\n"
                              "  # Service address ranges are never programmed into the kernel.\n"
                              "  if ( net ~ fd00:96::/112 ) then { reject; }\n"));
  // Not a route reflector: no acceptance of the LoadBalancer ranges learned from others.
  EXPECT_THAT(text, Not(HasSubstr("203.0.113.0/24")));
  const std::string rr = Render(ReflectorServices());
  EXPECT_THAT(rr,
              HasSubstr("  # A route reflector: accept routes within the LoadBalancer service IP "
                        "ranges.\n  if ( net ~ 203.0.113.0/24 ) then { accept; }\n"
                        "  if ( net ~ 203.0.113.7/32 ) then { accept; }\n"
                        "  # A route reflector: accept routes within the external service IP "
                        "ranges.\n  if ( net ~ 198.51.100.0/24 ) then { accept; }\n"));
}

TEST(BirdConfigTest, BindModeIgnoredInterfacesAndDebug) {
  const std::string text = Render(ClusterSettings());
  EXPECT_THAT(text,
              HasSubstr("  interface -\"eth9\", -\"ign*\", -\"cali*\", -\"kube-ipvs*\", \"*\";\n"));
  // IPv6: every session has the node's address, so all are bound.
  EXPECT_THAT(SessionText(text, "Mesh_fd00_192__3"),
              HasSubstr("  strict bind on;  # bindMode NodeIP\n"));
  // IPv4: the ToR session has no source address; a bound and an unbound socket on one port
  // collide in BIRD 2, so no IPv4 session is bound.
  EXPECT_THAT(SessionText(text, "Mesh_10_192_0_3"), Not(HasSubstr("strict bind")));
  EXPECT_THAT(text, HasSubstr("# bindMode NodeIP: IPv4 sessions not bound to the node's address, "
                              "as one has no source address (sourceAddress None).\n"));
  EXPECT_THAT(text, HasSubstr("protocol device {\n  debug all;\n"));
  EXPECT_THAT(text, HasSubstr("template bgp bgp_template {\n  debug all;\n"));

  BirdInput info = TwoNodeMesh();
  const std::string info_text = Render(info);
  EXPECT_THAT(info_text, HasSubstr("protocol direct {\n  debug { states };\n"));
  EXPECT_THAT(info_text, HasSubstr("  debug { states, routes, filters, events };\n"));
  EXPECT_THAT(info_text, Not(HasSubstr("strict bind")));
  // confd maps any other level (Warning, Error, Fatal, Trace, None) to no debug output.
  for (const char* level : {"Warning", "none", "Trace"}) {
    info.log_severity = level;
    EXPECT_THAT(Render(info), Not(HasSubstr("debug"))) << level;
  }
}

TEST(BirdConfigTest, RoutePrioritiesAndClusterRoutes) {
  const std::string text = Render(ClusterSettings());
  EXPECT_THAT(text,
              HasSubstr("if ( net ~ 10.244.7.0/26 && defined(krt_metric) && krt_metric < 512 )"));
  EXPECT_THAT(text,
              HasSubstr("if ( net ~ fd00:244::/122 && defined(krt_metric) && krt_metric < 256 )"));
  EXPECT_THAT(text, HasSubstr("filter calico_kernel_programming {\n"));
  EXPECT_THAT(text, HasSubstr("    krt_metric = 512;\n"));
  EXPECT_THAT(text, HasSubstr("    krt_metric = 256;\n"));
  EXPECT_THAT(SessionText(text, "Mesh_10_192_0_3"),
              HasSubstr("(bgp_local_pref > 2147483135)) then preference = 200;"));
  EXPECT_THAT(SessionText(text, "Mesh_fd00_192__3"),
              HasSubstr("if (!defined(krt_metric)) then { krt_metric = 256; }"));
  // programClusterRoutes Disabled: BIRD programs no pool's routes.
  EXPECT_THAT(text, HasSubstr("  if ( net ~ 10.244.0.0/16 ) then { reject; } # Cluster routes are "
                              "handled by Felix.\n"));
  BirdInput ipip_only = TwoNodeMesh();
  ipip_only.program_cluster_routes = ProgramClusterRoutes::kEnabledIPIPOnly;
  EXPECT_THAT(Render(ipip_only),
              HasSubstr("  if ( net ~ 10.244.0.0/16 ) then { reject; } # Cluster "
                        "routes are handled by Felix.\n"));
  EXPECT_THAT(Render(TwoNodeMesh()), HasSubstr("  if ( net ~ 10.244.0.0/16 ) then { accept; }\n"));
}

TEST(BirdConfigTest, NotesBecomeComments) {
  const std::string text = Render(ClusterSettings());
  EXPECT_THAT(text, HasSubstr("\n# Note: BGPPeer tor password: secret bgp/tor cannot be read "
                              "(/etc/calico/secrets/bgp/tor)\n"));
}

// calicoctl node diags copies bird.conf through base::Redact (base/redact.h): every password the
// renderer writes is caught by it, and nothing else changes.
TEST(BirdConfigTest, PasswordsAreRedactedForDiagnostics) {
  const std::string text = Render(ClusterSettings());
  ASSERT_THAT(text, HasSubstr("mesh-secret"));
  const std::string redacted = base::Redact(text);
  EXPECT_THAT(redacted, Not(HasSubstr("mesh-secret")));
  EXPECT_THAT(redacted, HasSubstr("  password \"<redacted>\";\n"));
  EXPECT_EQ(std::count(redacted.begin(), redacted.end(), '\n'),
            std::count(text.begin(), text.end(), '\n'));
}

TEST(BirdConfigTest, AllScenariosValidate) {
  for (const Scenario& s : kScenarios) {
    EXPECT_TRUE(ValidateBirdInput(s.make()).has_value()) << s.name;
  }
}

}  // namespace
}  // namespace calico::bird
