// The (Global)NetworkPolicy fast path, see stored_policy.h. Every check below is the one
// model::Validate makes (validate.cc ValidateMetadata and MatchesPolicyName /
// MatchesGlobalPolicyName, validation/policy_family.cc ValidatePolicy, ValidateRule,
// ValidateEntityRule, ValidateNets and ValidatePorts, validation/common.cc CheckProtocol, CheckPort
// and CheckSelector, validation/meta.cc ValidateLabels and ValidateAnnotations), and the name
// rules of datastore::DecodeStoredResource; where this reader is narrower it gives up (nullopt)
// and the reference path decides.
#include "calico/model/v3/stored_policy.h"

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "calico/base/strings.h"
#include "calico/model/decode_limits.h"
#include "calico/model/v3/stored_reader.h"
#include "calico/model/validation/common.h"
#include "calico/model/validation/meta.h"
#include "calico/net/ip.h"
#include "calico/selector/selector.h"

namespace calico::model::v3 {
namespace {

using stored::Reader;
using validation::IsDnsLabel;
using validation::IsQualifiedName;
using validation::IsValidPortName;

// The annotation datastore::DecodeStoredResource takes the name from (and removes), and the
// only form of its value read here: what EncodeStoredResource writes.
constexpr std::string_view kMetadataAnnotation = "projectcalico.org/metadata";
constexpr std::string_view kNamePrefix = "{\"name\":\"";
constexpr std::string_view kNameSuffix = "\"}";

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])? (validate.cc kLabel, no length limit of its own).
bool IsLabelSegment(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

// validate.cc MatchesPolicyName / MatchesGlobalPolicyName without std::regex: dot-separated
// label segments, one or two of them, or more behind the prefixes Calico's controllers use.
bool IsPolicyName(std::string_view name, bool global) {
  if (name.size() > 253) return false;
  std::vector<std::string_view> segs;
  for (std::string_view rest = name;;) {
    const size_t dot = rest.find('.');
    segs.push_back(rest.substr(0, dot));
    if (!IsLabelSegment(segs.back())) return false;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (segs.size() <= 2) return true;
  if (global) {
    return (segs[0] == "kanp" && segs[1] == "kube-admin") ||
           (segs[0] == "kbanp" && segs[1] == "kube-baseline");
  }
  return (segs[0] == "knp" || segs[0] == "ossg") && segs[1] == "default";
}

// A selector CheckSelector(v, false) accepts; global() (allowed in some places with extra rules)
// is left to the reference path.
bool Selector(Reader& r, std::string& out) {
  if (!r.String(out) || out.size() > 1024) return false;
  auto sel = selector::Parse(out);
  return sel && !sel->UsesGlobal();
}

// The protocol names CheckProtocol accepts as written.
bool IsProtocolName(std::string_view s) {
  return s == "TCP" || s == "UDP" || s == "ICMP" || s == "ICMPv6" || s == "SCTP" || s == "UDPLite";
}

// A protocol as CheckProtocol accepts it: a name, or a number 1-255 (a number in a string is left
// to the reference path).
bool ProtocolValue(Reader& r, Protocol& out) {
  if (r.Peek() == '"') {
    std::string_view s;
    if (!r.String(s) || !IsProtocolName(s)) return false;
    out = Protocol::Str(std::string(s));
    return true;
  }
  int64_t n = 0;
  if (!r.Integer(n) || n < 1 || n > 255) return false;
  out = Protocol::Num(n);
  return true;
}

// ProtocolNumber for the values ProtocolValue takes.
int ProtocolNumberOf(const Protocol& p) {
  if (!p.is_string) return static_cast<int>(p.num);
  if (p.str == "TCP") return 6;
  if (p.str == "UDP") return 17;
  if (p.str == "ICMP") return 1;
  if (p.str == "ICMPv6") return 58;
  if (p.str == "SCTP") return 132;
  return 136;  // UDPLite
}

// 1-5 digits without a leading zero, 1..65535.
bool PortNumber(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 5 || s[0] == '0') return false;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  out = n;
  return n <= 65535;
}

// What the ports of a rule need from its protocol (checked once the rule is read: the stored form
// sorts "destination" before "protocol").
struct PortUse {
  bool any = false;
  bool numeric = false;
};

// A port as CheckPort accepts it: a number, "lo:hi", or a port name. A number in a string is left
// to the reference path.
bool PortValue(Reader& r, Port& out, PortUse& use) {
  use.any = true;
  if (r.Peek() == '"') {
    std::string_view s;
    if (!r.String(s)) return false;
    const size_t colon = s.find(':');
    if (colon != std::string_view::npos) {
      int64_t lo = 0, hi = 0;
      if (!PortNumber(s.substr(0, colon), lo) || !PortNumber(s.substr(colon + 1), hi) || lo > hi)
        return false;
      use.numeric = true;
    } else if (!IsValidPortName(s)) {
      return false;  // A number in a string, or not a valid name.
    }
    out = Port::Str(std::string(s));
    return true;
  }
  int64_t n = 0;
  if (!r.Integer(n) || n < 1 || n > 65535) return false;
  use.numeric = true;
  out = Port::Num(n);
  return true;
}

bool Ports(Reader& r, std::vector<Port>& out, PortUse& use) {
  return r.Array([&] {
    Port p;
    if (!PortValue(r, p, use)) return false;
    out.push_back(std::move(p));
    return true;
  }) && out.size() <= 50;
}

struct Families {
  bool v4 = false;
  bool v6 = false;
};

// Rule nets: strictly masked CIDRs; a catch-all in notNets is refused by the validator.
bool Nets(Reader& r, std::vector<std::string>& out, bool negated, Families& fams) {
  return r.Array([&] {
    std::string_view s;
    if (!r.String(s)) return false;
    auto cidr = net::CIDR::Parse(s);
    if (!cidr || !cidr->IsStrictlyMasked()) return false;
    if (negated && cidr->prefix_len() == 0) return false;
    (cidr->family() == 4 ? fams.v4 : fams.v6) = true;
    out.emplace_back(s);
    return true;
  }) && out.size() <= 256;
}

bool Entity(Reader& r, EntityRule& e, Families& fams, PortUse& use) {
  return r.Object([&](std::string_view key) {
    if (key == "nets") return Nets(r, e.nets, false, fams);
    if (key == "notNets") return Nets(r, e.not_nets, true, fams);
    if (key == "selector") return Selector(r, e.selector);
    if (key == "notSelector") return Selector(r, e.not_selector);
    if (key == "namespaceSelector") return Selector(r, e.namespace_selector);
    if (key == "ports") return Ports(r, e.ports, use);
    if (key == "notPorts") return Ports(r, e.not_ports, use);
    return false;  // serviceAccounts, services: the reference path.
  });
}

bool RuleValue(Reader& r, Rule& rule) {
  Families fams;
  PortUse use;
  const bool ok = r.Object([&](std::string_view key) {
    if (key == "action") {
      return r.String(rule.action) && (rule.action == "Allow" || rule.action == "Deny" ||
                                       rule.action == "Log" || rule.action == "Pass");
    }
    if (key == "ipVersion") {
      int64_t v = 0;
      if (!r.Integer(v) || (v != 4 && v != 6)) return false;
      rule.ip_version = v;
      return true;
    }
    if (key == "protocol") {
      Protocol p;
      if (!ProtocolValue(r, p)) return false;
      rule.protocol = std::move(p);
      return true;
    }
    if (key == "source") return Entity(r, rule.source, fams, use);
    if (key == "destination") return Entity(r, rule.destination, fams, use);
    return false;  // notProtocol, icmp, notICMP, http, metadata: the reference path.
  });
  if (!ok || rule.action.empty()) return false;
  const int ip_version = rule.ip_version ? static_cast<int>(*rule.ip_version) : 0;
  if (rule.protocol) {
    const int n = ProtocolNumberOf(*rule.protocol);
    if ((n == 1 && ip_version == 6) || (n == 58 && ip_version == 4)) return false;
    if (use.any && n != 6 && n != 17 && n != 132) return false;
  } else if (use.numeric) {
    return false;
  }
  if (fams.v4 && fams.v6) return false;
  if ((fams.v4 && ip_version == 6) || (fams.v6 && ip_version == 4)) return false;
  return true;
}

bool Rules(Reader& r, std::vector<Rule>& out) {
  return r.Array([&] {
    Rule rule;
    if (!RuleValue(r, rule)) return false;
    out.push_back(std::move(rule));
    return true;
  }) && out.size() <= 1024;
}

bool Types(Reader& r, std::vector<std::string>& out) {
  return r.Array([&] {
    std::string_view t;
    if (!r.String(t) || (t != "Ingress" && t != "Egress")) return false;
    for (const std::string& seen : out) {
      if (seen == t) return false;
    }
    out.emplace_back(t);
    return true;
  });
}

template <typename Spec>
bool SpecValue(Reader& r, Spec& spec) {
  constexpr bool kGlobal = std::is_same_v<Spec, GlobalNetworkPolicySpec>;
  return r.Object([&](std::string_view key) {
    if (key == "tier") return r.String(spec.tier) && IsDnsLabel(spec.tier);
    if (key == "order") {
      int64_t n = 0;
      if (!r.SignedInteger(n)) return false;
      spec.order = static_cast<double>(n);
      return true;
    }
    if (key == "selector") return Selector(r, spec.selector);
    if (key == "serviceAccountSelector") return Selector(r, spec.service_account_selector);
    if (key == "types") return Types(r, spec.types);
    if (key == "ingress") return Rules(r, spec.ingress);
    if (key == "egress") return Rules(r, spec.egress);
    if constexpr (kGlobal) {
      if (key == "namespaceSelector") return Selector(r, spec.namespace_selector);
      if (key == "applyOnForward") return r.Bool(spec.apply_on_forward);
      // Only false: true brings the preDNAT / doNotTrack rules, left to the reference path.
      if (key == "preDNAT") return r.Bool(spec.pre_dnat) && !spec.pre_dnat;
      if (key == "doNotTrack") return r.Bool(spec.do_not_track) && !spec.do_not_track;
    }
    return false;  // performanceHints and anything else: the reference path.
  });
}

bool MetadataValue(Reader& r, ObjectMeta& meta, bool global) {
  std::optional<std::string> stored_name;
  size_t annotation_bytes = 0;
  const bool ok = r.Object([&](std::string_view key) {
    if (key == "name") return r.String(meta.name);
    if (key == "namespace") {
      if (!r.String(meta.namespace_)) return false;
      return global ? meta.namespace_.empty()
                    : (meta.namespace_.empty() || IsDnsLabel(meta.namespace_));
    }
    if (key == "labels") return stored::Labels(r, meta.labels);
    if (key == "annotations") {
      return r.Object([&](std::string_view k) {
        if (k == kMetadataAnnotation) {
          std::string doc;
          if (!r.StringWithQuotes(doc) || !StartsWith(doc, kNamePrefix) ||
              !EndsWith(doc, kNameSuffix) || doc.size() < kNamePrefix.size() + kNameSuffix.size())
            return false;
          std::string name =
              doc.substr(kNamePrefix.size(), doc.size() - kNamePrefix.size() - kNameSuffix.size());
          if (name.find_first_of("\"\\") != std::string::npos) return false;
          stored_name = std::move(name);
          return true;
        }
        std::string_view v;
        if (!r.String(v) || !IsQualifiedName(AsciiLower(k))) return false;
        annotation_bytes += k.size() + v.size();
        meta.annotations.emplace(std::string(k), std::string(v));
        return true;
      });
    }
    return stored::CommonMetadataField(r, key, meta);
  });
  if (!ok || annotation_bytes > validation::kTotalAnnotationSizeLimitB) return false;
  // datastore::DecodeStoredResource: the annotation's name wins; without it a "default." (tier)
  // prefix is dropped.
  if (stored_name) {
    meta.name = std::move(*stored_name);
  } else if (StartsWith(meta.name, "default.")) {
    meta.name.erase(0, 8);
  }
  return IsPolicyName(meta.name, global);
}

template <typename Policy>
std::optional<Policy> ReadPolicy(std::string_view value, int64_t mod_revision,
                                 std::string_view kind) {
  constexpr bool kGlobal = std::is_same_v<Policy, GlobalNetworkPolicy>;
  Policy p;
  if (!stored::Resource(
          value, kind, [&](Reader& r) { return MetadataValue(r, p.metadata, kGlobal); },
          [&](Reader& r) { return SpecValue(r, p.spec); })) {
    return std::nullopt;
  }
  p.metadata.resource_version = std::to_string(mod_revision);
  return p;
}

}  // namespace

std::optional<NetworkPolicy> ReadValidStoredNetworkPolicy(std::string_view value,
                                                          int64_t mod_revision) {
  return ReadPolicy<NetworkPolicy>(value, mod_revision, "NetworkPolicy");
}

std::optional<GlobalNetworkPolicy> ReadValidStoredGlobalNetworkPolicy(std::string_view value,
                                                                      int64_t mod_revision) {
  return ReadPolicy<GlobalNetworkPolicy>(value, mod_revision, "GlobalNetworkPolicy");
}

}  // namespace calico::model::v3
