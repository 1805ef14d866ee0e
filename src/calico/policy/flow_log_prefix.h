// Flow-log verdict prefixes: what the renderer's `log group N prefix "..."` statements carry and
// how the flow-log collector maps them back to the policy rule that decided a packet. Reproduces
// Felix's NFLOG prefixes (felix/rules/nflogprefix.go, felix/rules/rule_defs.go) and its
// PolicyLookupsCache (felix/calc/policy_lookup_cache.go):
//
//   "<A><O><D><index>|<id>"  a policy or profile rule: A = (A)llow, (D)eny, (P)ass; O = (P)olicy
//                            or p(R)ofile; D = (I)ngress or (E)gress; index = the rule's index in
//                            the policy's rules; id = Felix's PolicyID.ID() ("gnp/<name>",
//                            "np/<namespace>/<name>") or the profile name
//   "DP<D>|<tier>"           end of tier: no policy of the tier allowed or passed the packet
//   "DR<D>"                  no profile matched (the endpoint's final drop)
//
// A prefix of 63 characters or more keeps its first and last 10 characters around a hash (Felix's
// maybeHash), so it fits NFLOG's 64-byte prefix; PolicyLookup maps hashed prefixes back too.
//
// NFLOG groups (Felix's defaults): 1 for ingress verdicts (to the endpoint), 2 for egress.
//
// Thread-safety: pure functions; a PolicyLookup is a value.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "calico/net/ip.h"
#include "calico/policy/policy_model.h"

namespace calico::policy {

inline constexpr std::size_t kNflogPrefixMaxLength = 64;  // Including the terminating NUL.
inline constexpr int kNflogIngressGroup = 1;
inline constexpr int kNflogEgressGroup = 2;

enum class FlowAction : char { kAllow = 'A', kDeny = 'D', kPass = 'P' };

// Felix's policy kinds' short names (felix/types/policy_id.go): "gnp", "np", "sgnp", "snp",
// "sknp", "knp". Policy::kind (a v3 kind) when set, else "np" for namespaced ids ("<ns>/<name>")
// and "gnp" otherwise.
std::string PolicyKindShortName(const Policy& p);
// Felix's PolicyID.ID(): "<short kind>/<namespace>/<name>" or "<short kind>/<name>".
std::string FelixPolicyId(const Policy& p);

std::string RulePrefix(FlowAction action, bool profile, bool ingress, std::size_t index,
                       std::string_view id);
std::string EndOfTierDropPrefix(bool ingress, std::string_view tier);
std::string NoMatchProfilePrefix(bool ingress);

// What one verdict point stands for (Felix's calc.RuleID).
struct RuleHit {
  enum class Kind { kPolicy, kProfile, kEndOfTier, kNoProfileMatch };
  Kind kind = Kind::kPolicy;
  FlowAction action = FlowAction::kDeny;
  bool ingress = true;
  std::string tier{};         // Policies and end of tier ("" for profiles).
  std::string name{};         // Policy name (without namespace) or profile name.
  std::string namespace_{};   // Namespaced policies.
  std::string policy_kind{};  // Short kind ("gnp", "np", ...); "pro" for profiles.
  int64_t rule_index = -1;    // Policy/profile rules; -1 for end of tier / no profile.
  std::string policy_id{};    // The model's policy/profile id.
  // Goldmane's PolicyHit.trigger of an end-of-tier hit (goldmane/proto/api.proto; Felix's flow
  // log label "<index>|<tier>|<kind>:[<ns>/]<name>|deny|-1", goldmane/proto/methods.go
  // HitFromString): the policy the tier's end is counted against. In the enforced trace the last
  // enforced policy of the tier that applies to the endpoint in that direction
  // (felix/calc/endpoint_lookup_cache.go TierDefaultActionRuleID; PolicyLookup::EndOfTierTrigger);
  // in the pending trace the first policy of the tier evaluated
  // (app-policy/checker/check.go checkTiers' tierDefaultActionRuleID). Unset for other hits, and
  // when the endpoint is not known.
  struct Trigger {
    std::string policy_kind{};  // Short kind ("gnp", "np", "sgnp", ...).
    std::string name{};
    std::string namespace_{};
    bool operator==(const Trigger&) const = default;
  };
  std::optional<Trigger> trigger{};

  bool operator==(const RuleHit&) const = default;
};

std::string_view FlowActionName(FlowAction a);  // "allow", "deny", "pass".

// prefix -> RuleHit for every verdict point the renderer emits for a model (the rules of its
// policies and profiles, its tiers' end-of-tier drops, the no-profile drops). The agent rebuilds
// it with each model it programs (Felix keeps it in step with the calculation graph).
class PolicyLookup {
 public:
  static PolicyLookup Build(const Model& model);
  // The hit for a prefix as read from NFLOG (a trailing NUL or padding is ignored).
  std::optional<RuleHit> Find(std::string_view prefix) const;
  std::size_t size() const { return hits_.size(); }
  // The trigger of `tier`'s end for the local endpoint with address `endpoint` in that direction
  // (RuleHit::Trigger: the tier's last policy that applies to it), or nullopt.
  std::optional<RuleHit::Trigger> EndOfTierTrigger(const net::IPAddr& endpoint, bool ingress,
                                                   std::string_view tier) const;

 private:
  std::unordered_map<std::string, RuleHit> hits_;
  // (endpoint address, ingress, tier) -> trigger, for the model's local endpoints.
  std::map<std::tuple<net::IPAddr, bool, std::string>, RuleHit::Trigger> triggers_;
};

// The Trigger naming policy `p` (its short kind, name and namespace as its flow-log hits).
RuleHit::Trigger TriggerFor(const Policy& p);

}  // namespace calico::policy
