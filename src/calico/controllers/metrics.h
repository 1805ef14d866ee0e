// What calico-controllers did, as Prometheus metrics (kube-controllers' names where it has them:
// ipam_allocations_in_use, ipam_allocations_gc_candidates, ipam_allocations_gc_reclamations and
// ipam_blocks, per node; the rest prefixed calico_controllers_), and the HTTP endpoint serving
// them (/metrics on KubeControllersConfiguration prometheusMetricsPort, 9094 by default).
//
//   calico_controllers_is_leader                          1 while this instance holds the lease
//   calico_controllers_leader_transitions_total           times this instance became leader
//   calico_controllers_writes_total{controller,kind,op}   resources created/updated/deleted
//   calico_controllers_conversion_errors_total{kind}      rules dropped by the converters
//   calico_controllers_workloadendpoints_removed_total    endpoints whose host interface was gone
//   calico_controllers_nodes_cleaned_total{reason}        deleted | not-reporting
//   calico_controllers_sync_errors_total{controller}      failed passes (retried)
//   calico_controllers_syncs_total{controller}            completed passes
//
// Thread-safety: thread-safe (one mutex); Render may run on the HTTP thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>

#include "calico/base/result.h"

namespace httplib {
class Server;
}

namespace calico::controllers {

class ControllerMetrics {
 public:
  void SetLeader(bool leader);
  void AddWrite(std::string_view controller, std::string_view kind, std::string_view op);
  void AddConversionErrors(std::string_view kind, int n);
  void AddWorkloadEndpointsRemoved(int n);
  void AddNodeCleaned(std::string_view reason);
  void AddSyncError(std::string_view controller);
  void AddSync(std::string_view controller);
  // Per-node IPAM figures of the last GC pass (replacing the previous pass's).
  void SetIpamFigures(const std::map<std::string, int>& in_use,
                      const std::map<std::string, int>& candidates,
                      const std::map<std::string, int>& blocks);
  void AddIpamReclaimed(std::string_view node, int n);

  bool leader() const;
  uint64_t writes(std::string_view controller) const;
  uint64_t reclaimed_total() const;
  uint64_t workloadendpoints_removed() const;
  uint64_t nodes_cleaned(std::string_view reason) const;
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  bool leader_ = false;
  uint64_t transitions_ = 0;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> writes_;
  std::map<std::string, uint64_t> conversion_errors_;
  uint64_t weps_removed_ = 0;
  std::map<std::string, uint64_t> nodes_cleaned_;
  std::map<std::string, uint64_t> sync_errors_;
  std::map<std::string, uint64_t> syncs_;
  std::map<std::string, int> in_use_, candidates_, blocks_;
  std::map<std::string, uint64_t> reclaimed_;
};

// GET /metrics on host:port, served on a background thread.
class MetricsServer {
 public:
  explicit MetricsServer(const ControllerMetrics& metrics);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  // Errors: kUnavailable naming the address that could not be bound.
  [[nodiscard]] Status Start(const std::string& host, int port);
  void Stop();
  int port() const { return port_; }

 private:
  const ControllerMetrics& metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace calico::controllers
