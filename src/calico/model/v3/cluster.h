// Typed cluster-wide kinds (api/pkg/apis/projectcalico/v3: clusterinfo.go,
// kubecontrollersconfig.go). Conventions: common.h.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "calico/base/result.h"
#include "calico/model/resource.h"
#include "calico/model/v3/common.h"

namespace calico::model::v3 {

struct ClusterInformationSpec {
  std::string cluster_guid{};
  std::string cluster_type{};
  std::string calico_version{};
  std::optional<bool> datastore_ready{};
  std::string variant{};

  bool operator==(const ClusterInformationSpec&) const = default;
};

struct ClusterInformation {
  ObjectMeta metadata{};
  ClusterInformationSpec spec{};

  bool operator==(const ClusterInformation&) const = default;
};

// The controllers' settings (durations as metav1.Duration text, "5m").
struct NodeControllerConfig {
  std::string reconciler_period{};
  std::string sync_labels{};                // "Enabled" / "Disabled".
  std::string host_endpoint_auto_create{};  // hostEndpoint.autoCreate: "Enabled" / "Disabled".
  std::string leak_grace_period{};

  bool operator==(const NodeControllerConfig&) const = default;
};

struct ReconcilerConfig {
  std::string reconciler_period{};

  bool operator==(const ReconcilerConfig&) const = default;
};

struct ControllersConfig {
  std::optional<NodeControllerConfig> node{};
  std::optional<ReconcilerConfig> policy{};
  std::optional<ReconcilerConfig> workload_endpoint{};
  std::optional<ReconcilerConfig> service_account{};
  std::optional<ReconcilerConfig> namespace_{};

  bool operator==(const ControllersConfig&) const = default;
};

struct KubeControllersConfigurationSpec {
  std::string log_severity_screen{};
  std::string health_checks{};  // "Enabled" / "Disabled".
  std::string etcd_v3_compaction_period{};
  std::optional<int64_t> prometheus_metrics_port{};
  ControllersConfig controllers{};
  std::optional<int64_t> debug_profile_port{};

  bool operator==(const KubeControllersConfigurationSpec&) const = default;
};

struct KubeControllersConfiguration {
  ObjectMeta metadata{};
  KubeControllersConfigurationSpec spec{};

  bool operator==(const KubeControllersConfiguration&) const = default;
};

[[nodiscard]] Result<ClusterInformation> DecodeClusterInformation(const model::Resource& r);
[[nodiscard]] Result<KubeControllersConfiguration> DecodeKubeControllersConfiguration(
    const model::Resource& r);

}  // namespace calico::model::v3
