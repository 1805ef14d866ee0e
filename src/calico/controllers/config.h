// calico-controllers' running configuration: KubeControllersConfiguration "default" merged with
// kube-controllers' environment variables, as kube-controllers/pkg/config/runconfig.go does
// (mergeConfig): a controller runs when its section is present in spec.controllers (or when
// ENABLED_CONTROLLERS names it), with its reconcilerPeriod (RECONCILER_PERIOD overrides the
// policy, namespace, workloadEndpoint and serviceAccount periods) and for the node controller
// leakGracePeriod (15m; 0 turns IP garbage collection off); prometheusMetricsPort (9094, 0 = off);
// logSeverityScreen (LOG_LEVEL wins). The resource is created with upstream's defaults when it is
// missing (getOrCreateSnapshot).
//
// What each controller does here (docs/COMPATIBILITY.md):
//   policy:            NetworkPolicy -> knp.default.*, admin policies -> kanp/kbanp
//   namespace:         Namespace -> kns.* Profile
//   node:              IPAM garbage collection, clean-up after deleted (or silent, opt-in) nodes
//   workloadendpoint:  removes WorkloadEndpoints whose host interface is gone
//   serviceaccount, loadbalancer: accepted, nothing to do without a Kubernetes API server
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::controllers {

using Duration = std::chrono::milliseconds;
inline constexpr Duration kDefaultReconcilerPeriod{std::chrono::minutes(5)};
inline constexpr Duration kDefaultLeakGracePeriod{std::chrono::minutes(15)};
inline constexpr int kDefaultMetricsPort = 9094;

struct GenericControllerConfig {
  Duration reconciler_period = kDefaultReconcilerPeriod;
  bool operator==(const GenericControllerConfig&) const = default;
};

struct NodeControllerConfig {
  Duration leak_grace_period = kDefaultLeakGracePeriod;  // 0 = no IP garbage collection
  bool operator==(const NodeControllerConfig&) const = default;
};

struct RunConfig {
  std::optional<GenericControllerConfig> policy;
  std::optional<GenericControllerConfig> namespace_;
  std::optional<GenericControllerConfig> workload_endpoint;
  std::optional<GenericControllerConfig> service_account;
  std::optional<NodeControllerConfig> node;
  bool load_balancer = false;
  int prometheus_metrics_port = kDefaultMetricsPort;
  std::string log_severity = "Info";
  bool health_enabled = true;
  bool operator==(const RunConfig&) const = default;
};

// The KubeControllersConfiguration kube-controllers creates when there is none
// (NewDefaultKubeControllersConfig).
model::Resource DefaultKubeControllersConfiguration();

// Merges `kcc` (KubeControllersConfiguration "default") with the environment (LOG_LEVEL,
// RECONCILER_PERIOD, ENABLED_CONTROLLERS, HEALTH_ENABLED). Errors (kInvalidArgument) name the
// variable or field: "ENABLED_CONTROLLERS: invalid controller \"foo\"".
[[nodiscard]] Result<RunConfig> MergeConfig(const std::map<std::string, std::string>& env,
                                            const model::Resource& kcc);

// status {runningConfig, environmentVars} as kube-controllers writes it back.
model::Json RunningConfigStatus(const RunConfig& config,
                                const std::map<std::string, std::string>& env);

// Go duration text: "5m", "1m30s", "250ms", "0". Errors name the text.
[[nodiscard]] Result<Duration> ParseDuration(std::string_view text);
// The Go form of a duration ("5m0s", "15s", "0s").
std::string FormatDuration(Duration d);

}  // namespace calico::controllers
