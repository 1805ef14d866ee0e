#include "calico/agent/field_support.h"

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/model/validation/infra_schema.h"

namespace calico::agent {

const std::vector<FieldSupport>& FieldSupportTable() {
  // clang-format off
  static const std::vector<FieldSupport> table = {
      {"FelixConfiguration", "allowIPIPPacketsFromWorkloads", FieldSupport::kHonoured, "true: IPIP packets sent by workloads are not dropped (default: dropped)"},
      {"FelixConfiguration", "allowVXLANPacketsFromWorkloads", FieldSupport::kHonoured, "true: VXLAN packets (UDP vxlanPort) sent by workloads are not dropped (default: dropped)"},
      {"FelixConfiguration", "awsSrcDstCheck", FieldSupport::kNot, "no AWS integration in this build"},
      {"FelixConfiguration", "bpfAttachType", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfConnectTimeLoadBalancing", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfConnectTimeLoadBalancingEnabled", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfConntrackLogLevel", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfConntrackMode", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfConntrackTimeouts", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfCTLBLogFilter", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfDataIfacePattern", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfDisableGROForIfaces", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfDisableUnprivileged", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfDSROptoutCIDRs", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfEnabled", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfEnforceRPF", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfExcludeCIDRsFromNAT", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfExportBufferSizeMB", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfExternalServiceMode", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfExtToServiceConnmark", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfForceTrackPacketsFromIfaces", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfHostConntrackBypass", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfHostNetworkedNATWithoutCTLB", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfIPFragmentReassemblyEnabled", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfIPFragTimeout", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfJITHardening", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfKubeProxyHealthzPort", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfKubeProxyIptablesCleanupEnabled", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfKubeProxyMinSyncPeriod", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfL3IfacePattern", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfLogFilters", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfLogLevel", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfMaglevMaxEndpointsPerService", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfMaglevMaxServices", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfMapSizeConntrack", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfMapSizeConntrackCleanupQueue", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfMapSizeConntrackScaling", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfMapSizeIfState", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfMapSizeIPSets", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfMapSizeNATAffinity", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfMapSizeNATBackend", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfMapSizeNATFrontend", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfMapSizePerCpuConntrack", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfMapSizeRoute", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfOverlayHostSourceIP", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfPolicyDebugEnabled", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfProfiling", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfPSNATPorts", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "bpfRedirectToPeer", FieldSupport::kNot, "eBPF dataplane: not part of this build (nftables only)"},
      {"FelixConfiguration", "cgroupV2Path", FieldSupport::kNot, "eBPF dataplane only; not part of this build"},
      {"FelixConfiguration", "chainInsertMode", FieldSupport::kNot, "policy lives in its own nftables table (inet calico): there is no chain to insert into"},
      {"FelixConfiguration", "dataplaneDriver", FieldSupport::kNot, "the nftables dataplane is built in; no external dataplane driver"},
      {"FelixConfiguration", "dataplaneWatchdogTimeout", FieldSupport::kHonoured, "the timeout of the InternalDataplaneMainLoop health reporter (90 s; at least 20 s, as Felix), read at start-up (a change is logged and applies at restart); superseded upstream by healthTimeoutOverrides, which wins and applies at once"},
      {"FelixConfiguration", "debugDisableLogDropping", FieldSupport::kNot, "Felix debug hooks are not implemented"},
      {"FelixConfiguration", "debugHost", FieldSupport::kNot, "Felix debug hooks are not implemented"},
      {"FelixConfiguration", "debugMemoryProfilePath", FieldSupport::kNot, "Felix debug hooks are not implemented"},
      {"FelixConfiguration", "debugPort", FieldSupport::kNot, "Felix debug hooks are not implemented"},
      {"FelixConfiguration", "debugSimulateCalcGraphHangAfter", FieldSupport::kNot, "Felix debug hooks are not implemented"},
      {"FelixConfiguration", "debugSimulateDataplaneApplyDelay", FieldSupport::kNot, "Felix debug hooks are not implemented"},
      {"FelixConfiguration", "debugSimulateDataplaneHangAfter", FieldSupport::kNot, "Felix debug hooks are not implemented"},
      {"FelixConfiguration", "defaultEndpointToHostAction", FieldSupport::kHonoured, "Drop, Return or Accept at the end of cali-wl-to-host"},
      {"FelixConfiguration", "deviceRouteProtocol", FieldSupport::kNot, "workload routes use a fixed route protocol"},
      {"FelixConfiguration", "deviceRouteSourceAddress", FieldSupport::kHonoured, "source address (src) of the routes to workloads"},
      {"FelixConfiguration", "deviceRouteSourceAddressIPv6", FieldSupport::kHonoured, "source address (src) of the IPv6 routes to workloads"},
      {"FelixConfiguration", "disableConntrackInvalidCheck", FieldSupport::kHonoured, "true: conntrack INVALID packets are not dropped"},
      {"FelixConfiguration", "endpointReportingDelay", FieldSupport::kNot, "no endpoint status reports"},
      {"FelixConfiguration", "endpointReportingEnabled", FieldSupport::kNot, "no endpoint status reports"},
      {"FelixConfiguration", "endpointStatusPathPrefix", FieldSupport::kNot, "no endpoint status files"},
      {"FelixConfiguration", "externalNodesList", FieldSupport::kNot, "no external (non-Calico) nodes support"},
      {"FelixConfiguration", "failsafeInboundHostPorts", FieldSupport::kHonoured, "host endpoint failsafe ports"},
      {"FelixConfiguration", "failsafeOutboundHostPorts", FieldSupport::kHonoured, "host endpoint failsafe ports"},
      {"FelixConfiguration", "featureDetectOverride", FieldSupport::kNot, "no kernel feature detection overrides: nftables features are fixed"},
      {"FelixConfiguration", "featureGates", FieldSupport::kNot, "no feature gates in this build"},
      {"FelixConfiguration", "floatingIPs", FieldSupport::kNot, "OpenStack floating IPs are not implemented"},
      {"FelixConfiguration", "flowLogsCollectorDebugTrace", FieldSupport::kHonoured, "true: each flow record is logged at debug level before it is sent (read at start-up)"},
      {"FelixConfiguration", "flowLogsFlushInterval", FieldSupport::kHonoured, "the collector's aggregation interval (default 300s; read at start-up)"},
      {"FelixConfiguration", "flowLogsGoldmaneServer", FieldSupport::kPartly, "host:port or http://host:port of calico-flows: turns flow logs on (NFLOG verdicts, conntrack counters, records POSTed as NDJSON; no TLS/gRPC; read at start-up)"},
      {"FelixConfiguration", "flowLogsLocalReporter", FieldSupport::kNot, "no local flow-log reporter: records go to flowLogsGoldmaneServer only"},
      {"FelixConfiguration", "flowLogsPolicyEvaluationMode", FieldSupport::kHonoured, "validated and read at start-up: Continuous (default) gives every flow record the staged policies' pending trace (pendingPolicies) for its local workload; None repeats the enforced trace; the staged policies are evaluated beside the enforced ones in their tier's order, stagedAction Delete without effect (as upstream)"},
      {"FelixConfiguration", "genericXDPEnabled", FieldSupport::kNot, "no XDP acceleration"},
      {"FelixConfiguration", "goGCThreshold", FieldSupport::kNot, "Go runtime setting; this build is not a Go program"},
      {"FelixConfiguration", "goMaxProcs", FieldSupport::kNot, "Go runtime setting; this build is not a Go program"},
      {"FelixConfiguration", "goMemoryLimitMB", FieldSupport::kNot, "Go runtime setting; this build is not a Go program"},
      {"FelixConfiguration", "healthEnabled", FieldSupport::kHonoured, "Felix health endpoint (calico-node turns it on by default)"},
      {"FelixConfiguration", "healthHost", FieldSupport::kHonoured, "address of the health endpoint"},
      {"FelixConfiguration", "healthPort", FieldSupport::kHonoured, "port of the health endpoint"},
      {"FelixConfiguration", "healthTimeoutOverrides", FieldSupport::kHonoured, "per-reporter timeouts of the health aggregator (FelixStartup, CalculationGraph, InternalDataplaneMainLoop, as Felix names them; 0 = never times out), applied while running; a name no reporter has is logged"},
      {"FelixConfiguration", "interfaceExclude", FieldSupport::kNot, "interfaces are not excluded from host endpoint matching"},
      {"FelixConfiguration", "interfacePrefix", FieldSupport::kHonoured, "workload interface prefixes (comma-separated)"},
      {"FelixConfiguration", "interfaceRefreshInterval", FieldSupport::kNot, "interfaces are not polled; host endpoint bindings are re-checked at each resync"},
      {"FelixConfiguration", "ipForwarding", FieldSupport::kNot, "calico-node does not change the kernel forwarding sysctls"},
      {"FelixConfiguration", "ipipEnabled", FieldSupport::kPartly, "counts (true) or not (false) IPIP's overhead in the detected MTU (unset: the pools decide); the tunnel follows the IP pools' ipipMode"},
      {"FelixConfiguration", "ipipMTU", FieldSupport::kNot, "the tunl0 MTU is not set"},
      {"FelixConfiguration", "ipsetsRefreshInterval", FieldSupport::kNot, "IP sets are sets of the calico nftables table, checked with it at each resync"},
      {"FelixConfiguration", "iptablesBackend", FieldSupport::kNot, "this build programs nftables, not iptables"},
      {"FelixConfiguration", "iptablesFilterAllowAction", FieldSupport::kNot, "Allow always returns with the accept mark"},
      {"FelixConfiguration", "iptablesFilterDenyAction", FieldSupport::kHonoured, "Drop or Reject for Deny rules and every filter drop (nftablesFilterDenyAction wins when both are set)"},
      {"FelixConfiguration", "iptablesLockProbeInterval", FieldSupport::kNot, "this build programs nftables, not iptables"},
      {"FelixConfiguration", "iptablesMangleAllowAction", FieldSupport::kNot, "Allow always returns with the accept mark"},
      {"FelixConfiguration", "iptablesMarkMask", FieldSupport::kNot, "the accept/pass marks are fixed (0x10000, 0x20000)"},
      {"FelixConfiguration", "iptablesNATOutgoingInterfaceFilter", FieldSupport::kNot, "natOutgoing is not restricted to an interface"},
      {"FelixConfiguration", "iptablesPostWriteCheckInterval", FieldSupport::kNot, "this build programs nftables, not iptables"},
      {"FelixConfiguration", "iptablesRefreshInterval", FieldSupport::kHonoured, "interval of the nftables table check when nftablesRefreshInterval is not set"},
      {"FelixConfiguration", "ipv4ElevatedRoutePriority", FieldSupport::kNot, "routes use the kernel default priority"},
      {"FelixConfiguration", "ipv4NormalRoutePriority", FieldSupport::kNot, "routes use the kernel default priority"},
      {"FelixConfiguration", "ipv6ElevatedRoutePriority", FieldSupport::kNot, "routes use the kernel default priority"},
      {"FelixConfiguration", "ipv6NormalRoutePriority", FieldSupport::kNot, "routes use the kernel default priority"},
      {"FelixConfiguration", "ipv6Support", FieldSupport::kHonoured, "false: as Felix without its IPv6 tables, IPv6 traffic is not policed (every base chain of the inet table accepts it first), IPv6 routes and interface settings are left alone"},
      {"FelixConfiguration", "istioAmbientMode", FieldSupport::kNot, "no Istio integration"},
      {"FelixConfiguration", "istioDSCPMark", FieldSupport::kNot, "no Istio integration"},
      {"FelixConfiguration", "kubeNodePortRanges", FieldSupport::kNot, "no kube-proxy integration"},
      {"FelixConfiguration", "liveMigrationRouteConvergenceTime", FieldSupport::kNot, "no KubeVirt live migration support"},
      {"FelixConfiguration", "localSubnetL2Reachability", FieldSupport::kNot, "not implemented"},
      {"FelixConfiguration", "localSubnetL2ReachabilityRefreshInterval", FieldSupport::kNot, "not implemented"},
      {"FelixConfiguration", "logActionRateLimit", FieldSupport::kNot, "Log rules are not rate-limited"},
      {"FelixConfiguration", "logActionRateLimitBurst", FieldSupport::kNot, "Log rules are not rate-limited"},
      {"FelixConfiguration", "logDebugFilenameRegex", FieldSupport::kNot, "no per-file debug filter"},
      {"FelixConfiguration", "logFilePath", FieldSupport::kHonoured, "calico-node also logs to this file (opened at start-up: a change applies at restart); default none, as calico-node's felix.cfg"},
      {"FelixConfiguration", "logPrefix", FieldSupport::kHonoured, "prefix of Log rules"},
      {"FelixConfiguration", "logSeverityFile", FieldSupport::kHonoured, "log level of the log file"},
      {"FelixConfiguration", "logSeverityScreen", FieldSupport::kHonoured, "log level of calico-node (stderr)"},
      {"FelixConfiguration", "logSeveritySys", FieldSupport::kNot, "no syslog output"},
      {"FelixConfiguration", "maxIpsetSize", FieldSupport::kNot, "nftables sets have no size cap here"},
      {"FelixConfiguration", "metadataAddr", FieldSupport::kNot, "OpenStack metadata access is not implemented"},
      {"FelixConfiguration", "metadataPort", FieldSupport::kNot, "OpenStack metadata access is not implemented"},
      {"FelixConfiguration", "mtuIfacePattern", FieldSupport::kHonoured, "interfaces (up, name matching) whose smallest MTU, minus the overhead of the encapsulations in use, calico-node writes to the MTU file at start-up for the CNI plugin"},
      {"FelixConfiguration", "natOutgoingAddress", FieldSupport::kHonoured, "natOutgoing SNATs to this IPv4 address instead of masquerading"},
      {"FelixConfiguration", "natOutgoingExclusions", FieldSupport::kNot, "natOutgoing exclusions follow the IP pools only"},
      {"FelixConfiguration", "natPortRange", FieldSupport::kHonoured, "source ports of natOutgoing for TCP and UDP"},
      {"FelixConfiguration", "netlinkTimeout", FieldSupport::kNot, "netlink calls use a fixed timeout"},
      {"FelixConfiguration", "nftablesFilterAllowAction", FieldSupport::kNot, "Allow always returns with the accept mark"},
      {"FelixConfiguration", "nftablesFilterDenyAction", FieldSupport::kHonoured, "Drop or Reject for Deny rules and every filter drop (end of tier, no profile, INVALID, encapsulated, unknown interface)"},
      {"FelixConfiguration", "nftablesFlowTableDataIfacePattern", FieldSupport::kNot, "no nftables flow table offload"},
      {"FelixConfiguration", "nftablesFlowTableOffload", FieldSupport::kNot, "no nftables flow table offload"},
      {"FelixConfiguration", "nftablesMangleAllowAction", FieldSupport::kNot, "Allow always returns with the accept mark"},
      {"FelixConfiguration", "nftablesMarkMask", FieldSupport::kNot, "the accept/pass marks are fixed (0x10000, 0x20000)"},
      {"FelixConfiguration", "nftablesMode", FieldSupport::kNot, "this build always programs nftables"},
      {"FelixConfiguration", "nftablesRefreshInterval", FieldSupport::kHonoured, "how often the calico nftables table is checked and repaired (0 = never)"},
      {"FelixConfiguration", "nodeSelector", FieldSupport::kNot, "not implemented"},
      {"FelixConfiguration", "openstackRegion", FieldSupport::kNot, "no OpenStack integration"},
      {"FelixConfiguration", "policySyncPathPrefix", FieldSupport::kNot, "no policy sync API (Dikastes/L7 proxy)"},
      {"FelixConfiguration", "programClusterRoutes", FieldSupport::kNot, "cluster routes follow the networking backend (BIRD or VXLAN)"},
      {"FelixConfiguration", "prometheusGoMetricsEnabled", FieldSupport::kNot, "only the agent's own metrics are exported"},
      {"FelixConfiguration", "prometheusMetricsCAFile", FieldSupport::kNot, "metrics are served over plain HTTP only"},
      {"FelixConfiguration", "prometheusMetricsCertFile", FieldSupport::kNot, "metrics are served over plain HTTP only"},
      {"FelixConfiguration", "prometheusMetricsClientAuth", FieldSupport::kNot, "metrics are served over plain HTTP only"},
      {"FelixConfiguration", "prometheusMetricsEnabled", FieldSupport::kHonoured, "Prometheus metrics endpoint"},
      {"FelixConfiguration", "prometheusMetricsHost", FieldSupport::kHonoured, "address of the metrics endpoint"},
      {"FelixConfiguration", "prometheusMetricsKeyFile", FieldSupport::kNot, "metrics are served over plain HTTP only"},
      {"FelixConfiguration", "prometheusMetricsPort", FieldSupport::kHonoured, "port of the metrics endpoint"},
      {"FelixConfiguration", "prometheusProcessMetricsEnabled", FieldSupport::kNot, "only the agent's own metrics are exported"},
      {"FelixConfiguration", "prometheusWireGuardMetricsEnabled", FieldSupport::kNot, "no WireGuard"},
      {"FelixConfiguration", "removeExternalRoutes", FieldSupport::kHonoured, "routes through workload interfaces the agent did not make are removed (after a 10 s grace)"},
      {"FelixConfiguration", "reportingInterval", FieldSupport::kHonoured, "calico-node's status reports to the datastore (the first 10 s after start, then every interval; 0 = off, which calico-node's start-up writes into the default FelixConfiguration as upstream's), applied while running"},
      {"FelixConfiguration", "reportingTTL", FieldSupport::kHonoured, "the TTL of the live status key (an etcd lease; an expiring row in the embedded store), applied while running"},
      {"FelixConfiguration", "requireMTUFile", FieldSupport::kNot, "calico-node writes the MTU file at start-up and logs a failure to write it; it never stops for one (the CNI plugin's require_mtu_file is honoured)"},
      {"FelixConfiguration", "routeRefreshInterval", FieldSupport::kHonoured, "how often routes, workload interfaces and the overlays are checked and repaired (0 = never)"},
      {"FelixConfiguration", "routeSource", FieldSupport::kNot, "routes always follow IPAM block affinities (CalicoIPAM)"},
      {"FelixConfiguration", "routeSyncDisabled", FieldSupport::kNot, "routes are always programmed"},
      {"FelixConfiguration", "routeTableRange", FieldSupport::kNot, "routes go to the main table"},
      {"FelixConfiguration", "routeTableRanges", FieldSupport::kNot, "routes go to the main table"},
      {"FelixConfiguration", "serviceLoopPrevention", FieldSupport::kNot, "no service CIDR loop prevention rules"},
      {"FelixConfiguration", "sidecarAccelerationEnabled", FieldSupport::kNot, "no sidecar acceleration"},
      {"FelixConfiguration", "usageReportingEnabled", FieldSupport::kNot, "no usage reporting (this build never reports usage)"},
      {"FelixConfiguration", "usageReportingInitialDelay", FieldSupport::kNot, "no usage reporting (this build never reports usage)"},
      {"FelixConfiguration", "usageReportingInterval", FieldSupport::kNot, "no usage reporting (this build never reports usage)"},
      {"FelixConfiguration", "useInternalDataplaneDriver", FieldSupport::kNot, "the nftables dataplane is built in; no external dataplane driver"},
      {"FelixConfiguration", "vxlanEnabled", FieldSupport::kHonoured, "false keeps VXLAN off whatever the pools say; true turns it on without a VXLAN pool (vxlan.calico and the remote VTEPs, once the node has a VXLAN tunnel address); unset: the pools' vxlanMode decide"},
      {"FelixConfiguration", "vxlanMTU", FieldSupport::kHonoured, "MTU of vxlan.calico (0: the parent's MTU - 50)"},
      {"FelixConfiguration", "vxlanMTUV6", FieldSupport::kNot, "no IPv6 VXLAN device"},
      {"FelixConfiguration", "vxlanPort", FieldSupport::kHonoured, "UDP port of vxlan.calico and of the rule that drops VXLAN sent by workloads"},
      {"FelixConfiguration", "vxlanVNI", FieldSupport::kHonoured, "VNI of vxlan.calico"},
      {"FelixConfiguration", "windowsManageFirewallRules", FieldSupport::kNot, "Windows only"},
      {"FelixConfiguration", "wireguardEnabled", FieldSupport::kNot, "WireGuard encryption is not implemented"},
      {"FelixConfiguration", "wireguardEnabledV6", FieldSupport::kNot, "WireGuard encryption is not implemented"},
      {"FelixConfiguration", "wireguardHostEncryptionEnabled", FieldSupport::kNot, "WireGuard encryption is not implemented"},
      {"FelixConfiguration", "wireguardInterfaceName", FieldSupport::kNot, "WireGuard encryption is not implemented"},
      {"FelixConfiguration", "wireguardInterfaceNameV6", FieldSupport::kNot, "WireGuard encryption is not implemented"},
      {"FelixConfiguration", "wireguardKeepAlive", FieldSupport::kNot, "WireGuard encryption is not implemented"},
      {"FelixConfiguration", "wireguardListeningPort", FieldSupport::kNot, "WireGuard encryption is not implemented"},
      {"FelixConfiguration", "wireguardListeningPortV6", FieldSupport::kNot, "WireGuard encryption is not implemented"},
      {"FelixConfiguration", "wireguardMTU", FieldSupport::kNot, "WireGuard encryption is not implemented"},
      {"FelixConfiguration", "wireguardMTUV6", FieldSupport::kNot, "WireGuard encryption is not implemented"},
      {"FelixConfiguration", "wireguardRoutingRulePriority", FieldSupport::kNot, "WireGuard encryption is not implemented"},
      {"FelixConfiguration", "wireguardThreadingEnabled", FieldSupport::kNot, "WireGuard encryption is not implemented"},
      {"FelixConfiguration", "workloadSourceSpoofing", FieldSupport::kHonoured, "Any: a WorkloadEndpoint's allowSpoofedSourcePrefixes (pod annotation cni.projectcalico.org/allowedSourcePrefixes) are exempt from the reverse-path check of workload sources; Disabled (default): such an endpoint is refused (not programmed, its traffic drops, reported)"},
      {"FelixConfiguration", "xdpEnabled", FieldSupport::kNot, "no XDP acceleration"},
      {"FelixConfiguration", "xdpRefreshInterval", FieldSupport::kNot, "no XDP acceleration"},
      {"Node", "bgp", FieldSupport::kHonoured, "BGP address, AS number and route reflector cluster ID: BIRD configuration"},
      {"Node", "ipv4VXLANTunnelAddr", FieldSupport::kHonoured, "address of vxlan.calico; allocated by calico-node"},
      {"Node", "vxlanTunnelMACAddr", FieldSupport::kHonoured, "MAC of vxlan.calico in other nodes' FDB"},
      {"Node", "ipv6VXLANTunnelAddr", FieldSupport::kNot, "no IPv6 VXLAN"},
      {"Node", "vxlanTunnelMACAddrV6", FieldSupport::kNot, "no IPv6 VXLAN"},
      {"Node", "bgp.ipv4IPIPTunnelAddr", FieldSupport::kPartly, "allocated by calico-node from the IPIP pools (node/pkg/allocateip); not configured on tunl0 (no ipip kernel module where this build is tested)"},
      {"Node", "wireguard", FieldSupport::kNot, "WireGuard encryption is not implemented"},
  };
  // clang-format on
  return table;
}

namespace {

// The value at a dotted path under `spec`, or null.
const model::Json* Find(const model::Json& spec, std::string_view path) {
  const model::Json* at = &spec;
  for (const std::string& part : StrSplit(path, '.', true)) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(part);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

// The CRD default of a top-level spec field (the client and the API server fill these in on every
// resource, so they are not what a user chose), or null.
const model::Json* SchemaDefault(std::string_view kind, std::string_view field) {
  const model::Json* schema = model::validation::InfraSchema(kind);
  if (schema == nullptr || field.find('.') != std::string_view::npos) return nullptr;
  auto spec = schema->find("spec");
  if (spec == schema->end() || !spec->is_object()) return nullptr;
  auto props = spec->find("p");
  if (props == spec->end() || !props->is_object()) return nullptr;
  auto f = props->find(std::string(field));
  if (f == props->end() || !f->is_object()) return nullptr;
  auto def = f->find("def");
  return def == f->end() ? nullptr : &*def;
}

}  // namespace

std::vector<std::string> NotActedOn(const model::Resource& r) {
  std::vector<std::string> out;
  const model::Json& spec = r.spec();
  if (!spec.is_object()) return out;
  for (const FieldSupport& f : FieldSupportTable()) {
    if (f.kind != r.kind() || f.support != FieldSupport::kNot) continue;
    const model::Json* v = Find(spec, f.field);
    if (v == nullptr || v->is_null()) continue;
    if (const model::Json* def = SchemaDefault(f.kind, f.field); def != nullptr && *def == *v) {
      continue;
    }
    out.emplace_back(f.field);
  }
  return out;
}

std::string NotActedOnLine(const model::Resource& r, const std::vector<std::string>& fields) {
  if (fields.empty()) return "";
  std::vector<std::string> named;
  named.reserve(fields.size());
  for (const std::string& f : fields) {
    named.push_back(fmt::format("{}({}).spec.{}", r.kind(), r.name(), f));
  }
  return "accepted, not acted on by this build: " + StrJoin(named, ", ");
}

}  // namespace calico::agent
