// Schema engine for the infra family: reproduces the OpenAPI checks Calico runs in-process from
// its CRDs (libcalico-go/lib/validator/v3/crd_validation) and the Go JSON decoder's strictness
// (unknown fields, wrong types, metav1.Duration), plus the go-playground tags carried in the
// schema ("go").
#include "calico/model/validation/infra_schema.h"

#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "calico/base/numbers.h"
#include "calico/model/validation/meta.h"
#include "calico/net/ip.h"
#include "calico/selector/selector.h"

namespace calico::model::validation {
namespace {

// Node has no CRD; its schema mirrors libcalico-go/lib/apis/internalapi NodeSpec/NodeStatus.
constexpr std::string_view kNodeSchema = R"json({
 "spec":{"t":"object","p":{
  "bgp":{"t":"object","p":{
    "asNumber":{"t":"integer","asn":1},
    "ipv4Address":{"t":"string","go":"omitempty,cidrv4"},
    "ipv6Address":{"t":"string","go":"omitempty,cidrv6"},
    "ipv4IPIPTunnelAddr":{"t":"string","go":"omitempty,ipv4"},
    "routeReflectorClusterID":{"t":"string","go":"omitempty,ipv4"}}},
  "ipv4VXLANTunnelAddr":{"t":"string","go":"omitempty,ipv4"},
  "vxlanTunnelMACAddr":{"t":"string","go":"omitempty,mac"},
  "ipv6VXLANTunnelAddr":{"t":"string","go":"omitempty,ipv6"},
  "vxlanTunnelMACAddrV6":{"t":"string","go":"omitempty,mac"},
  "orchRefs":{"t":"array","i":{"t":"object","p":{
    "nodeName":{"t":"string"},"orchestrator":{"t":"string"}}}},
  "wireguard":{"t":"object","p":{
    "interfaceIPv4Address":{"t":"string","go":"omitempty,ipv4"},
    "interfaceIPv6Address":{"t":"string","go":"omitempty,ipv6"}}},
  "addresses":{"t":"array","i":{"t":"object","p":{
    "address":{"t":"string","go":"net"},
    "type":{"t":"string","go":"omitempty,ipType"}}}},
  "interfaces":{"t":"array","i":{"t":"object","p":{
    "name":{"t":"string","go":"omitempty,name"},
    "addresses":{"t":"array","i":{"t":"string"}}}}}}},
 "status":{"t":"object","p":{
  "wireguardPublicKey":{"t":"string","go":"omitempty,wireguardPublicKey"},
  "wireguardPublicKeyV6":{"t":"string","go":"omitempty,wireguardPublicKey"},
  "podCIDRs":{"t":"array","i":{"t":"string"}}}}})json";

// ASNumber fields decode from numbers, "64512" or AS-dot "1.10" (numorstring.ASNumber).
void MarkAsn(Json& node) {
  if (!node.is_object()) return;
  if (auto p = node.find("p"); p != node.end()) {
    for (auto& [name, child] : p->items()) {
      if (name == "asNumber" || name == "localASNumber") child["asn"] = 1;
      if ((name == "asPathPrefix" || name == "prefix") && child.contains("i")) {
        child["i"]["asn"] = 1;
      }
      MarkAsn(child);
    }
  }
  if (auto i = node.find("i"); i != node.end()) MarkAsn(*i);
  if (auto m = node.find("m"); m != node.end()) MarkAsn(*m);
}

std::string Render(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

bool IsIntegral(const Json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

double AsDouble(const Json& v) {
  return v.get<double>();
}

std::optional<uint32_t> ParseAsn(const std::string& s) {
  auto parse_part = [](std::string_view p, uint64_t max) -> std::optional<uint64_t> {
    if (p.empty() || p.size() > 10) return std::nullopt;
    uint64_t n = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (n > max) return std::nullopt;
    return n;
  };
  auto dot = s.find('.');
  if (dot == std::string::npos) {
    auto n = parse_part(s, 0xffffffffULL);
    if (!n) return std::nullopt;
    return static_cast<uint32_t>(*n);
  }
  auto hi = parse_part(std::string_view(s).substr(0, dot), 0xffff);
  auto lo = parse_part(std::string_view(s).substr(dot + 1), 0xffff);
  if (!hi || !lo) return std::nullopt;
  return static_cast<uint32_t>((*hi << 16) | *lo);
}

// Go's RE2 "(?i)" prefix is not ECMAScript: strip it and use icase.
bool MatchesPattern(const std::string& pattern, const std::string& value) {
  static auto* cache = new std::map<std::string, std::regex>();
  static auto* mu = new std::mutex();
  std::lock_guard<std::mutex> lock(*mu);
  auto it = cache->find(pattern);
  if (it == cache->end()) {
    std::string p = pattern;
    auto flags = std::regex::ECMAScript;
    if (auto pos = p.find("(?i)"); pos != std::string::npos) {
      p.erase(pos, 4);
      flags |= std::regex::icase;
    }
    try {
      it = cache->emplace(pattern, std::regex(p, flags)).first;
    } catch (const std::regex_error&) {
      return true;
    }
  }
  return std::regex_search(value, it->second);
}

bool IsSubdomain(const std::string& s) {
  static const std::regex kRe("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  return std::regex_match(s, kRe);
}

std::string GoFieldName(const FieldPath& path) {
  const std::string& s = path.str();
  size_t start = s.find_last_of('.');
  std::string name = start == std::string::npos ? s : s.substr(start + 1);
  if (auto b = name.find('['); b != std::string::npos) name.resize(b);
  if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name;
}

std::string TagReason(const FieldPath& path, std::string_view tag) {
  return fmt::format("failed to validate Field: {} because of Tag: {} ", GoFieldName(path), tag);
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? s.npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

}  // namespace

std::optional<std::string> ProcessIPPort(std::string_view text) {
  static const std::regex kV4Port("^(\\d+).(\\d+).(\\d+).(\\d+):(\\d+)$");
  static const std::regex kV6Port("^\\[[0-9a-fA-F:.]+\\]:(\\d+)$");
  std::string s(text);
  if (s.empty()) return std::nullopt;
  std::string host = s;
  if (std::regex_match(s, kV4Port) || std::regex_match(s, kV6Port)) {
    size_t colon = s.rfind(':');
    host = s.substr(0, colon);
    std::string port = s.substr(colon + 1);
    if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
    if (port.size() > 5) return std::nullopt;
    if (!ParseIntInRange<uint32_t>(port, 1, 65535)) return std::nullopt;
  }
  if (!net::IPAddr::Parse(host)) return std::nullopt;
  return host;
}

namespace {

// One go-playground tag on a string value. Returns true when it passes.
bool CheckStringTag(const std::string& tag, const std::string& s) {
  static const std::regex kInterface("^[a-zA-Z0-9_.-]{1,15}$");
  static const std::regex kIgnored("^[a-zA-Z0-9_.*-]{1,15}$");
  static const std::regex kIfaceFilter("^[a-zA-Z0-9:._+-]{1,15}$");
  if (tag == "selector") return selector::Validate(s).has_value();
  if (tag == "name") return IsSubdomain(s);
  if (tag == "interface") return s == "*" || std::regex_match(s, kInterface);
  if (tag == "bgpFilterInterface") return s == "*" || std::regex_match(s, kIgnored);
  if (tag == "ignoredInterface") return s != "*" && std::regex_match(s, kIgnored);
  if (tag == "ifaceFilter") return std::regex_match(s, kIfaceFilter);
  if (tag == "regexp") {
    try {
      std::regex re(s);
    } catch (const std::regex_error&) {
      return false;
    }
    return true;
  }
  if (tag == "ipv4" || tag == "ipv6" || tag == "reachableBy") {
    auto ip = net::IPAddr::Parse(s);
    if (!ip) return false;
    if (tag == "ipv4") return ip->is_v4();
    if (tag == "ipv6") return ip->is_v6();
    return true;
  }
  if (tag == "cidr" || tag == "cidrv4" || tag == "cidrv6" || tag == "net" || tag == "netv4" ||
      tag == "netv6") {
    auto c = net::CIDR::ParseNet(s);
    if (!c) return false;
    if ((tag == "cidrv4" || tag == "netv4") && c->family() != 4) return false;
    if ((tag == "cidrv6" || tag == "netv6") && c->family() != 6) return false;
    if (tag.rfind("net", 0) == 0) return c->IsStrictlyMasked();
    return true;
  }
  if (tag == "mac") return net::MAC::Parse(s).has_value();
  if (tag == "ipType") return s == "CalicoNodeIP" || s == "InternalIP" || s == "ExternalIP";
  if (tag == "IP:port") return ProcessIPPort(s).has_value();
  if (tag == "keyValueList") {
    // Comma-separated "key=value" items (\w+ keys); blank input and empty items are fine.
    static const std::regex kKv("^\\s*\\w+=.*$");
    if (s.find_first_not_of(" \t\n\r") == std::string::npos) return true;
    for (const auto& item : Split(s, ',')) {
      if (!item.empty() && !std::regex_match(item, kKv)) return false;
    }
    return true;
  }
  if (tag == "prometheusHost") {
    static const std::regex kHost("^[a-zA-Z0-9:._+-]{1,64}$");
    return std::regex_match(s, kHost);
  }
  if (tag == "wireguardPublicKey") {
    // wgtypes.ParseKey: standard base64 of exactly 32 bytes.
    static const std::regex kKey("^[A-Za-z0-9+/]{43}=$");
    return std::regex_match(s, kKey);
  }
  if (tag == "createDefaultHostEndpoint") return s == "Enabled" || s == "Disabled";
  if (tag.rfind("oneof=", 0) == 0) {
    for (const auto& opt : Split(tag.substr(6), ' ')) {
      if (opt == s) return true;
    }
    return false;
  }
  return true;
}

bool IsEmptyValue(const Json& v) {
  if (v.is_null()) return true;
  if (v.is_string()) return v.get_ref<const std::string&>().empty();
  if (v.is_number()) return v.get<double>() == 0;
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_array() || v.is_object()) return v.empty();
  return false;
}

void CheckGoTags(const std::string& tags, const Json& value, const FieldPath& path,
                 FieldErrors& errors, bool pointer = false) {
  auto parts = Split(tags, ',');
  bool omitempty = false;
  for (size_t k = 0; k < parts.size(); ++k) {
    const std::string& tag = parts[k];
    if (tag.empty()) continue;
    if (tag == "omitempty") {
      omitempty = true;
      // A nil pointer is empty; a pointer to a zero value is not.
      if (pointer ? value.is_null() : IsEmptyValue(value)) return;
      continue;
    }
    if (tag == "required") {
      if (IsEmptyValue(value)) {
        errors.Add(path, Render(value), TagReason(path, tag));
        return;
      }
      continue;
    }
    if (tag == "dive") {
      // Remaining tags apply to each element.
      std::string rest;
      for (size_t j = k + 1; j < parts.size(); ++j) {
        rest += (rest.empty() ? "" : ",") + parts[j];
      }
      if (!rest.empty() && value.is_array()) {
        for (size_t idx = 0; idx < value.size(); ++idx) {
          CheckGoTags(rest, value[idx], path.Index(idx), errors);
        }
      }
      return;
    }
    if (tag == "cidrs") {
      if (!value.is_array()) continue;
      for (const auto& e : value) {
        if (!e.is_string() || !net::CIDR::ParseNet(e.get<std::string>())) {
          errors.Add(path, Render(value), TagReason(path, tag));
          break;
        }
      }
      continue;
    }
    if (tag == "ifaceFilterSlice" || tag == "interfaceSlice") {
      if (!value.is_array()) continue;
      for (const auto& e : value) {
        if (!e.is_string() ||
            !CheckStringTag(tag == "ifaceFilterSlice" ? "ifaceFilter" : "interface",
                            e.get<std::string>())) {
          errors.Add(path, Render(value), TagReason(path, tag));
          break;
        }
      }
      continue;
    }
    if (tag == "labels") {
      if (value.is_object()) ValidateLabels(value, path, errors);
      continue;
    }
    if (tag == "bpfLogFilters" || tag == "mustBeNil" || tag == "mustBeFalse") {
      continue;  // labels are checked by the caller; the rest is schema-covered.
    }
    auto eq = tag.find('=');
    if (eq != std::string::npos && tag.rfind("oneof", 0) != 0) {
      std::string op = tag.substr(0, eq);
      // The bounds come from the embedded schema (Go validate tags such as "lte=65535").
      Result<double> parsed_bound = ParseDouble(std::string_view(tag).substr(eq + 1));
      if (!parsed_bound || !value.is_number()) continue;
      const double bound = *parsed_bound;
      double v = value.get<double>();
      bool ok = true;
      if (op == "gte") ok = v >= bound;
      if (op == "gt") ok = v > bound;
      if (op == "lte") ok = v <= bound;
      if (op == "lt") ok = v < bound;
      if (!ok) errors.Add(path, Render(value), TagReason(path, tag));
      continue;
    }
    if (value.is_string() && !CheckStringTag(tag, value.get<std::string>())) {
      errors.Add(path, Render(value), TagReason(path, tag));
    }
  }
  (void)omitempty;
}

std::string EnumText(const Json& e) {
  std::string out;
  for (const auto& v : e) {
    if (!out.empty()) out += ", ";
    out += v.is_string() ? "\"" + v.get<std::string>() + "\"" : v.dump();
  }
  return out;
}

}  // namespace

const Json* InfraSchema(std::string_view kind) {
  static const std::map<std::string, Json, std::less<>>* schemas = [] {
    auto* m = new std::map<std::string, Json, std::less<>>();
    for (const char* k :
         {"IPPool", "IPReservation", "IPAMConfiguration", "BGPPeer", "BGPConfiguration",
          "BGPFilter", "FelixConfiguration", "ClusterInformation", "KubeControllersConfiguration",
          "CalicoNodeStatus"}) {
      Json j = Json::parse(InfraSchemaText(k), nullptr, false);
      for (const char* section : {"spec", "status"}) {
        if (j.contains(section)) MarkAsn(j[section]);
      }
      if (std::string_view(k) == "BGPPeer") {
        // An anyOf of two constants in the CRD.
        j["spec"]["p"]["reversePeering"]["e"] = Json::array({"Auto", "Manual"});
      }
      (*m)[k] = std::move(j);
    }
    Json node = Json::parse(kNodeSchema, nullptr, false);
    (*m)["Node"] = std::move(node);
    return m;
  }();
  auto it = schemas->find(kind);
  return it == schemas->end() ? nullptr : &it->second;
}

void ApplySchemaDefaults(const Json& schema, Json& value) {
  if (value.is_object()) {
    if (auto p = schema.find("p"); p != schema.end()) {
      for (const auto& [name, child] : p->items()) {
        auto vit = value.find(name);
        if (vit == value.end()) {
          if (auto d = child.find("def"); d != child.end()) value[name] = *d;
          continue;
        }
        ApplySchemaDefaults(child, *vit);
      }
    }
    if (auto m = schema.find("m"); m != schema.end()) {
      for (auto& [k, v] : value.items())
        ApplySchemaDefaults(*m, v);
    }
  } else if (value.is_array()) {
    if (auto i = schema.find("i"); i != schema.end()) {
      for (auto& v : value)
        ApplySchemaDefaults(*i, v);
    }
  }
}

void CheckSchema(const Json& schema, const Json& value, const FieldPath& path,
                 FieldErrors& errors) {
  if (value.is_null()) return;  // Go decodes null as the zero value.
  // A zero value in a non-pointer omitempty Go field is dropped by the typed round trip, so the
  // schema never sees it.
  if (schema.contains("oe") && IsEmptyValue(value)) return;
  const std::string type = schema.value("t", "");
  const std::string rendered = Render(value);
  auto wrong_type = [&](std::string_view want) {
    errors.Add(path, rendered, fmt::format("must be of type {}", want));
  };

  if (type == "object") {
    if (!value.is_object()) return wrong_type("object");
    if (schema.contains("any")) return;
    // "req" is not checked: every CRD-required property is a non-omitempty Go field, which the
    // typed round trip Calico performs before the schema check always emits (as its zero value).
    // Emptiness is caught by the Go "required" tags and struct validators instead.
    if (auto mx = schema.find("maxP"); mx != schema.end() && value.size() > mx->get<size_t>()) {
      errors.Add(path, rendered, fmt::format("must have at most {} properties", mx->get<size_t>()));
    }
    if (auto mn = schema.find("minP"); mn != schema.end() && value.size() < mn->get<size_t>()) {
      errors.Add(path, rendered,
                 fmt::format("must have at least {} properties", mn->get<size_t>()));
    }
    auto props = schema.find("p");
    if (props != schema.end()) {
      // Go "required" tags fire on absent (zero-valued) fields too.
      for (const auto& [name, child] : props->items()) {
        if (value.contains(name) && !value[name].is_null()) continue;
        auto go = child.find("go");
        if (go != child.end() && go->get<std::string>().rfind("required", 0) == 0) {
          errors.Add(path.Child(name), "", TagReason(path.Child(name), "required"));
        }
      }
    }
    auto map_schema = schema.find("m");
    for (const auto& [name, child] : value.items()) {
      if (props != schema.end()) {
        auto ps = props->find(name);
        if (ps == props->end()) {
          errors.Add(path.Child(name), Render(child), kUnknownFieldReason);
          continue;
        }
        CheckSchema(*ps, child, path.Child(name), errors);
      } else if (map_schema != schema.end()) {
        CheckSchema(*map_schema, child, path.Key(name), errors);
      }
    }
  } else if (type == "array") {
    if (!value.is_array()) return wrong_type("array");
    if (auto mx = schema.find("maxI"); mx != schema.end() && value.size() > mx->get<size_t>()) {
      errors.Add(path, rendered, fmt::format("must have at most {} items", mx->get<size_t>()));
    }
    if (auto mn = schema.find("minI"); mn != schema.end() && value.size() < mn->get<size_t>()) {
      errors.Add(path, rendered, fmt::format("must have at least {} items", mn->get<size_t>()));
    }
    if (schema.contains("set")) {
      for (size_t a = 0; a < value.size(); ++a) {
        for (size_t b = 0; b < a; ++b) {
          if (value[a] == value[b]) {
            errors.Add(path.Index(a), Render(value[a]),
                       fmt::format("Duplicate value: {}", value[a].dump()));
            break;
          }
        }
      }
    }
    if (auto items = schema.find("i"); items != schema.end()) {
      for (size_t k = 0; k < value.size(); ++k)
        CheckSchema(*items, value[k], path.Index(k), errors);
    }
  } else if (type == "boolean") {
    if (!value.is_boolean()) return wrong_type("boolean");
  } else if (type == "integer" || type == "number") {
    Json num = value;
    if (schema.contains("asn")) {
      if (value.is_string()) {
        auto asn = ParseAsn(value.get<std::string>());
        if (!asn) {
          errors.Add(path, rendered, "invalid AS Number format");
          return;
        }
        num = *asn;
      } else if (!IsIntegral(value) || value.get<double>() < 0 ||
                 value.get<double>() > 4294967295.0) {
        errors.Add(path, rendered, "invalid AS Number format");
        return;
      }
    } else if (!value.is_number()) {
      return wrong_type(type);
    } else if (type == "integer" && !IsIntegral(value)) {
      return wrong_type("integer");
    }
    double v = AsDouble(num);
    if (!schema.contains("asn") && schema.value("fmt", "") == "int32" &&
        (v < -2147483648.0 || v > 2147483647.0)) {
      errors.Add(path, rendered, "must be of type int32");
      return;
    }
    if (auto u = schema.find("umax"); u != schema.end() && (v < 0 || v > u->get<double>())) {
      errors.Add(path, rendered, fmt::format("must be between 0 and {}", u->get<uint64_t>()));
      return;
    }
    if (auto mn = schema.find("min"); mn != schema.end() && v < mn->get<double>()) {
      errors.Add(path, rendered, fmt::format("should be greater than or equal to {}", mn->dump()));
    }
    if (auto mx = schema.find("max"); mx != schema.end() && v > mx->get<double>()) {
      errors.Add(path, rendered, fmt::format("should be less than or equal to {}", mx->dump()));
    }
  } else if (type == "string") {
    if (!value.is_string()) return wrong_type("string");
    const auto& s = value.get_ref<const std::string&>();
    if (schema.contains("dur")) {
      if (!ParseGoDuration(s)) {
        errors.Add(path, s, fmt::format("time: invalid duration \"{}\"", s));
        return;
      }
    }
    if (auto e = schema.find("e"); e != schema.end()) {
      bool found = false;
      for (const auto& opt : *e)
        found = found || (opt.is_string() && opt.get<std::string>() == s);
      if (!found) {
        errors.Add(path, s,
                   fmt::format("Unsupported value: \"{}\": supported values: {}", s, EnumText(*e)));
      }
    }
    if (auto mx = schema.find("maxL"); mx != schema.end() && s.size() > mx->get<size_t>()) {
      errors.Add(path, s, fmt::format("may not be longer than {}", mx->get<size_t>()));
    }
    if (auto mn = schema.find("minL"); mn != schema.end() && s.size() < mn->get<size_t>()) {
      errors.Add(path, s, fmt::format("should be at least {} chars long", mn->get<size_t>()));
    }
    if (auto pat = schema.find("pat"); pat != schema.end() && !MatchesPattern(*pat, s)) {
      errors.Add(path, s, fmt::format("should match '{}'", pat->get<std::string>()));
    }
    // Calico's in-process format checker accepts a bare address as a CIDR.
    if (schema.value("fmt", "") == "cidr" && !s.empty() && !net::CIDR::ParseNet(s)) {
      errors.Add(path, s, "must be of type cidr");
    }
  } else if (type == "intorstr") {
    if (!value.is_string() && !IsIntegral(value)) return wrong_type("integer or string");
    if (value.is_string()) {
      if (auto pat = schema.find("pat");
          pat != schema.end() && !MatchesPattern(*pat, value.get<std::string>())) {
        errors.Add(path, rendered, fmt::format("should match '{}'", pat->get<std::string>()));
      }
    }
  }
  if (auto go = schema.find("go"); go != schema.end()) {
    CheckGoTags(go->get<std::string>(), value, path, errors, schema.contains("ptr"));
  }
}

std::optional<int64_t> ParseGoDuration(std::string_view text) {
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    long double whole = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      whole = whole * 10 + (s[i] - '0');
      ++i;
      digits = true;
    }
    long double frac = 0;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        frac += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits) return std::nullopt;
    size_t u = i;
    while (u < s.size() && !(s[u] >= '0' && s[u] <= '9') && s[u] != '.')
      ++u;
    std::string_view unit = s.substr(i, u - i);
    long double mult = 0;
    if (unit == "ns") {
      mult = 1;
    } else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") {
      mult = 1e3L;
    } else if (unit == "ms") {
      mult = 1e6L;
    } else if (unit == "s") {
      mult = 1e9L;
    } else if (unit == "m") {
      mult = 60e9L;
    } else if (unit == "h") {
      mult = 3600e9L;
    } else {
      return std::nullopt;
    }
    total += (whole + frac) * mult;
    if (total > 9.223372036854775807e18L) return std::nullopt;
    s.remove_prefix(u);
  }
  auto ns = static_cast<int64_t>(total);
  return neg ? -ns : ns;
}

std::string FormatGoDuration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  auto frac = [](uint64_t v, uint64_t unit) {
    std::string s = std::to_string(v / unit);
    uint64_t rem = v % unit;
    if (rem != 0) {
      std::string f = std::to_string(rem + unit).substr(1);
      while (!f.empty() && f.back() == '0')
        f.pop_back();
      s += "." + f;
    }
    return s;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + frac(u, 1000) + "\xc2\xb5s";
  if (u < 1000000000) return sign + frac(u, 1000000) + "ms";
  uint64_t h = u / 3600000000000ULL;
  u -= h * 3600000000000ULL;
  uint64_t m = u / 60000000000ULL;
  u -= m * 60000000000ULL;
  std::string out = sign;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += frac(u, 1000000000ULL) + "s";
  return out;
}

}  // namespace calico::model::validation
