// The merge decision for a tier's policy sequence (an optimisation of Felix's endpoint chain
// layout, felix/rules/endpoints.go, with identical verdicts, counters and flow-log prefixes):
//
//   Felix:   meta mark & pass == 0 jump cali-pi-<tier>/<p1>      (one jump per policy)
//            meta mark & accept == accept return
//            meta mark & pass == 0 jump cali-pi-<tier>/<p2>
//            ...
//   merged:  [meta mark & pass == 0] meta nfproto ipv4 meta l4proto 6
//              ip saddr . th dport vmap @cali-m4-<hash>          (one lookup for the run)
//            [meta mark & accept == accept return]
//            map cali-m4-<hash> { 203.0.113.1 . 1001 : jump cali-pi-<tier>/<p1>, ... }
//
// A run is a sequence of consecutive policies of one tier and direction whose rules all have a
// simple shape (SimpleRule: a protocol that has ports (TCP, UDP, SCTP, UDPLite), source and
// destination nets, destination ports; nothing else) and whose match elements (MergeElement:
// one source net x destination net x port range of a rule) are pairwise disjoint. A packet then
// matches at most one element of the run; its value jumps to the policy chain of the element's
// rule, where the rules before it do not match (they are disjoint from it) and the rule itself
// matches, counts, logs (flow logs) and decides exactly as when the endpoint chain jumped to
// every policy in turn. A packet that matches no element matched no rule of the run and falls
// through, as before. Runs are broken, never reordered: a policy that is not simple, or whose
// elements overlap an element of the run so far, ends the run (the earlier rule would have to
// win, which one lookup cannot express).
//
// The prunes (both layouts): the `return` on the accept mark after a policy (or run) is only
// rendered if one of its rules is an Allow (nothing else sets the accept mark, which the endpoint
// chain clears before the first tier, and any earlier Allow returned); the pass-mark guard of a
// policy jump only if an earlier policy of the tier has a Pass rule (the tier's first rule clears
// the pass mark).
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "calico/net/ip.h"
#include "calico/policy/parsed_rule.h"

namespace calico::policy {

// One box of a simple rule's match: the packets the rule matches are exactly the union of its
// elements. family 0: the rule is not restricted to one family (it has no nets).
struct MergeElement {
  int family = 0;
  uint8_t protocol = 0;
  std::optional<net::CIDR> source{};       // Masked; nullopt: any address.
  std::optional<net::CIDR> destination{};  // Masked; nullopt: any address.
  std::optional<PortRange> port{};         // Destination port range; nullopt: no port match.
  std::size_t rule = 0;                    // Index of the rule in its policy direction.
  bool operator==(const MergeElement&) const = default;
};

// Whether two elements share a packet.
bool ElementsOverlap(const MergeElement& a, const MergeElement& b);

// The rule has the shape a merged lookup can express exactly (see the file comment).
bool SimpleRule(const ParsedRule& rule);

// What the endpoint chain needs to know about one policy direction.
struct PolicyMergeInfo {
  bool can_allow = false;  // Some rule is an Allow (the chain can set the accept mark).
  bool can_pass = false;   // Some rule is a Pass (the chain can set the pass mark).
  // Every rule simple with at most 256 elements, all with or all without destination ports,
  // elements pairwise disjoint, and the rules parsed (a chain that failed is isolated: one drop,
  // never merged).
  bool mergeable = false;
  std::optional<bool> has_ports{};  // Unset when there are no rules.
  std::vector<MergeElement> elements{};
};

PolicyMergeInfo AnalysePolicyRules(const ParsedRules& rules);

// A tier's policies in order, as segments: a single policy (jumped to) or a merged run.
struct TierSegment {
  std::size_t first = 0;  // [first, last) in the tier's policy list.
  std::size_t last = 0;
  bool merged = false;
  bool operator==(const TierSegment&) const = default;
};

// Greedy, in order: a run grows while the next policy is mergeable, has the run's port shape and
// none of its elements overlaps the run's; runs of fewer than `min_run` policies (or with a port
// shape change) stay single jumps. min_run 0: nothing is merged. Each element's overlap check is
// bounded (a budget of comparisons per run; past it the run ends), so a long tier of wide
// elements costs O(n * budget), not O(n^2).
std::vector<TierSegment> PlanTier(const std::vector<const PolicyMergeInfo*>& policies,
                                  std::size_t min_run);

// A merged run as nftables objects, for one family (0: family-agnostic run; 4 / 6).
struct MergedLookup {
  int family = 0;
  std::string match{};                  // "meta nfproto ipv4 meta l4proto 6 ip saddr . th dport"
  std::string type{};                   // "ipv4_addr . inet_service"
  std::vector<std::string> elements{};  // "203.0.113.1 . 1001 : jump <chain>"
  bool operator==(const MergedLookup&) const = default;
};

// The lookups of a run: `policies` and their chains in tier order. One per family that has
// elements: family 0 when no element is restricted to a family, else 4 and/or 6 (family-agnostic
// elements in both).
std::vector<MergedLookup> BuildLookups(const std::vector<const PolicyMergeInfo*>& policies,
                                       const std::vector<std::string>& chains);

}  // namespace calico::policy
