// Decoder of the FelixConfiguration kind, see felix.h.
#include "calico/model/v3/felix.h"

#include "calico/model/v3/decode.h"

namespace calico::model::v3 {
namespace {

Status DecodeProtoPort(const Json& j, std::string_view path, ProtoPort& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "protocol", out.protocol));
  RETURN_IF_ERROR(Field(j, path, "port", out.port));
  RETURN_IF_ERROR(Field(j, path, "net", out.net));
  return OkStatus();
}

Status DecodeProtoPorts(const Json& j, std::string_view path, ProtoPorts& out) {
  if (j.is_string()) {
    out.text = j.get<std::string>();
    return OkStatus();
  }
  if (!j.is_array()) return FieldError(path, "must be a string or a list");
  return DecodeList(j, path, out.ports, DecodeProtoPort);
}

// numorstring.Port: a number (8000) or a string ("8000", "32768:65535"), kept as text.
Status DecodeNumOrString(const Json& j, std::string_view path, std::string& out) {
  if (j.is_number_integer()) {
    out = std::to_string(j.get<int64_t>());
    return OkStatus();
  }
  if (!j.is_string()) return FieldError(path, "must be a number or a string");
  out = j.get<std::string>();
  return OkStatus();
}

Status DecodeFelixConfigurationSpec(const Json& j, std::string_view path,
                                    FelixConfigurationSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "healthEnabled", out.health_enabled));
  RETURN_IF_ERROR(Field(j, path, "healthHost", out.health_host));
  RETURN_IF_ERROR(Field(j, path, "healthPort", out.health_port));
  RETURN_IF_ERROR(Field(j, path, "prometheusMetricsEnabled", out.prometheus_metrics_enabled));
  RETURN_IF_ERROR(Field(j, path, "prometheusMetricsHost", out.prometheus_metrics_host));
  RETURN_IF_ERROR(Field(j, path, "prometheusMetricsPort", out.prometheus_metrics_port));
  RETURN_IF_ERROR(Field(j, path, "iptablesRefreshInterval", out.iptables_refresh_interval));
  RETURN_IF_ERROR(Field(j, path, "routeRefreshInterval", out.route_refresh_interval));
  RETURN_IF_ERROR(
      Field(j, path, "defaultEndpointToHostAction", out.default_endpoint_to_host_action));
  RETURN_IF_ERROR(Field(j, path, "interfacePrefix", out.interface_prefix));
  RETURN_IF_ERROR(Field(j, path, "logSeverityScreen", out.log_severity_screen));
  RETURN_IF_ERROR(Field(j, path, "failsafeInboundHostPorts", out.failsafe_inbound_host_ports,
                        DecodeProtoPorts));
  RETURN_IF_ERROR(Field(j, path, "failsafeOutboundHostPorts", out.failsafe_outbound_host_ports,
                        DecodeProtoPorts));
  RETURN_IF_ERROR(Field(j, path, "vxlanEnabled", out.vxlan_enabled));
  RETURN_IF_ERROR(Field(j, path, "vxlanPort", out.vxlan_port));
  RETURN_IF_ERROR(Field(j, path, "vxlanVNI", out.vxlan_vni));
  RETURN_IF_ERROR(Field(j, path, "vxlanMTU", out.vxlan_mtu));
  RETURN_IF_ERROR(Field(j, path, "vxlanMTUV6", out.vxlan_mtu_v6));
  RETURN_IF_ERROR(Field(j, path, "ipipEnabled", out.ipip_enabled));
  RETURN_IF_ERROR(Field(j, path, "ipipMTU", out.ipip_mtu));
  RETURN_IF_ERROR(Field(j, path, "nftablesRefreshInterval", out.nftables_refresh_interval));
  RETURN_IF_ERROR(Field(j, path, "nftablesFilterDenyAction", out.nftables_filter_deny_action));
  RETURN_IF_ERROR(Field(j, path, "iptablesFilterDenyAction", out.iptables_filter_deny_action));
  RETURN_IF_ERROR(Field(j, path, "natOutgoingAddress", out.nat_outgoing_address));
  RETURN_IF_ERROR(Field(j, path, "natPortRange", out.nat_port_range, DecodeNumOrString));
  RETURN_IF_ERROR(Field(j, path, "flowLogsFlushInterval", out.flow_logs_flush_interval));
  RETURN_IF_ERROR(Field(j, path, "flowLogsGoldmaneServer", out.flow_logs_goldmane_server));
  RETURN_IF_ERROR(
      Field(j, path, "flowLogsPolicyEvaluationMode", out.flow_logs_policy_evaluation_mode));
  RETURN_IF_ERROR(
      Field(j, path, "flowLogsCollectorDebugTrace", out.flow_logs_collector_debug_trace));
  RETURN_IF_ERROR(Field(j, path, "removeExternalRoutes", out.remove_external_routes));
  RETURN_IF_ERROR(Field(j, path, "deviceRouteSourceAddress", out.device_route_source_address));
  RETURN_IF_ERROR(
      Field(j, path, "deviceRouteSourceAddressIPv6", out.device_route_source_address_ipv6));
  RETURN_IF_ERROR(
      Field(j, path, "disableConntrackInvalidCheck", out.disable_conntrack_invalid_check));
  RETURN_IF_ERROR(
      Field(j, path, "allowVXLANPacketsFromWorkloads", out.allow_vxlan_packets_from_workloads));
  RETURN_IF_ERROR(
      Field(j, path, "allowIPIPPacketsFromWorkloads", out.allow_ipip_packets_from_workloads));
  RETURN_IF_ERROR(Field(j, path, "ipv6Support", out.ipv6_support));
  RETURN_IF_ERROR(Field(j, path, "logPrefix", out.log_prefix));
  RETURN_IF_ERROR(Field(j, path, "logFilePath", out.log_file_path));
  RETURN_IF_ERROR(Field(j, path, "logSeverityFile", out.log_severity_file));
  return OkStatus();
}

}  // namespace

Result<FelixConfiguration> DecodeFelixConfiguration(const model::Resource& r) {
  return DecodeResource<FelixConfiguration>(r, "FelixConfiguration", DecodeFelixConfigurationSpec);
}

}  // namespace calico::model::v3
