// The ruleset renderer's internals, shared by its files (not part of the policy library's
// contract; include ruleset_renderer.h instead):
//
//   ruleset_renderer.cc       Render(): index the model, then the chains below; rules chains
//                             (policy/profile rules compiled through the RenderCache), IP sets,
//                             the ruleset parts; the public functions
//   static_chains.cc          cali-FORWARD/INPUT/OUTPUT, cali-wl-to-host, the workload dispatch
//   endpoint_chains.cc        cali-tw-/cali-fw-<iface>: a workload's tiers, policies, profiles
//   host_endpoint_chains.cc   host endpoints: their chains, dispatch maps, failsafes, the
//                             pre-DNAT and untracked (raw) hooks
//
// Thread-safety: a Renderer is used for one render on one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "calico/base/result.h"
#include "calico/nft_model/ruleset.h"
#include "calico/policy/host_endpoints.h"
#include "calico/policy/names.h"
#include "calico/policy/parsed_rule.h"
#include "calico/policy/policy_merge.h"
#include "calico/policy/policy_model.h"
#include "calico/policy/ruleset_renderer.h"

namespace calico::policy {

// What a render leaves for the next one (see RenderCache in ruleset_renderer.h).
struct RenderCache::State {
  // The options the entries were rendered with (marks, log prefix): a change empties the cache.
  std::string options_key{};
  uint64_t generation = 0;  // Of the render in progress; entries not used by it are dropped.
  struct RulesChain {
    bool is_policy = false;  // What the chain was compiled for: a policy (tier, id) or a profile.
    std::string tier{};
    std::string id{};
    ParsedRules rules{};          // Usually the model's own rules: compared by pointer first.
    nft_model::NftLines lines{};  // Shared with the rendered rulesets.
    std::vector<std::pair<std::string, int>> sets{};  // (set id, family) the rules refer to.
    int http_ignored = 0;      // Rules whose HTTP match is not enforced (for RenderReport).
    bool flow_logged = false;  // Rendered with flow-log statements (FlowLogged()).
    uint64_t used = 0;
  };
  std::unordered_map<std::string, RulesChain> chains{};  // By chain name.
  struct SetElements {
    std::vector<net::CIDR> members{};           // As given in the model.
    std::array<nft_model::NftLines, 2> text{};  // IPv4, IPv6 elements.
    uint64_t used = 0;
  };
  std::unordered_map<std::string, SetElements> sets{};  // By set id.
  // What the endpoint chains need to know about each policy direction (policy_merge.h), by
  // policy chain name; recomputed when the rules change.
  struct MergeInfo {
    ParsedRules rules{};
    std::shared_ptr<const PolicyMergeInfo> info{};
    uint64_t used = 0;
  };
  std::unordered_map<std::string, MergeInfo> merge_info{};
};

namespace internal {

inline constexpr std::string_view kTable = "calico";
inline constexpr std::string_view kFromWlDispatch = "cali-from-wl-dispatch";
inline constexpr std::string_view kToWlDispatch = "cali-to-wl-dispatch";
inline constexpr std::string_view kWlToHost = "cali-wl-to-host";
// Host endpoint dispatch (chain and verdict map of the same name) and failsafe chains.
inline constexpr std::string_view kFromHostEndpoint = "cali-from-host-endpoint";
inline constexpr std::string_view kToHostEndpoint = "cali-to-host-endpoint";
inline constexpr std::string_view kFromHepForward = "cali-from-hep-forward";
inline constexpr std::string_view kToHepForward = "cali-to-hep-forward";
inline constexpr std::string_view kPreDnatFromHostEndpoint = "mangle-cali-from-host-endpoint";
inline constexpr std::string_view kRawFromHostEndpoint = "raw-cali-from-host-endpoint";
inline constexpr std::string_view kRawToHostEndpoint = "raw-cali-to-host-endpoint";
inline constexpr std::string_view kFailsafeIn = "cali-failsafe-in";
inline constexpr std::string_view kFailsafeOut = "cali-failsafe-out";
inline constexpr std::string_view kRawFailsafeIn = "raw-cali-failsafe-in";
inline constexpr std::string_view kRawFailsafeOut = "raw-cali-failsafe-out";
// Anti-spoofing (reverse-path check of workload sources) and its per-endpoint exemptions.
inline constexpr std::string_view kRawPrerouting = "raw-cali-PREROUTING";
inline constexpr std::string_view kRpfCheck = "raw-cali-rpf-check";
inline constexpr std::string_view kRpfSkip = "raw-cali-rpf-skip";
// The overlay filter's IP set ids (felix/rules/rule_defs.go IPSetIDAllHostNets,
// IPSetIDAllVXLANSourceNets): sets cali40all-hosts-net, cali40all-vxlan-net, cali60all-vxlan-net.
inline constexpr std::string_view kAllHostNets = "all-hosts-net";
inline constexpr std::string_view kAllVxlanNets = "all-vxlan-net";

std::string Hex(uint32_t v);
std::string Comment(std::string_view text);
// A set member as nft text: a bare address for a host route, else the CIDR.
std::string MemberText(const net::CIDR& c);

// What a policy or profile chain is compiled from.
using RulesSource = std::variant<const Policy*, const Profile*>;
// What a chain was rendered for (collision detection): a description ("static", "endpoint
// ns/a", "host endpoint h1"), or the Policy / Profile of a rules chain (formatted only when an
// error needs it).
using ChainOwner = std::variant<std::string, const Policy*, const Profile*>;

struct Chain {
  ChainOwner owner{};
  std::string base{};  // "type filter hook ... ;" line for base chains, else empty.
  nft_model::NftLines rules{};
};

// "policy <tier>/<id>", "profile <id>" or the description.
std::string OwnerOf(const ChainOwner& owner);

class Renderer {
 public:
  // `report` null: the first policy, profile or endpoint that cannot be rendered is an error;
  // otherwise such items are isolated and listed there (RenderRulesetParts).
  Renderer(const Model& model, const RenderOptions& options, RenderCache* cache,
           RenderReport* report);
  [[nodiscard]] Result<nft_model::NftRuleset> Render();
  // RenderPolicyRulesChains (ruleset_renderer.h).
  [[nodiscard]] Result<std::optional<std::map<std::string, nft_model::NftChain>>> RenderPolicyRules(
      std::span<const std::string> policy_ids, const nft_model::NftRuleset& previous);

 private:
  // --- ruleset_renderer.cc: model index, rules chains, IP sets, parts --------------------------
  [[nodiscard]] Status IndexModel();
  // With a report, an endpoint whose interface cannot be named in nftables is left out (its
  // packets meet the dispatch chains' "Unknown interface" drop) and reported; without, an error.
  [[nodiscard]] Status IndexEndpoints();
  [[nodiscard]] Status CheckEndpoint(const Endpoint& ep, std::size_t i,
                                     std::set<std::string>& ifaces) const;
  [[nodiscard]] Status IndexPoliciesAndSets();
  [[nodiscard]] Status IndexSets();
  [[nodiscard]] Result<std::string> ResolveSet(std::string_view field, std::string_view sel_text,
                                               std::string_view set_id, int family,
                                               std::vector<std::pair<std::string, int>>* used);
  [[nodiscard]] Result<std::string> ResolveNamedPortSet(
      std::string_view field, std::string_view set_id, int family,
      std::vector<std::pair<std::string, int>>* used);
  std::string ClearMask(uint32_t bits) const { return Hex(~bits); }
  void AddChain(std::string name, Chain chain) { chains_[std::move(name)] = std::move(chain); }
  // Compiles the rules of `source` into chain `chain_name`, which this render has not added yet,
  // from the cache when they did not change. `hint`: chains_.lower_bound(chain_name).
  [[nodiscard]] Status RenderRulesChain(std::string chain_name, RulesSource source, bool ingress,
                                        std::map<std::string, Chain>::iterator hint);
  // A policy or profile chain that cannot be compiled: without a report, the error `st`; with
  // one, the chain becomes a single drop and the problem is reported (see RenderRulesChain).
  [[nodiscard]] Status Isolate(Status st, std::string chain_name, Chain chain,
                               std::string_view kind, const std::string& name);
  // An inconsistent item of the model: without a report, the error `st`; with one, reported
  // (kind, name, effect) and OK, the caller leaving the item out.
  [[nodiscard]] Status SkipInconsistent(Status st, std::string_view kind, const std::string& name,
                                        std::string_view effect);
  // A workload endpoint RenderEndpoint failed on (see ruleset_renderer.cc).
  [[nodiscard]] Status IsolateEndpoint(const Endpoint& ep, Status st);
  // A host endpoint the host endpoint chains failed on (see host_endpoint_chains.cc).
  [[nodiscard]] Status IsolateHostEndpoint(const HostEndpoint& ep, Status st);
  // Counts `rules` rules of `kind name` whose HTTP match is ignored, in the report.
  void NoteHttpIgnored(std::string_view kind, const std::string& name, int rules);
  // Renders the rules chain of `source` unless this render already did.
  [[nodiscard]] Status EnsureRulesChain(std::string chain_name, RulesSource source, bool ingress);
  // Drops what this render did not use.
  void Evict();
  nft_model::NftLines SetElements(const std::string& id, const IpSet& set, int family);
  void AddNamedPortSet(nft_model::NftRuleset& out, const std::string& id, const IpSet& set) const;
  void AddOverlaySets(nft_model::NftRuleset& out) const;
  nft_model::NftRuleset Parts();

  // Flow logs (RenderOptions::flow_logs): whether the rules chain of `policy` (null: a profile)
  // logs verdicts (not for doNotTrack policies), the NFLOG group of a direction, and the
  // statement an endpoint chain's end-of-tier / no-profile drop carries ("" without flow logs).
  bool FlowLogged(const Policy* policy) const {
    return options_.flow_logs.enabled &&
           (policy == nullptr || untracked_policies_.count(policy->id) == 0);
  }
  int NflogGroup(bool ingress) const {
    return ingress ? options_.flow_logs.ingress_group : options_.flow_logs.egress_group;
  }
  std::string EndOfTierLog(bool ingress, const std::string& tier) const;
  std::string NoProfileLog(bool ingress) const;

  // --- static_chains.cc ------------------------------------------------------------------------
  void RenderStaticChains();
  // raw-cali-rpf-check and the exemptions of the rendered endpoints; raw-cali-PREROUTING unless
  // the untracked host endpoint hooks made it (they go to the same check). After the endpoints.
  void RenderRpfChains();
  // RenderOptions::overlay: the first rules of cali-INPUT, and cali-OUTPUT's after the workload
  // return; their sets are added by Parts (AddOverlaySets).
  void AppendOverlayInputRules(nft_model::NftLines& rules) const;
  void AppendOverlayOutputRules(nft_model::NftLines& rules) const;

  // --- endpoint_chains.cc ----------------------------------------------------------------------
  // The endpoint chains' fixed lines, formatted once per render.
  struct EndpointLines {
    std::string ct_invalid, clear, drop_vxlan, drop_ipip, pass_guard, policy_jump_prefix,
        policy_accepted, profile_accepted, no_profile;
  };
  const EndpointLines& Lines();
  [[nodiscard]] Status RenderEndpoint(const Endpoint& ep, bool ingress);
  // One tier of a workload endpoint chain: its policies as jumps and merged lookups
  // (policy_merge.h), computed once per render for each (direction, tier, policy list).
  [[nodiscard]] Status AppendWorkloadTier(Chain& chain, const Endpoint& ep, const TierRef& tier,
                                          bool ingress);
  // The merge facts of a policy chain's rules, from the cache when they did not change.
  const PolicyMergeInfo& MergeInfo(const std::string& chain, const ParsedRules& rules);
  // The endpoint chains' final drops, with the flow-log statement when flow logs are on.
  std::string NoProfileLine(bool ingress);
  std::string EndOfTierLine(bool ingress, const std::string& tier);

  // --- host_endpoint_chains.cc -----------------------------------------------------------------
  static bool HasPolicies(const std::vector<TierRef>& tiers);
  [[nodiscard]] Status IndexHostEndpoints();
  [[nodiscard]] Status CheckHostEndpoint(const HostEndpoint& ep, std::size_t i,
                                         const std::set<std::string>& ifaces) const;
  [[nodiscard]] Status AppendTierRules(Chain& chain, const std::string& who, std::string_view dir,
                                       const std::vector<TierRef>& tiers, bool ingress,
                                       bool end_of_tier_drop, bool notrack);
  void AppendConntrackRules(Chain& chain);
  std::string ClearMarks() { return Lines().clear; }
  // The deny verdict ("drop" / "reject") and its word in comments ("Drop" / "Reject").
  const char* DenyVerdict() const {
    return options_.deny_action == DenyAction::kReject ? "reject" : "drop";
  }
  const char* DenyWord() const {
    return options_.deny_action == DenyAction::kReject ? "Reject" : "Drop";
  }
  [[nodiscard]] Status AddHostChain(const std::string& name, const HostEndpoint& ep, Chain chain);
  [[nodiscard]] Status RenderHostNormalChain(const HostEndpoint& ep, bool ingress);
  [[nodiscard]] Status RenderHostForwardChain(const HostEndpoint& ep, bool ingress);
  [[nodiscard]] Status RenderHostPreDnatChain(const HostEndpoint& ep);
  [[nodiscard]] Status RenderHostUntrackedChain(const HostEndpoint& ep, bool ingress);
  std::vector<std::string> FailsafeRules(const std::vector<FailsafePort>& ports, bool inbound,
                                         bool reply) const;
  void AddStaticChain(std::string_view name, std::string base, std::vector<std::string> rules);
  void AddDispatchChain(std::string_view name, std::string_view key, HostChainKind kind,
                        bool skip_workloads);
  [[nodiscard]] Status RenderHostEndpoints();

  const Model& model_;
  const RenderOptions& options_;
  RenderReport* report_ = nullptr;
  std::set<const Endpoint*> skipped_endpoints_;  // Left out by IndexEndpoints (with a report).
  RenderCache::State* cache_ = nullptr;
  std::optional<EndpointLines> lines_{};

  std::set<std::string> untracked_policies_;  // Ids of policies in untracked tiers.
  // Looked up once or more per policy direction of every endpoint, so hashed (the output's order
  // follows the model and the ruleset's ordered maps, never these). Policy ids are the model's.
  std::unordered_map<std::string_view, const Policy*> policies_;
  std::map<std::string, const Profile*> profiles_;
  std::unordered_map<std::string, const IpSet*> sets_;  // By set id.
  std::map<std::string, std::string> set_names_;        // nft set name -> set id.
  struct SetRefHash {
    std::size_t operator()(const std::pair<std::string, int>& ref) const {
      return std::hash<std::string>()(ref.first) ^ static_cast<std::size_t>(ref.second);
    }
  };
  std::unordered_set<std::pair<std::string, int>, SetRefHash> referenced_sets_;
  std::map<std::string, Chain> chains_;
  // Merged lookups (policy_merge.h): the maps by name, the facts per policy chain for this render
  // (without a cache), and each workload tier's rendered lines by (direction, tier, policies).
  std::map<std::string, nft_model::NftSet> merged_maps_;
  std::unordered_map<std::string, std::shared_ptr<const PolicyMergeInfo>> merge_info_;
  std::unordered_map<std::string, std::vector<std::string>> tier_lines_;
  std::vector<std::pair<std::string, std::string>> from_wl_;  // iface -> chain, sorted.
  std::vector<std::pair<std::string, std::string>> to_wl_;
  // Host endpoints, sorted by interface; dispatch map entries (iface -> chain) per hook.
  std::vector<const HostEndpoint*> host_endpoints_;
  const HostEndpoint* wildcard_ = nullptr;  // The "*" endpoint, if any.
  bool pre_dnat_ = false;                   // Some endpoint has preDNAT policy.
  bool pre_dnat_wildcard_ = false;          // ... the "*" one.
  bool untracked_ = false;                  // Some (named) endpoint has doNotTrack policy.
  std::vector<std::pair<std::string, std::string>> from_hep_, to_hep_, from_hep_fwd_, to_hep_fwd_,
      pre_dnat_from_, raw_from_, raw_to_;
  // Workload interface -> raw-cali-rpf-skip-<iface> (a jump: the check follows), sorted.
  std::vector<std::pair<std::string, std::string>> rpf_skip_;
};

}  // namespace internal
}  // namespace calico::policy
