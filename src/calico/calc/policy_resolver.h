// The policy resolver (felix/calc/policy_resolver.go and policy_sorter.go): for every local
// endpoint, the tiers and policies that apply to it per direction, in evaluation order; with the
// active policies and profiles, the policy::Model the renderer consumes (IP sets aside, which the
// IpSetIndex provides).
//
//   tiers: known tiers (Tier resources and the built-ins) by order (absent last), then name;
//          tiers only named by policies after them, by name
//   policies: by tier, then order (absent last), then "<name>/<namespace>/<kind>"
//   workload endpoint: ingress/egress TierRefs (tiers with ≥1 matching policy per direction)
//   host endpoint: normal policies -> ingress/egress, applyOnForward also -> forward tiers,
//                  preDNAT -> pre-DNAT ingress, doNotTrack -> untracked tiers (those two with tier
//                  default Pass, Felix's tierInfoToProtoTierInfo)
//
// Thread-safety: pure function over its inputs.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "calico/calc/active_rules.h"
#include "calico/calc/decoding.h"
#include "calico/policy/policy_model.h"

namespace calico::calc {

// The local endpoints of the graph: their records by item key, and their keys (the graph keeps
// remote endpoints in a compact form of its own, calc_graph.cc).
struct EndpointStore {
  std::unordered_map<std::string, EndpointRec> endpoints{};
  std::unordered_set<std::string> local{};
};

// The model for this node without IP sets: endpoints sorted by interface name (then namespace,
// name), host endpoints by name, policies and profiles by id.
policy::Model ResolvePolicies(const EndpointStore& endpoints, const ActiveRules& rules,
                              const std::map<std::string, TierRec>& tiers);

}  // namespace calico::calc
