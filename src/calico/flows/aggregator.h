// calico-flows' window of flows: Goldmane's aggregator (goldmane/pkg/aggregator/aggregator.go and
// its bucketing in goldmane/pkg/storage): flows with the same key that start in the same
// aggregation interval are one flow (counters summed, start/end widened), kept for a bounded time
// and up to a bounded count; queries filter it, and watchers learn of every change.
//
//   Ingest(flows) ──> bucket = startTime - startTime % interval
//                 ──> (bucket, key) seen? merge : insert (id = next)
//                 ──> evict: older than max_age (by endTime), then oldest ids over max_flows
//                 ──> version++  ──> WaitForChange() wakes (the SSE stream)
//
// Thread-safety: every public method may be called from any thread (one mutex).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "calico/base/clock.h"
#include "calico/flows/flow.h"

namespace calico::flows {

struct AggregatorOptions {
  // Goldmane's default aggregation window is 15 s.
  int64_t aggregation_interval_seconds = 15;
  // The window: flows whose endTime is older are evicted (Goldmane keeps 240 buckets of 15 s).
  int64_t max_age_seconds = 3600;
  // At most this many aggregated flows; the oldest go first.
  size_t max_flows = 200000;
};

// One aggregated flow and its id (Goldmane's FlowResult): ids grow with each new flow, and a
// flow keeps its id while it is merged into.
struct StoredFlow {
  uint64_t id = 0;
  uint64_t version = 0;  // the store version of its last change
  Flow flow{};
};

// Query filters (all given ones must hold). Names match exactly.
struct FlowFilter {
  std::vector<Action> actions{};  // any of
  // An endpoint: its name, namespace, "namespace/name", or IP.
  std::string source{};
  std::string dest{};
  // Either end's namespace.
  std::string ns{};
  // A policy in the enforced or pending trace (or a trigger): its name, "namespace/name", or
  // "tier.name"-style name as recorded.
  std::string policy{};
  // endTime >= since (Unix seconds); 0: no bound.
  int64_t since = 0;
  // Only flows changed after this store version (the stream's cursor); 0: all.
  uint64_t after_version = 0;
};

bool Matches(const FlowFilter& filter, const Flow& flow);

struct AggregatorStats {
  size_t flows = 0;               // aggregated flows in the window now
  uint64_t records_ingested = 0;  // flow records accepted
  uint64_t records_merged = 0;    // of those, merged into an existing flow
  uint64_t evicted_by_age = 0;    // flows dropped because their endTime left the window
  uint64_t evicted_by_count = 0;  // flows dropped because the window was full
  uint64_t version = 0;
};

// Hits of one policy (kind, namespace, name, tier) over the window: Goldmane's Statistics
// grouped by Policy, for flows whose trace names it.
struct PolicyHits {
  PolicyHit policy{};    // kind, ns, name, tier (action and indexes unset)
  bool pending = false;  // from pendingPolicies (a staged policy's would-be verdict)
  // Per action of this policy's hit ("Allow", "Deny", "Pass"): flows, connections, packets,
  // bytes.
  struct Counts {
    int64_t flows = 0;
    int64_t connections = 0;
    int64_t packets = 0;
    int64_t bytes = 0;
  };
  std::map<Action, Counts> by_action{};
  // flows per rule index (-1: end of tier / no rule)
  std::map<int64_t, int64_t> flows_by_rule{};
};

class Aggregator {
 public:
  Aggregator(AggregatorOptions options, const Clock& clock);

  // Adds a batch (already decoded and checked). Returns how many were merged into existing flows.
  size_t Ingest(std::vector<Flow>&& flows);

  // Matching flows, newest first (endTime, then id), at most `limit` (0: all), and how many
  // matched in all.
  std::vector<StoredFlow> Query(const FlowFilter& filter, size_t limit, size_t* total) const;

  // Policies seen in the window's traces, with their counts; ordered by tier, namespace, name.
  std::vector<PolicyHits> Hits() const;

  AggregatorStats Stats() const;
  uint64_t version() const;

  // Blocks until the version passes `seen` or `timeout` elapses; returns the version.
  uint64_t WaitForChange(uint64_t seen, std::chrono::milliseconds timeout) const;

 private:
  struct Entry {
    size_t hash = 0;
    int64_t bucket = 0;
    StoredFlow stored{};
  };
  void ExpireLocked();
  void EraseLocked(std::map<uint64_t, Entry>::iterator it);

  AggregatorOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::map<uint64_t, Entry> entries_;                // by id: oldest first
  std::unordered_multimap<size_t, uint64_t> index_;  // hash(bucket, key) -> id
  uint64_t next_id_ = 1;
  int64_t last_sweep_ = 0;  // wall seconds of the last age sweep (one a second at most)
  AggregatorStats stats_{};
};

}  // namespace calico::flows
