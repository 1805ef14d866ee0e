// Decoders for the BGP kinds (api/pkg/apis/projectcalico/v3: bgppeer.go, bgpconfig.go,
// bgpfilter.go, node.go) and numorstring.ASNumber (api/pkg/lib/numorstring/asn.go).
#include "calico/model/v3/bgp.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "calico/model/validation/infra_schema.h"
#include "calico/net/ip.h"

namespace calico::model::v3 {
namespace {

// Where a value sits, for error messages: "BGPPeer p1: spec.filters[2]".
class Path {
 public:
  Path(std::string what, std::string path) : what_(std::move(what)), path_(std::move(path)) {}
  Path Child(std::string_view key) const { return Path(what_, path_ + "." + std::string(key)); }
  Path Index(size_t i) const { return Path(what_, path_ + "[" + std::to_string(i) + "]"); }
  tl::unexpected<Error> Fail(std::string_view why) const {
    return InvalidArgument(fmt::format("{}: {}: {}", what_, path_, why));
  }
  // The rendered value for messages, shortened so that hostile input cannot flood a log.
  static std::string Show(const Json& value) {
    std::string text = value.dump();
    if (text.size() > 64) text = text.substr(0, 64) + "...";
    return text;
  }

 private:
  std::string what_;
  std::string path_;
};

const Json* Find(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> Str(const Json& obj, std::string_view key, const Path& path) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return path.Fail("must be a string, got " + Path::Show(*v));
  return v->get<std::string>();
}

Result<std::optional<bool>> Bool(const Json& obj, std::string_view key, const Path& path) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_boolean()) return path.Fail("must be true or false, got " + Path::Show(*v));
  return std::optional<bool>(v->get<bool>());
}

Result<std::optional<int64_t>> Int(const Json& obj, std::string_view key, int64_t min, int64_t max,
                                   const Path& path) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return std::optional<int64_t>();
  int64_t value = 0;
  bool ok = false;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      ok = u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      value = static_cast<int64_t>(u);
    } else {
      value = v->get<int64_t>();
      ok = true;
    }
  }
  if (!ok || value < min || value > max) {
    return path.Fail(
        fmt::format("must be an integer from {} to {}, got {}", min, max, Path::Show(*v)));
  }
  return std::optional<int64_t>(value);
}

// numorstring.ASNumber; 0 means unset (Go's zero value, which confd treats as "not given").
Result<std::optional<ASNumber>> Asn(const Json& obj, std::string_view key, const Path& path) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return std::optional<ASNumber>();
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u == 0) return std::optional<ASNumber>();
    if (u <= std::numeric_limits<ASNumber>::max()) {
      return std::optional<ASNumber>(static_cast<ASNumber>(u));
    }
  } else if (v->is_string()) {
    const std::string text = v->get<std::string>();
    if (text == "0") return std::optional<ASNumber>();
    if (auto asn = ParseASNumber(text)) return std::optional<ASNumber>(*asn);
  } else if (v->is_number_integer() && v->get<int64_t>() == 0) {
    return std::optional<ASNumber>();
  }
  return path.Fail("not an AS number (1-4294967295, or dotted notation like 1.10), got " +
                   Path::Show(*v));
}

Result<std::optional<std::chrono::nanoseconds>> Duration(const Json& obj, std::string_view key,
                                                         const Path& path) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return std::optional<std::chrono::nanoseconds>();
  if (v->is_string()) {
    if (auto ns = validation::ParseGoDuration(v->get<std::string>())) {
      if (*ns < 0) return path.Fail("must not be negative, got " + Path::Show(*v));
      return std::optional<std::chrono::nanoseconds>(std::chrono::nanoseconds(*ns));
    }
  }
  return path.Fail("not a duration like \"120s\" or \"1m30s\", got " + Path::Show(*v));
}

Result<std::vector<std::string>> StrList(const Json& obj, std::string_view key, const Path& path) {
  std::vector<std::string> out;
  const Json* v = Find(obj, key);
  if (v == nullptr) return out;
  if (!v->is_array()) return path.Fail("must be a list, got " + Path::Show(*v));
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& item = (*v)[i];
    if (!item.is_string()) {
      return path.Index(i).Fail("must be a string, got " + Path::Show(item));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

// A list of objects: `each(item, item_path)` for every element.
template <typename F>
Status ForEachObject(const Json& obj, std::string_view key, const Path& path, F&& each) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return OkStatus();
  if (!v->is_array()) return path.Fail("must be a list, got " + Path::Show(*v));
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& item = (*v)[i];
    if (!item.is_object()) return path.Index(i).Fail("must be an object");
    RETURN_IF_ERROR(each(item, path.Index(i)));
  }
  return OkStatus();
}

// An enum given as one of `names` (exact spelling, as Go's validators require).
template <typename E, size_t N>
Result<std::optional<E>> Enum(const Json& obj, std::string_view key,
                              const std::pair<std::string_view, E> (&names)[N], const Path& path) {
  ASSIGN_OR_RETURN(std::string text, Str(obj, key, path));
  if (text.empty()) return std::optional<E>();
  std::string allowed;
  for (const auto& [name, value] : names) {
    if (text == name) return std::optional<E>(value);
    allowed += allowed.empty() ? "" : ", ";
    allowed += name;
  }
  return path.Fail(fmt::format("unknown value \"{}\" (one of {})",
                               text.size() > 64 ? text.substr(0, 64) + "..." : text, allowed));
}

const Json& Spec(const Resource& resource) {
  return resource.spec();
}

Result<std::optional<BGPPassword>> Password(const Json& obj, std::string_view key,
                                            const Path& path) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return std::optional<BGPPassword>();
  if (!v->is_object()) return path.Fail("must be an object with secretKeyRef");
  BGPPassword password;
  const Path ref_path = path.Child("secretKeyRef");
  if (const Json* ref = Find(*v, "secretKeyRef"); ref != nullptr) {
    if (!ref->is_object()) return ref_path.Fail("must be an object with name and key");
    SecretKeySelector sel;
    ASSIGN_OR_RETURN(sel.name, Str(*ref, "name", ref_path.Child("name")));
    ASSIGN_OR_RETURN(sel.key, Str(*ref, "key", ref_path.Child("key")));
    ASSIGN_OR_RETURN(auto optional, Bool(*ref, "optional", ref_path.Child("optional")));
    sel.optional = optional.value_or(false);
    if (sel.key.empty()) return ref_path.Child("key").Fail("is required");
    password.secret_key_ref = std::move(sel);
  }
  return std::optional<BGPPassword>(std::move(password));
}

// The CIDRs of a [{cidr: ...}] list; the CRD allows an empty cidr, which confd skips.
Result<std::vector<std::string>> CidrBlocks(const Json& obj, std::string_view key,
                                            const Path& path) {
  std::vector<std::string> out;
  RETURN_IF_ERROR(ForEachObject(obj, key, path, [&](const Json& item, const Path& p) -> Status {
    ASSIGN_OR_RETURN(std::string cidr, Str(item, "cidr", p.Child("cidr")));
    if (!cidr.empty()) out.push_back(std::move(cidr));
    return OkStatus();
  }));
  return out;
}

Result<std::vector<ASNumber>> AsnList(const Json& obj, std::string_view key, const Path& path) {
  std::vector<ASNumber> out;
  const Json* v = Find(obj, key);
  if (v == nullptr) return out;
  if (!v->is_array()) return path.Fail("must be a list of AS numbers");
  for (size_t i = 0; i < v->size(); ++i) {
    Json holder = Json::object();
    holder["v"] = (*v)[i];
    ASSIGN_OR_RETURN(auto asn, Asn(holder, "v", path.Index(i)));
    if (!asn) return path.Index(i).Fail("must not be 0");
    out.push_back(*asn);
  }
  return out;
}

constexpr std::pair<std::string_view, BGPFilterAction> kActions[] = {
    {"Accept", BGPFilterAction::kAccept}, {"Reject", BGPFilterAction::kReject}};
constexpr std::pair<std::string_view, BGPFilterMatchOperator> kOperators[] = {
    {"Equal", BGPFilterMatchOperator::kEqual},
    {"NotEqual", BGPFilterMatchOperator::kNotEqual},
    {"In", BGPFilterMatchOperator::kIn},
    {"NotIn", BGPFilterMatchOperator::kNotIn}};
constexpr std::pair<std::string_view, BGPFilterPeerType> kPeerTypes[] = {
    {"eBGP", BGPFilterPeerType::kEBGP}, {"iBGP", BGPFilterPeerType::kIBGP}};

Result<BGPFilterRule> DecodeFilterRule(const Json& r, const Path& p, int family) {
  BGPFilterRule rule;
  ASSIGN_OR_RETURN(rule.cidr, Str(r, "cidr", p.Child("cidr")));
  const int64_t max_len = family == 4 ? 32 : 128;
  if (const Json* pl = Find(r, "prefixLength"); pl != nullptr) {
    const Path pp = p.Child("prefixLength");
    if (!pl->is_object()) return pp.Fail("must be an object with min and max");
    BGPFilterPrefixLength len;
    ASSIGN_OR_RETURN(auto mn, Int(*pl, "min", 0, max_len, pp.Child("min")));
    ASSIGN_OR_RETURN(auto mx, Int(*pl, "max", 0, max_len, pp.Child("max")));
    if (mn) len.min = static_cast<int32_t>(*mn);
    if (mx) len.max = static_cast<int32_t>(*mx);
    rule.prefix_length = len;
  }
  ASSIGN_OR_RETURN(std::string source, Str(r, "source", p.Child("source")));
  if (!source.empty() && source != "RemotePeers") {
    return p.Child("source").Fail("unknown value (only RemotePeers)");
  }
  rule.source_remote_peers = source == "RemotePeers";
  ASSIGN_OR_RETURN(rule.interface, Str(r, "interface", p.Child("interface")));
  ASSIGN_OR_RETURN(rule.match_operator,
                   Enum(r, "matchOperator", kOperators, p.Child("matchOperator")));
  ASSIGN_OR_RETURN(rule.peer_type, Enum(r, "peerType", kPeerTypes, p.Child("peerType")));
  if (const Json* c = Find(r, "communities"); c != nullptr) {
    ASSIGN_OR_RETURN(rule.communities,
                     StrList(*c, "values", p.Child("communities").Child("values")));
  }
  ASSIGN_OR_RETURN(rule.as_path_prefix, AsnList(r, "asPathPrefix", p.Child("asPathPrefix")));
  ASSIGN_OR_RETURN(auto priority, Int(r, "priority", 1, 2147483646, p.Child("priority")));
  if (priority) rule.priority = static_cast<int32_t>(*priority);
  ASSIGN_OR_RETURN(auto action, Enum(r, "action", kActions, p.Child("action")));
  if (!action) return p.Child("action").Fail("is required (Accept or Reject)");
  rule.action = *action;
  RETURN_IF_ERROR(ForEachObject(
      r, "operations", p.Child("operations"), [&](const Json& o, const Path& op) -> Status {
        BGPFilterOperation operation;
        int set = 0;
        if (const Json* add = Find(o, "addCommunity"); add != nullptr) {
          ASSIGN_OR_RETURN(std::string value, Str(*add, "value", op.Child("addCommunity.value")));
          operation.add_community = value;
          ++set;
        }
        if (const Json* prepend = Find(o, "prependASPath"); prepend != nullptr) {
          ASSIGN_OR_RETURN(operation.prepend_as_path,
                           AsnList(*prepend, "prefix", op.Child("prependASPath.prefix")));
          if (operation.prepend_as_path.empty()) {
            return op.Child("prependASPath.prefix").Fail("must not be empty");
          }
          ++set;
        }
        if (const Json* sp = Find(o, "setPriority"); sp != nullptr) {
          ASSIGN_OR_RETURN(auto value,
                           Int(*sp, "value", 1, 2147483646, op.Child("setPriority.value")));
          if (!value) return op.Child("setPriority.value").Fail("is required");
          operation.set_priority = static_cast<int32_t>(*value);
          ++set;
        }
        if (set != 1) {
          return op.Fail("exactly one of addCommunity, prependASPath, setPriority must be set");
        }
        rule.operations.push_back(std::move(operation));
        return OkStatus();
      }));
  return rule;
}

}  // namespace

std::optional<ASNumber> ParseASNumber(std::string_view text) {
  uint64_t value = 0;
  uint64_t high = 0;
  bool dotted = false;
  bool digits = false;
  for (char c : text) {
    if (c == '.' && !dotted && digits) {
      dotted = true;
      high = value;
      value = 0;
      digits = false;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
    digits = true;
    if (value > std::numeric_limits<ASNumber>::max()) return std::nullopt;
  }
  if (!digits) return std::nullopt;
  if (dotted) {
    if (high > 0xffff || value > 0xffff) return std::nullopt;
    value = (high << 16) | value;
  }
  if (value == 0) return std::nullopt;
  return static_cast<ASNumber>(value);
}

Result<BGPPeer> DecodeBGPPeer(const Resource& resource) {
  BGPPeer peer;
  peer.name = resource.name();
  const Path spec_path("BGPPeer " + peer.name, "spec");
  const Json& spec = Spec(resource);
  BGPPeerSpec& s = peer.spec;
  ASSIGN_OR_RETURN(s.node, Str(spec, "node", spec_path.Child("node")));
  ASSIGN_OR_RETURN(s.node_selector, Str(spec, "nodeSelector", spec_path.Child("nodeSelector")));
  ASSIGN_OR_RETURN(s.peer_ip, Str(spec, "peerIP", spec_path.Child("peerIP")));
  ASSIGN_OR_RETURN(s.as_number, Asn(spec, "asNumber", spec_path.Child("asNumber")));
  ASSIGN_OR_RETURN(s.local_as_number, Asn(spec, "localASNumber", spec_path.Child("localASNumber")));
  ASSIGN_OR_RETURN(s.peer_selector, Str(spec, "peerSelector", spec_path.Child("peerSelector")));
  ASSIGN_OR_RETURN(auto keep,
                   Bool(spec, "keepOriginalNextHop", spec_path.Child("keepOriginalNextHop")));
  s.keep_original_next_hop = keep.value_or(false);
  static constexpr std::pair<std::string_view, NextHopMode> kNextHop[] = {
      {"Auto", NextHopMode::kAuto}, {"Self", NextHopMode::kSelf}, {"Keep", NextHopMode::kKeep}};
  ASSIGN_OR_RETURN(s.next_hop_mode,
                   Enum(spec, "nextHopMode", kNextHop, spec_path.Child("nextHopMode")));
  ASSIGN_OR_RETURN(s.password, Password(spec, "password", spec_path.Child("password")));
  static constexpr std::pair<std::string_view, SourceAddress> kSource[] = {
      {"UseNodeIP", SourceAddress::kUseNodeIP}, {"None", SourceAddress::kNone}};
  ASSIGN_OR_RETURN(auto source,
                   Enum(spec, "sourceAddress", kSource, spec_path.Child("sourceAddress")));
  s.source_address = source.value_or(SourceAddress::kUseNodeIP);
  ASSIGN_OR_RETURN(s.max_restart_time,
                   Duration(spec, "maxRestartTime", spec_path.Child("maxRestartTime")));
  ASSIGN_OR_RETURN(s.keepalive_time,
                   Duration(spec, "keepaliveTime", spec_path.Child("keepaliveTime")));
  ASSIGN_OR_RETURN(auto allowed,
                   Int(spec, "numAllowedLocalASNumbers", 0, std::numeric_limits<int32_t>::max(),
                       spec_path.Child("numAllowedLocalASNumbers")));
  if (allowed) s.num_allowed_local_as_numbers = static_cast<int32_t>(*allowed);
  ASSIGN_OR_RETURN(auto ttl, Int(spec, "ttlSecurity", 0, 255, spec_path.Child("ttlSecurity")));
  if (ttl) s.ttl_security = static_cast<uint8_t>(*ttl);
  ASSIGN_OR_RETURN(s.reachable_by, Str(spec, "reachableBy", spec_path.Child("reachableBy")));
  ASSIGN_OR_RETURN(s.filters, StrList(spec, "filters", spec_path.Child("filters")));
  ASSIGN_OR_RETURN(s.local_workload_selector,
                   Str(spec, "localWorkloadSelector", spec_path.Child("localWorkloadSelector")));
  static constexpr std::pair<std::string_view, ReversePeering> kReverse[] = {
      {"Auto", ReversePeering::kAuto}, {"Manual", ReversePeering::kManual}};
  ASSIGN_OR_RETURN(s.reverse_peering,
                   Enum(spec, "reversePeering", kReverse, spec_path.Child("reversePeering")));
  return peer;
}

Result<BGPConfiguration> DecodeBGPConfiguration(const Resource& resource) {
  BGPConfiguration config;
  config.name = resource.name();
  const Path p("BGPConfiguration " + config.name, "spec");
  const Json& spec = Spec(resource);
  BGPConfigurationSpec& s = config.spec;
  ASSIGN_OR_RETURN(s.log_severity_screen,
                   Str(spec, "logSeverityScreen", p.Child("logSeverityScreen")));
  ASSIGN_OR_RETURN(s.node_to_node_mesh_enabled,
                   Bool(spec, "nodeToNodeMeshEnabled", p.Child("nodeToNodeMeshEnabled")));
  ASSIGN_OR_RETURN(s.as_number, Asn(spec, "asNumber", p.Child("asNumber")));
  ASSIGN_OR_RETURN(s.service_load_balancer_ips,
                   CidrBlocks(spec, "serviceLoadBalancerIPs", p.Child("serviceLoadBalancerIPs")));
  ASSIGN_OR_RETURN(s.service_external_ips,
                   CidrBlocks(spec, "serviceExternalIPs", p.Child("serviceExternalIPs")));
  ASSIGN_OR_RETURN(s.service_cluster_ips,
                   CidrBlocks(spec, "serviceClusterIPs", p.Child("serviceClusterIPs")));
  static constexpr std::pair<std::string_view, ServiceLoadBalancerAggregation> kAggregation[] = {
      {"Enabled", ServiceLoadBalancerAggregation::kEnabled},
      {"Disabled", ServiceLoadBalancerAggregation::kDisabled}};
  ASSIGN_OR_RETURN(s.service_load_balancer_aggregation,
                   Enum(spec, "serviceLoadBalancerAggregation", kAggregation,
                        p.Child("serviceLoadBalancerAggregation")));
  RETURN_IF_ERROR(ForEachObject(
      spec, "communities", p.Child("communities"), [&](const Json& c, const Path& cp) -> Status {
        Community community;
        ASSIGN_OR_RETURN(community.name, Str(c, "name", cp.Child("name")));
        ASSIGN_OR_RETURN(community.value, Str(c, "value", cp.Child("value")));
        s.communities.push_back(std::move(community));
        return OkStatus();
      }));
  RETURN_IF_ERROR(ForEachObject(
      spec, "prefixAdvertisements", p.Child("prefixAdvertisements"),
      [&](const Json& a, const Path& ap) -> Status {
        PrefixAdvertisement adv;
        ASSIGN_OR_RETURN(adv.cidr, Str(a, "cidr", ap.Child("cidr")));
        ASSIGN_OR_RETURN(adv.communities, StrList(a, "communities", ap.Child("communities")));
        s.prefix_advertisements.push_back(std::move(adv));
        return OkStatus();
      }));
  ASSIGN_OR_RETURN(auto port, Int(spec, "listenPort", 0, 65535, p.Child("listenPort")));
  if (port && *port != 0) s.listen_port = static_cast<uint16_t>(*port);
  ASSIGN_OR_RETURN(s.node_mesh_password,
                   Password(spec, "nodeMeshPassword", p.Child("nodeMeshPassword")));
  ASSIGN_OR_RETURN(s.node_mesh_max_restart_time,
                   Duration(spec, "nodeMeshMaxRestartTime", p.Child("nodeMeshMaxRestartTime")));
  static constexpr std::pair<std::string_view, BindMode> kBind[] = {{"None", BindMode::kNone},
                                                                    {"NodeIP", BindMode::kNodeIP}};
  ASSIGN_OR_RETURN(s.bind_mode, Enum(spec, "bindMode", kBind, p.Child("bindMode")));
  ASSIGN_OR_RETURN(s.ignored_interfaces,
                   StrList(spec, "ignoredInterfaces", p.Child("ignoredInterfaces")));
  ASSIGN_OR_RETURN(s.local_workload_peering_ipv4,
                   Str(spec, "localWorkloadPeeringIPV4", p.Child("localWorkloadPeeringIPV4")));
  ASSIGN_OR_RETURN(s.local_workload_peering_ipv6,
                   Str(spec, "localWorkloadPeeringIPV6", p.Child("localWorkloadPeeringIPV6")));
  static constexpr std::pair<std::string_view, ProgramClusterRoutes> kProgram[] = {
      {"Enabled", ProgramClusterRoutes::kEnabled},
      {"Disabled", ProgramClusterRoutes::kDisabled},
      {"EnabledIPIPOnly", ProgramClusterRoutes::kEnabledIPIPOnly},
      {"EnabledNoEncapOnly", ProgramClusterRoutes::kEnabledNoEncapOnly}};
  ASSIGN_OR_RETURN(s.program_cluster_routes,
                   Enum(spec, "programClusterRoutes", kProgram, p.Child("programClusterRoutes")));
  ASSIGN_OR_RETURN(auto v4prio, Int(spec, "ipv4NormalRoutePriority", 1, 2147483646,
                                    p.Child("ipv4NormalRoutePriority")));
  if (v4prio) s.ipv4_normal_route_priority = static_cast<int32_t>(*v4prio);
  ASSIGN_OR_RETURN(auto v6prio, Int(spec, "ipv6NormalRoutePriority", 1, 2147483646,
                                    p.Child("ipv6NormalRoutePriority")));
  if (v6prio) s.ipv6_normal_route_priority = static_cast<int32_t>(*v6prio);
  return config;
}

Result<BGPFilter> DecodeBGPFilter(const Resource& resource) {
  BGPFilter filter;
  filter.name = resource.name();
  const Path p("BGPFilter " + filter.name, "spec");
  const Json& spec = Spec(resource);
  struct List {
    const char* key;
    int family;
    std::vector<BGPFilterRule>* rules;
  };
  for (const List& list :
       {List{"exportV4", 4, &filter.spec.export_v4}, List{"importV4", 4, &filter.spec.import_v4},
        List{"exportV6", 6, &filter.spec.export_v6}, List{"importV6", 6, &filter.spec.import_v6}}) {
    RETURN_IF_ERROR(ForEachObject(
        spec, list.key, p.Child(list.key), [&](const Json& r, const Path& rp) -> Status {
          ASSIGN_OR_RETURN(auto rule, DecodeFilterRule(r, rp, list.family));
          list.rules->push_back(std::move(rule));
          return OkStatus();
        }));
  }
  return filter;
}

Result<NodeBGP> DecodeNodeBGP(const Resource& resource) {
  NodeBGP node;
  node.name = resource.name();
  const Path meta("Node " + node.name, "metadata");
  const Json& metadata = resource.metadata();
  std::map<std::string, std::string> annotations;
  for (const auto& [key, out] :
       {std::pair<const char*, std::map<std::string, std::string>*>{"labels", &node.labels},
        {"annotations", &annotations}}) {
    const Json* m = Find(metadata, key);
    if (m == nullptr) continue;
    if (!m->is_object()) return meta.Child(key).Fail("must be a map of strings");
    for (const auto& [k, v] : m->items()) {
      if (!v.is_string()) return meta.Child(key).Child(k).Fail("must be a string");
      (*out)[k] = v.get<std::string>();
    }
  }
  const Path p("Node " + node.name, "spec.bgp");
  const Json* bgp = Find(resource.spec(), "bgp");
  if (bgp == nullptr) return node;
  if (!bgp->is_object()) return p.Fail("must be an object");
  NodeBGPSpec s;
  ASSIGN_OR_RETURN(s.as_number, Asn(*bgp, "asNumber", p.Child("asNumber")));
  ASSIGN_OR_RETURN(s.ipv4_address, Str(*bgp, "ipv4Address", p.Child("ipv4Address")));
  ASSIGN_OR_RETURN(s.ipv6_address, Str(*bgp, "ipv6Address", p.Child("ipv6Address")));
  ASSIGN_OR_RETURN(s.ipv4_ipip_tunnel_addr,
                   Str(*bgp, "ipv4IPIPTunnelAddr", p.Child("ipv4IPIPTunnelAddr")));
  ASSIGN_OR_RETURN(s.route_reflector_cluster_id,
                   Str(*bgp, "routeReflectorClusterID", p.Child("routeReflectorClusterID")));
  if (s.route_reflector_cluster_id.empty()) {
    // Like the Kubernetes backend's getAnnotation, a value that is not an IPv4 address is ignored.
    const std::string key(kRouteReflectorClusterIDAnnotation);
    for (const auto* source : {&annotations, &node.labels}) {
      auto it = source->find(key);
      if (it == source->end()) continue;
      if (auto ip = net::IPAddr::Parse(it->second); ip && ip->family() == 4) {
        s.route_reflector_cluster_id = it->second;
        break;
      }
    }
  }
  node.bgp = std::move(s);
  return node;
}

}  // namespace calico::model::v3
