// The protojson form of Goldmane's Flow (goldmane/proto/api.proto); see flow.h.
#include "calico/flows/flow.h"

#include <array>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "calico/base/numbers.h"
#include "calico/model/json_codec.h"

namespace calico::flows {
namespace {

using Json = nlohmann::json;

// A record nests at most Flow > Key > policies > list > hit > trigger chain; 32 levels leave
// room for triggers and refuse anything built to exhaust the stack.
constexpr int kMaxFlowDepth = 32;

template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

constexpr std::array<EnumName<Action>, 4> kActions{{{Action::kUnspecified, "ActionUnspecified"},
                                                    {Action::kAllow, "Allow"},
                                                    {Action::kDeny, "Deny"},
                                                    {Action::kPass, "Pass"}}};
constexpr std::array<EnumName<PolicyKind>, 10> kKinds{{
    {PolicyKind::kUnspecified, "KindUnspecified"},
    {PolicyKind::kCalicoNetworkPolicy, "CalicoNetworkPolicy"},
    {PolicyKind::kGlobalNetworkPolicy, "GlobalNetworkPolicy"},
    {PolicyKind::kStagedNetworkPolicy, "StagedNetworkPolicy"},
    {PolicyKind::kStagedGlobalNetworkPolicy, "StagedGlobalNetworkPolicy"},
    {PolicyKind::kStagedKubernetesNetworkPolicy, "StagedKubernetesNetworkPolicy"},
    {PolicyKind::kNetworkPolicy, "NetworkPolicy"},
    {PolicyKind::kProfile, "Profile"},
    {PolicyKind::kEndOfTier, "EndOfTier"},
    {PolicyKind::kClusterNetworkPolicy, "ClusterNetworkPolicy"},
}};
constexpr std::array<EnumName<EndpointType>, 5> kEndpointTypes{
    {{EndpointType::kUnspecified, "EndpointTypeUnspecified"},
     {EndpointType::kWorkloadEndpoint, "WorkloadEndpoint"},
     {EndpointType::kHostEndpoint, "HostEndpoint"},
     {EndpointType::kNetworkSet, "NetworkSet"},
     {EndpointType::kNetwork, "Network"}}};
constexpr std::array<EnumName<Reporter>, 3> kReporters{
    {{Reporter::kUnspecified, "ReporterUnspecified"},
     {Reporter::kSrc, "Src"},
     {Reporter::kDst, "Dst"}}};

template <typename E, size_t N>
std::string_view NameOf(const std::array<EnumName<E>, N>& table, E value) {
  for (const auto& e : table) {
    if (e.value == value) return e.name;
  }
  return table[0].name;
}

template <typename E, size_t N>
Result<E> ParseEnum(const std::array<EnumName<E>, N>& table, std::string_view text,
                    std::string_view type) {
  for (const auto& e : table) {
    if (e.name == text) return e.value;
  }
  Result<int> number = ParseInt<int>(text);
  if (number) {
    for (const auto& e : table) {
      if (static_cast<int>(e.value) == *number) return e.value;
    }
  }
  return InvalidArgument(fmt::format("unknown {} \"{}\"", type, text));
}

// ---- encoding: protojson leaves zero values out; members in the proto's field order.

using OJson = nlohmann::ordered_json;

void PutString(OJson& j, const char* name, const std::string& v) {
  if (!v.empty()) j[name] = v;
}
void PutInt(OJson& j, const char* name, int64_t v) {
  if (v != 0) j[name] = v;
}
void PutStrings(OJson& j, const char* name, const std::vector<std::string>& v) {
  if (!v.empty()) j[name] = v;
}
template <typename E, size_t N>
void PutEnum(OJson& j, const char* name, const std::array<EnumName<E>, N>& table, E v) {
  if (static_cast<int>(v) != 0) j[name] = std::string(NameOf(table, v));
}

OJson HitJson(const PolicyHit& hit) {
  OJson j = OJson::object();
  PutEnum(j, "kind", kKinds, hit.kind);
  PutString(j, "namespace", hit.ns);
  PutString(j, "name", hit.name);
  PutString(j, "tier", hit.tier);
  PutEnum(j, "action", kActions, hit.action);
  PutInt(j, "policyIndex", hit.policy_index);
  PutInt(j, "ruleIndex", hit.rule_index);
  if (hit.trigger) j["trigger"] = HitJson(*hit.trigger);
  return j;
}

OJson HitsJson(const std::vector<PolicyHit>& hits) {
  OJson a = OJson::array();
  for (const auto& h : hits)
    a.push_back(HitJson(h));
  return a;
}

OJson KeyJson(const FlowKey& k) {
  OJson j = OJson::object();
  PutString(j, "sourceName", k.source_name);
  PutString(j, "sourceNamespace", k.source_namespace);
  PutEnum(j, "sourceType", kEndpointTypes, k.source_type);
  PutString(j, "destName", k.dest_name);
  PutString(j, "destNamespace", k.dest_namespace);
  PutEnum(j, "destType", kEndpointTypes, k.dest_type);
  PutInt(j, "destPort", k.dest_port);
  PutString(j, "destServiceName", k.dest_service_name);
  PutString(j, "destServiceNamespace", k.dest_service_namespace);
  PutString(j, "destServicePortName", k.dest_service_port_name);
  PutInt(j, "destServicePort", k.dest_service_port);
  PutString(j, "proto", k.proto);
  PutEnum(j, "reporter", kReporters, k.reporter);
  PutEnum(j, "action", kActions, k.action);
  if (!k.policies.enforced_policies.empty() || !k.policies.pending_policies.empty()) {
    OJson p = OJson::object();
    if (!k.policies.enforced_policies.empty()) {
      p["enforcedPolicies"] = HitsJson(k.policies.enforced_policies);
    }
    if (!k.policies.pending_policies.empty()) {
      p["pendingPolicies"] = HitsJson(k.policies.pending_policies);
    }
    j["policies"] = std::move(p);
  }
  PutString(j, "sourceIp", k.source_ip);
  PutString(j, "destIp", k.dest_ip);
  return j;
}

// ---- decoding: every field checked; the error names its path.

// The canonical (json_name) of a member, accepting the proto field name too.
struct Field {
  const char* json_name;
  const char* proto_name;
};

// Walks an object's members: each must be one of `fields`; returns the index matched.
class ObjectReader {
 public:
  ObjectReader(const Json& obj, std::string prefix) : obj_(obj), prefix_(std::move(prefix)) {}

  template <size_t N, typename F>
  [[nodiscard]] Status Each(const std::array<Field, N>& fields, F&& on_field) const {
    if (!obj_.is_object()) return InvalidArgument(Where("") + "must be an object");
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      size_t found = N;
      for (size_t i = 0; i < N; ++i) {
        if (it.key() == fields[i].json_name || it.key() == fields[i].proto_name) found = i;
      }
      if (found == N) {
        return InvalidArgument(fmt::format("{}unknown field \"{}\"", Where(""), it.key()));
      }
      if (it.value().is_null()) continue;  // protojson: null is the default value
      RETURN_IF_ERROR(on_field(found, it.value(), Path(fields[found].json_name)));
    }
    return {};
  }

  std::string Path(std::string_view name) const {
    return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
  }
  std::string Where(std::string_view name) const {
    const std::string p = name.empty() ? prefix_ : Path(name);
    return p.empty() ? std::string() : p + ": ";
  }

 private:
  const Json& obj_;
  std::string prefix_;
};

Status GetString(const Json& v, const std::string& path, std::string& out) {
  if (!v.is_string()) return InvalidArgument(path + ": must be a string");
  out = v.get<std::string>();
  return {};
}

// protojson int64: a JSON integer, or a string holding one.
Status GetInt(const Json& v, const std::string& path, int64_t& out, bool non_negative) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}) {
      return InvalidArgument(path + ": out of range");
    }
    out = v.get<int64_t>();
  } else if (v.is_string()) {
    Result<int64_t> n = ParseInt<int64_t>(v.get_ref<const std::string&>());
    if (!n) return InvalidArgument(path + ": " + n.error().message());
    out = *n;
  } else if (v.is_number_float() &&
             v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>()))) {
    out = static_cast<int64_t>(v.get<double>());  // protojson takes 5.0 as 5
  } else {
    return InvalidArgument(path + ": must be an integer");
  }
  if (non_negative && out < 0) return InvalidArgument(path + ": must not be negative");
  return {};
}

Status GetStrings(const Json& v, const std::string& path, std::vector<std::string>& out) {
  if (!v.is_array()) return InvalidArgument(path + ": must be a list of strings");
  out.clear();
  for (const auto& e : v) {
    if (!e.is_string()) return InvalidArgument(path + ": must be a list of strings");
    out.push_back(e.get<std::string>());
  }
  return {};
}

template <typename E, size_t N>
Status GetEnum(const Json& v, const std::string& path, const std::array<EnumName<E>, N>& table,
               std::string_view type, E& out) {
  Result<E> e = Unexpected(Error(ErrorCode::kInvalidArgument, ""));
  if (v.is_string()) {
    e = ParseEnum(table, v.get_ref<const std::string&>(), type);
  } else if (v.is_number_integer()) {
    e = ParseEnum(table, v.dump(), type);
  } else {
    return InvalidArgument(fmt::format("{}: must be a {} name", path, type));
  }
  if (!e) return InvalidArgument(path + ": " + e.error().message());
  out = *e;
  return {};
}

Status DecodeHit(const Json& j, const std::string& path, PolicyHit& hit) {
  static constexpr std::array<Field, 8> kFields{{{"kind", "kind"},
                                                 {"namespace", "namespace"},
                                                 {"name", "name"},
                                                 {"tier", "tier"},
                                                 {"action", "action"},
                                                 {"policyIndex", "policy_index"},
                                                 {"ruleIndex", "rule_index"},
                                                 {"trigger", "trigger"}}};
  return ObjectReader(j, path).Each(
      kFields, [&](size_t i, const Json& v, const std::string& p) -> Status {
        switch (i) {
          case 0:
            return GetEnum(v, p, kKinds, "PolicyKind", hit.kind);
          case 1:
            return GetString(v, p, hit.ns);
          case 2:
            return GetString(v, p, hit.name);
          case 3:
            return GetString(v, p, hit.tier);
          case 4:
            return GetEnum(v, p, kActions, "Action", hit.action);
          case 5:
            return GetInt(v, p, hit.policy_index, /*non_negative=*/false);
          case 6:
            return GetInt(v, p, hit.rule_index, /*non_negative=*/false);
          default: {
            auto trigger = std::make_shared<PolicyHit>();
            RETURN_IF_ERROR(DecodeHit(v, p, *trigger));
            hit.trigger = std::move(trigger);
            return {};
          }
        }
      });
}

Status DecodeHits(const Json& v, const std::string& path, std::vector<PolicyHit>& out) {
  if (!v.is_array()) return InvalidArgument(path + ": must be a list");
  out.clear();
  for (size_t i = 0; i < v.size(); ++i) {
    PolicyHit hit;
    RETURN_IF_ERROR(DecodeHit(v[i], fmt::format("{}[{}]", path, i), hit));
    out.push_back(std::move(hit));
  }
  return {};
}

Status DecodeTrace(const Json& j, const std::string& path, PolicyTrace& trace) {
  static constexpr std::array<Field, 2> kFields{
      {{"enforcedPolicies", "enforced_policies"}, {"pendingPolicies", "pending_policies"}}};
  return ObjectReader(j, path).Each(
      kFields, [&](size_t i, const Json& v, const std::string& p) -> Status {
        return DecodeHits(v, p, i == 0 ? trace.enforced_policies : trace.pending_policies);
      });
}

Status DecodeKey(const Json& j, const std::string& path, FlowKey& k) {
  static constexpr std::array<Field, 17> kFields{
      {{"sourceName", "source_name"},
       {"sourceNamespace", "source_namespace"},
       {"sourceType", "source_type"},
       {"destName", "dest_name"},
       {"destNamespace", "dest_namespace"},
       {"destType", "dest_type"},
       {"destPort", "dest_port"},
       {"destServiceName", "dest_service_name"},
       {"destServiceNamespace", "dest_service_namespace"},
       {"destServicePortName", "dest_service_port_name"},
       {"destServicePort", "dest_service_port"},
       {"proto", "proto"},
       {"reporter", "reporter"},
       {"action", "action"},
       {"policies", "policies"},
       {"sourceIp", "source_ip"},
       {"destIp", "dest_ip"}}};
  return ObjectReader(j, path).Each(
      kFields, [&](size_t i, const Json& v, const std::string& p) -> Status {
        switch (i) {
          case 0:
            return GetString(v, p, k.source_name);
          case 1:
            return GetString(v, p, k.source_namespace);
          case 2:
            return GetEnum(v, p, kEndpointTypes, "EndpointType", k.source_type);
          case 3:
            return GetString(v, p, k.dest_name);
          case 4:
            return GetString(v, p, k.dest_namespace);
          case 5:
            return GetEnum(v, p, kEndpointTypes, "EndpointType", k.dest_type);
          case 6:
            return GetInt(v, p, k.dest_port, /*non_negative=*/true);
          case 7:
            return GetString(v, p, k.dest_service_name);
          case 8:
            return GetString(v, p, k.dest_service_namespace);
          case 9:
            return GetString(v, p, k.dest_service_port_name);
          case 10:
            return GetInt(v, p, k.dest_service_port, /*non_negative=*/true);
          case 11:
            return GetString(v, p, k.proto);
          case 12:
            return GetEnum(v, p, kReporters, "Reporter", k.reporter);
          case 13:
            return GetEnum(v, p, kActions, "Action", k.action);
          case 14:
            return DecodeTrace(v, p, k.policies);
          case 15:
            return GetString(v, p, k.source_ip);
          default:
            return GetString(v, p, k.dest_ip);
        }
      });
}

Status DecodeFlowJson(const Json& j, Flow& f) {
  // "Key" is both the json_name and the proto name of `FlowKey Key = 1`; "key" is accepted too.
  static constexpr std::array<Field, 12> kFields{
      {{"Key", "key"},
       {"startTime", "start_time"},
       {"endTime", "end_time"},
       {"sourceLabels", "source_labels"},
       {"destLabels", "dest_labels"},
       {"packetsIn", "packets_in"},
       {"packetsOut", "packets_out"},
       {"bytesIn", "bytes_in"},
       {"bytesOut", "bytes_out"},
       {"numConnectionsStarted", "num_connections_started"},
       {"numConnectionsCompleted", "num_connections_completed"},
       {"numConnectionsLive", "num_connections_live"}}};
  return ObjectReader(j, "").Each(kFields,
                                  [&](size_t i, const Json& v, const std::string& p) -> Status {
                                    switch (i) {
                                      case 0:
                                        return DecodeKey(v, "Key", f.key);
                                      case 1:
                                        return GetInt(v, p, f.start_time, true);
                                      case 2:
                                        return GetInt(v, p, f.end_time, true);
                                      case 3:
                                        return GetStrings(v, p, f.source_labels);
                                      case 4:
                                        return GetStrings(v, p, f.dest_labels);
                                      case 5:
                                        return GetInt(v, p, f.packets_in, true);
                                      case 6:
                                        return GetInt(v, p, f.packets_out, true);
                                      case 7:
                                        return GetInt(v, p, f.bytes_in, true);
                                      case 8:
                                        return GetInt(v, p, f.bytes_out, true);
                                      case 9:
                                        return GetInt(v, p, f.num_connections_started, true);
                                      case 10:
                                        return GetInt(v, p, f.num_connections_completed, true);
                                      default:
                                        return GetInt(v, p, f.num_connections_live, true);
                                    }
                                  });
}

}  // namespace

bool PolicyHit::operator==(const PolicyHit& other) const {
  if (kind != other.kind || ns != other.ns || name != other.name || tier != other.tier ||
      action != other.action || policy_index != other.policy_index ||
      rule_index != other.rule_index) {
    return false;
  }
  if (!trigger || !other.trigger) return !trigger && !other.trigger;
  return *trigger == *other.trigger;
}

std::string_view ActionName(Action action) {
  return NameOf(kActions, action);
}
std::string_view PolicyKindName(PolicyKind kind) {
  return NameOf(kKinds, kind);
}
std::string_view EndpointTypeName(EndpointType type) {
  return NameOf(kEndpointTypes, type);
}
std::string_view ReporterName(Reporter reporter) {
  return NameOf(kReporters, reporter);
}
Result<Action> ParseAction(std::string_view text) {
  return ParseEnum(kActions, text, "Action");
}
Result<PolicyKind> ParsePolicyKind(std::string_view text) {
  return ParseEnum(kKinds, text, "PolicyKind");
}
Result<EndpointType> ParseEndpointType(std::string_view text) {
  return ParseEnum(kEndpointTypes, text, "EndpointType");
}
Result<Reporter> ParseReporter(std::string_view text) {
  return ParseEnum(kReporters, text, "Reporter");
}

std::string EncodePolicyHit(const PolicyHit& hit) {
  return HitJson(hit).dump(-1, ' ', false, OJson::error_handler_t::replace);
}
std::string EncodeFlowKey(const FlowKey& key) {
  return KeyJson(key).dump(-1, ' ', false, OJson::error_handler_t::replace);
}

std::string EncodeFlow(const Flow& f) {
  OJson j = OJson::object();
  j["Key"] = KeyJson(f.key);
  PutInt(j, "startTime", f.start_time);
  PutInt(j, "endTime", f.end_time);
  PutStrings(j, "sourceLabels", f.source_labels);
  PutStrings(j, "destLabels", f.dest_labels);
  PutInt(j, "packetsIn", f.packets_in);
  PutInt(j, "packetsOut", f.packets_out);
  PutInt(j, "bytesIn", f.bytes_in);
  PutInt(j, "bytesOut", f.bytes_out);
  PutInt(j, "numConnectionsStarted", f.num_connections_started);
  PutInt(j, "numConnectionsCompleted", f.num_connections_completed);
  PutInt(j, "numConnectionsLive", f.num_connections_live);
  return j.dump(-1, ' ', false, OJson::error_handler_t::replace);
}

Result<Flow> DecodeFlow(std::string_view json) {
  Result<Json> parsed = model::ParseJson(json, model::kMaxDocumentBytes, kMaxFlowDepth);
  if (!parsed) return Unexpected(std::move(parsed).error());
  Flow f;
  RETURN_IF_ERROR(DecodeFlowJson(*parsed, f));
  if (f.end_time < f.start_time) {
    return InvalidArgument(
        fmt::format("endTime {} is before startTime {}", f.end_time, f.start_time));
  }
  return f;
}

Result<std::vector<Flow>> DecodeFlowLines(std::string_view body, size_t max_records) {
  std::vector<Flow> flows;
  size_t line_no = 0;
  while (!body.empty()) {
    ++line_no;
    const size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (flows.size() == max_records) {
      return InvalidArgument(fmt::format("more than {} flow records in one request", max_records));
    }
    Result<Flow> f = DecodeFlow(line);
    if (!f) return InvalidArgument(fmt::format("line {}: {}", line_no, f.error().message()));
    flows.push_back(std::move(*f));
  }
  return flows;
}

}  // namespace calico::flows
