#include "calico/calc/policy_conversion.h"

#include <gtest/gtest.h>

namespace calico::calc {
namespace {

using model::Json;

// An EntityRule from its JSON form.
model::v3::EntityRule E(const Json& j) {
  model::v3::EntityRule e;
  EXPECT_TRUE(model::v3::DecodeEntityRule(j, "", e)) << j.dump();
  return e;
}

// PolicyEndpointSelector of a policy spec's JSON form.
std::optional<selector::Selector> PolicySelector(const Json& spec, std::string_view ns) {
  return PolicyEndpointSelector(spec.value("selector", ""), spec.value("namespaceSelector", ""),
                                spec.value("serviceAccountSelector", ""), ns);
}

std::string Canon(std::string_view text) {
  return selector::Normalise(text);
}

TEST(PolicyConversionTest, NamespacedPolicySelectsItsNamespace) {
  auto sel = PolicySelector(Json{{"selector", "app == 'db'"}}, "ns1");
  ASSERT_TRUE(sel);
  EXPECT_EQ(sel->String(), Canon("(app == 'db') && projectcalico.org/namespace == 'ns1'"));
  EXPECT_TRUE(
      sel->Evaluate(selector::LabelMap{{"app", "db"}, {std::string(kNamespaceLabel), "ns1"}}));
  EXPECT_FALSE(
      sel->Evaluate(selector::LabelMap{{"app", "db"}, {std::string(kNamespaceLabel), "ns2"}}));
  auto all = PolicySelector(Json::object(), "ns1");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->String(), Canon("all() && projectcalico.org/namespace == 'ns1'"));
}

TEST(PolicyConversionTest, GlobalPolicyNamespaceAndServiceAccountSelectors) {
  auto sel = PolicySelector(Json{{"selector", "app == 'db'"},
                                 {"namespaceSelector", "team == 'a'"},
                                 {"serviceAccountSelector", "role == 'x'"}},
                            "");
  ASSERT_TRUE(sel);
  EXPECT_EQ(sel->String(), Canon("((app == 'db') && (pcns.team == 'a')) && (pcsa.role == 'x')"));
  EXPECT_FALSE(PolicySelector(Json{{"selector", "app == "}}, ""));
  auto global = PolicySelector(Json{{"selector", "app == 'db'"}}, "");
  ASSERT_TRUE(global);
  EXPECT_EQ(global->String(), Canon("app == 'db'"));
}

TEST(PolicyConversionTest, EntityRuleSelectors) {
  const std::string ns_eq = Canon("projectcalico.org/namespace == 'ns1'");
  // Namespaced policy: selectors are scoped to the policy's namespace.
  EXPECT_EQ(EntityRuleSelector(E(Json{{"selector", "app == 'web'"}}), "ns1"),
            Canon("(projectcalico.org/namespace == 'ns1') && (app == 'web')"));
  // notSelector alone: selector becomes the namespace; notSelector is kept.
  EXPECT_EQ(EntityRuleSelector(E(Json{{"notSelector", "app == 'web'"}}), "ns1"), ns_eq);
  // Nothing to scope (nets only).
  EXPECT_EQ(EntityRuleSelector(E(Json{{"nets", {"10.0.0.0/8"}}}), "ns1"), "");
  // namespaceSelector replaces the policy namespace, on the pcns. labels.
  EXPECT_EQ(EntityRuleSelector(E(Json{{"namespaceSelector", "team == 'a'"}}), "ns1"),
            Canon("pcns.team == 'a'"));
  EXPECT_EQ(EntityRuleSelector(
                E(Json{{"namespaceSelector", "global()"}, {"selector", "role == 'dns'"}}), "ns1"),
            Canon("(!has(projectcalico.org/namespace)) && (role == 'dns')"));
  // Global policy: unscoped unless namespaceSelector.
  EXPECT_EQ(EntityRuleSelector(E(Json{{"selector", "app == 'web'"}}), ""), Canon("app == 'web'"));
  EXPECT_EQ(EntityRuleSelector(E(Json{{"serviceAccounts", {{"names", {"sa1", "sa2"}}}}}), ""),
            Canon("projectcalico.org/serviceaccount in {'sa1', 'sa2'}"));
  EXPECT_EQ(EntityRuleSelector(E(Json{{"selector", "bad =="}}), ""), std::nullopt);
}

TEST(PolicyConversionTest, ScopeRulesFoldsNamespaceSelectorIntoSelector) {
  std::vector<model::v3::Rule> rules;
  for (const Json& j :
       {Json{{"action", "Allow"},
             {"source", {{"selector", "app == 'web'"}, {"namespaceSelector", "all()"}}},
             {"destination", {{"ports", {80}}}}},
        Json{{"action", "Deny"}}}) {
    rules.push_back(*model::v3::DecodeRule(j));
  }
  const std::vector<model::v3::Rule> scoped = ScopeRules(rules, "ns1");
  EXPECT_EQ(scoped[0].source, E(Json({{"selector", Canon("(all()) && (app == 'web')")}})));
  EXPECT_EQ(scoped[0].destination, rules[0].destination);
  EXPECT_EQ(scoped[1], rules[1]);
  EXPECT_TRUE(ScopeRules({}, "ns1").empty());
}

}  // namespace
}  // namespace calico::calc
