// Typed policy kinds (api/pkg/apis/projectcalico/v3: policy_common.go Rule, networkpolicy.go,
// globalnetworkpolicy.go, profile.go, tier.go). Conventions: common.h.
//
// Thread-safety: values and pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"
#include "calico/model/v3/common.h"

namespace calico::model::v3 {

struct HTTPPath {
  std::string exact{};
  std::string prefix{};

  bool operator==(const HTTPPath&) const = default;
};

// HTTPMatch of a Rule (application layer policy).
struct HTTPMatch {
  std::vector<std::string> methods{};
  std::vector<HTTPPath> paths{};

  bool empty() const { return methods.empty() && paths.empty(); }
  bool operator==(const HTTPMatch&) const = default;
};

struct RuleMetadata {
  std::map<std::string, std::string> annotations{};

  bool operator==(const RuleMetadata&) const = default;
};

// Rule: one rule of a policy or profile.
struct Rule {
  std::string action{};  // "Allow", "Deny", "Log", "Pass" (checked by policy::ParseRule).
  std::optional<int64_t> ip_version{};
  std::optional<Protocol> protocol{};
  std::optional<ICMPFields> icmp{};
  std::optional<Protocol> not_protocol{};
  std::optional<ICMPFields> not_icmp{};
  EntityRule source{};
  EntityRule destination{};
  std::optional<HTTPMatch> http{};
  std::optional<RuleMetadata> metadata{};

  bool operator==(const Rule&) const = default;
};

struct NetworkPolicySpec {
  std::string tier{};  // "" = default.
  std::optional<double> order{};
  std::vector<Rule> ingress{};
  std::vector<Rule> egress{};
  std::string selector{};
  std::vector<std::string> types{};  // "Ingress", "Egress".
  std::string service_account_selector{};
  std::vector<std::string> performance_hints{};

  bool operator==(const NetworkPolicySpec&) const = default;
};

struct NetworkPolicy {
  ObjectMeta metadata{};
  NetworkPolicySpec spec{};

  bool operator==(const NetworkPolicy&) const = default;
};

struct GlobalNetworkPolicySpec {
  std::string tier{};
  std::optional<double> order{};
  std::vector<Rule> ingress{};
  std::vector<Rule> egress{};
  std::string selector{};
  std::vector<std::string> types{};
  bool do_not_track = false;
  bool pre_dnat = false;
  bool apply_on_forward = false;
  std::string service_account_selector{};
  std::string namespace_selector{};
  std::vector<std::string> performance_hints{};

  bool operator==(const GlobalNetworkPolicySpec&) const = default;
};

struct GlobalNetworkPolicy {
  ObjectMeta metadata{};
  GlobalNetworkPolicySpec spec{};

  bool operator==(const GlobalNetworkPolicy&) const = default;
};

struct ProfileSpec {
  std::vector<Rule> ingress{};
  std::vector<Rule> egress{};
  std::map<std::string, std::string> labels_to_apply{};

  bool operator==(const ProfileSpec&) const = default;
};

struct Profile {
  ObjectMeta metadata{};
  ProfileSpec spec{};

  bool operator==(const Profile&) const = default;
};

struct TierSpec {
  std::optional<double> order{};
  std::optional<std::string> default_action{};  // "Deny" (default) or "Pass".

  bool operator==(const TierSpec&) const = default;
};

struct Tier {
  ObjectMeta metadata{};
  TierSpec spec{};

  bool operator==(const Tier&) const = default;
};

// One rule from its JSON. Strict, unlike the resource decoders: an unknown field is an error
// ("source.port: unknown field"), because rules also come from places the validator never saw
// (policy::ModelFromJson) and a misspelt match must not silently widen a rule. `path` prefixes
// the errors ("" for rule-relative paths, "spec.ingress[0]" inside a resource).
[[nodiscard]] Status DecodeRule(const Json& j, std::string_view path, Rule& out);
[[nodiscard]] Result<Rule> DecodeRule(const Json& j);

[[nodiscard]] Result<NetworkPolicy> DecodeNetworkPolicy(const model::Resource& r);
[[nodiscard]] Result<GlobalNetworkPolicy> DecodeGlobalNetworkPolicy(const model::Resource& r);
[[nodiscard]] Result<Profile> DecodeProfile(const model::Resource& r);
[[nodiscard]] Result<Tier> DecodeTier(const model::Resource& r);

}  // namespace calico::model::v3
