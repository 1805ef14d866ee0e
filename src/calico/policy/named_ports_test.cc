// Named-port ids and the IP sets a rule needs (named_ports.h).
#include "calico/policy/named_ports.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace calico::policy {
namespace {

// ScanRuleIpSets of a rule given as JSON (which must parse).
RuleIpSets Scan(const nlohmann::json& rule) {
  auto parsed = ParseRule(rule);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message());
  return parsed ? ScanRuleIpSets(*parsed) : RuleIpSets{};
}

using Json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(NamedPortsTest, PortNames) {
  EXPECT_TRUE(IsPortName("http"));
  EXPECT_TRUE(IsPortName("Metrics.v1_x-y"));
  EXPECT_TRUE(IsPortName("8080a"));
  EXPECT_TRUE(IsPortName(std::string(128, 'a')));
  EXPECT_FALSE(IsPortName(std::string(129, 'a')));
  EXPECT_FALSE(IsPortName(""));
  EXPECT_FALSE(IsPortName("80"));
  EXPECT_FALSE(IsPortName("80:90"));
  EXPECT_FALSE(IsPortName("a b"));
}

TEST(NamedPortsTest, ProtocolDefaultsToTcp) {
  EXPECT_EQ(NamedPortProtocol(std::nullopt), kNamedPortTcp);
  EXPECT_EQ(NamedPortProtocol(6), kNamedPortTcp);
  EXPECT_EQ(NamedPortProtocol(17), kNamedPortUdp);
  EXPECT_EQ(NamedPortProtocol(132), kNamedPortSctp);
  EXPECT_EQ(NamedPortProtocol(1), kNamedPortTcp);
  EXPECT_EQ(NamedPortProtocolName(17), "udp");
  EXPECT_EQ(ParseNamedPortProtocol("SCTP"), kNamedPortSctp);
  EXPECT_EQ(ParseNamedPortProtocol("icmp"), std::nullopt);
}

TEST(NamedPortsTest, IdsAreFelixs) {
  // Expected values computed independently: "n:" + base64url(SHA-224("n:" + selector id + "," +
  // proto + "," + name)).
  EXPECT_EQ(NamedPortSetId(selector::Selector::All(), kNamedPortTcp, "http"),
            "n:cl9_Kgeu4H0OGLbhovVR3NBLUOZscKeMK1Mu4A");
  auto db = selector::Parse("app == 'db'");
  ASSERT_TRUE(db);
  EXPECT_EQ(NamedPortSetId(*db, kNamedPortUdp, "dns"), "n:8CnjxO2KskTJwhf3-PAFWdSaEIPjHlO4uW32uA");
}

TEST(NamedPortsTest, SelectorFoldsNotSelectorOrIsAll) {
  EXPECT_TRUE(NamedPortSelector("", "")->IsAll());
  EXPECT_TRUE(NamedPortSelector(" ", "app == 'x'")->IsAll());
  EXPECT_EQ(NamedPortSelector("app == 'db'", "")->String(), selector::Normalise("app == 'db'"));
  EXPECT_EQ(NamedPortSelector("app == 'db'", "role == 'x'")->String(),
            selector::Normalise("(app == 'db') && (!(role == 'x'))"));
  EXPECT_FALSE(NamedPortSelector("app ==", ""));
}

TEST(NamedPortsTest, ScanRuleIpSets) {
  const Json rule = Json::parse(R"({
      "action": "Allow", "protocol": "UDP",
      "source": {"selector": "a == 'x'", "notSelector": "b == 'y'", "notPorts": ["metrics"]},
      "destination": {"selector": "app == 'db'", "ports": [53, "dns", "dns", "dns-alt"]}})");
  const RuleIpSets sets = Scan(rule);
  // Source: no positive named ports, so its numeric alternative needs both selector sets.
  EXPECT_THAT(sets.selectors, ElementsAre("a == 'x'", "b == 'y'", "app == 'db'"));
  auto src = *NamedPortSelector("a == 'x'", "b == 'y'");
  auto dst = *selector::Parse("app == 'db'");
  ASSERT_EQ(sets.named_ports.size(), 3u);
  EXPECT_EQ(sets.named_ports[0].id, NamedPortSetId(src, kNamedPortUdp, "metrics"));
  EXPECT_EQ(sets.named_ports[0].selector, src);
  EXPECT_EQ(sets.named_ports[0].protocol, kNamedPortUdp);
  EXPECT_EQ(sets.named_ports[0].port, "metrics");
  EXPECT_EQ(sets.named_ports[1].id, NamedPortSetId(dst, kNamedPortUdp, "dns"));
  EXPECT_EQ(sets.named_ports[2].port, "dns-alt");
}

TEST(NamedPortsTest, NamedOnlySideNeedsNoSelectorSets) {
  // Only named ports: the selector (and the notSelector folded into it) are matched through the
  // named-port set alone; no protocol means TCP.
  const Json rule = Json::parse(R"({"action": "Allow",
      "destination": {"selector": "app == 'db'", "notSelector": "x == 'y'", "ports": ["http"]}})");
  const RuleIpSets sets = Scan(rule);
  EXPECT_THAT(sets.selectors, IsEmpty());
  ASSERT_EQ(sets.named_ports.size(), 1u);
  EXPECT_EQ(sets.named_ports[0].protocol, kNamedPortTcp);
  EXPECT_EQ(sets.named_ports[0].selector, *NamedPortSelector("app == 'db'", "x == 'y'"));

  // Without a selector the notSelector is still matched on its own (it is not folded into all()).
  const RuleIpSets no_sel = Scan(Json::parse(
      R"({"action": "Allow", "destination": {"notSelector": "x == 'y'", "ports": ["http"]}})"));
  EXPECT_THAT(no_sel.selectors, ElementsAre("x == 'y'"));
  ASSERT_EQ(no_sel.named_ports.size(), 1u);
  EXPECT_TRUE(no_sel.named_ports[0].selector.IsAll());
}

// The scanner only sees rules that parsed: an invalid rule is an error when its policy arrives,
// not a source of IP sets.
TEST(NamedPortsTest, InvalidRulesNeverReachTheScanner) {
  EXPECT_FALSE(ParseRule(Json("x")));
  EXPECT_FALSE(ParseRule(Json::parse(
      R"({"action": "Allow", "destination": {"selector": "app ==", "ports": ["http"]}})")));
  EXPECT_FALSE(ParseRule(Json::parse(
      R"({"action": "Allow", "destination": {"selector": "app == 'x'", "ports": ["a b"]}})")));
}

}  // namespace
}  // namespace calico::policy
