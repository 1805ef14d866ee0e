// Renders a policy Model as one nftables ruleset (`nft -f` input) in `table inet calico`,
// reproducing Felix's filter-table layout in nftables mode (felix/rules/static.go,
// felix/rules/endpoints.go, felix/rules/dispatch.go, felix/nftables; reference 3.2-3.6).
//
//   chain cali-FORWARD (hook forward)   ct established,related accept; ct invalid drop;
//     clear marks; iifname "cali*" jump cali-from-wl-dispatch; oifname "cali*" jump
//     cali-to-wl-dispatch; accept if the accept mark is set ("Policy explicitly accepted packet.")
//   chain cali-INPUT (hook input)       [overlay filter: IPIP / VXLAN to a local address accepted
//     from @cali40all-hosts-net / @cali40all-vxlan-net / @cali60all-vxlan-net, the rest dropped;
//     RenderOptions::overlay] iifname "cali*" goto cali-wl-to-host
//   chain cali-OUTPUT (hook output)     host -> workload traffic is not policed; [the host's own
//     overlay packets to those sets accepted]
//   chain cali-wl-to-host               (v6 ND allowed) conntrack; egress policy via
//     cali-from-wl-dispatch; then defaultEndpointToHostAction
//   chain cali-from-wl-dispatch         iifname vmap @cali-from-wl-dispatch; drop "Unknown
//   interface" map cali-from-wl-dispatch           { "<iface>" : goto cali-fw-<iface>, ... }  (same
//   for to-wl) chain cali-fw-<iface> / cali-tw-<iface>
//     clear accept|pass; (fw: drop VXLAN/IPIP from workloads)
//     per tier: clear pass ("Start of tier T"); per policy: jump cali-p{i,o}-<tier>/<id> unless
//     pass is set, return if accept is set; "End of tier T. Drop if no policies passed packet"
//     (tiers with defaultAction Deny); per profile: jump cali-pr{i,o}-<id>, return if accept;
//     "Drop if no profiles matched"
//   chain cali-p{i,o}-<tier>/<id>, cali-pr{i,o}-<id>: the compiled rules (rule_compiler.h)
//   set cali40<id> / cali60<id>: the IP sets, `flags interval`; named-port sets (cali40n-...)
//     are `type ipv4_addr . inet_proto . inet_service` with elements "10.0.0.1 . 6 . 8080"
//   chain raw-cali-PREROUTING (hook prerouting, priority raw): iifname "cali*" goto
//     raw-cali-rpf-check: Felix's anti-spoofing (felix/rules/static.go StaticRawPreroutingChain,
//     RPFilter; felix/nftables RPFCheckFailed), before conntrack: `iifname vmap
//     @raw-cali-rpf-skip` (endpoints with allowed_source_prefixes: "<iface>" : jump
//     raw-cali-rpf-skip-<iface>, whose `ip saddr <prefix> accept` rules end the raw hook), then
//     `fib saddr . mark . iif oif 0` drop (the deny action): a packet whose source is not routed
//     back through the interface it came in on
//
// Host endpoints (only when Model::host_endpoints is not empty; without them the output is exactly
// the workload-only layout above, so host traffic is untouched):
//   cali-INPUT   += [accept if accept mark (pre-DNAT/untracked verdict)]; clear marks;
//                   jump cali-from-host-endpoint; "Host endpoint policy accepted packet." accept
//   cali-OUTPUT  += (after the workload return) clear marks; ct status != dnat jump
//                   cali-to-host-endpoint; accept if accept mark
//   cali-FORWARD += jump cali-from-hep-forward (first), jump cali-to-hep-forward (after the
//                   workload dispatch), set the accept mark on what falls through (forwarded)
//   mangle-cali-POSTROUTING (hook postrouting, priority mangle): host egress policy for DNAT'd
//                   host traffic (its output interface is only known after routing)
//   chain/map cali-from-host-endpoint / cali-to-host-endpoint / cali-from-hep-forward /
//     cali-to-hep-forward: iifname|oifname vmap {"<iface>" : goto cali-fh|th|fhfw|thfw-<iface>},
//     then `goto ...-any-interface-at-all` for the "*" host endpoint (the default target)
//   chain cali-fh-<iface> / cali-th-<iface>: conntrack; jump cali-failsafe-in|out; clear marks;
//     tiers as for workloads; profiles; "Drop if no profiles matched"
//   chain cali-fhfw-<iface> / cali-thfw-<iface>: conntrack; applyOnForward tiers; with none,
//     "Allow forwarded traffic by default" (accept mark + return)
//   chain cali-failsafe-in / cali-failsafe-out: one accept per protocol (anonymous port set) and
//     per family and protocol for entries with a net (`ip saddr . th dport { net . port }`)
//   preDNAT (ingress only): mangle-cali-PREROUTING (hook prerouting, priority mangle) ->
//     mangle-cali-from-host-endpoint -> mangle-cali-fh-<iface> (conntrack, failsafes, tiers, no
//     end-of-tier drop, no profiles); an accepted packet skips the filter-hook host policy
//   doNotTrack: raw-cali-PREROUTING / raw-cali-OUTPUT (priority raw) -> raw-cali-fh|th-<iface>
//     (raw failsafes incl. replies, tiers; an allowed packet is `notrack`ed); not for "*"
//
// Dispatch uses verdict maps, so the per-packet cost of finding an endpoint's chain does not grow
// with the number of endpoints. Endpoint chains "return" with the accept mark set when policy
// allows, so a packet between two local workloads passes the egress chain of the sender and the
// ingress chain of the receiver before cali-FORWARD accepts it.
//
// Every policy/profile rule carries a counter and a comment naming its origin, e.g.
// "policy default/allow-dns ingress #0", "profile kns.ns1 egress #2"; so do the drop rules of the
// endpoint chains ("End of tier default. Drop if no policies passed packet", ...).
//
// Output is deterministic: sets, then maps, then base chains, then the other chains, each by name;
// rules in model order.
//
// Thread-safety: pure functions, except that a RenderCache passed in is updated.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/nft_model/ruleset.h"
#include "calico/policy/host_endpoints.h"
#include "calico/policy/policy_model.h"

namespace calico::policy {

// What Deny (and every drop Felix makes with its filter deny action) does to a packet
// (FelixConfiguration nftablesFilterDenyAction / iptablesFilterDenyAction: Drop or Reject).
enum class DenyAction { kDrop, kReject };

struct RenderOptions {
  MarkBits marks{};
  // Workload interface prefixes (FelixConfiguration interfacePrefix), matched as "<prefix>*".
  std::vector<std::string> interface_prefixes = {"cali"};
  EndpointToHostAction endpoint_to_host_action = EndpointToHostAction::kDrop;
  // Drop conntrack-INVALID packets (Felix DisableConntrackInvalidCheck=false).
  bool drop_invalid = true;
  // Drop VXLAN (UDP vxlan_port) / IPIP packets sent by workloads (Felix's default; Felix's
  // allowVXLANPacketsFromWorkloads / allowIPIPPacketsFromWorkloads turn them off).
  bool drop_vxlan_from_workloads = true;
  bool drop_ipip_from_workloads = true;
  // FelixConfiguration workloadSourceSpoofing: Any (true) lets endpoints with
  // allowed_source_prefixes send from those prefixes; Disabled (false, the default) refuses such
  // endpoints (reported, left out: their traffic drops), as Felix's calc ValidationFilter treats
  // them as missing.
  bool workload_source_spoofing = false;
  // FelixConfiguration ipv6Support. false: Felix programs no IPv6 table at all, so IPv6 traffic
  // is not policed by Calico; here every base chain of the inet table accepts IPv6 first.
  bool ipv6_support = true;
  // The verdict of Deny rules, end-of-tier and no-profile drops, conntrack INVALID, encapsulated
  // packets from workloads, unknown interfaces and unrenderable chains (felix/rules/rule_defs.go
  // IptablesFilterDenyAction): `drop`, or `reject` (ICMP port unreachable / TCP reset).
  DenyAction deny_action = DenyAction::kDrop;
  int vxlan_port = 4789;
  // Felix's overlay filter (felix/rules/static.go filterInputChain / filterOutputChain): with an
  // overlay on, cali-INPUT first accepts its packets from the known hosts to a local address and
  // drops the rest (IPIP: protocol 4 from set cali40all-hosts-net, "Allow IPIP packets from
  // Calico hosts" / deny action; IPv4 VXLAN: UDP vxlan_port from cali40all-vxlan-net, always
  // `drop` as upstream; IPv6 VXLAN: from cali60all-vxlan-net, deny action), and cali-OUTPUT
  // accepts the host's own overlay packets to those hosts before any host endpoint policy ("Allow
  // ... packets to other ... hosts"), so that host policy cannot break the overlay. All off by
  // default: the ruleset is then exactly the one without this option.
  struct OverlayFilter {
    bool ipip = false;      // Felix IPIPEnabled
    bool vxlan = false;     // Felix VXLANEnabled (IPv4)
    bool vxlan_v6 = false;  // Felix VXLANEnabledV6
    // IPSetIDAllHostNets ("all-hosts-net", IPv4 only: felix/dataplane/linux/ipset_hosts_mgr.go):
    // every Calico node's address, this one's included.
    std::vector<net::CIDR> host_nets{};
    // IPSetIDAllVXLANSourceNets ("all-vxlan-net", felix/dataplane/linux/vxlan_mgr.go
    // updateNeighborsAndAllowedSources): the parent (node) address of every other node's VTEP;
    // both families, each set gets its own.
    std::vector<net::CIDR> vxlan_sources{};
    bool operator==(const OverlayFilter&) const = default;
  };
  OverlayFilter overlay{};
  std::string log_prefix = "calico-packet";
  // Start the text with "table inet calico / delete table inet calico", so that `nft -f` replaces
  // an existing table atomically (and still works when none exists).
  bool replace_table = true;
  // Maps selector matches to set names. Default: the IP set in Model::ip_sets whose id is the
  // selector's UniqueId() (an error if there is none), named by SetName().
  SetResolver resolve_set{};
  // Maps named-port matches to set names. Default: the named-port IP set in Model::ip_sets with
  // that id (an error if there is none), named by SetName().
  NamedPortSetResolver resolve_named_port_set{};
  // Ports host endpoints never block (FelixConfiguration failsafeInboundHostPorts /
  // failsafeOutboundHostPorts); only rendered when the model has host endpoints.
  std::vector<FailsafePort> failsafe_inbound = DefaultFailsafeInbound();
  std::vector<FailsafePort> failsafe_outbound = DefaultFailsafeOutbound();
  // Flow logs (FelixConfiguration flowLogsGoldmaneServer set; flow_log_prefix.h): every Allow,
  // Deny and Pass rule of a policy or profile chain, every end-of-tier drop and every "no
  // profiles matched" drop of a workload or host endpoint chain also logs the packet to NFLOG
  // group `ingress_group` (ingress verdicts) or `egress_group` with Felix's verdict prefix
  // ("API0|gnp/allow-web", "DPI|default", "DRE"). Only packets of new connections reach these
  // rules: established and related ones are accepted before any policy chain (cali-FORWARD,
  // cali-wl-to-host and the host endpoint chains check conntrack first), so the established fast
  // path is untouched. doNotTrack policies (untracked tiers, every packet) are never logged.
  // Off by default: the ruleset is then exactly the one without this option.
  struct FlowLogs {
    bool enabled = false;
    int ingress_group = 1;
    int egress_group = 2;
  };
  FlowLogs flow_logs{};
  // Workload endpoint chains: runs of at least this many consecutive policies of a tier whose
  // rules have a simple shape (protocol, nets, destination ports) and pairwise disjoint matches
  // become one verdict-map lookup that jumps to the matching rule's policy chain, instead of one
  // jump per policy (policy_merge.h; same verdicts, counters and flow-log prefixes). 0: Felix's
  // layout, one jump per policy.
  std::size_t merge_min_policies = 2;
};

// Compiled policy/profile chains and set elements kept from one render to the next, so that a
// render after a small change compiles only the rules that changed (the agent keeps one). A cache
// is not used when RenderOptions::resolve_set is set; a change of marks or log prefix empties it.
// Thread-safety: one render at a time.
class RenderCache {
 public:
  RenderCache();
  ~RenderCache();
  RenderCache(RenderCache&&) noexcept;
  RenderCache& operator=(RenderCache&&) noexcept;
  RenderCache(const RenderCache&) = delete;
  RenderCache& operator=(const RenderCache&) = delete;

  struct State;  // Defined by the renderer.
  State& state() { return *state_; }

 private:
  std::unique_ptr<State> state_;
};

// One item a render left out (RenderReport::skipped).
struct RenderProblem {
  std::string kind{};     // "policy", "profile", "endpoint", "hostendpoint" or "ipset".
  std::string name{};     // "<tier>/<policy id>", the profile id or the endpoint name.
  std::string message{};  // Why, naming the rule and field: "... ingress[0]: source...: ...".
  std::string effect{};   // What the dataplane does instead.
  bool operator==(const RenderProblem&) const = default;
};

// What a render could not honour, for the agent's log and metrics (fault isolation: one bad
// policy never stops the others from being programmed).
struct RenderReport {
  // Policies/profiles with a rule that did not parse (ParsedRules' error, kept by the calculation
  // graph) or cannot be compiled (an IP set the model lacks): their chain is a single drop, so
  // endpoints that reach them drop there (their tier's end-of-tier drop, brought forward) while
  // every other policy and endpoint is programmed. Endpoints whose interface cannot be named in
  // nftables: left out (their packets meet the dispatch chains' "Unknown interface" drop).
  // Kinds: "policy", "profile", "endpoint", "hostendpoint", "ipset".
  std::vector<RenderProblem> skipped{};
  // "policy <tier>/<id>" / "profile <id>" -> rules whose `http` match is ignored (their L3/L4 part
  // is enforced, as Felix does without an L7 proxy).
  std::map<std::string, int> http_ignored{};
};

// The ruleset as the dataplane's ruleset model (chains, sets, maps; nft_model/ruleset.h), which the
// agent diffs against what it applied without printing or parsing text. `cache` may be null.
// `report` null: the first policy, profile or endpoint that cannot be rendered is an error. With a
// report, such items are isolated and listed there (the report is cleared first), and so is what
// a model inconsistent as a whole touches: an endpoint whose tiers name an unknown policy (or a
// policy of another tier) or whose chains collide drops its traffic (a host endpoint keeps its
// failsafe ports), a policy/profile id given twice keeps the first, an IP set that cannot be
// named isolates the policies using it. Every other endpoint and policy is rendered as without
// the problem.
[[nodiscard]] Result<nft_model::NftRuleset> RenderRulesetParts(const Model& model,
                                                               const RenderOptions& options = {},
                                                               RenderCache* cache = nullptr,
                                                               RenderReport* report = nullptr);

// The rules chains of the policies `policy_ids` of `model` after a change of their rules alone
// (calc::CalcGraph::Changes::policy_rules: the endpoints' tier lists and the IP sets are as in the
// render that produced `previous`, with `cache`, the same options and an empty report), for a
// caller that patches `previous` instead of rendering everything again (Felix re-renders only
// dirty chains, felix/rules). Only chains `previous` has are rendered (those that differ: by
// name, header empty). nullopt when the change could reach beyond those chains: a policy in a
// merged lookup before or after (policy_merge.h) or whose rules now can or cannot allow or pass,
// a change to the IP sets its rules refer to, a rule that cannot be rendered or ignores an HTTP
// match (the report changes), host endpoints in the model, a policy or chain the cache does not
// know; the caller then renders everything (RenderRulesetParts), which gives the same ruleset
// as patching `previous` with these chains would whenever this returns a value.
[[nodiscard]] Result<std::optional<std::map<std::string, nft_model::NftChain>>>
RenderPolicyRulesChains(const Model& model, const RenderOptions& options, RenderCache& cache,
                        std::span<const std::string> policy_ids,
                        const nft_model::NftRuleset& previous);

// The same ruleset as `nft -f` text: a generated-file comment, the replace-table prefix when
// options.replace_table, then nft_model::NftRulesetText of the parts.
[[nodiscard]] Result<std::string> RenderRuleset(const Model& model,
                                                const RenderOptions& options = {});

// Convenience for single-host setups and tests: the IP sets for every selector/notSelector used by
// the model's policies and profiles, with the addresses of the model's endpoints (and the
// expectedIPs of its host endpoints) whose labels match. (Felix computes these cluster-wide from
// all endpoints and network sets.) Named-port sets are not computed (Endpoint carries no ports):
// the calculation graph makes those.
[[nodiscard]] Result<std::vector<IpSet>> ComputeSelectorIpSets(const Model& model);

}  // namespace calico::policy
