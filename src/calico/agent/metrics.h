// The agent's Prometheus metrics (text exposition format 0.0.4) and health state, served by
// http.h on Felix's ports (:9091/metrics, :9099/liveness and /readiness).
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace calico::agent {

class Metrics {
 public:
  Metrics();
  // Time from a datastore change (or resync) to the kernel being programmed.
  void ObserveProgramming(std::chrono::duration<double> seconds);
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

  void SetLive(bool live) { live_ = live; }
  void SetReady(bool ready) { ready_ = ready; }
  bool live() const { return live_; }
  bool ready() const { return ready_; }

  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> buckets_;
  double sum_ = 0;
  uint64_t count_ = 0;
  int64_t endpoints_ = 0, policies_ = 0, profiles_ = 0, ip_sets_ = 0, rules_ = 0;
  std::vector<std::pair<std::string, std::string>> unrenderable_;
  std::map<std::pair<std::string, std::string>, int> http_ignored_;
  uint64_t skipped_values_ = 0;
  int64_t not_acted_on_ = 0;
  uint64_t dataplane_errors_ = 0, resyncs_ = 0, repairs_ = 0, routes_added_ = 0,
           routes_removed_ = 0;
  std::atomic<bool> live_{true};
  std::atomic<bool> ready_{false};
};

}  // namespace calico::agent
