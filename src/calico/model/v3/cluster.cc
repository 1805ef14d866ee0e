// Decoders of the cluster-wide kinds, see cluster.h.
#include "calico/model/v3/cluster.h"

#include "calico/model/v3/decode.h"

namespace calico::model::v3 {
namespace {

Status DecodeClusterInformationSpec(const Json& j, std::string_view path,
                                    ClusterInformationSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "clusterGUID", out.cluster_guid));
  RETURN_IF_ERROR(Field(j, path, "clusterType", out.cluster_type));
  RETURN_IF_ERROR(Field(j, path, "calicoVersion", out.calico_version));
  RETURN_IF_ERROR(Field(j, path, "datastoreReady", out.datastore_ready));
  RETURN_IF_ERROR(Field(j, path, "variant", out.variant));
  return OkStatus();
}

Status DecodeReconcilerConfig(const Json& j, std::string_view path, ReconcilerConfig& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  return Field(j, path, "reconcilerPeriod", out.reconciler_period);
}

Status DecodeNodeControllerConfig(const Json& j, std::string_view path, NodeControllerConfig& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "reconcilerPeriod", out.reconciler_period));
  RETURN_IF_ERROR(Field(j, path, "syncLabels", out.sync_labels));
  if (auto it = j.find("hostEndpoint"); it != j.end() && !it->is_null()) {
    const std::string hep_path = Child(path, "hostEndpoint");
    RETURN_IF_ERROR(CheckObject(*it, hep_path));
    RETURN_IF_ERROR(Field(*it, hep_path, "autoCreate", out.host_endpoint_auto_create));
  }
  RETURN_IF_ERROR(Field(j, path, "leakGracePeriod", out.leak_grace_period));
  return OkStatus();
}

Status DecodeControllersConfig(const Json& j, std::string_view path, ControllersConfig& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "node", out.node, DecodeNodeControllerConfig));
  RETURN_IF_ERROR(Field(j, path, "policy", out.policy, DecodeReconcilerConfig));
  RETURN_IF_ERROR(
      Field(j, path, "workloadEndpoint", out.workload_endpoint, DecodeReconcilerConfig));
  RETURN_IF_ERROR(Field(j, path, "serviceAccount", out.service_account, DecodeReconcilerConfig));
  RETURN_IF_ERROR(Field(j, path, "namespace", out.namespace_, DecodeReconcilerConfig));
  return OkStatus();
}

Status DecodeKubeControllersConfigurationSpec(const Json& j, std::string_view path,
                                              KubeControllersConfigurationSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "logSeverityScreen", out.log_severity_screen));
  RETURN_IF_ERROR(Field(j, path, "healthChecks", out.health_checks));
  RETURN_IF_ERROR(Field(j, path, "etcdV3CompactionPeriod", out.etcd_v3_compaction_period));
  RETURN_IF_ERROR(Field(j, path, "prometheusMetricsPort", out.prometheus_metrics_port));
  RETURN_IF_ERROR(Field(j, path, "controllers", out.controllers, DecodeControllersConfig));
  RETURN_IF_ERROR(Field(j, path, "debugProfilePort", out.debug_profile_port));
  return OkStatus();
}

}  // namespace

Result<ClusterInformation> DecodeClusterInformation(const model::Resource& r) {
  return DecodeResource<ClusterInformation>(r, "ClusterInformation", DecodeClusterInformationSpec);
}

Result<KubeControllersConfiguration> DecodeKubeControllersConfiguration(const model::Resource& r) {
  return DecodeResource<KubeControllersConfiguration>(r, "KubeControllersConfiguration",
                                                      DecodeKubeControllersConfigurationSpec);
}

}  // namespace calico::model::v3
