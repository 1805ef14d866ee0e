// Felix's NFLOG prefixes and policy lookups (felix/rules/nflogprefix.go,
// felix/calc/policy_lookup_cache.go). See flow_log_prefix.h.
#include "calico/policy/flow_log_prefix.h"

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "calico/selector/unique_id.h"

namespace calico::policy {
namespace {

constexpr std::size_t kMaxWithoutTerm = kNflogPrefixMaxLength - 1;
constexpr std::size_t kHashedPrefixLen = 10;
constexpr std::size_t kHashedSuffixLen = 10;
constexpr std::size_t kHashLen = kMaxWithoutTerm - kHashedPrefixLen - kHashedSuffixLen - 1;

// felix/rules/nflogprefix.go maybeHash: hashed at == the limit too, so that a user cannot spoof
// a hashed prefix with a name of that length.
std::string MaybeHash(std::string prefix) {
  if (prefix.size() < kMaxWithoutTerm) return prefix;
  const auto digest = selector::Sha256(prefix);
  std::string hash = selector::Base64RawUrlEncode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  hash.resize(kHashLen);
  return prefix.substr(0, kHashedPrefixLen) + hash + "_" +
         prefix.substr(prefix.size() - kHashedSuffixLen);
}

char Dir(bool ingress) {
  return ingress ? 'I' : 'E';
}

}  // namespace

std::string PolicyKindShortName(const Policy& p) {
  if (p.kind == "GlobalNetworkPolicy") return "gnp";
  if (p.kind == "NetworkPolicy") return "np";
  if (p.kind == "StagedGlobalNetworkPolicy") return "sgnp";
  if (p.kind == "StagedNetworkPolicy") return "snp";
  if (p.kind == "StagedKubernetesNetworkPolicy") return "sknp";
  if (p.kind == "KubernetesNetworkPolicy") return "knp";
  if (!p.kind.empty()) return p.kind;
  return p.id.find('/') != std::string::npos ? "np" : "gnp";
}

std::string FelixPolicyId(const Policy& p) {
  // Model ids are "<name>" (global) or "<namespace>/<name>": the same order as Felix's.
  return PolicyKindShortName(p) + "/" + p.id;
}

std::string RulePrefix(FlowAction action, bool profile, bool ingress, std::size_t index,
                       std::string_view id) {
  return MaybeHash(fmt::format("{}{}{}{}|{}", static_cast<char>(action), profile ? 'R' : 'P',
                               Dir(ingress), index, id));
}

std::string EndOfTierDropPrefix(bool ingress, std::string_view tier) {
  return MaybeHash(fmt::format("DP{}|{}", Dir(ingress), tier));
}

std::string NoMatchProfilePrefix(bool ingress) {
  return fmt::format("DR{}", Dir(ingress));
}

std::string_view FlowActionName(FlowAction a) {
  switch (a) {
    case FlowAction::kAllow:
      return "allow";
    case FlowAction::kDeny:
      return "deny";
    case FlowAction::kPass:
      return "pass";
  }
  return "deny";
}

namespace {

std::optional<FlowAction> ToFlowAction(Action a) {
  switch (a) {
    case Action::kAllow:
      return FlowAction::kAllow;
    case Action::kDeny:
      return FlowAction::kDeny;
    case Action::kPass:
      return FlowAction::kPass;
    case Action::kLog:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

RuleHit::Trigger TriggerFor(const Policy& p) {
  const std::size_t slash = p.id.find('/');
  return RuleHit::Trigger{.policy_kind = PolicyKindShortName(p),
                          .name = slash == std::string::npos ? p.id : p.id.substr(slash + 1),
                          .namespace_ = slash == std::string::npos ? "" : p.id.substr(0, slash)};
}

PolicyLookup PolicyLookup::Build(const Model& model) {
  PolicyLookup out;
  // felix/calc/endpoint_lookup_cache.go: per endpoint, direction and tier the last (enforced)
  // policy that applies is the one the tier's end-of-tier action is counted against.
  std::unordered_map<std::string, const Policy*> by_id;
  for (const Policy& p : model.policies) {
    by_id.emplace(p.id, &p);
  }
  auto note = [&](const std::vector<net::CIDR>& addresses, bool ingress,
                  const std::vector<TierRef>& tiers) {
    for (const TierRef& t : tiers) {
      if (t.policies.empty()) continue;
      auto p = by_id.find(t.policies.back());
      if (p == by_id.end()) continue;
      for (const net::CIDR& a : addresses) {
        out.triggers_[{a.addr(), ingress, t.name}] = TriggerFor(*p->second);
      }
    }
  };
  for (const Endpoint& ep : model.endpoints) {
    note(ep.addresses, true, ep.ingress_tiers);
    note(ep.addresses, false, ep.egress_tiers);
  }
  for (const HostEndpoint& ep : model.host_endpoints) {
    note(ep.expected_ips, true, ep.ingress_tiers);
    note(ep.expected_ips, false, ep.egress_tiers);
  }
  for (const Policy& p : model.policies) {
    const std::string felix_id = FelixPolicyId(p);
    const std::size_t slash = p.id.find('/');
    const std::string ns = slash == std::string::npos ? "" : p.id.substr(0, slash);
    const std::string name = slash == std::string::npos ? p.id : p.id.substr(slash + 1);
    for (bool ingress : {true, false}) {
      const ParsedRules& rules = ingress ? p.ingress : p.egress;
      for (std::size_t i = 0; i < rules.size(); ++i) {
        const std::optional<FlowAction> a = ToFlowAction(rules[i].action);
        if (!a) continue;
        out.hits_[RulePrefix(*a, false, ingress, i, felix_id)] =
            RuleHit{.kind = RuleHit::Kind::kPolicy,
                    .action = *a,
                    .ingress = ingress,
                    .tier = p.tier,
                    .name = name,
                    .namespace_ = ns,
                    .policy_kind = PolicyKindShortName(p),
                    .rule_index = static_cast<int64_t>(i),
                    .policy_id = p.id};
      }
      out.hits_[EndOfTierDropPrefix(ingress, p.tier)] = RuleHit{.kind = RuleHit::Kind::kEndOfTier,
                                                                .action = FlowAction::kDeny,
                                                                .ingress = ingress,
                                                                .tier = p.tier};
    }
  }
  for (const Profile& p : model.profiles) {
    for (bool ingress : {true, false}) {
      const ParsedRules& rules = ingress ? p.ingress : p.egress;
      for (std::size_t i = 0; i < rules.size(); ++i) {
        const std::optional<FlowAction> a = ToFlowAction(rules[i].action);
        if (!a) continue;
        out.hits_[RulePrefix(*a, true, ingress, i, p.id)] =
            RuleHit{.kind = RuleHit::Kind::kProfile,
                    .action = *a,
                    .ingress = ingress,
                    .name = p.id,
                    .policy_kind = "pro",
                    .rule_index = static_cast<int64_t>(i),
                    .policy_id = p.id};
      }
    }
  }
  for (bool ingress : {true, false}) {
    out.hits_[NoMatchProfilePrefix(ingress)] = RuleHit{
        .kind = RuleHit::Kind::kNoProfileMatch, .action = FlowAction::kDeny, .ingress = ingress};
  }
  return out;
}

std::optional<RuleHit> PolicyLookup::Find(std::string_view prefix) const {
  while (!prefix.empty() && (prefix.back() == '\0' || prefix.back() == ' ')) {
    prefix.remove_suffix(1);
  }
  auto it = hits_.find(std::string(prefix));
  if (it == hits_.end()) return std::nullopt;
  return it->second;
}

std::optional<RuleHit::Trigger> PolicyLookup::EndOfTierTrigger(const net::IPAddr& endpoint,
                                                               bool ingress,
                                                               std::string_view tier) const {
  auto it = triggers_.find(std::tuple(endpoint, ingress, std::string(tier)));
  if (it == triggers_.end()) return std::nullopt;
  return it->second;
}

}  // namespace calico::policy
