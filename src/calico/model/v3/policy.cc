// Decoders of the policy kinds, see policy.h.
#include "calico/model/v3/policy.h"

#include "calico/model/v3/decode.h"

namespace calico::model::v3 {
namespace {

Status DecodeHTTPPath(const Json& j, std::string_view path, HTTPPath& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(CheckKnownFields(j, path, {"exact", "prefix"}));
  RETURN_IF_ERROR(Field(j, path, "exact", out.exact));
  RETURN_IF_ERROR(Field(j, path, "prefix", out.prefix));
  return OkStatus();
}

Status DecodeHTTPMatch(const Json& j, std::string_view path, HTTPMatch& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(CheckKnownFields(j, path, {"methods", "paths"}));
  RETURN_IF_ERROR(Field(j, path, "methods", out.methods));
  RETURN_IF_ERROR(Field(j, path, "paths", out.paths, DecodeHTTPPath));
  return OkStatus();
}

Status DecodeRuleMetadata(const Json& j, std::string_view path, RuleMetadata& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(CheckKnownFields(j, path, {"annotations"}));
  return Field(j, path, "annotations", out.annotations);
}

Status DecodeRuleFn(const Json& j, std::string_view path, Rule& out) {
  return DecodeRule(j, path, out);
}

// The fields NetworkPolicySpec and GlobalNetworkPolicySpec share (api/pkg/apis/projectcalico/v3
// networkpolicy.go and globalnetworkpolicy.go repeat them too), decoded first and in this order for
// both.
template <typename PolicySpec>
Status DecodePolicyCommonFields(const Json& j, std::string_view path, PolicySpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "tier", out.tier));
  RETURN_IF_ERROR(Field(j, path, "order", out.order));
  RETURN_IF_ERROR(Field(j, path, "ingress", out.ingress, DecodeRuleFn));
  RETURN_IF_ERROR(Field(j, path, "egress", out.egress, DecodeRuleFn));
  RETURN_IF_ERROR(Field(j, path, "selector", out.selector));
  RETURN_IF_ERROR(Field(j, path, "types", out.types));
  return OkStatus();
}

Status DecodeNetworkPolicySpec(const Json& j, std::string_view path, NetworkPolicySpec& out) {
  RETURN_IF_ERROR(DecodePolicyCommonFields(j, path, out));
  RETURN_IF_ERROR(Field(j, path, "serviceAccountSelector", out.service_account_selector));
  RETURN_IF_ERROR(Field(j, path, "performanceHints", out.performance_hints));
  return OkStatus();
}

Status DecodeGlobalNetworkPolicySpec(const Json& j, std::string_view path,
                                     GlobalNetworkPolicySpec& out) {
  RETURN_IF_ERROR(DecodePolicyCommonFields(j, path, out));
  RETURN_IF_ERROR(Field(j, path, "doNotTrack", out.do_not_track));
  RETURN_IF_ERROR(Field(j, path, "preDNAT", out.pre_dnat));
  RETURN_IF_ERROR(Field(j, path, "applyOnForward", out.apply_on_forward));
  RETURN_IF_ERROR(Field(j, path, "serviceAccountSelector", out.service_account_selector));
  RETURN_IF_ERROR(Field(j, path, "namespaceSelector", out.namespace_selector));
  RETURN_IF_ERROR(Field(j, path, "performanceHints", out.performance_hints));
  return OkStatus();
}

Status DecodeProfileSpec(const Json& j, std::string_view path, ProfileSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "ingress", out.ingress, DecodeRuleFn));
  RETURN_IF_ERROR(Field(j, path, "egress", out.egress, DecodeRuleFn));
  RETURN_IF_ERROR(Field(j, path, "labelsToApply", out.labels_to_apply));
  return OkStatus();
}

Status DecodeTierSpec(const Json& j, std::string_view path, TierSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "order", out.order));
  RETURN_IF_ERROR(Field(j, path, "defaultAction", out.default_action));
  return OkStatus();
}

}  // namespace

Status DecodeRule(const Json& j, std::string_view path, Rule& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(CheckKnownFields(j, path,
                                   {"action", "ipVersion", "protocol", "notProtocol", "icmp",
                                    "notICMP", "source", "destination", "http", "metadata"}));
  RETURN_IF_ERROR(Field(j, path, "action", out.action));
  RETURN_IF_ERROR(Field(j, path, "ipVersion", out.ip_version));
  RETURN_IF_ERROR(Field(j, path, "protocol", out.protocol, DecodeNumOrString));
  RETURN_IF_ERROR(Field(j, path, "icmp", out.icmp, DecodeICMPFields));
  RETURN_IF_ERROR(Field(j, path, "notProtocol", out.not_protocol, DecodeNumOrString));
  RETURN_IF_ERROR(Field(j, path, "notICMP", out.not_icmp, DecodeICMPFields));
  RETURN_IF_ERROR(Field(j, path, "source", out.source, DecodeEntityRule));
  RETURN_IF_ERROR(Field(j, path, "destination", out.destination, DecodeEntityRule));
  RETURN_IF_ERROR(Field(j, path, "http", out.http, DecodeHTTPMatch));
  RETURN_IF_ERROR(Field(j, path, "metadata", out.metadata, DecodeRuleMetadata));
  return OkStatus();
}

Result<Rule> DecodeRule(const Json& j) {
  Rule rule;
  RETURN_IF_ERROR(DecodeRule(j, "", rule));
  return rule;
}

Result<NetworkPolicy> DecodeNetworkPolicy(const model::Resource& r) {
  return DecodeResource<NetworkPolicy>(r, "NetworkPolicy", DecodeNetworkPolicySpec);
}

Result<GlobalNetworkPolicy> DecodeGlobalNetworkPolicy(const model::Resource& r) {
  return DecodeResource<GlobalNetworkPolicy>(r, "GlobalNetworkPolicy",
                                             DecodeGlobalNetworkPolicySpec);
}

Result<Profile> DecodeProfile(const model::Resource& r) {
  return DecodeResource<Profile>(r, "Profile", DecodeProfileSpec);
}

Result<Tier> DecodeTier(const model::Resource& r) {
  return DecodeResource<Tier>(r, "Tier", DecodeTierSpec);
}

}  // namespace calico::model::v3
