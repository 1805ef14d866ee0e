// Decoding the BGP kinds: every field reaches its struct member, defaults are Go's zero values,
// and malformed stored values are errors naming the resource and field (never a crash).
#include "calico/model/v3/bgp.h"

#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace calico::model::v3 {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

Resource Make(std::string_view kind, std::string_view name, const char* spec_json) {
  Resource r(kind, name);
  r.spec() = Json::parse(spec_json);
  return r;
}

TEST(ASNumberTest, PlainAndDottedForms) {
  EXPECT_EQ(ParseASNumber("64512"), 64512u);
  EXPECT_EQ(ParseASNumber("1.10"), 65546u);
  EXPECT_EQ(ParseASNumber("4294967295"), 4294967295u);
  EXPECT_EQ(ParseASNumber("4294967296"), std::nullopt);
  EXPECT_EQ(ParseASNumber("0"), std::nullopt);
  EXPECT_EQ(ParseASNumber("65536.1"), std::nullopt);
  EXPECT_EQ(ParseASNumber("1..2"), std::nullopt);
  EXPECT_EQ(ParseASNumber(""), std::nullopt);
  EXPECT_EQ(ParseASNumber("-1"), std::nullopt);
}

TEST(DecodeBGPPeerTest, EveryField) {
  auto peer = DecodeBGPPeer(Make("BGPPeer", "tor", R"({
    "nodeSelector": "rack == 'a'", "peerIP": "10.0.0.1:1179", "asNumber": "65000",
    "localASNumber": 65100, "nextHopMode": "Self",
    "password": {"secretKeyRef": {"name": "bgp", "key": "tor"}},
    "sourceAddress": "None", "maxRestartTime": "2m", "keepaliveTime": "10s",
    "numAllowedLocalASNumbers": 2, "ttlSecurity": 3, "reachableBy": "10.0.0.254",
    "filters": ["f1", "f2"], "reversePeering": "Manual"})"));
  ASSERT_TRUE(peer) << peer.error().message();
  const BGPPeerSpec& s = peer->spec;
  EXPECT_EQ(peer->name, "tor");
  EXPECT_EQ(s.node_selector, "rack == 'a'");
  EXPECT_EQ(s.peer_ip, "10.0.0.1:1179");
  EXPECT_EQ(s.as_number, 65000u);
  EXPECT_EQ(s.local_as_number, 65100u);
  EXPECT_EQ(s.next_hop_mode, NextHopMode::kSelf);
  ASSERT_TRUE(s.password && s.password->secret_key_ref);
  EXPECT_EQ(s.password->secret_key_ref->name, "bgp");
  EXPECT_EQ(s.password->secret_key_ref->key, "tor");
  EXPECT_EQ(s.source_address, SourceAddress::kNone);
  EXPECT_EQ(s.max_restart_time, std::chrono::nanoseconds(2min));
  EXPECT_EQ(s.keepalive_time, std::chrono::nanoseconds(10s));
  EXPECT_EQ(s.num_allowed_local_as_numbers, 2);
  EXPECT_EQ(s.ttl_security, 3);
  EXPECT_EQ(s.reachable_by, "10.0.0.254");
  EXPECT_THAT(s.filters, ElementsAre("f1", "f2"));
  EXPECT_EQ(s.reverse_peering, ReversePeering::kManual);
}

TEST(DecodeBGPPeerTest, DefaultsAreGoZeroValues) {
  auto peer = DecodeBGPPeer(Make("BGPPeer", "p", R"({"peerIP": "10.0.0.1", "asNumber": 0})"));
  ASSERT_TRUE(peer) << peer.error().message();
  EXPECT_EQ(peer->spec.as_number, std::nullopt);
  EXPECT_EQ(peer->spec.source_address, SourceAddress::kUseNodeIP);
  EXPECT_FALSE(peer->spec.keep_original_next_hop);
  EXPECT_FALSE(peer->spec.next_hop_mode);
  EXPECT_FALSE(peer->spec.ttl_security);
  EXPECT_TRUE(peer->spec.filters.empty());
}

TEST(DecodeBGPPeerTest, MalformedValuesNameTheField) {
  struct Case {
    const char* spec;
    const char* message;
  };
  for (const Case& c : {
           Case{R"({"ttlSecurity": 300})", "BGPPeer bad: spec.ttlSecurity: must be an integer"},
           Case{R"({"asNumber": "x"})", "spec.asNumber: not an AS number"},
           Case{R"({"asNumber": -5})", "spec.asNumber"},
           Case{R"({"keepaliveTime": "soon"})", "spec.keepaliveTime: not a duration"},
           Case{R"({"maxRestartTime": "-1s"})", "spec.maxRestartTime: must not be negative"},
           Case{R"({"nextHopMode": "self"})", "spec.nextHopMode: unknown value \"self\""},
           Case{R"({"filters": [1]})", "spec.filters[0]: must be a string"},
           Case{R"({"password": {"secretKeyRef": {"name": "n"}}})",
                "spec.password.secretKeyRef.key: is required"},
           Case{R"({"peerIP": ["10.0.0.1"]})", "spec.peerIP: must be a string"},
       }) {
    auto peer = DecodeBGPPeer(Make("BGPPeer", "bad", c.spec));
    ASSERT_FALSE(peer) << c.spec;
    EXPECT_EQ(peer.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(peer.error().message(), HasSubstr(c.message)) << c.spec;
  }
}

TEST(DecodeBGPConfigurationTest, EveryField) {
  auto config = DecodeBGPConfiguration(Make("BGPConfiguration", "default", R"({
    "logSeverityScreen": "Debug", "nodeToNodeMeshEnabled": false, "asNumber": 64513,
    "serviceLoadBalancerIPs": [{"cidr": "203.0.113.0/24"}, {}],
    "serviceExternalIPs": [{"cidr": "198.51.100.0/24"}],
    "serviceClusterIPs": [{"cidr": "10.96.0.0/12"}],
    "serviceLoadBalancerAggregation": "Disabled",
    "communities": [{"name": "lab", "value": "65000:100"}],
    "prefixAdvertisements": [{"cidr": "10.65.0.0/16", "communities": ["lab", "1:2:3"]}],
    "listenPort": 1790, "nodeMeshPassword": {"secretKeyRef": {"name": "s", "key": "k"}},
    "nodeMeshMaxRestartTime": "30s", "bindMode": "NodeIP", "ignoredInterfaces": ["eth9"],
    "localWorkloadPeeringIPV4": "169.254.0.179", "localWorkloadPeeringIPV6": "fe80::179",
    "programClusterRoutes": "Disabled", "ipv4NormalRoutePriority": 512,
    "ipv6NormalRoutePriority": 256})"));
  ASSERT_TRUE(config) << config.error().message();
  const BGPConfigurationSpec& s = config->spec;
  EXPECT_EQ(s.log_severity_screen, "Debug");
  EXPECT_EQ(s.node_to_node_mesh_enabled, false);
  EXPECT_EQ(s.as_number, 64513u);
  EXPECT_THAT(s.service_load_balancer_ips, ElementsAre("203.0.113.0/24"));
  EXPECT_THAT(s.service_external_ips, ElementsAre("198.51.100.0/24"));
  EXPECT_THAT(s.service_cluster_ips, ElementsAre("10.96.0.0/12"));
  EXPECT_EQ(s.service_load_balancer_aggregation, ServiceLoadBalancerAggregation::kDisabled);
  ASSERT_EQ(s.communities.size(), 1u);
  EXPECT_EQ(s.communities[0], (Community{.name = "lab", .value = "65000:100"}));
  ASSERT_EQ(s.prefix_advertisements.size(), 1u);
  EXPECT_EQ(s.prefix_advertisements[0].cidr, "10.65.0.0/16");
  EXPECT_THAT(s.prefix_advertisements[0].communities, ElementsAre("lab", "1:2:3"));
  EXPECT_EQ(s.listen_port, 1790);
  ASSERT_TRUE(s.node_mesh_password && s.node_mesh_password->secret_key_ref);
  EXPECT_EQ(s.node_mesh_password->secret_key_ref->key, "k");
  EXPECT_EQ(s.node_mesh_max_restart_time, std::chrono::nanoseconds(30s));
  EXPECT_EQ(s.bind_mode, BindMode::kNodeIP);
  EXPECT_THAT(s.ignored_interfaces, ElementsAre("eth9"));
  EXPECT_EQ(s.local_workload_peering_ipv4, "169.254.0.179");
  EXPECT_EQ(s.local_workload_peering_ipv6, "fe80::179");
  EXPECT_EQ(s.program_cluster_routes, ProgramClusterRoutes::kDisabled);
  EXPECT_EQ(s.ipv4_normal_route_priority, 512);
  EXPECT_EQ(s.ipv6_normal_route_priority, 256);
}

TEST(DecodeBGPConfigurationTest, Errors) {
  auto bad =
      DecodeBGPConfiguration(Make("BGPConfiguration", "default", R"({"listenPort": 70000})"));
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(),
              HasSubstr("BGPConfiguration default: spec.listenPort: must be an integer from 0"));
  bad = DecodeBGPConfiguration(
      Make("BGPConfiguration", "default", R"({"prefixAdvertisements": [{"cidr": 5}]})"));
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), HasSubstr("spec.prefixAdvertisements[0].cidr"));
  bad = DecodeBGPConfiguration(Make("BGPConfiguration", "default", R"({"bindMode": "All"})"));
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), HasSubstr("one of None, NodeIP"));
}

TEST(DecodeBGPFilterTest, RulesKeepTheirOrderAndFields) {
  auto filter = DecodeBGPFilter(Make("BGPFilter", "f", R"({
    "exportV4": [
      {"cidr": "10.0.0.0/8", "matchOperator": "In", "prefixLength": {"min": 16, "max": 24},
       "source": "RemotePeers", "interface": "eth*", "action": "Reject"},
      {"peerType": "iBGP", "communities": {"values": ["65000:1"]}, "asPathPrefix": [65001, "65002"],
       "priority": 512, "action": "Accept",
       "operations": [{"addCommunity": {"value": "1:2:3"}}, {"prependASPath": {"prefix": [65010]}},
                      {"setPriority": {"value": 100}}]}],
    "importV6": [{"cidr": "fd00::/8", "matchOperator": "NotEqual", "action": "Accept"}]})"));
  ASSERT_TRUE(filter) << filter.error().message();
  ASSERT_EQ(filter->spec.export_v4.size(), 2u);
  const BGPFilterRule& first = filter->spec.export_v4[0];
  EXPECT_EQ(first.cidr, "10.0.0.0/8");
  EXPECT_EQ(first.match_operator, BGPFilterMatchOperator::kIn);
  EXPECT_EQ(first.prefix_length, (BGPFilterPrefixLength{.min = 16, .max = 24}));
  EXPECT_TRUE(first.source_remote_peers);
  EXPECT_EQ(first.interface, "eth*");
  EXPECT_EQ(first.action, BGPFilterAction::kReject);
  const BGPFilterRule& second = filter->spec.export_v4[1];
  EXPECT_EQ(second.peer_type, BGPFilterPeerType::kIBGP);
  EXPECT_THAT(second.communities, ElementsAre("65000:1"));
  EXPECT_THAT(second.as_path_prefix, ElementsAre(65001u, 65002u));
  EXPECT_EQ(second.priority, 512);
  ASSERT_EQ(second.operations.size(), 3u);
  EXPECT_EQ(second.operations[0].add_community, "1:2:3");
  EXPECT_THAT(second.operations[1].prepend_as_path, ElementsAre(65010u));
  EXPECT_EQ(second.operations[2].set_priority, 100);
  EXPECT_TRUE(filter->spec.import_v4.empty());
  ASSERT_EQ(filter->spec.import_v6.size(), 1u);
  EXPECT_EQ(filter->spec.import_v6[0].match_operator, BGPFilterMatchOperator::kNotEqual);
}

TEST(DecodeBGPFilterTest, Errors) {
  struct Case {
    const char* spec;
    const char* message;
  };
  for (const Case& c : {
           Case{R"({"exportV4": [{"cidr": "10.0.0.0/8"}]})",
                "BGPFilter f: spec.exportV4[0].action: is required"},
           Case{R"({"importV4": [{"action": "Drop"}]})", "spec.importV4[0].action: unknown value"},
           Case{R"({"exportV6": [{"prefixLength": {"max": 129}, "action": "Accept"}]})",
                "spec.exportV6[0].prefixLength.max: must be an integer from 0 to 128"},
           Case{R"({"exportV4": [{"action": "Accept", "operations": [{}]}]})",
                "spec.exportV4[0].operations[0]: exactly one of"},
           Case{R"({"exportV4": "all"})", "spec.exportV4: must be a list"},
       }) {
    auto filter = DecodeBGPFilter(Make("BGPFilter", "f", c.spec));
    ASSERT_FALSE(filter) << c.spec;
    EXPECT_THAT(filter.error().message(), HasSubstr(c.message)) << c.spec;
  }
}

TEST(DecodeNodeBGPTest, SpecLabelsAndClusterIDForms) {
  Resource node("Node", "n1");
  node.metadata()["labels"] = Json{{"route-reflector", "true"}};
  node.spec() = Json::parse(
      R"({"bgp": {"ipv4Address": "10.0.0.5/24", "ipv6Address": "fd00::5/64", "asNumber": "1.10"}})");
  auto decoded = DecodeNodeBGP(node);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->labels.at("route-reflector"), "true");
  ASSERT_TRUE(decoded->bgp);
  EXPECT_EQ(decoded->bgp->ipv4_address, "10.0.0.5/24");
  EXPECT_EQ(decoded->bgp->ipv6_address, "fd00::5/64");
  EXPECT_EQ(decoded->bgp->as_number, 65546u);
  EXPECT_EQ(decoded->bgp->route_reflector_cluster_id, "");

  // The Kubernetes datastore's annotation form, then the label form; spec.bgp wins over both.
  node.metadata()["annotations"] = Json{{"projectcalico.org/RouteReflectorClusterID", "224.0.0.1"}};
  EXPECT_EQ(DecodeNodeBGP(node)->bgp->route_reflector_cluster_id, "224.0.0.1");
  node.metadata().erase("annotations");
  node.metadata()["labels"]["projectcalico.org/RouteReflectorClusterID"] = "224.0.0.2";
  EXPECT_EQ(DecodeNodeBGP(node)->bgp->route_reflector_cluster_id, "224.0.0.2");
  node.spec()["bgp"]["routeReflectorClusterID"] = "224.0.0.3";
  EXPECT_EQ(DecodeNodeBGP(node)->bgp->route_reflector_cluster_id, "224.0.0.3");
  // An annotation that is not an IPv4 address is ignored, as the Kubernetes backend does.
  node.spec()["bgp"].erase("routeReflectorClusterID");
  node.metadata()["labels"]["projectcalico.org/RouteReflectorClusterID"] = "rack-1";
  EXPECT_EQ(DecodeNodeBGP(node)->bgp->route_reflector_cluster_id, "");

  Resource plain("Node", "n2");
  auto none = DecodeNodeBGP(plain);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->bgp);

  plain.spec() = Json::parse(R"({"bgp": {"asNumber": true}})");
  auto bad = DecodeNodeBGP(plain);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), HasSubstr("Node n2: spec.bgp.asNumber"));
}

}  // namespace
}  // namespace calico::model::v3
