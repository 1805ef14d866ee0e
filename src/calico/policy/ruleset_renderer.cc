// Full ruleset rendering: Felix's filter-table structure (felix/rules/static.go, endpoints.go,
// dispatch.go) in nftables form (felix/nftables), for one `inet` table.
#include "calico/policy/ruleset_renderer.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/policy/named_ports.h"
#include "calico/policy/names.h"
#include "calico/policy/rule_compiler.h"
#include "calico/selector/selector.h"

namespace calico::policy {
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
  std::vector<std::string> rules{};
};

// Members of one family: masked, sorted, CIDRs covered by another member dropped.
std::vector<net::CIDR> NormaliseMembers(const std::vector<net::CIDR>& members, int family) {
  std::vector<net::CIDR> nets;
  for (const net::CIDR& c : members) {
    if (c.family() == family) nets.push_back(c.Masked());
  }
  std::sort(nets.begin(), nets.end(), [](const net::CIDR& a, const net::CIDR& b) {
    if (a.prefix_len() != b.prefix_len()) return a.prefix_len() < b.prefix_len();
    return a.addr() < b.addr();
  });
  std::vector<net::CIDR> kept;
  for (const net::CIDR& c : nets) {
    if (std::none_of(kept.begin(), kept.end(), [&](const net::CIDR& k) { return k.Contains(c); })) {
      kept.push_back(c);
    }
  }
  std::sort(kept.begin(), kept.end());
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
  Renderer(const Model& model, const RenderOptions& options) : model_(model), options_(options) {}

  Result<std::string> Render() {
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
    return Emit();
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

  Result<std::string> ResolveSet(std::string_view field, std::string_view sel_text, int family) {
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
    return SetName(id, family);
  }

  Result<std::string> ResolveNamedPortSet(std::string_view field, std::string_view set_id,
                                          int family) {
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
    RenderContext ctx{.marks = options_.marks, .log_prefix = options_.log_prefix};
    ctx.resolve_set = [this](std::string_view field, std::string_view sel, int family) {
      return ResolveSet(field, sel, family);
    };
    ctx.resolve_named_port_set = [this](std::string_view field, std::string_view set_id,
                                        int family) {
      return ResolveNamedPortSet(field, set_id, family);
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
    AddChain(chain_name, std::move(chain));
    return OkStatus();
  }

  Status RenderEndpoint(const Endpoint& ep, bool ingress) {
    const MarkBits& m = options_.marks;
    const std::string name =
        ingress ? ToWorkloadChain(ep.interface_name) : FromWorkloadChain(ep.interface_name);
    const std::string owner = fmt::format("endpoint {}", ep.name);
    if (auto it = chains_.find(name); it != chains_.end()) {
      return InvalidArgument(fmt::format("{} and {} both map to the nftables chain {}",
                                         it->second.owner, owner, name));
    }
    const std::string_view dir = ingress ? "ingress" : "egress";
    Chain chain{.owner = owner};
    if (options_.drop_invalid) {
      chain.rules.push_back(
          fmt::format("ct state invalid counter drop {}", Comment("Drop if conntrack INVALID")));
    }
    chain.rules.push_back(fmt::format("meta mark set meta mark & {} {}",
                                      ClearMask(m.accept | m.pass),
                                      Comment("Clear accept and pass marks")));
    if (!ingress && options_.drop_encap_from_workloads) {
      chain.rules.push_back(
          fmt::format("meta l4proto 17 th dport {} counter drop {}", options_.vxlan_port,
                      Comment("Drop VXLAN encapped packets originating in workloads")));
      chain.rules.push_back(
          fmt::format("meta l4proto 4 counter drop {}",
                      Comment("Drop IPinIP encapped packets originating in workloads")));
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
        RETURN_IF_ERROR(RenderRulesChain(policy_chain, fmt::format("policy {}/{}", p.tier, p.id),
                                         "policy", fmt::format("{}/{}", p.tier, p.id),
                                         ingress ? p.ingress : p.egress, ingress));
        chain.rules.push_back(
            fmt::format("meta mark & {} == 0 jump {}", Hex(m.pass), policy_chain));
        chain.rules.push_back(fmt::format("meta mark & {0} == {0} return {1}", Hex(m.accept),
                                          Comment("Return if policy accepted")));
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
      RETURN_IF_ERROR(RenderRulesChain(profile_chain, fmt::format("profile {}", p.id), "profile",
                                       p.id, ingress ? p.ingress : p.egress, ingress));
      chain.rules.push_back(fmt::format("jump {}", profile_chain));
      chain.rules.push_back(fmt::format("meta mark & {0} == {0} return {1}", Hex(m.accept),
                                        Comment("Return if profile accepted")));
    }
    chain.rules.push_back(fmt::format("counter drop {}", Comment("Drop if no profiles matched")));
    AddChain(name, std::move(chain));
    (ingress ? to_wl_ : from_wl_).emplace_back(ep.interface_name, name);
    return OkStatus();
  }

  static void EmitMap(std::string& out, std::string_view name,
                      const std::vector<std::pair<std::string, std::string>>& entries) {
    out += fmt::format("\tmap {} {{\n\t\ttype ifname : verdict\n", name);
    if (!entries.empty()) {
      std::vector<std::string> items;
      for (const auto& [iface, chain] : entries) {
        items.push_back(fmt::format("\"{}\" : goto {}", iface, chain));
      }
      out += "\t\telements = {\n\t\t\t" + StrJoin(items, ",\n\t\t\t") + "\n\t\t}\n";
    }
    out += "\t}\n\n";
  }

  // A named-port set per family with members or referenced: no interval flag (single addresses).
  void EmitNamedPortSet(std::string& out, const std::string& id, const IpSet& set) const {
    for (int family : {4, 6}) {
      const std::vector<std::string> items = PortMemberTexts(set.port_members, family);
      if (items.empty() && referenced_sets_.count({id, family}) == 0) continue;
      out += fmt::format("\tset {} {{\n\t\ttype {} . inet_proto . inet_service\n",
                         SetName(id, family), family == 6 ? "ipv6_addr" : "ipv4_addr");
      const std::string what =
          fmt::format("named port {}:{}", NamedPortProtocolName(set.named_port_protocol),
                      set.named_port);
      out += fmt::format(
          "\t\tcomment \"{}\"\n",
          SanitizeComment(set.selector.empty() ? what : fmt::format("{} of {}", what, set.selector)));
      if (!items.empty()) out += "\t\telements = { " + StrJoin(items, ", ") + " }\n";
      out += "\t}\n\n";
    }
  }

  std::string Emit() const {
    std::string out =
        "# Generated by calico::policy (Felix filter-table policy in nftables form). Do not "
        "edit.\n";
    if (options_.replace_table) {
      out += fmt::format("table inet {0}\ndelete table inet {0}\n", kTable);
    }
    out += fmt::format("table inet {} {{\n", kTable);

    // Sets: every set with members, plus every (set, family) a rule refers to.
    for (const auto& [id, set] : sets_) {
      if (set->is_named_port()) {
        EmitNamedPortSet(out, id, *set);
        continue;
      }
      for (int family : {4, 6}) {
        const std::vector<net::CIDR> members = NormaliseMembers(set->members, family);
        if (members.empty() && referenced_sets_.count({id, family}) == 0) continue;
        out += fmt::format("\tset {} {{\n\t\ttype {}\n\t\tflags interval\n", SetName(id, family),
                           family == 6 ? "ipv6_addr" : "ipv4_addr");
        if (!set->selector.empty()) {
          out += fmt::format("\t\tcomment \"{}\"\n", SanitizeComment(set->selector));
        }
        if (!members.empty()) {
          std::vector<std::string> items;
          items.reserve(members.size());
          for (const net::CIDR& c : members) {
            items.push_back(MemberText(c));
          }
          out += "\t\telements = { " + StrJoin(items, ", ") + " }\n";
        }
        out += "\t}\n\n";
      }
    }

    EmitMap(out, kFromWlDispatch, from_wl_);
    EmitMap(out, kToWlDispatch, to_wl_);

    // Base chains first (hook order), then the others by name.
    std::vector<const std::pair<const std::string, Chain>*> ordered;
    for (const char* base : {"cali-FORWARD", "cali-INPUT", "cali-OUTPUT"}) {
      ordered.push_back(&*chains_.find(base));
    }
    for (const auto& entry : chains_) {
      if (entry.second.base.empty()) ordered.push_back(&entry);
    }
    bool first = true;
    for (const auto* entry : ordered) {
      if (!first) out += "\n";
      first = false;
      out += fmt::format("\tchain {} {{\n", entry->first);
      if (!entry->second.base.empty()) out += fmt::format("\t\t{}\n", entry->second.base);
      for (const std::string& rule : entry->second.rules) {
        out += fmt::format("\t\t{}\n", rule);
      }
      out += "\t}\n";
    }
    out += "}\n";
    return out;
  }

  const Model& model_;
  const RenderOptions& options_;
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

Result<std::string> RenderRuleset(const Model& model, const RenderOptions& options) {
  return Renderer(model, options).Render();
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
