// Staged policies' "pending" view: what the policy of an endpoint would do if the staged policies
// (StagedGlobalNetworkPolicy, StagedNetworkPolicy, StagedKubernetesNetworkPolicy) were promoted.
// calico-node's flow logs (flowlog/staged.h: every record's pendingPolicies, Felix's
// collector.evaluatePendingRuleTrace with app-policy/checker's StagedAsEnforced scope) and
// calicoctl policy explain (explain.h) both use it, so the two give the same answer.
//
//   resources ──PendingGraph──▶ calc::CalcGraph with the enforced policies AND the staged ones:
//     each staged policy is converted to its enforced form (ConvertStaged: api/pkg/apis/
//     projectcalico/v3 ConvertStaged*ToEnforced; a StagedKubernetesNetworkPolicy as
//     kube-controllers converts a Kubernetes NetworkPolicy) and added under its own key
//     (CalcGraph::OnStagedPolicy, libcalico-go's staged*processor.go: model.PolicyKey{name,
//     namespace, staged kind}), beside the enforced policies, never in their place. A staged
//     policy with `stagedAction: Delete` is not sent to Felix at all: no effect on the pending
//     trace. Staged policies sort in their tier like any policy: order, then
//     "<name>/<namespace>/<kind>" (felix/calc/policy_sorter.go PolKVLess), so a staged policy
//     comes right after the enforced policy of the same name and order; a tier whose policies
//     are all staged takes part (with its defaultAction), while the enforced trace skips it.
//   Model() ──PendingEvaluator──▶ per (local workload endpoint, direction, packet): the trace the
//     staged set would give (evaluate.h Scope::kPending: a profile's Pass denies, as the checker)
//     (policy::RuleHit, as the enforced trace from NFLOG; the staged policies' hits with their
//     staged kind and own name), or nullopt when no staged policy applies to that direction (the
//     pending trace is then the enforced one).
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
#include <utility>
#include <vector>

#include "calico/base/result.h"
#include "calico/calc/calc_graph.h"
#include "calico/explain/evaluate.h"
#include "calico/model/resource.h"
#include "calico/policy/flow_log_prefix.h"
#include "calico/policy/policy_model.h"

namespace calico::explain {

bool IsStagedKind(std::string_view kind);

// A staged policy in its enforced form (a GlobalNetworkPolicy or NetworkPolicy resource), or
// nullopt for `stagedAction: Delete` (libcalico-go's staged*processor.go sends nothing to Felix).
// Errors: not a staged kind, a StagedKubernetesNetworkPolicy that does not convert.
[[nodiscard]] Result<std::optional<model::Resource>> ConvertStaged(const model::Resource& staged);

class PendingGraph {
 public:
  explicit PendingGraph(std::string node_name);
  void OnUpdate(const model::Resource& resource);
  void OnDelete(std::string_view kind, std::string_view ns, std::string_view name);
  // A WorkloadEndpoint already decoded (the agent's typed path:
  // calc::CalcGraph::OnWorkloadEndpoint).
  void OnWorkloadEndpoint(model::v3::WorkloadEndpoint&& wep) {
    graph_.OnWorkloadEndpoint(std::move(wep));
  }
  // Whether any staged policy takes part (Delete ones do not): without one, the pending view is
  // the enforced one.
  bool HasStaged() const { return !staged_.empty(); }
  // The model with the staged policies beside the enforced ones (policy::Policy::kind is the
  // staged kind for them, their ids calc::StagedPolicyId()).
  policy::Model Model() const { return graph_.Model(); }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // kind, namespace, name.

  calc::CalcGraph graph_;
  std::set<Key> staged_;  // The staged policies in graph_.
};

// The pending trace of a direction, from a pending model (PendingGraph::Model()).
class PendingEvaluator {
 public:
  explicit PendingEvaluator(policy::Model pending);
  // nullopt: `endpoint` ("<namespace>/<name>", a local workload) is not in the pending model or
  // no staged policy applies to it in that direction.
  std::optional<std::vector<policy::RuleHit>> Evaluate(const std::string& endpoint, bool ingress,
                                                       const Packet& packet) const;
  const policy::Model& model() const { return pending_; }

 private:
  policy::Model pending_;
  std::set<std::pair<std::string, bool>> touched_;  // (endpoint, ingress) with a staged policy.
};

// The staged policies' ids in `model` (calc::StagedPolicyId()), with their staged kind.
std::map<std::string, std::string> StagedIds(const policy::Model& model);

// Whether a staged policy applies to `endpoint` in that direction (its tiers name one).
bool TouchesStaged(const policy::Endpoint& endpoint, bool ingress,
                   const std::map<std::string, std::string>& staged_ids);

// An evaluation's steps as the trace the dataplane's NFLOG prefixes would give (PolicyLookup's
// RuleHits; app-policy/checker/check.go checkTiers' trace): matched Allow/Deny/Pass rules, end of
// tier (Deny, and Pass as upstream's checker records it), a profile rule's Pass as that rule's
// Deny (the checker's `case DENY, PASS:`), "no profile matched"; staged policies'
// hits carry their staged kind and their own name (the PolicyKey's: a
// StagedKubernetesNetworkPolicy's without knp.default.).
std::vector<policy::RuleHit> TraceFromSteps(const std::vector<Step>& steps,
                                            const policy::Model& model, bool ingress);

}  // namespace calico::explain
