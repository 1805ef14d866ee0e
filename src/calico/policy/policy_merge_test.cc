#include "calico/policy/policy_merge.h"

#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace calico::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// The rules as a JSON list (one braced rule would otherwise be read as the rule itself).
PolicyMergeInfo Analyse(const std::vector<nlohmann::json>& rules) {
  nlohmann::json list = nlohmann::json::array();
  for (const nlohmann::json& r : rules) {
    list.push_back(r);
  }
  ParsedRules parsed(list);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error()->message());
  return AnalysePolicyRules(parsed);
}

std::vector<TierSegment> Plan(const std::vector<PolicyMergeInfo>& infos, std::size_t min_run = 2) {
  std::vector<const PolicyMergeInfo*> ptrs;
  for (const PolicyMergeInfo& i : infos) {
    ptrs.push_back(&i);
  }
  return PlanTier(ptrs, min_run);
}

TierSegment Single(std::size_t i) {
  return TierSegment{.first = i, .last = i + 1};
}
TierSegment Merged(std::size_t first, std::size_t last) {
  return TierSegment{.first = first, .last = last, .merged = true};
}

nlohmann::json DenyFrom(const std::string& net, int port) {
  return {{"action", "Deny"},
          {"protocol", "TCP"},
          {"source", {{"nets", {net}}}},
          {"destination", {{"ports", {port}}}}};
}

TEST(SimpleRule, ProtocolNetsAndDestinationPortsOnly) {
  auto simple = [](const nlohmann::json& j) {
    auto r = ParseRule(j);
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    return r && SimpleRule(*r);
  };
  EXPECT_TRUE(simple(DenyFrom("10.0.0.0/8", 80)));
  EXPECT_TRUE(simple({{"action", "Allow"}, {"protocol", "UDP"}}));
  EXPECT_TRUE(simple({{"action", "Pass"}, {"protocol", "SCTP"}, {"ipVersion", 6}}));
  EXPECT_TRUE(simple({{"action", "Allow"},
                      {"protocol", "TCP"},
                      {"destination", {{"nets", {"10.1.0.0/16"}}, {"ports", {"8000:8100"}}}}}));
  // Not: no protocol (the key reads the transport header), a protocol without ports, Log,
  // negations, selectors, named ports, source ports, ICMP.
  EXPECT_FALSE(simple({{"action", "Allow"}}));
  EXPECT_FALSE(simple({{"action", "Deny"}, {"source", {{"nets", {"10.0.0.0/8"}}}}}));
  EXPECT_FALSE(simple({{"action", "Deny"}, {"protocol", "ICMP"}}));
  EXPECT_FALSE(simple({{"action", "Log"}, {"protocol", "TCP"}}));
  EXPECT_FALSE(simple({{"action", "Deny"}, {"protocol", "TCP"}, {"notProtocol", "UDP"}}));
  EXPECT_FALSE(
      simple({{"action", "Deny"}, {"protocol", "TCP"}, {"source", {{"notNets", {"10.0.0.0/8"}}}}}));
  EXPECT_FALSE(
      simple({{"action", "Deny"}, {"protocol", "TCP"}, {"destination", {{"notPorts", {80}}}}}));
  EXPECT_FALSE(
      simple({{"action", "Deny"}, {"protocol", "TCP"}, {"source", {{"selector", "app == 'a'"}}}}));
  EXPECT_FALSE(
      simple({{"action", "Deny"}, {"protocol", "TCP"}, {"destination", {{"ports", {"http"}}}}}));
  EXPECT_FALSE(simple({{"action", "Deny"}, {"protocol", "TCP"}, {"source", {{"ports", {80}}}}}));
}

TEST(AnalysePolicyRules, ElementsAreTheProductOfNetsAndPorts) {
  const PolicyMergeInfo info =
      Analyse({{{"action", "Deny"},
                {"protocol", "TCP"},
                // 10.1.0.0/16 is inside 10.0.0.0/8: one element for both. Host bits are masked.
                {"source", {{"nets", {"10.1.0.0/16", "10.0.0.0/8", "192.0.2.0/24"}}}},
                {"destination", {{"ports", {80, "8000:8100"}}}}}});
  ASSERT_TRUE(info.mergeable);
  EXPECT_FALSE(info.can_allow);
  EXPECT_FALSE(info.can_pass);
  ASSERT_EQ(info.elements.size(), 4U);
  EXPECT_EQ(info.elements[0].family, 4);
  EXPECT_EQ(info.elements[0].source->String(), "10.0.0.0/8");
  EXPECT_EQ(info.elements[2].source->String(), "192.0.2.0/24");
  EXPECT_EQ(info.elements[3].port, (PortRange{8000, 8100}));
}

TEST(AnalysePolicyRules, ActionsAndShape) {
  EXPECT_TRUE(Analyse({{{"action", "Allow"}, {"protocol", "TCP"}}}).can_allow);
  EXPECT_TRUE(Analyse({{{"action", "Pass"}, {"protocol", "TCP"}}}).can_pass);
  // A Log rule is not simple, but its Allow is still seen (the accept return stays).
  const PolicyMergeInfo log_allow =
      Analyse({{{"action", "Log"}}, {{"action", "Allow"}, {"protocol", "TCP"}}});
  EXPECT_FALSE(log_allow.mergeable);
  EXPECT_TRUE(log_allow.can_allow);
  // No rules: mergeable, matches nothing.
  const PolicyMergeInfo none = Analyse({});
  EXPECT_TRUE(none.mergeable);
  EXPECT_FALSE(none.has_ports);
  // Rules with and without ports in one policy: not one key shape.
  EXPECT_FALSE(
      Analyse({DenyFrom("10.0.0.1/32", 80), {{"action", "Deny"}, {"protocol", "UDP"}}}).mergeable);
}

TEST(AnalysePolicyRules, RulesWithTooManyElementsStayRules) {
  nlohmann::json nets = nlohmann::json::array();
  nlohmann::json ports = nlohmann::json::array();
  for (int i = 0; i < 20; ++i) {
    nets.push_back(fmt::format("10.0.{}.0/24", i));
    ports.push_back(1000 + 2 * i);
  }
  // 20 x 20 = 400 elements: more than one rule is worth in a map.
  EXPECT_FALSE(Analyse({{{"action", "Deny"},
                         {"protocol", "TCP"},
                         {"source", {{"nets", nets}}},
                         {"destination", {{"ports", ports}}}}})
                   .mergeable);
  ports.erase(ports.begin() + 10, ports.end());  // 200: merged.
  EXPECT_TRUE(Analyse({{{"action", "Deny"},
                        {"protocol", "TCP"},
                        {"source", {{"nets", nets}}},
                        {"destination", {{"ports", ports}}}}})
                  .mergeable);
}

TEST(AnalysePolicyRules, OverlappingRulesOfOnePolicyAreNotMerged) {
  // The second rule's packets from 10.0.0.1 to port 80 belong to the first rule.
  EXPECT_FALSE(Analyse({DenyFrom("10.0.0.1/32", 80), DenyFrom("10.0.0.0/8", 80)}).mergeable);
  EXPECT_FALSE(Analyse({DenyFrom("10.0.0.0/8", 80), DenyFrom("10.0.0.0/8", 80)}).mergeable);
  // Disjoint: other port, other net, other protocol.
  EXPECT_TRUE(Analyse({DenyFrom("10.0.0.1/32", 80), DenyFrom("10.0.0.0/8", 81)}).mergeable);
  EXPECT_TRUE(Analyse({DenyFrom("10.0.0.1/32", 80), DenyFrom("11.0.0.0/8", 80)}).mergeable);
  nlohmann::json udp = DenyFrom("10.0.0.0/8", 80);
  udp["protocol"] = "UDP";
  EXPECT_TRUE(Analyse({DenyFrom("10.0.0.1/32", 80), udp}).mergeable);
  // A family-agnostic rule overlaps both families.
  EXPECT_FALSE(
      Analyse({DenyFrom("10.0.0.1/32", 80),
               {{"action", "Deny"}, {"protocol", "TCP"}, {"destination", {{"ports", {80}}}}}})
          .mergeable);
  EXPECT_TRUE(Analyse({DenyFrom("10.0.0.1/32", 80), DenyFrom("fd00::/64", 80)}).mergeable);
}

TEST(ElementsOverlap, PortRangesAndNets) {
  MergeElement a{.family = 4, .protocol = 6, .port = PortRange{80, 90}};
  MergeElement b = a;
  b.port = PortRange{91, 100};
  EXPECT_FALSE(ElementsOverlap(a, b));
  b.port = PortRange{90, 100};
  EXPECT_TRUE(ElementsOverlap(a, b));
  a.source = net::CIDR::Parse("10.0.0.0/8");
  b.source = net::CIDR::Parse("10.2.0.0/16");
  EXPECT_TRUE(ElementsOverlap(a, b));
  b.source = net::CIDR::Parse("11.0.0.0/16");
  EXPECT_FALSE(ElementsOverlap(a, b));
  b.source.reset();  // Any source.
  EXPECT_TRUE(ElementsOverlap(a, b));
}

TEST(PlanTier, MergesRunsOfDisjointSimplePolicies) {
  std::vector<PolicyMergeInfo> infos = {
      Analyse({DenyFrom("10.0.0.1/32", 80)}),
      Analyse({DenyFrom("10.0.0.2/32", 80)}),
      Analyse({DenyFrom("10.0.0.1/32", 81)}),
      Analyse({{{"action", "Allow"}}}),  // Not simple: a jump of its own.
      Analyse({DenyFrom("10.0.0.1/32", 80)}),
      Analyse({DenyFrom("10.0.0.3/32", 80)}),
  };
  EXPECT_THAT(Plan(infos), ElementsAre(Merged(0, 3), Single(3), Merged(4, 6)));
  // Off, or runs shorter than the minimum: Felix's one jump per policy.
  EXPECT_THAT(Plan(infos, 0),
              ElementsAre(Single(0), Single(1), Single(2), Single(3), Single(4), Single(5)));
  EXPECT_THAT(Plan(infos, 3), ElementsAre(Merged(0, 3), Single(3), Single(4), Single(5)));
}

TEST(PlanTier, AnOverlapEndsTheRunAndStartsTheNext) {
  // Policy 2 overlaps policy 0 (10.0.0.1 port 80 is in 10.0.0.0/8): the run [0, 2) ends there
  // (policy 0 must win those packets) and a new run starts at 2; policy 4 overlaps policy 2.
  std::vector<PolicyMergeInfo> infos = {
      Analyse({DenyFrom("10.0.0.1/32", 80)}), Analyse({DenyFrom("10.0.0.2/32", 443)}),
      Analyse({DenyFrom("10.0.0.0/8", 80)}),  Analyse({DenyFrom("192.0.2.0/24", 80)}),
      Analyse({DenyFrom("10.9.0.0/16", 80)}), Analyse({DenyFrom("198.51.100.0/24", 80)}),
  };
  EXPECT_THAT(Plan(infos), ElementsAre(Merged(0, 2), Merged(2, 4), Merged(4, 6)));
}

TEST(PlanTier, MixedActionsMergeWhenDisjoint) {
  // Deny, Allow and Pass rules in one run: the element's chain decides, as the policy did.
  std::vector<PolicyMergeInfo> infos = {
      Analyse({DenyFrom("10.0.0.1/32", 80)}),
      Analyse({{{"action", "Allow"}, {"protocol", "TCP"}, {"destination", {{"ports", {443}}}}}}),
      Analyse({{{"action", "Pass"}, {"protocol", "TCP"}, {"destination", {{"ports", {8080}}}}}}),
  };
  EXPECT_THAT(Plan(infos), ElementsAre(Merged(0, 3)));
}

TEST(PlanTier, PortShapeChangeEndsTheRun) {
  std::vector<PolicyMergeInfo> infos = {
      Analyse({DenyFrom("10.0.0.1/32", 80)}),
      Analyse({}),  // No rules: fits any run.
      Analyse({DenyFrom("10.0.0.2/32", 80)}),
      Analyse({{{"action", "Deny"}, {"protocol", "UDP"}, {"source", {{"nets", {"10.0.0.1/32"}}}}}}),
      Analyse({{{"action", "Deny"}, {"protocol", "UDP"}, {"source", {{"nets", {"10.0.0.2/32"}}}}}}),
  };
  EXPECT_THAT(Plan(infos), ElementsAre(Merged(0, 3), Merged(3, 5)));
}

TEST(BuildLookups, KeyHasWhatTheRunMatchesOn) {
  std::vector<PolicyMergeInfo> infos = {
      Analyse({DenyFrom("10.0.0.1/32", 80)}), Analyse({DenyFrom("10.0.0.0/24", 8000)}),
      Analyse({{{"action", "Deny"},
                {"protocol", "TCP"},
                {"destination", {{"ports", {"9000:9100"}}}}}}),  // Both families.
  };
  std::vector<const PolicyMergeInfo*> ptrs = {&infos[0], &infos[1], &infos[2]};
  auto lookups = BuildLookups(ptrs, {"c0", "c1", "c2"});
  ASSERT_EQ(lookups.size(), 2U);
  EXPECT_EQ(lookups[0].family, 4);
  EXPECT_EQ(lookups[0].match, "meta nfproto ipv4 meta l4proto 6 ip saddr . th dport");
  EXPECT_EQ(lookups[0].type, "ipv4_addr . inet_service");
  EXPECT_THAT(lookups[0].elements,
              ElementsAre("10.0.0.1 . 80 : jump c0", "10.0.0.0/24 . 8000 : jump c1",
                          "0.0.0.0/0 . 9000-9100 : jump c2"));
  EXPECT_EQ(lookups[1].family, 6);
  EXPECT_EQ(lookups[1].match, "meta nfproto ipv6 meta l4proto 6 th dport");
  EXPECT_THAT(lookups[1].elements, ElementsAre("9000-9100 : jump c2"));

  // No nets anywhere: one family-agnostic lookup; several protocols: the protocol is keyed.
  std::vector<PolicyMergeInfo> agnostic = {
      Analyse({{{"action", "Allow"}, {"protocol", "TCP"}, {"destination", {{"ports", {53}}}}}}),
      Analyse({{{"action", "Allow"}, {"protocol", "UDP"}, {"destination", {{"ports", {53}}}}}}),
  };
  ptrs = {&agnostic[0], &agnostic[1]};
  lookups = BuildLookups(ptrs, {"a", "b"});
  ASSERT_EQ(lookups.size(), 1U);
  EXPECT_EQ(lookups[0].match, "meta l4proto . th dport");
  EXPECT_EQ(lookups[0].type, "inet_proto . inet_service");
  EXPECT_THAT(lookups[0].elements, UnorderedElementsAre("6 . 53 : jump a", "17 . 53 : jump b"));
}

TEST(PlanTier, ManyWideElementsStayBounded) {
  // 3000 policies, each "deny TCP from <one /32>" without ports: elements without a port are
  // checked against the whole run; the comparison budget splits the tier into several runs
  // rather than taking quadratic time. Every policy is in some run.
  std::vector<PolicyMergeInfo> infos;
  for (int i = 0; i < 3000; ++i) {
    infos.push_back(
        Analyse({{{"action", "Deny"},
                  {"protocol", "TCP"},
                  {"source", {{"nets", {fmt::format("10.1.{}.{}/32", i / 256, i % 256)}}}}}}));
  }
  const std::vector<TierSegment> plan = Plan(infos);
  ASSERT_GE(plan.size(), 2U);
  std::size_t next = 0;
  for (const TierSegment& s : plan) {
    EXPECT_TRUE(s.merged);
    EXPECT_EQ(s.first, next);
    next = s.last;
  }
  EXPECT_EQ(next, infos.size());
}

}  // namespace
}  // namespace calico::policy
