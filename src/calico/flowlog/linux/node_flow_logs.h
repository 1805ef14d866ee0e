// calico-node's flow logs, assembled: the NFLOG and conntrack sources of this network namespace,
// the collector's thread (runner.h) and the sender to calico-flows (sender.h). The agent calls
// OnPolicyProgrammed after each ruleset it programs; /metrics appends MetricsText().
//
// Thread-safety: OnPolicyProgrammed and MetricsText from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/calc/calc_graph.h"
#include "calico/flowlog/collector.h"
#include "calico/flowlog/runner.h"
#include "calico/flowlog/sender.h"
#include "calico/policy/policy_model.h"

namespace calico::flowlog {

struct NodeFlowLogOptions {
  std::string server{};  // flowLogsGoldmaneServer.
  std::chrono::milliseconds flush_interval{300000};
  bool debug_trace = false;  // flowLogsCollectorDebugTrace: log every record at debug level.
  CollectorOptions collector{};
  FlowSender::Encoder encode{};
  std::string path = "/api/v1/flows";
  // Makes the staged evaluator for a model (flowLogsPolicyEvaluationMode Continuous); unset =
  // pending traces equal the enforced ones.
  std::function<StagedEvaluator(const policy::Model&, const calc::CalcGraph&)> staged{};
};

class NodeFlowLogs {
 public:
  // Errors: the server address is not host:port, NFLOG groups cannot be bound (no
  // CAP_NET_ADMIN, another collector holds them). A conntrack failure only costs the counters
  // (logged).
  [[nodiscard]] static Result<std::unique_ptr<NodeFlowLogs>> Start(NodeFlowLogOptions options);
  ~NodeFlowLogs();
  NodeFlowLogs(const NodeFlowLogs&) = delete;
  NodeFlowLogs& operator=(const NodeFlowLogs&) = delete;

  void OnPolicyProgrammed(const policy::Model& model, const calc::CalcGraph& graph);
  std::string MetricsText() const;

 private:
  explicit NodeFlowLogs(NodeFlowLogOptions options) : options_(std::move(options)) {}
  NodeFlowLogOptions options_;
  std::unique_ptr<FlowSender> sender_;
  std::unique_ptr<FlowLogRunner> runner_;
};

}  // namespace calico::flowlog
