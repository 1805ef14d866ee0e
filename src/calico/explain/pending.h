// Staged policies' "pending" view: what the policy of an endpoint would do if the staged policies
// (StagedGlobalNetworkPolicy, StagedNetworkPolicy, StagedKubernetesNetworkPolicy) were enforced.
// calico-node's flow logs (flowlog/staged.h: every record's pendingPolicies, Felix's
// collector.evaluatePendingRuleTrace with app-policy/checker's StagedAsEnforced scope) and
// calicoctl policy explain (explain.h) both use it, so the two give the same answer.
//
//   resources ──PendingGraph──▶ calc::CalcGraph fed the "staged as enforced" view:
//     a staged policy replaces the enforced policy of the same kind family, namespace and name
//     (StagedGlobalNetworkPolicy -> GlobalNetworkPolicy, StagedNetworkPolicy -> NetworkPolicy,
//     StagedKubernetesNetworkPolicy <name> -> NetworkPolicy knp.default.<name>, converted as
//     kube-controllers converts a Kubernetes NetworkPolicy); `stagedAction: Delete` removes it;
//     removing the staged policy puts the enforced one back.
//   Model() ──PendingEvaluator──▶ per (local workload endpoint, direction, packet): the trace the
//     staged set would give (policy::RuleHit, as the enforced trace from NFLOG), or nullopt when
//     no staged policy is involved in that direction (the pending trace is then the enforced one).
//
// Upstream's Felix (3.30+) orders a staged policy beside the enforced one of the same name
// instead of in its place, and does not evaluate `stagedAction: Delete`; this project evaluates
// what promoting the staged policy would do (docs/COMPATIBILITY.md).
//
// Thread-safety: PendingGraph none (drive it from one thread, as the calculation graph);
// PendingEvaluator is immutable after construction.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "calico/base/result.h"
#include "calico/calc/calc_graph.h"
#include "calico/explain/evaluate.h"
#include "calico/model/resource.h"
#include "calico/policy/flow_log_prefix.h"
#include "calico/policy/policy_model.h"

namespace calico::explain {

bool IsStagedKind(std::string_view kind);

// A staged policy as the enforced policy it stands for. `remove`: stagedAction Delete (the
// enforced policy goes). Errors: not a staged kind, a StagedKubernetesNetworkPolicy that does not
// convert.
struct StagedAsEnforced {
  model::Resource enforced{};
  bool remove = false;
};
[[nodiscard]] Result<StagedAsEnforced> ConvertStaged(const model::Resource& staged);

class PendingGraph {
 public:
  explicit PendingGraph(std::string node_name);
  void OnUpdate(const model::Resource& resource);
  void OnDelete(std::string_view kind, std::string_view ns, std::string_view name);
  // Whether any staged policy is known (without one, the pending view is the enforced one).
  bool HasStaged() const { return !staged_.empty(); }
  // The model with the staged set applied.
  policy::Model Model() const { return graph_.Model(); }
  // The calc policy ids ("<name>", "<namespace>/<name>") the staged set sets or removes, with the
  // staged kind that does it.
  std::map<std::string, std::string> StagedIds() const;

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // kind, namespace, name.
  struct Staged {
    Key target{};  // The enforced policy's key.
    StagedAsEnforced conv{};
    std::string kind{};
  };
  void Refresh(const Key& target);

  calc::CalcGraph graph_;
  std::map<Key, model::Resource> enforced_;  // Enforced policies, to restore.
  std::map<Key, Staged> staged_;             // By the staged policy's own key.
};

// The pending trace of a direction, from a pending model (PendingGraph::Model()).
class PendingEvaluator {
 public:
  // `enforced`: the model the agent programs (which endpoints' directions a staged Delete
  // touches); `staged_ids`: PendingGraph::StagedIds().
  PendingEvaluator(const policy::Model& enforced, policy::Model pending,
                   std::map<std::string, std::string> staged_ids);
  // nullopt: `endpoint` ("<namespace>/<name>", a local workload) is not in the pending model or
  // no staged policy is involved in that direction.
  std::optional<std::vector<policy::RuleHit>> Evaluate(const std::string& endpoint, bool ingress,
                                                       const Packet& packet) const;
  const policy::Model& model() const { return pending_; }
  const std::map<std::string, std::string>& staged_ids() const { return staged_ids_; }

 private:
  policy::Model pending_;
  std::map<std::string, std::string> staged_ids_;
  std::set<std::pair<std::string, bool>> touched_;  // (endpoint, ingress) involving a staged id.
};

// An evaluation's steps as the trace the dataplane's NFLOG prefixes would give (PolicyLookup's
// RuleHits): matched Allow/Deny/Pass rules, end of tier (Deny, and Pass as upstream's checker
// records it), "no profile matched"; staged policies' hits carry their staged kind.
std::vector<policy::RuleHit> TraceFromSteps(const std::vector<Step>& steps,
                                            const policy::Model& model,
                                            const std::map<std::string, std::string>& staged_ids,
                                            bool ingress);

}  // namespace calico::explain
