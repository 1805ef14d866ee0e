// JSON form of the policy renderer's input model; see model_from_json.h.
#include "calico/policy/testing/model_from_json.h"

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "calico/policy/named_ports.h"

namespace calico::policy {
namespace {

tl::unexpected<Error> FieldError(std::string_view field, std::string_view msg) {
  return InvalidArgument(fmt::format("{}: {}", field, msg));
}

Status CheckKeys(const Json& obj, const std::string& path,
                 std::initializer_list<std::string_view> keys) {
  if (!obj.is_object()) return FieldError(path, "must be an object");
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (std::string_view k : keys) {
      known = known || k == key;
    }
    if (!known) return FieldError(fmt::format("{}.{}", path, key), "unknown field");
  }
  return OkStatus();
}

Result<std::string> GetString(const Json& obj, const char* key, const std::string& path,
                              bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return FieldError(fmt::format("{}.{}", path, key), "required");
    return std::string();
  }
  if (!it->is_string()) return FieldError(fmt::format("{}.{}", path, key), "must be a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> GetStrings(const Json& obj, const char* key,
                                            const std::string& path) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  const std::string field = fmt::format("{}.{}", path, key);
  if (!it->is_array()) return FieldError(field, "must be a list of strings");
  for (std::size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) {
      return FieldError(fmt::format("{}[{}]", field, i), "must be a string");
    }
    out.push_back((*it)[i].get<std::string>());
  }
  return out;
}

Result<std::vector<net::CIDR>> GetNets(const Json& obj, const char* key, const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<std::string> texts, GetStrings(obj, key, path));
  std::vector<net::CIDR> out;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto cidr = net::CIDR::ParseNet(texts[i]);
    if (!cidr) {
      return FieldError(fmt::format("{}.{}[{}]", path, key, i),
                        fmt::format("invalid CIDR \"{}\"", texts[i]));
    }
    out.push_back(*cidr);
  }
  return out;
}

Result<ParsedRules> GetRules(const Json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return ParsedRules();
  if (!it->is_array()) {
    return FieldError(fmt::format("{}.{}", path, key), "must be a list of rules");
  }
  return ParsedRules(*it);
}

Result<std::vector<TierRef>> GetTiers(const Json& obj, const char* key, const std::string& path) {
  std::vector<TierRef> tiers;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return tiers;
  const std::string field = fmt::format("{}.{}", path, key);
  if (!it->is_array()) return FieldError(field, "must be a list of tiers");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& t = (*it)[i];
    const std::string tpath = fmt::format("{}[{}]", field, i);
    RETURN_IF_ERROR(CheckKeys(t, tpath, {"name", "policies", "defaultAction"}));
    TierRef tier;
    ASSIGN_OR_RETURN(tier.name, GetString(t, "name", tpath, true));
    ASSIGN_OR_RETURN(tier.policies, GetStrings(t, "policies", tpath));
    ASSIGN_OR_RETURN(std::string action, GetString(t, "defaultAction", tpath, false));
    if (action.empty() || action == "Deny") {
      tier.default_deny = true;
    } else if (action == "Pass") {
      tier.default_deny = false;
    } else {
      return FieldError(tpath + ".defaultAction", "must be Deny or Pass");
    }
    tiers.push_back(std::move(tier));
  }
  return tiers;
}

Result<std::map<std::string, std::string>> GetLabels(const Json& e, const std::string& path) {
  std::map<std::string, std::string> labels;
  if (auto it = e.find("labels"); it != e.end() && !it->is_null()) {
    if (!it->is_object()) return FieldError(path + ".labels", "must be an object");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return FieldError(path + ".labels." + k, "must be a string");
      labels[k] = v.get<std::string>();
    }
  }
  return labels;
}

template <typename T, typename Fn>
Status ForEachItem(const Json& doc, const char* key, std::vector<T>& out, Fn&& parse) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return OkStatus();
  if (!it->is_array()) return FieldError(key, "must be a list");
  for (std::size_t i = 0; i < it->size(); ++i) {
    ASSIGN_OR_RETURN(T item, parse((*it)[i], fmt::format("{}[{}]", key, i)));
    out.push_back(std::move(item));
  }
  return OkStatus();
}

Result<Endpoint> ParseEndpoint(const Json& e, const std::string& path) {
  RETURN_IF_ERROR(CheckKeys(
      e, path,
      {"name", "interfaceName", "addresses", "labels", "profiles", "ingressTiers", "egressTiers"}));
  Endpoint ep;
  ASSIGN_OR_RETURN(ep.name, GetString(e, "name", path, false));
  ASSIGN_OR_RETURN(ep.interface_name, GetString(e, "interfaceName", path, true));
  if (ep.name.empty()) ep.name = ep.interface_name;
  ASSIGN_OR_RETURN(ep.addresses, GetNets(e, "addresses", path));
  ASSIGN_OR_RETURN(ep.labels, GetLabels(e, path));
  ASSIGN_OR_RETURN(ep.profiles, GetStrings(e, "profiles", path));
  ASSIGN_OR_RETURN(ep.ingress_tiers, GetTiers(e, "ingressTiers", path));
  ASSIGN_OR_RETURN(ep.egress_tiers, GetTiers(e, "egressTiers", path));
  return ep;
}

Result<HostEndpoint> ParseHostEndpoint(const Json& e, const std::string& path) {
  RETURN_IF_ERROR(
      CheckKeys(e, path,
                {"name", "interfaceName", "expectedIPs", "labels", "profiles", "ingressTiers",
                 "egressTiers", "forwardIngressTiers", "forwardEgressTiers", "preDNATIngressTiers",
                 "untrackedIngressTiers", "untrackedEgressTiers"}));
  HostEndpoint ep;
  ASSIGN_OR_RETURN(ep.name, GetString(e, "name", path, false));
  ASSIGN_OR_RETURN(ep.interface_name, GetString(e, "interfaceName", path, false));
  ASSIGN_OR_RETURN(ep.expected_ips, GetNets(e, "expectedIPs", path));
  if (ep.interface_name.empty() && ep.expected_ips.empty()) {
    return FieldError(path, "interfaceName or expectedIPs required");
  }
  if (ep.name.empty()) ep.name = ep.interface_name;
  ASSIGN_OR_RETURN(ep.labels, GetLabels(e, path));
  ASSIGN_OR_RETURN(ep.profiles, GetStrings(e, "profiles", path));
  ASSIGN_OR_RETURN(ep.ingress_tiers, GetTiers(e, "ingressTiers", path));
  ASSIGN_OR_RETURN(ep.egress_tiers, GetTiers(e, "egressTiers", path));
  ASSIGN_OR_RETURN(ep.forward_ingress_tiers, GetTiers(e, "forwardIngressTiers", path));
  ASSIGN_OR_RETURN(ep.forward_egress_tiers, GetTiers(e, "forwardEgressTiers", path));
  ASSIGN_OR_RETURN(ep.pre_dnat_ingress_tiers, GetTiers(e, "preDNATIngressTiers", path));
  ASSIGN_OR_RETURN(ep.untracked_ingress_tiers, GetTiers(e, "untrackedIngressTiers", path));
  ASSIGN_OR_RETURN(ep.untracked_egress_tiers, GetTiers(e, "untrackedEgressTiers", path));
  return ep;
}

Result<Policy> ParsePolicy(const Json& p, const std::string& path) {
  RETURN_IF_ERROR(CheckKeys(p, path, {"id", "tier", "ingress", "egress"}));
  Policy policy;
  ASSIGN_OR_RETURN(policy.id, GetString(p, "id", path, true));
  ASSIGN_OR_RETURN(policy.tier, GetString(p, "tier", path, false));
  if (policy.tier.empty()) policy.tier = "default";
  ASSIGN_OR_RETURN(policy.ingress, GetRules(p, "ingress", path));
  ASSIGN_OR_RETURN(policy.egress, GetRules(p, "egress", path));
  return policy;
}

Result<Profile> ParseProfile(const Json& p, const std::string& path) {
  RETURN_IF_ERROR(CheckKeys(p, path, {"id", "ingress", "egress"}));
  Profile profile;
  ASSIGN_OR_RETURN(profile.id, GetString(p, "id", path, true));
  ASSIGN_OR_RETURN(profile.ingress, GetRules(p, "ingress", path));
  ASSIGN_OR_RETURN(profile.egress, GetRules(p, "egress", path));
  return profile;
}

// A named-port set member as Felix writes it: "<addr>,<tcp|udp|sctp>:<port>".
Result<IpPortMember> ParseIpPortMember(const std::string& text, const std::string& field) {
  auto bad = [&](std::string_view why) {
    return FieldError(field, fmt::format("invalid named-port member \"{}\": {} (want "
                                         "\"<address>,<tcp|udp|sctp>:<port>\")",
                                         text, why));
  };
  const std::size_t comma = text.rfind(',');
  if (comma == std::string::npos) return bad("no ','");
  const std::size_t colon = text.find(':', comma);
  if (colon == std::string::npos) return bad("no ':' after ','");
  IpPortMember m;
  auto addr = net::IPAddr::Parse(std::string_view(text).substr(0, comma));
  if (!addr) return bad("invalid address");
  m.addr = *addr;
  auto proto = ParseNamedPortProtocol(std::string_view(text).substr(comma + 1, colon - comma - 1));
  if (!proto) return bad("invalid protocol");
  m.protocol = *proto;
  const std::string_view port = std::string_view(text).substr(colon + 1);
  long n = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || n > 65535) return bad("invalid port");
    n = n * 10 + (c - '0');
  }
  if (port.empty() || n < 1 || n > 65535) return bad("invalid port");
  m.port = static_cast<uint16_t>(n);
  return m;
}

Result<IpSet> ParseIpSet(const Json& s, const std::string& path) {
  RETURN_IF_ERROR(CheckKeys(s, path, {"id", "selector", "members", "namedPort", "protocol"}));
  IpSet set;
  ASSIGN_OR_RETURN(set.id, GetString(s, "id", path, false));
  ASSIGN_OR_RETURN(set.selector, GetString(s, "selector", path, false));
  ASSIGN_OR_RETURN(set.named_port, GetString(s, "namedPort", path, false));
  ASSIGN_OR_RETURN(std::string protocol, GetString(s, "protocol", path, false));
  if (!set.is_named_port()) {
    if (!protocol.empty()) return FieldError(path + ".protocol", "only valid with namedPort");
    if (set.id.empty() && set.selector.empty()) {
      return FieldError(path, "id or selector required");
    }
    ASSIGN_OR_RETURN(set.members, GetNets(s, "members", path));
    return set;
  }
  if (!protocol.empty()) {
    auto p = ParseNamedPortProtocol(protocol);
    if (!p) return FieldError(path + ".protocol", "must be tcp, udp or sctp");
    set.named_port_protocol = *p;
  }
  ASSIGN_OR_RETURN(std::vector<std::string> texts, GetStrings(s, "members", path));
  for (std::size_t i = 0; i < texts.size(); ++i) {
    ASSIGN_OR_RETURN(IpPortMember m,
                     ParseIpPortMember(texts[i], fmt::format("{}.members[{}]", path, i)));
    set.port_members.push_back(m);
  }
  return set;
}

}  // namespace

Result<Model> ModelFromJson(const Json& doc) {
  Model m;
  RETURN_IF_ERROR(
      CheckKeys(doc, "model", {"endpoints", "hostEndpoints", "policies", "profiles", "ipSets"}));
  RETURN_IF_ERROR(ForEachItem(doc, "endpoints", m.endpoints, ParseEndpoint));
  RETURN_IF_ERROR(ForEachItem(doc, "hostEndpoints", m.host_endpoints, ParseHostEndpoint));
  RETURN_IF_ERROR(ForEachItem(doc, "policies", m.policies, ParsePolicy));
  RETURN_IF_ERROR(ForEachItem(doc, "profiles", m.profiles, ParseProfile));
  RETURN_IF_ERROR(ForEachItem(doc, "ipSets", m.ip_sets, ParseIpSet));
  return m;
}

}  // namespace calico::policy
