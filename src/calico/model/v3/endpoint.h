// Typed endpoint kinds and the network sets that selectors also select (api/pkg/apis/
// projectcalico/v3: workloadendpoint.go, hostendpoint.go, networkset.go, globalnetworkset.go).
// Conventions: common.h.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"
#include "calico/model/v3/common.h"

namespace calico::model::v3 {

// WorkloadEndpointPort: a named port of a workload.
struct WorkloadEndpointPort {
  std::string name{};
  Protocol protocol{};  // "TCP", "UDP", "SCTP" or a number; TCP when absent (zero value "").
  int64_t port = 0;
  int64_t host_port = 0;
  std::string host_ip{};

  bool operator==(const WorkloadEndpointPort&) const = default;
};

struct IPNAT {
  std::string internal_ip{};
  std::string external_ip{};

  bool operator==(const IPNAT&) const = default;
};

struct WorkloadEndpointSpec {
  std::string orchestrator{};
  std::string workload{};
  std::string node{};
  std::string container_id{};
  std::string pod{};
  std::string endpoint{};
  std::string service_account_name{};
  std::vector<std::string> ip_networks{};
  std::vector<IPNAT> ip_nats{};
  std::string ipv4_gateway{};
  std::string ipv6_gateway{};
  std::vector<std::string> profiles{};
  std::string interface_name{};
  std::string mac{};
  std::vector<WorkloadEndpointPort> ports{};
  std::vector<std::string> allow_spoofed_source_prefixes{};

  bool operator==(const WorkloadEndpointSpec&) const = default;
};

struct WorkloadEndpoint {
  ObjectMeta metadata{};
  WorkloadEndpointSpec spec{};

  bool operator==(const WorkloadEndpoint&) const = default;
};

// EndpointPort: a named port of a host endpoint.
struct EndpointPort {
  std::string name{};
  Protocol protocol{};
  int64_t port = 0;

  bool operator==(const EndpointPort&) const = default;
};

struct HostEndpointSpec {
  std::string node{};
  std::string interface_name{};  // "*" = every host interface; "" = by expected_ips.
  std::vector<std::string> expected_ips{};
  std::vector<std::string> profiles{};
  std::vector<EndpointPort> ports{};

  bool operator==(const HostEndpointSpec&) const = default;
};

struct HostEndpoint {
  ObjectMeta metadata{};
  HostEndpointSpec spec{};

  bool operator==(const HostEndpoint&) const = default;
};

// NetworkSet and GlobalNetworkSet share their spec (nets: CIDRs or bare addresses).
struct NetworkSetSpec {
  std::vector<std::string> nets{};

  bool operator==(const NetworkSetSpec&) const = default;
};

struct NetworkSet {
  ObjectMeta metadata{};
  NetworkSetSpec spec{};

  bool operator==(const NetworkSet&) const = default;
};

struct GlobalNetworkSet {
  ObjectMeta metadata{};
  NetworkSetSpec spec{};

  bool operator==(const GlobalNetworkSet&) const = default;
};

[[nodiscard]] Result<WorkloadEndpoint> DecodeWorkloadEndpoint(const model::Resource& r);
[[nodiscard]] Result<HostEndpoint> DecodeHostEndpoint(const model::Resource& r);
[[nodiscard]] Result<NetworkSet> DecodeNetworkSet(const model::Resource& r);
[[nodiscard]] Result<GlobalNetworkSet> DecodeGlobalNetworkSet(const model::Resource& r);

}  // namespace calico::model::v3
