// Unit tests for the nftables ruleset text model and the incremental differ (no kernel).
#include "calico/nft_model/ruleset.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace calico::nft_model {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string Golden(const std::string& name) {
  std::ifstream in(std::string(CALICO_SOURCE_DIR) + "/src/calico/policy/testdata/" + name + ".nft");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

NftRuleset MustParse(std::string_view text) {
  auto rs = ParseNftRuleset(text);
  EXPECT_TRUE(rs.has_value()) << rs.error().message();
  return rs.value_or(NftRuleset{});
}

// Position of `needle` in `haystack`, failing the test when absent.
std::size_t Pos(const std::string& haystack, const std::string& needle) {
  const std::size_t p = haystack.find(needle);
  EXPECT_NE(p, std::string::npos) << "missing: " << needle << "\nin:\n" << haystack;
  return p;
}

constexpr std::string_view kBase = R"(# comment line
table inet calico
delete table inet calico
table inet calico {
	set s4 {
		type ipv4_addr
		flags interval
		comment "app in {'a', 'b'}"
		elements = { 10.0.0.1, 10.0.1.0/24 }
	}

	map disp {
		type ifname : verdict
		elements = {
			"cali1" : goto cali-fw-cali1,
			"cali2" : goto cali-fw-cali2
		}
	}

	chain cali-FORWARD {
		type filter hook forward priority filter; policy accept;
		iifname "cali*" jump cali-disp
	}

	chain cali-disp {
		iifname vmap @disp
		counter drop comment "Unknown interface"
	}

	chain cali-fw-cali1 {
		jump cali-po-p1
	}

	chain cali-fw-cali2 {
		counter drop comment "Drop if no profiles matched"
	}

	chain cali-po-p1 {
		ip daddr @s4 counter accept comment "policy p1 egress #0"
	}
}
)";

TEST(NftParseTest, ParsesRenderedText) {
  const NftRuleset rs = MustParse(kBase);
  EXPECT_EQ(rs.family, "inet");
  EXPECT_EQ(rs.table, "calico");
  ASSERT_EQ(rs.sets.size(), 2U);
  const NftSet& s4 = rs.sets.at("s4");
  EXPECT_FALSE(s4.is_map);
  EXPECT_THAT(s4.header,
              ElementsAre("type ipv4_addr", "flags interval", "comment \"app in {'a', 'b'}\""));
  EXPECT_THAT(s4.elements, ElementsAre("10.0.0.1", "10.0.1.0/24"));
  const NftSet& disp = rs.sets.at("disp");
  EXPECT_TRUE(disp.is_map);
  EXPECT_THAT(disp.elements,
              ElementsAre("\"cali1\" : goto cali-fw-cali1", "\"cali2\" : goto cali-fw-cali2"));
  ASSERT_EQ(rs.chains.size(), 5U);
  EXPECT_THAT(rs.chains.at("cali-FORWARD").header,
              ElementsAre("type filter hook forward priority filter; policy accept;"));
  EXPECT_THAT(rs.chains.at("cali-FORWARD").rules, ElementsAre("iifname \"cali*\" jump cali-disp"));
  EXPECT_THAT(rs.chains.at("cali-disp").header, IsEmpty());
  EXPECT_EQ(rs.chains.at("cali-disp").rules.size(), 2U);
}

TEST(NftParseTest, ParsesEveryGolden) {
  for (const char* name : {"deny_allow_order", "icmp_ports_nets", "ipv6", "profile_only",
                           "selector_ipsets", "tiers_pass", "named_ports"}) {
    SCOPED_TRACE(name);
    const std::string text = Golden(name);
    ASSERT_FALSE(text.empty());
    const NftRuleset rs = MustParse(text);
    EXPECT_EQ(rs.chains.count("cali-FORWARD"), 1U);
    EXPECT_EQ(rs.sets.count("cali-from-wl-dispatch"), 1U);
    // Every "chain"/"set"/"map" block of the text is in the model.
    std::size_t blocks = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("\tchain ", 0) == 0 || line.rfind("\tset ", 0) == 0 ||
          line.rfind("\tmap ", 0) == 0) {
        ++blocks;
      }
    }
    EXPECT_EQ(blocks, rs.chains.size() + rs.sets.size());
  }
  const NftRuleset rs = MustParse(Golden("selector_ipsets"));
  EXPECT_THAT(rs.sets.at("cali40s-NgAztXgCjQllj3pd-bE8lGi").elements,
              ElementsAre("10.65.5.10", "10.65.6.0/24"));
  EXPECT_EQ(rs.chains.at("cali-pi-default/shop/knp.default.backend").rules.size(), 5U);
}

TEST(NftParseTest, ParsesListingOutput) {
  constexpr std::string_view kListing = R"(table inet calico { # handle 3
	set s6 { # handle 4
		type ipv6_addr
		flags interval
		elements = { fd00::a,
			     fd00::14 }
	}

	chain c { # handle 5
		ip saddr 10.0.0.1 counter packets 12 bytes 3456 drop comment "x # handle 1" # handle 6
	}
}
)";
  const NftRuleset rs = MustParse(kListing);
  EXPECT_THAT(rs.sets.at("s6").elements, ElementsAre("fd00::a", "fd00::14"));
  EXPECT_THAT(rs.chains.at("c").rules,
              ElementsAre("ip saddr 10.0.0.1 counter packets 12 bytes 3456 drop comment "
                          "\"x # handle 1\""));
  auto canonical = NormaliseNftListing(kListing);
  ASSERT_TRUE(canonical.has_value()) << canonical.error().message();
  EXPECT_THAT(*canonical, HasSubstr("elements = { fd00::14, fd00::a }"));
  EXPECT_THAT(*canonical, HasSubstr("ip saddr 10.0.0.1 counter drop comment"));
  EXPECT_THAT(*canonical, Not(HasSubstr("packets")));
}

TEST(NftParseTest, CanonicalTextIgnoresCounterValuesAndElementOrder) {
  auto a = NormaliseNftListing(
      "table inet calico {\n map m {\n type ifname : verdict\n elements = { \"b\" : drop, \"a\" : "
      "accept }\n }\n chain c {\n counter packets 1 bytes 2 accept\n }\n}\n");
  auto b = NormaliseNftListing(
      "table inet calico {\n map m {\n type ifname : verdict\n elements = { \"a\" : accept,\n"
      " \"b\" : drop }\n }\n chain c {\n counter packets 0 bytes 0 accept\n }\n}\n");
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*a, *b);
}

TEST(NftParseTest, SplitsElementsAtTopLevelCommas) {
  EXPECT_THAT(SplitNftElements(" 10.0.0.1, \"a,b\" : goto x , { 1, 2 } "),
              ElementsAre("10.0.0.1", "\"a,b\" : goto x", "{ 1, 2 }"));
  EXPECT_THAT(SplitNftElements("  "), IsEmpty());
}

TEST(NftParseTest, NamesAreQuotedOnlyWhenNeeded) {
  EXPECT_EQ(NftName("cali-pi-default/ns1/knp.default.x"), "cali-pi-default/ns1/knp.default.x");
  EXPECT_EQ(NftName("has space"), "\"has space\"");
  EXPECT_EQ(NftName("1abc"), "\"1abc\"");
}

TEST(NftParseTest, RejectsMalformedText) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "no \"table inet calico { ... }\" block"},
      {"table inet calico {\n chain c {\n accept\n", "line 4: chain block not closed"},
      {"table inet calico {\n chain c {\n accept\n }\n", "table block not closed"},
      {"table inet other {\n}\n", "line 1: unexpected table inet other"},
      {"add rule inet calico c accept\ntable inet calico {\n}\n",
       "line 1: unsupported statement outside the table block"},
      {"table inet calico {\n flowtable f {\n }\n}\n", "line 2: unsupported statement in table"},
      {"table inet calico {\n chain c {\n }\n chain c {\n }\n}\n", "line 4: duplicate chain c"},
      {"table inet calico {\n set s {\n elements = { 1, 2\n", "element list not closed"},
      {"table inet calico {\n chain c {\n ip saddr { 1.2.3.4 accept\n }\n}\n", "unbalanced braces"},
      {"table inet calico {\n chain {\n }\n}\n", "chain without a name"},
  };
  for (const Case& c : cases) {
    auto rs = ParseNftRuleset(c.text);
    ASSERT_FALSE(rs.has_value()) << c.text;
    EXPECT_EQ(rs.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(rs.error().message(), HasSubstr(c.message)) << c.text;
  }
}

TEST(NftDiffTest, EqualRulesetsGiveNoCommands) {
  const NftDiff diff = DiffNftRulesets(MustParse(kBase), MustParse(kBase));
  EXPECT_TRUE(diff.empty());
  EXPECT_THAT(diff.refilled_chains, IsEmpty());
  // The replace-table prologue and comments do not matter.
  const std::string golden = Golden("tiers_pass");
  const std::string bare = golden.substr(golden.find("table inet calico {"));
  EXPECT_TRUE(DiffNftRulesets(MustParse(golden), MustParse(bare)).empty());
}

TEST(NftDiffTest, SetElementChangesTouchOnlyElements) {
  std::string next(kBase);
  next.replace(next.find("10.0.0.1, 10.0.1.0/24"), 21, "10.0.0.0/24, 10.0.1.0/24, 10.0.2.1");
  const NftDiff diff = DiffNftRulesets(MustParse(kBase), MustParse(next));
  EXPECT_EQ(diff.commands,
            "flush set inet calico s4\n"
            "add set inet calico s4 { type ipv4_addr; flags interval; comment \"app in {'a', "
            "'b'}\"; elements = { 10.0.0.0/24, 10.0.1.0/24, 10.0.2.1 }; }\n");
  EXPECT_THAT(diff.updated_sets, ElementsAre("s4"));
  EXPECT_THAT(diff.refilled_chains, IsEmpty());
}

TEST(NftDiffTest, SetLosingElementsIsRefilledUpTo1000ElementsElseDeletedFrom) {
  // Over 1000 elements a set is not re-sent whole: the elements that go are deleted.
  std::vector<std::string> elements;
  for (int i = 0; i < 1002; ++i) {
    elements.push_back("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250));
  }
  auto text = [&](std::size_t from) {
    std::string out = "table inet calico {\n\tset big {\n\t\ttype ipv4_addr\n\t\telements = { ";
    for (std::size_t i = from; i < elements.size(); ++i) {
      out += (i == from ? "" : ", ") + elements[i];
    }
    return out + " }\n\t}\n}\n";
  };
  EXPECT_EQ(DiffNftRulesets(MustParse(text(0)), MustParse(text(1))).commands,
            "delete element inet calico big { 10.1.0.0 }\n");
  // At 1000 it is flushed and refilled with all of them.
  const std::string refill = DiffNftRulesets(MustParse(text(0)), MustParse(text(2))).commands;
  EXPECT_EQ(refill.substr(0, refill.find('\n') + 1), "flush set inet calico big\n");
  EXPECT_THAT(refill, HasSubstr("\nadd set inet calico big { type ipv4_addr; elements = { "
                                "10.1.0.2, 10.1.0.3, "));
  EXPECT_THAT(refill, HasSubstr(", 10.1.4.1 }; }\n"));
  EXPECT_THAT(refill, Not(HasSubstr("delete")));
}

TEST(NftDiffTest, ChangedChainIsFlushedAndRefilledOthersUntouched) {
  std::string next(kBase);
  next.replace(next.find("counter accept comment \"policy p1 egress #0\""), 7,
               "tcp dport 80 counter");
  const NftDiff diff = DiffNftRulesets(MustParse(kBase), MustParse(next));
  EXPECT_EQ(diff.commands,
            "flush chain inet calico cali-po-p1\n"
            "add set inet calico s4 { type ipv4_addr; flags interval; comment \"app in {'a', "
            "'b'}\"; }\n"
            "add chain inet calico cali-po-p1 {\n"
            "\tip daddr @s4 tcp dport 80 counter accept comment \"policy p1 egress #0\"\n"
            "}\n");
  EXPECT_THAT(diff.refilled_chains, ElementsAre("cali-po-p1"));
}

TEST(NftDiffTest, RemovedEndpointChainLosesItsMapElementFirst) {
  // Endpoint cali2 goes away: its dispatch element must go before its chain.
  std::string next(kBase);
  next.replace(next.find(",\n\t\t\t\"cali2\" : goto cali-fw-cali2"),
               std::string(",\n\t\t\t\"cali2\" : goto cali-fw-cali2").size(), "");
  next.replace(next.find("\tchain cali-fw-cali2 {"),
               std::string("\tchain cali-fw-cali2 {\n\t\tcounter drop comment \"Drop if no "
                           "profiles matched\"\n\t}\n\n")
                   .size(),
               "");
  const NftDiff diff = DiffNftRulesets(MustParse(kBase), MustParse(next));
  EXPECT_THAT(diff.removed_chains, ElementsAre("cali-fw-cali2"));
  EXPECT_THAT(diff.updated_sets, ElementsAre("disp"));
  EXPECT_EQ(diff.commands,
            "flush chain inet calico cali-fw-cali2\n"
            "flush map inet calico disp\n"
            "delete chain inet calico cali-fw-cali2\n"
            "add map inet calico disp { type ifname : verdict; elements = { \"cali1\" : goto "
            "cali-fw-cali1 }; }\n");
}

TEST(NftDiffTest, NewEndpointChainExistsBeforeItsMapElementAndRules) {
  std::string next(kBase);
  next.replace(next.find("\"cali2\" : goto cali-fw-cali2"), 28,
               "\"cali2\" : goto cali-fw-cali2,\n\"cali3\" : goto cali-fw-cali3");
  next.replace(next.find("\tchain cali-po-p1 {"), 0,
               "\tchain cali-fw-cali3 {\n\t\tjump cali-po-p2\n\t}\n\tchain cali-po-p2 {\n\t\t"
               "ip saddr @s6 accept\n\t}\n");
  next.replace(next.find("\tmap disp {"), 0,
               "\tset s6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\telements = { fd00::1 "
               "}\n\t}\n");
  const NftDiff diff = DiffNftRulesets(MustParse(kBase), MustParse(next));
  EXPECT_THAT(diff.added_chains, ElementsAre("cali-fw-cali3", "cali-po-p2"));
  EXPECT_THAT(diff.added_sets, ElementsAre("s6"));
  EXPECT_THAT(diff.refilled_chains, IsEmpty());
  EXPECT_EQ(diff.commands,
            "add set inet calico s6 { type ipv6_addr; flags interval; }\n"
            "add chain inet calico cali-fw-cali3\n"
            "add chain inet calico cali-po-p2\n"
            "add set inet calico s6 { type ipv6_addr; flags interval; elements = { fd00::1 }; }\n"
            "add map inet calico disp { type ifname : verdict; elements = { \"cali3\" : goto "
            "cali-fw-cali3 }; }\n"
            "add chain inet calico cali-fw-cali3 {\n"
            "\tjump cali-po-p2\n"
            "}\n"
            "add chain inet calico cali-po-p2 {\n"
            "\tip saddr @s6 accept\n"
            "}\n");
}

TEST(NftDiffTest, ChangedMapVerdictIsReplacedByKey) {
  std::string next(kBase);
  next.replace(next.find("\"cali1\" : goto cali-fw-cali1"), 28, "\"cali1\" : goto cali-fw-cali2");
  const NftDiff diff = DiffNftRulesets(MustParse(kBase), MustParse(next));
  EXPECT_EQ(diff.commands,
            "flush map inet calico disp\n"
            "add map inet calico disp { type ifname : verdict; elements = { \"cali1\" : goto "
            "cali-fw-cali2, \"cali2\" : goto cali-fw-cali2 }; }\n");
}

TEST(NftDiffTest, RecreatedSetEmptiesReferencingChainsFirst) {
  std::string next(kBase);
  next.replace(next.find("\t\tflags interval\n"), 17, "");  // Declaration change.
  next.replace(next.find("10.0.0.1, 10.0.1.0/24"), 21, "10.0.0.1");
  const NftDiff diff = DiffNftRulesets(MustParse(kBase), MustParse(next));
  EXPECT_THAT(diff.recreated, ElementsAre("s4"));
  EXPECT_THAT(diff.refilled_chains, ElementsAre("cali-po-p1"));
  const std::string& c = diff.commands;
  const std::size_t flush = Pos(c, "flush chain inet calico cali-po-p1\n");
  const std::size_t del = Pos(c, "delete set inet calico s4\n");
  const std::size_t add = Pos(c, "add set inet calico s4 { type ipv4_addr; comment");
  const std::size_t elems = Pos(c, "elements = { 10.0.0.1 }; }\n");
  const std::size_t rule = Pos(c, "add chain inet calico cali-po-p1 {\n\tip daddr @s4");
  EXPECT_LT(flush, del);
  EXPECT_LT(del, add);
  EXPECT_LT(add, elems);
  EXPECT_LT(elems, rule);
  EXPECT_THAT(c, Not(HasSubstr("cali-disp")));
}

TEST(NftDiffTest, RecreatedBaseChainAndDependentMapElements) {
  // A base chain whose hook changes is deleted and re-created; a regular chain whose (chain)
  // comment changes likewise, and the map element pointing at it is re-added.
  std::string next(kBase);
  next.replace(next.find("hook forward"), 12, "hook input");
  next.replace(next.find("\tchain cali-fw-cali1 {\n"), 23,
               "\tchain cali-fw-cali1 {\n\t\tcomment \"ep 1\"\n");
  const NftDiff diff = DiffNftRulesets(MustParse(kBase), MustParse(next));
  EXPECT_THAT(diff.recreated, ElementsAre("cali-FORWARD", "cali-fw-cali1"));
  const std::string& c = diff.commands;
  EXPECT_LT(Pos(c, "flush map inet calico disp\n"),
            Pos(c, "delete chain inet calico cali-fw-cali1"));
  EXPECT_LT(Pos(c, "add chain inet calico cali-fw-cali1 { comment \"ep 1\"; }"),
            Pos(c,
                "add map inet calico disp { type ifname : verdict; elements = { \"cali1\" : "
                "goto cali-fw-cali1, "));
  EXPECT_THAT(c, HasSubstr("add chain inet calico cali-FORWARD { type filter hook input priority "
                           "filter; policy accept; }\n"));
  EXPECT_THAT(c, HasSubstr("add chain inet calico cali-FORWARD {\n\tiifname \"cali*\" jump "
                           "cali-disp\n}\n"));
  EXPECT_THAT(c, Not(HasSubstr("inet calico cali-po-p1")));  // Only jumped to, not touched.
  EXPECT_THAT(c, Not(HasSubstr("inet calico cali-disp")));
}

TEST(NftDiffTest, BetweenGoldensStaticChainsAreUntouched) {
  const NftRuleset from = MustParse(Golden("selector_ipsets"));
  const NftRuleset to = MustParse(Golden("tiers_pass"));
  const NftDiff diff = DiffNftRulesets(from, to);
  EXPECT_FALSE(diff.empty());
  for (const char* chain : {"cali-FORWARD", "cali-INPUT", "cali-OUTPUT", "cali-from-wl-dispatch",
                            "cali-to-wl-dispatch", "cali-wl-to-host"}) {
    EXPECT_THAT(diff.commands, Not(HasSubstr("chain inet calico " + std::string(chain) + "\n")));
    EXPECT_THAT(diff.commands, Not(HasSubstr("chain inet calico " + std::string(chain) + " {")));
  }
  // Nothing that makes libnftables fetch every chain of the table, but the deletions.
  EXPECT_THAT(diff.commands, Not(HasSubstr("add rule ")));
  EXPECT_THAT(diff.commands, Not(HasSubstr("add element ")));
  EXPECT_EQ(diff.removed_sets.size(), 7U);
  EXPECT_THAT(diff.updated_sets, ElementsAre("cali-from-wl-dispatch", "cali-to-wl-dispatch"));
  // Every chain of the old ruleset that is not in the new one is deleted.
  for (const auto& [name, chain] : from.chains) {
    if (to.chains.count(name) == 0) {
      EXPECT_THAT(diff.commands, HasSubstr("delete chain inet calico " + name + "\n"));
    }
  }
}

}  // namespace
}  // namespace calico::nft_model
