// Decoding: the resources the calculation graph consumes, each decoded once when it arrives into
// the compact records the graph keeps (the role of libcalico-go's syncer update processors,
// libcalico-go/lib/backend/syncersv1/updateprocessors, and of Felix's dispatcher in
// felix/calc/calc_graph.go). Nothing after this step sees JSON: endpoints keep parsed addresses
// and ports, policies and profiles their namespace-scoped, parsed rules (policy::ParsedRules,
// Felix's ParsedRule) and the IP sets those rules need.
//
//   model::Resource ──model::v3::DecodeX──▶ v3 struct ──*Rec──▶ EndpointRec / PolicyRec /
//                                                              ProfileRec / TierRec /
//                                                              NetworkSetRec
//
// Errors: a resource that does not decode (kInvalidArgument naming the resource and field) is
// treated by the graph as absent, as Felix's validation filter does. A rule that does not parse
// is not an error here: it stays in the record's ParsedRules (the graph logs it when the policy
// arrives; the renderer reports it when the policy applies to a local endpoint).
//
// Thread-safety: pure functions; records are values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"
#include "calico/model/v3/endpoint.h"
#include "calico/model/v3/policy.h"
#include "calico/net/ip.h"
#include "calico/policy/parsed_rule.h"
#include "calico/selector/selector.h"

namespace calico::calc {

using selector::LabelMap;

// What an IP set stands for: a selector, or the named port `named_port` of the endpoints it
// selects (policy/named_ports.h).
struct IpSetDef {
  selector::Selector sel{};
  std::string named_port{};  // Empty for selector sets.
  uint8_t protocol = 0;      // Named-port sets: 6, 17 or 132.
};
using IpSetDefs = std::map<std::string, IpSetDef>;  // IP set id -> definition.

// One spec.ports entry of a WorkloadEndpoint / HostEndpoint.
struct EndpointPort {
  std::string name{};
  uint8_t protocol = 0;  // 6, 17, 132 for TCP/UDP/SCTP names (any case), else the number; 0 = none.
  uint16_t port = 0;
  bool operator==(const EndpointPort&) const = default;
};

// A WorkloadEndpoint or HostEndpoint.
struct EndpointRec {
  bool is_workload = true;
  std::string ns{};
  std::string name{};
  bool local = false;
  std::string interface_name{};  // HEPs: "*" = all host interfaces, "" = by expectedIPs.
  std::vector<net::CIDR> addresses{};
  std::vector<EndpointPort> ports{};  // Named ports (for named-port IP sets).
  LabelMap own_labels{};
  std::vector<std::string> profiles{};  // Unique, in order.
  LabelMap effective{};                 // Own labels over the profiles' labelsToApply (graph).
  // Workloads: spec.allowSpoofedSourcePrefixes, masked (policy::Endpoint).
  std::vector<net::CIDR> allowed_source_prefixes{};
};

struct ProfileRec {
  LabelMap labels_to_apply{};
  policy::ParsedRules ingress{};  // Shared with every Model built from it.
  policy::ParsedRules egress{};
  IpSetDefs rule_sets{};  // The IP sets its rules match on.
};

struct PolicyRec {
  std::string kind{};
  std::string ns{};
  std::string name{};
  std::string id{};  // "<name>" (global) or "<namespace>/<name>".
  std::string tier{};
  std::optional<double> order{};
  bool applies_ingress = true;
  bool applies_egress = false;
  policy::ParsedRules ingress{};  // Shared with every Model built from it.
  policy::ParsedRules egress{};
  IpSetDefs rule_sets{};
  // PolicySorter's tie-break within an order: "<name>/<namespace>/<kind>".
  std::string sort_name{};
  // The endpoint selector; nullopt when it does not parse (the policy selects nothing).
  std::optional<selector::Selector> sel{};
  // GlobalNetworkPolicy host endpoint options. doNotTrack / preDNAT policies only ever apply to
  // host endpoints; applyOnForward ones also govern forwarded traffic through host endpoints.
  bool apply_on_forward = false;
  bool pre_dnat = false;
  bool do_not_track = false;
  bool host_only() const { return pre_dnat || do_not_track; }
};

struct TierRec {
  std::optional<double> order{};
  bool default_deny = true;
};

// A NetworkSet / GlobalNetworkSet: labels (with the namespace label) and masked nets.
struct NetworkSetRec {
  LabelMap labels{};
  std::vector<net::CIDR> members{};
};

// `node` decides EndpointRec::local.
[[nodiscard]] Result<EndpointRec> DecodeWorkloadEndpointRec(const model::Resource& r,
                                                            std::string_view node);
// The same from the typed endpoint (the agent's fast path, model/v3/stored_endpoint.h).
EndpointRec WorkloadEndpointRec(model::v3::WorkloadEndpoint&& wep, std::string_view node);
[[nodiscard]] Result<EndpointRec> DecodeHostEndpointRec(const model::Resource& r,
                                                        std::string_view node);
EndpointRec HostEndpointRec(const model::v3::HostEndpoint& hep, std::string_view node);
// NetworkPolicy or GlobalNetworkPolicy (by r.kind()).
[[nodiscard]] Result<PolicyRec> DecodePolicyRec(const model::Resource& r);
// The same from the typed policies (the agent's fast path, model/v3/stored_policy.h).
PolicyRec NetworkPolicyRec(model::v3::NetworkPolicy&& np);
PolicyRec GlobalNetworkPolicyRec(model::v3::GlobalNetworkPolicy&& gnp);
[[nodiscard]] Result<ProfileRec> DecodeProfileRec(const model::Resource& r);
[[nodiscard]] Result<TierRec> DecodeTierRec(const model::Resource& r);
// NetworkSet or GlobalNetworkSet (by r.kind()).
[[nodiscard]] Result<NetworkSetRec> DecodeNetworkSetRec(const model::Resource& r);

// The IP sets `rules` match on once rendered (Felix's RuleScanner; policy::ScanRuleIpSets):
// selector sets by UniqueId, named-port sets by NamedPortSetId.
IpSetDefs RuleIpSets(const policy::ParsedRules& rules);

}  // namespace calico::calc
