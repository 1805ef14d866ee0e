#include "calico/policy/ruleset_renderer.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
#include "calico/nft_model/ruleset.h"
#include "calico/policy/host_endpoints.h"
#include "calico/policy/named_ports.h"
#include "calico/policy/names.h"
#include "calico/policy/testing/model_from_json.h"
#include "calico/selector/selector.h"

namespace calico::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Model LoadModel(const std::string& name) {
  const std::string text =
      calico::testing::ReadSourceFile("src/calico/policy/testdata/" + name + ".json");
  auto model = ModelFromJson(Json::parse(text));
  EXPECT_TRUE(model) << (model ? "" : model.error().message());
  return model ? *model : Model{};
}

// The golden cases; nft_validity_test.cc loads the same .nft files into the kernel.
class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, Renders) {
  const Model model = LoadModel(GetParam());
  auto text = RenderRuleset(model);
  ASSERT_TRUE(text) << text.error().message();
  calico::testing::ExpectGolden("src/calico/policy/testdata/" + GetParam() + ".nft", *text);
}

TEST_P(GoldenTest, OutputDoesNotDependOnEndpointOrder) {
  Model model = LoadModel(GetParam());
  auto a = RenderRuleset(model);
  std::reverse(model.endpoints.begin(), model.endpoints.end());
  std::reverse(model.host_endpoints.begin(), model.host_endpoints.end());
  std::reverse(model.ip_sets.begin(), model.ip_sets.end());
  auto b = RenderRuleset(model);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
}

// The agent programs the parts; `nft -f` users get the text: both must say the same.
TEST_P(GoldenTest, PartsAreWhatTheTextSays) {
  const Model model = LoadModel(GetParam());
  auto text = RenderRuleset(model);
  auto parts = RenderRulesetParts(model);
  ASSERT_TRUE(text && parts);
  auto parsed = nft_model::ParseNftRuleset(*text);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, *parts);
}

// Rendering with a cache that holds every other golden model's chains gives what a fresh render
// gives.
TEST_P(GoldenTest, CachedRenderEqualsFreshRender) {
  RenderCache cache;
  for (const char* other : {"tiers_pass", "selector_ipsets", "ipv6"}) {
    ASSERT_TRUE(RenderRulesetParts(LoadModel(other), {}, &cache));
  }
  const Model model = LoadModel(GetParam());
  auto fresh = RenderRulesetParts(model);
  auto cached = RenderRulesetParts(model, {}, &cache);
  auto again = RenderRulesetParts(model, {}, &cache);
  ASSERT_TRUE(fresh && cached && again);
  EXPECT_EQ(*cached, *fresh);
  EXPECT_EQ(*again, *fresh);
}

INSTANTIATE_TEST_SUITE_P(Policy, GoldenTest,
                         ::testing::Values("profile_only", "tiers_pass", "deny_allow_order",
                                           "icmp_ports_nets", "ipv6", "selector_ipsets",
                                           "named_ports", "host_endpoints",
                                           "host_endpoints_prednat_untracked", "merged_runs"));

// The same models with flow logs on (testdata/<case>.flowlogs.nft): every Allow/Deny/Pass rule,
// end-of-tier and no-profile drop logs to NFLOG with Felix's prefix; nothing else changes.
class FlowLogGoldenTest : public ::testing::TestWithParam<std::string> {};

RenderOptions FlowLogOptions() {
  RenderOptions o;
  o.flow_logs.enabled = true;
  return o;
}

TEST_P(FlowLogGoldenTest, Renders) {
  const Model model = LoadModel(GetParam());
  auto text = RenderRuleset(model, FlowLogOptions());
  ASSERT_TRUE(text) << text.error().message();
  calico::testing::ExpectGolden("src/calico/policy/testdata/" + GetParam() + ".flowlogs.nft",
                                *text);
}

// Dropping every flow-log statement gives the ruleset without flow logs: the switch adds the
// log statements and nothing else.
TEST_P(FlowLogGoldenTest, OnlyAddsLogStatements) {
  const Model model = LoadModel(GetParam());
  auto with = RenderRuleset(model, FlowLogOptions());
  auto without = RenderRuleset(model);
  ASSERT_TRUE(with && without);
  std::string stripped = *with;
  for (std::size_t pos; (pos = stripped.find("log group ")) != std::string::npos;) {
    const std::size_t q1 = stripped.find('"', pos);
    const std::size_t q2 = stripped.find('"', q1 + 1);
    stripped.erase(pos, q2 + 2 - pos);
  }
  EXPECT_EQ(stripped, *without);
}

// Switching flow logs on and off with one cache gives what fresh renders give.
TEST_P(FlowLogGoldenTest, CacheFollowsTheSwitch) {
  const Model model = LoadModel(GetParam());
  RenderCache cache;
  for (int round = 0; round < 2; ++round) {
    auto off = RenderRulesetParts(model, {}, &cache);
    auto on = RenderRulesetParts(model, FlowLogOptions(), &cache);
    ASSERT_TRUE(off && on);
    EXPECT_EQ(*off, *RenderRulesetParts(model));
    EXPECT_EQ(*on, *RenderRulesetParts(model, FlowLogOptions()));
  }
}

INSTANTIATE_TEST_SUITE_P(Policy, FlowLogGoldenTest,
                         ::testing::Values("profile_only", "tiers_pass", "deny_allow_order",
                                           "host_endpoints_prednat_untracked", "merged_runs"));

// Felix's overlay filter (RenderOptions::overlay, felix/rules/static.go filterInputChain and
// filterOutputChain) with IPIP, IPv4 and IPv6 VXLAN on: testdata/overlay_filter.nft (which
// nft_validity_test.cc loads into the kernel); only the overlay rules and sets are added.
RenderOptions OverlayOptions() {
  RenderOptions o;
  o.overlay = {
      .ipip = true,
      .vxlan = true,
      .vxlan_v6 = true,
      .host_nets = {*net::CIDR::ParseNet("198.18.0.11"), *net::CIDR::ParseNet("198.18.0.12")},
      .vxlan_sources = {*net::CIDR::ParseNet("198.18.0.12"), *net::CIDR::ParseNet("fd00:18::12")}};
  return o;
}

TEST(RulesetRendererTest, OverlayFilterGolden) {
  const Model model = LoadModel("profile_only");
  auto text = RenderRuleset(model, OverlayOptions());
  ASSERT_TRUE(text) << text.error().message();
  calico::testing::ExpectGolden("src/calico/policy/testdata/overlay_filter.nft", *text);
  auto parts = RenderRulesetParts(model, OverlayOptions());
  ASSERT_TRUE(parts);
  auto parsed = nft_model::ParseNftRuleset(*text);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, *parts);
}

TEST(RulesetRendererTest, OverlayFilterOnlyAddsItsRulesAndSets) {
  const Model model = LoadModel("profile_only");
  auto with = RenderRulesetParts(model, OverlayOptions());
  auto without = RenderRulesetParts(model);
  ASSERT_TRUE(with && without);
  nft_model::NftRuleset stripped = *with;
  for (const char* set : {"cali40all-hosts-net", "cali40all-vxlan-net", "cali60all-vxlan-net"}) {
    EXPECT_EQ(stripped.sets.erase(set), 1u) << set;
  }
  for (const char* chain : {"cali-INPUT", "cali-OUTPUT"}) {
    std::vector<std::string> kept;
    for (const std::string& rule : stripped.chains.at(chain).rules) {
      if (rule.find("all-hosts-net") == std::string::npos &&
          rule.find("th dport 4789") == std::string::npos &&
          rule.find("l4proto 4 ") == std::string::npos) {
        kept.push_back(rule);
      }
    }
    stripped.chains.at(chain).rules = nft_model::NftLines(std::move(kept));
  }
  EXPECT_EQ(stripped, *without);
  // The deny action applies to IPIP and IPv6 VXLAN; IPv4 VXLAN always drops, as upstream.
  RenderOptions reject = OverlayOptions();
  reject.deny_action = DenyAction::kReject;
  reject.vxlan_port = 4790;
  auto text = RenderRuleset(model, reject);
  ASSERT_TRUE(text);
  EXPECT_THAT(*text, HasSubstr("meta l4proto 4 counter reject comment \"Reject IPIP packets from "
                               "non-Calico hosts\""));
  EXPECT_THAT(*text, HasSubstr("th dport 4790 fib daddr type local counter drop comment \"Drop "
                               "IPv4 VXLAN packets from non-allowed hosts\""));
  EXPECT_THAT(*text, HasSubstr("th dport 4790 fib daddr type local counter reject comment "
                               "\"Reject IPv6 VXLAN packets from non-allowed hosts\""));
  // Only the overlays that are on: no IPIP, no IPv6 set.
  RenderOptions v4only;
  v4only.overlay.vxlan = true;
  auto parts = RenderRulesetParts(model, v4only);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->sets.count("cali40all-vxlan-net"), 1u);
  EXPECT_TRUE(parts->sets.at("cali40all-vxlan-net").elements.empty());
  EXPECT_EQ(parts->sets.count("cali60all-vxlan-net"), 0u);
  EXPECT_EQ(parts->sets.count("cali40all-hosts-net"), 0u);
}

Model SmallModel() {
  Model m;
  m.endpoints.push_back(Endpoint{
      .name = "ns/a",
      .interface_name = "cali1",
      .addresses = {*net::CIDR::Parse("10.0.0.1/32")},
      .labels = {{"app", "a"}},
      .profiles = {"prof"},
      .ingress_tiers = {{.name = "default", .policies = {"p"}}},
  });
  m.policies.push_back(
      Policy{.id = "p", .tier = "default", .ingress = Json::parse(R"([{"action": "Allow"}])")});
  m.profiles.push_back(Profile{.id = "prof"});
  return m;
}

TEST(RulesetRendererTest, SmallModelStructure) {
  auto text = RenderRuleset(SmallModel());
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_THAT(*text, HasSubstr("table inet calico\ndelete table inet calico\ntable inet calico {"));
  EXPECT_THAT(*text, HasSubstr("\"cali1\" : goto cali-tw-cali1"));
  EXPECT_THAT(*text, HasSubstr("\"cali1\" : goto cali-fw-cali1"));
  // The tier's first policy: no earlier policy can have set the pass mark, so no guard.
  EXPECT_THAT(*text, HasSubstr("\tjump cali-pi-default/p\n"));
  EXPECT_THAT(*text, HasSubstr("End of tier default. Drop if no policies passed packet"));
  EXPECT_THAT(*text, HasSubstr("jump cali-pri-prof\n"));
  EXPECT_THAT(*text, HasSubstr("jump cali-pro-prof\n"));
  // Egress has no tiers: no policy chain for that direction.
  EXPECT_THAT(*text, Not(HasSubstr("cali-po-default/p")));
  EXPECT_THAT(*text, HasSubstr("counter drop comment \"Configured DefaultEndpointToHostAction\""));
}

TEST(RulesetRendererTest, Options) {
  RenderOptions opts{.marks = {.accept = 0x1, .pass = 0x2},
                     .interface_prefixes = {"cali", "tap"},
                     .endpoint_to_host_action = EndpointToHostAction::kReturn,
                     .drop_invalid = false,
                     .drop_vxlan_from_workloads = false,
                     .drop_ipip_from_workloads = false,
                     .replace_table = false};
  auto text = RenderRuleset(SmallModel(), opts);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_THAT(*text, Not(HasSubstr("delete table")));
  EXPECT_THAT(*text, HasSubstr("iifname \"tap*\" jump cali-from-wl-dispatch"));
  EXPECT_THAT(*text, HasSubstr("oifname \"tap*\" jump cali-to-wl-dispatch"));
  EXPECT_THAT(*text, HasSubstr("iifname \"tap*\" goto cali-wl-to-host"));
  EXPECT_THAT(*text,
              HasSubstr("counter return comment \"Configured DefaultEndpointToHostAction\""));
  EXPECT_THAT(*text, HasSubstr("meta mark set meta mark | 0x1 return"));
  EXPECT_THAT(*text, HasSubstr("meta mark set meta mark & 0xfffffffc"));
  EXPECT_THAT(*text, Not(HasSubstr("ct state invalid")));
  EXPECT_THAT(*text, Not(HasSubstr("VXLAN")));

  opts.endpoint_to_host_action = EndpointToHostAction::kAccept;
  text = RenderRuleset(SmallModel(), opts);
  ASSERT_TRUE(text);
  EXPECT_THAT(*text,
              HasSubstr("counter accept comment \"Configured DefaultEndpointToHostAction\""));
}

// FelixConfiguration nftablesFilterDenyAction: Reject turns every deny of the filter path into
// `reject` (felix/rules/rule_defs.go IptablesFilterDenyAction); the workload-to-host action and
// the policy's Allow keep theirs.
TEST(RulesetRendererTest, DenyActionReject) {
  Model m = SmallModel();
  m.policies[0].ingress =
      Json::parse(R"([{"action": "Deny", "protocol": "TCP"}, {"action": "Allow"}])");
  RenderCache cache;
  auto dropped_parts = RenderRulesetParts(m, RenderOptions{}, &cache);
  ASSERT_TRUE(dropped_parts) << dropped_parts.error().message();
  const std::string dropped = nft_model::NftRulesetText(*dropped_parts);
  EXPECT_THAT(dropped, HasSubstr("meta l4proto 6 counter drop comment"));
  EXPECT_THAT(dropped, Not(HasSubstr("reject")));

  // The same cache: it must not hand back the "drop" lines compiled before.
  auto parts = RenderRulesetParts(m, RenderOptions{.deny_action = DenyAction::kReject}, &cache);
  ASSERT_TRUE(parts) << parts.error().message();
  const std::optional<std::string> text = nft_model::NftRulesetText(*parts);
  EXPECT_THAT(*text, HasSubstr("meta l4proto 6 counter reject comment"));
  EXPECT_THAT(*text, HasSubstr("End of tier default. Reject if no policies passed packet"));
  EXPECT_THAT(*text, HasSubstr("counter reject comment \"Reject if no profiles matched\""));
  EXPECT_THAT(*text, HasSubstr("ct state invalid counter reject"));
  EXPECT_THAT(*text, HasSubstr("counter reject comment \"Unknown interface\""));
  EXPECT_THAT(*text, HasSubstr("Reject VXLAN encapped packets originating in workloads"));
  EXPECT_THAT(*text, HasSubstr("counter drop comment \"Configured DefaultEndpointToHostAction\""));
}

// allowVXLANPacketsFromWorkloads and allowIPIPPacketsFromWorkloads are separate settings.
TEST(RulesetRendererTest, EncapFromWorkloadsSeparately) {
  auto text = RenderRuleset(SmallModel(), RenderOptions{.drop_vxlan_from_workloads = false});
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_THAT(*text, Not(HasSubstr("VXLAN encapped")));
  EXPECT_THAT(*text, HasSubstr("meta l4proto 4 counter drop"));
  text = RenderRuleset(SmallModel(), RenderOptions{.drop_ipip_from_workloads = false});
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_THAT(*text, HasSubstr("th dport 4789 counter drop"));
  EXPECT_THAT(*text, Not(HasSubstr("IPinIP encapped")));
}

TEST(RulesetRendererTest, SharedPolicyChainRenderedOnce) {
  Model m = SmallModel();
  Endpoint second = m.endpoints[0];
  second.name = "ns/b";
  second.interface_name = "cali2";
  m.endpoints.push_back(second);
  auto text = RenderRuleset(m);
  ASSERT_TRUE(text) << text.error().message();
  std::size_t count = 0;
  for (std::size_t pos = text->find("chain cali-pi-default/p {"); pos != std::string::npos;
       pos = text->find("chain cali-pi-default/p {", pos + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u);
  EXPECT_THAT(*text,
              HasSubstr("\"cali1\" : goto cali-tw-cali1,\n\t\t\t\"cali2\" : goto cali-tw-cali2"));
}

// A cached chain is reused only while its rules and the IP sets they use are unchanged.
TEST(RulesetRendererTest, CacheFollowsChangesToRulesAndSets) {
  RenderCache cache;
  Model m = SmallModel();
  m.policies[0].ingress =
      Json::parse(R"([{"action": "Allow", "source": {"selector": "app == 'b'"}}])");
  m.ip_sets.push_back(
      IpSet{.selector = "app == 'b'", .members = {*net::CIDR::Parse("10.0.0.2/32")}});
  auto first = RenderRulesetParts(m, {}, &cache);
  ASSERT_TRUE(first) << first.error().message();

  // New port: the policy chain changes.
  m.policies[0].ingress = Json::parse(R"([{"action": "Allow", "source": {"selector": "app == 'b'"},
                                            "protocol": "TCP", "destination": {"ports": [80]}}])");
  auto second = RenderRulesetParts(m, {}, &cache);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, *RenderRulesetParts(m));
  EXPECT_NE(second->chains.at("cali-pi-default/p").rules,
            first->chains.at("cali-pi-default/p").rules);

  // New members: only the set's elements change.
  m.ip_sets[0].members.push_back(*net::CIDR::Parse("10.0.0.3/32"));
  auto third = RenderRulesetParts(m, {}, &cache);
  ASSERT_TRUE(third);
  EXPECT_EQ(*third, *RenderRulesetParts(m));
  const std::string set_name = SetName(selector::Parse("app == 'b'")->UniqueId(), 4);
  EXPECT_THAT(third->sets.at(set_name).elements, ::testing::ElementsAre("10.0.0.2", "10.0.0.3"));
  EXPECT_EQ(third->chains, second->chains);

  // The set is gone: the cached chain must not hide the error.
  m.ip_sets.clear();
  auto fourth = RenderRulesetParts(m, {}, &cache);
  ASSERT_FALSE(fourth);
  EXPECT_THAT(fourth.error().message(), HasSubstr("no IP set for selector"));
}

TEST(RulesetRendererTest, ModelErrors) {
  auto expect_error = [](const Model& m, const std::string& want) {
    auto text = RenderRuleset(m);
    ASSERT_FALSE(text) << "rendered unexpectedly";
    EXPECT_THAT(text.error().message(), HasSubstr(want));
  };
  Model m = SmallModel();
  m.endpoints[0].ingress_tiers[0].policies = {"missing"};
  expect_error(m, "endpoint ns/a: ingress tier default references unknown policy \"missing\"");

  m = SmallModel();
  m.endpoints[0].profiles = {"nope"};
  expect_error(m, "endpoint ns/a: references unknown profile \"nope\"");

  m = SmallModel();
  m.policies[0].tier = "other";
  expect_error(m, "lists policy \"p\", which belongs to tier \"other\"");

  m = SmallModel();
  m.endpoints.push_back(m.endpoints[0]);
  expect_error(m, "endpoints[1].interfaceName: duplicate interface name \"cali1\"");

  m = SmallModel();
  m.endpoints[0].interface_name = "cali\"x";
  expect_error(m, "endpoints[0].interfaceName: invalid interface name");

  m = SmallModel();
  m.endpoints[0].interface_name = "cali0123456789ab";
  expect_error(m, "longer than 15 characters");

  m = SmallModel();
  m.policies.push_back(m.policies[0]);
  expect_error(m, "duplicate policy id \"p\"");

  m = SmallModel();
  m.policies[0].ingress =
      Json::parse(R"([{"action": "Allow"}, {"action": "Allow", "ipVersion": 5}])");
  expect_error(m, "policy default/p ingress[1]: ipVersion: must be 4 or 6");

  m = SmallModel();
  m.policies[0].ingress =
      Json::parse(R"([{"action": "Allow", "source": {"selector": "x == 'y'"}}])");
  expect_error(
      m,
      "policy default/p ingress[0]: source.selector: no IP set for selector \"x == \"y\"\" (id s:");
}

// With a report, one policy that cannot be compiled never stops the rest: its chain drops, every
// other policy, profile and endpoint is rendered as without it, and the report names it.
TEST(RulesetRendererTest, ReportIsolatesUnrenderablePolicy) {
  Model m = SmallModel();
  Endpoint second = m.endpoints[0];
  second.name = "ns/b";
  second.interface_name = "cali2";
  second.ingress_tiers = {{.name = "default", .policies = {"good"}}};
  m.endpoints.push_back(second);
  m.endpoints[0].ingress_tiers[0].policies = {"p", "good"};
  m.policies.push_back(Policy{.id = "good",
                              .tier = "default",
                              .ingress = Json::parse(R"([{"action": "Deny", "protocol": "TCP",
                                  "destination": {"ports": [22]}}])")});
  m.policies[0].ingress =
      Json::parse(R"([{"action": "Allow"}, {"action": "Allow", "ipVersion": 5}])");

  // Without a report: an error, as before.
  ASSERT_FALSE(RenderRulesetParts(m));

  RenderReport report;
  RenderCache cache;
  for (int pass = 0; pass < 2; ++pass) {  // The second render is from the cache: same report.
    auto parts = RenderRulesetParts(m, {}, &cache, &report);
    ASSERT_TRUE(parts) << parts.error().message();
    ASSERT_EQ(report.skipped.size(), 1u);
    EXPECT_EQ(report.skipped[0].kind, "policy");
    EXPECT_EQ(report.skipped[0].name, "default/p");
    EXPECT_THAT(report.skipped[0].message, HasSubstr("ingress[1]: ipVersion: must be 4 or 6"));
    // The bad policy's chain is one drop, so nothing it would have allowed is allowed.
    EXPECT_THAT(parts->chains.at("cali-pi-default/p").rules.get(),
                ::testing::ElementsAre(
                    "counter drop comment \"policy default/p cannot be rendered: drop\""));
    // The good policy is enforced on both endpoints.
    ASSERT_EQ(parts->chains.at("cali-pi-default/good").rules.size(), 1u);
    EXPECT_THAT(parts->chains.at("cali-pi-default/good").rules[0],
                HasSubstr("meta l4proto 6 th dport 22 counter drop"));
    EXPECT_THAT(parts->chains.at("cali-tw-cali2").rules.get(),
                ::testing::Contains(HasSubstr("jump cali-pi-default/good")));
  }
  EXPECT_TRUE(report.http_ignored.empty());

  // Fixed: the report is empty again and the chain holds the policy's rules.
  m.policies[0].ingress = Json::parse(R"([{"action": "Allow"}])");
  auto fixed = RenderRulesetParts(m, {}, &cache, &report);
  ASSERT_TRUE(fixed);
  EXPECT_TRUE(report.skipped.empty());
  EXPECT_EQ(*fixed, *RenderRulesetParts(m));
}

TEST(RulesetRendererTest, ReportIsolatesProfileAndEndpoint) {
  Model m = SmallModel();
  m.profiles[0].egress = Json::parse(R"({"not": "a list"})");
  Endpoint bad = m.endpoints[0];
  bad.name = "ns/bad";
  bad.interface_name = "cali\"x";
  m.endpoints.push_back(bad);
  RenderReport report;
  auto parts = RenderRulesetParts(m, {}, nullptr, &report);
  ASSERT_TRUE(parts) << parts.error().message();
  ASSERT_EQ(report.skipped.size(), 2u);
  EXPECT_EQ(report.skipped[0].kind, "endpoint");
  EXPECT_EQ(report.skipped[0].name, "ns/bad");
  EXPECT_THAT(report.skipped[0].message, HasSubstr("invalid interface name"));
  EXPECT_EQ(report.skipped[1].kind, "profile");
  EXPECT_EQ(report.skipped[1].name, "prof");
  EXPECT_THAT(report.skipped[1].message, HasSubstr("egress[0]: rules must be a list"));
  EXPECT_THAT(
      parts->chains.at("cali-pro-prof").rules.get(),
      ::testing::ElementsAre("counter drop comment \"profile prof cannot be rendered: drop\""));
  // The good endpoint and its ingress profile are programmed; the bad endpoint is not.
  EXPECT_EQ(parts->chains.count("cali-tw-cali1"), 1u);
  EXPECT_THAT(parts->chains.at("cali-pri-prof").rules.get(), ::testing::SizeIs(0));
  EXPECT_EQ(parts->chains.count("cali-tw-cali\"x"), 0u);
}

// A model inconsistent as a whole (a tier naming an unknown policy or one of another tier, a
// policy id given twice, an IP set that cannot be named): with a report, only what it touches is
// isolated; without one, still an error (ModelErrors).
TEST(RulesetRendererTest, ReportIsolatesInconsistentModel) {
  Model m = SmallModel();
  Endpoint good = m.endpoints[0];
  good.name = "ns/good";
  good.interface_name = "cali2";
  m.endpoints.push_back(good);
  Endpoint wrong_tier = m.endpoints[0];
  wrong_tier.name = "ns/wrong-tier";
  wrong_tier.interface_name = "cali3";
  wrong_tier.ingress_tiers = {{.name = "other", .policies = {"p"}}};
  m.endpoints.push_back(wrong_tier);
  m.endpoints[0].ingress_tiers[0].policies = {"p", "missing"};
  m.policies.push_back(m.policies[0]);  // "p" twice: the first is kept.
  m.policies.push_back(
      Policy{.id = "uses-bad-set", .tier = "default", .ingress = Json::parse(R"([{"action": "Allow",
                                  "source": {"selector": "x == 'y'"}}])")});
  m.endpoints[1].ingress_tiers[0].policies = {"p"};
  m.ip_sets.push_back(IpSet{.selector = "x == "});  // Does not parse.
  ASSERT_FALSE(RenderRulesetParts(m));

  RenderReport report;
  RenderCache cache;
  for (int pass = 0; pass < 2; ++pass) {
    auto parts = RenderRulesetParts(m, {}, &cache, &report);
    ASSERT_TRUE(parts) << parts.error().message();
    std::vector<std::string> skipped;
    for (const RenderProblem& p : report.skipped)
      skipped.push_back(p.kind + " " + p.name + ": " + p.message);
    EXPECT_THAT(skipped,
                ::testing::ElementsAre(
                    HasSubstr("policy default/p: policies: duplicate policy id \"p\""),
                    HasSubstr("ipset ipSets[0]: ipSets[0].selector"),
                    HasSubstr("endpoint ns/a: ingress tier default references unknown policy "
                              "\"missing\""),
                    HasSubstr("endpoint ns/wrong-tier: ingress tier other lists policy \"p\", "
                              "which belongs to tier \"default\"")));
    // The endpoints naming what does not fit drop everything; the other one is programmed.
    for (const char* chain : {"cali-tw-cali1", "cali-fw-cali1", "cali-tw-cali3"}) {
      EXPECT_THAT(parts->chains.at(chain).rules.get(),
                  ::testing::ElementsAre(HasSubstr("cannot be rendered: drop")))
          << chain;
    }
    EXPECT_THAT(parts->chains.at("cali-tw-cali2").rules.get(),
                ::testing::Contains("jump cali-pi-default/p"));
    EXPECT_THAT(nft_model::NftRulesetText(*parts), HasSubstr("\"cali1\" : goto cali-tw-cali1"));
  }
  // Fixed: nothing reported, the same ruleset as a render without a report.
  m.endpoints[0].ingress_tiers[0].policies = {"p"};
  m.endpoints[2].ingress_tiers[0].name = "default";
  m.policies.pop_back();
  m.policies.pop_back();
  m.ip_sets.clear();
  auto fixed = RenderRulesetParts(m, {}, &cache, &report);
  ASSERT_TRUE(fixed) << fixed.error().message();
  EXPECT_TRUE(report.skipped.empty());
  EXPECT_EQ(*fixed, *RenderRulesetParts(m));
}

TEST(RulesetRendererTest, ReportCountsIgnoredHttpMatches) {
  Model m = SmallModel();
  m.policies[0].ingress = Json::parse(R"([
      {"action": "Allow", "protocol": "TCP", "destination": {"ports": [80]},
       "http": {"methods": ["GET"]}},
      {"action": "Allow", "http": {"paths": [{"exact": "/x"}]}}])");
  RenderReport report;
  RenderCache cache;
  for (int pass = 0; pass < 2; ++pass) {
    auto parts = RenderRulesetParts(m, {}, &cache, &report);
    ASSERT_TRUE(parts) << parts.error().message();
    EXPECT_TRUE(report.skipped.empty());
    EXPECT_THAT(report.http_ignored,
                ::testing::ElementsAre(::testing::Pair("policy default/p", 2)));
    ASSERT_EQ(parts->chains.at("cali-pi-default/p").rules.size(), 2u);
    EXPECT_THAT(parts->chains.at("cali-pi-default/p").rules[0],
                HasSubstr("meta l4proto 6 th dport 80 counter meta mark set"));
  }
}

TEST(RulesetRendererTest, NamedPortSetErrors) {
  Model m = SmallModel();
  m.policies[0].ingress =
      Json::parse(R"([{"action": "Allow", "destination": {"ports": ["http"]}}])");
  auto text = RenderRuleset(m);
  ASSERT_FALSE(text);
  EXPECT_THAT(text.error().message(),
              HasSubstr("policy default/p ingress[0]: destination.ports: no named-port IP set n:"));
  // A selector set with that id is not a named-port set.
  const std::string id = NamedPortSetId(selector::Selector::All(), kNamedPortTcp, "http");
  m.ip_sets = {IpSet{.id = id, .selector = "all()"}};
  text = RenderRuleset(m);
  ASSERT_FALSE(text);
  EXPECT_THAT(text.error().message(), HasSubstr("is not a named-port set"));
  // A custom resolver is used instead.
  RenderOptions opts;
  opts.resolve_named_port_set = [](std::string_view, std::string_view,
                                   int family) -> Result<std::string> {
    return std::string(family == 4 ? "np4" : "np6");
  };
  text = RenderRuleset(m, opts);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_THAT(*text, HasSubstr("ip daddr . meta l4proto . th dport @np4 "));
  EXPECT_THAT(*text, HasSubstr("ip6 daddr . meta l4proto . th dport @np6 "));
}

TEST(RulesetRendererTest, CustomSetResolver) {
  Model m = SmallModel();
  m.policies[0].ingress =
      Json::parse(R"([{"action": "Allow", "source": {"selector": "x == 'y'"}}])");
  RenderOptions opts;
  opts.resolve_set = [](std::string_view, std::string_view, int family) -> Result<std::string> {
    return std::string(family == 4 ? "mine4" : "mine6");
  };
  auto text = RenderRuleset(m, opts);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_THAT(*text, HasSubstr("ip saddr @mine4 "));
  EXPECT_THAT(*text, HasSubstr("ip6 saddr @mine6 "));
}

TEST(RulesetRendererTest, ComputeSelectorIpSets) {
  const Model model = LoadModel("selector_ipsets");
  auto sets = ComputeSelectorIpSets(model);
  ASSERT_TRUE(sets) << sets.error().message();
  ASSERT_EQ(sets->size(), 4u);
  const std::string frontend = selector::Parse("app == 'frontend'")->UniqueId();
  bool found = false;
  for (const IpSet& s : *sets) {
    if (s.id != frontend) continue;
    found = true;
    EXPECT_EQ(s.selector, "app == \"frontend\"");
    // Only the local endpoint's addresses (the golden adds a remote /24 by hand).
    EXPECT_EQ(s.members, (std::vector<net::CIDR>{*net::CIDR::Parse("10.65.5.10/32"),
                                                 *net::CIDR::Parse("fd00:10:65::a/128")}));
  }
  EXPECT_TRUE(found);
  // Host endpoints' expectedIPs are members too.
  Model with_hep = model;
  with_hep.host_endpoints.push_back(
      HostEndpoint{.name = "h",
                   .interface_name = "eth0",
                   .expected_ips = {*net::CIDR::Parse("192.0.2.1/32")},
                   .labels = {{"app", "frontend"}}});
  auto hep_sets = ComputeSelectorIpSets(with_hep);
  ASSERT_TRUE(hep_sets) << hep_sets.error().message();
  for (const IpSet& s : *hep_sets) {
    if (s.id == frontend) {
      EXPECT_EQ(s.members.size(), 3u);
    }
  }
  Model computed = model;
  computed.ip_sets = *sets;
  auto text = RenderRuleset(computed);
  ASSERT_TRUE(text) << text.error().message();
}

TEST(RulesetRendererTest, NoHostEndpointsLeaveHostTrafficAlone) {
  auto text = RenderRuleset(SmallModel());
  ASSERT_TRUE(text) << text.error().message();
  for (const char* absent : {"host-endpoint", "hep-forward", "failsafe", "mangle-",
                             "Mark forwarded traffic", "ct status", "raw-cali-OUTPUT"}) {
    EXPECT_THAT(*text, Not(HasSubstr(absent))) << absent;
  }
  // The raw hook only checks the sources of workload packets.
  auto parts = RenderRulesetParts(SmallModel());
  ASSERT_TRUE(parts);
  EXPECT_THAT(parts->chains.at("raw-cali-PREROUTING").rules.get(),
              ::testing::ElementsAre("iifname \"cali*\" goto raw-cali-rpf-check"));
}

// Felix's anti-spoofing (felix/rules/static.go RPFilter, in its nftables form): every packet from
// a workload interface whose source is not routed back through that interface drops at raw
// priority (with the deny action); allowed source prefixes (workloadSourceSpoofing: Any) are
// exempt per interface.
TEST(RulesetRendererTest, ReversePathCheckOfWorkloadSources) {
  auto parts = RenderRulesetParts(SmallModel());
  ASSERT_TRUE(parts) << parts.error().message();
  EXPECT_EQ(parts->chains.at("raw-cali-PREROUTING").header,
            std::vector<std::string>{"type filter hook prerouting priority raw; policy accept;"});
  EXPECT_THAT(parts->chains.at("raw-cali-rpf-check").rules.get(),
              ::testing::ElementsAre(::testing::StartsWith(
                  "fib saddr . mark . iif oif 0 counter drop comment \"Drop packets from "
                  "workloads")));
  EXPECT_EQ(parts->sets.count("raw-cali-rpf-skip"), 0u);

  auto rejected =
      RenderRulesetParts(SmallModel(), RenderOptions{.deny_action = DenyAction::kReject});
  ASSERT_TRUE(rejected);
  EXPECT_THAT(rejected->chains.at("raw-cali-rpf-check").rules[0],
              HasSubstr("oif 0 counter reject comment \"Reject packets"));

  Model m = SmallModel();
  m.endpoints[0].allowed_source_prefixes = {*net::CIDR::Parse("10.88.0.7/24"),
                                            *net::CIDR::Parse("fd00:88::/64"),
                                            *net::CIDR::Parse("10.88.0.0/24")};
  parts = RenderRulesetParts(m, RenderOptions{.workload_source_spoofing = true});
  ASSERT_TRUE(parts) << parts.error().message();
  EXPECT_THAT(parts->chains.at("raw-cali-rpf-check").rules.get(),
              ::testing::ElementsAre("iifname vmap @raw-cali-rpf-skip",
                                     HasSubstr("fib saddr . mark . iif oif 0 counter drop")));
  EXPECT_THAT(parts->sets.at("raw-cali-rpf-skip").elements.get(),
              ::testing::ElementsAre("\"cali1\" : jump raw-cali-rpf-skip-cali1"));
  EXPECT_THAT(parts->chains.at("raw-cali-rpf-skip-cali1").rules.get(),
              ::testing::ElementsAre(
                  "ip saddr 10.88.0.0/24 accept comment \"Allowed source prefix of ns/a\"",
                  "ip6 saddr fd00:88::/64 accept comment \"Allowed source prefix of ns/a\""));
  // The same text through nft_model: what the agent programs is what `nft -f` gets.
  auto text = RenderRuleset(m, RenderOptions{.workload_source_spoofing = true});
  ASSERT_TRUE(text);
  auto parsed = nft_model::ParseNftRuleset(*text);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, *parts);
}

// Without workloadSourceSpoofing: Any an endpoint asking for allowed source prefixes is refused,
// as Felix's calc ValidationFilter treats it as missing: left out (its interface meets the
// "Unknown interface" drop), reported; the other endpoints are programmed.
TEST(RulesetRendererTest, AllowedSourcePrefixesNeedWorkloadSourceSpoofing) {
  Model m = SmallModel();
  Endpoint spoofer = m.endpoints[0];
  spoofer.name = "ns/spoofer";
  spoofer.interface_name = "cali2";
  spoofer.allowed_source_prefixes = {*net::CIDR::Parse("10.88.0.0/24")};
  m.endpoints.push_back(spoofer);
  RenderReport report;
  auto parts = RenderRulesetParts(m, {}, nullptr, &report);
  ASSERT_TRUE(parts) << parts.error().message();
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].kind, "endpoint");
  EXPECT_EQ(report.skipped[0].name, "ns/spoofer");
  EXPECT_THAT(report.skipped[0].message,
              HasSubstr("source IP spoofing requested but not enabled in Felix configuration"));
  EXPECT_EQ(parts->chains.count("cali-fw-cali2"), 0u);
  EXPECT_EQ(parts->chains.count("cali-fw-cali1"), 1u);
  EXPECT_EQ(parts->chains.count("raw-cali-rpf-skip-cali2"), 0u);
  EXPECT_EQ(parts->sets.count("raw-cali-rpf-skip"), 0u);
  // Without a report, the render fails naming the field.
  auto failed = RenderRulesetParts(m);
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.error().message(), HasSubstr("allowSpoofedSourcePrefixes"));
  // With the setting, both are programmed.
  parts = RenderRulesetParts(m, RenderOptions{.workload_source_spoofing = true}, nullptr, &report);
  ASSERT_TRUE(parts);
  EXPECT_TRUE(report.skipped.empty());
  EXPECT_EQ(parts->chains.count("cali-fw-cali2"), 1u);
  EXPECT_EQ(parts->chains.count("raw-cali-rpf-skip-cali2"), 1u);
}

// Host endpoints with every kind of hook, for tests that look at all base chains.
Model HostModelForIpv6() {
  Model m = SmallModel();
  m.host_endpoints.push_back(HostEndpoint{
      .name = "h-eth0",
      .interface_name = "eth0",
      .ingress_tiers = {{.name = "default", .policies = {"p"}}},
      .pre_dnat_ingress_tiers = {{.name = "default", .policies = {"p"}}},
      .untracked_ingress_tiers = {{.name = "default", .policies = {"p"}}},
  });
  return m;
}

// ipv6Support: false. Felix then has no IPv6 table: IPv6 is accepted first in every base chain,
// so none of Calico's rules sees it; IPv4 is policed as before.
TEST(RulesetRendererTest, Ipv6SupportFalse) {
  Model m = HostModelForIpv6();
  auto with = RenderRulesetParts(m);
  auto without = RenderRulesetParts(m, RenderOptions{.ipv6_support = false});
  ASSERT_TRUE(with && without);
  int base = 0;
  for (const auto& [name, chain] : without->chains) {
    const nft_model::NftChain& before = with->chains.at(name);
    if (chain.header.empty()) {
      EXPECT_EQ(chain, before) << name;
      continue;
    }
    ++base;
    ASSERT_EQ(chain.rules.size(), before.rules.size() + 1) << name;
    EXPECT_EQ(chain.rules[0],
              "meta nfproto ipv6 accept comment \"ipv6Support is false: IPv6 is not policed\"")
        << name;
    for (std::size_t i = 0; i < before.rules.size(); ++i) {
      EXPECT_EQ(chain.rules[i + 1], before.rules[i]) << name;
    }
  }
  EXPECT_GE(base, 6);  // forward, input, output, mangle postrouting, raw prerouting/output...
  EXPECT_EQ(without->sets, with->sets);
}

// With untracked host endpoint policy the raw hook is shared: workloads still get the check.
TEST(RulesetRendererTest, ReversePathCheckWithUntrackedPolicy) {
  const Model model = LoadModel("host_endpoints_prednat_untracked");
  auto parts = RenderRulesetParts(model);
  ASSERT_TRUE(parts) << parts.error().message();
  EXPECT_THAT(parts->chains.at("raw-cali-PREROUTING").rules.get(),
              ::testing::Contains("iifname \"cali*\" goto raw-cali-rpf-check"));
  EXPECT_EQ(parts->chains.count("raw-cali-rpf-check"), 1u);
}

Model HostModel() {
  Model m = SmallModel();
  m.host_endpoints.push_back(HostEndpoint{
      .name = "h-eth0",
      .interface_name = "eth0",
      .forward_ingress_tiers = {{.name = "default", .policies = {"p"}}},
  });
  return m;
}

TEST(RulesetRendererTest, HostEndpointFailsafePorts) {
  RenderOptions opts;
  auto in = ParseFailsafePorts("tcp:22,tcp:22,tcp:10.0.0.0/8:2379,udp:[fd00::/64]:53,sctp:9");
  ASSERT_TRUE(in) << in.error().message();
  opts.failsafe_inbound = *in;
  opts.failsafe_outbound = {};
  auto text = RenderRuleset(HostModel(), opts);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_THAT(*text, HasSubstr("\tchain cali-failsafe-in {\n"
                               "\t\tmeta l4proto tcp th dport 22 counter accept comment "
                               "\"Failsafe inbound host port\"\n"
                               "\t\tmeta l4proto tcp ip saddr . th dport { 10.0.0.0/8 . 2379 } "
                               "counter accept comment \"Failsafe inbound host port\"\n"
                               "\t\tmeta l4proto udp ip6 saddr . th dport { fd00::/64 . 53 } "
                               "counter accept comment \"Failsafe inbound host port\"\n"
                               "\t\tmeta l4proto sctp th dport 9 counter accept comment "
                               "\"Failsafe inbound host port\"\n\t}\n"));
  EXPECT_THAT(*text, HasSubstr("\tchain cali-failsafe-out {\n\t}\n"));
  // The endpoint's forward chain has the policy; the other direction falls through.
  EXPECT_THAT(*text, HasSubstr("meta mark & 0x20000 == 0 jump cali-pi-default/p\n"));
  EXPECT_THAT(*text, Not(HasSubstr("cali-po-default/p")));
}

// merge_min_policies 0: Felix's layout, one jump per policy and no merged maps; the policy chains
// (counters, comments) are the same either way.
TEST(RulesetRendererTest, MergedRunsAreAnOptimisationOfTheSameChains) {
  const Model model = LoadModel("merged_runs");
  RenderOptions felix;
  felix.merge_min_policies = 0;
  auto merged = RenderRulesetParts(model);
  auto plain = RenderRulesetParts(model, felix);
  ASSERT_TRUE(merged && plain);
  std::size_t maps = 0;
  for (const auto& [name, set] : merged->sets) {
    if (name.rfind("cali-m", 0) == 0) ++maps;
  }
  EXPECT_EQ(maps, 5U);  // security: one v4 map per run; default: v4 and v6; egress: one.
  for (const auto& [name, set] : plain->sets) {
    EXPECT_NE(name.rfind("cali-m", 0), 0U) << name;
  }
  for (const auto& [name, chain] : plain->chains) {
    if (name.rfind("cali-p", 0) != 0) continue;
    ASSERT_EQ(merged->chains.count(name), 1U) << name;
    EXPECT_EQ(merged->chains.at(name), chain) << name;
  }
  // Two endpoints with the same tiers share the maps.
  const auto& a = merged->chains.at("cali-tw-cali0a0a0a0a0a0").rules.get();
  std::vector<std::string> b = merged->chains.at("cali-tw-cali1b1b1b1b1b1").rules.get();
  EXPECT_EQ(a, b);
  // Without merging every policy of the tier is jumped to.
  const auto& p = plain->chains.at("cali-tw-cali0a0a0a0a0a0").rules.get();
  EXPECT_EQ(std::count_if(
                p.begin(), p.end(),
                [](const std::string& r) { return r.find("jump cali-pi-") != std::string::npos; }),
            14);
}

// A policy's rules changing under a cache: the run's map follows, and a rule that now overlaps
// an earlier policy's breaks the run where a fresh render does.
TEST(RulesetRendererTest, MergedRunsFollowRuleChangesThroughTheCache) {
  Model model = LoadModel("merged_runs");
  RenderCache cache;
  ASSERT_TRUE(RenderRulesetParts(model, {}, &cache));
  for (Policy& p : model.policies) {
    if (p.id == "deny-3") {
      p.ingress = Json::parse(R"([{"action": "Deny", "protocol": "TCP",
                                   "source": {"nets": ["203.0.113.0/24"]},
                                   "destination": {"ports": [1002]}}])");
    }
  }
  auto cached = RenderRulesetParts(model, {}, &cache);
  auto fresh = RenderRulesetParts(model);
  ASSERT_TRUE(cached && fresh);
  EXPECT_EQ(*cached, *fresh);
  // deny-3 now overlaps deny-2 (203.0.113.2 to port 1002): the first run ends before it.
  const auto& rules = fresh->chains.at("cali-tw-cali0a0a0a0a0a0").rules.get();
  EXPECT_THAT(rules, ::testing::Contains(HasSubstr("Policies deny-1 to pass-internal (4)")));
}

TEST(RulesetRendererTest, HostEndpointErrors) {
  auto expect_error = [](const Model& m, const std::string& want) {
    auto text = RenderRuleset(m);
    ASSERT_FALSE(text) << "rendered unexpectedly";
    EXPECT_THAT(text.error().message(), HasSubstr(want));
  };
  Model m = HostModel();
  m.host_endpoints[0].forward_ingress_tiers[0].policies = {"missing"};
  expect_error(
      m,
      "host endpoint h-eth0: forward ingress tier default references unknown policy \"missing\"");

  m = HostModel();
  m.host_endpoints[0].profiles = {"nope"};
  expect_error(m, "host endpoint h-eth0: references unknown profile \"nope\"");

  m = HostModel();
  m.host_endpoints[0].interface_name.clear();
  m.host_endpoints[0].expected_ips = {*net::CIDR::Parse("10.0.0.1/32")};
  expect_error(m, "hostEndpoints[0].interfaceName: required (bind expectedIPs-only");

  m = HostModel();
  m.host_endpoints.push_back(m.host_endpoints[0]);
  expect_error(m, "hostEndpoints[1].interfaceName: duplicate interface name \"eth0\"");

  m = HostModel();
  m.host_endpoints[0].interface_name = "eth*";
  expect_error(m, "hostEndpoints[0].interfaceName: invalid interface name \"eth*\"");

  m = HostModel();
  m.host_endpoints[0].pre_dnat_ingress_tiers = {{.name = "other", .policies = {"p"}}};
  expect_error(m, "pre-DNAT ingress tier other lists policy \"p\", which belongs to tier");
}

TEST(RulesetRendererTest, ReportIsolatesInconsistentHostEndpoint) {
  Model m = HostModel();
  m.host_endpoints.push_back(HostEndpoint{
      .name = "h-eth1",
      .interface_name = "eth1",
      .ingress_tiers = {{.name = "default", .policies = {"missing"}}},
  });
  m.host_endpoints.push_back(HostEndpoint{.name = "h-eth1-again", .interface_name = "eth1"});
  ASSERT_FALSE(RenderRulesetParts(m));
  RenderReport report;
  auto parts = RenderRulesetParts(m, {}, nullptr, &report);
  ASSERT_TRUE(parts) << parts.error().message();
  ASSERT_EQ(report.skipped.size(), 2u);
  EXPECT_EQ(report.skipped[0].name, "h-eth1-again");
  EXPECT_THAT(report.skipped[0].message, HasSubstr("duplicate interface name \"eth1\""));
  EXPECT_EQ(report.skipped[1].kind, "hostendpoint");
  EXPECT_EQ(report.skipped[1].name, "h-eth1");
  EXPECT_THAT(report.skipped[1].message, HasSubstr("unknown policy \"missing\""));
  // eth1: established connections and the failsafe ports, then a drop; eth0 as without it.
  EXPECT_THAT(parts->chains.at(HostEndpointChain(HostChainKind::kFrom, "eth1")).rules.get(),
              ::testing::ElementsAre("ct state established,related accept",
                                     HasSubstr("ct state invalid"), "jump cali-failsafe-in",
                                     HasSubstr("host endpoint h-eth1 cannot be rendered: drop")));
  EXPECT_THAT(parts->chains.at(HostEndpointChain(HostChainKind::kToForward, "eth1")).rules.get(),
              ::testing::Contains(HasSubstr("cannot be rendered: drop")));
  auto alone = RenderRulesetParts(HostModel());
  ASSERT_TRUE(alone);
  for (HostChainKind kind : {HostChainKind::kFrom, HostChainKind::kFromForward}) {
    EXPECT_EQ(parts->chains.at(HostEndpointChain(kind, "eth0")),
              alone->chains.at(HostEndpointChain(kind, "eth0")));
  }
}

TEST(RulesetRendererTest, UntrackedPolicyIgnoredForAllInterfacesEndpoint) {
  Model m = SmallModel();
  m.host_endpoints.push_back(HostEndpoint{
      .name = "all",
      .interface_name = "*",
      .untracked_ingress_tiers = {{.name = "default", .policies = {"p"}}},
  });
  auto text = RenderRuleset(m);
  ASSERT_TRUE(text) << text.error().message();
  // No untracked hooks (the raw prerouting chain only has the workloads' reverse-path check).
  EXPECT_THAT(*text, Not(HasSubstr("raw-cali-OUTPUT")));
  EXPECT_THAT(*text, Not(HasSubstr("raw-cali-from-host-endpoint")));
  EXPECT_THAT(*text, HasSubstr("goto cali-fh-any-interface-at-all"));
}

TEST(ModelFromJsonTest, Errors) {
  auto err = [](const char* doc) {
    auto m = ModelFromJson(Json::parse(doc));
    return m ? std::string("ok") : m.error().message();
  };
  EXPECT_EQ(err(R"({"endpoints": [{"name": "x"}]})"), "endpoints[0].interfaceName: required");
  EXPECT_EQ(err(R"({"endpoints": [{"interfaceName": "c", "addresses": ["x"]}]})"),
            "endpoints[0].addresses[0]: invalid CIDR \"x\"");
  EXPECT_EQ(err(R"({"endpoints": [{"interfaceName": "c", "ingressTiers": [{"name": "t",
                   "defaultAction": "Allow"}]}]})"),
            "endpoints[0].ingressTiers[0].defaultAction: must be Deny or Pass");
  EXPECT_EQ(err(R"({"policies": [{"id": "p", "ingress": {}}]})"),
            "policies[0].ingress: must be a list of rules");
  EXPECT_EQ(err(R"({"ipSets": [{"members": []}]})"), "ipSets[0]: id or selector required");
  EXPECT_EQ(err(R"({"bogus": []})"), "model.bogus: unknown field");
  EXPECT_EQ(err(R"({"ipSets": [{"selector": "a == 'b'", "protocol": "tcp"}]})"),
            "ipSets[0].protocol: only valid with namedPort");
  EXPECT_EQ(err(R"({"ipSets": [{"namedPort": "http", "protocol": "icmp"}]})"),
            "ipSets[0].protocol: must be tcp, udp or sctp");
  EXPECT_EQ(err(R"({"ipSets": [{"namedPort": "http", "members": ["10.0.0.1/32"]}]})"),
            "ipSets[0].members[0]: invalid named-port member \"10.0.0.1/32\": no ',' (want "
            "\"<address>,<tcp|udp|sctp>:<port>\")");
  EXPECT_THAT(err(R"({"ipSets": [{"namedPort": "http", "members": ["10.0.0.1,tcp:0"]}]})"),
              HasSubstr("ipSets[0].members[0]: invalid named-port member \"10.0.0.1,tcp:0\": "
                        "invalid port"));
  EXPECT_THAT(err(R"({"ipSets": [{"namedPort": "http", "members": ["10.0.0.1,gre:80"]}]})"),
              HasSubstr("invalid protocol"));
  EXPECT_THAT(err(R"({"ipSets": [{"namedPort": "http", "members": ["x,tcp:80"]}]})"),
              HasSubstr("invalid address"));
  EXPECT_EQ(err(R"({"policies": [{"id": "p"}]})"), "ok");
  EXPECT_EQ(err(R"({"hostEndpoints": [{"name": "h"}]})"),
            "hostEndpoints[0]: interfaceName or expectedIPs required");
  EXPECT_EQ(err(R"({"hostEndpoints": [{"interfaceName": "eth0", "forwardTiers": []}]})"),
            "hostEndpoints[0].forwardTiers: unknown field");
  EXPECT_EQ(err(R"({"hostEndpoints": [{"expectedIPs": ["10.0.0.300"]}]})"),
            "hostEndpoints[0].expectedIPs[0]: invalid CIDR \"10.0.0.300\"");
}

TEST(ModelFromJsonTest, NamedPortSets) {
  auto m = ModelFromJson(Json::parse(R"({"ipSets": [{"namedPort": "dns", "protocol": "UDP",
      "members": ["fd00::1,udp:53", "10.0.0.1,udp:5353"]}]})"));
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->ip_sets.size(), 1u);
  const IpSet& s = m->ip_sets[0];
  EXPECT_TRUE(s.is_named_port());
  EXPECT_EQ(s.named_port_protocol, 17);
  EXPECT_EQ(s.port_members,
            (std::vector<IpPortMember>{
                {.addr = *net::IPAddr::Parse("fd00::1"), .protocol = 17, .port = 53},
                {.addr = *net::IPAddr::Parse("10.0.0.1"), .protocol = 17, .port = 5353}}));
  EXPECT_TRUE(s.members.empty());
}

}  // namespace
}  // namespace calico::policy
