#include "calico/policy/rule_compiler.h"

#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/policy/named_ports.h"

namespace calico::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

RenderContext Ctx() {
  RenderContext ctx{.comment = "policy t/p ingress #0"};
  ctx.resolve_set = [](std::string_view, std::string_view sel, std::string_view,
                       int family) -> Result<std::string> {
    return std::string(family == 6 ? "six-" : "four-") + (sel == "role == 'db'" ? "db" : "other");
  };
  ctx.resolve_named_port_set = [](std::string_view, std::string_view id,
                                  int family) -> Result<std::string> {
    return std::string(family == 6 ? "np6-" : "np4-") + std::string(id);
  };
  return ctx;
}

std::vector<std::string> Compile(const char* rule) {
  auto out = CompileRule(Json::parse(rule), Ctx());
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().message());
  return out ? *out : std::vector<std::string>{};
}

std::string CompileError(const char* rule, ErrorCode code = ErrorCode::kInvalidArgument) {
  auto out = CompileRule(Json::parse(rule), Ctx());
  if (out) return "unexpectedly compiled: " + (*out)[0];
  EXPECT_EQ(out.error().code(), code) << out.error().message();
  return out.error().message();
}

constexpr const char* kAccept =
    "counter meta mark set meta mark | 0x10000 return comment \"policy t/p ingress #0\"";

TEST(RuleCompilerTest, Actions) {
  EXPECT_THAT(Compile(R"({"action": "Allow"})"), ElementsAre(kAccept));
  EXPECT_THAT(Compile(R"({"action": "Deny"})"),
              ElementsAre("counter drop comment \"policy t/p ingress #0\""));
  EXPECT_THAT(Compile(R"({"action": "Pass"})"),
              ElementsAre("counter meta mark set meta mark | 0x20000 return comment \"policy t/p "
                          "ingress #0\""));
  EXPECT_THAT(Compile(R"({"action": "Log"})"),
              ElementsAre("counter log prefix \"calico-packet: \" comment \"policy t/p ingress "
                          "#0\""));
}

TEST(RuleCompilerTest, CustomMarksAndNoComment) {
  RenderContext ctx{.marks = {.accept = 0x100, .pass = 0x200}};
  auto out = CompileRule(Json::parse(R"({"action": "Allow"})"), ctx);
  ASSERT_TRUE(out);
  EXPECT_THAT(*out, ElementsAre("counter meta mark set meta mark | 0x100 return"));
}

TEST(RuleCompilerTest, Protocols) {
  EXPECT_THAT(Compile(R"({"action": "Deny", "protocol": "TCP"})")[0],
              HasSubstr("meta l4proto 6 counter drop"));
  EXPECT_THAT(Compile(R"({"action": "Deny", "protocol": "udplite"})")[0],
              HasSubstr("meta l4proto 136 counter"));
  EXPECT_THAT(Compile(R"({"action": "Deny", "protocol": "SCTP"})")[0],
              HasSubstr("meta l4proto 132 counter"));
  EXPECT_THAT(Compile(R"({"action": "Deny", "protocol": 47})")[0],
              HasSubstr("meta l4proto 47 counter"));
  EXPECT_THAT(Compile(R"({"action": "Deny", "protocol": "17"})")[0],
              HasSubstr("meta l4proto 17 counter"));
  EXPECT_THAT(Compile(R"({"action": "Deny", "notProtocol": "UDP"})")[0],
              HasSubstr("meta l4proto != 17 counter"));
  // ICMP pins the family.
  EXPECT_THAT(Compile(R"({"action": "Deny", "protocol": "ICMP"})"),
              ElementsAre(HasSubstr("meta nfproto ipv4 meta l4proto 1 counter")));
  EXPECT_THAT(Compile(R"({"action": "Deny", "protocol": "ICMPv6"})"),
              ElementsAre(HasSubstr("meta nfproto ipv6 meta l4proto 58 counter")));
}

TEST(RuleCompilerTest, IpVersion) {
  EXPECT_THAT(Compile(R"({"action": "Allow", "ipVersion": 6})"),
              ElementsAre(std::string("meta nfproto ipv6 ") + kAccept));
}

TEST(RuleCompilerTest, Icmp) {
  EXPECT_THAT(Compile(R"({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 8, "code": 0}})"),
              ElementsAre(std::string("meta nfproto ipv4 meta l4proto 1 icmp type 8 icmp code 0 ") +
                          kAccept));
  EXPECT_THAT(
      Compile(R"({"action": "Allow", "protocol": 58, "icmp": {"type": 128}})"),
      ElementsAre(std::string("meta nfproto ipv6 meta l4proto 58 icmpv6 type 128 ") + kAccept));
  EXPECT_THAT(Compile(R"({"action": "Allow", "protocol": "ICMP", "notICMP": {"type": 5}})")[0],
              HasSubstr("icmp type != 5 counter"));
  EXPECT_THAT(
      Compile(R"({"action": "Allow", "protocol": "ICMPv6", "notICMP": {"type": 1, "code": 3}})")[0],
      HasSubstr("icmpv6 type . icmpv6 code != { 1 . 3 } counter"));
}

TEST(RuleCompilerTest, PortsAreMergedAndSorted) {
  EXPECT_THAT(
      Compile(R"({"action": "Allow", "protocol": "TCP",
                  "destination": {"ports": [443, "8000:8080", 80, "79", "8080:8090"]}})"),
      ElementsAre(std::string("meta l4proto 6 th dport { 79-80, 443, 8000-8090 } ") + kAccept));
  EXPECT_THAT(
      Compile(R"({"action": "Allow", "protocol": "UDP",
                          "source": {"ports": [53], "notPorts": ["1:1023"]}})"),
      ElementsAre(std::string("meta l4proto 17 th sport 53 th sport != 1-1023 ") + kAccept));
  EXPECT_THAT(
      Compile(R"({"action": "Deny", "protocol": "SCTP", "destination": {"notPorts": [9]}})")[0],
      HasSubstr("meta l4proto 132 th dport != 9 counter drop"));
}

TEST(RuleCompilerTest, Nets) {
  EXPECT_THAT(Compile(R"({"action": "Allow",
                          "source": {"nets": ["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/24"]},
                          "destination": {"notNets": ["172.16.0.0/12"]}})"),
              ElementsAre(std::string("meta nfproto ipv4 ip saddr { 10.0.0.0/8, 192.168.0.0/24 } "
                                      "ip daddr != 172.16.0.0/12 ") +
                          kAccept));
  EXPECT_THAT(
      Compile(R"({"action": "Deny", "source": {"notNets": ["fd00::/8", "2001:db8::/32"]}})"),
      ElementsAre("meta nfproto ipv6 ip6 saddr != { 2001:db8::/32, fd00::/8 } counter "
                  "drop comment \"policy t/p ingress #0\""));
}

TEST(RuleCompilerTest, SelectorsRenderPerFamily) {
  EXPECT_THAT(Compile(R"({"action": "Allow", "source": {"selector": "role == 'db'"}})"),
              ElementsAre(std::string("meta nfproto ipv4 ip saddr @four-db ") + kAccept,
                          std::string("meta nfproto ipv6 ip6 saddr @six-db ") + kAccept));
  EXPECT_THAT(Compile(R"({"action": "Allow", "ipVersion": 4,
                          "destination": {"notSelector": "x == 'y'"}})"),
              ElementsAre(std::string("meta nfproto ipv4 ip daddr != @four-other ") + kAccept));
  EXPECT_THAT(Compile(R"({"action": "Allow", "source": {"selector": "role == 'db'",
                          "nets": ["fd00::/64"]}})"),
              ElementsAre(std::string("meta nfproto ipv6 ip6 saddr fd00::/64 ip6 saddr @six-db ") +
                          kAccept));
}

TEST(RuleCompilerTest, SelectorNeedsResolver) {
  auto out = CompileRule(Json::parse(R"({"action": "Allow", "source": {"selector": "a == 'b'"}})"),
                         RenderContext{});
  ASSERT_FALSE(out);
  EXPECT_THAT(out.error().message(), HasSubstr("source.selector: no IP set resolver"));
}

TEST(RuleCompilerTest, ResolverErrorsPropagate) {
  RenderContext ctx;
  ctx.resolve_set = [](std::string_view field, std::string_view, std::string_view,
                       int) -> Result<std::string> {
    return NotFound(std::string(field) + ": nope");
  };
  auto out = CompileRule(
      Json::parse(R"({"action": "Allow", "destination": {"notSelector": "a == 'b'"}})"), ctx);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message(), "destination.notSelector: nope");
}

TEST(RuleCompilerTest, FieldErrors) {
  EXPECT_EQ(CompileError(R"({"protocol": "TCP"})"), "action: required");
  EXPECT_THAT(CompileError(R"({"action": "allow"})"), HasSubstr("action: invalid action"));
  EXPECT_EQ(CompileError(R"({"action": "Allow", "bogus": 1})"), "bogus: unknown field");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "source": {"nets": [], "port": [1]}})"),
            "source.port: unknown field");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "ipVersion": 5})"), "ipVersion: must be 4 or 6");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "protocol": "foo"})"),
            "protocol: invalid protocol \"foo\"");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "protocol": 0})"), "protocol: invalid protocol 0");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "notProtocol": "256"})"),
            "notProtocol: invalid protocol \"256\"");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "icmp": {"type": 8}})"),
            "icmp: ICMP fields require protocol to be ICMP or ICMPv6");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "protocol": "TCP", "notICMP": {"type": 8}})"),
            "notICMP: ICMP fields require protocol to be ICMP or ICMPv6");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "protocol": "ICMP", "icmp": {"code": 1}})"),
            "icmp: ICMP code specified without an ICMP type");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 255}})"),
            "icmp.type: must be between 0 and 254");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "protocol": "ICMP", "ipVersion": 6})"),
            "protocol: protocol ICMP requires ipVersion 4");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "notProtocol": "ICMPv6", "ipVersion": 4})"),
            "notProtocol: protocol ICMPv6 requires ipVersion 6");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "protocol": "ICMP",
                             "source": {"nets": ["fd00::/8"]}})"),
            "source.nets: CIDR fd00::/8 conflicts with protocol ICMP");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "source": {"nets": ["10.0.0.0/8"]},
                             "destination": {"notNets": ["fd00::/8"]}})"),
            "destination.notNets: rule contains both IPv4 and IPv6 CIDRs");
  EXPECT_EQ(
      CompileError(R"({"action": "Allow", "ipVersion": 6, "source": {"nets": ["10.0.0.0/8"]}})"),
      "source.nets: rule IP version doesn't match CIDR version");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "source": {"nets": ["10.0.0.1"]}})"),
            "source.nets[0]: invalid CIDR \"10.0.0.1\"");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "source": {"nets": ["10.0.0.1/8"]}})"),
            "source.nets[0]: invalid CIDR \"10.0.0.1/8\": host bits must be zero");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "destination": {"notNets": ["::/0"]}})"),
            "destination.notNets[0]: catch-all CIDR in negation creates logical contradiction "
            "(matches no traffic)");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "destination": {"ports": [80]}})"),
            "destination.ports: rules that specify ports must set protocol to TCP or UDP or SCTP");
  EXPECT_EQ(
      CompileError(R"({"action": "Allow", "protocol": "ICMP", "source": {"notPorts": [80]}})"),
      "source.notPorts: rules that specify ports must set protocol to TCP or UDP or SCTP");
  EXPECT_EQ(
      CompileError(R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": [0]}})"),
      "destination.ports[0]: port range invalid, port number must be between 1 and 65535");
  EXPECT_EQ(CompileError(
                R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": ["90:80"]}})"),
            "destination.ports[0]: minimum port number (90) is greater than maximum (80)");
  EXPECT_EQ(
      CompileError(R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": ["a b"]}})"),
      "destination.ports[0]: invalid port \"a b\"");
  EXPECT_THAT(CompileError(R"({"action": "Allow", "source": {"selector": "a == "}})"),
              HasSubstr("source.selector: "));
  EXPECT_EQ(CompileError(R"j({"action": "Allow", "source": {"selector": "global()"}})j"),
            "source.selector: global() may not be used in an entity rule selector");
}

// The set a named port resolves to in Ctx(): "np<family>-" + NamedPortSetId.
std::string NamedSet(int family, std::string_view sel, std::string_view not_sel, uint8_t proto,
                     std::string_view name) {
  auto s = NamedPortSelector(sel, not_sel);
  EXPECT_TRUE(s);
  return fmt::format("np{}-{}", family, NamedPortSetId(*s, proto, name));
}

TEST(RuleCompilerTest, NamedPortsRenderPerFamilyWithoutProtocol) {
  // Only a named port: no protocol needed (TCP sets), one rule per family.
  const std::string all4 = NamedSet(4, "", "", kNamedPortTcp, "http");
  const std::string all6 = NamedSet(6, "", "", kNamedPortTcp, "http");
  EXPECT_THAT(
      Compile(R"({"action": "Allow", "destination": {"ports": ["http"]}})"),
      ElementsAre(
          "meta nfproto ipv4 ip daddr . meta l4proto . th dport @" + all4 + " " + kAccept,
          "meta nfproto ipv6 ip6 daddr . meta l4proto . th dport @" + all6 + " " + kAccept));
  // ipVersion pins the family; the protocol picks the set (UDP).
  EXPECT_THAT(
      Compile(R"({"action": "Allow", "ipVersion": 6, "protocol": "UDP",
                          "source": {"ports": ["dns"]}})"),
      ElementsAre("meta nfproto ipv6 meta l4proto 17 ip6 saddr . meta l4proto . th sport @" +
                  NamedSet(6, "", "", kNamedPortUdp, "dns") + " " + kAccept));
}

TEST(RuleCompilerTest, NumericAndNamedPortsAreAlternatives) {
  // ports [80, "http", "alt"] = port 80 OR http OR alt: one rule for the numeric ports (with the
  // selector set) and one per named port (its set is already filtered by the selector).
  const auto out = Compile(R"({"action": "Allow", "protocol": "TCP",
      "destination": {"selector": "role == 'db'", "ports": [80, "http", "alt", "http"]}})");
  const std::string http4 = NamedSet(4, "role == 'db'", "", kNamedPortTcp, "http");
  const std::string alt4 = NamedSet(4, "role == 'db'", "", kNamedPortTcp, "alt");
  const std::string http6 = NamedSet(6, "role == 'db'", "", kNamedPortTcp, "http");
  const std::string alt6 = NamedSet(6, "role == 'db'", "", kNamedPortTcp, "alt");
  EXPECT_THAT(
      out,
      ElementsAre(
          "meta nfproto ipv4 meta l4proto 6 ip daddr @four-db th dport 80 " + std::string(kAccept),
          "meta nfproto ipv4 meta l4proto 6 ip daddr . meta l4proto . th dport @" + http4 + " " +
              kAccept,
          "meta nfproto ipv4 meta l4proto 6 ip daddr . meta l4proto . th dport @" + alt4 + " " +
              kAccept,
          "meta nfproto ipv6 meta l4proto 6 ip6 daddr @six-db th dport 80 " + std::string(kAccept),
          "meta nfproto ipv6 meta l4proto 6 ip6 daddr . meta l4proto . th dport @" + http6 + " " +
              kAccept,
          "meta nfproto ipv6 meta l4proto 6 ip6 daddr . meta l4proto . th dport @" + alt6 + " " +
              kAccept));
}

TEST(RuleCompilerTest, NamedNotPortsAreAndedNegations) {
  const auto out = Compile(R"({"action": "Deny", "protocol": "TCP", "ipVersion": 4,
      "source": {"selector": "role == 'db'", "notSelector": "x == 'y'",
                 "notPorts": [22, "metrics", "debug"]}})");
  const std::string metrics = NamedSet(4, "role == 'db'", "x == 'y'", kNamedPortTcp, "metrics");
  const std::string debug = NamedSet(4, "role == 'db'", "x == 'y'", kNamedPortTcp, "debug");
  EXPECT_THAT(out,
              ElementsAre("meta nfproto ipv4 meta l4proto 6 ip saddr @four-db ip saddr != "
                          "@four-other th sport != 22 ip saddr . meta l4proto . th sport != @" +
                          metrics + " ip saddr . meta l4proto . th sport != @" + debug +
                          " counter drop comment \"policy t/p ingress #0\""));
}

TEST(RuleCompilerTest, NamedPortsOnBothSidesCombine) {
  const auto out = Compile(R"({"action": "Allow", "protocol": "TCP", "ipVersion": 4,
      "source": {"ports": ["a", "b"]}, "destination": {"ports": [80, "c"]}})");
  ASSERT_EQ(out.size(), 4u);  // (a | b) x (80 | c)
  EXPECT_THAT(out[0], HasSubstr("@" + NamedSet(4, "", "", kNamedPortTcp, "a") + " th dport 80 "));
  EXPECT_THAT(out[3], HasSubstr("th sport @" + NamedSet(4, "", "", kNamedPortTcp, "b") +
                                " ip daddr . meta l4proto . th dport @" +
                                NamedSet(4, "", "", kNamedPortTcp, "c") + " counter"));
}

TEST(RuleCompilerTest, NamedPortErrors) {
  EXPECT_EQ(CompileError(
                R"({"action": "Allow", "protocol": "ICMP", "destination": {"ports": ["http"]}})"),
            "destination.ports: rules that specify ports must set protocol to TCP or UDP or SCTP");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "destination": {"ports": [80, "http"]}})"),
            "destination.ports: rules that specify ports must set protocol to TCP or UDP or SCTP");
  EXPECT_EQ(CompileError(R"({"action": "Allow", "destination": {"ports": ["9999999999"]}})"),
            "destination.ports[0]: port range invalid, port number must be between 1 and 65535");
  RenderContext no_resolver{.comment = "c"};
  auto out = CompileRule(Json::parse(R"({"action": "Allow", "source": {"notPorts": ["metrics"]}})"),
                         no_resolver);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message(), "source.notPorts: no named-port IP set resolver configured");
}

TEST(RuleCompilerTest, ParseRuleNamedPorts) {
  auto ir = ParseRule(Json::parse(R"({"action": "Allow", "protocol": "SCTP",
      "destination": {"ports": ["b", 7, "a", "b"], "notPorts": ["c"]}})"));
  ASSERT_TRUE(ir) << ir.error().message();
  EXPECT_THAT(ir->destination.ports, ElementsAre(PortRange{7, 7}));
  ASSERT_EQ(ir->destination.named_ports.size(), 2u);
  EXPECT_EQ(ir->destination.named_ports[0].name, "b");
  EXPECT_EQ(ir->destination.named_ports[0].set_id,
            NamedPortSetId(selector::Selector::All(), kNamedPortSctp, "b"));
  EXPECT_EQ(ir->destination.named_ports[1].name, "a");
  ASSERT_EQ(ir->destination.not_named_ports.size(), 1u);
  EXPECT_EQ(ir->destination.not_named_ports[0].name, "c");
}

TEST(RuleCompilerTest, UnsupportedFields) {
  EXPECT_THAT(CompileError(R"({"action": "Allow", "source": {"namespaceSelector": "a == 'b'"}})",
                           ErrorCode::kUnsupported),
              HasSubstr("source.namespaceSelector: not supported"));
  EXPECT_THAT(CompileError(R"({"action": "Allow", "destination": {"services": {"name": "x"}}})",
                           ErrorCode::kUnsupported),
              HasSubstr("destination.services: not supported"));
  // Empty values of those fields are fine.
  EXPECT_THAT(Compile(R"({"action": "Allow", "source": {"namespaceSelector": ""},
                          "metadata": {"annotations": {"a": "b"}}})"),
              ElementsAre(kAccept));
}

// As Felix without an L7 proxy (felix/rules/policy.go ignores HttpMatch): the L3/L4 part is
// rendered, the HTTP part is not, and the ParsedRule says so.
TEST(RuleCompilerTest, HttpMatchIgnoredL4Enforced) {
  const Json rule = Json::parse(R"({"action": "Allow", "protocol": "TCP",
      "destination": {"ports": [80]}, "http": {"methods": ["GET"], "paths": [{"prefix": "/a"}]}})");
  auto ir = ParseRule(rule);
  ASSERT_TRUE(ir) << ir.error().message();
  EXPECT_TRUE(ir->http_match_ignored);
  auto plain =
      Json::parse(R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": [80]}})");
  EXPECT_EQ(Compile(rule.dump().c_str()), Compile(plain.dump().c_str()));
  auto without = ParseRule(plain);
  ASSERT_TRUE(without);
  EXPECT_FALSE(without->http_match_ignored);
  // An empty match is no match at all; a match that is not an object is an error.
  auto empty = ParseRule(Json::parse(R"({"action": "Deny", "http": {}})"));
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->http_match_ignored);
  EXPECT_THAT(CompileError(R"({"action": "Allow", "http": "GET"})", ErrorCode::kInvalidArgument),
              HasSubstr("http: must be an object"));
}

TEST(RuleCompilerTest, ParseRuleGivesParsedRule) {
  auto ir = ParseRule(Json::parse(R"({"action": "Pass", "protocol": "TCP", "ipVersion": 4,
                                      "source": {"ports": [22, "20:21"]}})"));
  ASSERT_TRUE(ir);
  EXPECT_EQ(ir->action, Action::kPass);
  EXPECT_EQ(ir->protocol, 6);
  EXPECT_EQ(ir->family, 4);
  EXPECT_THAT(ir->source.ports, ElementsAre(PortRange{20, 22}));
}

}  // namespace
}  // namespace calico::policy
