// The flow records' pending trace (pendingPolicies): Felix's collector evaluates every new
// connection of a local workload with the staged policies beside the enforced ones, as if they
// were promoted (felix/collector/collector.go evaluatePendingRuleTraceForLocalEp,
// app-policy/checker's StagedAsEnforced). Here the evaluation is explain's (explain/pending.h):
// the pending view of the calculation graph (staged policies under their own keys, in their
// tier's order; stagedAction Delete ones left out, as libcalico-go never sends them to Felix)
// and the user-space rule evaluation calicoctl policy explain uses.
//
//   PendingGraph (fed every resource) ─Model()─▶ PendingEvaluator ─MakeStagedEvaluator─▶
//     StagedEvaluator (collector.h): (5-tuple, direction, reporter) -> trace, or nullopt when no
//     staged policy applies to that direction (the record's pending trace is then the enforced
//     one)
//
// Only local workload endpoints are evaluated (as upstream); host endpoints and remote ends get
// the enforced trace. ICMP connections are evaluated as echo requests (the tuple has no type).
//
// Thread-safety: the evaluator is immutable; call it from any thread. PendingPolicies: one thread
// (the agent's).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "calico/explain/pending.h"
#include "calico/flowlog/collector.h"

namespace calico::flowlog {

StagedEvaluator MakeStagedEvaluator(std::shared_ptr<const explain::PendingEvaluator> evaluator);

// calico-node's pending view: fed what the agent feeds its calculation graph (AgentConfig's
// on_resource / on_resync), asked for an evaluator after each programmed model. It holds a second
// calculation graph (the enforced policies and the staged ones beside them): with
// flowLogsPolicyEvaluationMode None the agent makes none.
class PendingPolicies {
 public:
  explicit PendingPolicies(std::string node_name);
  void OnResource(const model::Resource* resource, std::string_view kind, std::string_view ns,
                  std::string_view name);
  // A WorkloadEndpoint the agent read on its typed path (AgentConfig::on_workload_endpoint).
  void OnWorkloadEndpoint(const model::v3::WorkloadEndpoint& wep);
  void OnResync();
  // The evaluator of the current pending view; nullptr while no staged policy takes part (none,
  // or only stagedAction Delete ones: the pending traces are then the enforced ones).
  StagedEvaluator Evaluator() const;

 private:
  std::string node_name_;
  std::unique_ptr<explain::PendingGraph> graph_;
};

}  // namespace calico::flowlog
