// The agent's configuration as Felix reads it: FelixConfiguration "default", then
// "node.<nodename>", then FELIX_* environment variables (highest), for the settings this agent
// implements. Unknown or unsupported settings are ignored as Felix ignores them.
// Refresh: routeRefreshInterval (90s) and nftablesRefreshInterval (180s; iptablesRefreshInterval
// when only that is set), each separately, 0 = never. The deny action (nftablesFilterDenyAction,
// else iptablesFilterDenyAction: Drop or Reject), logPrefix, disableConntrackInvalidCheck,
// allowVXLANPacketsFromWorkloads, allowIPIPPacketsFromWorkloads, workloadSourceSpoofing (Disabled
// or Any) into AgentConfig::render; ipv6Support into AgentConfig::render and ::routes;
// natOutgoingAddress and natPortRange into AgentConfig::nat; removeExternalRoutes and
// deviceRouteSourceAddress(IPv6) into AgentConfig::routes. healthTimeoutOverrides ([{name,
// timeout}]) / FELIX_HEALTHTIMEOUTOVERRIDES ("name=5s,...", Felix's keydurationlist; the highest
// source that sets it gives the whole list) and dataplaneWatchdogTimeout /
// FELIX_DATAPLANEWATCHDOGTIMEOUT into AgentConfig (health.h).
// Failsafe ports: failsafeInboundHostPorts / failsafeOutboundHostPorts ([{protocol, port, net}])
// or FELIX_FAILSAFEINBOUNDHOSTPORTS / FELIX_FAILSAFEOUTBOUNDHOSTPORTS ("tcp:22,udp:68,
// tcp:10.0.0.0/8:2379", "none" = no ports) into AgentConfig::render; Calico's defaults otherwise.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "calico/agent/agent.h"
#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::agent {

// FelixConfiguration's flow-log fields (felix/config/config_params.go FlowLogs*).
struct FlowLogSettings {
  std::string goldmane_server{};                     // flowLogsGoldmaneServer: "" = flow logs off.
  std::chrono::milliseconds flush_interval{300000};  // flowLogsFlushInterval (Felix: 300s).
  bool evaluate_pending = true;  // flowLogsPolicyEvaluationMode: Continuous (true) or None.
  bool debug_trace = false;      // flowLogsCollectorDebugTrace: log each NFLOG message.
  bool operator==(const FlowLogSettings&) const = default;
};

struct FelixSettings {
  AgentConfig agent;
  bool health_enabled = true;  // calico-node turns Felix's health on
  std::string health_host = "localhost";
  int health_port = 9099;
  bool prometheus_enabled = false;
  std::string prometheus_host;  // "" = every address (IPv6 and IPv4), as upstream
  int prometheus_port = 9091;
  std::string log_severity = "info";
  // logFilePath: "" (calico-node's default, as its felix.cfg "None") or "none" = no file.
  std::string log_file_path;
  std::string log_severity_file = "info";
  // MTU auto-detection (agent/mtu.h): mtuIfacePattern / FELIX_MTUIFACEPATTERN, and ipipEnabled /
  // FELIX_IPIPENABLED (unset: the IP pools decide, as agent.vxlan_enabled for VXLAN).
  std::string mtu_iface_pattern = "^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)";
  std::optional<bool> ipip_enabled{};
  FlowLogSettings flow_logs{};
  // reportingInterval / FELIX_REPORTINGINTERVALSECS (Felix: 30 s; 0 = no status reports) and
  // reportingTTL / FELIX_REPORTINGTTLSECS (90 s): calico-node's status reports (node/
  // status_report.h). calico-node's start-up writes reportingInterval 0s into the default
  // FelixConfiguration, as upstream's, so reports are off unless a user sets it (or the env).
  std::chrono::milliseconds reporting_interval{30000};
  std::chrono::milliseconds reporting_ttl{90000};
  // As read; LoadFelixSettings makes agent.policy_refresh_interval of them (nftables wins).
  std::optional<std::chrono::milliseconds> iptables_refresh{};
  std::optional<std::chrono::milliseconds> nftables_refresh{};
};

// `global` and `per_node` are the FelixConfiguration resources (either may be empty). Errors
// (kInvalidArgument) name the setting: "FELIX_HEALTHPORT: not a port number: \"x\"".
[[nodiscard]] Result<FelixSettings> LoadFelixSettings(const std::map<std::string, std::string>& env,
                                                      const std::string& node_name,
                                                      const model::Resource* global,
                                                      const model::Resource* per_node);

// "90s", "1m30s", "250ms", or plain seconds "90". Errors for anything else.
[[nodiscard]] Result<std::chrono::milliseconds> ParseGoDuration(std::string_view text);
// Go's time.ParseDuration: "5m0s", "1.5s", "10ns", "250us"/"250µs", "0" (a unit is required
// otherwise); not negative. Errors for anything else.
[[nodiscard]] Result<std::chrono::nanoseconds> ParseGoDurationNs(std::string_view text);
// Felix's keydurationlist ("name=5s,other=1m"; felix/stringutils ParseKeyDurationList): names
// trimmed, empty items skipped. Errors name the bad item.
[[nodiscard]] Result<std::map<std::string, std::chrono::nanoseconds>> ParseKeyDurationList(
    std::string_view text);

}  // namespace calico::agent
