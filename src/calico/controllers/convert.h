// Kubernetes objects -> Calico resources, as Calico's converters do
// (libcalico-go/lib/backend/k8s/conversion/conversion.go: K8sNetworkPolicyToCalico,
// NamespaceToProfile, k8sSelectorToCalico, k8sRuleToCalico, SimplifyPorts; the
// AdminNetworkPolicy / BaselineAdminNetworkPolicy converters of the same file before their
// removal in calico commit bac09c191d; and kube-controllers/pkg/converter, which names the
// NetworkPolicies it writes to etcd "knp.default.<name>").
//
//   networking.k8s.io/v1 NetworkPolicy ns/name
//       -> NetworkPolicy ns/knp.default.<name>, tier default, order 1000,
//          selector "projectcalico.org/orchestrator == 'k8s' && <podSelector>", types from
//          policyTypes (none = Ingress), one Allow rule per (protocol, peer): ports simplified
//          into ranges, TCP when a port names no protocol, endPort as "port:endPort", named ports
//          kept, ipBlock as nets/notNets, namespaceSelector with all() for {}.
//   v1 Namespace name
//       -> Profile kns.<name>: ingress/egress [Allow], labelsToApply pcns.<k>=<v> for every
//          namespace label plus pcns.projectcalico.org/name=<name>.
//   policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy name
//       -> GlobalNetworkPolicy kanp.kube-admin.<name>, tier kube-admin, order = priority,
//          rules with the ANP actions (Allow/Deny/Pass) and the rule name as annotation `name`.
//   BaselineAdminNetworkPolicy default
//       -> GlobalNetworkPolicy kbanp.kube-baseline.default, tier kube-baseline, order 1000.
//   Admin policies: types only for directions with rules; a rule that cannot be converted
//   becomes "Deny" when its action was Deny or Pass (fail closed), else it is dropped.
//
// Upstream put admin policies in tiers named adminnetworkpolicy / baselineadminnetworkpolicy
// with prefixes kanp.adminnetworkpolicy. / kbanp.baselineadminnetworkpolicy.; this project has
// the kube-admin and kube-baseline tiers of current Calico instead (docs/COMPATIBILITY.md).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::controllers {

using model::Json;

inline constexpr std::string_view kK8sNetworkPolicyPrefix = "knp.default.";
inline constexpr std::string_view kNamespaceProfilePrefix = "kns.";
inline constexpr std::string_view kNamespaceLabelPrefix = "pcns.";
inline constexpr std::string_view kNameLabel = "projectcalico.org/name";
inline constexpr std::string_view kAdminPolicyPrefix = "kanp.kube-admin.";
inline constexpr std::string_view kBaselinePolicyPrefix = "kbanp.kube-baseline.";
inline constexpr std::string_view kAdminTier = "kube-admin";
inline constexpr std::string_view kBaselineTier = "kube-baseline";

enum class SelectorType { kNamespace, kPod };

// k8sSelectorToCalico: `selector` null = no selector ("" for namespaces, the orchestrator term
// alone for pods); {} selects all (all() for namespaces).
std::string K8sSelectorToCalico(const Json* selector, SelectorType type);

// A converted object and the rules that could not be converted ("ingress rule 2: ...").
struct Converted {
  model::Resource resource;
  std::vector<std::string> dropped_rules;
};

// Errors: kInvalidArgument when the object is not of the kind or has no name.
[[nodiscard]] Result<Converted> K8sNetworkPolicyToCalico(const model::Resource& np);
[[nodiscard]] Result<model::Resource> NamespaceToProfile(const model::Resource& ns);
[[nodiscard]] Result<Converted> AdminNetworkPolicyToCalico(const model::Resource& anp);
[[nodiscard]] Result<Converted> BaselineAdminNetworkPolicyToCalico(const model::Resource& banp);

// SimplifyPorts: numeric ports (numbers or "min:max" strings) merged into the fewest ranges,
// named ports passed through first... in input order; output of one numeric port unchanged.
Json SimplifyPorts(const Json& ports);

}  // namespace calico::controllers
