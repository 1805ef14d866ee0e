// Defaulting and validation for the infra family of kinds: IPPool, IPReservation,
// IPAMConfiguration, Node, BGPPeer, BGPConfiguration, BGPFilter, FelixConfiguration,
// ClusterInformation, KubeControllersConfiguration, CalicoNodeStatus.
//
// Reproduces libcalico-go/lib/validator/v3 (struct-level Go rules), the CRD schema and CEL
// x-kubernetes-validations of api/config/crd, and the clientv3 defaulting/checks (IPPool defaults,
// per-node BGPConfiguration restrictions, KubeControllersConfiguration templates).
//
// Pipeline per resource:  schema (infra_schema.cc: unknown fields, types, enums, bounds, Go tags)
//                      -> kind rules below (Go struct validators + CEL rules, same reason texts).
// Size: over 700 lines because it holds the kind rules of eleven kinds, each a short function,
// with the helpers they share (CIDR, AS number, duration and selector checks).
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "calico/base/numbers.h"
#include "calico/model/validation/families.h"
#include "calico/model/validation/infra_schema.h"
#include "calico/model/validation/meta.h"
#include "calico/net/ip.h"
#include "calico/selector/selector.h"

namespace calico::model::validation {
namespace {

const std::set<std::string, std::less<>>& InfraKinds() {
  static const auto* kinds = new std::set<std::string, std::less<>>{"IPPool",
                                                                    "IPReservation",
                                                                    "IPAMConfiguration",
                                                                    "Node",
                                                                    "BGPPeer",
                                                                    "BGPConfiguration",
                                                                    "BGPFilter",
                                                                    "FelixConfiguration",
                                                                    "ClusterInformation",
                                                                    "KubeControllersConfiguration",
                                                                    "CalicoNodeStatus"};
  return *kinds;
}

// Helpers over the raw JSON spec (values may have wrong types: the schema pass reports those).
bool Has(const Json& o, std::string_view k) {
  return o.is_object() && o.contains(k) && !o.at(std::string(k)).is_null();
}
std::string Str(const Json& o, std::string_view k) {
  if (!o.is_object()) return "";
  auto it = o.find(std::string(k));
  if (it == o.end() || !it->is_string()) return "";
  return it->get<std::string>();
}
bool Bool(const Json& o, std::string_view k) {
  if (!o.is_object()) return false;
  auto it = o.find(std::string(k));
  return it != o.end() && it->is_boolean() && it->get<bool>();
}
std::optional<int64_t> Int(const Json& o, std::string_view k) {
  if (!o.is_object()) return std::nullopt;
  auto it = o.find(std::string(k));
  if (it == o.end() || !it->is_number()) return std::nullopt;
  return static_cast<int64_t>(it->get<double>());
}
bool HasUse(const Json& spec, std::string_view use) {
  auto it = spec.find("allowedUses");
  if (it == spec.end() || !it->is_array()) return false;
  for (const auto& u : *it) {
    if (u.is_string() && u.get<std::string>() == use) return true;
  }
  return false;
}
bool EncapOn(const std::string& mode) {
  return !mode.empty() && mode != "Never";
}

const FieldPath kSpec("spec");

// ---------------------------------------------------------------------------------------------
// IPPool

void DefaultIPPool(Json& spec) {
  std::string text = Str(spec, "cidr");
  std::optional<net::CIDR> cidr = net::CIDR::Parse(text);
  if (cidr) spec["cidr"] = cidr->String();  // Canonical text; host bits are kept (and rejected).
  if (!Has(spec, "nodeSelector") || Str(spec, "nodeSelector").empty()) {
    if (!Has(spec, "nodeSelector") || spec["nodeSelector"].is_string())
      spec["nodeSelector"] = "all()";
  }
  if (cidr && (!Has(spec, "blockSize") ||
               (spec["blockSize"].is_number() && spec["blockSize"].get<double>() == 0))) {
    spec["blockSize"] = cidr->family() == 4 ? 26 : 122;
  }
  for (const char* mode : {"ipipMode", "vxlanMode"}) {
    if (!Has(spec, mode) || (spec[mode].is_string() && spec[mode].get<std::string>().empty())) {
      spec[mode] = "Never";
    }
  }
  if (!Has(spec, "allowedUses") ||
      (spec["allowedUses"].is_array() && spec["allowedUses"].empty())) {
    spec["allowedUses"] = Json::array({"Workload", "Tunnel"});
  }
  if (!Has(spec, "assignmentMode")) spec["assignmentMode"] = "Automatic";
}

// clientv3 checks the CIDR first and returns before the validator runs when it is unusable, so
// these errors are reported alone.
bool IPPoolCidrPrecheck(const Json& spec, FieldErrors& errors) {
  const FieldPath cidr_path = kSpec.Child("cidr");
  std::string text = Str(spec, "cidr");
  if (text.empty()) {
    errors.Add(cidr_path, "", "IPPool CIDR must be specified");
    return false;
  }
  std::optional<net::CIDR> cidr = net::CIDR::Parse(text);
  if (!cidr) {
    errors.Add(cidr_path, text, "IPPool CIDR must be a valid subnet");
    return false;
  }
  if (!cidr->IsStrictlyMasked()) {
    // clientv3/ippool.go validateAndSetDefaults normalizes spec.cidr (cidr.String(), the masked
    // network) before this check, so the error quotes the masked form.
    errors.Add(cidr_path, cidr->Masked().String(), "IPPool CIDR is not strictly masked");
    return false;
  }
  return true;
}

void ValidateIPPool(const Json& spec, FieldErrors& errors) {
  std::optional<net::CIDR> cidr = net::CIDR::Parse(Str(spec, "cidr"));
  if (auto uses = spec.find("allowedUses"); uses != spec.end() && uses->is_array()) {
    for (const auto& u : *uses) {
      std::string use = u.is_string() ? u.get<std::string>() : u.dump();
      if (use != "Workload" && use != "Tunnel" && use != "LoadBalancer") {
        errors.Add(kSpec.Child("allowedUses"), uses->dump(), "unknown use: " + use);
      }
    }
  }

  // CEL rules on IPPoolSpec.
  std::string ipip = Str(spec, "ipipMode");
  std::string vxlan = Str(spec, "vxlanMode");
  bool lb = HasUse(spec, "LoadBalancer");
  if (EncapOn(ipip) && EncapOn(vxlan)) {
    errors.Add(kSpec, "", "ipipMode and vxlanMode cannot both be enabled");
  }
  if (lb && (EncapOn(ipip) || EncapOn(vxlan))) {
    errors.Add(kSpec, "", "LoadBalancer IP pool cannot have IPIP or VXLAN enabled");
  }
  if (lb && (HasUse(spec, "Workload") || HasUse(spec, "Tunnel"))) {
    errors.Add(kSpec, "", "LoadBalancer cannot be combined with Workload or Tunnel allowed uses");
  }
  if (cidr && cidr->family() == 6 && EncapOn(ipip)) {
    errors.Add(kSpec, "", "IPIP is not supported on IPv6 pools");
  }
  if (lb && Bool(spec, "disableBGPExport")) {
    errors.Add(kSpec, "", "LoadBalancer IP pools cannot disable BGP export");
  }
  if (lb && Has(spec, "nodeSelector") && Str(spec, "nodeSelector") != "all()") {
    errors.Add(kSpec, "",
               "IP Pool with AllowedUse LoadBalancer must have nodeSelector set to all()");
  }
  if (HasUse(spec, "Tunnel") && !Str(spec, "namespaceSelector").empty()) {
    errors.Add(kSpec, "", "IP Pool with AllowedUse Tunnel cannot have namespaceSelector");
  }
  if (Str(spec, "nodeSelector").find("global(") != std::string::npos) {
    errors.Add(kSpec, "", "global() selector is not valid for IPPool nodeSelector");
  }
  if (Str(spec, "namespaceSelector").find("global(") != std::string::npos) {
    errors.Add(kSpec, "", "global() selector is not valid for IPPool namespaceSelector");
  }
  if (cidr->family() == 4) {
    auto ll = *net::CIDR::Parse("169.254.0.0/16");
    if (ll.Contains(cidr->addr()) || cidr->Contains(ll.addr())) {
      errors.Add(kSpec, "", "IPPool CIDR overlaps with IPv4 link local range 169.254.0.0/16");
    }
  } else {
    auto ll = *net::CIDR::Parse("fe80::/10");
    if (ll.Contains(cidr->addr()) || cidr->Contains(ll.addr())) {
      errors.Add(kSpec, "", "IPPool CIDR overlaps with IPv6 link local range fe80::/10");
    }
  }
  int64_t block = Int(spec, "blockSize").value_or(0);
  if (block != 0) {
    bool ok = cidr->family() == 4 ? (block >= 20 && block <= 32) : (block >= 116 && block <= 128);
    if (!ok) {
      errors.Add(kSpec, "",
                 "blockSize must be between 20 and 32 for IPv4 pools, and between 116 and 128 for "
                 "IPv6 pools");
    }
  }
  int64_t effective = block != 0 ? block : (cidr->family() == 4 ? 26 : 122);
  if (!Bool(spec, "disabled") && cidr->prefix_len() > effective) {
    errors.Add(kSpec, "",
               "IP pool size is too small for use with Calico IPAM. It must be equal to or greater "
               "than the block size.");
  }
}

// ---------------------------------------------------------------------------------------------
// Node, IPAM

void ValidateNode(const Json& spec, FieldErrors& errors) {
  if (auto bgp = spec.find("bgp"); bgp != spec.end() && bgp->is_object()) {
    bool empty = true;
    for (const auto& [k, v] : bgp->items()) {
      if (!v.is_null() && !(v.is_string() && v.get<std::string>().empty())) empty = false;
    }
    if (empty) errors.Add(kSpec.Child("bgp"), "", "Spec.BGP should not be empty");
  }
}

void ValidateIPAMConfig(const Json& spec, FieldErrors& errors) {
  if (auto m = Int(spec, "maxBlocksPerHost"); m && *m < 0) {
    errors.Add(kSpec.Child("maxBlocksPerHost"), std::to_string(*m),
               "must be greater than or equal to 0");
  }
}

// ---------------------------------------------------------------------------------------------
// BGP

void ValidateBGPPeer(const Json& spec, FieldErrors& errors) {
  auto set = [&](std::string_view k) { return !Str(spec, k).empty(); };
  auto asn_set = [&](std::string_view k) {
    if (!Has(spec, k)) return false;
    const Json& v = spec.at(std::string(k));
    return !(v.is_number() && v.get<double>() == 0) && !(v.is_string() && v == "0");
  };
  if (set("node") && set("nodeSelector")) {
    errors.Add(kSpec, "", "node and nodeSelector cannot both be set");
  }
  if (set("peerIP") && set("peerSelector")) {
    errors.Add(kSpec, "", "peerIP and peerSelector cannot both be set");
  }
  if (set("peerSelector") && asn_set("asNumber")) {
    errors.Add(kSpec, "", "asNumber must be empty when peerSelector is set");
  }
  if (set("localWorkloadSelector")) {
    if (set("peerIP"))
      errors.Add(kSpec, "", "peerIP must be empty when localWorkloadSelector is set");
    if (set("peerSelector")) {
      errors.Add(kSpec, "", "peerSelector must be empty when localWorkloadSelector is set");
    }
    if (!asn_set("asNumber")) {
      errors.Add(kSpec, "", "asNumber is required when localWorkloadSelector is set");
    }
  }
  if (set("reachableBy") && !set("peerIP")) {
    errors.Add(kSpec, "", "reachableBy must be empty when peerIP is empty");
  }
  if (Bool(spec, "keepOriginalNextHop") && Has(spec, "nextHopMode")) {
    errors.Add(kSpec, "",
               "keepOriginalNextHop and nextHopMode cannot both be set; keepOriginalNextHop is "
               "deprecated, use nextHopMode instead");
  }
  if (set("reachableBy") && set("peerIP")) {
    auto reach = net::IPAddr::Parse(Str(spec, "reachableBy"));
    auto host = ProcessIPPort(Str(spec, "peerIP"));
    auto peer = host ? net::IPAddr::Parse(*host) : std::nullopt;
    if (reach && peer && reach->family() != peer->family()) {
      errors.Add(kSpec.Child("reachableBy"), Str(spec, "reachableBy"),
                 "ReachableBy and PeerIP address family mismatched");
    }
  }
}

// Go's isValidCommunity: true when the text has community shape; reports width errors.
bool IsValidCommunity(const std::string& value, const FieldPath& path, FieldErrors& errors) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : value) {
    if (c == ':') {
      parts.push_back(cur);
      cur.clear();
    } else if (c >= '0' && c <= '9') {
      cur += c;
    } else {
      return false;
    }
  }
  parts.push_back(cur);
  if (parts.size() != 2 && parts.size() != 3) return false;
  for (const auto& p : parts) {
    if (p.empty()) return false;
  }
  int bits = parts.size() == 3 ? 32 : 16;
  uint64_t max = bits == 32 ? 0xffffffffULL : 0xffffULL;
  for (const auto& p : parts) {
    Result<uint64_t> n = ParseInt<uint64_t>(p);
    const bool ok = p.size() <= 10 && n && *n <= max;
    if (!ok) {
      errors.Add(path, value, fmt::format("invalid community value, expected {} bit value", bits));
    }
  }
  return true;
}

void ValidateBGPConfig(const std::string& name, const Json& spec, FieldErrors& errors) {
  std::set<std::string> names;
  if (auto comms = spec.find("communities"); comms != spec.end() && comms->is_array()) {
    for (size_t i = 0; i < comms->size(); ++i) {
      const Json& c = (*comms)[i];
      names.insert(Str(c, "name"));
      FieldPath p = kSpec.Child("communities").Index(i);
      if (!IsValidCommunity(Str(c, "value"), p.Child("value"), errors)) {
        errors.Add(p.Child("value"), Str(c, "value"), "invalid community value or format used.");
      }
    }
    if (!comms->empty()) {
      auto pa = spec.find("prefixAdvertisements");
      if (pa == spec.end() || !pa->is_array() || pa->empty()) {
        errors.Add(kSpec, "", "communities are defined but not used in prefixAdvertisements");
      }
    }
  }
  if (auto pas = spec.find("prefixAdvertisements"); pas != spec.end() && pas->is_array()) {
    for (size_t i = 0; i < pas->size(); ++i) {
      const Json& pa = (*pas)[i];
      FieldPath p = kSpec.Child("prefixAdvertisements").Index(i);
      std::string cidr = Str(pa, "cidr");
      auto parsed = net::CIDR::ParseNet(cidr);
      if (!parsed) {
        errors.Add(p.Child("cidr"), cidr, "invalid CIDR value.");
      } else if (!parsed->IsStrictlyMasked()) {
        errors.Add(p.Child("cidr"), cidr, "failed to validate Field: CIDR because of Tag: net ");
      }
      if (auto cs = pa.find("communities"); cs != pa.end() && cs->is_array()) {
        for (size_t j = 0; j < cs->size(); ++j) {
          std::string v = (*cs)[j].is_string() ? (*cs)[j].get<std::string>() : "";
          FieldPath cp = p.Child("communities").Index(j);
          if (!IsValidCommunity(v, cp, errors) && names.count(v) == 0) {
            errors.Add(cp, v, "community used is invalid or not defined.");
          }
        }
      } else {
        errors.Add(p.Child("communities"), "",
                   "failed to validate Field: Communities because of Tag: required ");
      }
    }
  }
  for (const char* list : {"serviceClusterIPs", "serviceExternalIPs", "serviceLoadBalancerIPs"}) {
    auto it = spec.find(list);
    if (it == spec.end() || !it->is_array()) continue;
    for (size_t i = 0; i < it->size(); ++i) {
      std::string cidr = Str((*it)[i], "cidr");
      if (cidr.empty()) continue;
      auto parsed = net::CIDR::ParseNet(cidr);
      if (parsed && !parsed->IsStrictlyMasked()) {
        errors.Add(kSpec.Child(list).Index(i).Child("cidr"), cidr,
                   "failed to validate Field: CIDR because of Tag: net ");
      }
    }
  }
  bool mesh_off = Has(spec, "nodeToNodeMeshEnabled") &&
                  spec["nodeToNodeMeshEnabled"].is_boolean() &&
                  !spec["nodeToNodeMeshEnabled"].get<bool>();
  if (mesh_off && Has(spec, "nodeMeshPassword")) {
    errors.Add(kSpec, "", "nodeMeshPassword cannot be set when nodeToNodeMeshEnabled is false");
  }
  if (mesh_off && Has(spec, "nodeMeshMaxRestartTime")) {
    errors.Add(kSpec, "",
               "nodeMeshMaxRestartTime cannot be set when nodeToNodeMeshEnabled is false");
  }
  if (name != "default") {
    auto forbid = [&](std::string_view field, std::string_view label, bool list) {
      if (!Has(spec, field)) return;
      if (list && spec.at(std::string(field)).is_array() && spec.at(std::string(field)).empty()) {
        return;
      }
      errors.Add(kSpec.Child(field), "",
                 fmt::format("Cannot set {} on a non default BGP Configuration.", label));
    };
    forbid("nodeToNodeMeshEnabled", "nodeToNodeMeshEnabled", false);
    forbid("asNumber", "ASNumber", false);
    forbid("serviceLoadBalancerIPs", "ServiceLoadBalancerIPs", true);
    forbid("serviceExternalIPs", "ServiceExternalIPs", true);
    forbid("serviceClusterIPs", "ServiceClusterIPs", true);
    forbid("nodeMeshPassword", "nodeMeshPassword", false);
    forbid("nodeMeshMaxRestartTime", "nodeMeshMaxRestartTime", false);
  }
}

void ValidateBGPFilter(const Json& spec, FieldErrors& errors) {
  for (const char* list : {"exportV4", "importV4", "exportV6", "importV6"}) {
    auto it = spec.find(list);
    if (it == spec.end() || !it->is_array()) continue;
    bool v4 = std::string_view(list).find("V4") != std::string_view::npos;
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& r = (*it)[i];
      if (!r.is_object()) continue;
      FieldPath p = kSpec.Child(list).Index(i);
      std::string cidr = Str(r, "cidr");
      if (!cidr.empty()) {
        auto c = net::CIDR::ParseNet(cidr);
        if (!c || c->family() != (v4 ? 4 : 6) || !c->IsStrictlyMasked()) {
          errors.Add(p.Child("cidr"), cidr,
                     fmt::format("failed to validate Field: CIDR because of Tag: {} ",
                                 v4 ? "netv4" : "netv6"));
        }
      }
      if (cidr.empty() != Str(r, "matchOperator").empty()) {
        errors.Add(p, "", "cidr and matchOperator must both be set or both be empty");
      }
      if (Has(r, "prefixLength") && cidr.empty()) {
        errors.Add(p, "", "cidr is required when prefixLength is set");
      }
      if (auto ops = r.find("operations");
          ops != r.end() && ops->is_array() && !ops->empty() && Str(r, "action") != "Accept") {
        errors.Add(p, "", "operations may only be used with action Accept");
      }
      if (auto pl = r.find("prefixLength"); pl != r.end() && pl->is_object()) {
        auto mn = Int(*pl, "min");
        auto mx = Int(*pl, "max");
        int64_t lim = v4 ? 32 : 128;
        if (mn && (*mn < 0 || *mn > lim)) {
          errors.Add(p.Child("prefixLength").Child("min"), std::to_string(*mn),
                     fmt::format("failed to validate Field: Min because of Tag: "
                                 "bgpFilterPrefixLength{} ",
                                 v4 ? "V4" : "V6"));
        }
        if (mx && (*mx < 0 || *mx > lim)) {
          errors.Add(p.Child("prefixLength").Child("max"), std::to_string(*mx),
                     fmt::format("failed to validate Field: Max because of Tag: "
                                 "bgpFilterPrefixLength{} ",
                                 v4 ? "V4" : "V6"));
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// FelixConfiguration

// numorstring.Port from JSON: number, "80", "a:b" or a name. Reports Go's port reasons.
void CheckPort(const Json& v, const FieldPath& path, bool allow_names, std::string_view name_reason,
               FieldErrors& errors) {
  auto invalid = [&](std::string_view why) {
    errors.Add(path, v.is_string() ? v.get<std::string>() : v.dump(), why);
  };
  auto range = [&](int64_t lo, int64_t hi) {
    if (lo > hi) return invalid("port range invalid");
    if (lo < 1 || hi < 1 || hi > 65535) {
      return invalid("port range invalid, port number must be between 1 and 65535");
    }
  };
  if (v.is_number()) {
    double d = v.get<double>();
    if (d < 0 || d > 65535 || d != static_cast<double>(static_cast<int64_t>(d))) {
      return invalid("invalid port");
    }
    return range(static_cast<int64_t>(d), static_cast<int64_t>(d));
  }
  if (!v.is_string()) return invalid("must be of type integer or string");
  std::string s = v.get<std::string>();
  auto num = [](const std::string& t) -> std::optional<int64_t> {
    if (t.empty() || t.size() > 5) return std::nullopt;
    int64_t n = 0;
    for (char c : t) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  };
  if (auto colon = s.find(':'); colon != std::string::npos) {
    auto lo = num(s.substr(0, colon));
    auto hi = num(s.substr(colon + 1));
    if (!lo || !hi || *lo > 65535 || *hi > 65535) return invalid("invalid port range");
    return range(*lo, *hi);
  }
  if (auto n = num(s)) {
    if (*n > 65535) return invalid("invalid port");
    return range(*n, *n);
  }
  if (!allow_names) invalid(name_reason);
}

bool IsDNSLabel(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(c == '-' && i != 0 && i + 1 != s.size())) return false;
  }
  return true;
}

void ValidateFelix(const std::string& name, const Json& spec, FieldErrors& errors) {
  if (auto k = spec.find("kubeNodePortRanges"); k != spec.end() && k->is_array()) {
    FieldPath p = kSpec.Child("kubeNodePortRanges");
    if (k->size() > 7) errors.Add(p, k->dump(), "node port ranges list is too long (max 7)");
    for (size_t i = 0; i < k->size(); ++i) {
      CheckPort((*k)[i], p.Index(i), false, "node port ranges should not contain named ports",
                errors);
    }
  }
  for (const char* f : {"natPortRange", "bpfPSNATPorts"}) {
    if (Has(spec, f)) CheckPort(spec[f], kSpec.Child(f), false, "invalid port range", errors);
  }
  for (const char* list : {"failsafeInboundHostPorts", "failsafeOutboundHostPorts"}) {
    auto it = spec.find(list);
    if (it == spec.end() || !it->is_array()) continue;
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& pp = (*it)[i];
      if (!pp.is_object()) continue;
      FieldPath p = kSpec.Child(list).Index(i);
      // No default here: validateProtoPort rejects an absent (empty) protocol too.
      std::string proto = Str(pp, "protocol");
      if (proto != "TCP" && proto != "UDP" && proto != "SCTP") {
        errors.Add(p.Child("protocol"), proto, "protocol must be 'TCP' or 'UDP' or 'SCTP'.");
      }
      if (auto port = pp.find("port"); port != pp.end() && port->is_number() &&
                                       (port->get<double>() < 0 || port->get<double>() > 65535)) {
        errors.Add(p.Child("port"), port->dump(), "must be between 0 and 65535");
      }
      std::string n = Str(pp, "net");
      if (!n.empty() && !net::CIDR::ParseNet(n)) {
        errors.Add(p.Child("net"), n, "failed to validate Field: Net because of Tag: cidr ");
      }
    }
  }
  if (auto e = spec.find("externalNodesList"); e != spec.end() && e->is_array()) {
    for (size_t i = 0; i < e->size(); ++i) {
      std::string c = (*e)[i].is_string() ? (*e)[i].get<std::string>() : "";
      auto parsed = net::CIDR::ParseNet(c);
      if (!parsed) {
        errors.Add(kSpec.Child("externalNodesList").Index(i), c, "has invalid CIDR(s)");
      } else if (parsed->family() != 4) {
        errors.Add(kSpec.Child("externalNodesList").Index(i), c, "has invalid IPv6 CIDR");
      }
    }
  }
  std::string region = Str(spec, "openstackRegion");
  if (region.size() > 63 - std::string_view("openstack-region-").size()) {
    errors.Add(kSpec.Child("openstackRegion"), region, "is too long");
  } else if (!region.empty() && !IsDNSLabel(region)) {
    errors.Add(kSpec.Child("openstackRegion"), region, "must be a valid DNS label");
  }
  struct AddrRule {
    const char* field;
    int family;
  };
  for (AddrRule r : {AddrRule{"natOutgoingAddress", 4}, AddrRule{"deviceRouteSourceAddress", 4},
                     AddrRule{"deviceRouteSourceAddressIPv6", 6}}) {
    std::string v = Str(spec, r.field);
    if (v.empty()) continue;
    auto ip = net::IPAddr::Parse(v);
    if (!ip) errors.Add(kSpec.Child(r.field), v, "is not a valid IP address");
    if (!ip || ip->family() != r.family) {
      errors.Add(kSpec, "", fmt::format("{} must be a valid IPv{} address", r.field, r.family));
    }
  }
  if (Has(spec, "routeTableRange") && Has(spec, "routeTableRanges")) {
    errors.Add(kSpec, "", "routeTableRange and routeTableRanges cannot both be set");
  }
  if (auto r = spec.find("routeTableRange"); r != spec.end() && r->is_object()) {
    int64_t mn = Int(*r, "min").value_or(0);
    int64_t mx = Int(*r, "max").value_or(0);
    if (!(mn >= 1 && mx >= mn && mx <= 250)) {
      errors.Add(kSpec.Child("routeTableRange"), r->dump(),
                 "must be a range of route table indices within 1..250");
    }
  }
  if (auto rs = spec.find("routeTableRanges"); rs != spec.end() && rs->is_array()) {
    int64_t total = 0;
    for (size_t i = 0; i < rs->size(); ++i) {
      const Json& r = (*rs)[i];
      FieldPath p = kSpec.Child("routeTableRanges").Index(i);
      int64_t mn = Int(r, "min").value_or(0);
      int64_t mx = Int(r, "max").value_or(0);
      if (mn > mx) {
        errors.Add(p, r.dump(), "min value cannot be greater than max value");
        errors.Add(p, "", "min must not be greater than max");
      }
      if (mn <= 0) {
        errors.Add(p, r.dump(), "cannot target indices < 1");
        errors.Add(p, "", "min must be >= 1");
      }
      if (mx > 0xffffffffLL) errors.Add(p, r.dump(), "max index too high");
      total += mx - mn + 1;  // NumDesignatedTables: inclusive, no clamping.
    }
    if (total > 65535)
      errors.Add(kSpec.Child("routeTableRanges"), rs->dump(), "targets too many tables");
  }
  if (auto h = spec.find("healthTimeoutOverrides"); h != spec.end() && h->is_array()) {
    static const std::string kPat = "^[a-zA-Z0-9_ -]+$";
    for (size_t i = 0; i < h->size(); ++i) {
      const Json& o = (*h)[i];
      FieldPath p = kSpec.Child("healthTimeoutOverrides").Index(i);
      std::string n = Str(o, "name");
      bool ok = !n.empty();
      for (char c : n) {
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == ' ' || c == '-');
      }
      if (!ok) errors.Add(p.Child("name"), n, "name should match regex " + kPat);
      if (auto d = ParseGoDuration(Str(o, "timeout")); d && *d < 0) {
        errors.Add(p.Child("timeout"), Str(o, "timeout"), "Timeout should not be negative");
      }
    }
  }
  if (auto lf = spec.find("bpfLogFilters"); lf != spec.end() && lf->is_object()) {
    static const std::regex kIface("^[a-zA-Z0-9_.-]{1,15}$");
    for (const auto& [k, v] : lf->items()) {
      if (!std::regex_match(k, kIface)) {
        errors.Add(kSpec.Child("bpfLogFilters"), lf->dump(),
                   "failed to validate Field: BPFLogFilters because of Tag: bpfLogFilters ");
        break;
      }
    }
  }
  if (std::string sel = Str(spec, "nodeSelector"); !sel.empty() && !selector::Validate(sel)) {
    errors.Add(kSpec.Child("nodeSelector"), sel,
               "failed to validate Field: NodeSelector because of Tag: selector ");
  }
  bool scoped = name == "default" || name.rfind("node.", 0) == 0;
  if (scoped && Has(spec, "nodeSelector")) {
    errors.Add(kSpec.Child("nodeSelector"), Str(spec, "nodeSelector"),
               "nodeSelector must not be set on the 'default' or per-node ('node.*') "
               "FelixConfiguration");
  }
}

// ---------------------------------------------------------------------------------------------
// KubeControllersConfiguration

void DefaultKubeControllers(Json& spec) {
  auto nodes = spec.find("controllers");
  if (nodes == spec.end() || !nodes->is_object()) return;
  auto node = nodes->find("node");
  if (node == nodes->end() || !node->is_object()) return;
  auto hep = node->find("hostEndpoint");
  if (hep == node->end() || !hep->is_object()) return;
  auto tmpls = hep->find("templates");
  if (tmpls == hep->end() || !tmpls->is_array()) return;
  for (auto& t : *tmpls) {
    if (t.is_object() && Str(t, "nodeSelector").empty()) t["nodeSelector"] = "all()";
  }
}

void ValidateKubeControllers(const Json& spec, FieldErrors& errors) {
  const Json* tmpls = nullptr;
  try {
    tmpls = &spec.at("controllers").at("node").at("hostEndpoint").at("templates");
  } catch (const Json::exception&) {
    return;
  }
  if (!tmpls->is_array()) return;
  FieldPath p = kSpec.Child("controllers").Child("node").Child("hostEndpoint").Child("templates");
  std::set<std::string> seen;
  for (size_t i = 0; i < tmpls->size(); ++i) {
    const Json& t = (*tmpls)[i];
    std::string n = Str(t, "generateName");
    if (n.empty()) {
      errors.Add(p.Index(i), "", "Template name must be specified");
      continue;
    }
    if (n.size() > 253)
      errors.Add(p.Index(i), n, "Template name must be shorter than 253 characters");
    if (!seen.insert(n).second) errors.Add(p.Index(i), n, "Template name must be unique");
    if (auto a = t.find("annotations"); a != t.end() && a->is_object()) {
      ValidateAnnotations(*a, p.Index(i).Child("annotations"), errors);
    }
    auto cidrs = t.find("interfaceCIDRs");
    bool no_cidrs = cidrs == t.end() || !cidrs->is_array() || cidrs->empty();
    if (no_cidrs && Str(t, "interfacePattern").empty()) {
      errors.Add(p.Index(i), n, "InterfaceCIDRs or InterfacePattern must be specified");
    }
  }
}

}  // namespace

bool DefaultInfraFamily(Resource& r) {
  const std::string kind = r.kind();
  if (InfraKinds().count(kind) == 0) return false;
  // The typed spec struct always serialises, so CRD defaults apply to an absent spec too.
  if (!r.doc().contains("spec") || r.doc()["spec"].is_null()) r.doc()["spec"] = Json::object();
  Json& spec = r.spec();
  if (kind == "IPPool" && spec.is_object()) DefaultIPPool(spec);
  if (kind == "KubeControllersConfiguration" && spec.is_object()) DefaultKubeControllers(spec);
  if (const Json* schema = InfraSchema(kind)) {
    if (auto s = schema->find("spec"); s != schema->end() && r.doc().contains("spec")) {
      ApplySchemaDefaults(*s, r.doc()["spec"]);
    }
  }
  return true;
}

bool ValidateInfraFamily(const Resource& r, FieldErrors& errors) {
  const std::string kind = r.kind();
  if (InfraKinds().count(kind) == 0) return false;
  const Json& doc = r.doc();
  static const Json kEmpty = Json::object();
  const Json& spec = doc.contains("spec") && doc["spec"].is_object() ? doc["spec"] : kEmpty;
  if (kind == "IPPool") {
    FieldErrors cidr_errors;
    if (!IPPoolCidrPrecheck(spec, cidr_errors)) {
      // The strict decoder runs before clientv3's CIDR check: its unknown (and case-folded)
      // field names are reported too, the CIDR error alone otherwise.
      FieldErrors decoding;
      if (const Json* schema = InfraSchema(kind); schema != nullptr && doc.contains("spec")) {
        if (auto s = schema->find("spec"); s != schema->end()) {
          CheckSchema(*s, doc["spec"], FieldPath("spec"), decoding);
        }
      }
      for (const FieldError& e : decoding.errors()) {
        if (e.reason == kUnknownFieldReason || e.reason == kFoldedFieldReason) {
          errors.Add(e.field, e.value, e.reason);
        }
      }
      for (const FieldError& e : cidr_errors.errors())
        errors.Add(e.field, e.value, e.reason);
      return true;
    }
  }
  if (const Json* schema = InfraSchema(kind)) {
    for (const char* section : {"spec", "status"}) {
      auto s = schema->find(section);
      if (!doc.contains(section)) continue;
      if (s == schema->end()) {
        errors.Add(section, "", kUnknownFieldReason);
        continue;
      }
      CheckSchema(*s, doc[section], FieldPath(section), errors);
    }
  }
  const std::string name = r.name();
  if (kind == "IPPool") ValidateIPPool(spec, errors);
  if (kind == "Node") ValidateNode(spec, errors);
  if (kind == "IPAMConfiguration") ValidateIPAMConfig(spec, errors);
  if (kind == "BGPPeer") ValidateBGPPeer(spec, errors);
  if (kind == "BGPConfiguration") ValidateBGPConfig(name, spec, errors);
  if (kind == "BGPFilter") ValidateBGPFilter(spec, errors);
  if (kind == "FelixConfiguration") ValidateFelix(name, spec, errors);
  if (kind == "KubeControllersConfiguration") ValidateKubeControllers(spec, errors);
  return true;
}

}  // namespace calico::model::validation
