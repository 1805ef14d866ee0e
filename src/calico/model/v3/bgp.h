// Typed projectcalico.org/v3 BGP resources: BGPPeer, BGPConfiguration, BGPFilter, and the BGP part
// of a Node (api/pkg/apis/projectcalico/v3: bgppeer.go, bgpconfig.go, bgpfilter.go, node.go's
// NodeBGPSpec). Each kind is decoded once from a model::Resource into a plain struct, so the BGP
// code (bird/bird_inputs.cc) never walks JSON.
//
//   model::Resource ──DecodeBGPPeer / DecodeBGPConfiguration / DecodeBGPFilter──> v3 struct
//                   ──DecodeNodeBGP──> NodeBGP (labels, spec.bgp)
//
// Field names follow the Go types (BGPPeerSpec.PeerIP -> peer_ip). An optional Go pointer is a
// std::optional; an omitempty string or list is empty when unset. Durations (metav1.Duration) are
// kept in nanoseconds as Go's time.Duration. The decoders expect resources that passed model
// validation, but stored values may come from elsewhere (an etcd written by another tool): any
// value of the wrong shape is an error naming the resource and the field, never a crash.
//
// Thread-safety: values and pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::model::v3 {

// numorstring.ASNumber: 1..4294967295, written as a JSON number, a plain string ("64512") or in
// dotted notation ("1.10" = 1 * 65536 + 10).
using ASNumber = uint32_t;
// Parses the text forms of an AS number. nullopt for 0, out of range or malformed text.
std::optional<ASNumber> ParseASNumber(std::string_view text);

// k8s SecretKeySelector: key `key` of Secret `name` (in calico-node's namespace upstream; here a
// file <secrets dir>/<name>/<key>, see bird/bird_inputs.h).
struct SecretKeySelector {
  std::string name{};
  std::string key{};
  bool optional = false;

  bool operator==(const SecretKeySelector&) const = default;
};

// BGPPassword: only the secretKeyRef form exists.
struct BGPPassword {
  std::optional<SecretKeySelector> secret_key_ref{};

  bool operator==(const BGPPassword&) const = default;
};

// ---- BGPPeer (bgppeer.go) ----

enum class SourceAddress { kUseNodeIP, kNone };
enum class NextHopMode { kAuto, kSelf, kKeep };
enum class ReversePeering { kAuto, kManual };

struct BGPPeerSpec {
  std::string node{};
  std::string node_selector{};
  // As written: "10.0.0.1", "10.0.0.1:1179", "fd00::1" or "[fd00::1]:1179".
  std::string peer_ip{};
  std::optional<ASNumber> as_number{};  // Absent or 0: the global AS.
  std::optional<ASNumber> local_as_number{};
  std::string peer_selector{};
  bool keep_original_next_hop = false;  // Deprecated by next_hop_mode.
  std::optional<NextHopMode> next_hop_mode{};
  std::optional<BGPPassword> password{};
  SourceAddress source_address = SourceAddress::kUseNodeIP;  // "" = UseNodeIP.
  std::optional<std::chrono::nanoseconds> max_restart_time{};
  std::optional<std::chrono::nanoseconds> keepalive_time{};
  std::optional<int32_t> num_allowed_local_as_numbers{};
  std::optional<uint8_t> ttl_security{};
  std::string reachable_by{};
  std::vector<std::string> filters{};
  std::string local_workload_selector{};
  std::optional<ReversePeering> reverse_peering{};

  bool operator==(const BGPPeerSpec&) const = default;
};

struct BGPPeer {
  std::string name{};
  BGPPeerSpec spec{};

  bool operator==(const BGPPeer&) const = default;
};

// Errors: kInvalidArgument "BGPPeer <name>: spec.<field>: <why>".
[[nodiscard]] Result<BGPPeer> DecodeBGPPeer(const Resource& resource);

// ---- BGPConfiguration (bgpconfig.go) ----

enum class BindMode { kNone, kNodeIP };
enum class ServiceLoadBalancerAggregation { kEnabled, kDisabled };
// Which cluster routes BIRD programs (the rest are Felix's). [Default: EnabledNoEncapOnly]
enum class ProgramClusterRoutes { kEnabled, kDisabled, kEnabledIPIPOnly, kEnabledNoEncapOnly };

// A named community value: "aa:nn" (standard, 16-bit parts) or "aa:nn:mm" (large, 32-bit parts).
struct Community {
  std::string name{};
  std::string value{};

  bool operator==(const Community&) const = default;
};

struct PrefixAdvertisement {
  std::string cidr{};
  // Community values or names from BGPConfigurationSpec.communities.
  std::vector<std::string> communities{};

  bool operator==(const PrefixAdvertisement&) const = default;
};

struct BGPConfigurationSpec {
  std::string log_severity_screen{};  // "" = Info.
  std::optional<bool> node_to_node_mesh_enabled{};
  std::optional<ASNumber> as_number{};
  // CIDRs of the Service{LoadBalancer,External,Cluster}IPBlock lists (empty CIDRs dropped).
  std::vector<std::string> service_load_balancer_ips{};
  std::vector<std::string> service_external_ips{};
  std::vector<std::string> service_cluster_ips{};
  std::optional<ServiceLoadBalancerAggregation> service_load_balancer_aggregation{};
  std::vector<Community> communities{};
  std::vector<PrefixAdvertisement> prefix_advertisements{};
  std::optional<uint16_t> listen_port{};  // Absent or 0: unset.
  std::optional<BGPPassword> node_mesh_password{};
  std::optional<std::chrono::nanoseconds> node_mesh_max_restart_time{};
  std::optional<BindMode> bind_mode{};
  std::vector<std::string> ignored_interfaces{};
  std::string local_workload_peering_ipv4{};
  std::string local_workload_peering_ipv6{};
  std::optional<ProgramClusterRoutes> program_cluster_routes{};
  std::optional<int32_t> ipv4_normal_route_priority{};
  std::optional<int32_t> ipv6_normal_route_priority{};

  bool operator==(const BGPConfigurationSpec&) const = default;
};

struct BGPConfiguration {
  std::string name{};  // "default" or "node.<nodename>".
  BGPConfigurationSpec spec{};

  bool operator==(const BGPConfiguration&) const = default;
};

// Errors: kInvalidArgument "BGPConfiguration <name>: spec.<field>: <why>".
[[nodiscard]] Result<BGPConfiguration> DecodeBGPConfiguration(const Resource& resource);

// ---- BGPFilter (bgpfilter.go) ----

enum class BGPFilterAction { kAccept, kReject };
enum class BGPFilterMatchOperator { kEqual, kNotEqual, kIn, kNotIn };
enum class BGPFilterPeerType { kEBGP, kIBGP };

struct BGPFilterPrefixLength {
  std::optional<int32_t> min{};
  std::optional<int32_t> max{};

  bool operator==(const BGPFilterPrefixLength&) const = default;
};

// Exactly one field is set (a discriminated union in Go).
struct BGPFilterOperation {
  std::optional<std::string> add_community{};  // "aa:nn" or "aa:nn:mm".
  std::vector<ASNumber> prepend_as_path{};     // Non-empty for a PrependASPath operation.
  std::optional<int32_t> set_priority{};

  bool operator==(const BGPFilterOperation&) const = default;
};

// BGPFilterRuleV4 and BGPFilterRuleV6 have the same fields; the list a rule sits in says which.
struct BGPFilterRule {
  std::string cidr{};
  std::optional<BGPFilterPrefixLength> prefix_length{};
  bool source_remote_peers = false;  // source: RemotePeers
  std::string interface {};
  std::optional<BGPFilterMatchOperator> match_operator{};
  std::optional<BGPFilterPeerType> peer_type{};
  std::vector<std::string> communities{};  // communities.values (at most one value today).
  std::vector<ASNumber> as_path_prefix{};
  std::optional<int32_t> priority{};
  BGPFilterAction action = BGPFilterAction::kAccept;
  std::vector<BGPFilterOperation> operations{};

  bool operator==(const BGPFilterRule&) const = default;
};

struct BGPFilterSpec {
  std::vector<BGPFilterRule> export_v4{};
  std::vector<BGPFilterRule> import_v4{};
  std::vector<BGPFilterRule> export_v6{};
  std::vector<BGPFilterRule> import_v6{};

  bool operator==(const BGPFilterSpec&) const = default;
};

struct BGPFilter {
  std::string name{};
  BGPFilterSpec spec{};

  bool operator==(const BGPFilter&) const = default;
};

// Errors: kInvalidArgument "BGPFilter <name>: spec.exportV4[2].action: ...".
[[nodiscard]] Result<BGPFilter> DecodeBGPFilter(const Resource& resource);

// ---- Node: what BGP reads of it (node.go NodeBGPSpec, plus labels) ----

struct NodeBGPSpec {
  std::optional<ASNumber> as_number{};
  std::string ipv4_address{};  // As written, usually with a prefix length: "10.0.0.5/24".
  std::string ipv6_address{};
  std::string ipv4_ipip_tunnel_addr{};
  // Also read from the projectcalico.org/RouteReflectorClusterID annotation or label, the form
  // Calico's Kubernetes datastore keeps it in (libcalico-go/lib/backend/k8s/resources/node.go),
  // when spec.bgp does not set it.
  std::string route_reflector_cluster_id{};

  bool operator==(const NodeBGPSpec&) const = default;
};

inline constexpr std::string_view kRouteReflectorClusterIDAnnotation =
    "projectcalico.org/RouteReflectorClusterID";

struct NodeBGP {
  std::string name{};
  std::map<std::string, std::string> labels{};
  std::optional<NodeBGPSpec> bgp{};  // Absent: the node runs no BGP (spec.bgp unset).

  bool operator==(const NodeBGP&) const = default;
};

// Errors: kInvalidArgument "Node <name>: spec.bgp.<field>: <why>".
[[nodiscard]] Result<NodeBGP> DecodeNodeBGP(const Resource& resource);

}  // namespace calico::model::v3
