#include "calico/agent/config.h"

#include <cctype>
#include <tuple>

#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/policy/host_endpoints.h"

namespace calico::agent {
namespace {

Result<int> ParsePort(const std::string& name, const std::string& v) {
  Result<int> n = ParseIntInRange<int>(v, 0, 65535);
  if (!n) return InvalidArgument(name + ": not a port number: \"" + v + "\"");
  return n;
}

Result<bool> ParseBool(const std::string& name, const std::string& v) {
  std::string l = AsciiLower(v);
  if (l == "true" || l == "1" || l == "yes") return true;
  if (l == "false" || l == "0" || l == "no") return false;
  return InvalidArgument(name + ": not a boolean: \"" + v + "\"");
}

Result<policy::EndpointToHostAction> ParseAction(const std::string& name, const std::string& v) {
  std::string l = AsciiLower(v);
  if (l == "drop") return policy::EndpointToHostAction::kDrop;
  if (l == "accept") return policy::EndpointToHostAction::kAccept;
  if (l == "return") return policy::EndpointToHostAction::kReturn;
  return InvalidArgument(name + ": must be Drop, Accept or Return, not \"" + v + "\"");
}

// One source of settings: a FelixConfiguration spec (camelCase keys) or the environment.
Status Apply(FelixSettings& s, const std::map<std::string, std::string>& values, bool env) {
  auto get = [&](const char* spec_key, const char* env_key) -> const std::string* {
    auto it = values.find(env ? env_key : spec_key);
    return it == values.end() ? nullptr : &it->second;
  };
  auto name = [&](const char* spec_key, const char* env_key) {
    return std::string(env ? env_key : spec_key);
  };
  if (auto* v = get("healthEnabled", "FELIX_HEALTHENABLED")) {
    ASSIGN_OR_RETURN(s.health_enabled, ParseBool(name("healthEnabled", "FELIX_HEALTHENABLED"), *v));
  }
  if (auto* v = get("healthHost", "FELIX_HEALTHHOST")) s.health_host = *v;
  if (auto* v = get("healthPort", "FELIX_HEALTHPORT")) {
    ASSIGN_OR_RETURN(s.health_port, ParsePort(name("healthPort", "FELIX_HEALTHPORT"), *v));
  }
  if (auto* v = get("prometheusMetricsEnabled", "FELIX_PROMETHEUSMETRICSENABLED")) {
    ASSIGN_OR_RETURN(
        s.prometheus_enabled,
        ParseBool(name("prometheusMetricsEnabled", "FELIX_PROMETHEUSMETRICSENABLED"), *v));
  }
  if (auto* v = get("prometheusMetricsHost", "FELIX_PROMETHEUSMETRICSHOST")) s.prometheus_host = *v;
  if (auto* v = get("prometheusMetricsPort", "FELIX_PROMETHEUSMETRICSPORT")) {
    ASSIGN_OR_RETURN(s.prometheus_port,
                     ParsePort(name("prometheusMetricsPort", "FELIX_PROMETHEUSMETRICSPORT"), *v));
  }
  for (auto [spec_key, env_key] :
       {std::pair{"iptablesRefreshInterval", "FELIX_IPTABLESREFRESHINTERVAL"},
        std::pair{"routeRefreshInterval", "FELIX_ROUTEREFRESHINTERVAL"}}) {
    if (auto* v = get(spec_key, env_key)) {
      auto d = ParseGoDuration(*v);
      if (!d) return InvalidArgument(name(spec_key, env_key) + ": " + d.error().message());
      if (d->count() > 0) s.agent.resync_interval = std::min(s.agent.resync_interval, *d);
    }
  }
  if (auto* v = get("defaultEndpointToHostAction", "FELIX_DEFAULTENDPOINTTOHOSTACTION")) {
    ASSIGN_OR_RETURN(
        s.agent.render.endpoint_to_host_action,
        ParseAction(name("defaultEndpointToHostAction", "FELIX_DEFAULTENDPOINTTOHOSTACTION"), *v));
  }
  if (auto* v = get("interfacePrefix", "FELIX_INTERFACEPREFIX")) {
    s.agent.render.interface_prefixes = StrSplit(*v, ',', true);
    if (s.agent.render.interface_prefixes.empty()) {
      return InvalidArgument(name("interfacePrefix", "FELIX_INTERFACEPREFIX") + ": empty");
    }
  }
  if (auto* v = get("logSeverityScreen", "FELIX_LOGSEVERITYSCREEN"))
    s.log_severity = AsciiLower(*v);
  for (auto [spec_key, env_key, out] :
       {std::tuple{"failsafeInboundHostPorts", "FELIX_FAILSAFEINBOUNDHOSTPORTS",
                   &s.agent.render.failsafe_inbound},
        std::tuple{"failsafeOutboundHostPorts", "FELIX_FAILSAFEOUTBOUNDHOSTPORTS",
                   &s.agent.render.failsafe_outbound}}) {
    if (auto* v = get(spec_key, env_key)) {
      auto ports = policy::ParseFailsafePorts(*v);
      if (!ports) return InvalidArgument(name(spec_key, env_key) + ": " + ports.error().message());
      *out = std::move(*ports);
    }
  }
  if (auto* v = get("vxlanPort", "FELIX_VXLANPORT")) {
    ASSIGN_OR_RETURN(s.agent.render.vxlan_port,
                     ParsePort(name("vxlanPort", "FELIX_VXLANPORT"), *v));
  }
  return OkStatus();
}

// FelixConfiguration's failsafe lists: [{protocol: TCP|UDP|SCTP (default TCP), port, net}].
Status ApplyFailsafeSpec(FelixSettings& s, const model::Resource* r) {
  if (r == nullptr || !r->spec().is_object()) return OkStatus();
  for (auto [key, out] :
       {std::pair{"failsafeInboundHostPorts", &s.agent.render.failsafe_inbound},
        std::pair{"failsafeOutboundHostPorts", &s.agent.render.failsafe_outbound}}) {
    auto it = r->spec().find(key);
    if (it == r->spec().end() || it->is_null() || it->is_string()) continue;  // strings: Apply()
    if (!it->is_array()) return InvalidArgument(std::string(key) + ": must be a list");
    std::vector<policy::FailsafePort> ports;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const model::Json& e = (*it)[i];
      const std::string field = std::string(key) + "[" + std::to_string(i) + "]";
      if (!e.is_object()) return InvalidArgument(field + ": must be an object");
      policy::FailsafePort port;
      if (auto p = e.find("protocol"); p != e.end() && !p->is_null()) {
        const std::string proto = p->is_string() ? AsciiLower(p->get<std::string>()) : "";
        if (proto != "tcp" && proto != "udp" && proto != "sctp") {
          return InvalidArgument(field + ".protocol: must be TCP, UDP or SCTP, not " + p->dump());
        }
        port.protocol = proto;
      }
      if (auto p = e.find("port"); p != e.end() && !p->is_null()) {
        if (!p->is_number_integer() || p->get<int64_t>() < 0 || p->get<int64_t>() > 65535) {
          return InvalidArgument(field + ".port: not a port number: " + p->dump());
        }
        port.port = static_cast<uint16_t>(p->get<int64_t>());
      }
      if (auto p = e.find("net");
          p != e.end() && !p->is_null() && p->is_string() && !p->get<std::string>().empty()) {
        auto net = net::CIDR::ParseNet(p->get<std::string>());
        if (!net) return InvalidArgument(field + ".net: invalid CIDR or IP " + p->dump());
        port.net = net->Masked();
      }
      ports.push_back(std::move(port));
    }
    *out = std::move(ports);
  }
  return OkStatus();
}

std::map<std::string, std::string> SpecValues(const model::Resource* r) {
  std::map<std::string, std::string> out;
  if (r == nullptr || !r->spec().is_object()) return out;
  for (const auto& [k, v] : r->spec().items()) {
    if (v.is_string()) {
      out[k] = v.get<std::string>();
    } else if (v.is_boolean() || v.is_number()) {
      out[k] = v.dump();
    }
  }
  return out;
}

}  // namespace

Result<std::chrono::milliseconds> ParseGoDuration(std::string_view text) {
  if (text.empty()) return InvalidArgument("empty duration");
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    // Plain seconds, as Felix's config parameters accept them. At most 9 digits (30 years), so
    // the milliseconds fit.
    Result<int64_t> seconds = ParseIntInRange<int64_t>(text, 0, 999999999);
    if (!seconds) return InvalidArgument("invalid duration \"" + std::string(text) + "\"");
    return std::chrono::milliseconds(*seconds * 1000);
  }
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (start == i) return InvalidArgument("invalid duration \"" + std::string(text) + "\"");
    Result<double> number = ParseDouble(text.substr(start, i - start));
    if (!number) return InvalidArgument("invalid duration \"" + std::string(text) + "\"");
    const double n = *number;
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])))
      ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    if (unit == "h")
      total_ms += n * 3600000;
    else if (unit == "m")
      total_ms += n * 60000;
    else if (unit == "s")
      total_ms += n * 1000;
    else if (unit == "ms")
      total_ms += n;
    else
      return InvalidArgument("invalid duration \"" + std::string(text) + "\" (units: h, m, s, ms)");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

Result<FelixSettings> LoadFelixSettings(const std::map<std::string, std::string>& env,
                                        const std::string& node_name, const model::Resource* global,
                                        const model::Resource* per_node) {
  FelixSettings s;
  s.agent.node_name = node_name;
  RETURN_IF_ERROR(Apply(s, SpecValues(global), false));
  RETURN_IF_ERROR(ApplyFailsafeSpec(s, global));
  RETURN_IF_ERROR(Apply(s, SpecValues(per_node), false));
  RETURN_IF_ERROR(ApplyFailsafeSpec(s, per_node));
  RETURN_IF_ERROR(Apply(s, env, true));
  return s;
}

}  // namespace calico::agent
