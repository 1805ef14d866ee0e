// The agent's Prometheus metrics (text exposition format 0.0.4), served by http.h on Felix's port
// (:9091/metrics; health.h is served on :9099/liveness and /readiness).
//
// Felix's own metrics keep Felix's names, types, HELP text and labels, so that upstream's Felix
// dashboard (manifests/grafana-dashboards.yaml, "Calico: Felix") reads them unchanged:
//   felix_int_dataplane_apply_time_seconds  summary  felix/dataplane/linux/int_dataplane.go
//   felix_int_dataplane_failures            counter  felix/dataplane/linux/int_dataplane.go
//   felix_cluster_num_{hosts,workload_endpoints,host_endpoints,tiers,policies,profiles}
//                                           gauges   felix/calc/stats_collector.go
//   felix_active_local_endpoints / _policies gauges  felix/calc/policy_resolver.go
//   felix_active_local_selectors            gauge    felix/calc/calc_graph.go
//   felix_resyncs_started                   counter  felix/calc/async_calc_graph.go
//   felix_calc_graph_update_time_seconds    summary  felix/calc/async_calc_graph.go
//   felix_route_table_list_seconds          summary  felix/routetable/route_table.go (v3.2x)
// Summaries have Felix's objectives (libcalico-go/lib/prometheus/summary.go: quantiles 0.5, 0.9,
// 0.99) over client_golang's default 10-minute window; the quantiles here are exact over the
// window's most recent 4096 observations (client_golang's are approximate), NaN when it is empty.
// felix_exec_time_micros is not exported: this agent forks no child processes (nftables and
// routes go through libnftables and netlink in-process).
// Everything else is this build's own and named calico_node_*.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace calico::agent {

// A Prometheus summary as client_golang exposes one (see above). Not thread-safe by itself.
class Summary {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  void Observe(double value, TimePoint now);
  // "# HELP", "# TYPE <name> summary", the three quantiles, _sum and _count.
  std::string Render(const char* name, const char* help, TimePoint now);

 private:
  void Expire(TimePoint now);
  std::deque<std::pair<TimePoint, double>> window_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct ClusterCounts {
  int64_t hosts = 0;  // distinct nodes named by Nodes, workload and host endpoints
  int64_t workload_endpoints = 0;
  int64_t host_endpoints = 0;
  int64_t tiers = 0;
  int64_t policies = 0;
  int64_t profiles = 0;
  bool operator==(const ClusterCounts&) const = default;
};

class Metrics {
 public:
  // `now` is the clock the summaries' windows follow (tests pass a fixed one).
  explicit Metrics(std::function<std::chrono::steady_clock::time_point()> now = nullptr);
  // Time from a datastore change (or resync) to the kernel being programmed.
  void ObserveProgramming(std::chrono::duration<double> seconds);
  // Time the calculation graph took for one datastore update.
  void ObserveCalcGraphUpdate(std::chrono::duration<double> seconds);
  // Time to list (and reconcile) the routes at a resync.
  void ObserveRouteTableList(std::chrono::duration<double> seconds);
  // A full list of the datastore (start, compaction, reconnect).
  void AddResyncStarted();
  void SetClusterCounts(const ClusterCounts& counts);
  // Local endpoints, policies and profiles that apply to them, the IP sets (active selectors)
  // and the rules with a counter in the calico table.
  void SetCounts(int64_t endpoints, int64_t policies, int64_t profiles, int64_t ip_sets,
                 int64_t rules);
  void AddDataplaneError();
  void AddResync(bool repaired);
  void AddRoutes(int added, int removed);
  // What the last render could not honour (policy::RenderReport): (kind, name) of each item
  // replaced by a drop, and per (kind, name) the rules whose HTTP match is ignored.
  void SetRenderProblems(std::vector<std::pair<std::string, std::string>> unrenderable,
                         std::map<std::pair<std::string, std::string>, int> http_ignored);
  // A datastore value the agent skipped (not JSON, not a valid resource).
  void AddSkippedDatastoreValue();
  // FelixConfiguration/Node fields set but not acted on by this build (field_support.h).
  void SetConfigNotActedOn(int64_t fields);

  // More metrics in the exposition format, appended to Render() (e.g. the flow-log collector's;
  // called under this object's lock: it must not call back into Metrics).
  void AddSource(std::function<std::string()> render);

  std::string Render() const;

 private:
  std::chrono::steady_clock::time_point Now() const;

  std::function<std::chrono::steady_clock::time_point()> now_;
  mutable std::mutex mu_;
  mutable Summary apply_time_, calc_graph_time_, route_list_time_;
  ClusterCounts cluster_{};
  int64_t endpoints_ = 0, policies_ = 0, profiles_ = 0, ip_sets_ = 0, rules_ = 0;
  std::vector<std::pair<std::string, std::string>> unrenderable_;
  std::map<std::pair<std::string, std::string>, int> http_ignored_;
  uint64_t skipped_values_ = 0;
  int64_t not_acted_on_ = 0;
  std::vector<std::function<std::string()>> extra_;
  uint64_t dataplane_errors_ = 0, resyncs_started_ = 0, resyncs_ = 0, repairs_ = 0,
           routes_added_ = 0, routes_removed_ = 0;
};

}  // namespace calico::agent
