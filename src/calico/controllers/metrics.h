// What calico-controllers did, as Prometheus metrics (kube-controllers' names and labels where it
// has them: the IPAM utilisation of kube-controllers/pkg/controllers/node/ipam.go updateMetrics;
// the rest prefixed calico_controllers_), and the HTTP endpoint serving them (/metrics on
// KubeControllersConfiguration prometheusMetricsPort, 9094 by default).
//
//   ipam_allocations_in_use{ippool,node}            addresses allocated (node: the allocation's
//                                                   node attribute, "unknown_node" without one)
//   ipam_allocations_borrowed{ippool,node}          of those, in a block affine to another node
//   ipam_allocations_gc_candidates{ippool,node}     allocations that look leaked
//   ipam_allocations_gc_reclamations{ippool,node}   leaked or a deleted node's addresses released
//   ipam_blocks{ippool,node}                        blocks (node: the affine host, "no_affinity")
//   ipam_ippool_size{ippool}                        addresses in the pool's CIDR
//   ipam_ippool_reserved{ippool}                    of those, covered by an IPReservation
//   ipam_allocations_per_node{node}, ipam_allocations_borrowed_per_node{node},
//   ipam_blocks_per_node{node}                      the same over all pools (upstream's legacy)
//   ippool "no_ippool": blocks that no IPPool's CIDR contains.
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
#include <utility>

#include "calico/base/result.h"

namespace httplib {
class Server;
}

namespace calico::controllers {

// One GC pass's IPAM figures (GarbageCollector computes them from the blocks, IPPools and
// IPReservations it read).
struct IpamFigures {
  using PoolNode = std::pair<std::string, std::string>;  // (ippool, node)
  std::map<PoolNode, int> in_use{}, borrowed{}, blocks{}, gc_candidates{};
  std::map<std::string, int> allocations_per_node{}, borrowed_per_node{}, blocks_per_node{};
  std::map<std::string, double> pool_size{}, pool_reserved{};

  bool operator==(const IpamFigures&) const = default;
};

inline constexpr std::string_view kNoIpPool = "no_ippool";
inline constexpr std::string_view kNoAffinity = "no_affinity";
inline constexpr std::string_view kUnknownNode = "unknown_node";

class ControllerMetrics {
 public:
  void SetLeader(bool leader);
  void AddWrite(std::string_view controller, std::string_view kind, std::string_view op);
  void AddConversionErrors(std::string_view kind, int n);
  void AddWorkloadEndpointsRemoved(int n);
  void AddNodeCleaned(std::string_view reason);
  void AddSyncError(std::string_view controller);
  void AddSync(std::string_view controller);
  // The IPAM figures of the last GC pass (replacing the previous pass's).
  void SetIpamFigures(IpamFigures figures);
  void AddIpamReclaimed(std::string_view pool, std::string_view node, int n);

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
  IpamFigures ipam_{};
  std::map<IpamFigures::PoolNode, uint64_t> reclaimed_;
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
