// User-space evaluation of the parsed rules (see evaluate.h). Every check mirrors one statement
// rule_compiler.cc's RenderRule emits, and EvaluateDirection mirrors Renderer::RenderEndpoint
// (endpoint_chains.cc); a change there needs the same change here, and the privileged
// explain_agreement test compares both with real packets.
#include "calico/explain/evaluate.h"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

#include "calico/base/strings.h"

namespace calico::explain {
namespace {

std::string ProtoName(int p) {
  switch (p) {
    case 1:
      return "ICMP";
    case 6:
      return "TCP";
    case 17:
      return "UDP";
    case 58:
      return "ICMPv6";
    case 132:
      return "SCTP";
    case 136:
      return "UDPLite";
    default:
      return std::to_string(p);
  }
}

bool HasPorts(uint8_t proto) {  // nftables' `th sport/dport` (a transport header with ports).
  return proto == 6 || proto == 17 || proto == 132 || proto == 136 || proto == 33;
}

std::string Ports(const std::vector<policy::PortRange>& ports) {
  std::vector<std::string> items;
  for (const policy::PortRange& p : ports) {
    items.push_back(p.first == p.last ? std::to_string(p.first)
                                      : fmt::format("{}:{}", p.first, p.last));
  }
  return StrJoin(items, ",");
}

std::string Nets(const std::vector<net::CIDR>& nets) {
  std::vector<std::string> items;
  for (const net::CIDR& c : nets) {
    items.push_back(c.String());
  }
  return StrJoin(items, ",");
}

bool InPorts(const std::vector<policy::PortRange>& ports, int port) {
  return std::any_of(ports.begin(), ports.end(),
                     [&](const policy::PortRange& r) { return port >= r.first && port <= r.last; });
}

bool InNets(const std::vector<net::CIDR>& nets, const net::IPAddr& ip) {
  return std::any_of(nets.begin(), nets.end(), [&](const net::CIDR& c) {
    return c.family() == ip.family() && c.Contains(ip);
  });
}

const policy::IpSet* FindSet(const policy::Model& model, const std::string& id) {
  for (const policy::IpSet& s : model.ip_sets) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

// A selector IP set (the calculation graph's members) holds the address.
bool InSet(const policy::Model& model, const std::string& id, const net::IPAddr& ip) {
  const policy::IpSet* set = FindSet(model, id);
  return set != nullptr && InNets(set->members, ip);
}

bool InNamedPortSet(const policy::Model& model, const std::string& id, const net::IPAddr& ip,
                    uint8_t proto, int port) {
  const policy::IpSet* set = FindSet(model, id);
  if (set == nullptr) return false;
  return std::any_of(set->port_members.begin(), set->port_members.end(),
                     [&](const policy::IpPortMember& m) {
                       return m.addr == ip && m.protocol == proto && m.port == port;
                     });
}

// One side (AppendEntity in rule_compiler.cc) for one positive-port alternative (`named`:
// nullptr = the numeric ports or none).
bool EntityMatches(const policy::EntityMatch& e, bool source, const policy::NamedPortMatch* named,
                   const Packet& pkt, const policy::Model& model, std::string& why,
                   std::vector<std::string>& hits) {
  const std::string_view side = source ? "source" : "destination";
  const net::IPAddr& addr = source ? pkt.src : pkt.dst;
  const std::optional<int>& port = source ? pkt.source_port : pkt.dest_port;
  if (!e.nets.empty() && !InNets(e.nets, addr)) {
    why = fmt::format("{} {} not in nets {}", side, addr.String(), Nets(e.nets));
    return false;
  }
  if (!e.nets.empty()) hits.push_back(fmt::format("{} in nets {}", side, Nets(e.nets)));
  if (!e.not_nets.empty() && InNets(e.not_nets, addr)) {
    why = fmt::format("{} {} in notNets {}", side, addr.String(), Nets(e.not_nets));
    return false;
  }
  if (!e.not_nets.empty())
    hits.push_back(fmt::format("{} not in notNets {}", side, Nets(e.not_nets)));
  // A named-port set is already filtered by the selector and the notSelector.
  const bool skip_selectors = named != nullptr && !e.selector.empty();
  if (!skip_selectors && !e.selector.empty() && !InSet(model, e.selector_id, addr)) {
    why = fmt::format("{} {} not selected by {}", side, addr.String(), e.selector);
    return false;
  }
  if (!skip_selectors && !e.selector.empty()) {
    hits.push_back(fmt::format("{} selected by {}", side, e.selector));
  }
  if (!skip_selectors && !e.not_selector.empty() && InSet(model, e.not_selector_id, addr)) {
    why = fmt::format("{} {} selected by notSelector {}", side, addr.String(), e.not_selector);
    return false;
  }
  if (!skip_selectors && !e.not_selector.empty()) {
    hits.push_back(fmt::format("{} not selected by notSelector {}", side, e.not_selector));
  }
  const bool uses_ports =
      named != nullptr || !e.ports.empty() || !e.not_ports.empty() || !e.not_named_ports.empty();
  if (uses_ports && !HasPorts(pkt.protocol)) {
    why = fmt::format("{} ports: protocol {} has no ports", side, ProtoName(pkt.protocol));
    return false;
  }
  if (uses_ports && !port) {
    why = fmt::format("{} port unknown (give the {} port)", side, side);
    return false;
  }
  if (named != nullptr) {
    if (!InNamedPortSet(model, named->set_id, addr, pkt.protocol, *port)) {
      why = fmt::format("{} {} port {} is not the named port \"{}\" of a selected endpoint", side,
                        addr.String(), *port, named->name);
      return false;
    }
    hits.push_back(fmt::format("{} port {} is the named port \"{}\"{}", side, *port, named->name,
                               e.selector.empty() ? "" : fmt::format(" of {}", e.selector)));
  } else if (!e.ports.empty() && !InPorts(e.ports, *port)) {
    why = fmt::format("{} port {} not in ports {}", side, *port, Ports(e.ports));
    return false;
  } else if (!e.ports.empty()) {
    hits.push_back(fmt::format("{} port {} in ports {}", side, *port, Ports(e.ports)));
  }
  if (!e.not_ports.empty() && InPorts(e.not_ports, *port)) {
    why = fmt::format("{} port {} in notPorts {}", side, *port, Ports(e.not_ports));
    return false;
  }
  if (!e.not_ports.empty()) {
    hits.push_back(fmt::format("{} port {} not in notPorts {}", side, *port, Ports(e.not_ports)));
  }
  for (const policy::NamedPortMatch& n : e.not_named_ports) {
    if (InNamedPortSet(model, n.set_id, addr, pkt.protocol, *port)) {
      why = fmt::format("{} port {} is the named port \"{}\" in notPorts", side, *port, n.name);
      return false;
    }
    hits.push_back(
        fmt::format("{} port {} is not the named port \"{}\" in notPorts", side, *port, n.name));
  }
  return true;
}

// PortAlternatives in rule_compiler.cc: the positive ports are ORed.
std::vector<const policy::NamedPortMatch*> Alternatives(const policy::EntityMatch& e) {
  std::vector<const policy::NamedPortMatch*> out;
  if (!e.ports.empty() || e.named_ports.empty()) out.push_back(nullptr);
  for (const policy::NamedPortMatch& n : e.named_ports) {
    out.push_back(&n);
  }
  return out;
}

bool SideMatches(const policy::EntityMatch& e, bool source, const Packet& pkt,
                 const policy::Model& model, std::string& why, std::vector<std::string>& hits) {
  std::string first_why;
  for (const policy::NamedPortMatch* alt : Alternatives(e)) {
    std::string w;
    std::vector<std::string> alt_hits;
    if (EntityMatches(e, source, alt, pkt, model, w, alt_hits)) {
      hits.insert(hits.end(), alt_hits.begin(), alt_hits.end());
      return true;
    }
    if (first_why.empty()) first_why = w;
  }
  why = first_why;
  return false;
}

bool IcmpMatches(const policy::IcmpMatch& m, const Packet& pkt) {
  return m.type == pkt.icmp_type && (!m.code || *m.code == pkt.icmp_code);
}

std::string IcmpText(const policy::IcmpMatch& m) {
  return m.code ? fmt::format("type {} code {}", m.type, *m.code) : fmt::format("type {}", m.type);
}

std::string ActionName(policy::Action a) {
  switch (a) {
    case policy::Action::kAllow:
      return "Allow";
    case policy::Action::kDeny:
      return "Deny";
    case policy::Action::kPass:
      return "Pass";
    case policy::Action::kLog:
      return "Log";
  }
  return "?";
}

// The rules of one policy or profile chain. Returns the deciding/passing step's action, or ""
// when no rule decided (Log rules and non-matching rules go on).
std::string EvaluateRules(const policy::ParsedRules& rules, const Packet& pkt,
                          const policy::Model& model, const Step& base, std::vector<Step>& out) {
  for (std::size_t i = 0; i < rules.size(); ++i) {
    Step step = base;
    step.kind = Step::Kind::kRule;
    step.rule = static_cast<int>(i);
    step.action = ActionName(rules[i].action);
    step.matched = RuleMatches(rules[i], pkt, model, step.reason);
    out.push_back(step);
    if (step.matched && rules[i].action != policy::Action::kLog) return step.action;
  }
  Step step = base;
  step.kind = Step::Kind::kNoRuleMatched;
  step.reason = rules.size() == 0 ? "no rules for this direction" : "no rule matched";
  out.push_back(step);
  return "";
}

}  // namespace

bool RuleMatches(const policy::ParsedRule& rule, const Packet& pkt, const policy::Model& model,
                 std::string& why) {
  const int family = pkt.src.family();
  if (rule.family && *rule.family != family) {
    why = fmt::format("rule is IPv{}, packet is IPv{}", *rule.family, family);
    return false;
  }
  if (rule.protocol && *rule.protocol != pkt.protocol) {
    why =
        fmt::format("protocol {} (packet {})", ProtoName(*rule.protocol), ProtoName(pkt.protocol));
    return false;
  }
  if (rule.not_protocol && *rule.not_protocol == pkt.protocol) {
    why = fmt::format("notProtocol {}", ProtoName(*rule.not_protocol));
    return false;
  }
  std::vector<std::string> hits;
  if (rule.protocol) hits.push_back(fmt::format("protocol {}", ProtoName(*rule.protocol)));
  if (rule.not_protocol)
    hits.push_back(fmt::format("notProtocol {}", ProtoName(*rule.not_protocol)));
  if (!SideMatches(rule.source, true, pkt, model, why, hits)) return false;
  if (!SideMatches(rule.destination, false, pkt, model, why, hits)) return false;
  const bool is_icmp = pkt.protocol == (family == 6 ? 58 : 1);
  if (rule.icmp && (!is_icmp || !IcmpMatches(*rule.icmp, pkt))) {
    why = fmt::format("icmp {} (packet {})", IcmpText(*rule.icmp),
                      is_icmp ? IcmpText({pkt.icmp_type, pkt.icmp_code}) : "not ICMP");
    return false;
  }
  if (rule.not_icmp && (!is_icmp || IcmpMatches(*rule.not_icmp, pkt))) {
    why = is_icmp ? fmt::format("notICMP {}", IcmpText(*rule.not_icmp)) : "notICMP: not ICMP";
    return false;
  }
  if (rule.icmp) hits.push_back(fmt::format("icmp {}", IcmpText(*rule.icmp)));
  if (rule.not_icmp) hits.push_back(fmt::format("notICMP {}", IcmpText(*rule.not_icmp)));
  why = hits.empty() ? "the rule matches every packet" : StrJoin(hits, "; ");
  return true;
}

DirectionResult EvaluateDirection(const policy::Model& model, const policy::Endpoint& ep,
                                  bool ingress, const Packet& pkt, Scope scope) {
  DirectionResult r;
  auto decide = [&](Verdict v) {
    r.verdict = v;
    return r;
  };
  const std::vector<policy::TierRef>& tiers = ingress ? ep.ingress_tiers : ep.egress_tiers;
  for (const policy::TierRef& tier : tiers) {
    if (tier.policies.empty()) continue;
    bool passed = false;
    for (const std::string& id : tier.policies) {
      auto it = std::find_if(model.policies.begin(), model.policies.end(),
                             [&](const policy::Policy& p) { return p.id == id; });
      Step base{.tier = tier.name, .policy = id};
      if (it == model.policies.end()) continue;  // The renderer refuses such a model.
      const policy::ParsedRules& rules = ingress ? it->ingress : it->egress;
      if (!rules.ok()) {
        base.kind = Step::Kind::kIsolated;
        base.action = "Deny";
        base.reason = fmt::format("rule {} does not parse ({}): the agent drops in its place",
                                  rules.size(), rules.error()->message());
        r.steps.push_back(base);
        return decide(Verdict::kDeny);
      }
      const std::string action = EvaluateRules(rules, pkt, model, base, r.steps);
      if (action == "Allow") return decide(Verdict::kAllow);
      if (action == "Deny") return decide(Verdict::kDeny);
      if (action == "Pass") {
        passed = true;
        break;
      }
    }
    if (!passed) {
      Step step{.kind = Step::Kind::kEndOfTier,
                .tier = tier.name,
                .action = tier.default_deny ? "Deny" : "Pass"};
      step.reason = tier.default_deny ? "no policy in the tier allowed or passed the packet"
                                      : "no policy decided; the tier's defaultAction is Pass";
      r.steps.push_back(step);
      if (tier.default_deny) return decide(Verdict::kDeny);
    }
  }
  for (const std::string& id : ep.profiles) {
    auto it = std::find_if(model.profiles.begin(), model.profiles.end(),
                           [&](const policy::Profile& p) { return p.id == id; });
    Step base{.policy = id, .profile = true};
    if (it == model.profiles.end()) continue;
    const policy::ParsedRules& rules = ingress ? it->ingress : it->egress;
    if (!rules.ok()) {
      base.kind = Step::Kind::kIsolated;
      base.action = "Deny";
      base.reason = fmt::format("rule {} does not parse ({}): the agent drops in its place",
                                rules.size(), rules.error()->message());
      r.steps.push_back(base);
      return decide(Verdict::kDeny);
    }
    const std::string action = EvaluateRules(rules, pkt, model, base, r.steps);
    if (action == "Allow") return decide(Verdict::kAllow);
    if (action == "Deny") return decide(Verdict::kDeny);
    if (action == "Pass" && scope == Scope::kPending) {
      // app-policy/checker/check.go checkTiers: `case DENY, PASS:` for profiles.
      r.steps.back().reason += "; a profile's Pass denies in the pending evaluation (as upstream)";
      return decide(Verdict::kDeny);
    }
    // Pass in a profile returns without the accept mark: on to the next profile.
  }
  r.steps.push_back(Step{
      .kind = Step::Kind::kNoProfile,
      .action = "Deny",
      .reason = ep.profiles.empty() ? "no profiles: drop" : "no profile allowed the packet: drop"});
  return decide(Verdict::kDeny);
}

}  // namespace calico::explain
