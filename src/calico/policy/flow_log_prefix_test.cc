#include "calico/policy/flow_log_prefix.h"

#include <string>

#include <gtest/gtest.h>

namespace calico::policy {
namespace {

TEST(FlowLogPrefixTest, FelixFormats) {
  // felix/rules/nflogprefix.go: "<action><owner><dir><index>|<id>".
  EXPECT_EQ(RulePrefix(FlowAction::kAllow, false, true, 0, "gnp/allow-web"), "API0|gnp/allow-web");
  EXPECT_EQ(RulePrefix(FlowAction::kDeny, false, false, 12, "np/ns1/deny"), "DPE12|np/ns1/deny");
  EXPECT_EQ(RulePrefix(FlowAction::kPass, true, true, 3, "kns.ns1"), "PRI3|kns.ns1");
  EXPECT_EQ(EndOfTierDropPrefix(true, "default"), "DPI|default");
  EXPECT_EQ(NoMatchProfilePrefix(false), "DRE");
}

TEST(FlowLogPrefixTest, PolicyIds) {
  EXPECT_EQ(FelixPolicyId(Policy{.id = "allow-web"}), "gnp/allow-web");
  EXPECT_EQ(FelixPolicyId(Policy{.id = "ns1/web"}), "np/ns1/web");
  EXPECT_EQ(FelixPolicyId(Policy{.id = "ns1/knp.default.x", .kind = "KubernetesNetworkPolicy"}),
            "knp/ns1/knp.default.x");
}

TEST(FlowLogPrefixTest, LongPrefixesAreHashedToFitNflog) {
  const std::string id = "np/" + std::string(30, 'n') + "/" + std::string(40, 'p');
  const std::string prefix = RulePrefix(FlowAction::kAllow, false, true, 7, id);
  EXPECT_EQ(prefix.size(), kNflogPrefixMaxLength - 1);
  EXPECT_EQ(prefix.substr(0, 10), ("API7|" + id).substr(0, 10));
  EXPECT_EQ(prefix.substr(prefix.size() - 10), id.substr(id.size() - 10));
  // 62 characters stay as they are; 63 are hashed (a name cannot spoof a hashed prefix).
  const std::string at_limit(62 - 5, 'x');
  EXPECT_EQ(RulePrefix(FlowAction::kAllow, true, true, 0, at_limit), "ARI0|" + at_limit);
  EXPECT_NE(RulePrefix(FlowAction::kAllow, true, true, 0, at_limit + "x"),
            "ARI0|" + at_limit + "x");
}

TEST(PolicyLookupTest, MapsEveryVerdictPointBack) {
  Model m;
  m.policies.push_back(Policy{
      .id = "ns1/web",
      .tier = "default",
      .ingress = Json::parse(R"([{"action": "Log"}, {"action": "Deny"}, {"action": "Allow"}])"),
      .egress = Json::parse(R"([{"action": "Pass"}])")});
  const std::string long_name(70, 'g');
  m.policies.push_back(Policy{
      .id = long_name, .tier = "security", .ingress = Json::parse(R"([{"action": "Allow"}])")});
  m.profiles.push_back(
      Profile{.id = "kns.ns1", .ingress = Json::parse(R"([{"action": "Allow"}])")});
  const PolicyLookup lookup = PolicyLookup::Build(m);

  auto hit = lookup.Find("DPI1|np/ns1/web");
  ASSERT_TRUE(hit);
  EXPECT_EQ(*hit, (RuleHit{.kind = RuleHit::Kind::kPolicy,
                           .action = FlowAction::kDeny,
                           .ingress = true,
                           .tier = "default",
                           .name = "web",
                           .namespace_ = "ns1",
                           .policy_kind = "np",
                           .rule_index = 1,
                           .policy_id = "ns1/web"}));
  EXPECT_FALSE(lookup.Find("API0|np/ns1/web"));  // Rule 0 is a Log rule: no verdict point.
  ASSERT_TRUE(lookup.Find("PPE0|np/ns1/web"));
  EXPECT_EQ(lookup.Find("PPE0|np/ns1/web")->action, FlowAction::kPass);
  // A NUL-terminated prefix as NFLOG delivers it.
  EXPECT_TRUE(lookup.Find(std::string("API2|np/ns1/web") + '\0'));

  auto hashed = lookup.Find(RulePrefix(FlowAction::kAllow, false, true, 0, "gnp/" + long_name));
  ASSERT_TRUE(hashed);
  EXPECT_EQ(hashed->name, long_name);
  EXPECT_EQ(hashed->tier, "security");

  auto eot = lookup.Find("DPE|default");
  ASSERT_TRUE(eot);
  EXPECT_EQ(eot->kind, RuleHit::Kind::kEndOfTier);
  EXPECT_FALSE(eot->ingress);
  auto profile = lookup.Find("ARI0|kns.ns1");
  ASSERT_TRUE(profile);
  EXPECT_EQ(profile->kind, RuleHit::Kind::kProfile);
  EXPECT_EQ(lookup.Find("DRI")->kind, RuleHit::Kind::kNoProfileMatch);
  EXPECT_FALSE(lookup.Find("API0|gnp/unknown"));
}

}  // namespace
}  // namespace calico::policy
