#include "calico/agent/config.h"

#include <cctype>
#include <cstdlib>
#include <optional>
#include <tuple>
#include <type_traits>

#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/model/v3/felix.h"
#include "calico/policy/host_endpoints.h"

namespace calico::agent {
namespace {

Result<int> ParsePort(const std::string& name, const std::string& v) {
  Result<int> n = ParseIntInRange<int>(v, 0, 65535);
  if (!n) return InvalidArgument(name + ": not a port number: \"" + v + "\"");
  return n;
}

// An integer in [lo, hi] (base::ParseIntInRange), the error naming the setting.
Result<int64_t> ParseRange(const std::string& name, const std::string& v, int64_t lo, int64_t hi) {
  Result<int64_t> n = ParseIntInRange<int64_t>(v, lo, hi);
  if (!n) {
    return InvalidArgument(name + ": not a number from " + std::to_string(lo) + " to " +
                           std::to_string(hi) + ": \"" + v + "\"");
  }
  return n;
}

// Felix's "portrange": "N" or "MIN:MAX" (ports 0-65535, MIN <= MAX); "" or "0" = none.
Result<std::optional<std::pair<int, int>>> ParsePortRange(const std::string& name,
                                                          const std::string& v) {
  if (v.empty() || v == "0") return std::optional<std::pair<int, int>>();
  const std::vector<std::string> parts = StrSplit(v, ':');
  if (parts.size() > 2) return InvalidArgument(name + ": not a port range: \"" + v + "\"");
  auto lo = ParsePort(name, parts[0]);
  auto hi = ParsePort(name, parts.back());
  if (!lo || !hi || *lo > *hi) {
    return InvalidArgument(name + ": not a port range (N or MIN:MAX): \"" + v + "\"");
  }
  return std::optional(std::pair(*lo, *hi));
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
  for (auto [spec_key, env_key, out] :
       {std::tuple{"iptablesRefreshInterval", "FELIX_IPTABLESREFRESHINTERVAL", &s.iptables_refresh},
        std::tuple{"nftablesRefreshInterval", "FELIX_NFTABLESREFRESHINTERVAL", &s.nftables_refresh},
        std::tuple{"routeRefreshInterval", "FELIX_ROUTEREFRESHINTERVAL",
                   static_cast<std::optional<std::chrono::milliseconds>*>(nullptr)}}) {
    if (auto* v = get(spec_key, env_key)) {
      auto d = ParseGoDuration(*v);
      if (!d) return InvalidArgument(name(spec_key, env_key) + ": " + d.error().message());
      if (d->count() < 0) return InvalidArgument(name(spec_key, env_key) + ": negative");
      if (out != nullptr) {
        *out = *d;
      } else {
        s.agent.route_refresh_interval = *d;
      }
    }
  }
  // nftablesFilterDenyAction wins over iptablesFilterDenyAction from the same source.
  for (auto [spec_key, env_key] :
       {std::pair{"iptablesFilterDenyAction", "FELIX_IPTABLESFILTERDENYACTION"},
        std::pair{"nftablesFilterDenyAction", "FELIX_NFTABLESFILTERDENYACTION"}}) {
    if (auto* v = get(spec_key, env_key)) {
      const std::string l = AsciiLower(*v);
      if (l == "drop") {
        s.agent.render.deny_action = policy::DenyAction::kDrop;
      } else if (l == "reject") {
        s.agent.render.deny_action = policy::DenyAction::kReject;
      } else {
        return InvalidArgument(name(spec_key, env_key) + ": must be Drop or Reject, not \"" + *v +
                               "\"");
      }
    }
  }
  if (auto* v = get("logPrefix", "FELIX_LOGPREFIX")) s.agent.render.log_prefix = *v;
  // Flow logs: on when flowLogsGoldmaneServer names a server (Felix's FlowLogsEnabled()).
  if (auto* v = get("flowLogsGoldmaneServer", "FELIX_FLOWLOGSGOLDMANESERVER")) {
    s.flow_logs.goldmane_server = *v;
  }
  if (auto* v = get("flowLogsFlushInterval", "FELIX_FLOWLOGSFLUSHINTERVAL")) {
    auto d = ParseGoDuration(*v);
    const std::string n = name("flowLogsFlushInterval", "FELIX_FLOWLOGSFLUSHINTERVAL");
    if (!d) return InvalidArgument(n + ": " + d.error().message());
    if (d->count() <= 0) return InvalidArgument(n + ": must be positive");
    s.flow_logs.flush_interval = *d;
  }
  if (auto* v = get("flowLogsPolicyEvaluationMode", "FELIX_FLOWLOGSPOLICYEVALUATIONMODE")) {
    const std::string l = AsciiLower(*v);
    if (l != "none" && l != "continuous") {
      return InvalidArgument(
          name("flowLogsPolicyEvaluationMode", "FELIX_FLOWLOGSPOLICYEVALUATIONMODE") +
          ": must be None or Continuous, not \"" + *v + "\"");
    }
    s.flow_logs.evaluate_pending = l == "continuous";
  }
  if (auto* v = get("flowLogsCollectorDebugTrace", "FELIX_FLOWLOGSCOLLECTORDEBUGTRACE")) {
    ASSIGN_OR_RETURN(
        s.flow_logs.debug_trace,
        ParseBool(name("flowLogsCollectorDebugTrace", "FELIX_FLOWLOGSCOLLECTORDEBUGTRACE"), *v));
  }
  s.agent.render.flow_logs.enabled = !s.flow_logs.goldmane_server.empty();
  for (auto [spec_key, env_key, out, invert] :
       {std::tuple{"disableConntrackInvalidCheck", "FELIX_DISABLECONNTRACKINVALIDCHECK",
                   &s.agent.render.drop_invalid, true},
        std::tuple{"allowVXLANPacketsFromWorkloads", "FELIX_ALLOWVXLANPACKETSFROMWORKLOADS",
                   &s.agent.render.drop_vxlan_from_workloads, true},
        std::tuple{"allowIPIPPacketsFromWorkloads", "FELIX_ALLOWIPIPPACKETSFROMWORKLOADS",
                   &s.agent.render.drop_ipip_from_workloads, true},
        std::tuple{"removeExternalRoutes", "FELIX_REMOVEEXTERNALROUTES",
                   &s.agent.routes.remove_external_routes, false}}) {
    if (auto* v = get(spec_key, env_key)) {
      ASSIGN_OR_RETURN(bool b, ParseBool(name(spec_key, env_key), *v));
      *out = invert ? !b : b;
    }
  }
  for (auto [spec_key, env_key, family, out] :
       {std::tuple{"deviceRouteSourceAddress", "FELIX_DEVICEROUTESOURCEADDRESS", 4,
                   &s.agent.routes.source_v4},
        std::tuple{"deviceRouteSourceAddressIPv6", "FELIX_DEVICEROUTESOURCEADDRESSIPV6", 6,
                   &s.agent.routes.source_v6},
        std::tuple{"natOutgoingAddress", "FELIX_NATOUTGOINGADDRESS", 4, &s.agent.nat.address}}) {
    if (auto* v = get(spec_key, env_key)) {
      if (v->empty()) {
        out->reset();
        continue;
      }
      auto ip = net::IPAddr::Parse(*v);
      if (!ip || ip->family() != family) {
        return InvalidArgument(name(spec_key, env_key) + ": not an IPv" + std::to_string(family) +
                               " address: \"" + *v + "\"");
      }
      *out = *ip;
    }
  }
  if (auto* v = get("natPortRange", "FELIX_NATPORTRANGE")) {
    ASSIGN_OR_RETURN(s.agent.nat.port_range,
                     ParsePortRange(name("natPortRange", "FELIX_NATPORTRANGE"), *v));
  }
  if (auto* v = get("ipv6Support", "FELIX_IPV6SUPPORT")) {
    ASSIGN_OR_RETURN(bool b, ParseBool(name("ipv6Support", "FELIX_IPV6SUPPORT"), *v));
    s.agent.render.ipv6_support = b;
    s.agent.routes.ipv6 = b;
  }
  if (auto* v = get("workloadSourceSpoofing", "FELIX_WORKLOADSOURCESPOOFING")) {
    // felix/config/config_params.go: oneof(Disabled,Any), Disabled by default.
    const std::string l = AsciiLower(*v);
    if (l != "any" && l != "disabled" && !l.empty()) {
      return InvalidArgument(name("workloadSourceSpoofing", "FELIX_WORKLOADSOURCESPOOFING") +
                             ": must be Disabled or Any, not \"" + *v + "\"");
    }
    s.agent.render.workload_source_spoofing = l == "any";
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
  if (auto* v = get("logSeverityFile", "FELIX_LOGSEVERITYFILE"))
    s.log_severity_file = AsciiLower(*v);
  if (auto* v = get("logFilePath", "FELIX_LOGFILEPATH")) {
    s.log_file_path = AsciiLower(*v) == "none" ? "" : *v;
  }
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
    s.agent.vxlan.port = static_cast<uint16_t>(s.agent.render.vxlan_port);
  }
  if (auto* v = get("vxlanVNI", "FELIX_VXLANVNI")) {
    ASSIGN_OR_RETURN(int64_t vni,
                     ParseRange(name("vxlanVNI", "FELIX_VXLANVNI"), *v, 1, (1 << 24) - 1));
    s.agent.vxlan.vni = static_cast<uint32_t>(vni);
  }
  if (auto* v = get("vxlanMTU", "FELIX_VXLANMTU")) {
    ASSIGN_OR_RETURN(int64_t mtu, ParseRange(name("vxlanMTU", "FELIX_VXLANMTU"), *v, 0, 65535));
    s.agent.vxlan.mtu = static_cast<int>(mtu);
  }
  if (auto* v = get("healthTimeoutOverrides", "FELIX_HEALTHTIMEOUTOVERRIDES")) {
    auto list = ParseKeyDurationList(*v);
    if (!list) {
      return InvalidArgument(name("healthTimeoutOverrides", "FELIX_HEALTHTIMEOUTOVERRIDES") + ": " +
                             list.error().message());
    }
    s.agent.health_timeout_overrides = std::move(*list);
  }
  for (auto [spec_key, env_key, out] :
       {std::tuple{"reportingInterval", "FELIX_REPORTINGINTERVALSECS", &s.reporting_interval},
        std::tuple{"reportingTTL", "FELIX_REPORTINGTTLSECS", &s.reporting_ttl},
        std::tuple{"dataplaneWatchdogTimeout", "FELIX_DATAPLANEWATCHDOGTIMEOUT",
                   &s.agent.dataplane_watchdog_timeout}}) {
    if (auto* v = get(spec_key, env_key)) {
      auto d = ParseGoDuration(*v);
      if (!d) return InvalidArgument(name(spec_key, env_key) + ": " + d.error().message());
      if (d->count() < 0) return InvalidArgument(name(spec_key, env_key) + ": negative");
      *out = *d;
    }
  }
  if (auto* v = get("vxlanMTUV6", "FELIX_VXLANMTUV6")) {
    ASSIGN_OR_RETURN(int64_t mtu, ParseRange(name("vxlanMTUV6", "FELIX_VXLANMTUV6"), *v, 0, 65535));
    s.agent.vxlan.mtu_v6 = static_cast<int>(mtu);
  }
  if (auto* v = get("mtuIfacePattern", "FELIX_MTUIFACEPATTERN")) s.mtu_iface_pattern = *v;
  if (auto* v = get("ipipEnabled", "FELIX_IPIPENABLED")) {
    ASSIGN_OR_RETURN(s.agent.ipip.enabled, ParseBool(name("ipipEnabled", "FELIX_IPIPENABLED"), *v));
  }
  // Felix's IpInIpMtu (FELIX_IPINIPMTU; the FelixConfiguration field is ipipMTU).
  if (auto* v = get("ipipMTU", "FELIX_IPINIPMTU")) {
    ASSIGN_OR_RETURN(int64_t mtu, ParseRange(name("ipipMTU", "FELIX_IPINIPMTU"), *v, 0, 65535));
    s.agent.ipip.mtu = static_cast<int>(mtu);
  }
  if (auto* v = get("vxlanEnabled", "FELIX_VXLANENABLED")) {
    ASSIGN_OR_RETURN(s.agent.vxlan_enabled,
                     ParseBool(name("vxlanEnabled", "FELIX_VXLANENABLED"), *v));
  }
  return OkStatus();
}

// FelixConfiguration's failsafe lists: [{protocol: TCP|UDP|SCTP (default TCP), port, net}]. The
// string form ("tcp:22,...") goes through Apply() with the environment's syntax.
Status ApplyFailsafeSpec(FelixSettings& s, const model::v3::FelixConfigurationSpec* spec) {
  if (spec == nullptr) return OkStatus();
  for (auto [key, in, out] :
       {std::tuple{"failsafeInboundHostPorts", &spec->failsafe_inbound_host_ports,
                   &s.agent.render.failsafe_inbound},
        std::tuple{"failsafeOutboundHostPorts", &spec->failsafe_outbound_host_ports,
                   &s.agent.render.failsafe_outbound}}) {
    if (!*in || (*in)->text) continue;
    std::vector<policy::FailsafePort> ports;
    for (std::size_t i = 0; i < (*in)->ports.size(); ++i) {
      const model::v3::ProtoPort& e = (*in)->ports[i];
      const std::string field = std::string(key) + "[" + std::to_string(i) + "]";
      policy::FailsafePort port;
      if (e.protocol) {
        const std::string proto = AsciiLower(*e.protocol);
        if (proto != "tcp" && proto != "udp" && proto != "sctp") {
          return InvalidArgument(field + ".protocol: must be TCP, UDP or SCTP, not " +
                                 model::Json(*e.protocol).dump());
        }
        port.protocol = proto;
      }
      if (e.port) {
        if (*e.port < 0 || *e.port > 65535) {
          return InvalidArgument(field + ".port: not a port number: " + std::to_string(*e.port));
        }
        port.port = static_cast<uint16_t>(*e.port);
      }
      if (!e.net.empty()) {
        auto net = net::CIDR::ParseNet(e.net);
        if (!net) {
          return InvalidArgument(field + ".net: invalid CIDR or IP " + model::Json(e.net).dump());
        }
        port.net = net->Masked();
      }
      ports.push_back(std::move(port));
    }
    *out = std::move(ports);
  }
  return OkStatus();
}

// The settings of a FelixConfiguration spec in the environment's text form (Apply()).
std::map<std::string, std::string> SpecValues(const model::v3::FelixConfigurationSpec* spec) {
  std::map<std::string, std::string> out;
  if (spec == nullptr) return out;
  auto put = [&](const char* key, const auto& value) {
    if (!value) return;
    using T = std::decay_t<decltype(*value)>;
    if constexpr (std::is_same_v<T, bool>) {
      out[key] = *value ? "true" : "false";
    } else if constexpr (std::is_same_v<T, int64_t>) {
      out[key] = std::to_string(*value);
    } else {
      out[key] = *value;
    }
  };
  put("healthEnabled", spec->health_enabled);
  put("healthHost", spec->health_host);
  put("healthPort", spec->health_port);
  put("prometheusMetricsEnabled", spec->prometheus_metrics_enabled);
  put("prometheusMetricsHost", spec->prometheus_metrics_host);
  put("prometheusMetricsPort", spec->prometheus_metrics_port);
  put("iptablesRefreshInterval", spec->iptables_refresh_interval);
  put("routeRefreshInterval", spec->route_refresh_interval);
  put("defaultEndpointToHostAction", spec->default_endpoint_to_host_action);
  put("interfacePrefix", spec->interface_prefix);
  put("logSeverityScreen", spec->log_severity_screen);
  put("vxlanPort", spec->vxlan_port);
  put("vxlanVNI", spec->vxlan_vni);
  put("vxlanMTU", spec->vxlan_mtu);
  put("vxlanMTUV6", spec->vxlan_mtu_v6);
  put("vxlanEnabled", spec->vxlan_enabled);
  put("ipipEnabled", spec->ipip_enabled);
  put("ipipMTU", spec->ipip_mtu);
  put("nftablesRefreshInterval", spec->nftables_refresh_interval);
  put("iptablesFilterDenyAction", spec->iptables_filter_deny_action);
  put("nftablesFilterDenyAction", spec->nftables_filter_deny_action);
  put("logPrefix", spec->log_prefix);
  put("logFilePath", spec->log_file_path);
  put("logSeverityFile", spec->log_severity_file);
  put("disableConntrackInvalidCheck", spec->disable_conntrack_invalid_check);
  put("allowVXLANPacketsFromWorkloads", spec->allow_vxlan_packets_from_workloads);
  put("allowIPIPPacketsFromWorkloads", spec->allow_ipip_packets_from_workloads);
  put("ipv6Support", spec->ipv6_support);
  put("removeExternalRoutes", spec->remove_external_routes);
  put("deviceRouteSourceAddress", spec->device_route_source_address);
  put("deviceRouteSourceAddressIPv6", spec->device_route_source_address_ipv6);
  put("natOutgoingAddress", spec->nat_outgoing_address);
  put("natPortRange", spec->nat_port_range);
  put("flowLogsFlushInterval", spec->flow_logs_flush_interval);
  put("flowLogsGoldmaneServer", spec->flow_logs_goldmane_server);
  put("flowLogsPolicyEvaluationMode", spec->flow_logs_policy_evaluation_mode);
  put("flowLogsCollectorDebugTrace", spec->flow_logs_collector_debug_trace);
  if (spec->failsafe_inbound_host_ports && spec->failsafe_inbound_host_ports->text) {
    out["failsafeInboundHostPorts"] = *spec->failsafe_inbound_host_ports->text;
  }
  if (spec->failsafe_outbound_host_ports && spec->failsafe_outbound_host_ports->text) {
    out["failsafeOutboundHostPorts"] = *spec->failsafe_outbound_host_ports->text;
  }
  return out;
}

// Plus the settings the typed spec does not carry (mtuIfacePattern, workloadSourceSpoofing,
// reportingInterval, reportingTTL, dataplaneWatchdogTimeout, healthTimeoutOverrides), from `r`'s
// spec; healthTimeoutOverrides in Felix's keydurationlist form, as libcalico-go's
// felixconfigprocessor.go healthTimeoutOverridesToString hands it to Felix.
std::map<std::string, std::string> WithRawValues(std::map<std::string, std::string> values,
                                                 const model::Resource* r) {
  if (r == nullptr) return values;
  for (const char* key : {"mtuIfacePattern", "workloadSourceSpoofing", "reportingInterval",
                          "reportingTTL", "dataplaneWatchdogTimeout"}) {
    auto it = r->spec().find(key);
    if (it != r->spec().end() && it->is_string()) values[key] = it->get<std::string>();
  }
  if (auto it = r->spec().find("healthTimeoutOverrides");
      it != r->spec().end() && it->is_array() && !it->empty()) {
    std::vector<std::string> parts;
    for (const auto& o : *it) {
      if (!o.is_object()) continue;
      parts.push_back(o.value("name", "") + "=" + o.value("timeout", ""));
    }
    values["healthTimeoutOverrides"] = StrJoin(parts, ",");
  }
  return values;
}

// The typed spec of `r` (nullopt for no resource).
Result<std::optional<model::v3::FelixConfiguration>> Decode(const model::Resource* r) {
  if (r == nullptr) return std::optional<model::v3::FelixConfiguration>();
  ASSIGN_OR_RETURN(model::v3::FelixConfiguration fc, model::v3::DecodeFelixConfiguration(*r));
  return std::optional(std::move(fc));
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

Result<std::chrono::nanoseconds> ParseGoDurationNs(std::string_view text) {
  const std::string original(text);
  auto bad = [&] { return InvalidArgument("invalid duration \"" + original + "\""); };
  if (text == "0") return std::chrono::nanoseconds(0);
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.empty()) return bad();
  long double total = 0;
  while (!text.empty()) {
    size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == 0) return bad();
    Result<double> number = ParseDouble(text.substr(0, i));
    if (!number) return bad();
    text.remove_prefix(i);
    size_t u = 0;
    while (u < text.size() && !std::isdigit(static_cast<unsigned char>(text[u])) && text[u] != '.')
      ++u;
    const std::string_view unit = text.substr(0, u);
    text.remove_prefix(u);
    long double scale = 0;
    if (unit == "ns") {
      scale = 1;
    } else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") {
      scale = 1e3L;
    } else if (unit == "ms") {
      scale = 1e6L;
    } else if (unit == "s") {
      scale = 1e9L;
    } else if (unit == "m") {
      scale = 60e9L;
    } else if (unit == "h") {
      scale = 3600e9L;
    } else {
      return InvalidArgument("invalid duration \"" + original + "\" (units: h, m, s, ms, us, ns)");
    }
    total += static_cast<long double>(*number) * scale;
  }
  if (total > 9.2e18L) return bad();
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

Result<std::map<std::string, std::chrono::nanoseconds>> ParseKeyDurationList(
    std::string_view text) {
  std::map<std::string, std::chrono::nanoseconds> out;
  for (const std::string& item : StrSplit(text, ',')) {
    if (item.empty()) continue;  // As upstream: a trailing "," is accepted.
    const std::size_t eq = item.find('=');
    const std::string key(eq == std::string::npos ? "" : StrTrim(item.substr(0, eq)));
    if (key.empty()) return InvalidArgument("invalid item \"" + item + "\" (name=duration)");
    auto d = ParseGoDurationNs(StrTrim(item.substr(eq + 1)));
    if (!d) return InvalidArgument(key + ": " + d.error().message());
    out[key] = *d;
  }
  return out;
}

Result<FelixSettings> LoadFelixSettings(const std::map<std::string, std::string>& env,
                                        const std::string& node_name, const model::Resource* global,
                                        const model::Resource* per_node) {
  FelixSettings s;
  s.agent.node_name = node_name;
  ASSIGN_OR_RETURN(auto global_fc, Decode(global));
  ASSIGN_OR_RETURN(auto node_fc, Decode(per_node));
  const model::v3::FelixConfigurationSpec* global_spec = global_fc ? &global_fc->spec : nullptr;
  const model::v3::FelixConfigurationSpec* node_spec = node_fc ? &node_fc->spec : nullptr;
  RETURN_IF_ERROR(Apply(s, WithRawValues(SpecValues(global_spec), global), false));
  RETURN_IF_ERROR(ApplyFailsafeSpec(s, global_spec));
  RETURN_IF_ERROR(Apply(s, WithRawValues(SpecValues(node_spec), per_node), false));
  RETURN_IF_ERROR(ApplyFailsafeSpec(s, node_spec));
  RETURN_IF_ERROR(Apply(s, env, true));
  // Not a Felix setting: the minimum run of simple policies the renderer merges into one lookup
  // (policy::RenderOptions::merge_min_policies, policy_merge.h); 0 renders Felix's one jump per
  // policy (for comparisons such as bench/connect_rate.sh, and diagnosis).
  if (auto it = env.find("CALICO_POLICY_MERGE_MIN"); it != env.end()) {
    ASSIGN_OR_RETURN(int64_t n, ParseRange("CALICO_POLICY_MERGE_MIN", it->second, 0, 1000000));
    s.agent.render.merge_min_policies = static_cast<std::size_t>(n);
  }
  if (s.nftables_refresh) {
    s.agent.policy_refresh_interval = *s.nftables_refresh;
  } else if (s.iptables_refresh) {
    s.agent.policy_refresh_interval = *s.iptables_refresh;
  }
  return s;
}

}  // namespace calico::agent
