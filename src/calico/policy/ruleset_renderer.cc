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
#include "calico/dataplane/nft_diff.h"
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
    std::string owner{};
    Json rules{};
    dataplane::NftLines lines{};  // Shared with the rendered rulesets.
    std::vector<std::pair<std::string, int>> sets{};  // (set id, family) the rules refer to.
    uint64_t used = 0;
  };
  std::unordered_map<std::string, RulesChain> chains{};  // By chain name.
  struct SetElements {
    std::vector<net::CIDR> members{};               // As given in the model.
    std::array<dataplane::NftLines, 2> text{};  // IPv4, IPv6 elements.
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

std::string Hex(uint32_t v) {
  return fmt::format("{:#x}", v);
}
std::string Comment(std::string_view text) {
  return fmt::format("comment \"{}\"", SanitizeComment(text));
}

struct Chain {
  std::string owner{};  // What the chain was rendered for (collision detection).
  std::string base{};   // "type filter hook ... ;" line for base chains, else empty.
  dataplane::NftLines rules{};
};

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
  Renderer(const Model& model, const RenderOptions& options, RenderCache* cache)
      : model_(model), options_(options) {
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

  Result<dataplane::NftRuleset> Render() {
    RETURN_IF_ERROR(IndexModel());
    RenderStaticChains();
    std::vector<const Endpoint*> endpoints;
    for (const Endpoint& ep : model_.endpoints) {
      endpoints.push_back(&ep);
    }
    std::sort(endpoints.begin(), endpoints.end(), [](const Endpoint* a, const Endpoint* b) {
      return a->interface_name < b->interface_name;
    });
    for (const Endpoint* ep : endpoints) {
      RETURN_IF_ERROR(RenderEndpoint(*ep, true));
      RETURN_IF_ERROR(RenderEndpoint(*ep, false));
    }
    dataplane::NftRuleset out = Parts();
    if (cache_ != nullptr) Evict();
    return out;
  }

 private:
  Status IndexModel() {
    std::set<std::string> ifaces;
    for (std::size_t i = 0; i < model_.endpoints.size(); ++i) {
      const Endpoint& ep = model_.endpoints[i];
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
    }
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

    Chain fwd{.owner = "static",
              .base = "type filter hook forward priority filter; policy accept;"};
    fwd.rules.push_back("ct state established,related accept");
    fwd.rules.push_back(clear);
    for (const std::string& prefix : options_.interface_prefixes) {
      fwd.rules.push_back(fmt::format("iifname \"{}*\" jump {}", prefix, kFromWlDispatch));
    }
    for (const std::string& prefix : options_.interface_prefixes) {
      fwd.rules.push_back(fmt::format("oifname \"{}*\" jump {}", prefix, kToWlDispatch));
    }
    fwd.rules.push_back(accepted);
    AddChain("cali-FORWARD", std::move(fwd));

    Chain input{.owner = "static",
                .base = "type filter hook input priority filter; policy accept;"};
    for (const std::string& prefix : options_.interface_prefixes) {
      input.rules.push_back(fmt::format("iifname \"{}*\" goto {}", prefix, kWlToHost));
    }
    AddChain("cali-INPUT", std::move(input));

    Chain output{.owner = "static",
                 .base = "type filter hook output priority filter; policy accept;"};
    for (const std::string& prefix : options_.interface_prefixes) {
      output.rules.push_back(fmt::format("oifname \"{}*\" return {}", prefix,
                                         Comment("Host to workload traffic is not policed")));
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

  // Compiles `rules` into `chain` (once per chain name).
  Status RenderRulesChain(const std::string& chain_name, const std::string& owner,
                          std::string_view kind, std::string_view id, const Json& rules,
                          bool ingress) {
    if (auto it = chains_.find(chain_name); it != chains_.end()) {
      if (it->second.owner == owner) return OkStatus();
      return InvalidArgument(fmt::format("{} and {} both map to the nftables chain {}",
                                         it->second.owner, owner, chain_name));
    }
    Chain chain{.owner = owner};
    const std::string_view dir = ingress ? "ingress" : "egress";
    if (!rules.is_null() && !rules.is_array()) {
      return InvalidArgument(fmt::format("{} {}: {} rules must be a list", kind, id, dir));
    }
    if (cache_ != nullptr) {
      auto it = cache_->chains.find(chain_name);
      // A hit needs the same rules and every IP set they use still in the model.
      if (it != cache_->chains.end() && it->second.owner == owner && it->second.rules == rules &&
          std::all_of(it->second.sets.begin(), it->second.sets.end(),
                      [&](const auto& ref) { return sets_.count(ref.first) != 0; })) {
        it->second.used = cache_->generation;
        referenced_sets_.insert(it->second.sets.begin(), it->second.sets.end());
        chain.rules = it->second.lines;
        AddChain(chain_name, std::move(chain));
        return OkStatus();
      }
    }
    std::vector<std::pair<std::string, int>> used_sets;
    RenderContext ctx{.marks = options_.marks, .log_prefix = options_.log_prefix};
    ctx.resolve_set = [this, &used_sets](std::string_view field, std::string_view sel,
                                         int family) {
      return ResolveSet(field, sel, family, &used_sets);
    };
    ctx.resolve_named_port_set = [this, &used_sets](std::string_view field,
                                                    std::string_view set_id, int family) {
      return ResolveNamedPortSet(field, set_id, family, &used_sets);
    };
    for (std::size_t i = 0; i < rules.size(); ++i) {
      ctx.comment = fmt::format("{} {} {} #{}", kind, id, dir, i);
      auto lines = CompileRule(rules[i], ctx);
      if (!lines) {
        return Unexpected(lines.error().Wrap(fmt::format("{} {} {}[{}]", kind, id, dir, i)));
      }
      for (std::string& line : *lines) {
        chain.rules.push_back(std::move(line));
      }
    }
    if (cache_ != nullptr) {
      cache_->chains[chain_name] = RenderCache::State::RulesChain{.owner = owner,
                                                                  .rules = rules,
                                                                  .lines = chain.rules,
                                                                  .sets = std::move(used_sets),
                                                                  .used = cache_->generation};
    }
    AddChain(chain_name, std::move(chain));
    return OkStatus();
  }

  // Drops what this render did not use.
  void Evict() {
    std::erase_if(cache_->chains,
                  [&](const auto& entry) { return entry.second.used != cache_->generation; });
    std::erase_if(cache_->sets,
                  [&](const auto& entry) { return entry.second.used != cache_->generation; });
  }

  // Renders the rules chain of `source` (a Policy or Profile) unless this render already did.
  Status EnsureRulesChain(const std::string& chain_name, const void* source, bool is_policy,
                          bool ingress) {
    auto [it, inserted] = chain_sources_.emplace(chain_name, source);
    if (!inserted && it->second == source) return OkStatus();
    if (is_policy) {
      const Policy& p = *static_cast<const Policy*>(source);
      return RenderRulesChain(chain_name, fmt::format("policy {}/{}", p.tier, p.id), "policy",
                              fmt::format("{}/{}", p.tier, p.id), ingress ? p.ingress : p.egress,
                              ingress);
    }
    const Profile& p = *static_cast<const Profile*>(source);
    return RenderRulesChain(chain_name, fmt::format("profile {}", p.id), "profile", p.id,
                            ingress ? p.ingress : p.egress, ingress);
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
          .drop_ipip = fmt::format("meta l4proto 4 counter drop {}",
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
                                         it->second.owner, ep.name, name));
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

  // The set's elements of one family as nft text, from the cache when the members did not change.
  dataplane::NftLines SetElements(const std::string& id, const IpSet& set, int family) {
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
          entry->text[f == 6 ? 1 : 0] = dataplane::NftLines(std::move(text));
        }
        entry->used = cache_->generation;
      }
      return entry->text[family == 6 ? 1 : 0];
    }
    std::vector<std::string> text;
    for (const net::CIDR& c : NormaliseMembers(set.members, family)) {
      text.push_back(MemberText(c));
    }
    return dataplane::NftLines(std::move(text));
  }

  // A named-port set per family with members or referenced: no interval flag (single addresses).
  void AddNamedPortSet(dataplane::NftRuleset& out, const std::string& id, const IpSet& set) const {
    for (int family : {4, 6}) {
      std::vector<std::string> items = PortMemberTexts(set.port_members, family);
      if (items.empty() && referenced_sets_.count({id, family}) == 0) continue;
      dataplane::NftSet& s = out.sets[SetName(id, family)];
      s.header.push_back(fmt::format("type {} . inet_proto . inet_service",
                                     family == 6 ? "ipv6_addr" : "ipv4_addr"));
      const std::string what =
          fmt::format("named port {}:{}", NamedPortProtocolName(set.named_port_protocol),
                      set.named_port);
      s.header.push_back(fmt::format(
          "comment \"{}\"",
          SanitizeComment(set.selector.empty() ? what : fmt::format("{} of {}", what, set.selector))));
      s.elements = dataplane::NftLines(std::move(items));
    }
  }

  dataplane::NftRuleset Parts() {
    dataplane::NftRuleset out;
    out.family = "inet";
    out.table = std::string(kTable);
    // Sets: every set with members, plus every (set, family) a rule refers to.
    for (const auto& [id, set] : sets_) {
      if (set->is_named_port()) {
        AddNamedPortSet(out, id, *set);
        continue;
      }
      for (int family : {4, 6}) {
        dataplane::NftLines elements = SetElements(id, *set, family);
        if (elements.empty() && referenced_sets_.count({id, family}) == 0) continue;
        dataplane::NftSet& s = out.sets[SetName(id, family)];
        s.header.push_back(family == 6 ? "type ipv6_addr" : "type ipv4_addr");
        s.header.push_back("flags interval");
        if (!set->selector.empty()) {
          s.header.push_back(fmt::format("comment \"{}\"", SanitizeComment(set->selector)));
        }
        s.elements = std::move(elements);
      }
    }
    for (const auto& [name, entries] :
         {std::pair{kFromWlDispatch, &from_wl_}, std::pair{kToWlDispatch, &to_wl_}}) {
      dataplane::NftSet& map = out.sets[std::string(name)];
      map.is_map = true;
      map.header.push_back("type ifname : verdict");
      for (const auto& [iface, chain] : *entries) {
        map.elements.push_back(fmt::format("\"{}\" : goto {}", iface, chain));
      }
    }
    for (auto& [name, chain] : chains_) {
      dataplane::NftChain& c = out.chains[name];
      if (!chain.base.empty()) c.header.push_back(chain.base);
      c.rules = std::move(chain.rules);
    }
    return out;
  }

  const Model& model_;
  const RenderOptions& options_;
  RenderCache::State* cache_ = nullptr;
  std::optional<EndpointLines> lines_{};
  // Rules chains rendered so far -> the Policy/Profile they were rendered for.
  std::unordered_map<std::string, const void*> chain_sources_{};
  std::map<std::string, const Policy*> policies_;
  std::map<std::string, const Profile*> profiles_;
  std::map<std::string, const IpSet*> sets_;      // By set id.
  std::map<std::string, std::string> set_names_;  // nft set name -> set id.
  std::set<std::pair<std::string, int>> referenced_sets_;
  std::map<std::string, Chain> chains_;
  std::vector<std::pair<std::string, std::string>> from_wl_;  // iface -> chain, sorted.
  std::vector<std::pair<std::string, std::string>> to_wl_;
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

Result<dataplane::NftRuleset> RenderRulesetParts(const Model& model, const RenderOptions& options,
                                                 RenderCache* cache) {
  return Renderer(model, options, cache).Render();
}

Result<std::string> RenderRuleset(const Model& model, const RenderOptions& options) {
  ASSIGN_OR_RETURN(dataplane::NftRuleset parts, RenderRulesetParts(model, options));
  std::string out =
      "# Generated by calico::policy (Felix filter-table policy in nftables form). Do not "
      "edit.\n";
  if (options.replace_table) {
    out += fmt::format("table inet {0}\ndelete table inet {0}\n", kTable);
  }
  out += dataplane::NftRulesetText(parts);
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
    sets.push_back(std::move(set));
  }
  return sets;
}

}  // namespace calico::policy
