// Decoders of the endpoint kinds and network sets, see endpoint.h.
#include "calico/model/v3/endpoint.h"

#include "calico/model/v3/decode.h"

namespace calico::model::v3 {
namespace {

Status DecodeWorkloadEndpointPort(const Json& j, std::string_view path, WorkloadEndpointPort& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "name", out.name));
  RETURN_IF_ERROR(Field(j, path, "protocol", out.protocol, DecodeNumOrString));
  RETURN_IF_ERROR(Field(j, path, "port", out.port));
  RETURN_IF_ERROR(Field(j, path, "hostPort", out.host_port));
  RETURN_IF_ERROR(Field(j, path, "hostIP", out.host_ip));
  return OkStatus();
}

Status DecodeIPNAT(const Json& j, std::string_view path, IPNAT& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "internalIP", out.internal_ip));
  RETURN_IF_ERROR(Field(j, path, "externalIP", out.external_ip));
  return OkStatus();
}

Status DecodeWorkloadEndpointSpec(const Json& j, std::string_view path, WorkloadEndpointSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "orchestrator", out.orchestrator));
  RETURN_IF_ERROR(Field(j, path, "workload", out.workload));
  RETURN_IF_ERROR(Field(j, path, "node", out.node));
  RETURN_IF_ERROR(Field(j, path, "containerID", out.container_id));
  RETURN_IF_ERROR(Field(j, path, "pod", out.pod));
  RETURN_IF_ERROR(Field(j, path, "endpoint", out.endpoint));
  RETURN_IF_ERROR(Field(j, path, "serviceAccountName", out.service_account_name));
  RETURN_IF_ERROR(Field(j, path, "ipNetworks", out.ip_networks));
  RETURN_IF_ERROR(Field(j, path, "ipNATs", out.ip_nats, DecodeIPNAT));
  RETURN_IF_ERROR(Field(j, path, "ipv4Gateway", out.ipv4_gateway));
  RETURN_IF_ERROR(Field(j, path, "ipv6Gateway", out.ipv6_gateway));
  RETURN_IF_ERROR(Field(j, path, "profiles", out.profiles));
  RETURN_IF_ERROR(Field(j, path, "interfaceName", out.interface_name));
  RETURN_IF_ERROR(Field(j, path, "mac", out.mac));
  RETURN_IF_ERROR(Field(j, path, "ports", out.ports, DecodeWorkloadEndpointPort));
  RETURN_IF_ERROR(Field(j, path, "allowSpoofedSourcePrefixes", out.allow_spoofed_source_prefixes));
  return OkStatus();
}

Status DecodeEndpointPort(const Json& j, std::string_view path, EndpointPort& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "name", out.name));
  RETURN_IF_ERROR(Field(j, path, "protocol", out.protocol, DecodeNumOrString));
  RETURN_IF_ERROR(Field(j, path, "port", out.port));
  return OkStatus();
}

Status DecodeHostEndpointSpec(const Json& j, std::string_view path, HostEndpointSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "node", out.node));
  RETURN_IF_ERROR(Field(j, path, "interfaceName", out.interface_name));
  RETURN_IF_ERROR(Field(j, path, "expectedIPs", out.expected_ips));
  RETURN_IF_ERROR(Field(j, path, "profiles", out.profiles));
  RETURN_IF_ERROR(Field(j, path, "ports", out.ports, DecodeEndpointPort));
  return OkStatus();
}

Status DecodeNetworkSetSpec(const Json& j, std::string_view path, NetworkSetSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  return Field(j, path, "nets", out.nets);
}

}  // namespace

Result<WorkloadEndpoint> DecodeWorkloadEndpoint(const model::Resource& r) {
  return DecodeResource<WorkloadEndpoint>(r, "WorkloadEndpoint", DecodeWorkloadEndpointSpec);
}

Result<HostEndpoint> DecodeHostEndpoint(const model::Resource& r) {
  return DecodeResource<HostEndpoint>(r, "HostEndpoint", DecodeHostEndpointSpec);
}

Result<NetworkSet> DecodeNetworkSet(const model::Resource& r) {
  return DecodeResource<NetworkSet>(r, "NetworkSet", DecodeNetworkSetSpec);
}

Result<GlobalNetworkSet> DecodeGlobalNetworkSet(const model::Resource& r) {
  return DecodeResource<GlobalNetworkSet>(r, "GlobalNetworkSet", DecodeNetworkSetSpec);
}

}  // namespace calico::model::v3
