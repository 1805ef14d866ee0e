// calico-node's flow logs, assembled: the NFLOG and conntrack sources of this network namespace,
// the collector's thread (runner.h) and the sender to calico-flows (sender.h). The agent calls
// OnPolicyProgrammed after each ruleset it programs; /metrics appends MetricsText().
//
// Thread-safety: MetricsText from any thread; OnPolicyProgrammed, OnResource and OnResync from
// one thread (the agent's).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/calc/calc_graph.h"
#include "calico/flowlog/collector.h"
#include "calico/flowlog/runner.h"
#include "calico/flowlog/sender.h"
#include "calico/flowlog/staged.h"
#include "calico/policy/policy_model.h"

namespace calico::flowlog {

struct NodeFlowLogOptions {
  std::string server{};  // flowLogsGoldmaneServer.
  std::chrono::milliseconds flush_interval{300000};
  bool debug_trace = false;  // flowLogsCollectorDebugTrace: log every record at debug level.
  CollectorOptions collector{};
  FlowSender::Encoder encode{};
  std::string path = "/api/v1/flows";
  // flowLogsPolicyEvaluationMode Continuous: the staged policies' pending traces (staged.h),
  // evaluated for the endpoints of `node_name`; false (None): pending traces equal the enforced
  // ones.
  bool evaluate_pending = false;
  std::string node_name{};
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
  // What the agent feeds its calculation graph (AgentConfig::on_resource, on_resync): the
  // pending view follows it. Same thread as OnPolicyProgrammed.
  void OnResource(const model::Resource* resource, std::string_view kind, std::string_view ns,
                  std::string_view name);
  void OnWorkloadEndpoint(const model::v3::WorkloadEndpoint& wep);  // on_workload_endpoint.
  void OnResync();
  std::string MetricsText() const;

 private:
  explicit NodeFlowLogs(NodeFlowLogOptions options) : options_(std::move(options)) {}
  NodeFlowLogOptions options_;
  std::unique_ptr<FlowSender> sender_;
  std::unique_ptr<FlowLogRunner> runner_;
  std::unique_ptr<PendingPolicies> pending_;  // Null: evaluate_pending off.
  FlowContextSource contexts_;                // OnPolicyProgrammed's thread only.
};

}  // namespace calico::flowlog
