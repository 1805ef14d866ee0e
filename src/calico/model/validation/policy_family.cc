// Defaulting and validation of the policy family (libcalico-go/lib/validator/v3 validateRule,
// validateEntityRule, validateNetworkPolicy, validateGlobalNetworkPolicy, validateWorkloadEndpoint
// and friends; the CRD schema and CEL rules of reference Part 1.2-1.8; api/pkg/defaults).
// Size: over 700 lines because the rule, entity-rule and policy validators call one another and
// share the selector and port checks; validator/v3 keeps them in one file too.
#include <algorithm>
#include <cctype>
#include <set>

#include "calico/model/validation/common.h"
#include "calico/model/validation/families.h"
#include "calico/model/validation/meta.h"
#include "calico/net/ip.h"

namespace calico::model::validation {

std::string StrTrimCopy(std::string_view s);

namespace {

enum class Direction { kIngress, kEgress, kNone };

struct PolicyContext {
  bool global = false;
  Direction direction = Direction::kNone;
};

bool Has(const Json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && !obj[key].is_null();
}

void Report(FieldErrors& errors, const FieldPath& path, const Json& value,
            const std::string& reason) {
  if (!reason.empty()) errors.Add(path, ValueText(value), reason);
}

bool IsIcmpProtocol(const Json& proto, int* version) {
  auto n = ProtocolNumber(proto);
  if (!n) return false;
  if (*n == 1) {
    *version = 4;
    return true;
  }
  if (*n == 58) {
    *version = 6;
    return true;
  }
  return false;
}

void ValidateIcmp(const Json& icmp, const FieldPath& path, FieldErrors& errors) {
  CheckKnownFields(icmp, path, {"type", "code"}, errors);
  if (!icmp.is_object()) return;
  if (Has(icmp, "type"))
    Report(errors, path.Child("type"), icmp["type"], CheckInt(icmp["type"], 0, 254));
  if (Has(icmp, "code")) {
    Report(errors, path.Child("code"), icmp["code"], CheckInt(icmp["code"], 0, 255));
    if (!Has(icmp, "type")) errors.Add(path, "", "ICMP code specified without an ICMP type");
  }
}

// Collects the families of a rule's nets for the cross-field checks.
struct NetFamilies {
  bool v4 = false;
  bool v6 = false;
};

void ValidateNets(const Json& nets, const FieldPath& path, bool negated, NetFamilies& fams,
                  FieldErrors& errors) {
  if (!nets.is_array()) {
    errors.Add(path, ValueText(nets), "must be a list of CIDRs");
    return;
  }
  if (nets.size() > 256) errors.Add(path, "", "must have at most 256 items");
  for (size_t i = 0; i < nets.size(); ++i) {
    int fam = 0;
    std::string reason = CheckNet(nets[i], NetKind::kStrictCidr, 0, &fam);
    if (!reason.empty()) {
      errors.Add(path.Index(i), ValueText(nets[i]),
                 reason == "invalid CIDR" ? "invalid CIDR" : reason);
      continue;
    }
    (fam == 4 ? fams.v4 : fams.v6) = true;
    if (negated) {
      auto cidr = net::CIDR::Parse(nets[i].get<std::string>());
      if (cidr && cidr->prefix_len() == 0) {
        errors.Add(path.Index(i), nets[i].get<std::string>(),
                   "catch-all CIDR in negation creates logical contradiction (matches no traffic)");
      }
    }
  }
}

void ValidatePorts(const Json& ports, const FieldPath& path, const Json& rule,
                   FieldErrors& errors) {
  if (!ports.is_array()) {
    errors.Add(path, ValueText(ports), "must be a list of ports");
    return;
  }
  if (ports.size() > 50) errors.Add(path, "", "must have at most 50 items");
  bool has_proto = Has(rule, "protocol");
  for (size_t i = 0; i < ports.size(); ++i) {
    PortInfo info;
    std::string reason = CheckPort(ports[i], &info);
    if (!reason.empty()) {
      errors.Add(path.Index(i), ValueText(ports[i]), reason);
      continue;
    }
    if (has_proto && !ProtocolSupportsPorts(rule["protocol"])) {
      errors.Add(path.Index(i), ValueText(ports[i]),
                 "rules that specify ports must set protocol to TCP or UDP or SCTP");
    } else if (!has_proto && !info.named) {
      errors.Add(path.Index(i), ValueText(ports[i]),
                 "rules with numeric port or port range must set protocol to TCP or UDP or SCTP");
    }
  }
}

void ValidateEntityRule(const Json& er, const FieldPath& path, const Json& rule, bool is_source,
                        const PolicyContext& ctx, NetFamilies& fams, FieldErrors& errors) {
  CheckKnownFields(er, path,
                   {"nets", "notNets", "selector", "notSelector", "namespaceSelector", "ports",
                    "notPorts", "serviceAccounts", "services"},
                   errors);
  if (!er.is_object()) return;
  if (Has(er, "nets")) ValidateNets(er["nets"], path.Child("nets"), false, fams, errors);
  if (Has(er, "notNets")) ValidateNets(er["notNets"], path.Child("notNets"), true, fams, errors);
  for (const char* key : {"selector", "notSelector"}) {
    if (Has(er, key)) Report(errors, path.Child(key), er[key], CheckSelector(er[key], false));
  }
  if (Has(er, "namespaceSelector")) {
    const Json& ns = er["namespaceSelector"];
    std::string reason = CheckSelector(ns, true);
    if (reason.empty()) {
      std::string text = ns.get<std::string>();
      std::string reason_global = CheckSelector(ns, false);
      if (!reason_global.empty() && text.find("global()") != std::string::npos &&
          StrTrimCopy(text) != "global()") {
        reason = "global() can only be used on its own in a namespaceSelector";
      }
    }
    Report(errors, path.Child("namespaceSelector"), ns, reason);
  }
  if (Has(er, "ports")) ValidatePorts(er["ports"], path.Child("ports"), rule, errors);
  if (Has(er, "notPorts")) ValidatePorts(er["notPorts"], path.Child("notPorts"), rule, errors);
  if (Has(er, "serviceAccounts")) {
    const Json& sa = er["serviceAccounts"];
    FieldPath sp = path.Child("serviceAccounts");
    CheckKnownFields(sa, sp, {"names", "selector"}, errors);
    if (sa.is_object()) {
      if (Has(sa, "names"))
        Report(errors, sp.Child("names"), sa["names"], CheckStringList(sa["names"]));
      if (Has(sa, "selector"))
        Report(errors, sp.Child("selector"), sa["selector"], CheckSelector(sa["selector"]));
    }
  }
  if (Has(er, "services")) {
    const Json& svc = er["services"];
    FieldPath sp = path.Child("services");
    CheckKnownFields(svc, sp, {"name", "namespace"}, errors);
    if (svc.is_object()) {
      if (!Has(svc, "name") || !svc["name"].is_string() || svc["name"].get<std::string>().empty()) {
        errors.Add(sp.Child("name"), "", "must specify a service name");
      }
      if (Has(svc, "namespace"))
        Report(errors, sp.Child("namespace"), svc["namespace"], CheckString(svc["namespace"]));
      if (ctx.global && (!Has(svc, "namespace") || svc["namespace"] == "")) {
        errors.Add(sp.Child("namespace"), "",
                   "must specify a service namespace in a global policy");
      }
    }
    for (const char* key :
         {"selector", "notSelector", "namespaceSelector", "nets", "notNets", "serviceAccounts"}) {
      if (Has(er, key)) {
        errors.Add(sp, "", std::string("cannot specify services together with ") + key);
      }
    }
    if (!is_source && (Has(er, "ports") || Has(er, "notPorts"))) {
      errors.Add(sp, "", "ports and notPorts cannot be specified with services");
    }
    if (is_source && ctx.direction == Direction::kEgress) {
      errors.Add(sp, "", "source.services is not allowed in egress rules");
    }
    if (!is_source && ctx.direction == Direction::kIngress) {
      errors.Add(sp, "", "destination.services is not allowed in ingress rules");
    }
  }
}

void ValidateHttp(const Json& http, const FieldPath& path, const Json& rule,
                  const PolicyContext& ctx, FieldErrors& errors) {
  CheckKnownFields(http, path, {"methods", "paths"}, errors);
  if (!http.is_object()) return;
  if (Has(http, "methods")) {
    const Json& m = http["methods"];
    std::string reason = CheckStringList(m);
    if (reason.empty()) {
      if (m.size() > 20) reason = "must have at most 20 items";
      std::set<std::string> seen;
      for (const Json& e : m) {
        if (!seen.insert(e.get<std::string>()).second)
          reason = "duplicate HTTP method " + e.get<std::string>();
      }
    }
    Report(errors, path.Child("methods"), m, reason);
  }
  if (Has(http, "paths")) {
    const Json& paths = http["paths"];
    if (!paths.is_array()) {
      errors.Add(path.Child("paths"), ValueText(paths), "must be a list");
    } else {
      if (paths.size() > 20) errors.Add(path.Child("paths"), "", "must have at most 20 items");
      for (size_t i = 0; i < paths.size(); ++i) {
        FieldPath pp = path.Child("paths").Index(i);
        const Json& p = paths[i];
        CheckKnownFields(p, pp, {"exact", "prefix"}, errors);
        if (!p.is_object()) continue;
        bool exact = Has(p, "exact");
        bool prefix = Has(p, "prefix");
        if (exact && prefix) {
          errors.Add(pp, ValueText(p), "Invalid path match. Both 'exact' and 'prefix' are set");
        } else if (!exact && !prefix) {
          errors.Add(pp, ValueText(p), "Either 'exact' or 'prefix' must be set");
        } else {
          const Json& v = exact ? p["exact"] : p["prefix"];
          std::string s = v.is_string() ? v.get<std::string>() : "";
          if (!v.is_string() || s.empty() || s[0] != '/' ||
              s.find_first_of("?#") != std::string::npos) {
            errors.Add(pp.Child(exact ? "exact" : "prefix"), ValueText(v),
                       "invalid path: must start with '/' and contain no '?' or '#'");
          }
        }
      }
    }
  }
  if (rule.value("action", "") != "Allow") {
    errors.Add(path, "", "HTTP match is only valid on Allow rules");
  }
  if (Has(rule, "protocol")) {
    auto n = ProtocolNumber(rule["protocol"]);
    if (!n || *n != 6)
      errors.Add(path, "", "rules with HTTP match must have protocol TCP or unset");
  }
  if (ctx.direction == Direction::kEgress)
    errors.Add(path, "", "HTTP match is not allowed in egress rule(s)");
}

void ValidateRule(const Json& rule, const FieldPath& path, const PolicyContext& ctx,
                  FieldErrors& errors) {
  CheckKnownFields(rule, path,
                   {"action", "ipVersion", "protocol", "notProtocol", "icmp", "notICMP", "source",
                    "destination", "http", "metadata"},
                   errors);
  if (!rule.is_object()) return;
  if (!Has(rule, "action")) {
    errors.Add(path.Child("action"), "", "action is required");
  } else {
    Report(errors, path.Child("action"), rule["action"],
           CheckEnum(rule["action"], {"Allow", "Deny", "Log", "Pass"}));
  }
  int ip_version = 0;
  if (Has(rule, "ipVersion")) {
    const Json& v = rule["ipVersion"];
    if (!v.is_number_integer() || (v.get<int>() != 4 && v.get<int>() != 6)) {
      errors.Add(path.Child("ipVersion"), ValueText(v), "ipVersion must be 4 or 6");
    } else {
      ip_version = v.get<int>();
    }
  }
  for (const char* key : {"protocol", "notProtocol"}) {
    if (!Has(rule, key)) continue;
    std::string reason = CheckProtocol(rule[key]);
    Report(errors, path.Child(key), rule[key], reason);
    int icmp_version = 0;
    if (reason.empty() && IsIcmpProtocol(rule[key], &icmp_version) && ip_version != 0 &&
        ip_version != icmp_version) {
      errors.Add(path.Child(key), ValueText(rule[key]),
                 icmp_version == 4 ? "protocol ICMP requires ipVersion 4"
                                   : "protocol ICMPv6 requires ipVersion 6");
    }
  }
  for (const char* key : {"icmp", "notICMP"}) {
    if (!Has(rule, key)) continue;
    ValidateIcmp(rule[key], path.Child(key), errors);
    int v = 0;
    bool icmp_proto = (Has(rule, "protocol") && IsIcmpProtocol(rule["protocol"], &v)) ||
                      (Has(rule, "notProtocol") && IsIcmpProtocol(rule["notProtocol"], &v));
    if (!icmp_proto) {
      errors.Add(path.Child(key), "", "ICMP fields require protocol to be ICMP or ICMPv6");
    }
  }
  NetFamilies fams;
  if (Has(rule, "source")) {
    ValidateEntityRule(rule["source"], path.Child("source"), rule, true, ctx, fams, errors);
  }
  if (Has(rule, "destination")) {
    ValidateEntityRule(rule["destination"], path.Child("destination"), rule, false, ctx, fams,
                       errors);
  }
  if (fams.v4 && fams.v6) {
    errors.Add(path, "", "rule contains both IPv4 and IPv6 CIDRs");
  } else if ((fams.v4 && ip_version == 6) || (fams.v6 && ip_version == 4)) {
    errors.Add(path.Child("ipVersion"), std::to_string(ip_version),
               "rule IP version doesn't match CIDR version");
  }
  if (Has(rule, "http")) ValidateHttp(rule["http"], path.Child("http"), rule, ctx, errors);
  if (Has(rule, "metadata")) {
    const Json& md = rule["metadata"];
    CheckKnownFields(md, path.Child("metadata"), {"annotations"}, errors);
    if (md.is_object() && md.contains("annotations")) {
      ValidateAnnotations(md["annotations"], path.Child("metadata").Child("annotations"), errors);
    }
  }
}

void ValidateRules(const Json& spec, const char* key, const PolicyContext& base,
                   FieldErrors& errors) {
  if (!Has(spec, key)) return;
  FieldPath path = FieldPath("spec").Child(key);
  const Json& rules = spec[key];
  if (!rules.is_array()) {
    errors.Add(path, ValueText(rules), "must be a list of rules");
    return;
  }
  if (rules.size() > 1024) errors.Add(path, "", "must have at most 1024 items");
  PolicyContext ctx = base;
  ctx.direction = std::string_view(key) == "ingress" ? Direction::kIngress : Direction::kEgress;
  for (size_t i = 0; i < rules.size(); ++i)
    ValidateRule(rules[i], path.Index(i), ctx, errors);
}

bool IsPolicyKind(const std::string& k) {
  return k == "NetworkPolicy" || k == "GlobalNetworkPolicy" || k == "StagedNetworkPolicy" ||
         k == "StagedGlobalNetworkPolicy";
}

void ValidatePolicy(const Resource& r, FieldErrors& errors) {
  const std::string kind = r.kind();
  const bool global = kind == "GlobalNetworkPolicy" || kind == "StagedGlobalNetworkPolicy";
  const bool staged = kind.rfind("Staged", 0) == 0;
  const Json& spec = r.spec();
  FieldPath sp("spec");
  std::vector<std::string_view> known = {"tier",  "order",   "selector", "serviceAccountSelector",
                                         "types", "ingress", "egress",   "performanceHints"};
  if (global) {
    for (std::string_view k : {"namespaceSelector", "applyOnForward", "preDNAT", "doNotTrack"}) {
      known.push_back(k);
    }
  }
  if (staged) known.push_back("stagedAction");
  for (auto it = spec.begin(); it != spec.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      AddUnknownField(sp, it.key(), known, errors);
    }
  }
  if (Has(spec, "tier")) {
    const Json& t = spec["tier"];
    if (!t.is_string() || !IsDnsLabel(t.get<std::string>())) {
      errors.Add(sp.Child("tier"), ValueText(t), "tier must be a valid tier name");
    }
  }
  if (Has(spec, "order"))
    Report(errors, sp.Child("order"), spec["order"], CheckNumber(spec["order"]));
  for (const char* key : {"selector", "serviceAccountSelector", "namespaceSelector"}) {
    if (Has(spec, key)) Report(errors, sp.Child(key), spec[key], CheckSelector(spec[key], false));
  }
  if (Has(spec, "types")) {
    const Json& types = spec["types"];
    if (!types.is_array()) {
      errors.Add(sp.Child("types"), ValueText(types), "must be a list");
    } else {
      if (types.size() > 2) errors.Add(sp.Child("types"), "", "must have at most 2 items");
      std::set<std::string> seen;
      for (size_t i = 0; i < types.size(); ++i) {
        std::string reason = CheckEnum(types[i], {"Ingress", "Egress"});
        if (!reason.empty()) {
          errors.Add(sp.Child("types").Index(i), ValueText(types[i]), reason);
        } else if (!seen.insert(types[i].get<std::string>()).second) {
          errors.Add(sp.Child("types").Index(i), types[i].get<std::string>(),
                     "'" + types[i].get<std::string>() + "' type specified more than once");
        }
      }
    }
  }
  if (Has(spec, "performanceHints")) {
    const Json& h = spec["performanceHints"];
    if (!h.is_array()) {
      errors.Add(sp.Child("performanceHints"), ValueText(h), "must be a list");
    } else {
      std::set<std::string> seen;
      for (size_t i = 0; i < h.size(); ++i) {
        std::string reason = CheckEnum(h[i], {"AssumeNeededOnEveryNode"});
        if (reason.empty() && !seen.insert(h[i].get<std::string>()).second)
          reason = "duplicate value";
        Report(errors, sp.Child("performanceHints").Index(i), h[i], reason);
      }
    }
  }
  PolicyContext ctx{.global = global};
  ValidateRules(spec, "ingress", ctx, errors);
  ValidateRules(spec, "egress", ctx, errors);
  if (global) {
    for (const char* key : {"applyOnForward", "preDNAT", "doNotTrack"}) {
      if (Has(spec, key)) Report(errors, sp.Child(key), spec[key], CheckBool(spec[key]));
    }
    bool pre_dnat = spec.value("preDNAT", false) == true;
    bool no_track = spec.value("doNotTrack", false) == true;
    bool forward = spec.value("applyOnForward", false) == true;
    if (pre_dnat && no_track) {
      errors.Add(sp.Child("preDNAT"), "true", "preDNAT and doNotTrack cannot both be true");
    }
    if (pre_dnat) {
      if (Has(spec, "egress") && spec["egress"].is_array() && !spec["egress"].empty()) {
        errors.Add(sp.Child("egress"), "", "preDNAT policy cannot have any egress rules");
      }
      if (Has(spec, "types") && spec["types"].is_array()) {
        for (const Json& t : spec["types"]) {
          if (t == "Egress")
            errors.Add(sp.Child("types"), "Egress", "preDNAT policy cannot have 'Egress' type");
        }
      }
    }
    if ((pre_dnat || no_track) && !forward) {
      errors.Add(sp.Child("applyOnForward"), "false",
                 "applyOnForward must be true if either preDNAT or doNotTrack is true");
    }
  }
  if (staged && Has(spec, "stagedAction")) {
    std::string reason = CheckEnum(spec["stagedAction"], {"Set", "Delete", "Learn", "Ignore"});
    Report(errors, sp.Child("stagedAction"), spec["stagedAction"], reason);
    if (reason.empty() && spec["stagedAction"] == "Delete") {
      for (auto it = spec.begin(); it != spec.end(); ++it) {
        if (it.key() == "tier" || it.key() == "stagedAction" || it.key() == "types") continue;
        if (!it->is_null() && !(it->is_array() && it->empty()) &&
            !(it->is_string() && it->get<std::string>().empty())) {
          errors.Add(sp.Child(it.key()), ValueText(*it),
                     "stagedAction Delete requires all spec fields except tier to be empty");
        }
      }
    }
  }
}

void ValidateTier(const Resource& r, FieldErrors& errors) {
  const Json& spec = r.spec();
  FieldPath sp("spec");
  CheckKnownFields(spec, sp, {"order", "defaultAction"}, errors);
  if (Has(spec, "order"))
    Report(errors, sp.Child("order"), spec["order"], CheckNumber(spec["order"]));
  if (Has(spec, "defaultAction")) {
    Report(errors, sp.Child("defaultAction"), spec["defaultAction"],
           CheckEnum(spec["defaultAction"], {"Deny", "Pass"}));
  }
  struct BuiltIn {
    const char* name;
    double order;
    const char* action;
  };
  for (const BuiltIn& b : {BuiltIn{"default", 1000000, "Deny"}, BuiltIn{"kube-admin", 1000, "Pass"},
                           BuiltIn{"kube-baseline", 10000000, "Pass"}}) {
    if (r.name() != b.name) continue;
    if (!Has(spec, "order") || !spec["order"].is_number() ||
        spec["order"].get<double>() != b.order) {
      errors.Add(sp.Child("order"), Has(spec, "order") ? ValueText(spec["order"]) : "",
                 std::string("The '") + b.name + "' tier must have order " +
                     std::to_string(static_cast<long long>(b.order)));
    }
    if (spec.value("defaultAction", "Deny") != b.action) {
      errors.Add(sp.Child("defaultAction"), ValueText(spec["defaultAction"]),
                 std::string("The '") + b.name + "' tier must have default action " + b.action);
    }
  }
}

void ValidateProfile(const Resource& r, FieldErrors& errors) {
  const Json& spec = r.spec();
  FieldPath sp("spec");
  CheckKnownFields(spec, sp, {"ingress", "egress", "labelsToApply"}, errors);
  ValidateRules(spec, "ingress", PolicyContext{}, errors);
  ValidateRules(spec, "egress", PolicyContext{}, errors);
  if (Has(spec, "labelsToApply"))
    ValidateLabels(spec["labelsToApply"], sp.Child("labelsToApply"), errors);
}

void ValidateNameList(const Json& v, const FieldPath& path, FieldErrors& errors) {
  std::string reason = CheckStringList(v);
  if (!reason.empty()) {
    errors.Add(path, ValueText(v), reason);
    return;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!IsDnsSubdomain(v[i].get<std::string>())) {
      errors.Add(path.Index(i), v[i].get<std::string>(), "invalid name");
    }
  }
}

void ValidateEndpointPorts(const Json& ports, const FieldPath& path, bool name_required,
                           FieldErrors& errors) {
  if (!ports.is_array()) {
    errors.Add(path, ValueText(ports), "must be a list");
    return;
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    const Json& p = ports[i];
    FieldPath pp = path.Index(i);
    CheckKnownFields(p, pp, {"name", "protocol", "port", "hostPort", "hostIP"}, errors);
    if (!p.is_object()) continue;
    bool host_port = Has(p, "hostPort") && p["hostPort"] != 0;
    if (Has(p, "name") && p["name"] != "") {
      if (!p["name"].is_string() || !IsValidPortName(p["name"].get<std::string>())) {
        errors.Add(pp.Child("name"), ValueText(p["name"]), "invalid port name");
      }
    } else if (name_required || !host_port) {
      errors.Add(pp.Child("name"), "", "port name is required");
    }
    if (!Has(p, "protocol")) {
      errors.Add(pp.Child("protocol"), "", "protocol is required");
    } else if (!p["protocol"].is_string() || !CheckProtocol(p["protocol"]).empty() ||
               !ProtocolSupportsPorts(p["protocol"])) {
      // Endpoint ports name their protocol (TCP, UDP or SCTP); numbers are rejected as upstream.
      errors.Add(pp.Child("protocol"), ValueText(p["protocol"]),
                 "protocol must be one of TCP, UDP or SCTP");
    }
    if (!Has(p, "port")) {
      errors.Add(pp.Child("port"), "", "port is required");
    } else {
      Report(errors, pp.Child("port"), p["port"], CheckInt(p["port"], 1, 65535));
    }
    if (Has(p, "hostPort"))
      Report(errors, pp.Child("hostPort"), p["hostPort"], CheckInt(p["hostPort"], 0, 65535));
    if (Has(p, "hostIP"))
      Report(errors, pp.Child("hostIP"), p["hostIP"], CheckNet(p["hostIP"], NetKind::kIP));
  }
}

void ValidateWorkloadEndpoint(const Resource& r, FieldErrors& errors) {
  const Json& spec = r.spec();
  FieldPath sp("spec");
  CheckKnownFields(
      spec, sp,
      {"orchestrator", "workload", "node", "containerID", "pod", "endpoint", "serviceAccountName",
       "ipNetworks", "ipNATs", "ipv4Gateway", "ipv6Gateway", "profiles", "interfaceName", "mac",
       "ports", "allowSpoofedSourcePrefixes", "qosControls"},
      errors);
  for (const char* key : {"orchestrator", "workload", "pod", "endpoint", "serviceAccountName"}) {
    if (Has(spec, key)) Report(errors, sp.Child(key), spec[key], CheckString(spec[key]));
  }
  if (Has(spec, "node") &&
      (!spec["node"].is_string() || !IsDnsSubdomain(spec["node"].get<std::string>()))) {
    errors.Add(sp.Child("node"), ValueText(spec["node"]), "invalid node name");
  }
  if (Has(spec, "containerID")) {
    const Json& c = spec["containerID"];
    bool ok = c.is_string();
    if (ok) {
      std::string s = c.get<std::string>();
      ok = !s.empty() && std::isalnum(static_cast<unsigned char>(s.front())) &&
           std::isalnum(static_cast<unsigned char>(s.back()));
      for (char ch : s)
        ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-');
    }
    if (!ok) errors.Add(sp.Child("containerID"), ValueText(c), "invalid container ID");
  }
  if (!Has(spec, "interfaceName") || spec["interfaceName"] == "") {
    errors.Add(sp.Child("interfaceName"), "", "interfaceName is required");
  } else if (!spec["interfaceName"].is_string() ||
             !IsValidInterfaceName(spec["interfaceName"].get<std::string>())) {
    errors.Add(sp.Child("interfaceName"), ValueText(spec["interfaceName"]),
               "invalid interface name");
  }
  std::vector<net::CIDR> networks;
  if (Has(spec, "ipNetworks")) {
    const Json& nets = spec["ipNetworks"];
    if (!nets.is_array()) {
      errors.Add(sp.Child("ipNetworks"), ValueText(nets), "must be a list");
    } else {
      for (size_t i = 0; i < nets.size(); ++i) {
        std::string reason = CheckNet(nets[i], NetKind::kNet);
        if (!reason.empty()) {
          errors.Add(sp.Child("ipNetworks").Index(i), ValueText(nets[i]), reason);
          continue;
        }
        auto c = net::CIDR::ParseNet(nets[i].get<std::string>());
        if (c->prefix_len() != c->addr().bit_len()) {
          errors.Add(sp.Child("ipNetworks").Index(i), nets[i].get<std::string>(),
                     "IP network contains multiple addresses");
        }
        networks.push_back(*c);
      }
    }
  }
  if (Has(spec, "ipNATs")) {
    const Json& nats = spec["ipNATs"];
    if (!nats.is_array()) {
      errors.Add(sp.Child("ipNATs"), ValueText(nats), "must be a list");
    } else {
      for (size_t i = 0; i < nats.size(); ++i) {
        FieldPath np = sp.Child("ipNATs").Index(i);
        CheckKnownFields(nats[i], np, {"internalIP", "externalIP"}, errors);
        if (!nats[i].is_object()) continue;
        int fi = 0;
        int fe = 0;
        std::string ri = CheckNet(nats[i].value("internalIP", Json()), NetKind::kIP, 0, &fi);
        std::string re = CheckNet(nats[i].value("externalIP", Json()), NetKind::kIP, 0, &fe);
        Report(errors, np.Child("internalIP"), nats[i].value("internalIP", Json()), ri);
        Report(errors, np.Child("externalIP"), nats[i].value("externalIP", Json()), re);
        if (ri.empty() && re.empty()) {
          if (fi != fe) errors.Add(np, "", "internalIP and externalIP must be the same IP version");
          auto ip = net::IPAddr::Parse(nats[i]["internalIP"].get<std::string>());
          bool inside = false;
          for (const net::CIDR& c : networks)
            inside = inside || c.Contains(*ip);
          if (!inside) errors.Add(np, ValueText(nats[i]), "NAT is not in the endpoint networks");
        }
      }
    }
  }
  if (Has(spec, "ipv4Gateway"))
    Report(errors, sp.Child("ipv4Gateway"), spec["ipv4Gateway"],
           CheckNet(spec["ipv4Gateway"], NetKind::kIP, 4));
  if (Has(spec, "ipv6Gateway"))
    Report(errors, sp.Child("ipv6Gateway"), spec["ipv6Gateway"],
           CheckNet(spec["ipv6Gateway"], NetKind::kIP, 6));
  if (Has(spec, "profiles")) ValidateNameList(spec["profiles"], sp.Child("profiles"), errors);
  if (Has(spec, "mac") && spec["mac"] != "") {
    if (!spec["mac"].is_string() || !net::MAC::Parse(spec["mac"].get<std::string>())) {
      errors.Add(sp.Child("mac"), ValueText(spec["mac"]), "invalid MAC address");
    }
  }
  if (Has(spec, "ports")) ValidateEndpointPorts(spec["ports"], sp.Child("ports"), false, errors);
  if (Has(spec, "allowSpoofedSourcePrefixes")) {
    const Json& a = spec["allowSpoofedSourcePrefixes"];
    if (!a.is_array()) {
      errors.Add(sp.Child("allowSpoofedSourcePrefixes"), ValueText(a), "must be a list");
    } else {
      for (size_t i = 0; i < a.size(); ++i) {
        Report(errors, sp.Child("allowSpoofedSourcePrefixes").Index(i), a[i],
               CheckNet(a[i], NetKind::kCidr));
      }
    }
  }
  if (Has(spec, "qosControls") && !spec["qosControls"].is_object()) {
    errors.Add(sp.Child("qosControls"), ValueText(spec["qosControls"]), "must be an object");
  }
}

void ValidateHostEndpoint(const Resource& r, FieldErrors& errors) {
  const Json& spec = r.spec();
  FieldPath sp("spec");
  CheckKnownFields(spec, sp, {"node", "interfaceName", "expectedIPs", "profiles", "ports"}, errors);
  if (!Has(spec, "node") || spec["node"] == "") {
    errors.Add(sp.Child("node"), "", "node must be specified");
  } else if (!spec["node"].is_string() || !IsDnsSubdomain(spec["node"].get<std::string>())) {
    errors.Add(sp.Child("node"), ValueText(spec["node"]), "invalid node name");
  }
  bool iface = Has(spec, "interfaceName") && spec["interfaceName"] != "";
  bool ips =
      Has(spec, "expectedIPs") && spec["expectedIPs"].is_array() && !spec["expectedIPs"].empty();
  if (iface) {
    const Json& i = spec["interfaceName"];
    if (!i.is_string() || (i != "*" && !IsValidInterfaceName(i.get<std::string>()))) {
      errors.Add(sp.Child("interfaceName"), ValueText(i), "invalid interface name");
    }
  }
  if (Has(spec, "expectedIPs")) {
    const Json& e = spec["expectedIPs"];
    if (!e.is_array()) {
      errors.Add(sp.Child("expectedIPs"), ValueText(e), "must be a list");
    } else {
      for (size_t i = 0; i < e.size(); ++i) {
        Report(errors, sp.Child("expectedIPs").Index(i), e[i], CheckNet(e[i], NetKind::kIP));
      }
    }
  }
  if (!iface && !ips) {
    errors.Add(sp, "", "at least one of interfaceName or expectedIPs must be specified");
  }
  if (Has(spec, "profiles")) ValidateNameList(spec["profiles"], sp.Child("profiles"), errors);
  if (Has(spec, "ports")) ValidateEndpointPorts(spec["ports"], sp.Child("ports"), true, errors);
}

void ValidateNetworkSet(const Resource& r, FieldErrors& errors) {
  const Json& spec = r.spec();
  FieldPath sp("spec");
  CheckKnownFields(spec, sp, {"nets"}, errors);
  if (!Has(spec, "nets")) return;
  const Json& nets = spec["nets"];
  if (!nets.is_array()) {
    errors.Add(sp.Child("nets"), ValueText(nets), "must be a list");
    return;
  }
  for (size_t i = 0; i < nets.size(); ++i) {
    Report(errors, sp.Child("nets").Index(i), nets[i], CheckNet(nets[i], NetKind::kCidr));
  }
}

void ValidateStagedKubernetesPolicy(const Resource& r, FieldErrors& errors) {
  const Json& spec = r.spec();
  FieldPath sp("spec");
  CheckKnownFields(spec, sp, {"podSelector", "ingress", "egress", "policyTypes", "stagedAction"},
                   errors);
  if (Has(spec, "stagedAction")) {
    Report(errors, sp.Child("stagedAction"), spec["stagedAction"],
           CheckEnum(spec["stagedAction"], {"Set", "Delete", "Learn", "Ignore"}));
  }
  if (Has(spec, "policyTypes")) {
    const Json& t = spec["policyTypes"];
    if (!t.is_array()) {
      errors.Add(sp.Child("policyTypes"), ValueText(t), "must be a list");
    } else {
      for (size_t i = 0; i < t.size(); ++i) {
        Report(errors, sp.Child("policyTypes").Index(i), t[i],
               CheckEnum(t[i], {"Ingress", "Egress"}));
      }
    }
  }
}

void DefaultPolicy(Resource& r) {
  Json& spec = r.spec();
  if (!Has(spec, "tier") || spec["tier"] == "") spec["tier"] = "default";
  bool has_types = Has(spec, "types") && spec["types"].is_array() && !spec["types"].empty();
  if (!has_types) {
    bool ingress = Has(spec, "ingress") && spec["ingress"].is_array() && !spec["ingress"].empty();
    bool egress = Has(spec, "egress") && spec["egress"].is_array() && !spec["egress"].empty();
    Json types = Json::array();
    if (ingress || !egress) types.push_back("Ingress");
    if (egress) types.push_back("Egress");
    // preDNAT policies only ever apply to ingress.
    spec["types"] = types;
  }
  if (spec["tier"].is_string()) {
    Json& labels = r.metadata()["labels"];
    if (!labels.is_object()) labels = Json::object();
    labels["projectcalico.org/tier"] = spec["tier"];
  }
}

}  // namespace

bool DefaultPolicyFamily(Resource& r) {
  const std::string kind = r.kind();
  if (IsPolicyKind(kind)) {
    DefaultPolicy(r);
    return true;
  }
  if (kind == "Tier") {
    Json& spec = r.spec();
    if (!Has(spec, "order")) {
      if (r.name() == "default")
        spec["order"] = 1000000;
      else if (r.name() == "kube-admin")
        spec["order"] = 1000;
      else if (r.name() == "kube-baseline")
        spec["order"] = 10000000;
    }
    if (!Has(spec, "defaultAction")) {
      spec["defaultAction"] =
          (r.name() == "kube-admin" || r.name() == "kube-baseline") ? "Pass" : "Deny";
    }
    return true;
  }
  return kind == "Profile" || kind == "WorkloadEndpoint" || kind == "HostEndpoint" ||
         kind == "NetworkSet" || kind == "GlobalNetworkSet" ||
         kind == "StagedKubernetesNetworkPolicy";
}

bool ValidatePolicyFamily(const Resource& r, FieldErrors& errors) {
  const std::string kind = r.kind();
  if (IsPolicyKind(kind)) {
    ValidatePolicy(r, errors);
  } else if (kind == "Tier") {
    ValidateTier(r, errors);
  } else if (kind == "Profile") {
    ValidateProfile(r, errors);
  } else if (kind == "WorkloadEndpoint") {
    ValidateWorkloadEndpoint(r, errors);
  } else if (kind == "HostEndpoint") {
    ValidateHostEndpoint(r, errors);
  } else if (kind == "NetworkSet" || kind == "GlobalNetworkSet") {
    ValidateNetworkSet(r, errors);
  } else if (kind == "StagedKubernetesNetworkPolicy") {
    ValidateStagedKubernetesPolicy(r, errors);
  } else {
    return false;
  }
  return true;
}

std::string StrTrimCopy(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return std::string(s);
}

}  // namespace calico::model::validation
