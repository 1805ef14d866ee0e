// Runs the flow-log collector on its own thread, so that the agent's main loop never waits for
// it: polls the NFLOG and conntrack sources (rate limited by the collector), polls conntrack's
// counters and flushes the collector every flush interval (FelixConfiguration
// flowLogsFlushInterval), handing each interval's records to a sink (sender.h: a bounded queue
// to calico-flows). The agent hands it a new FlowContext with each model it programs.
//
// Metrics (Prometheus text, MetricsText()): calico_node_flow_logs_dropped_total{reason},
// calico_node_flow_logs_records_total, calico_node_flow_logs_live_flows, and per deciding policy
// rule calico_node_policy_{flows,packets,bytes}_total{kind,tier,policy,rule,action}.
//
// Thread-safety: SetContext, MetricsText and Stop may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "calico/dataplane/flow_sources.h"
#include "calico/flowlog/collector.h"

namespace calico::flowlog {

struct RunnerOptions {
  std::chrono::milliseconds flush_interval{15000};  // Felix's flowLogsFlushInterval default.
  std::size_t read_batch = 1024;
  CollectorOptions collector{};
};

class FlowLogRunner {
 public:
  // Gets each interval's records (on the runner's thread; must not block for long).
  using Sink = std::function<void(std::vector<FlowRecord>)>;
  // Counts the sink's losses for the metrics (e.g. FlowSender::dropped).
  using DroppedBySink = std::function<uint64_t()>;

  // `conntrack` may be null (records then carry the first packet only, connections end after
  // the collector's idle timeout).
  FlowLogRunner(RunnerOptions options, std::unique_ptr<NflogSource> nflog,
                std::unique_ptr<ConntrackSource> conntrack, Sink sink,
                DroppedBySink dropped_by_sink = nullptr);
  ~FlowLogRunner();
  FlowLogRunner(const FlowLogRunner&) = delete;
  FlowLogRunner& operator=(const FlowLogRunner&) = delete;

  void SetContext(std::shared_ptr<const FlowContext> context);
  void Start();
  void Stop();

  // One round without the thread (tests, and the thread's loop): reads what the sources have.
  void PollOnce(Clock::time_point now);
  // Ends the interval: conntrack counters, then the collector's records to the sink.
  void FlushNow(Clock::time_point now);

  std::string MetricsText() const;

 private:
  void Loop();

  RunnerOptions options_;
  std::unique_ptr<NflogSource> nflog_;
  std::unique_ptr<ConntrackSource> conntrack_;
  Sink sink_;
  DroppedBySink dropped_by_sink_;
  mutable std::mutex mu_;  // Guards collector_, pending_context_, records_.
  Collector collector_;
  std::shared_ptr<const FlowContext> pending_context_;
  bool context_changed_ = false;
  uint64_t records_ = 0;
  uint64_t source_errors_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace calico::flowlog
