// model::v3::Rule -> ParsedRule (felix/calc/rule_convert.go; the rule checks of
// libcalico-go/lib/validator/v3 and the CRD CEL), see parsed_rule.h.
#include "calico/policy/parsed_rule.h"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/policy/named_ports.h"
#include "calico/selector/selector.h"

namespace calico::policy {
namespace {

using model::v3::NumOrString;

constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kProtoSctp = 132;
constexpr uint8_t kProtoUdplite = 136;

struct ProtoName {
  std::string_view name;
  uint8_t number;
};
constexpr std::array<ProtoName, 6> kProtoNames = {{{"tcp", kProtoTcp},
                                                   {"udp", kProtoUdp},
                                                   {"icmp", kProtoIcmp},
                                                   {"icmpv6", kProtoIcmpv6},
                                                   {"sctp", kProtoSctp},
                                                   {"udplite", kProtoUdplite}}};

tl::unexpected<Error> FieldError(std::string_view field, std::string_view msg) {
  return InvalidArgument(fmt::format("{}: {}", field, msg));
}

tl::unexpected<Error> FieldUnsupported(std::string_view field, std::string_view msg) {
  return MakeError(ErrorCode::kUnsupported, fmt::format("{}: {}", field, msg));
}

bool AllDigits(std::string_view s) {
  return !s.empty() && s.size() <= 9 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

long ToLong(std::string_view s) {
  long v = 0;
  for (char c : s) {
    v = v * 10 + (c - '0');
  }
  return v;
}

// Port: 80, "80", "1000:2000", or a port name (returned in `name`).
Result<PortRange> ParsePort(const NumOrString& v, const std::string& field, std::string& name) {
  constexpr std::string_view kRangeMsg =
      "port range invalid, port number must be between 1 and 65535";
  auto check = [&](long n) -> Result<uint16_t> {
    if (n < 1 || n > 65535) return FieldError(field, kRangeMsg);
    return static_cast<uint16_t>(n);
  };
  if (!v.is_string) {
    if (v.num < 1 || v.num > 65535) return FieldError(field, kRangeMsg);
    auto p = static_cast<uint16_t>(v.num);
    return PortRange{p, p};
  }
  const std::string& s = v.str;
  if (AllDigits(s)) {
    ASSIGN_OR_RETURN(uint16_t p, check(ToLong(s)));
    return PortRange{p, p};
  }
  if (const auto colon = s.find(':'); colon != std::string::npos) {
    const std::string_view lo = std::string_view(s).substr(0, colon);
    const std::string_view hi = std::string_view(s).substr(colon + 1);
    if (!AllDigits(lo) || !AllDigits(hi)) {
      return FieldError(field, fmt::format("invalid port range \"{}\"", s));
    }
    ASSIGN_OR_RETURN(uint16_t first, check(ToLong(lo)));
    ASSIGN_OR_RETURN(uint16_t last, check(ToLong(hi)));
    if (first > last) {
      return FieldError(
          field, fmt::format("minimum port number ({}) is greater than maximum ({})", first, last));
    }
    return PortRange{first, last};
  }
  if (std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return FieldError(field, kRangeMsg);  // Too many digits for AllDigits.
  }
  if (IsPortName(s)) {
    name = s;
    return PortRange{};
  }
  return FieldError(field, fmt::format("invalid port \"{}\"", s));
}

// Numeric ports (sorted, merged) into the result, port names (as written, unique) into `names`.
Result<std::vector<PortRange>> ParsePorts(const std::vector<NumOrString>& ports,
                                          const std::string& field,
                                          std::vector<NamedPortMatch>& names) {
  std::vector<PortRange> ranges;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    std::string name;
    ASSIGN_OR_RETURN(PortRange r, ParsePort(ports[i], fmt::format("{}[{}]", field, i), name));
    if (name.empty()) {
      ranges.push_back(r);
    } else if (std::none_of(names.begin(), names.end(),
                            [&](const NamedPortMatch& n) { return n.name == name; })) {
      names.push_back({.name = std::move(name)});
    }
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const PortRange& a, const PortRange& b) { return a.first < b.first; });
  std::vector<PortRange> merged;
  for (const PortRange& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().last + 1) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

// Strictly masked CIDRs; sorted; CIDRs covered by another one in the list dropped.
Result<std::vector<net::CIDR>> ParseNets(const std::vector<std::string>& texts,
                                         const std::string& field, bool negated) {
  std::vector<net::CIDR> nets;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string item = fmt::format("{}[{}]", field, i);
    const std::string& text = texts[i];
    auto cidr = net::CIDR::Parse(text);
    if (!cidr) return FieldError(item, fmt::format("invalid CIDR \"{}\"", text));
    if (!cidr->IsStrictlyMasked()) {
      return FieldError(item, fmt::format("invalid CIDR \"{}\": host bits must be zero", text));
    }
    if (negated && cidr->prefix_len() == 0) {
      return FieldError(
          item, "catch-all CIDR in negation creates logical contradiction (matches no traffic)");
    }
    nets.push_back(*cidr);
  }
  // Broadest first, so that covered prefixes can be dropped in one pass.
  std::sort(nets.begin(), nets.end(), [](const net::CIDR& a, const net::CIDR& b) {
    if (a.prefix_len() != b.prefix_len()) return a.prefix_len() < b.prefix_len();
    return a.addr() < b.addr();
  });
  std::vector<net::CIDR> kept;
  for (const net::CIDR& c : nets) {
    const bool covered = std::any_of(kept.begin(), kept.end(), [&](const net::CIDR& k) {
      return k.family() == c.family() && k.Contains(c);
    });
    if (!covered) kept.push_back(c);
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

// A selector field: blank = absent; otherwise validated, with its IP set id in `id`.
Result<std::string> ParseSelectorField(const std::string& text, const std::string& field,
                                       std::string& id) {
  if (StrTrim(text).empty()) return std::string();
  if (text.size() > selector::kMaxSelectorLength) {
    return FieldError(field, "selector is longer than 1024 characters");
  }
  if (auto st = selector::Validate(text); !st) return FieldError(field, st.error().message());
  auto sel = selector::Parse(text);
  if (!sel) return FieldError(field, sel.error().message());
  if (sel->UsesGlobal()) {
    return FieldError(field, "global() may not be used in an entity rule selector");
  }
  id = sel->UniqueId();
  return text;
}

Result<EntityMatch> ParseEntity(const model::v3::EntityRule& v, const std::string& path) {
  EntityMatch e;
  const bool ns_selector = !StrTrim(v.namespace_selector).empty();
  const bool service_accounts =
      v.service_accounts &&
      (!v.service_accounts->names.empty() || !StrTrim(v.service_accounts->selector).empty());
  const bool services =
      v.services && (!v.services->name.empty() || !v.services->namespace_.empty());
  for (const auto& [key, used] : {std::pair{"namespaceSelector", ns_selector},
                                  {"serviceAccounts", service_accounts},
                                  {"services", services}}) {
    if (!used) continue;
    return FieldUnsupported(fmt::format("{}.{}", path, key),
                            "not supported by the nftables renderer yet (fold it into an IP set "
                            "through selector)");
  }
  ASSIGN_OR_RETURN(e.nets, ParseNets(v.nets, path + ".nets", false));
  ASSIGN_OR_RETURN(e.not_nets, ParseNets(v.not_nets, path + ".notNets", true));
  ASSIGN_OR_RETURN(e.selector, ParseSelectorField(v.selector, path + ".selector", e.selector_id));
  ASSIGN_OR_RETURN(e.not_selector,
                   ParseSelectorField(v.not_selector, path + ".notSelector", e.not_selector_id));
  ASSIGN_OR_RETURN(e.ports, ParsePorts(v.ports, path + ".ports", e.named_ports));
  ASSIGN_OR_RETURN(e.not_ports, ParsePorts(v.not_ports, path + ".notPorts", e.not_named_ports));
  return e;
}

Result<std::optional<IcmpMatch>> ParseIcmp(const std::optional<model::v3::ICMPFields>& v,
                                           const std::string& field) {
  if (!v) return std::optional<IcmpMatch>();
  auto get = [&](const char* key, const std::optional<int64_t>& value,
                 int max) -> Result<std::optional<int>> {
    if (!value) return std::optional<int>();
    if (*value < 0 || *value > max) {
      return FieldError(field + "." + key, fmt::format("must be between 0 and {}", max));
    }
    return std::optional<int>(static_cast<int>(*value));
  };
  ASSIGN_OR_RETURN(auto type, get("type", v->type, 254));
  ASSIGN_OR_RETURN(auto code, get("code", v->code, 255));
  if (!type && code) return FieldError(field, "ICMP code specified without an ICMP type");
  if (!type) return std::optional<IcmpMatch>();
  return std::optional<IcmpMatch>(IcmpMatch{*type, code});
}

// Narrows `family` to `f`; returns false on conflict.
bool Narrow(std::optional<int>& family, int f) {
  if (family && *family != f) return false;
  family = f;
  return true;
}

}  // namespace

Result<uint8_t> ParseProtocol(const model::v3::Protocol& value) {
  if (!value.is_string) {
    if (value.num < 1 || value.num > 255) {
      return InvalidArgument(fmt::format("invalid protocol {}", value.num));
    }
    return static_cast<uint8_t>(value.num);
  }
  const std::string& s = value.str;
  if (AllDigits(s)) {
    const long n = ToLong(s);
    if (n < 1 || n > 255) return InvalidArgument(fmt::format("invalid protocol \"{}\"", s));
    return static_cast<uint8_t>(n);
  }
  for (const ProtoName& p : kProtoNames) {
    if (EqualsIgnoreCase(s, p.name)) return p.number;
  }
  return InvalidArgument(fmt::format("invalid protocol \"{}\"", s));
}

Result<ParsedRule> ParseRule(const model::v3::Rule& rule) {
  ParsedRule ir;
  const std::string& a = rule.action;
  if (a.empty()) return FieldError("action", "required");
  if (a == "Allow") {
    ir.action = Action::kAllow;
  } else if (a == "Deny") {
    ir.action = Action::kDeny;
  } else if (a == "Pass") {
    ir.action = Action::kPass;
  } else if (a == "Log") {
    ir.action = Action::kLog;
  } else {
    return FieldError("action",
                      fmt::format("invalid action \"{}\" (want Allow, Deny, Pass or Log)", a));
  }
  // HTTP matches are enforced by an L7 proxy (Dikastes) in Calico; Felix itself renders only the
  // rule's L3/L4 part (felix/rules/policy.go never reads HttpMatch; felix/calc/rule_convert.go
  // passes it on for the proxy). This build has no proxy: the same, and the rule says so.
  ir.http_match_ignored = rule.http.has_value() && !rule.http->empty();
  if (rule.ip_version) {
    if (*rule.ip_version != 4 && *rule.ip_version != 6) {
      return FieldError("ipVersion", "must be 4 or 6");
    }
    ir.ip_version = static_cast<int>(*rule.ip_version);
  }
  for (const auto& [key, in, out] :
       {std::tuple{"protocol", &rule.protocol, &ir.protocol},
        std::tuple{"notProtocol", &rule.not_protocol, &ir.not_protocol}}) {
    if (!*in) continue;
    auto proto = ParseProtocol(**in);
    if (!proto) return FieldError(key, proto.error().message());
    *out = *proto;
  }
  ASSIGN_OR_RETURN(ir.icmp, ParseIcmp(rule.icmp, "icmp"));
  ASSIGN_OR_RETURN(ir.not_icmp, ParseIcmp(rule.not_icmp, "notICMP"));
  ASSIGN_OR_RETURN(ir.source, ParseEntity(rule.source, "source"));
  ASSIGN_OR_RETURN(ir.destination, ParseEntity(rule.destination, "destination"));

  // ICMP fields need protocol ICMP/ICMPv6; ICMP protocols pin the IP version.
  const bool icmp_proto = ir.protocol == kProtoIcmp || ir.protocol == kProtoIcmpv6;
  if (ir.icmp && !icmp_proto) {
    return FieldError("icmp", "ICMP fields require protocol to be ICMP or ICMPv6");
  }
  if (ir.not_icmp && !icmp_proto) {
    return FieldError("notICMP", "ICMP fields require protocol to be ICMP or ICMPv6");
  }
  ir.family = ir.ip_version;
  for (const auto& [key, proto] :
       {std::pair{"protocol", ir.protocol}, {"notProtocol", ir.not_protocol}}) {
    if (proto == kProtoIcmp && ir.ip_version == 6) {
      return FieldError(key, "protocol ICMP requires ipVersion 4");
    }
    if (proto == kProtoIcmpv6 && ir.ip_version == 4) {
      return FieldError(key, "protocol ICMPv6 requires ipVersion 6");
    }
  }
  if (ir.protocol == kProtoIcmp) ir.family = 4;
  if (ir.protocol == kProtoIcmpv6) ir.family = 6;

  // All CIDRs of a rule are one family, agreeing with ipVersion (and the ICMP protocol).
  std::optional<int> cidr_family;
  for (const auto& [field, nets] : {std::pair{"source.nets", &ir.source.nets},
                                    {"source.notNets", &ir.source.not_nets},
                                    {"destination.nets", &ir.destination.nets},
                                    {"destination.notNets", &ir.destination.not_nets}}) {
    for (const net::CIDR& c : *nets) {
      if (!Narrow(cidr_family, c.family())) {
        return FieldError(field, "rule contains both IPv4 and IPv6 CIDRs");
      }
      if (ir.ip_version && *ir.ip_version != c.family()) {
        return FieldError(field, "rule IP version doesn't match CIDR version");
      }
      if (!Narrow(ir.family, c.family())) {
        return FieldError(field, fmt::format("CIDR {} conflicts with protocol {}", c.String(),
                                             *ir.protocol == kProtoIcmp ? "ICMP" : "ICMPv6"));
      }
    }
  }

  // Ports need a protocol that has ports; named ports alone may leave the protocol out (their
  // sets are TCP ones then).
  const bool port_proto =
      ir.protocol == kProtoTcp || ir.protocol == kProtoUdp || ir.protocol == kProtoSctp;
  for (const auto& [field, ports, names] :
       {std::tuple{"source.ports", &ir.source.ports, &ir.source.named_ports},
        {"source.notPorts", &ir.source.not_ports, &ir.source.not_named_ports},
        {"destination.ports", &ir.destination.ports, &ir.destination.named_ports},
        {"destination.notPorts", &ir.destination.not_ports, &ir.destination.not_named_ports}}) {
    if ((!ports->empty() || (!names->empty() && ir.protocol)) && !port_proto) {
      return FieldError(field, "rules that specify ports must set protocol to TCP or UDP or SCTP");
    }
  }

  // Named-port sets: filtered by the side's selector (notSelector folded in), see named_ports.h.
  const uint8_t np_proto = NamedPortProtocol(ir.protocol);
  for (const auto& [side, e] :
       {std::pair{"source", &ir.source}, {"destination", &ir.destination}}) {
    if (e->named_ports.empty() && e->not_named_ports.empty()) continue;
    auto sel = NamedPortSelector(e->selector, e->not_selector);
    if (!sel) return FieldError(fmt::format("{}.selector", side), sel.error().message());
    for (auto* names : {&e->named_ports, &e->not_named_ports}) {
      for (NamedPortMatch& n : *names) {
        n.set_id = NamedPortSetId(*sel, np_proto, n.name);
      }
    }
  }
  return ir;
}

Result<ParsedRule> ParseRule(const nlohmann::json& rule) {
  ASSIGN_OR_RETURN(model::v3::Rule decoded, model::v3::DecodeRule(rule));
  return ParseRule(decoded);
}

ParsedRules::ParsedRules() {
  static const std::shared_ptr<const Data> empty = std::make_shared<const Data>();
  data_ = empty;
}

ParsedRules::ParsedRules(std::vector<ParsedRule> rules, std::optional<Error> error)
    : data_(std::make_shared<const Data>(Data{std::move(rules), std::move(error)})) {}

ParsedRules::ParsedRules(const nlohmann::json& rules) {
  Data data;
  if (!rules.is_null() && !rules.is_array()) {
    data.error = Error(ErrorCode::kInvalidArgument, "rules must be a list");
  } else if (rules.is_array()) {
    for (const nlohmann::json& rule : rules) {
      auto parsed = ParseRule(rule);
      if (!parsed) {
        data.error = std::move(parsed).error();
        break;
      }
      data.rules.push_back(*std::move(parsed));
    }
  }
  data_ = std::make_shared<const Data>(std::move(data));
}

ParsedRules::ParsedRules(nlohmann::json::initializer_list_t init)
    : ParsedRules(nlohmann::json(init)) {}

ParsedRules ParsedRules::Parse(const std::vector<model::v3::Rule>& rules) {
  if (rules.empty()) return ParsedRules();
  std::vector<ParsedRule> out;
  out.reserve(rules.size());
  for (const model::v3::Rule& rule : rules) {
    auto parsed = ParseRule(rule);
    if (!parsed) return ParsedRules(std::move(out), std::move(parsed).error());
    out.push_back(*std::move(parsed));
  }
  return ParsedRules(std::move(out));
}

}  // namespace calico::policy
