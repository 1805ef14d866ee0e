// Named-port IP set ids and the IP sets a rule needs (felix/calc/rule_scanner.go), see
// named_ports.h.
#include "calico/policy/named_ports.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/policy/rule_compiler.h"
#include "calico/selector/unique_id.h"

namespace calico::policy {
namespace {

using Json = nlohmann::json;

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A blank selector text counts as absent (the rule compiler does the same).
std::string SelectorText(const Json& entity, const char* key) {
  auto it = entity.find(key);
  if (it == entity.end() || !it->is_string()) return "";
  const std::string text = it->get<std::string>();
  return StrTrim(text).empty() ? "" : text;
}

// Sets `numeric` when `entity[key]` lists a number or a range; appends the port names.
void ClassifyPorts(const Json& entity, const char* key, bool& numeric,
                   std::vector<std::string>& named) {
  auto it = entity.find(key);
  if (it == entity.end() || !it->is_array()) return;
  for (const Json& p : *it) {
    if (p.is_number_integer()) {
      numeric = true;
    } else if (p.is_string()) {
      const std::string text = p.get<std::string>();
      if (IsPortName(text)) {
        named.push_back(text);
      } else if (IsDigits(text) || text.find(':') != std::string::npos) {
        numeric = true;
      }
    }
  }
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

RuleIpSets ScanRuleIpSets(const Json& rule) {
  RuleIpSets out;
  if (!rule.is_object()) return out;
  std::optional<uint8_t> protocol;
  if (auto it = rule.find("protocol"); it != rule.end() && !it->is_null()) {
    if (auto p = ParseProtocol(*it)) protocol = *p;
  }
  const uint8_t np_proto = NamedPortProtocol(protocol);
  std::set<std::string> seen_selectors;
  std::set<std::string> seen_sets;
  for (const char* side : {"source", "destination"}) {
    auto it = rule.find(side);
    if (it == rule.end() || !it->is_object()) continue;
    const Json& entity = *it;
    const std::string sel = SelectorText(entity, "selector");
    const std::string not_sel = SelectorText(entity, "notSelector");
    bool numeric = false;
    bool ignored = false;
    std::vector<std::string> named;
    std::vector<std::string> not_named;
    ClassifyPorts(entity, "ports", numeric, named);
    ClassifyPorts(entity, "notPorts", ignored, not_named);
    // The rule's numeric (or port-less) alternative matches the selector sets; the named-port
    // alternatives only the notSelector, and only when it is not folded into their sets.
    const bool numeric_alternative = numeric || named.empty();
    auto add_selector = [&](const std::string& text) {
      if (!text.empty() && seen_selectors.insert(text).second) out.selectors.push_back(text);
    };
    if (numeric_alternative) add_selector(sel);
    if (numeric_alternative || sel.empty()) add_selector(not_sel);
    if (named.empty() && not_named.empty()) continue;
    auto np_sel = NamedPortSelector(sel, not_sel);
    if (!np_sel) continue;
    for (const auto* names : {&named, &not_named}) {
      for (const std::string& name : *names) {
        std::string id = NamedPortSetId(*np_sel, np_proto, name);
        if (!seen_sets.insert(id).second) continue;
        out.named_ports.push_back(
            {.id = std::move(id), .selector = *np_sel, .protocol = np_proto, .port = name});
      }
    }
  }
  return out;
}

}  // namespace calico::policy
