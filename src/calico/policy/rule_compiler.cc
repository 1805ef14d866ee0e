// Rule -> nftables statements (felix/rules/policy.go ProtoRuleToIptablesRules and
// felix/nftables match rendering; rule checks from libcalico-go/lib/validator/v3 and the CRD CEL).
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

Status CheckKeys(const Json& obj, std::string_view path,
                 std::initializer_list<std::string_view> keys) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return FieldError(path.empty() ? key : fmt::format("{}.{}", path, key), "unknown field");
    }
  }
  return OkStatus();
}

// Port: 80, "80", "1000:2000", or a port name (returned in `name`).
Result<PortRange> ParsePort(const Json& v, const std::string& field, std::string& name) {
  constexpr std::string_view kRangeMsg =
      "port range invalid, port number must be between 1 and 65535";
  auto check = [&](long n) -> Result<uint16_t> {
    if (n < 1 || n > 65535) return FieldError(field, kRangeMsg);
    return static_cast<uint16_t>(n);
  };
  if (v.is_number_integer()) {
    const auto n = v.get<long long>();
    if (n < 1 || n > 65535) return FieldError(field, kRangeMsg);
    auto p = static_cast<uint16_t>(n);
    return PortRange{p, p};
  }
  if (!v.is_string()) return FieldError(field, "port must be a number or a string");
  const auto s = v.get<std::string>();
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
Result<std::vector<PortRange>> ParsePorts(const Json& v, const std::string& field,
                                          std::vector<NamedPortMatch>& names) {
  if (!v.is_array()) return FieldError(field, "must be a list of ports");
  std::vector<PortRange> ranges;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string name;
    ASSIGN_OR_RETURN(PortRange r, ParsePort(v[i], fmt::format("{}[{}]", field, i), name));
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
Result<std::vector<net::CIDR>> ParseNets(const Json& v, const std::string& field, bool negated) {
  if (!v.is_array()) return FieldError(field, "must be a list of CIDRs");
  std::vector<net::CIDR> nets;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string item = fmt::format("{}[{}]", field, i);
    if (!v[i].is_string()) return FieldError(item, "must be a string");
    const auto text = v[i].get<std::string>();
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

Result<std::string> ParseSelectorField(const Json& v, const std::string& field) {
  if (!v.is_string()) return FieldError(field, "must be a string");
  auto text = v.get<std::string>();
  if (StrTrim(text).empty()) return std::string();
  if (text.size() > selector::kMaxSelectorLength) {
    return FieldError(field, "selector is longer than 1024 characters");
  }
  if (auto st = selector::Validate(text); !st) return FieldError(field, st.error().message());
  if (auto sel = selector::Parse(text); sel && sel->UsesGlobal()) {
    return FieldError(field, "global() may not be used in an entity rule selector");
  }
  return text;
}

Result<EntityMatch> ParseEntity(const Json& v, const std::string& path) {
  EntityMatch e;
  if (v.is_null()) return e;
  if (!v.is_object()) return FieldError(path, "must be an object");
  RETURN_IF_ERROR(CheckKeys(v, path,
                            {"nets", "notNets", "selector", "notSelector", "namespaceSelector",
                             "ports", "notPorts", "serviceAccounts", "services"}));
  for (std::string_view key : {"namespaceSelector", "serviceAccounts", "services"}) {
    auto it = v.find(std::string(key));
    if (it == v.end() || it->is_null()) continue;
    if ((it->is_string() && StrTrim(it->get<std::string>()).empty()) ||
        ((it->is_object() || it->is_array()) && it->empty())) {
      continue;
    }
    return FieldUnsupported(fmt::format("{}.{}", path, key),
                            "not supported by the nftables renderer yet (fold it into an IP set "
                            "through selector)");
  }
  if (auto it = v.find("nets"); it != v.end() && !it->is_null()) {
    ASSIGN_OR_RETURN(e.nets, ParseNets(*it, path + ".nets", false));
  }
  if (auto it = v.find("notNets"); it != v.end() && !it->is_null()) {
    ASSIGN_OR_RETURN(e.not_nets, ParseNets(*it, path + ".notNets", true));
  }
  if (auto it = v.find("selector"); it != v.end() && !it->is_null()) {
    ASSIGN_OR_RETURN(e.selector, ParseSelectorField(*it, path + ".selector"));
  }
  if (auto it = v.find("notSelector"); it != v.end() && !it->is_null()) {
    ASSIGN_OR_RETURN(e.not_selector, ParseSelectorField(*it, path + ".notSelector"));
  }
  if (auto it = v.find("ports"); it != v.end() && !it->is_null()) {
    ASSIGN_OR_RETURN(e.ports, ParsePorts(*it, path + ".ports", e.named_ports));
  }
  if (auto it = v.find("notPorts"); it != v.end() && !it->is_null()) {
    ASSIGN_OR_RETURN(e.not_ports, ParsePorts(*it, path + ".notPorts", e.not_named_ports));
  }
  return e;
}

Result<std::optional<IcmpMatch>> ParseIcmp(const Json& v, const std::string& field) {
  if (v.is_null()) return std::optional<IcmpMatch>();
  if (!v.is_object()) return FieldError(field, "must be an object");
  RETURN_IF_ERROR(CheckKeys(v, field, {"type", "code"}));
  auto get = [&](const char* key, int max) -> Result<std::optional<int>> {
    auto it = v.find(key);
    if (it == v.end() || it->is_null()) return std::optional<int>();
    if (!it->is_number_integer()) return FieldError(field + "." + key, "must be an integer");
    const auto n = it->get<long long>();
    if (n < 0 || n > max) {
      return FieldError(field + "." + key, fmt::format("must be between 0 and {}", max));
    }
    return std::optional<int>(static_cast<int>(n));
  };
  ASSIGN_OR_RETURN(auto type, get("type", 254));
  ASSIGN_OR_RETURN(auto code, get("code", 255));
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
    ASSIGN_OR_RETURN(std::string set, ctx.resolve_set(field, *sel, family));
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

Result<uint8_t> ParseProtocol(const Json& value) {
  if (value.is_number_integer()) {
    const auto n = value.get<long long>();
    if (n < 1 || n > 255) return InvalidArgument(fmt::format("invalid protocol {}", n));
    return static_cast<uint8_t>(n);
  }
  if (!value.is_string()) return InvalidArgument("protocol must be a number or a string");
  const auto s = value.get<std::string>();
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

Result<RuleIR> ParseRule(const Json& rule) {
  if (!rule.is_object()) return InvalidArgument("rule must be an object");
  RETURN_IF_ERROR(CheckKeys(rule, "",
                            {"action", "ipVersion", "protocol", "notProtocol", "icmp", "notICMP",
                             "source", "destination", "http", "metadata"}));
  RuleIR ir;
  auto action = rule.find("action");
  if (action == rule.end() || !action->is_string()) return FieldError("action", "required");
  const auto a = action->get<std::string>();
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
  if (auto it = rule.find("http"); it != rule.end() && !it->is_null()) {
    if (!it->is_object()) return FieldError("http", "must be an object");
    ir.http_match_ignored = !it->empty();
  }
  if (auto it = rule.find("ipVersion"); it != rule.end() && !it->is_null()) {
    if (!it->is_number_integer() || (it->get<long long>() != 4 && it->get<long long>() != 6)) {
      return FieldError("ipVersion", "must be 4 or 6");
    }
    ir.ip_version = static_cast<int>(it->get<long long>());
  }
  for (const auto& [key, out] :
       {std::pair{"protocol", &ir.protocol}, {"notProtocol", &ir.not_protocol}}) {
    auto it = rule.find(key);
    if (it == rule.end() || it->is_null()) continue;
    auto proto = ParseProtocol(*it);
    if (!proto) return FieldError(key, proto.error().message());
    *out = *proto;
  }
  {
    auto it = rule.find("icmp");
    ASSIGN_OR_RETURN(ir.icmp, ParseIcmp(it == rule.end() ? Json() : *it, "icmp"));
    it = rule.find("notICMP");
    ASSIGN_OR_RETURN(ir.not_icmp, ParseIcmp(it == rule.end() ? Json() : *it, "notICMP"));
  }
  {
    auto it = rule.find("source");
    ASSIGN_OR_RETURN(ir.source, ParseEntity(it == rule.end() ? Json() : *it, "source"));
    it = rule.find("destination");
    ASSIGN_OR_RETURN(ir.destination, ParseEntity(it == rule.end() ? Json() : *it, "destination"));
  }

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

Result<std::vector<std::string>> RenderRule(const RuleIR& rule, const RenderContext& ctx) {
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
  switch (rule.action) {
    case Action::kAllow:
      verdict += fmt::format("meta mark set meta mark | {} return", Hex(ctx.marks.accept));
      break;
    case Action::kPass:
      verdict += fmt::format("meta mark set meta mark | {} return", Hex(ctx.marks.pass));
      break;
    case Action::kDeny:
      verdict += "drop";
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
  ASSIGN_OR_RETURN(RuleIR ir, ParseRule(rule));
  return RenderRule(ir, ctx);
}

}  // namespace calico::policy
