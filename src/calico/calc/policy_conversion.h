// From projectcalico.org/v3 policies to what the calculation graph evaluates: the namespace
// scoping that libcalico-go's syncer update processors apply when they convert v3
// NetworkPolicy / GlobalNetworkPolicy / Profile into Felix's model
// (libcalico-go/lib/backend/syncersv1/updateprocessors: networkpolicyprocessor.go, rules.go).
//
//  * Policy selector: a NetworkPolicy selects only endpoints of its namespace:
//      (<selector>) && projectcalico.org/namespace == "<ns>"
//    GlobalNetworkPolicy namespaceSelector and serviceAccountSelector are ANDed on with their
//    labels prefixed "pcns." / "pcsa." (the namespace / service-account labels Felix sees through
//    the kns.<ns> / ksa.<ns>.<sa> profiles' labelsToApply).
//  * Rule selectors (EntityRule): the namespace part is
//      namespaceSelector given     -> namespaceSelector with "pcns." labels
//                                     (global() -> !has(projectcalico.org/namespace))
//      else NetworkPolicy in <ns>  -> projectcalico.org/namespace == "<ns>"
//    serviceAccounts {names, selector} become projectcalico.org/serviceaccount in {names} and
//    the "pcsa."-prefixed selector. When the namespace part is non-empty and the rule has a
//    selector, notSelector or namespaceSelector, `selector` becomes
//      (<namespace part>) && (<selector> [&& <serviceaccount part>])
//    (just the namespace part when there is no selector); notSelector is kept as is. The folded
//    namespaceSelector / serviceAccounts are cleared, so the rule only uses IP-set selectors.
// Selector texts are trimmed; blank ones count as absent.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/model/v3/policy.h"
#include "calico/selector/selector.h"

namespace calico::calc {

inline constexpr std::string_view kNamespaceLabel = "projectcalico.org/namespace";
inline constexpr std::string_view kServiceAccountLabel = "projectcalico.org/serviceaccount";
inline constexpr std::string_view kNamespaceLabelPrefix = "pcns.";
inline constexpr std::string_view kServiceAccountLabelPrefix = "pcsa.";

// The endpoint selector of a (Global)NetworkPolicy: its selector, namespaceSelector (global
// policies) and serviceAccountSelector; `ns` is "" for global policies. nullopt when a selector
// does not parse (the policy then selects nothing).
std::optional<selector::Selector> PolicyEndpointSelector(std::string_view selector,
                                                         std::string_view namespace_selector,
                                                         std::string_view service_account_selector,
                                                         std::string_view ns);

// The scoped selector text of one EntityRule (see above); "" when the rule has none. nullopt
// when a selector field does not parse.
std::optional<std::string> EntityRuleSelector(const model::v3::EntityRule& entity,
                                              std::string_view ns);

// `rules` with every source/destination scoped as above. Entities whose selectors do not parse
// are left unchanged (parsing the rule then reports the field).
std::vector<model::v3::Rule> ScopeRules(std::vector<model::v3::Rule> rules, std::string_view ns);

}  // namespace calico::calc
