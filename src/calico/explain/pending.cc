// The staged policies' pending view (pending.h): the staged policies beside the enforced ones in
// a calculation graph (libcalico-go/lib/backend/syncersv1/updateprocessors/staged*processor.go,
// felix/calc/policy_sorter.go), and an endpoint direction's would-be trace
// (app-policy/checker/check.go checkTiers with the StagedAsEnforced scope;
// felix/collector/collector.go evaluatePendingRuleTrace).
#include "calico/explain/pending.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/controllers/convert.h"

namespace calico::explain {
namespace {

constexpr std::string_view kSgnp = "StagedGlobalNetworkPolicy";
constexpr std::string_view kSnp = "StagedNetworkPolicy";
constexpr std::string_view kSknp = "StagedKubernetesNetworkPolicy";

std::string ShortKind(std::string_view staged_kind) {
  if (staged_kind == kSgnp) return "sgnp";
  if (staged_kind == kSnp) return "snp";
  return "sknp";
}

std::optional<policy::FlowAction> ToFlowAction(std::string_view a) {
  if (a == "Allow") return policy::FlowAction::kAllow;
  if (a == "Deny") return policy::FlowAction::kDeny;
  if (a == "Pass") return policy::FlowAction::kPass;
  return std::nullopt;  // Log: not a verdict point.
}

}  // namespace

bool IsStagedKind(std::string_view kind) {
  return kind == kSgnp || kind == kSnp || kind == kSknp;
}

Result<std::optional<model::Resource>> ConvertStaged(const model::Resource& staged) {
  const std::string kind = staged.kind();
  if (!IsStagedKind(kind)) return InvalidArgument(fmt::format("{} is not a staged policy", kind));
  const model::Json& spec = staged.spec();
  // staged*processor.go: "If the update type is delete return nil so the resource is not sent to
  // felix."
  if (spec.is_object() && spec.value("stagedAction", std::string("Set")) == "Delete") {
    return std::optional<model::Resource>();
  }
  if (kind == kSknp) {
    // stagedkubernetesnetworkpolicyprocessor.go: ConvertStagedKubernetesPolicyToK8SEnforced, then
    // the converter kube-controllers uses (NetworkPolicy knp.default.<name>).
    model::Resource np("NetworkPolicy.networking.k8s.io", staged.name(), staged.namespace_());
    np.spec() = spec.is_object() ? spec : model::Json::object();
    np.spec().erase("stagedAction");
    auto converted = controllers::K8sNetworkPolicyToCalico(np);
    if (!converted) return Unexpected(std::move(converted).error().Wrap(kind));
    return std::optional<model::Resource>(std::move(converted->resource));
  }
  // ConvertStagedPolicyToEnforced / ConvertStagedGlobalPolicyToEnforced: metadata and spec copied.
  model::Resource enforced = staged;
  enforced.doc()["kind"] = kind == kSnp ? "NetworkPolicy" : "GlobalNetworkPolicy";
  if (enforced.spec().is_object()) enforced.spec().erase("stagedAction");
  return std::optional<model::Resource>(std::move(enforced));
}

PendingGraph::PendingGraph(std::string node_name) : graph_(std::move(node_name)) {}

void PendingGraph::OnUpdate(const model::Resource& resource) {
  const std::string kind = resource.kind();
  if (!IsStagedKind(kind)) {
    graph_.OnUpdate(resource);
    return;
  }
  const std::string ns = kind == kSgnp ? "" : resource.namespace_();
  auto conv = ConvertStaged(resource);
  if (!conv) {
    // As the calculation graph does with a value that does not decode: treated as deleted.
    CALICO_LOG(error, "calc", "ignoring {} {} for the pending view (treated as deleted): {}", kind,
               resource.name(), conv.error().message());
    OnDelete(kind, ns, resource.name());
    return;
  }
  if (!conv->has_value()) {
    OnDelete(kind, ns, resource.name());  // Delete: not in the pending view at all.
    return;
  }
  graph_.OnStagedPolicy(kind, ns, resource.name(), **conv);
  staged_.emplace(kind, ns, resource.name());
}

void PendingGraph::OnDelete(std::string_view kind, std::string_view ns, std::string_view name) {
  if (!IsStagedKind(kind)) {
    graph_.OnDelete(kind, ns, name);
    return;
  }
  const std::string_view key_ns = kind == kSgnp ? std::string_view() : ns;
  graph_.OnStagedPolicyDelete(kind, key_ns, name);
  staged_.erase(Key{std::string(kind), std::string(key_ns), std::string(name)});
}

std::map<std::string, std::string> StagedIds(const policy::Model& model) {
  std::map<std::string, std::string> out;
  for (const policy::Policy& p : model.policies) {
    if (IsStagedKind(p.kind)) out.emplace(p.id, p.kind);
  }
  return out;
}

bool TouchesStaged(const policy::Endpoint& endpoint, bool ingress,
                   const std::map<std::string, std::string>& staged_ids) {
  for (const policy::TierRef& t : ingress ? endpoint.ingress_tiers : endpoint.egress_tiers) {
    for (const std::string& p : t.policies) {
      if (staged_ids.count(p) != 0) return true;
    }
  }
  return false;
}

PendingEvaluator::PendingEvaluator(policy::Model pending) : pending_(std::move(pending)) {
  const std::map<std::string, std::string> ids = StagedIds(pending_);
  for (const policy::Endpoint& ep : pending_.endpoints) {
    for (bool ingress : {true, false}) {
      if (TouchesStaged(ep, ingress, ids)) touched_.emplace(ep.name, ingress);
    }
  }
}

std::optional<std::vector<policy::RuleHit>> PendingEvaluator::Evaluate(const std::string& endpoint,
                                                                       bool ingress,
                                                                       const Packet& packet) const {
  if (touched_.count({endpoint, ingress}) == 0) return std::nullopt;
  auto it = std::find_if(pending_.endpoints.begin(), pending_.endpoints.end(),
                         [&](const policy::Endpoint& ep) { return ep.name == endpoint; });
  if (it == pending_.endpoints.end()) return std::nullopt;
  DirectionResult r = EvaluateDirection(pending_, *it, ingress, packet, Scope::kPending);
  return TraceFromSteps(r.steps, pending_, ingress);
}

namespace {

// The kind, name and namespace of policy `id`'s hits (staged policies: their staged kind and
// their own name, as upstream's RuleID names a staged policy by its PolicyKey: the staged
// policy's own name, calc::StagedPolicyId() without "staged:", a StagedKubernetesNetworkPolicy's
// without knp.default.).
void NamePolicyHit(policy::RuleHit& hit, const std::string& id, const policy::Model& model) {
  hit.policy_id = id;
  const std::size_t slash = id.find('/');
  hit.namespace_ = slash == std::string::npos ? "" : id.substr(0, slash);
  hit.name = slash == std::string::npos ? id : id.substr(slash + 1);
  auto p = std::find_if(model.policies.begin(), model.policies.end(),
                        [&](const policy::Policy& x) { return x.id == id; });
  if (p != model.policies.end() && IsStagedKind(p->kind)) {
    hit.policy_kind = ShortKind(p->kind);
    constexpr std::string_view kStagedPrefix = "staged:";
    if (hit.name.starts_with(kStagedPrefix)) hit.name = hit.name.substr(kStagedPrefix.size());
    const std::string_view knp = controllers::kK8sNetworkPolicyPrefix;
    if (p->kind == kSknp && hit.name.starts_with(knp)) hit.name = hit.name.substr(knp.size());
  } else {
    hit.policy_kind = p != model.policies.end() ? policy::PolicyKindShortName(*p)
                                                : (slash == std::string::npos ? "gnp" : "np");
  }
}

}  // namespace

std::vector<policy::RuleHit> TraceFromSteps(const std::vector<Step>& steps,
                                            const policy::Model& model, bool ingress) {
  std::vector<policy::RuleHit> out;
  // The tier being evaluated and its first policy: the trigger of its end (checkTiers'
  // tierDefaultActionRuleID is the first policy of the tier that did not match).
  std::string tier, first_policy;
  for (const Step& s : steps) {
    if (s.pending) continue;  // Explain's copies of the staged steps; not a trace of their own.
    if (!s.profile && s.kind != Step::Kind::kEndOfTier && s.kind != Step::Kind::kNoProfile &&
        s.tier != tier) {
      tier = s.tier;
      first_policy = s.policy;
    }
    policy::RuleHit hit{.ingress = ingress};
    switch (s.kind) {
      case Step::Kind::kNoRuleMatched:
        continue;
      case Step::Kind::kEndOfTier: {
        auto a = ToFlowAction(s.action);
        if (!a) continue;
        hit.kind = policy::RuleHit::Kind::kEndOfTier;
        hit.action = *a;
        hit.tier = s.tier;
        if (s.tier == tier && !first_policy.empty()) {
          policy::RuleHit named;
          NamePolicyHit(named, first_policy, model);
          hit.trigger = policy::RuleHit::Trigger{
              .policy_kind = named.policy_kind, .name = named.name, .namespace_ = named.namespace_};
        }
        out.push_back(hit);
        continue;
      }
      case Step::Kind::kNoProfile:
        hit.kind = policy::RuleHit::Kind::kNoProfileMatch;
        hit.action = policy::FlowAction::kDeny;
        out.push_back(hit);
        continue;
      case Step::Kind::kIsolated:
        hit.action = policy::FlowAction::kDeny;
        break;
      case Step::Kind::kRule: {
        if (!s.matched) continue;
        auto a = ToFlowAction(s.action);
        if (!a) continue;
        // A profile's Pass: the checker records that profile rule as a Deny and stops
        // (app-policy/checker/check.go checkTiers, `case DENY, PASS:`; Scope::kPending).
        if (s.profile && *a == policy::FlowAction::kPass) a = policy::FlowAction::kDeny;
        hit.action = *a;
        hit.rule_index = s.rule.value_or(-1);
        break;
      }
    }
    if (s.profile) {
      hit.kind = policy::RuleHit::Kind::kProfile;
      hit.name = s.policy;
      hit.policy_kind = "pro";
      hit.policy_id = s.policy;
      out.push_back(hit);
      continue;
    }
    hit.kind = policy::RuleHit::Kind::kPolicy;
    hit.tier = s.tier;
    NamePolicyHit(hit, s.policy, model);
    out.push_back(hit);
  }
  return out;
}

}  // namespace calico::explain
