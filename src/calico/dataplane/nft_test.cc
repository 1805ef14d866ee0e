// Privileged: programs `table inet calico` through libnftables in network namespaces this test
// creates (never the root namespace's nftables), from threads inside them (RunInNetns), and checks
// the result the way an operator would (`ip netns exec NS nft ...`).
#include "calico/dataplane/nft.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/strings.h"
#include "calico/dataplane/netns.h"
#include "calico/dataplane/nft_set_elements.h"
#include "calico/dataplane/testing/netns_fixture.h"
#include "calico/nft_model/ruleset.h"

namespace calico::dataplane {

using nft_model::NftRuleset;
using nft_model::NftRulesetText;
using nft_model::NormaliseNftListing;
using nft_model::ParseNftRuleset;
using nft_model::RuleCounter;

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScopedNetns;

std::string Golden(const std::string& name) {
  std::ifstream in(std::string(CALICO_SOURCE_DIR) + "/src/calico/policy/testdata/" + name + ".nft");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

std::string Normalised(const std::string& listing) {
  auto n = NormaliseNftListing(listing);
  EXPECT_TRUE(n.has_value()) << n.error().message() << "\n" << listing;
  return n.value_or("");
}

const std::vector<std::string>& GoldenNames() {
  static const std::vector<std::string> names = {
      "deny_allow_order", "icmp_ports_nets", "ipv6",       "profile_only",
      "selector_ipsets",  "tiers_pass",      "named_ports"};
  return names;
}

class NftTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0U) << "privileged test: run as root";
    ASSERT_TRUE(ns_.ok() && ref_.ok()) << "cannot create network namespaces";
    for (const std::string& name : GoldenNames()) {
      ASSERT_FALSE(Golden(name).empty()) << name;
    }
  }

  // Runs `fn` on a thread inside `ns`.
  static void In(const ScopedNetns& ns, const std::function<void()>& fn) {
    auto fd = NetnsFd::Open(ns.path());
    ASSERT_TRUE(fd.has_value()) << fd.error().message();
    Status st = RunInNetns(*fd, [&]() -> Status {
      fn();
      return OkStatus();
    });
    ASSERT_TRUE(st.has_value()) << st.error().message();
  }

  // A table whose libnftables context was created inside `ns`.
  static std::unique_ptr<NftablesTable> OpenIn(const ScopedNetns& ns) {
    std::unique_ptr<NftablesTable> table;
    In(ns, [&] { table = std::make_unique<NftablesTable>(); });
    return table;
  }

  // Lists the table inside `ns` through `table` (normalised).
  static std::string NormalisedListing(const ScopedNetns& ns, NftablesTable& table) {
    std::string out;
    In(ns, [&] {
      auto listing = table.ListTable();
      ASSERT_TRUE(listing.has_value()) << listing.error().message();
      out = Normalised(*listing);
    });
    return out;
  }

  // The kernel's listing of `text` applied in full in the reference namespace (normalised).
  std::string ReferenceListing(const std::string& text) {
    std::string out;
    In(ref_, [&] {
      NftablesTable table;
      Status st = table.ApplyFull(text);
      ASSERT_TRUE(st.has_value()) << st.error().message();
      auto listing = table.ListTable();
      ASSERT_TRUE(listing.has_value()) << listing.error().message();
      out = Normalised(*listing);
    });
    return out;
  }

  // chain -> handles of its rules, from `nft -a list chain`.
  std::vector<std::string> RuleHandles(const std::string& chain) const {
    std::vector<std::string> handles;
    std::istringstream lines(ns_.ExecOut("nft -a list chain inet calico " + chain));
    for (std::string line; std::getline(lines, line);) {
      const std::size_t p = line.rfind("# handle ");
      if (p != std::string::npos && line.find("chain ") == std::string::npos) {
        handles.push_back(line.substr(p + 9));
      }
    }
    return handles;
  }

  ScopedNetns ns_{"calico-nft"};
  ScopedNetns ref_{"calico-nft-ref"};
};

TEST_F(NftTableTest, AppliesEveryGoldenInFullAndListsIt) {
  auto table = OpenIn(ns_);
  for (const std::string& name : GoldenNames()) {
    SCOPED_TRACE(name);
    const std::string text = Golden(name);
    In(ns_, [&] {
      // Twice: the first apply creates the table, the second replaces it.
      for (int i = 0; i < 2; ++i) {
        Status st = table->ApplyFull(text);
        ASSERT_TRUE(st.has_value()) << st.error().message();
      }
      auto listing = table->ListTable();
      ASSERT_TRUE(listing.has_value()) << listing.error().message();
      EXPECT_THAT(*listing, HasSubstr("table inet calico {"));
      EXPECT_THAT(*listing, HasSubstr("chain cali-FORWARD {"));
      EXPECT_EQ(*listing, ns_.ExecOut("nft list table inet calico"));
      auto parsed = ParseNftRuleset(text);
      ASSERT_TRUE(parsed.has_value());
      auto listed = ParseNftRuleset(*listing);
      ASSERT_TRUE(listed.has_value()) << listed.error().message();
      EXPECT_EQ(listed->chains.size(), parsed->chains.size());
      EXPECT_EQ(listed->sets.size(), parsed->sets.size());
    });
  }
}

TEST_F(NftTableTest, TableLivesInTheCreatorsNamespace) {
  auto table = OpenIn(ns_);
  In(ns_, [&] { ASSERT_TRUE(table->ApplyFull(Golden("profile_only")).has_value()); });
  EXPECT_THAT(ns_.ExecOut("nft list tables"), HasSubstr("table inet calico"));
  EXPECT_THAT(ref_.ExecOut("nft list tables"), ::testing::Not(HasSubstr("calico")));
  // Later calls follow the context's socket, whichever namespace the calling thread is in; also
  // after a listing, which replaces the context (to free libnftables' cache of the listing).
  In(ref_, [&] { ASSERT_TRUE(table->ListTable().has_value()); });
  In(ref_, [&] { ASSERT_TRUE(table->ApplyFull(Golden("tiers_pass")).has_value()); });
  EXPECT_THAT(ns_.ExecOut("nft list chains"), HasSubstr("cali-pi-"));
  EXPECT_THAT(ref_.ExecOut("nft list tables"), ::testing::Not(HasSubstr("calico")));
  In(ref_, [&] { ASSERT_TRUE(table->Delete().has_value()); });
  EXPECT_THAT(ns_.ExecOut("nft list tables"), ::testing::Not(HasSubstr("calico")));
}

TEST_F(NftTableTest, IncrementalUpdatesEqualFullApplies) {
  // A tour through every golden (sets appear and disappear, endpoints and tiers change), plus a
  // variant with changed set members and one changed policy rule.
  const std::string ipsets = Golden("selector_ipsets");
  const std::string ipsets_changed =
      ReplaceAll(ReplaceAll(ipsets, "elements = { 10.65.5.10, 10.65.6.0/24 }",
                            "elements = { 10.65.5.0/24, 10.65.6.0/24, 10.65.9.9 }"),
                 "th dport 53 counter", "th dport 5353 counter");
  ASSERT_NE(ipsets_changed, ipsets);
  // Named-port sets (concatenated elements): a port moves, an address goes.
  const std::string named = Golden("named_ports");
  const std::string named_changed =
      ReplaceAll(named, "elements = { 10.65.5.10 . 6 . 80, 10.65.5.20 . 6 . 8080 }",
                 "elements = { 10.65.5.20 . 6 . 8088 }");
  ASSERT_NE(named_changed, named);
  const std::vector<std::string> tour = {ipsets,
                                         Golden("tiers_pass"),
                                         Golden("profile_only"),
                                         Golden("ipv6"),
                                         Golden("deny_allow_order"),
                                         Golden("icmp_ports_nets"),
                                         ipsets,
                                         ipsets_changed,
                                         ipsets,
                                         named,
                                         named_changed,
                                         named};

  auto table = OpenIn(ns_);
  In(ns_, [&] { ASSERT_TRUE(table->ApplyFull(tour[0]).has_value()); });
  for (std::size_t i = 1; i < tour.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    In(ns_, [&] {
      Status st = table->ApplyIncremental(tour[i - 1], tour[i]);
      ASSERT_TRUE(st.has_value()) << st.error().message();
      auto matches = table->Matches(tour[i]);
      ASSERT_TRUE(matches.has_value()) << matches.error().message();
      EXPECT_TRUE(*matches);
    });
    EXPECT_EQ(NormalisedListing(ns_, *table), ReferenceListing(tour[i]));
  }
}

// The agent's path: the ruleset model in, no text in between.
TEST_F(NftTableTest, ModelAppliesEqualTextApplies) {
  std::vector<NftRuleset> tour;
  for (const char* name : {"selector_ipsets", "tiers_pass", "ipv6", "selector_ipsets"}) {
    auto parsed = ParseNftRuleset(Golden(name));
    ASSERT_TRUE(parsed) << parsed.error().message();
    tour.push_back(*std::move(parsed));
  }
  auto table = OpenIn(ns_);
  In(ns_, [&] {
    EXPECT_FALSE(*table->Matches()) << "nothing applied yet";
    Status st = table->ApplyFull(tour[0]);
    ASSERT_TRUE(st.has_value()) << st.error().message();
    EXPECT_TRUE(*table->Matches());
  });
  EXPECT_EQ(NormalisedListing(ns_, *table), ReferenceListing(Golden("selector_ipsets")));
  for (std::size_t i = 1; i < tour.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    In(ns_, [&] {
      Status st = table->ApplyIncremental(tour[i - 1], tour[i]);
      ASSERT_TRUE(st.has_value()) << st.error().message();
      EXPECT_TRUE(*table->Matches());
    });
    EXPECT_EQ(NormalisedListing(ns_, *table), ReferenceListing(NftRulesetText(tour[i])));
  }
  // Someone else's change is drift.
  ASSERT_EQ(ns_.Exec("nft flush chain inet calico cali-FORWARD"), 0);
  In(ns_, [&] { EXPECT_FALSE(*table->Matches()); });
}

TEST_F(NftTableTest, IncrementalUpdateKeepsUnchangedChainsAndTheirCounters) {
  const std::string from = Golden("selector_ipsets");
  const std::string to = Golden("tiers_pass");
  // The kernel starts with non-zero counters on the dispatch chains' drop rules, which are the
  // same in both rulesets; `from` (what the agent rendered) has plain counters.
  const std::string from_with_counts =
      ReplaceAll(from, "counter drop comment \"Unknown interface\"",
                 "counter packets 7 bytes 700 drop comment \"Unknown interface\"");
  ASSERT_NE(from_with_counts, from);

  auto table = OpenIn(ns_);
  std::vector<RuleCounter> before;
  In(ns_, [&] {
    ASSERT_TRUE(table->ApplyFull(from_with_counts).has_value());
    auto c = table->Counters();
    ASSERT_TRUE(c.has_value()) << c.error().message();
    before = *c;
  });
  const std::vector<std::string> unchanged = {"cali-FORWARD",        "cali-INPUT",
                                              "cali-OUTPUT",         "cali-from-wl-dispatch",
                                              "cali-to-wl-dispatch", "cali-wl-to-host"};
  std::map<std::string, std::vector<std::string>> handles_before;
  for (const std::string& chain : unchanged) {
    handles_before[chain] = RuleHandles(chain);
    EXPECT_FALSE(handles_before[chain].empty()) << chain;
  }

  std::vector<RuleCounter> after;
  In(ns_, [&] {
    Status st = table->ApplyIncremental(from, to);
    ASSERT_TRUE(st.has_value()) << st.error().message();
    auto c = table->Counters();
    ASSERT_TRUE(c.has_value()) << c.error().message();
    after = *c;
  });
  for (const std::string& chain : unchanged) {
    EXPECT_EQ(RuleHandles(chain), handles_before[chain]) << chain;
  }
  int kept = 0;
  for (const RuleCounter& b : before) {
    if (b.chain != "cali-from-wl-dispatch" && b.chain != "cali-to-wl-dispatch") continue;
    EXPECT_EQ(b.packets, 7U);
    bool found = false;
    for (const RuleCounter& a : after) {
      if (a.chain == b.chain && a.handle == b.handle) {
        found = true;
        EXPECT_EQ(a, b);  // Same rule, same comment, counters still 7/700.
      }
    }
    EXPECT_TRUE(found) << b.chain << " handle " << b.handle;
    ++kept;
  }
  EXPECT_EQ(kept, 2);
  // Rules of new chains start from zero.
  for (const RuleCounter& a : after) {
    if (a.chain.rfind("cali-fw-calib0", 0) == 0) {
      EXPECT_EQ(a.packets, 0U) << a.comment;
    }
  }
  EXPECT_EQ(NormalisedListing(ns_, *table), ReferenceListing(to));
}

TEST_F(NftTableTest, CountersNameTheRules) {
  const std::string text = ReplaceAll(
      Golden("selector_ipsets"),
      "counter meta mark set meta mark | 0x10000 return comment \"profile kns.shop ingress #0\"",
      "counter packets 5 bytes 300 meta mark set meta mark | 0x10000 return comment \"profile "
      "kns.shop ingress #0\"");
  auto table = OpenIn(ns_);
  In(ns_, [&] {
    ASSERT_TRUE(table->ApplyFull(text).has_value());
    auto counters = table->Counters();
    ASSERT_TRUE(counters.has_value()) << counters.error().message();
    std::size_t counted_rules = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("counter") != std::string::npos) ++counted_rules;
    }
    EXPECT_EQ(counters->size(), counted_rules);
    bool saw_profile = false;
    bool saw_policy = false;
    for (const RuleCounter& c : *counters) {
      EXPECT_GT(c.handle, 0U);
      if (c.comment == "profile kns.shop ingress #0") {
        saw_profile = true;
        EXPECT_EQ(c.chain, "cali-pri-kns.shop");
        EXPECT_EQ(c.packets, 5U);
        EXPECT_EQ(c.bytes, 300U);
      }
      if (c.comment == "policy default/shop/knp.default.backend ingress #2") {
        saw_policy = true;
        EXPECT_EQ(c.chain, "cali-pi-default/shop/knp.default.backend");
        EXPECT_EQ(c.packets, 0U);
      }
    }
    EXPECT_TRUE(saw_profile);
    EXPECT_TRUE(saw_policy);
  });
}

TEST_F(NftTableTest, DriftIsDetectedAndFullApplyRepairsIt) {
  const std::string text = Golden("selector_ipsets");
  auto table = OpenIn(ns_);
  std::string applied_listing;
  In(ns_, [&] {
    ASSERT_TRUE(table->ApplyFull(text).has_value());
    EXPECT_EQ(table->Matches(text), Result<bool>(true));
    EXPECT_EQ(table->Matches(Golden("tiers_pass")), Result<bool>(false));  // Never applied.
    applied_listing = table->ListTable().value_or("");
  });

  struct Drift {
    const char* what;
    std::vector<std::string> commands;
  };
  const std::vector<Drift> drifts = {
      {"chain deleted",
       {"nft delete element inet calico cali-to-wl-dispatch '{ \"cali0b0b0b0b0b0\" }'",
        "nft delete chain inet calico cali-tw-cali0b0b0b0b0b0"}},
      {"rule added", {"nft insert rule inet calico cali-FORWARD accept"}},
      {"set member added",
       {"nft add element inet calico cali40s-LwNFou06DoU8_cBxRL1rzWD "
        "'{ 192.0.2.1 }'"}},
      {"table deleted", {"nft delete table inet calico"}},
  };
  for (const Drift& d : drifts) {
    SCOPED_TRACE(d.what);
    for (const std::string& cmd : d.commands) {
      std::string out;
      ASSERT_EQ(ns_.Exec(cmd, &out), 0) << cmd << ": " << out;
    }
    In(ns_, [&] {
      EXPECT_EQ(table->Matches(text), Result<bool>(false));
      ASSERT_TRUE(table->ApplyFull(text).has_value());
      EXPECT_EQ(table->Matches(text), Result<bool>(true));
      EXPECT_EQ(table->ListTable().value_or(""), applied_listing);
    });
  }
}

// After an incremental update the first check takes the kernel's listing as the baseline (no
// listing after every update); drift after that is detected as after a full apply.
TEST_F(NftTableTest, DriftAfterAnIncrementalUpdateIsDetected) {
  const std::string from = Golden("profile_only");
  const std::string to = Golden("selector_ipsets");
  auto table = OpenIn(ns_);
  In(ns_, [&] {
    ASSERT_TRUE(table->ApplyFull(from).has_value());
    ASSERT_TRUE(table->ApplyIncremental(from, to).has_value());
    EXPECT_EQ(table->Matches(from), Result<bool>(false));  // Not what was applied last.
    EXPECT_EQ(table->Matches(to), Result<bool>(true));     // Baseline taken here.
  });
  std::string out;
  ASSERT_EQ(ns_.Exec("nft insert rule inet calico cali-FORWARD accept", &out), 0) << out;
  In(ns_, [&] {
    EXPECT_EQ(table->Matches(to), Result<bool>(false));
    ASSERT_TRUE(table->ApplyFull(to).has_value());
    EXPECT_EQ(table->Matches(to), Result<bool>(true));
  });
}

TEST_F(NftTableTest, BadRulesetFailsWithLibnftablesMessageAndKeepsTheTable) {
  const std::string good = Golden("tiers_pass");
  auto table = OpenIn(ns_);
  std::string listing;
  In(ns_, [&] {
    ASSERT_TRUE(table->ApplyFull(good).has_value());
    listing = table->ListTable().value_or("");

    Status syntax =
        table->ApplyFull("table inet calico {\n\tchain c {\n\t\tfrobnicate now\n\t}\n}\n");
    ASSERT_FALSE(syntax.has_value());
    EXPECT_EQ(syntax.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(syntax.error().message(), HasSubstr("apply full ruleset to table inet calico: "));
    EXPECT_THAT(syntax.error().message(), HasSubstr("ruleset:3:3-12: Error: "));
    EXPECT_THAT(syntax.error().message(), HasSubstr("frobnicate now"));
    EXPECT_EQ(table->ListTable().value_or(""), listing);

    Status typo = table->ApplyFull(ReplaceAll(good, "ct state established,related accept",
                                              "ct state established,related acept"));
    ASSERT_FALSE(typo.has_value());
    EXPECT_EQ(typo.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(typo.error().message(), HasSubstr("syntax error"));
    EXPECT_THAT(typo.error().message(), HasSubstr("acept"));
    EXPECT_EQ(table->ListTable().value_or(""), listing);
    EXPECT_EQ(table->Matches(good), Result<bool>(false));  // Last apply failed: unknown state.

    // Valid syntax the kernel side rejects (unknown set): the transaction is rolled back.
    Status missing_set = table->ApplyFull(
        "table inet calico {\n\tchain c {\n\t\tip saddr @no-such-set accept\n\t}\n}\n");
    ASSERT_FALSE(missing_set.has_value());
    RecordProperty("error", missing_set.error().message());
    EXPECT_THAT(missing_set.error().message(), HasSubstr("no-such-set"));
    EXPECT_EQ(table->ListTable().value_or(""), listing);

    // Incremental: unparsable texts are refused before anything is sent...
    Status unparsable = table->ApplyIncremental(good, "table inet calico {\n");
    ASSERT_FALSE(unparsable.has_value());
    EXPECT_EQ(unparsable.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(unparsable.error().message(), HasSubstr("parse new ruleset: "));
    // ...and a bad rule fails the whole transaction.
    const std::string bad_rule =
        ReplaceAll(good, "counter drop comment \"Unknown interface\"", "counter dorp");
    Status bad = table->ApplyIncremental(good, bad_rule);
    ASSERT_FALSE(bad.has_value());
    RecordProperty("error_incremental", bad.error().message());
    EXPECT_THAT(bad.error().message(),
                HasSubstr("apply incremental update to table inet calico: "));
    EXPECT_THAT(bad.error().message(), HasSubstr("dorp"));
    EXPECT_EQ(table->ListTable().value_or(""), listing);
  });
}

TEST_F(NftTableTest, IncrementalUpdateOnDriftedKernelFailsAtomically) {
  const std::string from = Golden("selector_ipsets");
  const std::string to = Golden("tiers_pass");
  auto table = OpenIn(ns_);
  In(ns_, [&] { ASSERT_TRUE(table->ApplyFull(from).has_value()); });
  // Someone removed a set member the update wants to delete... and the whole set.
  ASSERT_EQ(ns_.Exec("nft flush chain inet calico cali-pi-default/shop/knp.default.backend"), 0);
  ASSERT_EQ(ns_.Exec("nft delete set inet calico cali40s-LwNFou06DoU8_cBxRL1rzWD"), 0);
  const std::string drifted = ns_.ExecOut("nft list table inet calico");
  In(ns_, [&] {
    Status st = table->ApplyIncremental(from, to);
    ASSERT_FALSE(st.has_value());
    RecordProperty("error", st.error().message());
    EXPECT_EQ(st.error().code(), ErrorCode::kNotFound) << st.error().message();
    EXPECT_EQ(table->ListTable().value_or(""), drifted);
    // The agent's fallback.
    ASSERT_TRUE(table->ApplyFull(to).has_value());
    EXPECT_EQ(table->Matches(to), Result<bool>(true));
  });
  EXPECT_EQ(NormalisedListing(ns_, *table), ReferenceListing(to));
}

// A generated ruleset for the set-elements path: IPv4 and IPv6 interval sets (big ones that take
// several netlink messages, members at both ends of the address space, adjacent prefixes, an
// empty referenced set), a named-port set and a verdict map (both loaded by libnftables), and
// chains that refer to all of them.
NftRuleset ManySetsRuleset(int extra_chains = 0) {
  NftRuleset r;
  for (int i = 0; i < extra_chains; ++i) {
    r.chains[fmt::format("cali-pi-x{}", i)].rules =
        nft_model::NftLines({fmt::format("ip saddr @cali40s-gen{} counter return", i % 12)});
  }
  const auto add_set = [&](const std::string& name, int family, std::vector<std::string> members,
                           bool comment = true) {
    nft_model::NftSet& s = r.sets[name];
    s.header = {family == 6 ? "type ipv6_addr" : "type ipv4_addr", "flags interval"};
    if (comment) s.header.push_back("comment \"app == _" + name + "_\"");
    s.elements = nft_model::NftLines(std::move(members));
  };
  for (int i = 0; i < 12; ++i) {
    std::vector<std::string> v4;
    std::vector<std::string> v6;
    const int n = i < 2 ? 5000 : 3 + i * 10;  // 5000: over three netlink messages.
    for (int j = 0; j < n; ++j) {
      v4.push_back(fmt::format("10.{}.{}.{}", 100 + i, j / 256, j % 256));
      v6.push_back(fmt::format("fd00:{:x}::{:x}", i, j + 1));
    }
    if (i % 3 == 0) v4.push_back(fmt::format("172.{}.0.0/16", 16 + i));
    add_set(fmt::format("cali40s-gen{}", i), 4, std::move(v4), i % 2 == 0);
    add_set(fmt::format("cali60s-gen{}", i), 6, std::move(v6));
  }
  add_set("cali40s-ends", 4,
          {"0.0.0.0/8", "10.0.0.1", "10.0.1.0/24", "10.0.2.0/24", "255.255.255.255"});
  add_set("cali40s-all", 4, {"0.0.0.0/0"});
  add_set("cali60s-all", 6, {"::/0"});
  add_set("cali60s-ends", 6, {"fd00::1", "fd00:1::/64", "ffff::/16"});
  add_set("cali40s-empty", 4, {});
  nft_model::NftSet& named = r.sets["cali40n-port"];
  named.header = {"type ipv4_addr . inet_proto . inet_service"};
  named.elements = nft_model::NftLines({"10.0.0.1 . 6 . 80", "10.0.0.2 . 17 . 53"});
  nft_model::NftSet& vmap = r.sets["cali-from-wl-dispatch"];
  vmap.is_map = true;
  vmap.header = {"type ifname : verdict"};
  vmap.elements = nft_model::NftLines({"\"cali1\" : goto cali-fw-cali1"});
  nft_model::NftChain& fwd = r.chains["cali-FORWARD"];
  fwd.header = {"type filter hook forward priority filter; policy accept;"};
  std::vector<std::string> rules = {"iifname vmap @cali-from-wl-dispatch"};
  for (const auto& [name, set] : r.sets) {
    if (set.is_map) continue;
    if (name.starts_with("cali40s")) rules.push_back("ip saddr @" + name + " counter accept");
    if (name.starts_with("cali60s")) rules.push_back("ip6 saddr @" + name + " counter accept");
  }
  rules.push_back("ip daddr . meta l4proto . th dport @cali40n-port counter accept");
  fwd.rules = nft_model::NftLines(std::move(rules));
  r.chains["cali-fw-cali1"].rules = nft_model::NftLines({"counter drop"});
  return r;
}

class NftSetElementsTest : public NftTableTest, public ::testing::WithParamInterface<bool> {};

// With and without (3) beside (4): many elements per chain, or 6000 more chains.
INSTANTIATE_TEST_SUITE_P(Overlap, NftSetElementsTest, ::testing::Bool());

TEST_P(NftSetElementsTest, SetElementsOverNetlinkListAsOneTransactionDoes) {
  const bool overlap = GetParam();
  const NftRuleset ruleset = ManySetsRuleset(overlap ? 0 : 6000);
  const std::string text = NftRulesetText(ruleset);
  auto table = OpenIn(ns_);
  In(ns_, [&] {
    Status st = table->ApplyFull(ruleset);
    ASSERT_TRUE(st.has_value()) << st.error().message();
    EXPECT_TRUE(table->set_elements_loaded_separately()) << "the table was absent";
    EXPECT_EQ(table->set_elements_overlapped(), overlap);
    EXPECT_TRUE(*table->Matches());
  });
  In(ref_, [&] {
    NftablesTable reference;
    Status st = reference.ApplyFull(text);  // Text: one libnftables transaction.
    ASSERT_TRUE(st.has_value()) << st.error().message();
    EXPECT_FALSE(reference.set_elements_loaded_separately());
  });
  // What an operator sees, and the elements as the kernel stores them (interval ends, the
  // open-interval flag in the elements' user data).
  const std::string listing = ns_.ExecOut("nft list table inet calico");
  EXPECT_THAT(listing, HasSubstr("10.101.19.135"));
  EXPECT_EQ(listing, ref_.ExecOut("nft list table inet calico"));
  const auto sorted_lines = [](const std::string& dump) {
    std::vector<std::string> lines;
    std::istringstream in(dump);
    for (std::string line; std::getline(in, line);)
      lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  for (const auto& [name, set] : ruleset.sets) {
    SCOPED_TRACE(name);
    const std::string cmd = "nft --debug=netlink list set inet calico " + name;
    if (nft_internal::PlainIntervalSetFamily(set)) {
      EXPECT_EQ(ns_.ExecOut(cmd), ref_.ExecOut(cmd));  // An rbtree: key order, start/end pairs.
    } else {
      // A hash: the order depends on the set's random hash seed, whoever loads it.
      EXPECT_EQ(sorted_lines(ns_.ExecOut(cmd)), sorted_lines(ref_.ExecOut(cmd)));
    }
  }
  // Drift detection sees the kernel as loaded, then someone else's element.
  In(ns_, [&] { EXPECT_TRUE(*table->Matches()); });
  ASSERT_EQ(ns_.Exec("nft add element inet calico cali40s-empty { 192.168.0.1 }"), 0);
  In(ns_, [&] { EXPECT_FALSE(*table->Matches()); });
  // An existing table is replaced in one transaction, with the same result.
  In(ns_, [&] {
    Status st = table->ApplyFull(ruleset);
    ASSERT_TRUE(st.has_value()) << st.error().message();
    EXPECT_FALSE(table->set_elements_loaded_separately()) << "the table existed";
    EXPECT_TRUE(*table->Matches());
  });
  EXPECT_EQ(ns_.ExecOut("nft list table inet calico"), listing);
}

TEST_F(NftTableTest, FailedLoadOfANewTableLeavesNoTable) {
  NftRuleset ruleset = ManySetsRuleset();
  // The last transaction (chains) fails: a rule refers to a set that does not exist.
  ruleset.chains["cali-fw-cali1"].rules = nft_model::NftLines({"ip saddr @no-such-set drop"});
  auto table = OpenIn(ns_);
  In(ns_, [&] {
    Status st = table->ApplyFull(ruleset);
    ASSERT_FALSE(st.has_value());
    EXPECT_THAT(st.error().message(), HasSubstr("apply full ruleset to table inet calico: "));
    EXPECT_THAT(st.error().message(), HasSubstr("no-such-set"));
    EXPECT_FALSE(*table->Matches());
  });
  EXPECT_EQ(ns_.ExecOut("nft list tables"), "") << "the sets loaded before are removed again";
  // The retry with a good ruleset loads it.
  In(ns_, [&] {
    Status st = table->ApplyFull(ManySetsRuleset());
    ASSERT_TRUE(st.has_value()) << st.error().message();
    EXPECT_TRUE(table->set_elements_loaded_separately());
  });
  EXPECT_THAT(ns_.ExecOut("nft list table inet calico"), HasSubstr("cali40s-gen11"));
}

TEST_F(NftTableTest, FailedElementsBatchFallsBackToOneTransaction) {
  const NftRuleset ruleset = ManySetsRuleset();
  auto table = OpenIn(ns_);
  In(ns_, [&] {
    table->FailNextSetElementsForTest();
    Status st = table->ApplyFull(ruleset);
    ASSERT_TRUE(st.has_value()) << st.error().message();
    EXPECT_FALSE(table->set_elements_loaded_separately());
    EXPECT_TRUE(*table->Matches());
  });
  EXPECT_EQ(NormalisedListing(ns_, *table), ReferenceListing(NftRulesetText(ruleset)));
}

TEST_F(NftTableTest, SetElementsBatchIsAllOrNothing) {
  ASSERT_EQ(ns_.Exec("nft add table inet t"), 0);
  ASSERT_EQ(ns_.Exec("nft add set inet t a '{ type ipv4_addr; flags interval; }'"), 0);
  In(ns_, [&] {
    mnl_socket* sock = mnl_socket_open(NETLINK_NETFILTER);
    ASSERT_NE(sock, nullptr);
    ASSERT_GE(mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID), 0);
    auto elements = nft_internal::IntervalSetElements(nft_model::NftLines{"10.0.0.1"}, 4);
    ASSERT_TRUE(elements);
    Status st =
        nft_internal::SendSetElements(sock, "inet", "t",
                                      {{.set = "a", .family = 4, .elements = *elements},
                                       {.set = "missing", .family = 4, .elements = *elements}});
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code(), ErrorCode::kNotFound);
    EXPECT_THAT(st.error().message(), HasSubstr("add elements to set missing: "));
    EXPECT_THAT(ns_.ExecOut("nft list set inet t a"), Not(HasSubstr("elements")))
        << "the failed batch added nothing";
    // The same socket again, now only the existing set.
    st = nft_internal::SendSetElements(sock, "inet", "t",
                                       {{.set = "a", .family = 4, .elements = *elements}});
    EXPECT_TRUE(st.has_value()) << st.error().message();
    mnl_socket_close(sock);
  });
  const std::string listed = ns_.ExecOut("nft list set inet t a");
  EXPECT_THAT(listed, HasSubstr("elements = { 10.0.0.1 }"));
}

TEST_F(NftTableTest, DeleteRemovesTheTableAndToleratesAbsence) {
  auto table = OpenIn(ns_);
  In(ns_, [&] {
    ASSERT_TRUE(table->Delete().has_value());  // Nothing there yet.
    auto none = table->ListTable();
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
    EXPECT_THAT(none.error().message(), HasSubstr("list table inet calico: "));
    ASSERT_TRUE(table->ApplyFull(Golden("ipv6")).has_value());
    ASSERT_TRUE(table->Delete().has_value());
    EXPECT_EQ(table->ListTable().error().code(), ErrorCode::kNotFound);
    EXPECT_EQ(table->Counters().error().code(), ErrorCode::kNotFound);
    EXPECT_EQ(table->Matches(Golden("ipv6")), Result<bool>(false));
    ASSERT_TRUE(table->Delete().has_value());
  });
  EXPECT_EQ(ns_.ExecOut("nft list tables"), "");
}

// A random ruleset of the shapes the agent renders: plain and interval IP sets, a verdict map
// whose elements go to regular chains, regular chains whose rules refer to sets and jump to later
// chains (so never a loop), and a base chain dispatching through the map. Which of a fixed pool
// of names exist, their declarations (interval or not, a chain comment, the base chain's hook)
// and what they hold are random, so consecutive rulesets differ in every way a diff can: chains
// and sets added, removed, refilled and re-created, elements added and deleted, map verdicts
// replaced by key.
std::string RandomRuleset(std::mt19937& rng) {
  auto chance = [&](int percent) {
    return std::uniform_int_distribution<int>(0, 99)(rng) < percent;
  };
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  std::string out = "table inet calico {\n";
  std::vector<std::string> sets;
  for (int i = 0; i < 5; ++i) {
    if (!chance(70)) continue;
    const std::string name = "s" + std::to_string(i);
    sets.push_back(name);
    const bool interval = chance(50);
    out += "\tset " + name + " {\n\t\ttype ipv4_addr\n";
    if (interval) out += "\t\tflags interval\n";
    std::vector<std::string> elements;
    for (int k = 0; k < 8; ++k) {
      if (!chance(40)) continue;
      elements.push_back(interval ? fmt::format("10.{}.{}.0/24", i, k)
                                  : fmt::format("10.{}.0.{}", i, k));
    }
    if (!elements.empty()) {
      out += "\t\telements = { " + StrJoin(elements, ", ") + " }\n";
    }
    out += "\t}\n";
  }
  std::vector<int> chains;
  for (int i = 0; i < 8; ++i) {
    if (chance(70)) chains.push_back(i);
  }
  const bool map = !chains.empty() && chance(80);
  if (map) {
    out += "\tmap m {\n\t\ttype ifname : verdict\n";
    std::vector<std::string> elements;
    for (int k = 0; k < 6; ++k) {
      if (!chance(50)) continue;
      elements.push_back(fmt::format("\"if{}\" : {} c{}", k, chance(50) ? "goto" : "jump",
                                     chains[pick(chains.size())]));
    }
    if (!elements.empty()) {
      out += "\t\telements = { " + StrJoin(elements, ", ") + " }\n";
    }
    out += "\t}\n";
  }
  out += fmt::format("\tchain base {{\n\t\ttype filter hook {} priority filter; policy accept;\n",
                     chance(20) ? "input" : "forward");
  if (map) out += "\t\tiifname vmap @m\n";
  if (chance(50)) out += "\t\tcounter drop comment \"base\"\n";
  out += "\t}\n";
  for (std::size_t c = 0; c < chains.size(); ++c) {
    out += fmt::format("\tchain c{} {{\n", chains[c]);
    if (chance(15)) out += fmt::format("\t\tcomment \"chain {}\"\n", chains[c]);
    const std::size_t rules = pick(4);
    for (std::size_t r = 0; r < rules; ++r) {
      const std::size_t what = pick(5);
      if (what == 0 && !sets.empty()) {
        out += fmt::format("\t\tip saddr @{} counter accept\n", sets[pick(sets.size())]);
      } else if (what == 1 && !sets.empty()) {
        out += fmt::format("\t\tip daddr @{} counter drop comment \"r{}\"\n",
                           sets[pick(sets.size())], r);
      } else if (what == 2 && c + 1 < chains.size()) {
        out += fmt::format("\t\tjump c{}\n", chains[c + 1 + pick(chains.size() - c - 1)]);
      } else if (what == 3) {
        out += fmt::format("\t\ttcp dport {} counter meta mark set 0x{:x} return\n", 80 + pick(3),
                           0x10000 + pick(2));
      } else {
        out += "\t\tcounter\n";
      }
    }
    out += "\t}\n";
  }
  out += "}\n";
  return out;
}

// Incremental transactions between random rulesets, and between every ordered pair of goldens,
// leave the kernel with what a full apply of the target gives (`nft list table`, normalised).
TEST_F(NftTableTest, RandomDiffsEqualFullApplies) {
  std::mt19937 rng(20);  // Fixed: a failure names its step and can be replayed.
  std::vector<std::string> tour;
  for (int i = 0; i < 40; ++i) {
    // Between two random rulesets (which nearly always delete something), the small steps of a
    // running cluster: only elements added (an address joins every set that has members), then
    // only chains refilled whose rules refer to sets that do not change (accept becomes drop).
    tour.push_back(RandomRuleset(rng));
    tour.push_back(ReplaceAll(tour.back(), "elements = { 10.", "elements = { 10.9.9.9, 10."));
    tour.push_back(ReplaceAll(tour.back(), "counter accept", "counter drop"));
  }
  auto table = OpenIn(ns_);
  In(ns_, [&] {
    Status st = table->ApplyFull(tour[0]);
    ASSERT_TRUE(st.has_value()) << st.error().message() << "\n" << tour[0];
  });
  for (std::size_t i = 1; i < tour.size(); ++i) {
    SCOPED_TRACE("random step " + std::to_string(i) + ", from:\n" + tour[i - 1] + "to:\n" +
                 tour[i]);
    In(ns_, [&] {
      Status st = table->ApplyIncremental(tour[i - 1], tour[i]);
      ASSERT_TRUE(st.has_value()) << st.error().message();
    });
    EXPECT_EQ(NormalisedListing(ns_, *table), ReferenceListing(tour[i]));
  }
}

TEST_F(NftTableTest, DiffsBetweenEveryPairOfGoldensEqualFullApplies) {
  std::map<std::string, std::string> reference;
  for (const std::string& name : GoldenNames()) {
    reference[name] = ReferenceListing(Golden(name));
  }
  auto table = OpenIn(ns_);
  for (const std::string& from : GoldenNames()) {
    for (const std::string& to : GoldenNames()) {
      if (from == to) continue;
      SCOPED_TRACE(from + " -> " + to);
      In(ns_, [&] {
        ASSERT_TRUE(table->ApplyFull(Golden(from)).has_value());
        Status st = table->ApplyIncremental(Golden(from), Golden(to));
        ASSERT_TRUE(st.has_value()) << st.error().message();
      });
      EXPECT_EQ(NormalisedListing(ns_, *table), reference[to]);
    }
  }
}

}  // namespace
}  // namespace calico::dataplane
