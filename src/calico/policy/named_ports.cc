// Named-port IP set ids and the IP sets a rule needs (felix/calc/rule_scanner.go), see
// named_ports.h.
#include "calico/policy/named_ports.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/selector/unique_id.h"

namespace calico::policy {
namespace {

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool IsPortName(std::string_view text) {
  if (text.empty() || text.size() > 128 || IsDigits(text)) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

uint8_t NamedPortProtocol(std::optional<uint8_t> rule_protocol) {
  if (rule_protocol == kNamedPortUdp || rule_protocol == kNamedPortSctp) return *rule_protocol;
  return kNamedPortTcp;
}

std::string NamedPortProtocolName(uint8_t protocol) {
  switch (protocol) {
    case kNamedPortTcp:
      return "tcp";
    case kNamedPortUdp:
      return "udp";
    case kNamedPortSctp:
      return "sctp";
    default:
      return std::to_string(protocol);
  }
}

std::optional<uint8_t> ParseNamedPortProtocol(std::string_view text) {
  for (uint8_t p : {kNamedPortTcp, kNamedPortUdp, kNamedPortSctp}) {
    if (EqualsIgnoreCase(text, NamedPortProtocolName(p))) return p;
  }
  return std::nullopt;
}

Result<selector::Selector> NamedPortSelector(std::string_view sel, std::string_view not_sel) {
  if (StrTrim(sel).empty()) return selector::Selector::All();
  if (StrTrim(not_sel).empty()) return selector::Parse(sel);
  return selector::Parse(fmt::format("({}) && (!({}))", sel, not_sel));
}

std::string NamedPortSetId(const selector::Selector& sel, uint8_t protocol,
                           std::string_view port_name) {
  return selector::MakeUniqueId(
      "n", fmt::format("{},{},{}", sel.UniqueId(), NamedPortProtocolName(protocol), port_name));
}

RuleIpSets ScanRuleIpSets(const ParsedRule& rule) {
  RuleIpSets out;
  const uint8_t np_proto = NamedPortProtocol(rule.protocol);
  std::set<std::string> seen_selectors;
  std::set<std::string> seen_sets;
  for (const EntityMatch* e : {&rule.source, &rule.destination}) {
    // The rule's numeric (or port-less) alternative matches the selector sets; the named-port
    // alternatives only the notSelector, and only when it is not folded into their sets.
    const bool numeric_alternative = !e->ports.empty() || e->named_ports.empty();
    auto add_selector = [&](const std::string& text) {
      if (!text.empty() && seen_selectors.insert(text).second) out.selectors.push_back(text);
    };
    if (numeric_alternative) add_selector(e->selector);
    if (numeric_alternative || e->selector.empty()) add_selector(e->not_selector);
    if (e->named_ports.empty() && e->not_named_ports.empty()) continue;
    auto np_sel = NamedPortSelector(e->selector, e->not_selector);
    if (!np_sel) continue;
    for (const auto* names : {&e->named_ports, &e->not_named_ports}) {
      for (const NamedPortMatch& n : *names) {
        if (!seen_sets.insert(n.set_id).second) continue;
        out.named_ports.push_back(
            {.id = n.set_id, .selector = *np_sel, .protocol = np_proto, .port = n.name});
      }
    }
  }
  return out;
}

}  // namespace calico::policy
