// The staged policies' pending view (pending.h): the staged set applied to a calculation graph,
// and an endpoint direction's would-be trace (app-policy/checker/check.go checkTiers with the
// StagedAsEnforced scope; felix/collector/collector.go evaluatePendingRuleTrace).
#include "calico/explain/pending.h"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/controllers/convert.h"

namespace calico::explain {
namespace {

constexpr std::string_view kSgnp = "StagedGlobalNetworkPolicy";
constexpr std::string_view kSnp = "StagedNetworkPolicy";
constexpr std::string_view kSknp = "StagedKubernetesNetworkPolicy";

bool IsEnforcedPolicyKind(std::string_view kind) {
  return kind == "GlobalNetworkPolicy" || kind == "NetworkPolicy";
}

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

Result<StagedAsEnforced> ConvertStaged(const model::Resource& staged) {
  const std::string kind = staged.kind();
  if (!IsStagedKind(kind)) return InvalidArgument(fmt::format("{} is not a staged policy", kind));
  StagedAsEnforced out;
  const model::Json& spec = staged.spec();
  out.remove = spec.is_object() && spec.value("stagedAction", std::string("Set")) == "Delete";
  if (kind == kSknp) {
    // libcalico-go's stagedkubernetesnetworkpolicyprocessor.go: the Kubernetes NetworkPolicy it
    // stages, converted as kube-controllers converts one (NetworkPolicy knp.default.<name>).
    model::Resource np("NetworkPolicy.networking.k8s.io", staged.name(), staged.namespace_());
    np.spec() = spec.is_object() ? spec : model::Json::object();
    np.spec().erase("stagedAction");
    if (out.remove) {
      out.enforced = model::Resource(
          "NetworkPolicy", std::string(controllers::kK8sNetworkPolicyPrefix) + staged.name(),
          staged.namespace_());
      return out;
    }
    auto converted = controllers::K8sNetworkPolicyToCalico(np);
    if (!converted) return Unexpected(std::move(converted).error().Wrap(kind));
    out.enforced = std::move(converted->resource);
    return out;
  }
  out.enforced = staged;
  out.enforced.doc()["kind"] = kind == kSnp ? "NetworkPolicy" : "GlobalNetworkPolicy";
  if (out.enforced.spec().is_object()) out.enforced.spec().erase("stagedAction");
  return out;
}

PendingGraph::PendingGraph(std::string node_name) : graph_(std::move(node_name)) {}

void PendingGraph::OnUpdate(const model::Resource& resource) {
  const std::string kind = resource.kind();
  const Key key{kind, resource.namespace_(), resource.name()};
  if (IsStagedKind(kind)) {
    auto conv = ConvertStaged(resource);
    if (!conv) {
      // As the calculation graph does with a value that does not decode: treated as deleted.
      CALICO_LOG(error, "calc", "ignoring {} {} for the pending view (treated as deleted): {}",
                 kind, resource.name(), conv.error().message());
      OnDelete(kind, resource.namespace_(), resource.name());
      return;
    }
    const Key target{conv->enforced.kind(), conv->enforced.namespace_(), conv->enforced.name()};
    std::optional<Key> old;
    if (auto it = staged_.find(key); it != staged_.end() && it->second.target != target) {
      old = it->second.target;
    }
    staged_[key] = Staged{.target = target, .conv = *std::move(conv), .kind = kind};
    if (old) Refresh(*old);
    Refresh(target);
    return;
  }
  if (IsEnforcedPolicyKind(kind)) {
    enforced_[key] = resource;
    Refresh(key);
    return;
  }
  graph_.OnUpdate(resource);
}

void PendingGraph::OnDelete(std::string_view kind, std::string_view ns, std::string_view name) {
  const Key key{std::string(kind), std::string(ns), std::string(name)};
  if (IsStagedKind(kind)) {
    auto it = staged_.find(key);
    if (it == staged_.end()) return;
    const Key target = it->second.target;
    staged_.erase(it);
    Refresh(target);
    return;
  }
  if (IsEnforcedPolicyKind(kind)) {
    enforced_.erase(key);
    Refresh(key);
    return;
  }
  graph_.OnDelete(kind, ns, name);
}

void PendingGraph::Refresh(const Key& target) {
  // The first staged policy (by its own key) aimed at `target` wins; none: the enforced one.
  for (const auto& [key, s] : staged_) {
    if (s.target != target) continue;
    if (s.conv.remove) {
      graph_.OnDelete(std::get<0>(target), std::get<1>(target), std::get<2>(target));
    } else {
      graph_.OnUpdate(s.conv.enforced);
    }
    return;
  }
  if (auto it = enforced_.find(target); it != enforced_.end()) {
    graph_.OnUpdate(it->second);
  } else {
    graph_.OnDelete(std::get<0>(target), std::get<1>(target), std::get<2>(target));
  }
}

std::map<std::string, std::string> PendingGraph::StagedIds() const {
  std::map<std::string, std::string> out;
  for (const auto& [key, s] : staged_) {
    const auto& [kind, ns, name] = s.target;
    out.emplace(ns.empty() ? name : fmt::format("{}/{}", ns, name), s.kind);
  }
  return out;
}

PendingEvaluator::PendingEvaluator(const policy::Model& enforced, policy::Model pending,
                                   std::map<std::string, std::string> staged_ids)
    : pending_(std::move(pending)), staged_ids_(std::move(staged_ids)) {
  for (const policy::Model* m : std::array<const policy::Model*, 2>{&enforced, &pending_}) {
    for (const policy::Endpoint& ep : m->endpoints) {
      for (bool ingress : {true, false}) {
        for (const policy::TierRef& t : ingress ? ep.ingress_tiers : ep.egress_tiers) {
          const bool touches =
              std::any_of(t.policies.begin(), t.policies.end(),
                          [&](const std::string& p) { return staged_ids_.count(p) != 0; });
          if (touches) touched_.emplace(ep.name, ingress);
        }
      }
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
  DirectionResult r = EvaluateDirection(pending_, *it, ingress, packet);
  return TraceFromSteps(r.steps, pending_, staged_ids_, ingress);
}

std::vector<policy::RuleHit> TraceFromSteps(const std::vector<Step>& steps,
                                            const policy::Model& model,
                                            const std::map<std::string, std::string>& staged_ids,
                                            bool ingress) {
  std::vector<policy::RuleHit> out;
  for (const Step& s : steps) {
    if (s.pending) continue;  // Explain's copies of the staged steps; not a trace of their own.
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
        // A profile's Pass goes on to the next profile: not a verdict point.
        if (s.profile && *a == policy::FlowAction::kPass) continue;
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
    hit.policy_id = s.policy;
    const std::size_t slash = s.policy.find('/');
    hit.namespace_ = slash == std::string::npos ? "" : s.policy.substr(0, slash);
    hit.name = slash == std::string::npos ? s.policy : s.policy.substr(slash + 1);
    if (auto st = staged_ids.find(s.policy); st != staged_ids.end()) {
      hit.policy_kind = ShortKind(st->second);
      // Upstream names a staged Kubernetes policy by its own name (its PolicyKey).
      const std::string_view prefix = controllers::kK8sNetworkPolicyPrefix;
      if (st->second == kSknp && hit.name.starts_with(prefix)) {
        hit.name = hit.name.substr(prefix.size());
      }
    } else {
      auto p = std::find_if(model.policies.begin(), model.policies.end(),
                            [&](const policy::Policy& x) { return x.id == s.policy; });
      hit.policy_kind = p != model.policies.end() ? policy::PolicyKindShortName(*p)
                                                  : (slash == std::string::npos ? "gnp" : "np");
    }
    out.push_back(hit);
  }
  return out;
}

}  // namespace calico::explain
