// The typed FelixConfiguration kind (api/pkg/apis/projectcalico/v3/felixconfig.go), for the
// settings this agent implements (agent/config.h); Felix has many more, which are ignored here
// as Go ignores fields it does not know. Conventions: common.h.
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

// ProtoPort: one failsafe port. The agent checks the values (protocol TCP/UDP/SCTP, port
// range, net) so that its errors name the setting.
struct ProtoPort {
  std::optional<std::string> protocol{};  // TCP when absent.
  std::optional<int64_t> port{};
  std::string net{};  // "" = any address.

  bool operator==(const ProtoPort&) const = default;
};

// failsafeInboundHostPorts / failsafeOutboundHostPorts: Calico's list of ProtoPorts, or (an
// extension this agent accepts) the FELIX_* environment form "tcp:22,udp:68".
struct ProtoPorts {
  std::optional<std::string> text{};  // Set for the string form.
  std::vector<ProtoPort> ports{};     // The list form.

  bool operator==(const ProtoPorts&) const = default;
};

struct FelixConfigurationSpec {
  std::optional<bool> health_enabled{};
  std::optional<std::string> health_host{};
  std::optional<int64_t> health_port{};
  std::optional<bool> prometheus_metrics_enabled{};
  std::optional<std::string> prometheus_metrics_host{};
  std::optional<int64_t> prometheus_metrics_port{};
  std::optional<std::string> iptables_refresh_interval{};  // metav1.Duration text, "90s".
  std::optional<std::string> route_refresh_interval{};
  std::optional<std::string> default_endpoint_to_host_action{};  // Drop, Accept, Return.
  std::optional<std::string> interface_prefix{};                 // "cali" or "cali,tap".
  std::optional<std::string> log_severity_screen{};
  std::optional<ProtoPorts> failsafe_inbound_host_ports{};
  std::optional<ProtoPorts> failsafe_outbound_host_ports{};
  std::optional<bool> vxlan_enabled{};
  std::optional<int64_t> vxlan_port{};
  std::optional<int64_t> vxlan_vni{};
  std::optional<int64_t> vxlan_mtu{};
  std::optional<int64_t> vxlan_mtu_v6{};
  std::optional<bool> ipip_enabled{};
  std::optional<int64_t> ipip_mtu{};
  std::optional<std::string> nftables_refresh_interval{};
  std::optional<std::string> nftables_filter_deny_action{};  // Drop, Reject.
  std::optional<std::string> iptables_filter_deny_action{};
  std::optional<std::string> nat_outgoing_address{};
  std::optional<std::string> nat_port_range{};  // numorstring.Port: 8000 or "32768:65535".
  // Flow logs (felix/config/config_params.go FlowLogs*).
  std::optional<std::string> flow_logs_flush_interval{};  // Duration text, "15s".
  std::optional<std::string> flow_logs_goldmane_server{};
  std::optional<std::string> flow_logs_policy_evaluation_mode{};  // None, Continuous.
  std::optional<bool> flow_logs_collector_debug_trace{};
  std::optional<bool> remove_external_routes{};
  std::optional<std::string> device_route_source_address{};
  std::optional<std::string> device_route_source_address_ipv6{};
  std::optional<bool> disable_conntrack_invalid_check{};
  std::optional<bool> allow_vxlan_packets_from_workloads{};
  std::optional<bool> allow_ipip_packets_from_workloads{};
  std::optional<bool> ipv6_support{};
  std::optional<std::string> log_prefix{};
  std::optional<std::string> log_file_path{};
  std::optional<std::string> log_severity_file{};

  bool operator==(const FelixConfigurationSpec&) const = default;
};

struct FelixConfiguration {
  ObjectMeta metadata{};
  FelixConfigurationSpec spec{};

  bool operator==(const FelixConfiguration&) const = default;
};

[[nodiscard]] Result<FelixConfiguration> DecodeFelixConfiguration(const model::Resource& r);

}  // namespace calico::model::v3
