// Size: over 700 lines: indexing, rules chains, IP sets and parts share one Renderer state.
// Full ruleset rendering: Felix's filter-table structure (felix/rules/static.go, endpoints.go,
// dispatch.go) in nftables form (felix/nftables), for one `inet` table. This file holds the
// render's skeleton: indexing the model, compiling policy/profile rules chains through the
// RenderCache, the IP sets and the ruleset parts; the chains themselves are rendered in
// static_chains.cc, endpoint_chains.cc and host_endpoint_chains.cc (renderer_internal.h).
#include "calico/policy/ruleset_renderer.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/policy/flow_log_prefix.h"
#include "calico/policy/named_ports.h"
#include "calico/policy/names.h"
#include "calico/policy/renderer_internal.h"
#include "calico/policy/rule_compiler.h"
#include "calico/selector/selector.h"

namespace calico::policy {

RenderCache::RenderCache() : state_(std::make_unique<State>()) {}
RenderCache::~RenderCache() = default;
RenderCache::RenderCache(RenderCache&&) noexcept = default;
RenderCache& RenderCache::operator=(RenderCache&&) noexcept = default;

namespace internal {
namespace {

const std::string& NoTier() {
  static const std::string none;
  return none;
}

// Members of one family: masked, sorted, CIDRs covered by another member dropped. CIDRs nest or
// are disjoint, so in (address, prefix length) order a covered CIDR follows the last one kept.
std::vector<net::CIDR> NormaliseMembers(const std::vector<net::CIDR>& members, int family) {
  std::vector<net::CIDR> nets;
  nets.reserve(members.size());
  for (const net::CIDR& c : members) {
    if (c.family() == family) nets.push_back(c.Masked());
  }
  std::sort(nets.begin(), nets.end());
  std::vector<net::CIDR> kept;
  kept.reserve(nets.size());
  for (const net::CIDR& c : nets) {
    if (kept.empty() || !kept.back().Contains(c)) kept.push_back(c);
  }
  return kept;
}

// Named-port set elements of one family, "<addr> . <proto> . <port>", sorted and unique.
std::vector<std::string> PortMemberTexts(const std::vector<IpPortMember>& members, int family) {
  std::vector<IpPortMember> sorted;
  for (const IpPortMember& m : members) {
    if (m.addr.family() == family) sorted.push_back(m);
  }
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<std::string> out;
  out.reserve(sorted.size());
  for (const IpPortMember& m : sorted) {
    out.push_back(fmt::format("{} . {} . {}", m.addr.String(), m.protocol, m.port));
  }
  return out;
}

}  // namespace

std::string Hex(uint32_t v) {
  return fmt::format("{:#x}", v);
}

std::string Comment(std::string_view text) {
  return fmt::format("comment \"{}\"", SanitizeComment(text));
}

std::string MemberText(const net::CIDR& c) {
  return c.prefix_len() == c.addr().bit_len() ? c.addr().String() : c.String();
}

std::string OwnerOf(const ChainOwner& owner) {
  if (const auto* p = std::get_if<const Policy*>(&owner)) {
    return fmt::format("policy {}/{}", (*p)->tier, (*p)->id);
  }
  if (const auto* p = std::get_if<const Profile*>(&owner))
    return fmt::format("profile {}", (*p)->id);
  return std::get<std::string>(owner);
}

Renderer::Renderer(const Model& model, const RenderOptions& options, RenderCache* cache,
                   RenderReport* report)
    : model_(model), options_(options), report_(report) {
  // A custom set resolver may answer differently from one render to the next: no caching.
  if (cache != nullptr && !options_.resolve_set && !options_.resolve_named_port_set) {
    cache_ = &cache->state();
    std::string key = fmt::format("{:x}/{:x}/{}/{}", options_.marks.accept, options_.marks.pass,
                                  options_.log_prefix, DenyVerdict());
    if (options_.flow_logs.enabled) {
      key += fmt::format("/nflog{}.{}", options_.flow_logs.ingress_group,
                         options_.flow_logs.egress_group);
    }
    if (cache_->options_key != key) {
      cache_->chains.clear();
      cache_->sets.clear();
      cache_->options_key = key;
    }
    ++cache_->generation;
  }
  if (options_.flow_logs.enabled) {
    for (const HostEndpoint& ep : model_.host_endpoints) {
      for (const auto* tiers : {&ep.untracked_ingress_tiers, &ep.untracked_egress_tiers}) {
        for (const TierRef& t : *tiers) {
          untracked_policies_.insert(t.policies.begin(), t.policies.end());
        }
      }
    }
  }
}

std::string Renderer::EndOfTierLog(bool ingress, const std::string& tier) const {
  if (!options_.flow_logs.enabled) return "";
  return fmt::format("log group {} prefix \"{}\" ", NflogGroup(ingress),
                     EndOfTierDropPrefix(ingress, tier));
}

std::string Renderer::NoProfileLog(bool ingress) const {
  if (!options_.flow_logs.enabled) return "";
  return fmt::format("log group {} prefix \"{}\" ", NflogGroup(ingress),
                     NoMatchProfilePrefix(ingress));
}

Result<nft_model::NftRuleset> Renderer::Render() {
  RETURN_IF_ERROR(IndexModel());
  RETURN_IF_ERROR(IndexHostEndpoints());
  RenderStaticChains();
  std::vector<const Endpoint*> endpoints;
  for (const Endpoint& ep : model_.endpoints) {
    endpoints.push_back(&ep);
  }
  std::sort(endpoints.begin(), endpoints.end(), [](const Endpoint* a, const Endpoint* b) {
    return a->interface_name < b->interface_name;
  });
  for (const Endpoint* ep : endpoints) {
    if (skipped_endpoints_.count(ep) != 0) continue;
    Status st = RenderEndpoint(*ep, true);
    if (st) st = RenderEndpoint(*ep, false);
    // An endpoint whose tiers name an unknown policy, a policy of another tier, or whose chain
    // (or one of its policies' chains) collides with another: only this endpoint is affected.
    if (!st) RETURN_IF_ERROR(IsolateEndpoint(*ep, std::move(st)));
  }
  if (!host_endpoints_.empty()) RETURN_IF_ERROR(RenderHostEndpoints());
  RenderRpfChains();
  if (!options_.ipv6_support) {
    // ipv6Support: false. Felix (felix/dataplane/linux/int_dataplane.go, IPv6Enabled) then makes
    // no IPv6 table, no IPv6 routes, no IPv6 interface settings: IPv6 is not Calico's business.
    const std::string skip = fmt::format("meta nfproto ipv6 accept {}",
                                         Comment("ipv6Support is false: IPv6 is not policed"));
    for (auto& [name, chain] : chains_) {
      if (chain.base.empty()) continue;
      std::vector<std::string> rules = {skip};
      rules.insert(rules.end(), chain.rules.begin(), chain.rules.end());
      chain.rules = nft_model::NftLines(std::move(rules));
    }
  }
  nft_model::NftRuleset out = Parts();
  if (cache_ != nullptr) Evict();
  return out;
}

// A policy's rules chains after a change of its rules alone (RenderPolicyRulesChains): only the
// chains of `previous` (what the endpoints reach) are rendered again, from the cache's record of
// what they were; nullopt as soon as the change could reach beyond them.
Result<std::optional<std::map<std::string, nft_model::NftChain>>> Renderer::RenderPolicyRules(
    std::span<const std::string> policy_ids, const nft_model::NftRuleset& previous) {
  using Out = std::optional<std::map<std::string, nft_model::NftChain>>;
  // Host endpoints (their untracked policies are not flow-logged) and a render without a cache or
  // a report (which cannot tell what changed, or would fail instead of isolating): the full path.
  if (cache_ == nullptr || report_ == nullptr || !model_.host_endpoints.empty()) return Out{};
  RETURN_IF_ERROR(IndexSets());
  if (!report_->skipped.empty()) return Out{};
  std::map<std::string, nft_model::NftChain> out;
  for (const std::string& id : policy_ids) {
    auto at = std::lower_bound(model_.policies.begin(), model_.policies.end(), id,
                               [](const Policy& p, const std::string& v) { return p.id < v; });
    if (at == model_.policies.end() || at->id != id) return Out{};
    const Policy& policy = *at;
    for (bool ingress : {true, false}) {
      std::string name = PolicyChain(policy.tier, policy.id, ingress);
      // Not reached by any endpoint before, so not now either (the tier lists did not change).
      if (previous.chains.count(name) == 0) continue;
      const ParsedRules& rules = ingress ? policy.ingress : policy.egress;
      auto cached = cache_->chains.find(name);
      if (cached == cache_->chains.end() || !cached->second.is_policy ||
          cached->second.id != policy.id || cached->second.tier != policy.tier) {
        return Out{};
      }
      if (cached->second.rules.SameAs(rules) || cached->second.rules == rules) continue;
      // The endpoint chains follow from what the merge analysis sees of each policy (a merged
      // run's map elements, the accept-mark return, the pass guard): unchanged only when the
      // policy is in no merged run before or after and can still allow and pass as before.
      auto merge = cache_->merge_info.find(name);
      if (merge == cache_->merge_info.end() || !merge->second.info) return Out{};
      auto info = std::make_shared<const PolicyMergeInfo>(AnalysePolicyRules(rules));
      const PolicyMergeInfo& was = *merge->second.info;
      if ((options_.merge_min_policies > 0 && (was.mergeable || info->mergeable)) ||
          was.can_allow != info->can_allow || was.can_pass != info->can_pass) {
        return Out{};
      }
      merge->second.rules = rules;
      merge->second.info = std::move(info);
      merge->second.used = cache_->generation;
      auto sets_before = cached->second.sets;
      auto hint = chains_.lower_bound(name);
      RETURN_IF_ERROR(RenderRulesChain(name, &policy, ingress, hint));
      // A rule that does not compile (isolated) or ignores an HTTP match goes into the report:
      // the full path reports it.
      if (!report_->skipped.empty() || !report_->http_ignored.empty()) return Out{};
      // The sets (id, family) the rules refer to decide which empty sets exist.
      auto sets_after = cache_->chains.at(name).sets;
      std::sort(sets_before.begin(), sets_before.end());
      std::sort(sets_after.begin(), sets_after.end());
      sets_before.erase(std::unique(sets_before.begin(), sets_before.end()), sets_before.end());
      sets_after.erase(std::unique(sets_after.begin(), sets_after.end()), sets_after.end());
      if (sets_before != sets_after) return Out{};
      out[name].rules = chains_.at(name).rules;
    }
  }
  return Out(std::move(out));
}

Status Renderer::IndexModel() {
  RETURN_IF_ERROR(IndexEndpoints());
  return IndexPoliciesAndSets();
}

Status Renderer::IndexEndpoints() {
  std::set<std::string> ifaces;
  for (std::size_t i = 0; i < model_.endpoints.size(); ++i) {
    const Endpoint& ep = model_.endpoints[i];
    Status st = CheckEndpoint(ep, i, ifaces);
    if (st) continue;
    if (report_ == nullptr) return st;
    skipped_endpoints_.insert(&ep);
    report_->skipped.push_back(RenderProblem{.kind = "endpoint",
                                             .name = ep.name,
                                             .message = st.error().message(),
                                             .effect = "not programmed: its traffic is dropped"});
  }
  return OkStatus();
}

Status Renderer::CheckEndpoint(const Endpoint& ep, std::size_t i,
                               std::set<std::string>& ifaces) const {
  const std::string field = fmt::format("endpoints[{}].interfaceName", i);
  if (ep.interface_name.empty()) return InvalidArgument(field + ": required");
  if (ep.interface_name.size() > 15) {
    return InvalidArgument(
        fmt::format("{}: \"{}\" is longer than 15 characters", field, ep.interface_name));
  }
  for (char c : ep.interface_name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '/' || c == '\\' || c == '*' || u <= 0x20 || u >= 0x7f) {
      return InvalidArgument(fmt::format("{}: invalid interface name \"{}\"", field,
                                         SanitizeComment(ep.interface_name)));
    }
  }
  if (!ifaces.insert(ep.interface_name).second) {
    return InvalidArgument(
        fmt::format("{}: duplicate interface name \"{}\"", field, ep.interface_name));
  }
  // Felix's calc ValidationFilter (validateWorkloadEndpoint) treats such an endpoint as missing.
  if (!ep.allowed_source_prefixes.empty() && !options_.workload_source_spoofing) {
    ifaces.erase(ep.interface_name);
    return InvalidArgument(fmt::format(
        "endpoints[{}].allowSpoofedSourcePrefixes: source IP spoofing requested but not enabled "
        "in Felix configuration (workloadSourceSpoofing: Any)",
        i));
  }
  return OkStatus();
}

// With a report, an inconsistent item is left out and reported instead of failing the render:
// a policy or profile id given twice (the first is kept), an IP set that cannot be named (the
// rules that use it are isolated, as for any missing set). Without one, the first problem is
// the error.
Status Renderer::SkipInconsistent(Status st, std::string_view kind, const std::string& name,
                                  std::string_view effect) {
  if (report_ == nullptr) return st;
  report_->skipped.push_back(RenderProblem{.kind = std::string(kind),
                                           .name = name,
                                           .message = st.error().message(),
                                           .effect = std::string(effect)});
  return OkStatus();
}

Status Renderer::IndexPoliciesAndSets() {
  constexpr std::string_view kDuplicate = "ignored: the first item with this id is programmed";
  policies_.reserve(model_.policies.size());
  for (std::size_t i = 0; i < model_.policies.size(); ++i) {
    const Policy& p = model_.policies[i];
    if (p.id.empty()) {
      RETURN_IF_ERROR(SkipInconsistent(InvalidArgument("policies: policy with empty id"), "policy",
                                       fmt::format("policies[{}]", i),
                                       "ignored: endpoints naming it are isolated"));
    } else if (!policies_.emplace(p.id, &p).second) {
      RETURN_IF_ERROR(SkipInconsistent(
          InvalidArgument(fmt::format("policies: duplicate policy id \"{}\"", p.id)), "policy",
          p.tier + "/" + p.id, kDuplicate));
    }
  }
  for (std::size_t i = 0; i < model_.profiles.size(); ++i) {
    const Profile& p = model_.profiles[i];
    if (p.id.empty()) {
      RETURN_IF_ERROR(SkipInconsistent(InvalidArgument("profiles: profile with empty id"),
                                       "profile", fmt::format("profiles[{}]", i),
                                       "ignored: endpoints naming it are isolated"));
    } else if (!profiles_.emplace(p.id, &p).second) {
      RETURN_IF_ERROR(SkipInconsistent(
          InvalidArgument(fmt::format("profiles: duplicate profile id \"{}\"", p.id)), "profile",
          p.id, kDuplicate));
    }
  }
  return IndexSets();
}

Status Renderer::IndexSets() {
  sets_.reserve(model_.ip_sets.size());
  constexpr std::string_view kDuplicate = "ignored: the first item with this id is programmed";
  constexpr std::string_view kSetLeftOut = "left out: the policies using it are isolated";
  for (std::size_t i = 0; i < model_.ip_sets.size(); ++i) {
    const IpSet& s = model_.ip_sets[i];
    const std::string where = fmt::format("ipSets[{}]", i);
    std::string id = s.id;
    if (id.empty() && s.is_named_port()) {
      auto sel = NamedPortSelector(s.selector, "");
      if (!sel) {
        RETURN_IF_ERROR(SkipInconsistent(Unexpected(sel.error().Wrap(where + ".selector")), "ipset",
                                         where, kSetLeftOut));
        continue;
      }
      id = NamedPortSetId(*sel, s.named_port_protocol, s.named_port);
    } else if (id.empty()) {
      if (s.selector.empty()) {
        RETURN_IF_ERROR(SkipInconsistent(InvalidArgument(where + ": id or selector required"),
                                         "ipset", where, kSetLeftOut));
        continue;
      }
      auto sel = selector::Parse(s.selector);
      if (!sel) {
        RETURN_IF_ERROR(SkipInconsistent(Unexpected(sel.error().Wrap(where + ".selector")), "ipset",
                                         where, kSetLeftOut));
        continue;
      }
      id = sel->UniqueId();
    }
    if (sets_.count(id) != 0) {
      RETURN_IF_ERROR(SkipInconsistent(
          InvalidArgument(fmt::format("{}: duplicate IP set id \"{}\"", where, id)), "ipset", id,
          kDuplicate));
      continue;
    }
    std::string clash;
    for (int family : {4, 6}) {
      auto it = set_names_.find(SetName(id, family));
      if (it != set_names_.end()) {
        clash = fmt::format("{}: IP sets \"{}\" and \"{}\" both map to the nftables set name {}",
                            where, it->second, id, it->first);
      }
    }
    if (!clash.empty()) {
      // The set seen first keeps the name; rules using this one are isolated.
      RETURN_IF_ERROR(SkipInconsistent(InvalidArgument(clash), "ipset", id, kSetLeftOut));
      continue;
    }
    sets_.emplace(id, &s);
    for (int family : {4, 6}) {
      set_names_.emplace(SetName(id, family), id);
    }
  }
  return OkStatus();
}

Result<std::string> Renderer::ResolveSet(std::string_view field, std::string_view sel_text,
                                         std::string_view set_id, int family,
                                         std::vector<std::pair<std::string, int>>* used) {
  if (options_.resolve_set) {
    return options_.resolve_set(field, sel_text, family);
  }
  const std::string id(set_id);
  if (sets_.find(id) == sets_.end()) {
    // Canonical form for the message (errors only: the rule carries the id).
    auto sel = selector::Parse(sel_text);
    return InvalidArgument(fmt::format("{}: no IP set for selector \"{}\" (id {})", field,
                                       sel ? sel->String() : std::string(sel_text), id));
  }
  referenced_sets_.insert({id, family});
  if (used != nullptr) used->emplace_back(id, family);
  return SetName(id, family);
}

Result<std::string> Renderer::ResolveNamedPortSet(std::string_view field, std::string_view set_id,
                                                  int family,
                                                  std::vector<std::pair<std::string, int>>* used) {
  if (options_.resolve_named_port_set) {
    return options_.resolve_named_port_set(field, set_id, family);
  }
  const std::string id(set_id);
  auto it = sets_.find(id);
  if (it == sets_.end()) {
    return InvalidArgument(fmt::format("{}: no named-port IP set {}", field, id));
  }
  if (!it->second->is_named_port()) {
    return InvalidArgument(fmt::format("{}: IP set {} is not a named-port set", field, id));
  }
  referenced_sets_.insert({id, family});
  if (used != nullptr) used->emplace_back(id, family);
  return SetName(id, family);
}

// GCC 12 at -O3 (the release build, -Werror) reports the ChainOwner variant's string member as
// maybe used uninitialised where `owner` is copied into the chain; `owner` always holds a pointer
// alternative here. A false positive: silenced for this function only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
Status Renderer::RenderRulesChain(std::string chain_name, RulesSource source, bool ingress,
                                  std::map<std::string, Chain>::iterator hint) {
  const Policy* const* policy_ptr = std::get_if<const Policy*>(&source);
  const Policy* policy = policy_ptr != nullptr ? *policy_ptr : nullptr;
  const Profile* profile = policy == nullptr ? std::get<const Profile*>(source) : nullptr;
  const bool is_policy = policy != nullptr;
  const std::string& tier = is_policy ? policy->tier : NoTier();
  const std::string& source_id = is_policy ? policy->id : profile->id;
  const ParsedRules& rules = is_policy ? (ingress ? policy->ingress : policy->egress)
                                       : (ingress ? profile->ingress : profile->egress);
  const ChainOwner owner = is_policy ? ChainOwner(policy) : ChainOwner(profile);
  const std::string_view kind = is_policy ? "policy" : "profile";
  const std::string_view dir = ingress ? "ingress" : "egress";
  // "<tier>/<id>" for a policy: formatted only when needed (a cache hit of a chain without
  // ignored HTTP matches needs none, and a render at 10000 policies has some 20000 hits).
  const auto chain_id = [&] {
    return is_policy ? fmt::format("{}/{}", tier, source_id) : source_id;
  };
  Chain chain{.owner = owner};
  if (cache_ != nullptr) {
    auto it = cache_->chains.find(chain_name);
    // A hit needs the same source, the same rules and every IP set they use still in the model.
    if (it != cache_->chains.end() && it->second.is_policy == is_policy &&
        it->second.id == source_id && it->second.tier == tier && it->second.rules == rules &&
        it->second.flow_logged == FlowLogged(policy) &&
        std::all_of(it->second.sets.begin(), it->second.sets.end(),
                    [&](const auto& ref) { return sets_.count(ref.first) != 0; })) {
      it->second.used = cache_->generation;
      referenced_sets_.insert(it->second.sets.begin(), it->second.sets.end());
      if (it->second.http_ignored != 0) NoteHttpIgnored(kind, chain_id(), it->second.http_ignored);
      chain.rules = it->second.lines;
      chains_.emplace_hint(hint, std::move(chain_name), std::move(chain));
      return OkStatus();
    }
  }
  const std::string id_text = chain_id();
  std::vector<std::pair<std::string, int>> used_sets;
  RenderContext ctx{
      .marks = options_.marks, .log_prefix = options_.log_prefix, .deny_verdict = DenyVerdict()};
  ctx.resolve_set = [this, &used_sets](std::string_view field, std::string_view sel,
                                       std::string_view set_id, int family) {
    return ResolveSet(field, sel, set_id, family, &used_sets);
  };
  ctx.resolve_named_port_set = [this, &used_sets](std::string_view field, std::string_view set_id,
                                                  int family) {
    return ResolveNamedPortSet(field, set_id, family, &used_sets);
  };
  // A rule that does not render (an IP set missing from the model) or did not parse (logged by
  // the calculation graph when the policy arrived) makes the whole chain unrenderable: an error
  // without a report, a chain that drops with one (Isolate).
  int http_ignored = 0;
  std::size_t rule_index = 0;
  const std::string felix_id = is_policy ? FelixPolicyId(*policy) : source_id;
  if (FlowLogged(policy)) {
    ctx.nflog_group = fmt::format("log group {} prefix", NflogGroup(ingress));
    ctx.nflog_prefix = [&](Action a) {
      const FlowAction fa = a == Action::kAllow  ? FlowAction::kAllow
                            : a == Action::kPass ? FlowAction::kPass
                                                 : FlowAction::kDeny;
      return RulePrefix(fa, !is_policy, ingress, rule_index, felix_id);
    };
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    rule_index = i;
    ctx.comment = fmt::format("{} {} {} #{}", kind, id_text, dir, i);
    auto lines = RenderRule(rules[i], ctx);
    if (!lines) {
      Status st =
          Unexpected(lines.error().Wrap(fmt::format("{} {} {}[{}]", kind, id_text, dir, i)));
      return Isolate(std::move(st), std::move(chain_name), Chain{.owner = owner}, kind, id_text);
    }
    if (rules[i].http_match_ignored) ++http_ignored;
    for (std::string& line : *lines) {
      chain.rules.push_back(std::move(line));
    }
  }
  if (!rules.ok()) {
    Status st = Unexpected(
        rules.error()->Wrap(fmt::format("{} {} {}[{}]", kind, id_text, dir, rules.size())));
    return Isolate(std::move(st), std::move(chain_name), Chain{.owner = owner}, kind, id_text);
  }
  NoteHttpIgnored(kind, id_text, http_ignored);
  if (cache_ != nullptr) {
    cache_->chains[chain_name] = RenderCache::State::RulesChain{.is_policy = is_policy,
                                                                .tier = tier,
                                                                .id = source_id,
                                                                .rules = rules,
                                                                .lines = chain.rules,
                                                                .sets = std::move(used_sets),
                                                                .http_ignored = http_ignored,
                                                                .flow_logged = FlowLogged(policy),
                                                                .used = cache_->generation};
  }
  chains_.emplace_hint(hint, std::move(chain_name), std::move(chain));
  return OkStatus();
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// The chain becomes a single drop: endpoints that reach it drop there (their tier's end-of-tier
// drop brought forward, whatever the tier's default action) and no rule of it allows anything.
// Such chains are not cached: the next render tries again.
Status Renderer::Isolate(Status st, std::string chain_name, Chain chain, std::string_view kind,
                         const std::string& name) {
  if (report_ == nullptr) return st;
  report_->skipped.push_back(RenderProblem{
      .kind = std::string(kind),
      .name = name,
      .message = st.error().message(),
      .effect = "not programmed: endpoints it applies to drop their traffic at its place"});
  chain.rules = nft_model::NftLines{
      fmt::format("counter {} {}", DenyVerdict(),
                  Comment(fmt::format("{} {} cannot be rendered: {}", kind, name, DenyVerdict())))};
  AddChain(std::move(chain_name), std::move(chain));
  return OkStatus();
}

// A workload endpoint that cannot be rendered as a whole (its tiers name an unknown policy or
// one of another tier, its chain name is taken): what it added is taken back and both its chains
// become a single drop, so its traffic drops while every other endpoint is programmed. When the
// chain names themselves are taken, it is left out of the dispatch maps (the "Unknown
// interface" drop).
Status Renderer::IsolateEndpoint(const Endpoint& ep, Status st) {
  if (report_ == nullptr) return st;
  const std::string owner = fmt::format("endpoint {}", ep.name);
  bool taken = false;
  for (bool ingress : {true, false}) {
    const std::string name =
        ingress ? ToWorkloadChain(ep.interface_name) : FromWorkloadChain(ep.interface_name);
    auto it = chains_.find(name);
    if (it == chains_.end()) continue;
    if (it->second.owner == ChainOwner(owner)) {
      chains_.erase(it);
    } else {
      taken = true;
    }
  }
  for (auto* entries : {&to_wl_, &from_wl_}) {
    std::erase_if(*entries, [&](const auto& e) { return e.first == ep.interface_name; });
  }
  report_->skipped.push_back(RenderProblem{.kind = "endpoint",
                                           .name = ep.name,
                                           .message = st.error().message(),
                                           .effect = "not programmed: its traffic is dropped"});
  if (taken) return OkStatus();
  for (bool ingress : {true, false}) {
    const std::string name =
        ingress ? ToWorkloadChain(ep.interface_name) : FromWorkloadChain(ep.interface_name);
    Chain chain{.owner = owner};
    chain.rules.push_back(fmt::format(
        "counter drop {}", Comment(fmt::format("endpoint {} cannot be rendered: drop", ep.name))));
    AddChain(name, std::move(chain));
    (ingress ? to_wl_ : from_wl_).emplace_back(ep.interface_name, name);
  }
  return OkStatus();
}

void Renderer::NoteHttpIgnored(std::string_view kind, const std::string& name, int rules) {
  if (report_ == nullptr || rules == 0) return;
  report_->http_ignored[fmt::format("{} {}", kind, name)] += rules;
}

// Drops what this render did not use.
void Renderer::Evict() {
  std::erase_if(cache_->chains,
                [&](const auto& entry) { return entry.second.used != cache_->generation; });
  std::erase_if(cache_->sets,
                [&](const auto& entry) { return entry.second.used != cache_->generation; });
  std::erase_if(cache_->merge_info,
                [&](const auto& entry) { return entry.second.used != cache_->generation; });
}

Status Renderer::EnsureRulesChain(std::string chain_name, RulesSource source, bool ingress) {
  // One lookup per policy direction (a render at 10000 policies makes some 20000 of them): the
  // position found is where RenderRulesChain adds the chain.
  auto it = chains_.lower_bound(chain_name);
  if (it != chains_.end() && it->first == chain_name) {
    const ChainOwner owner = std::visit([](const auto* p) { return ChainOwner(p); }, source);
    if (it->second.owner == owner) return OkStatus();
    return InvalidArgument(fmt::format("{} and {} both map to the nftables chain {}",
                                       OwnerOf(it->second.owner), OwnerOf(owner), chain_name));
  }
  return RenderRulesChain(std::move(chain_name), source, ingress, it);
}

// The set's elements of one family as nft text, from the cache when the members did not change.
nft_model::NftLines Renderer::SetElements(const std::string& id, const IpSet& set, int family) {
  RenderCache::State::SetElements* entry = nullptr;
  if (cache_ != nullptr) {
    entry = &cache_->sets[id];
    if (entry->used != 0 && entry->members == set.members) {
      entry->used = cache_->generation;
      return entry->text[family == 6 ? 1 : 0];
    }
    if (entry->used != cache_->generation) {
      entry->members = set.members;
      for (int f : {4, 6}) {
        std::vector<std::string> text;
        for (const net::CIDR& c : NormaliseMembers(set.members, f)) {
          text.push_back(MemberText(c));
        }
        entry->text[f == 6 ? 1 : 0] = nft_model::NftLines(std::move(text));
      }
      entry->used = cache_->generation;
    }
    return entry->text[family == 6 ? 1 : 0];
  }
  std::vector<std::string> text;
  for (const net::CIDR& c : NormaliseMembers(set.members, family)) {
    text.push_back(MemberText(c));
  }
  return nft_model::NftLines(std::move(text));
}

// A named-port set per family with members or referenced: no interval flag (single addresses).
void Renderer::AddNamedPortSet(nft_model::NftRuleset& out, const std::string& id,
                               const IpSet& set) const {
  for (int family : {4, 6}) {
    std::vector<std::string> items = PortMemberTexts(set.port_members, family);
    if (items.empty() && referenced_sets_.count({id, family}) == 0) continue;
    nft_model::NftSet& s = out.sets[SetName(id, family)];
    s.header.push_back(fmt::format("type {} . inet_proto . inet_service",
                                   family == 6 ? "ipv6_addr" : "ipv4_addr"));
    const std::string what = fmt::format(
        "named port {}:{}", NamedPortProtocolName(set.named_port_protocol), set.named_port);
    s.header.push_back(fmt::format(
        "comment \"{}\"",
        SanitizeComment(set.selector.empty() ? what
                                             : fmt::format("{} of {}", what, set.selector))));
    s.elements = nft_model::NftLines(std::move(items));
  }
}

// The overlay filter's sets (RenderOptions::overlay), present (maybe empty) while a rule uses
// them. Felix's set names cannot collide with the model's: those ids have a "s:"/"n:" form.
void Renderer::AddOverlaySets(nft_model::NftRuleset& out) const {
  const RenderOptions::OverlayFilter& o = options_.overlay;
  const auto add = [&](std::string_view id, int family, const std::vector<net::CIDR>& members,
                       std::string_view comment) {
    nft_model::NftSet& s = out.sets[SetName(id, family)];
    s.header = {family == 6 ? "type ipv6_addr" : "type ipv4_addr", "flags interval",
                fmt::format("comment \"{}\"", comment)};
    std::vector<std::string> text;
    for (const net::CIDR& c : NormaliseMembers(members, family)) {
      text.push_back(MemberText(c));
    }
    s.elements = nft_model::NftLines(std::move(text));
  };
  if (o.ipip) add(kAllHostNets, 4, o.host_nets, "Calico hosts (IPIP sources)");
  if (o.vxlan) add(kAllVxlanNets, 4, o.vxlan_sources, "Allowed VXLAN sources");
  if (o.vxlan_v6) add(kAllVxlanNets, 6, o.vxlan_sources, "Allowed VXLAN sources");
}

nft_model::NftRuleset Renderer::Parts() {
  nft_model::NftRuleset out;
  out.family = "inet";
  out.table = std::string(kTable);
  AddOverlaySets(out);
  // Sets: every set with members, plus every (set, family) a rule refers to.
  for (const auto& [id, set] : sets_) {
    if (set->is_named_port()) {
      AddNamedPortSet(out, id, *set);
      continue;
    }
    for (int family : {4, 6}) {
      nft_model::NftLines elements = SetElements(id, *set, family);
      if (elements.empty() && referenced_sets_.count({id, family}) == 0) continue;
      nft_model::NftSet& s = out.sets[SetName(id, family)];
      s.header.push_back(family == 6 ? "type ipv6_addr" : "type ipv4_addr");
      s.header.push_back("flags interval");
      if (!set->selector.empty()) {
        s.header.push_back(fmt::format("comment \"{}\"", SanitizeComment(set->selector)));
      }
      s.elements = std::move(elements);
    }
  }
  std::vector<std::pair<std::string_view, const std::vector<std::pair<std::string, std::string>>*>>
      maps = {{kFromWlDispatch, &from_wl_}, {kToWlDispatch, &to_wl_}};
  if (!host_endpoints_.empty()) {
    maps.insert(maps.end(), {{kFromHostEndpoint, &from_hep_},
                             {kToHostEndpoint, &to_hep_},
                             {kFromHepForward, &from_hep_fwd_},
                             {kToHepForward, &to_hep_fwd_}});
    if (pre_dnat_) maps.emplace_back(kPreDnatFromHostEndpoint, &pre_dnat_from_);
    if (untracked_) {
      maps.emplace_back(kRawFromHostEndpoint, &raw_from_);
      maps.emplace_back(kRawToHostEndpoint, &raw_to_);
    }
  }
  if (!rpf_skip_.empty()) maps.emplace_back(kRpfSkip, &rpf_skip_);
  for (const auto& [name, entries] : maps) {
    nft_model::NftSet& map = out.sets[std::string(name)];
    map.is_map = true;
    map.header.push_back("type ifname : verdict");
    // The exemptions return to the reverse-path check when the source is not exempt.
    const char* verdict = name == kRpfSkip ? "jump" : "goto";
    for (const auto& [iface, chain] : *entries) {
      map.elements.push_back(fmt::format("\"{}\" : {} {}", iface, verdict, chain));
    }
  }
  // The merged runs' verdict maps (policy_merge.h).
  for (auto& [name, map] : merged_maps_) {
    out.sets[name] = std::move(map);
  }
  // Both maps are ordered by name: the names move over (no copies), appended at the end.
  while (!chains_.empty()) {
    auto node = chains_.extract(chains_.begin());
    nft_model::NftChain& c =
        out.chains.emplace_hint(out.chains.end(), std::move(node.key()), nft_model::NftChain{})
            ->second;
    if (!node.mapped().base.empty()) c.header.push_back(node.mapped().base);
    c.rules = std::move(node.mapped().rules);
  }
  return out;
}

}  // namespace internal

namespace {

// The selectors of `rules` by IP set id, for ComputeSelectorIpSets.
Status CollectSelectors(const ParsedRules& rules, std::map<std::string, selector::Selector>& out) {
  for (const ParsedRule& rule : rules) {
    for (const EntityMatch* e : {&rule.source, &rule.destination}) {
      for (const std::string* text : {&e->selector, &e->not_selector}) {
        if (text->empty()) continue;
        auto sel = selector::Parse(*text);
        if (!sel) return Unexpected(sel.error());
        out.emplace(sel->UniqueId(), *sel);
      }
    }
  }
  if (!rules.ok()) return Unexpected(*rules.error());
  return OkStatus();
}

}  // namespace

Result<nft_model::NftRuleset> RenderRulesetParts(const Model& model, const RenderOptions& options,
                                                 RenderCache* cache, RenderReport* report) {
  if (report != nullptr) *report = RenderReport{};
  return internal::Renderer(model, options, cache, report).Render();
}

Result<std::optional<std::map<std::string, nft_model::NftChain>>> RenderPolicyRulesChains(
    const Model& model, const RenderOptions& options, RenderCache& cache,
    std::span<const std::string> policy_ids, const nft_model::NftRuleset& previous) {
  RenderReport report;
  return internal::Renderer(model, options, &cache, &report)
      .RenderPolicyRules(policy_ids, previous);
}

Result<std::string> RenderRuleset(const Model& model, const RenderOptions& options) {
  ASSIGN_OR_RETURN(nft_model::NftRuleset parts, RenderRulesetParts(model, options));
  std::string out =
      "# Generated by calico::policy (Felix filter-table policy in nftables form). Do not "
      "edit.\n";
  if (options.replace_table) {
    out += fmt::format("table inet {0}\ndelete table inet {0}\n", internal::kTable);
  }
  out += nft_model::NftRulesetText(parts);
  return out;
}

Result<std::vector<IpSet>> ComputeSelectorIpSets(const Model& model) {
  std::map<std::string, selector::Selector> selectors{};
  for (const Policy& p : model.policies) {
    for (const ParsedRules* rules : {&p.ingress, &p.egress}) {
      if (Status st = CollectSelectors(*rules, selectors); !st) {
        return Unexpected(std::move(st).error().Wrap(fmt::format("policy {}", p.id)));
      }
    }
  }
  for (const Profile& p : model.profiles) {
    for (const ParsedRules* rules : {&p.ingress, &p.egress}) {
      if (Status st = CollectSelectors(*rules, selectors); !st) {
        return Unexpected(std::move(st).error().Wrap(fmt::format("profile {}", p.id)));
      }
    }
  }
  std::vector<IpSet> sets{};
  for (const auto& [id, sel] : selectors) {
    IpSet set{.id = id, .selector = sel.String()};
    for (const Endpoint& ep : model.endpoints) {
      if (!sel.Evaluate(ep.labels)) continue;
      set.members.insert(set.members.end(), ep.addresses.begin(), ep.addresses.end());
    }
    for (const HostEndpoint& ep : model.host_endpoints) {
      if (!sel.Evaluate(ep.labels)) continue;
      set.members.insert(set.members.end(), ep.expected_ips.begin(), ep.expected_ips.end());
    }
    sets.push_back(std::move(set));
  }
  return sets;
}

}  // namespace calico::policy
