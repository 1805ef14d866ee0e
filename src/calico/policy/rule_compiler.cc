// Parsed rule -> nftables statements (felix/rules/policy.go ProtoRuleToIptablesRules and
// felix/nftables match rendering).
#include "calico/policy/rule_compiler.h"

#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/policy/named_ports.h"
#include "calico/policy/names.h"
#include "calico/selector/selector.h"

namespace calico::policy {
namespace {

tl::unexpected<Error> FieldError(std::string_view field, std::string_view msg) {
  return InvalidArgument(fmt::format("{}: {}", field, msg));
}

std::string Hex(uint32_t v) {
  return fmt::format("{:#x}", v);
}

std::string Elements(const std::vector<std::string>& items) {
  if (items.size() == 1) return items[0];
  return "{ " + StrJoin(items, ", ") + " }";
}

std::string PortList(const std::vector<PortRange>& ports) {
  std::vector<std::string> items;
  for (const PortRange& p : ports) {
    items.push_back(p.first == p.last ? std::to_string(p.first)
                                      : fmt::format("{}-{}", p.first, p.last));
  }
  return Elements(items);
}

std::string NetList(const std::vector<net::CIDR>& nets) {
  std::vector<std::string> items;
  items.reserve(nets.size());
  for (const net::CIDR& c : nets) {
    items.push_back(c.String());
  }
  return Elements(items);
}

// The alternatives of a side's positive ports (they are ORed): nullptr stands for the numeric
// ports (or no port match at all), then each named port.
std::vector<const NamedPortMatch*> PortAlternatives(const EntityMatch& e) {
  std::vector<const NamedPortMatch*> out;
  if (!e.ports.empty() || e.named_ports.empty()) out.push_back(nullptr);
  for (const NamedPortMatch& n : e.named_ports) {
    out.push_back(&n);
  }
  return out;
}

// Appends the matches of one side; `named` is the positive-port alternative (PortAlternatives).
Status AppendEntity(std::vector<std::string>& parts, const EntityMatch& e, bool source, int family,
                    const NamedPortMatch* named, const RenderContext& ctx) {
  const std::string_view dir = source ? "source" : "destination";
  const std::string addr =
      fmt::format("{} {}", family == 6 ? "ip6" : "ip", source ? "saddr" : "daddr");
  if (!e.nets.empty()) parts.push_back(fmt::format("{} {}", addr, NetList(e.nets)));
  if (!e.not_nets.empty()) parts.push_back(fmt::format("{} != {}", addr, NetList(e.not_nets)));
  for (const auto& [sel, negated] : {std::pair{&e.selector, false}, {&e.not_selector, true}}) {
    if (sel->empty()) continue;
    // A named-port set is already filtered by the selector and the notSelector.
    if (named != nullptr && !e.selector.empty()) continue;
    const std::string field = fmt::format("{}.{}", dir, negated ? "notSelector" : "selector");
    if (!ctx.resolve_set) return FieldError(field, "no IP set resolver configured");
    const std::string& set_id = negated ? e.not_selector_id : e.selector_id;
    ASSIGN_OR_RETURN(std::string set, ctx.resolve_set(field, *sel, set_id, family));
    parts.push_back(fmt::format("{} {}@{}", addr, negated ? "!= " : "", set));
  }
  const std::string_view port = source ? "th sport" : "th dport";
  auto named_match = [&](const NamedPortMatch& n, bool negated) -> Status {
    const std::string field = fmt::format("{}.{}", dir, negated ? "notPorts" : "ports");
    if (!ctx.resolve_named_port_set) {
      return FieldError(field, "no named-port IP set resolver configured");
    }
    ASSIGN_OR_RETURN(std::string set, ctx.resolve_named_port_set(field, n.set_id, family));
    parts.push_back(
        fmt::format("{} . meta l4proto . {} {}@{}", addr, port, negated ? "!= " : "", set));
    return OkStatus();
  };
  if (named != nullptr) {
    RETURN_IF_ERROR(named_match(*named, false));
  } else if (!e.ports.empty()) {
    parts.push_back(fmt::format("{} {}", port, PortList(e.ports)));
  }
  if (!e.not_ports.empty()) parts.push_back(fmt::format("{} != {}", port, PortList(e.not_ports)));
  for (const NamedPortMatch& n : e.not_named_ports) {
    RETURN_IF_ERROR(named_match(n, true));
  }
  return OkStatus();
}

std::string IcmpMatchText(const IcmpMatch& m, int family, bool negated) {
  const std::string_view kw = family == 6 ? "icmpv6" : "icmp";
  if (!m.code) return fmt::format("{} type {}{}", kw, negated ? "!= " : "", m.type);
  if (!negated) return fmt::format("{0} type {1} {0} code {2}", kw, m.type, *m.code);
  return fmt::format("{0} type . {0} code != {{ {1} . {2} }}", kw, m.type, *m.code);
}

}  // namespace

Result<std::vector<std::string>> RenderRule(const ParsedRule& rule, const RenderContext& ctx) {
  std::vector<int> families;
  bool uses_sets = false;
  for (const EntityMatch* e : {&rule.source, &rule.destination}) {
    uses_sets = uses_sets || !e->selector.empty() || !e->not_selector.empty() ||
                !e->named_ports.empty() || !e->not_named_ports.empty();
  }
  if (rule.family) {
    families = {*rule.family};
  } else if (uses_sets) {
    families = {4, 6};
  } else {
    families = {0};
  }

  std::string verdict = "counter ";
  if (!ctx.nflog_group.empty() && ctx.nflog_prefix && rule.action != Action::kLog) {
    verdict += fmt::format("{} \"{}\" ", ctx.nflog_group, ctx.nflog_prefix(rule.action));
  }
  switch (rule.action) {
    case Action::kAllow:
      verdict += fmt::format("meta mark set meta mark | {} return", Hex(ctx.marks.accept));
      break;
    case Action::kPass:
      verdict += fmt::format("meta mark set meta mark | {} return", Hex(ctx.marks.pass));
      break;
    case Action::kDeny:
      verdict += ctx.deny_verdict;
      break;
    case Action::kLog:
      verdict += fmt::format("log prefix \"{}: \"", SanitizeComment(ctx.log_prefix));
      break;
  }
  if (!ctx.comment.empty()) verdict += fmt::format(" comment \"{}\"", SanitizeComment(ctx.comment));

  std::vector<std::string> out;
  const std::vector<const NamedPortMatch*> source_alternatives = PortAlternatives(rule.source);
  const std::vector<const NamedPortMatch*> dest_alternatives = PortAlternatives(rule.destination);
  for (int family : families) {
    for (const NamedPortMatch* source_named : source_alternatives) {
      for (const NamedPortMatch* dest_named : dest_alternatives) {
        std::vector<std::string> parts;
        if (family != 0) parts.push_back(family == 6 ? "meta nfproto ipv6" : "meta nfproto ipv4");
        if (rule.protocol) parts.push_back(fmt::format("meta l4proto {}", *rule.protocol));
        if (rule.not_protocol) {
          parts.push_back(fmt::format("meta l4proto != {}", *rule.not_protocol));
        }
        RETURN_IF_ERROR(AppendEntity(parts, rule.source, true, family, source_named, ctx));
        RETURN_IF_ERROR(AppendEntity(parts, rule.destination, false, family, dest_named, ctx));
        if (rule.icmp) parts.push_back(IcmpMatchText(*rule.icmp, family, false));
        if (rule.not_icmp) parts.push_back(IcmpMatchText(*rule.not_icmp, family, true));
        parts.push_back(verdict);
        out.push_back(StrJoin(parts, " "));
      }
    }
  }
  return out;
}

Result<std::vector<std::string>> CompileRule(const Json& rule, const RenderContext& ctx) {
  ASSIGN_OR_RETURN(ParsedRule parsed, ParseRule(rule));
  return RenderRule(parsed, ctx);
}

}  // namespace calico::policy
