// Full ruleset rendering: Felix's filter-table structure (felix/rules/static.go, endpoints.go,
// dispatch.go) in nftables form (felix/nftables), for one `inet` table.
#include "calico/policy/ruleset_renderer.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/nft_model/ruleset.h"
#include "calico/policy/named_ports.h"
#include "calico/policy/names.h"
#include "calico/policy/rule_compiler.h"
#include "calico/selector/selector.h"

namespace calico::policy {

// What a render leaves for the next one (see RenderCache in the header).
struct RenderCache::State {
  // The options the entries were rendered with (marks, log prefix): a change empties the cache.
  std::string options_key{};
  uint64_t generation = 0;  // Of the render in progress; entries not used by it are dropped.
  struct RulesChain {
    bool is_policy = false;  // What the chain was compiled for: a policy (tier, id) or a profile.
    std::string tier{};
    std::string id{};
    SharedJson rules{};           // Usually the model's own document: compared by pointer first.
    nft_model::NftLines lines{};  // Shared with the rendered rulesets.
    std::vector<std::pair<std::string, int>> sets{};  // (set id, family) the rules refer to.
    int http_ignored = 0;  // Rules whose HTTP match is not enforced (for RenderReport).
    uint64_t used = 0;
  };
  std::unordered_map<std::string, RulesChain> chains{};  // By chain name.
  struct SetElements {
    std::vector<net::CIDR> members{};           // As given in the model.
    std::array<nft_model::NftLines, 2> text{};  // IPv4, IPv6 elements.
    uint64_t used = 0;
  };
  std::unordered_map<std::string, SetElements> sets{};  // By set id.
};

RenderCache::RenderCache() : state_(std::make_unique<State>()) {}
RenderCache::~RenderCache() = default;
RenderCache::RenderCache(RenderCache&&) noexcept = default;
RenderCache& RenderCache::operator=(RenderCache&&) noexcept = default;

namespace {

constexpr std::string_view kTable = "calico";
constexpr std::string_view kFromWlDispatch = "cali-from-wl-dispatch";
constexpr std::string_view kToWlDispatch = "cali-to-wl-dispatch";
constexpr std::string_view kWlToHost = "cali-wl-to-host";
// Host endpoint dispatch (chain and verdict map of the same name) and failsafe chains.
constexpr std::string_view kFromHostEndpoint = "cali-from-host-endpoint";
constexpr std::string_view kToHostEndpoint = "cali-to-host-endpoint";
constexpr std::string_view kFromHepForward = "cali-from-hep-forward";
constexpr std::string_view kToHepForward = "cali-to-hep-forward";
constexpr std::string_view kPreDnatFromHostEndpoint = "mangle-cali-from-host-endpoint";
constexpr std::string_view kRawFromHostEndpoint = "raw-cali-from-host-endpoint";
constexpr std::string_view kRawToHostEndpoint = "raw-cali-to-host-endpoint";
constexpr std::string_view kFailsafeIn = "cali-failsafe-in";
constexpr std::string_view kFailsafeOut = "cali-failsafe-out";
constexpr std::string_view kRawFailsafeIn = "raw-cali-failsafe-in";
constexpr std::string_view kRawFailsafeOut = "raw-cali-failsafe-out";

std::string Hex(uint32_t v) {
  return fmt::format("{:#x}", v);
}
std::string Comment(std::string_view text) {
  return fmt::format("comment \"{}\"", SanitizeComment(text));
}

struct Chain {
  // What the chain was rendered for (collision detection): `owner`, or for policy and profile
  // chains the Policy / Profile `source` (formatted only when an error needs it).
  std::string owner{};
  const void* source = nullptr;
  bool source_is_policy = false;
  std::string base{};  // "type filter hook ... ;" line for base chains, else empty.
  nft_model::NftLines rules{};
};

const std::string& NoTier() {
  static const std::string none;
  return none;
}

std::string OwnerOf(const Chain& c) {
  if (c.source == nullptr) return c.owner;
  if (c.source_is_policy) {
    const Policy& p = *static_cast<const Policy*>(c.source);
    return fmt::format("policy {}/{}", p.tier, p.id);
  }
  return fmt::format("profile {}", static_cast<const Profile*>(c.source)->id);
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

std::string MemberText(const net::CIDR& c) {
  return c.prefix_len() == c.addr().bit_len() ? c.addr().String() : c.String();
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

class Renderer {
 public:
  Renderer(const Model& model, const RenderOptions& options, RenderCache* cache,
           RenderReport* report)
      : model_(model), options_(options), report_(report) {
    // A custom set resolver may answer differently from one render to the next: no caching.
    if (cache != nullptr && !options_.resolve_set && !options_.resolve_named_port_set) {
      cache_ = &cache->state();
      const std::string key = fmt::format("{:x}/{:x}/{}", options_.marks.accept,
                                          options_.marks.pass, options_.log_prefix);
      if (cache_->options_key != key) {
        cache_->chains.clear();
        cache_->sets.clear();
        cache_->options_key = key;
      }
      ++cache_->generation;
    }
  }

  Result<nft_model::NftRuleset> Render() {
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
      RETURN_IF_ERROR(RenderEndpoint(*ep, true));
      RETURN_IF_ERROR(RenderEndpoint(*ep, false));
    }
    if (!host_endpoints_.empty()) RETURN_IF_ERROR(RenderHostEndpoints());
    nft_model::NftRuleset out = Parts();
    if (cache_ != nullptr) Evict();
    return out;
  }

 private:
  Status IndexModel() {
    RETURN_IF_ERROR(IndexEndpoints());
    return IndexPoliciesAndSets();
  }

  // With a report, an endpoint whose interface cannot be named in nftables is left out (its
  // packets meet the dispatch chains' "Unknown interface" drop) and reported; without, an error.
  Status IndexEndpoints() {
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

  Status CheckEndpoint(const Endpoint& ep, std::size_t i, std::set<std::string>& ifaces) {
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
    return OkStatus();
  }

  Status IndexPoliciesAndSets() {
    for (const Policy& p : model_.policies) {
      if (p.id.empty()) return InvalidArgument("policies: policy with empty id");
      if (!policies_.emplace(p.id, &p).second) {
        return InvalidArgument(fmt::format("policies: duplicate policy id \"{}\"", p.id));
      }
    }
    for (const Profile& p : model_.profiles) {
      if (p.id.empty()) return InvalidArgument("profiles: profile with empty id");
      if (!profiles_.emplace(p.id, &p).second) {
        return InvalidArgument(fmt::format("profiles: duplicate profile id \"{}\"", p.id));
      }
    }
    for (std::size_t i = 0; i < model_.ip_sets.size(); ++i) {
      const IpSet& s = model_.ip_sets[i];
      std::string id = s.id;
      if (id.empty() && s.is_named_port()) {
        auto sel = NamedPortSelector(s.selector, "");
        if (!sel) return Unexpected(sel.error().Wrap(fmt::format("ipSets[{}].selector", i)));
        id = NamedPortSetId(*sel, s.named_port_protocol, s.named_port);
      } else if (id.empty()) {
        if (s.selector.empty()) {
          return InvalidArgument(fmt::format("ipSets[{}]: id or selector required", i));
        }
        auto sel = selector::Parse(s.selector);
        if (!sel) return Unexpected(sel.error().Wrap(fmt::format("ipSets[{}].selector", i)));
        id = sel->UniqueId();
      }
      if (!sets_.emplace(id, &s).second) {
        return InvalidArgument(fmt::format("ipSets[{}]: duplicate IP set id \"{}\"", i, id));
      }
      for (int family : {4, 6}) {
        const std::string name = SetName(id, family);
        auto [it, inserted] = set_names_.emplace(name, id);
        if (!inserted) {
          return InvalidArgument(
              fmt::format("ipSets[{}]: IP sets \"{}\" and \"{}\" both map to "
                          "the nftables set name {}",
                          i, it->second, id, name));
        }
      }
    }
    return OkStatus();
  }

  Result<std::string> ResolveSet(std::string_view field, std::string_view sel_text, int family,
                                 std::vector<std::pair<std::string, int>>* used) {
    if (options_.resolve_set) {
      return options_.resolve_set(field, sel_text, family);
    }
    auto sel = selector::Parse(sel_text);
    if (!sel) return Unexpected(sel.error().Wrap(field));
    const std::string& id = sel->UniqueId();
    if (sets_.find(id) == sets_.end()) {
      return InvalidArgument(
          fmt::format("{}: no IP set for selector \"{}\" (id {})", field, sel->String(), id));
    }
    referenced_sets_.insert({id, family});
    if (used != nullptr) used->emplace_back(id, family);
    return SetName(id, family);
  }

  Result<std::string> ResolveNamedPortSet(std::string_view field, std::string_view set_id,
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

  std::string ClearMask(uint32_t bits) const { return Hex(~bits); }

  void AddChain(std::string name, Chain chain) { chains_[std::move(name)] = std::move(chain); }

  void RenderStaticChains() {
    const MarkBits& m = options_.marks;
    const std::string clear =
        fmt::format("meta mark set meta mark & {} {}", ClearMask(m.accept | m.pass),
                    Comment("Clear accept and pass marks"));
    const std::string accepted = fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                             Comment("Policy explicitly accepted packet."));

    const bool heps = !host_endpoints_.empty();
    // With pre-DNAT or untracked policy the accept mark may carry their verdict from prerouting
    // (whose first chain clears the marks), so only pass is cleared here.
    const bool early_verdict = heps && (pre_dnat_ || untracked_);
    Chain fwd{.owner = "static",
              .base = "type filter hook forward priority filter; policy accept;"};
    fwd.rules.push_back("ct state established,related accept");
    if (early_verdict) {
      fwd.rules.push_back(fmt::format("meta mark set meta mark & {} {}", ClearMask(m.pass),
                                      Comment("Clear pass mark")));
      fwd.rules.push_back(
          fmt::format("meta mark & {} == 0 jump {}", Hex(m.accept), kFromHepForward));
    } else {
      fwd.rules.push_back(clear);
      if (heps) fwd.rules.push_back(fmt::format("jump {}", kFromHepForward));
    }
    for (const std::string& prefix : options_.interface_prefixes) {
      fwd.rules.push_back(fmt::format("iifname \"{}*\" jump {}", prefix, kFromWlDispatch));
    }
    for (const std::string& prefix : options_.interface_prefixes) {
      fwd.rules.push_back(fmt::format("oifname \"{}*\" jump {}", prefix, kToWlDispatch));
    }
    if (heps) fwd.rules.push_back(fmt::format("jump {}", kToHepForward));
    fwd.rules.push_back(accepted);
    if (heps) {
      // Tells mangle-cali-POSTROUTING that the packet was forwarded, not sent by the host.
      fwd.rules.push_back(fmt::format("meta mark set meta mark | {} {}", Hex(m.accept),
                                      Comment("Mark forwarded traffic")));
    }
    AddChain("cali-FORWARD", std::move(fwd));

    const std::string hep_accepted = fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                                 Comment("Host endpoint policy accepted packet."));
    Chain input{.owner = "static",
                .base = "type filter hook input priority filter; policy accept;"};
    for (const std::string& prefix : options_.interface_prefixes) {
      input.rules.push_back(fmt::format("iifname \"{}*\" goto {}", prefix, kWlToHost));
    }
    if (heps) {
      if (early_verdict) {
        input.rules.push_back(fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                          Comment("Accepted by pre-DNAT or untracked policy")));
      }
      input.rules.push_back(clear);
      input.rules.push_back(fmt::format("jump {}", kFromHostEndpoint));
      input.rules.push_back(hep_accepted);
    }
    AddChain("cali-INPUT", std::move(input));

    Chain output{.owner = "static",
                 .base = "type filter hook output priority filter; policy accept;"};
    if (heps && untracked_) {
      output.rules.push_back(fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                         Comment("Accepted by untracked policy")));
    }
    for (const std::string& prefix : options_.interface_prefixes) {
      output.rules.push_back(fmt::format("oifname \"{}*\" return {}", prefix,
                                         Comment("Host to workload traffic is not policed")));
    }
    if (heps) {
      // DNAT'd host traffic gets its egress policy in mangle-cali-POSTROUTING instead, once the
      // output interface is the one of the new destination.
      output.rules.push_back(clear);
      output.rules.push_back(fmt::format("ct status != dnat jump {}", kToHostEndpoint));
      output.rules.push_back(hep_accepted);
    }
    AddChain("cali-OUTPUT", std::move(output));

    Chain to_host{.owner = "static"};
    to_host.rules.push_back(
        fmt::format("meta nfproto ipv6 meta l4proto 58 icmpv6 type {{ 130, 131, 132, 133, 135, 136 "
                    "}} accept {}",
                    Comment("Allow IPv6 multicast listener and neighbour discovery")));
    to_host.rules.push_back("ct state established,related accept");
    to_host.rules.push_back(clear);
    to_host.rules.push_back(fmt::format("jump {}", kFromWlDispatch));
    const std::string action_comment = Comment("Configured DefaultEndpointToHostAction");
    switch (options_.endpoint_to_host_action) {
      case EndpointToHostAction::kDrop:
        to_host.rules.push_back(fmt::format("counter drop {}", action_comment));
        break;
      case EndpointToHostAction::kAccept:
        to_host.rules.push_back(fmt::format("counter accept {}", action_comment));
        break;
      case EndpointToHostAction::kReturn:
        to_host.rules.push_back(fmt::format("counter return {}", action_comment));
        break;
    }
    AddChain(std::string(kWlToHost), std::move(to_host));

    for (const auto& [chain, key] :
         {std::pair{kFromWlDispatch, "iifname"}, {kToWlDispatch, "oifname"}}) {
      Chain dispatch{.owner = "static"};
      dispatch.rules.push_back(fmt::format("{} vmap @{}", key, chain));
      dispatch.rules.push_back(fmt::format("counter drop {}", Comment("Unknown interface")));
      AddChain(std::string(chain), std::move(dispatch));
    }
  }

  // Compiles the rules of `source` (a Policy, or a Profile) into chain `chain_name`, from the
  // cache when they did not change.
  Status RenderRulesChain(std::string chain_name, const void* source, bool is_policy,
                          bool ingress) {
    const Policy* policy = is_policy ? static_cast<const Policy*>(source) : nullptr;
    const Profile* profile = is_policy ? nullptr : static_cast<const Profile*>(source);
    const std::string& tier = policy != nullptr ? policy->tier : NoTier();
    const std::string& source_id = policy != nullptr ? policy->id : profile->id;
    const SharedJson& rules_doc = policy != nullptr
                                      ? (ingress ? policy->ingress : policy->egress)
                                      : (ingress ? profile->ingress : profile->egress);
    const Json& rules = rules_doc;
    Chain chain{.source = source, .source_is_policy = is_policy};
    if (auto it = chains_.find(chain_name); it != chains_.end()) {
      if (it->second.source == source) return OkStatus();
      return InvalidArgument(fmt::format("{} and {} both map to the nftables chain {}",
                                         OwnerOf(it->second), OwnerOf(chain), chain_name));
    }
    const std::string_view kind = is_policy ? "policy" : "profile";
    const std::string_view dir = ingress ? "ingress" : "egress";
    auto id = [&] { return is_policy ? fmt::format("{}/{}", tier, source_id) : source_id; };
    if (!rules.is_null() && !rules.is_array()) {
      Status st = InvalidArgument(fmt::format("{} {}: {} rules must be a list", kind, id(), dir));
      return Isolate(std::move(st), std::move(chain_name), std::move(chain), kind, id());
    }
    if (cache_ != nullptr) {
      auto it = cache_->chains.find(chain_name);
      // A hit needs the same source, the same rules and every IP set they use still in the model.
      if (it != cache_->chains.end() && it->second.is_policy == is_policy &&
          it->second.id == source_id && it->second.tier == tier && it->second.rules == rules_doc &&
          std::all_of(it->second.sets.begin(), it->second.sets.end(),
                      [&](const auto& ref) { return sets_.count(ref.first) != 0; })) {
        it->second.used = cache_->generation;
        referenced_sets_.insert(it->second.sets.begin(), it->second.sets.end());
        NoteHttpIgnored(kind, id(), it->second.http_ignored);
        chain.rules = it->second.lines;
        AddChain(std::move(chain_name), std::move(chain));
        return OkStatus();
      }
    }
    std::vector<std::pair<std::string, int>> used_sets;
    RenderContext ctx{.marks = options_.marks, .log_prefix = options_.log_prefix};
    ctx.resolve_set = [this, &used_sets](std::string_view field, std::string_view sel, int family) {
      return ResolveSet(field, sel, family, &used_sets);
    };
    ctx.resolve_named_port_set = [this, &used_sets](std::string_view field, std::string_view set_id,
                                                    int family) {
      return ResolveNamedPortSet(field, set_id, family, &used_sets);
    };
    const std::string chain_id = id();
    int http_ignored = 0;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      ctx.comment = fmt::format("{} {} {} #{}", kind, chain_id, dir, i);
      auto ir = ParseRule(rules[i]);
      Result<std::vector<std::string>> lines =
          ir ? RenderRule(*ir, ctx) : Result<std::vector<std::string>>(Unexpected(ir.error()));
      if (!lines) {
        Status st =
            Unexpected(lines.error().Wrap(fmt::format("{} {} {}[{}]", kind, chain_id, dir, i)));
        return Isolate(std::move(st), std::move(chain_name),
                       Chain{.source = source, .source_is_policy = is_policy}, kind, chain_id);
      }
      if (ir->http_match_ignored) ++http_ignored;
      for (std::string& line : *lines) {
        chain.rules.push_back(std::move(line));
      }
    }
    NoteHttpIgnored(kind, chain_id, http_ignored);
    if (cache_ != nullptr) {
      cache_->chains[chain_name] = RenderCache::State::RulesChain{.is_policy = is_policy,
                                                                  .tier = tier,
                                                                  .id = source_id,
                                                                  .rules = rules_doc,
                                                                  .lines = chain.rules,
                                                                  .sets = std::move(used_sets),
                                                                  .http_ignored = http_ignored,
                                                                  .used = cache_->generation};
    }
    AddChain(std::move(chain_name), std::move(chain));
    return OkStatus();
  }

  // A policy or profile chain that cannot be compiled: without a report, the error; with one, the
  // chain becomes a single drop (so endpoints that reach it get their tier's end-of-tier drop
  // there, whatever the tier's default action, and no rule of it allows anything) and the problem
  // is reported. Such chains are not cached: the next render tries again.
  Status Isolate(Status st, std::string chain_name, Chain chain, std::string_view kind,
                 const std::string& name) {
    if (report_ == nullptr) return st;
    report_->skipped.push_back(RenderProblem{
        .kind = std::string(kind),
        .name = name,
        .message = st.error().message(),
        .effect = "not programmed: endpoints it applies to drop their traffic at its place"});
    chain.rules = nft_model::NftLines{fmt::format(
        "counter drop {}", Comment(fmt::format("{} {} cannot be rendered: drop", kind, name)))};
    AddChain(std::move(chain_name), std::move(chain));
    return OkStatus();
  }

  void NoteHttpIgnored(std::string_view kind, const std::string& name, int rules) {
    if (report_ == nullptr || rules == 0) return;
    report_->http_ignored[fmt::format("{} {}", kind, name)] += rules;
  }

  // Drops what this render did not use.
  void Evict() {
    std::erase_if(cache_->chains,
                  [&](const auto& entry) { return entry.second.used != cache_->generation; });
    std::erase_if(cache_->sets,
                  [&](const auto& entry) { return entry.second.used != cache_->generation; });
  }

  // Renders the rules chain of `source` (a Policy or Profile) unless this render already did.
  Status EnsureRulesChain(std::string chain_name, const void* source, bool is_policy,
                          bool ingress) {
    if (auto it = chains_.find(chain_name); it != chains_.end() && it->second.source == source) {
      return OkStatus();
    }
    return RenderRulesChain(std::move(chain_name), source, is_policy, ingress);
  }

  // The endpoint chains' fixed lines, formatted once per render.
  struct EndpointLines {
    std::string ct_invalid, clear, drop_vxlan, drop_ipip, policy_jump_prefix, policy_accepted,
        profile_accepted, no_profile;
  };
  const EndpointLines& Lines() {
    if (!lines_) {
      const MarkBits& m = options_.marks;
      lines_ = EndpointLines{
          .ct_invalid =
              fmt::format("ct state invalid counter drop {}", Comment("Drop if conntrack INVALID")),
          .clear = fmt::format("meta mark set meta mark & {} {}", ClearMask(m.accept | m.pass),
                               Comment("Clear accept and pass marks")),
          .drop_vxlan =
              fmt::format("meta l4proto 17 th dport {} counter drop {}", options_.vxlan_port,
                          Comment("Drop VXLAN encapped packets originating in workloads")),
          .drop_ipip =
              fmt::format("meta l4proto 4 counter drop {}",
                          Comment("Drop IPinIP encapped packets originating in workloads")),
          .policy_jump_prefix = fmt::format("meta mark & {} == 0 jump ", Hex(m.pass)),
          .policy_accepted = fmt::format("meta mark & {0} == {0} return {1}", Hex(m.accept),
                                         Comment("Return if policy accepted")),
          .profile_accepted = fmt::format("meta mark & {0} == {0} return {1}", Hex(m.accept),
                                          Comment("Return if profile accepted")),
          .no_profile = fmt::format("counter drop {}", Comment("Drop if no profiles matched")),
      };
    }
    return *lines_;
  }

  Status RenderEndpoint(const Endpoint& ep, bool ingress) {
    const MarkBits& m = options_.marks;
    const std::string name =
        ingress ? ToWorkloadChain(ep.interface_name) : FromWorkloadChain(ep.interface_name);
    if (auto it = chains_.find(name); it != chains_.end()) {
      return InvalidArgument(fmt::format("{} and endpoint {} both map to the nftables chain {}",
                                         OwnerOf(it->second), ep.name, name));
    }
    const std::string_view dir = ingress ? "ingress" : "egress";
    const EndpointLines& lines = Lines();
    Chain chain{.owner = fmt::format("endpoint {}", ep.name)};
    if (options_.drop_invalid) chain.rules.push_back(lines.ct_invalid);
    chain.rules.push_back(lines.clear);
    if (!ingress && options_.drop_encap_from_workloads) {
      chain.rules.push_back(lines.drop_vxlan);
      chain.rules.push_back(lines.drop_ipip);
    }
    const std::vector<TierRef>& tiers = ingress ? ep.ingress_tiers : ep.egress_tiers;
    for (std::size_t t = 0; t < tiers.size(); ++t) {
      const TierRef& tier = tiers[t];
      if (tier.policies.empty()) continue;  // A tier with no applicable policies is skipped.
      if (tier.name.empty()) {
        return InvalidArgument(
            fmt::format("endpoint {}: {} tier {}: name required", ep.name, dir, t));
      }
      chain.rules.push_back(fmt::format("meta mark set meta mark & {} {}", ClearMask(m.pass),
                                        Comment(fmt::format("Start of tier {}", tier.name))));
      for (const std::string& id : tier.policies) {
        auto it = policies_.find(id);
        if (it == policies_.end()) {
          return NotFound(fmt::format("endpoint {}: {} tier {} references unknown policy \"{}\"",
                                      ep.name, dir, tier.name, id));
        }
        const Policy& p = *it->second;
        if (p.tier != tier.name) {
          return InvalidArgument(fmt::format(
              "endpoint {}: {} tier {} lists policy \"{}\", which belongs to tier \"{}\"", ep.name,
              dir, tier.name, id, p.tier));
        }
        const std::string policy_chain = PolicyChain(p.tier, p.id, ingress);
        RETURN_IF_ERROR(EnsureRulesChain(policy_chain, &p, true, ingress));
        chain.rules.push_back(lines.policy_jump_prefix + policy_chain);
        chain.rules.push_back(lines.policy_accepted);
      }
      if (tier.default_deny) {
        chain.rules.push_back(fmt::format(
            "meta mark & {} == 0 counter drop {}", Hex(m.pass),
            Comment(fmt::format("End of tier {}. Drop if no policies passed packet", tier.name))));
      }
    }
    for (const std::string& id : ep.profiles) {
      auto it = profiles_.find(id);
      if (it == profiles_.end()) {
        return NotFound(fmt::format("endpoint {}: references unknown profile \"{}\"", ep.name, id));
      }
      const Profile& p = *it->second;
      const std::string profile_chain = ProfileChain(p.id, ingress);
      RETURN_IF_ERROR(EnsureRulesChain(profile_chain, &p, false, ingress));
      chain.rules.push_back("jump " + profile_chain);
      chain.rules.push_back(lines.profile_accepted);
    }
    chain.rules.push_back(lines.no_profile);
    AddChain(name, std::move(chain));
    (ingress ? to_wl_ : from_wl_).emplace_back(ep.interface_name, name);
    return OkStatus();
  }

  // --- Host endpoints ---------------------------------------------------------------------------

  static bool HasPolicies(const std::vector<TierRef>& tiers) {
    return std::any_of(tiers.begin(), tiers.end(),
                       [](const TierRef& t) { return !t.policies.empty(); });
  }

  Status IndexHostEndpoints() {
    std::set<std::string> ifaces;
    for (std::size_t i = 0; i < model_.host_endpoints.size(); ++i) {
      const HostEndpoint& ep = model_.host_endpoints[i];
      const std::string field = fmt::format("hostEndpoints[{}].interfaceName", i);
      const std::string& iface = ep.interface_name;
      if (iface.empty()) {
        return InvalidArgument(field +
                               ": required (bind expectedIPs-only host endpoints to interfaces "
                               "with ResolveHostEndpoints first)");
      }
      if (iface.size() > 15) {
        return InvalidArgument(
            fmt::format("{}: \"{}\" is longer than 15 characters", field, iface));
      }
      if (iface != kAllInterfaces) {
        for (char c : iface) {
          const auto u = static_cast<unsigned char>(c);
          if (c == '"' || c == '/' || c == '\\' || c == '*' || u <= 0x20 || u >= 0x7f) {
            return InvalidArgument(
                fmt::format("{}: invalid interface name \"{}\"", field, SanitizeComment(iface)));
          }
        }
      }
      if (!ifaces.insert(iface).second) {
        return InvalidArgument(
            fmt::format("{}: duplicate interface name \"{}\" (host endpoints {} and another)",
                        field, iface, ep.name));
      }
      host_endpoints_.push_back(&ep);
      pre_dnat_ = pre_dnat_ || HasPolicies(ep.pre_dnat_ingress_tiers);
      // Felix does not support untracked policy on the all-interfaces endpoint (it ignores it).
      if (iface != kAllInterfaces) {
        untracked_ = untracked_ || HasPolicies(ep.untracked_ingress_tiers) ||
                     HasPolicies(ep.untracked_egress_tiers);
      }
    }
    std::sort(host_endpoints_.begin(), host_endpoints_.end(),
              [](const HostEndpoint* a, const HostEndpoint* b) {
                return a->interface_name < b->interface_name;
              });
    return OkStatus();
  }

  // The policy jumps of `tiers` (Felix's endpointIptablesChain tier loop). `end_of_tier_drop`:
  // filter chains drop at the end of a Deny tier; pre-DNAT and untracked chains never do (normal
  // policy still follows). `notrack`: untracked chains exempt allowed packets from conntrack.
  Status AppendTierRules(Chain& chain, const std::string& who, std::string_view dir,
                         const std::vector<TierRef>& tiers, bool ingress, bool end_of_tier_drop,
                         bool notrack) {
    const MarkBits& m = options_.marks;
    for (std::size_t t = 0; t < tiers.size(); ++t) {
      const TierRef& tier = tiers[t];
      if (tier.policies.empty()) continue;
      if (tier.name.empty()) {
        return InvalidArgument(fmt::format("{}: {} tier {}: name required", who, dir, t));
      }
      chain.rules.push_back(fmt::format("meta mark set meta mark & {} {}", ClearMask(m.pass),
                                        Comment(fmt::format("Start of tier {}", tier.name))));
      for (const std::string& id : tier.policies) {
        auto it = policies_.find(id);
        if (it == policies_.end()) {
          return NotFound(fmt::format("{}: {} tier {} references unknown policy \"{}\"", who, dir,
                                      tier.name, id));
        }
        const Policy& p = *it->second;
        if (p.tier != tier.name) {
          return InvalidArgument(
              fmt::format("{}: {} tier {} lists policy \"{}\", which belongs to tier \"{}\"", who,
                          dir, tier.name, id, p.tier));
        }
        const std::string policy_chain = PolicyChain(p.tier, p.id, ingress);
        RETURN_IF_ERROR(EnsureRulesChain(policy_chain, &p, true, ingress));
        chain.rules.push_back(Lines().policy_jump_prefix + policy_chain);
        chain.rules.push_back(fmt::format("meta mark & {0} == {0} {1}return {2}", Hex(m.accept),
                                          notrack ? "notrack " : "",
                                          Comment("Return if policy accepted")));
      }
      if (end_of_tier_drop && tier.default_deny) {
        chain.rules.push_back(fmt::format(
            "meta mark & {} == 0 counter drop {}", Hex(m.pass),
            Comment(fmt::format("End of tier {}. Drop if no policies passed packet", tier.name))));
      }
    }
    return OkStatus();
  }

  void AppendConntrackRules(Chain& chain) {
    chain.rules.push_back("ct state established,related accept");
    if (options_.drop_invalid) chain.rules.push_back(Lines().ct_invalid);
  }

  std::string ClearMarks() { return Lines().clear; }

  Status AddHostChain(const std::string& name, const HostEndpoint& ep, Chain chain) {
    chain.owner = fmt::format("host endpoint {}", ep.name);
    if (auto it = chains_.find(name); it != chains_.end()) {
      return InvalidArgument(fmt::format("{} and {} both map to the nftables chain {}",
                                         OwnerOf(it->second), chain.owner, name));
    }
    AddChain(name, std::move(chain));
    return OkStatus();
  }

  // cali-fh-<iface> (ingress = from the interface) or cali-th-<iface> (egress).
  Status RenderHostNormalChain(const HostEndpoint& ep, bool ingress) {
    const std::string who = fmt::format("host endpoint {}", ep.name);
    Chain chain;
    AppendConntrackRules(chain);
    chain.rules.push_back(fmt::format("jump {}", ingress ? kFailsafeIn : kFailsafeOut));
    chain.rules.push_back(ClearMarks());
    RETURN_IF_ERROR(AppendTierRules(chain, who, ingress ? "ingress" : "egress",
                                    ingress ? ep.ingress_tiers : ep.egress_tiers, ingress, true,
                                    false));
    for (const std::string& id : ep.profiles) {
      auto it = profiles_.find(id);
      if (it == profiles_.end()) {
        return NotFound(fmt::format("{}: references unknown profile \"{}\"", who, id));
      }
      const Profile& p = *it->second;
      const std::string profile_chain = ProfileChain(p.id, ingress);
      RETURN_IF_ERROR(EnsureRulesChain(profile_chain, &p, false, ingress));
      chain.rules.push_back("jump " + profile_chain);
      chain.rules.push_back(Lines().profile_accepted);
    }
    chain.rules.push_back(Lines().no_profile);
    const std::string name =
        HostEndpointChain(ingress ? HostChainKind::kFrom : HostChainKind::kTo, ep.interface_name);
    RETURN_IF_ERROR(AddHostChain(name, ep, std::move(chain)));
    (ingress ? from_hep_ : to_hep_).emplace_back(ep.interface_name, name);
    return OkStatus();
  }

  // cali-fhfw-<iface> / cali-thfw-<iface>: applyOnForward policies only; forwarded traffic is
  // allowed when the endpoint has none (in either direction).
  Status RenderHostForwardChain(const HostEndpoint& ep, bool ingress) {
    Chain chain;
    AppendConntrackRules(chain);
    chain.rules.push_back(ClearMarks());
    RETURN_IF_ERROR(AppendTierRules(chain, fmt::format("host endpoint {}", ep.name),
                                    ingress ? "forward ingress" : "forward egress",
                                    ingress ? ep.forward_ingress_tiers : ep.forward_egress_tiers,
                                    ingress, true, false));
    if (!HasPolicies(ep.forward_ingress_tiers) && !HasPolicies(ep.forward_egress_tiers)) {
      chain.rules.push_back(fmt::format("meta mark set meta mark | {} return {}",
                                        Hex(options_.marks.accept),
                                        Comment("Allow forwarded traffic by default")));
    }
    const std::string name = HostEndpointChain(
        ingress ? HostChainKind::kFromForward : HostChainKind::kToForward, ep.interface_name);
    RETURN_IF_ERROR(AddHostChain(name, ep, std::move(chain)));
    (ingress ? from_hep_fwd_ : to_hep_fwd_).emplace_back(ep.interface_name, name);
    return OkStatus();
  }

  // mangle-cali-fh-<iface>: preDNAT policies (ingress only); no end-of-tier drop, no profiles.
  Status RenderHostPreDnatChain(const HostEndpoint& ep) {
    Chain chain;
    AppendConntrackRules(chain);
    chain.rules.push_back(fmt::format("jump {}", kFailsafeIn));
    chain.rules.push_back(ClearMarks());
    RETURN_IF_ERROR(AppendTierRules(chain, fmt::format("host endpoint {}", ep.name),
                                    "pre-DNAT ingress", ep.pre_dnat_ingress_tiers, true, false,
                                    false));
    const std::string name = HostEndpointChain(HostChainKind::kPreDnatFrom, ep.interface_name);
    RETURN_IF_ERROR(AddHostChain(name, ep, std::move(chain)));
    pre_dnat_from_.emplace_back(ep.interface_name, name);
    return OkStatus();
  }

  // raw-cali-fh-<iface> / raw-cali-th-<iface>: doNotTrack policies, before conntrack.
  Status RenderHostUntrackedChain(const HostEndpoint& ep, bool ingress) {
    Chain chain;
    chain.rules.push_back(fmt::format("jump {}", ingress ? kRawFailsafeIn : kRawFailsafeOut));
    chain.rules.push_back(ClearMarks());
    RETURN_IF_ERROR(AppendTierRules(
        chain, fmt::format("host endpoint {}", ep.name),
        ingress ? "untracked ingress" : "untracked egress",
        ingress ? ep.untracked_ingress_tiers : ep.untracked_egress_tiers, ingress, false, true));
    const std::string name = HostEndpointChain(
        ingress ? HostChainKind::kRawFrom : HostChainKind::kRawTo, ep.interface_name);
    RETURN_IF_ERROR(AddHostChain(name, ep, std::move(chain)));
    (ingress ? raw_from_ : raw_to_).emplace_back(ep.interface_name, name);
    return OkStatus();
  }

  // Accept rules for `ports` matched on the destination port (`reply`: on the source port, for
  // the return direction in the raw table). `inbound` puts a port's net on the source address.
  std::vector<std::string> FailsafeRules(const std::vector<FailsafePort>& ports, bool inbound,
                                         bool reply) const {
    const std::string_view port_field = reply ? "sport" : "dport";
    const std::string_view addr_field = inbound ? "saddr" : "daddr";
    const std::string comment =
        Comment(fmt::format("Failsafe {} host port{}", inbound != reply ? "inbound" : "outbound",
                            reply ? " reply" : ""));
    std::vector<std::string> rules;
    for (const char* proto : {"tcp", "udp", "sctp"}) {
      std::set<uint16_t> plain;
      std::map<int, std::set<std::pair<net::CIDR, uint16_t>>> with_net;  // family -> elements
      for (const FailsafePort& p : ports) {
        if (p.protocol != proto) continue;
        if (p.net) {
          with_net[p.net->family()].emplace(p.net->Masked(), p.port);
        } else {
          plain.insert(p.port);
        }
      }
      if (!plain.empty()) {
        std::vector<std::string> items;
        for (uint16_t port : plain)
          items.push_back(std::to_string(port));
        const std::string set = items.size() == 1 ? items[0] : "{ " + StrJoin(items, ", ") + " }";
        rules.push_back(fmt::format("meta l4proto {} th {} {} counter accept {}", proto, port_field,
                                    set, comment));
      }
      for (const auto& [family, elements] : with_net) {
        std::vector<std::string> items;
        for (const auto& [net, port] : elements) {
          items.push_back(fmt::format("{} . {}", MemberText(net), port));
        }
        rules.push_back(fmt::format("meta l4proto {} {} {} . th {} {{ {} }} counter accept {}",
                                    proto, family == 6 ? "ip6" : "ip", addr_field, port_field,
                                    StrJoin(items, ", "), comment));
      }
    }
    return rules;
  }

  void AddStaticChain(std::string_view name, std::string base, std::vector<std::string> rules) {
    AddChain(std::string(name), Chain{.owner = "static",
                                      .base = std::move(base),
                                      .rules = nft_model::NftLines(std::move(rules))});
  }

  // Dispatch chain: `<key> vmap @<name>`, then the "*" endpoint's chain as the default target.
  void AddDispatchChain(std::string_view name, std::string_view key, HostChainKind kind,
                        bool skip_workloads) {
    std::vector<std::string> rules = {fmt::format("{} vmap @{}", key, name)};
    if (wildcard_ != nullptr) {
      if (skip_workloads) {
        for (const std::string& prefix : options_.interface_prefixes) {
          rules.push_back(
              fmt::format("oifname \"{}*\" return {}", prefix,
                          Comment("Skip egress WHEP policy for traffic to local workload")));
        }
      }
      rules.push_back(fmt::format("goto {}", HostEndpointChain(kind, kAllInterfaces)));
    }
    AddStaticChain(name, "", std::move(rules));
  }

  Status RenderHostEndpoints() {
    const MarkBits& m = options_.marks;
    for (const HostEndpoint* ep : host_endpoints_) {
      const bool wildcard = ep->interface_name == kAllInterfaces;
      if (wildcard) wildcard_ = ep;
      RETURN_IF_ERROR(RenderHostNormalChain(*ep, true));
      RETURN_IF_ERROR(RenderHostNormalChain(*ep, false));
      RETURN_IF_ERROR(RenderHostForwardChain(*ep, true));
      RETURN_IF_ERROR(RenderHostForwardChain(*ep, false));
      if (HasPolicies(ep->pre_dnat_ingress_tiers)) {
        RETURN_IF_ERROR(RenderHostPreDnatChain(*ep));
        if (wildcard) pre_dnat_wildcard_ = true;
      }
      if (!wildcard &&
          (HasPolicies(ep->untracked_ingress_tiers) || HasPolicies(ep->untracked_egress_tiers))) {
        RETURN_IF_ERROR(RenderHostUntrackedChain(*ep, true));
        RETURN_IF_ERROR(RenderHostUntrackedChain(*ep, false));
      }
    }
    // The "*" endpoint is the default target, not a map element.
    for (auto* entries : {&from_hep_, &to_hep_, &from_hep_fwd_, &to_hep_fwd_, &pre_dnat_from_}) {
      std::erase_if(*entries, [](const auto& e) { return e.first == kAllInterfaces; });
    }
    AddDispatchChain(kFromHostEndpoint, "iifname", HostChainKind::kFrom, false);
    AddDispatchChain(kToHostEndpoint, "oifname", HostChainKind::kTo, false);
    AddDispatchChain(kFromHepForward, "iifname", HostChainKind::kFromForward, false);
    AddDispatchChain(kToHepForward, "oifname", HostChainKind::kToForward, false);
    AddStaticChain(kFailsafeIn, "", FailsafeRules(options_.failsafe_inbound, true, false));
    AddStaticChain(kFailsafeOut, "", FailsafeRules(options_.failsafe_outbound, false, false));

    const std::string clear = ClearMarks();
    const std::string accept_if_accepted =
        fmt::format("meta mark & {0} == {0} accept", Hex(m.accept));
    const std::string hep_accepted_return =
        fmt::format("meta mark & {0} == {0} return {1}", Hex(m.accept),
                    Comment("Host endpoint policy accepted packet."));
    // Egress policy for host traffic that was DNAT'd (Felix's mangle POSTROUTING); forwarded
    // packets carry the accept mark from cali-FORWARD and are left alone.
    std::vector<std::string> post = {fmt::format("meta mark & {0} == {0} return {1}", Hex(m.accept),
                                                 Comment("Forwarded or already accepted")),
                                     clear};
    if (wildcard_ != nullptr) {
      for (const std::string& prefix : options_.interface_prefixes) {
        post.push_back(
            fmt::format("oifname \"{}*\" return {}", prefix,
                        Comment("Skip egress WHEP policy for traffic to local workload")));
      }
    }
    post.push_back(fmt::format("ct status dnat jump {}", kToHostEndpoint));
    post.push_back(hep_accepted_return);
    AddStaticChain("mangle-cali-POSTROUTING",
                   "type filter hook postrouting priority mangle; policy accept;", std::move(post));

    if (untracked_) {
      std::vector<std::string> pre = {clear};
      for (const std::string& prefix : options_.interface_prefixes) {
        pre.push_back(fmt::format("iifname \"{}*\" return {}", prefix,
                                  Comment("Untracked policy is for host endpoints only")));
      }
      pre.push_back(fmt::format("jump {}", kRawFromHostEndpoint));
      pre.push_back(accept_if_accepted);
      AddStaticChain("raw-cali-PREROUTING",
                     "type filter hook prerouting priority raw; policy accept;", std::move(pre));
      AddStaticChain("raw-cali-OUTPUT", "type filter hook output priority raw; policy accept;",
                     {clear, fmt::format("jump {}", kRawToHostEndpoint), accept_if_accepted});
      AddStaticChain(kRawFromHostEndpoint, "",
                     {fmt::format("iifname vmap @{}", kRawFromHostEndpoint)});
      AddStaticChain(kRawToHostEndpoint, "", {fmt::format("oifname vmap @{}", kRawToHostEndpoint)});
      std::vector<std::string> in = FailsafeRules(options_.failsafe_inbound, true, false);
      for (std::string& r : FailsafeRules(options_.failsafe_outbound, true, true)) {
        in.push_back(std::move(r));
      }
      std::vector<std::string> out = FailsafeRules(options_.failsafe_outbound, false, false);
      for (std::string& r : FailsafeRules(options_.failsafe_inbound, false, true)) {
        out.push_back(std::move(r));
      }
      AddStaticChain(kRawFailsafeIn, "", std::move(in));
      AddStaticChain(kRawFailsafeOut, "", std::move(out));
    }
    if (pre_dnat_) {
      std::vector<std::string> pre;
      if (!untracked_)
        pre.push_back(clear);  // Else raw-cali-PREROUTING did (and may have accepted).
      pre.push_back("ct state established,related accept");
      pre.push_back(accept_if_accepted);
      pre.push_back(fmt::format("jump {}", kPreDnatFromHostEndpoint));
      pre.push_back(fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                Comment("Host endpoint policy accepted packet.")));
      AddStaticChain("mangle-cali-PREROUTING",
                     "type filter hook prerouting priority mangle; policy accept;", std::move(pre));
      std::vector<std::string> dispatch = {
          fmt::format("iifname vmap @{}", kPreDnatFromHostEndpoint)};
      if (pre_dnat_wildcard_) {
        dispatch.push_back(
            fmt::format("goto {}", HostEndpointChain(HostChainKind::kPreDnatFrom, kAllInterfaces)));
      }
      AddStaticChain(kPreDnatFromHostEndpoint, "", std::move(dispatch));
    }
    return OkStatus();
  }

  // The set's elements of one family as nft text, from the cache when the members did not change.
  nft_model::NftLines SetElements(const std::string& id, const IpSet& set, int family) {
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
  void AddNamedPortSet(nft_model::NftRuleset& out, const std::string& id, const IpSet& set) const {
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

  nft_model::NftRuleset Parts() {
    nft_model::NftRuleset out;
    out.family = "inet";
    out.table = std::string(kTable);
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
    std::vector<
        std::pair<std::string_view, const std::vector<std::pair<std::string, std::string>>*>>
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
    for (const auto& [name, entries] : maps) {
      nft_model::NftSet& map = out.sets[std::string(name)];
      map.is_map = true;
      map.header.push_back("type ifname : verdict");
      for (const auto& [iface, chain] : *entries) {
        map.elements.push_back(fmt::format("\"{}\" : goto {}", iface, chain));
      }
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

  const Model& model_;
  const RenderOptions& options_;
  RenderReport* report_ = nullptr;
  std::set<const Endpoint*> skipped_endpoints_;
  RenderCache::State* cache_ = nullptr;
  std::optional<EndpointLines> lines_{};

  std::map<std::string, const Policy*> policies_;
  std::map<std::string, const Profile*> profiles_;
  std::map<std::string, const IpSet*> sets_;      // By set id.
  std::map<std::string, std::string> set_names_;  // nft set name -> set id.
  std::set<std::pair<std::string, int>> referenced_sets_;
  std::map<std::string, Chain> chains_;
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
};

void CollectSelectors(const Json& rules, std::map<std::string, selector::Selector>& out,
                      Status& status) {
  if (!rules.is_array()) return;
  for (const Json& rule : rules) {
    auto ir = ParseRule(rule);
    if (!ir) {
      status = Unexpected(ir.error());
      return;
    }
    for (const EntityMatch* e : {&ir->source, &ir->destination}) {
      for (const std::string* text : {&e->selector, &e->not_selector}) {
        if (text->empty()) continue;
        auto sel = selector::Parse(*text);
        if (!sel) {
          status = Unexpected(sel.error());
          return;
        }
        out.emplace(sel->UniqueId(), *sel);
      }
    }
  }
}

}  // namespace

Result<nft_model::NftRuleset> RenderRulesetParts(const Model& model, const RenderOptions& options,
                                                 RenderCache* cache, RenderReport* report) {
  if (report != nullptr) *report = RenderReport{};
  return Renderer(model, options, cache, report).Render();
}

Result<std::string> RenderRuleset(const Model& model, const RenderOptions& options) {
  ASSIGN_OR_RETURN(nft_model::NftRuleset parts, RenderRulesetParts(model, options));
  std::string out =
      "# Generated by calico::policy (Felix filter-table policy in nftables form). Do not "
      "edit.\n";
  if (options.replace_table) {
    out += fmt::format("table inet {0}\ndelete table inet {0}\n", kTable);
  }
  out += nft_model::NftRulesetText(parts);
  return out;
}

Result<std::vector<IpSet>> ComputeSelectorIpSets(const Model& model) {
  std::map<std::string, selector::Selector> selectors{};
  Status status = OkStatus();
  for (const Policy& p : model.policies) {
    CollectSelectors(p.ingress, selectors, status);
    CollectSelectors(p.egress, selectors, status);
    if (!status) return Unexpected(status.error().Wrap(fmt::format("policy {}", p.id)));
  }
  for (const Profile& p : model.profiles) {
    CollectSelectors(p.ingress, selectors, status);
    CollectSelectors(p.egress, selectors, status);
    if (!status) return Unexpected(status.error().Wrap(fmt::format("profile {}", p.id)));
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
