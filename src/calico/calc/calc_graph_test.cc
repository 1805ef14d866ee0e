// State-sequence tests in the style of felix/calc's calc_graph_fv_test.go: apply a list of
// updates, compare the whole model to the expected one; the same updates in other orders must give
// the same model; deleting everything must give the empty model.
#include "calico/calc/calc_graph.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "calico/datastore/client.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/policy/host_endpoints.h"
#include "calico/policy/named_ports.h"
#include "calico/policy/ruleset_renderer.h"
#include "calico/selector/selector.h"

namespace calico::calc {
namespace {

using model::Json;
using model::Resource;

constexpr const char* kNode = "node-1";
constexpr const char* kOtherNode = "node-2";
constexpr const char* kNs = "projectcalico.org/namespace";

// --- Fixtures ----------------------------------------------------------------------------------

Resource Wep(const std::string& ns, const std::string& name, const std::string& node,
             const std::string& iface, std::vector<std::string> ips, Json labels,
             std::vector<std::string> profiles = {}) {
  Resource r("WorkloadEndpoint", name, ns);
  r.metadata()["labels"] = std::move(labels);
  r.spec() = Json{{"node", node},
                  {"interfaceName", iface},
                  {"ipNetworks", std::move(ips)},
                  {"profiles", std::move(profiles)}};
  return r;
}

Resource Hep(const std::string& name, std::vector<std::string> ips, Json labels) {
  Resource r("HostEndpoint", name);
  r.metadata()["labels"] = std::move(labels);
  r.spec() = Json{{"node", kOtherNode}, {"interfaceName", "eth0"}, {"expectedIPs", std::move(ips)}};
  return r;
}

// A HostEndpoint of `node` on `iface` ("" = expectedIPs only).
Resource LocalHep(const std::string& name, const std::string& node, const std::string& iface,
                  std::vector<std::string> ips, Json labels,
                  std::vector<std::string> profiles = {}) {
  Resource r("HostEndpoint", name);
  r.metadata()["labels"] = std::move(labels);
  r.spec() =
      Json{{"node", node}, {"expectedIPs", std::move(ips)}, {"profiles", std::move(profiles)}};
  if (!iface.empty()) r.spec()["interfaceName"] = iface;
  return r;
}

Resource Gnp(const std::string& name, Json spec) {
  Resource r("GlobalNetworkPolicy", name);
  r.spec() = std::move(spec);
  return r;
}

Resource Np(const std::string& ns, const std::string& name, Json spec) {
  Resource r("NetworkPolicy", name, ns);
  r.spec() = std::move(spec);
  return r;
}

Resource Prof(const std::string& name, Json spec) {
  Resource r("Profile", name);
  r.spec() = std::move(spec);
  return r;
}

Resource TierRes(const std::string& name, Json spec) {
  Resource r("Tier", name);
  r.spec() = std::move(spec);
  return r;
}

Resource NetSet(const std::string& ns, const std::string& name, Json labels,
                std::vector<std::string> nets) {
  Resource r(ns.empty() ? "GlobalNetworkSet" : "NetworkSet", name, ns);
  r.metadata()["labels"] = std::move(labels);
  r.spec() = Json{{"nets", std::move(nets)}};
  return r;
}

void Apply(CalcGraph& g, const std::vector<Resource>& updates) {
  for (const Resource& r : updates) {
    g.OnUpdate(r);
  }
}

void DeleteAll(CalcGraph& g, const std::vector<Resource>& updates) {
  for (const Resource& r : updates) {
    g.OnDelete(r.kind(), r.namespace_(), r.name());
  }
}

// Applies `updates` in `rounds` shuffled orders (from `seed`), each to a fresh graph: the model
// must be `want` every time, and deleting everything in yet another order must empty it.
void ExpectAnyOrderGives(std::vector<Resource> updates, const policy::Model& want, int rounds,
                         unsigned seed) {
  std::mt19937 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    std::shuffle(updates.begin(), updates.end(), rng);
    CalcGraph g(kNode);
    Apply(g, updates);
    EXPECT_EQ(g.Model(), want) << "shuffle " << round;
    std::shuffle(updates.begin(), updates.end(), rng);
    DeleteAll(g, updates);
    EXPECT_EQ(g.Model(), policy::Model{}) << "shuffle " << round;
  }
}

net::CIDR C(std::string_view text) {
  return *net::CIDR::ParseNet(text);
}

std::string Canon(std::string_view sel) {
  return selector::Normalise(sel);
}

policy::IpSet Set(std::string_view sel, const std::vector<std::string>& members) {
  auto parsed = selector::Parse(sel);
  EXPECT_TRUE(parsed) << sel;
  policy::IpSet set{.id = parsed->UniqueId(), .selector = parsed->String()};
  for (const std::string& m : members) {
    set.members.push_back(C(m));
  }
  std::sort(set.members.begin(), set.members.end());
  return set;
}

void SortSets(std::vector<policy::IpSet>& sets) {
  std::sort(sets.begin(), sets.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
}

Json Rule(std::string action) {
  return Json{{"action", std::move(action)}};
}
Json RuleFrom(std::string action, std::string selector) {
  return Json{{"action", std::move(action)}, {"source", {{"selector", std::move(selector)}}}};
}
Json RuleTo(std::string action, std::string selector) {
  return Json{{"action", std::move(action)}, {"destination", {{"selector", std::move(selector)}}}};
}

const policy::Endpoint* FindEndpoint(const policy::Model& m, std::string_view name) {
  for (const auto& ep : m.endpoints) {
    if (ep.name == name) return &ep;
  }
  return nullptr;
}

std::vector<std::string> PolicyIds(const policy::Model& m) {
  std::vector<std::string> out;
  for (const auto& p : m.policies) {
    out.push_back(p.id);
  }
  return out;
}

// --- The main scenario ---------------------------------------------------------------------------

std::vector<Resource> ScenarioUpdates() {
  return {
      Prof("kns.ns1", {{"labelsToApply", {{"team", "a"}, {"app", "ignored"}}},
                       {"ingress", {Rule("Allow")}},
                       {"egress", {Rule("Allow")}}}),
      TierRes("security", {{"order", 100}}),
      Wep("ns1", "a", kNode, "cali-a", {"10.0.0.1/32", "fd00::1/128"}, {{"app", "web"}},
          {"kns.ns1"}),
      Wep("ns1", "b", kNode, "cali-b", {"10.0.0.2/32"}, {{"app", "db"}}, {"kns.ns1"}),
      Wep("ns2", "c", kOtherNode, "cali-c", {"10.0.1.3/32"}, {{"app", "web"}}, {"kns.ns2"}),
      Np("ns1", "allow-web-to-db",
         {{"tier", "default"},
          {"order", 10},
          {"selector", "app == 'db'"},
          {"ingress", {RuleFrom("Allow", "app == 'web'")}}}),
      Gnp("block-egress", {{"tier", "security"},
                           {"selector", "team == 'a'"},
                           {"types", {"Egress"}},
                           {"ingress", {Rule("Allow")}},
                           {"egress", {RuleTo("Deny", "app == 'web'"), Rule("Pass")}}}),
      NetSet("", "ext", {{"app", "web"}}, {"192.168.1.5/24"}),
  };
}

policy::Model ScenarioModel() {
  const std::string web_in_ns1 = Canon("(projectcalico.org/namespace == 'ns1') && (app == 'web')");
  policy::Model m;
  m.endpoints = {
      {.name = "ns1/a",
       .interface_name = "cali-a",
       .addresses = {C("10.0.0.1/32"), C("fd00::1/128")},
       .labels = {{"app", "web"}, {kNs, "ns1"}, {"team", "a"}},
       .profiles = {"kns.ns1"},
       .egress_tiers = {{.name = "security", .policies = {"block-egress"}}}},
      {.name = "ns1/b",
       .interface_name = "cali-b",
       .addresses = {C("10.0.0.2/32")},
       .labels = {{"app", "db"}, {kNs, "ns1"}, {"team", "a"}},
       .profiles = {"kns.ns1"},
       .ingress_tiers = {{.name = "default", .policies = {"ns1/allow-web-to-db"}}},
       .egress_tiers = {{.name = "security", .policies = {"block-egress"}}}},
  };
  m.policies = {
      {.id = "block-egress",
       .tier = "security",
       .ingress = Json::array(),
       .egress = {RuleTo("Deny", Canon("app == 'web'")), Rule("Pass")}},
      {.id = "ns1/allow-web-to-db",
       .tier = "default",
       .ingress = {RuleFrom("Allow", web_in_ns1)},
       .egress = Json::array()},
  };
  m.profiles = {{.id = "kns.ns1", .ingress = {Rule("Allow")}, .egress = {Rule("Allow")}}};
  m.ip_sets = {
      Set(web_in_ns1, {"10.0.0.1/32", "fd00::1/128"}),
      Set("app == 'web'", {"10.0.0.1/32", "fd00::1/128", "10.0.1.3/32", "192.168.1.0/24"}),
  };
  SortSets(m.ip_sets);
  return m;
}

// A policy's rules are parsed once, when the policy arrives (Felix's ParsedRule): the model carries
// the parsed form, shared between models (so the render cache recognises unchanged rules by
// pointer), and a rule that does not parse is kept as the policy's rule error after the rules
// before it, which the renderer reports naming the policy and the rule.
TEST(CalcGraphTest, RulesAreParsedOnceWhenThePolicyArrives) {
  CalcGraph g(kNode);
  g.OnUpdate(Wep("ns1", "a", kNode, "cali-a", {"10.0.0.1/32"}, {{"app", "web"}}));
  g.OnUpdate(Gnp(
      "p",
      Json{{"selector", "app == 'web'"},
           {"ingress",
            {{{"action", "Allow"},
              {"protocol", "TCP"},
              {"destination", {{"ports", {80, "8080:8081"}}}}},
             {{"action", "Allow"}, {"protocol", "TCP"}, {"destination", {{"ports", {70000}}}}}}}}));
  const policy::Model first = g.Model();
  ASSERT_EQ(first.policies.size(), 1u);
  const policy::ParsedRules& rules = first.policies[0].ingress;
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].protocol, 6);
  EXPECT_EQ(rules[0].destination.ports, (std::vector<policy::PortRange>{{80, 80}, {8080, 8081}}));
  ASSERT_FALSE(rules.ok());
  EXPECT_NE(rules.error()->message().find("destination.ports[0]"), std::string::npos)
      << rules.error()->message();

  // A second model shares the parsed rules (no copy, no second parse).
  const policy::Model second = g.Model();
  EXPECT_TRUE(second.policies[0].ingress.SameAs(rules));

  // The renderer reports the rule error, naming the policy and the rule.
  auto ruleset = policy::RenderRuleset(first);
  ASSERT_FALSE(ruleset);
  EXPECT_NE(ruleset.error().message().find("default/p"), std::string::npos)
      << ruleset.error().message();
  EXPECT_NE(ruleset.error().message().find("ingress"), std::string::npos)
      << ruleset.error().message();
}

// Fault isolation (issue #16) on the parsed-rules path: a policy whose rule does not parse is
// isolated to its own chain (a drop) when rendered with a report, and a policy on the same
// endpoint is programmed as without it; an `http` match parses (ignored, its L3/L4 part kept).
TEST(CalcGraphTest, UnparsableRuleIsIsolatedToItsPolicy) {
  CalcGraph g(kNode);
  g.OnUpdate(Wep("ns1", "a", kNode, "cali-a", {"10.0.0.1/32"}, {{"app", "web"}}));
  g.OnUpdate(Gnp(
      "bad",
      Json{{"selector", "app == 'web'"},
           {"order", 1},
           {"ingress",
            {{{"action", "Allow"}, {"protocol", "TCP"}, {"destination", {{"ports", {70000}}}}}}}}));
  g.OnUpdate(
      Gnp("deny-ssh",
          Json{{"selector", "app == 'web'"},
               {"order", 2},
               {"ingress",
                {{{"action", "Deny"}, {"protocol", "TCP"}, {"destination", {{"ports", {22}}}}},
                 {{"action", "Allow"},
                  {"protocol", "TCP"},
                  {"destination", {{"ports", {80}}}},
                  {"http", {{"methods", {"GET"}}}}}}}}));
  const policy::Model m = g.Model();
  ASSERT_EQ(m.policies.size(), 2u);
  ASSERT_FALSE(policy::RenderRulesetParts(m));  // Without a report: an error, as before.

  policy::RenderReport report;
  auto parts = policy::RenderRulesetParts(m, {}, nullptr, &report);
  ASSERT_TRUE(parts) << parts.error().message();
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].kind, "policy");
  EXPECT_NE(report.skipped[0].name.find("bad"), std::string::npos) << report.skipped[0].name;
  EXPECT_NE(report.skipped[0].message.find("destination.ports[0]"), std::string::npos)
      << report.skipped[0].message;
  ASSERT_EQ(report.http_ignored.size(), 1u);
  EXPECT_NE(report.http_ignored.begin()->first.find("deny-ssh"), std::string::npos);
  EXPECT_EQ(report.http_ignored.begin()->second, 1);
  int drop_chains = 0;
  bool deny_rendered = false;
  for (const auto& [name, chain] : parts->chains) {
    if (name.find("bad") != std::string::npos) {
      ASSERT_EQ(chain.rules.size(), 1u) << name;
      EXPECT_NE(chain.rules[0].find("cannot be rendered: drop"), std::string::npos);
      ++drop_chains;
    }
    if (name.find("deny-ssh") != std::string::npos) {
      ASSERT_EQ(chain.rules.size(), 2u) << name;
      EXPECT_NE(chain.rules[0].find("th dport 22 counter drop"), std::string::npos);
      EXPECT_NE(chain.rules[1].find("th dport 80 counter meta mark set"), std::string::npos);
      deny_rendered = true;
    }
  }
  EXPECT_EQ(drop_chains, 1);
  EXPECT_TRUE(deny_rendered);
}

TEST(CalcGraphTest, ScenarioGivesExpectedModel) {
  CalcGraph g(kNode);
  Apply(g, ScenarioUpdates());
  const policy::Model m = g.Model();
  const policy::Model want = ScenarioModel();
  EXPECT_EQ(m.endpoints, want.endpoints);
  EXPECT_EQ(m.policies, want.policies);
  EXPECT_EQ(m.profiles, want.profiles);
  EXPECT_EQ(m.ip_sets, want.ip_sets);
  EXPECT_EQ(m, want);
  // The renderer accepts it: every policy, profile and selector set resolves.
  auto ruleset = policy::RenderRuleset(m);
  ASSERT_TRUE(ruleset) << ruleset.error().message();
  EXPECT_NE(ruleset->find("cali-pi-default/ns1/allow-web-to-db"), std::string::npos);
}

TEST(CalcGraphTest, OrderOfUpdatesDoesNotMatter) {
  const policy::Model want = ScenarioModel();
  std::vector<Resource> updates = ScenarioUpdates();
  std::reverse(updates.begin(), updates.end());
  {
    CalcGraph g(kNode);
    Apply(g, updates);
    EXPECT_EQ(g.Model(), want) << "reversed";
  }
  ExpectAnyOrderGives(updates, want, 20, 42);
}

TEST(CalcGraphTest, ChangesAndRevertsReturnToTheSameModel) {
  CalcGraph g(kNode);
  Apply(g, ScenarioUpdates());
  // b becomes a web pod (now in both IP sets, loses the NP), c moves to this node, a policy and
  // the profile change ... then everything is put back.
  g.OnUpdate(Wep("ns1", "b", kNode, "cali-b", {"10.0.0.2/32"}, {{"app", "web"}}, {"kns.ns1"}));
  g.OnUpdate(Wep("ns2", "c", kNode, "cali-c", {"10.0.1.3/32"}, {{"app", "web"}}, {"kns.ns2"}));
  g.OnUpdate(Prof("kns.ns1", {{"labelsToApply", {{"team", "b"}}}}));
  g.OnUpdate(
      Gnp("block-egress", {{"selector", "all()"}, {"ingress", {RuleFrom("Allow", "x == 'y'")}}}));
  g.OnDelete("GlobalNetworkSet", "", "ext");
  const policy::Model changed = g.Model();
  EXPECT_NE(changed, ScenarioModel());
  EXPECT_EQ(changed.endpoints.size(), 3u);
  Apply(g, ScenarioUpdates());
  g.OnUpdate(Wep("ns2", "c", kOtherNode, "cali-c", {"10.0.1.3/32"}, {{"app", "web"}}, {"kns.ns2"}));
  EXPECT_EQ(g.Model(), ScenarioModel());
  DeleteAll(g, ScenarioUpdates());
  EXPECT_EQ(g.Model(), policy::Model{});
}

// Model() keeps IP set members between calls and re-collects only sets that changed: after every
// single update of a random walk, the model must equal that of a fresh graph given the same
// resources at once.
TEST(CalcGraphTest, ModelAfterEveryUpdateEqualsAFreshGraphs) {
  std::vector<Resource> pool = ScenarioUpdates();
  const std::vector<Resource> variants = {
      Wep("ns1", "b", kNode, "cali-b", {"10.0.0.2/32"}, {{"app", "web"}}, {"kns.ns1"}),
      Wep("ns1", "b", kNode, "cali-b", {"10.0.0.9/32"}, {{"app", "db"}}, {"kns.ns1"}),
      Wep("ns2", "c", kNode, "cali-c", {"10.0.1.3/32"}, {{"app", "web"}}, {"kns.ns2"}),
      Wep("ns2", "c", kOtherNode, "cali-c", {"10.0.1.4/32"}, {{"app", "web"}}, {"kns.ns2"}),
      Prof("kns.ns1", {{"labelsToApply", {{"team", "b"}}}}),
      Gnp("block-egress", {{"selector", "all()"}, {"ingress", {RuleFrom("Allow", "x == 'y'")}}}),
      Gnp("block-egress",
          {{"selector", "all()"}, {"ingress", {RuleFrom("Allow", "app == 'web'")}}}),
      NetSet("", "ext", {{"app", "web"}}, {"192.168.7.0/24"}),
  };
  pool.insert(pool.end(), variants.begin(), variants.end());
  std::mt19937 rng(7);
  std::map<std::tuple<std::string, std::string, std::string>, Resource> current;
  CalcGraph g(kNode);
  for (int step = 0; step < 300; ++step) {
    const Resource& r = pool[rng() % pool.size()];
    const auto key = std::make_tuple(r.kind(), r.namespace_(), r.name());
    if (rng() % 4 == 0) {
      g.OnDelete(r.kind(), r.namespace_(), r.name());
      current.erase(key);
    } else {
      g.OnUpdate(r);
      current.insert_or_assign(key, r);
    }
    CalcGraph fresh(kNode);
    for (const auto& [k, res] : current)
      fresh.OnUpdate(res);
    ASSERT_EQ(g.Model(), fresh.Model()) << "step " << step;
  }
}

// --- Focused behaviours
// ----------------------------------------------------------------------------

TEST(CalcGraphTest, ProfileLabelsToApplyAreInheritedEndpointLabelsWin) {
  CalcGraph g(kNode);
  g.OnUpdate(Prof("p1", {{"labelsToApply", {{"role", "p1"}, {"tier", "gold"}, {"zone", "p1"}}}}));
  g.OnUpdate(Prof("p2", {{"labelsToApply", {{"zone", "p2"}, {"extra", "p2"}}}}));
  g.OnUpdate(Wep("ns1", "x", kNode, "cali-x", {"10.0.0.1/32"}, {{"role", "own"}}, {"p1", "p2"}));
  g.OnUpdate(Wep("ns1", "r", kOtherNode, "cali-r", {"10.9.0.1/32"}, Json::object(), {"p2"}));
  g.OnUpdate(Gnp(
      "gold", {{"selector", "tier == 'gold'"}, {"ingress", {RuleFrom("Allow", "extra == 'p2'")}}}));

  policy::Model m = g.Model();
  ASSERT_EQ(m.endpoints.size(), 1u);
  EXPECT_EQ(m.endpoints[0].labels,
            (std::map<std::string, std::string>{
                {"role", "own"}, {"tier", "gold"}, {"zone", "p1"}, {"extra", "p2"}, {kNs, "ns1"}}));
  EXPECT_EQ(m.endpoints[0].profiles, (std::vector<std::string>{"p1", "p2"}));
  ASSERT_EQ(m.endpoints[0].ingress_tiers.size(), 1u);
  EXPECT_EQ(m.endpoints[0].ingress_tiers[0].policies, std::vector<std::string>{"gold"});
  // The remote endpoint inherits p2's labels too.
  EXPECT_EQ(m.ip_sets,
            std::vector<policy::IpSet>{Set("extra == 'p2'", {"10.0.0.1/32", "10.9.0.1/32"})});
  EXPECT_EQ(m.profiles.size(), 2u);

  // p1 stops giving tier=gold: the policy no longer applies and is no longer active.
  g.OnUpdate(Prof("p1", {{"labelsToApply", {{"role", "p1"}}}}));
  m = g.Model();
  EXPECT_TRUE(m.endpoints[0].ingress_tiers.empty());
  EXPECT_TRUE(m.policies.empty());
  EXPECT_TRUE(m.ip_sets.empty());
  // p2 deleted: its labels are gone; the endpoint still references it (no rules: allows nothing).
  g.OnUpdate(Prof("p1", {{"labelsToApply", {{"tier", "gold"}}}}));
  g.OnDelete("Profile", "", "p2");
  m = g.Model();
  EXPECT_FALSE(m.endpoints[0].labels.contains("extra"));
  EXPECT_EQ(m.ip_sets, std::vector<policy::IpSet>{Set("extra == 'p2'", {})});
  ASSERT_EQ(m.profiles.size(), 2u);
  EXPECT_EQ(m.profiles[1], (policy::Profile{.id = "p2"}));
}

TEST(CalcGraphTest, UnknownDefaultAllowProfileIsCalicosSyntheticOne) {
  CalcGraph g(kNode);
  g.OnUpdate(Wep("ns1", "x", kNode, "cali-x", {"10.0.0.1/32"}, Json::object(),
                 {std::string(kDefaultAllowProfile)}));
  const policy::Model m = g.Model();
  ASSERT_EQ(m.profiles.size(), 1u);
  EXPECT_EQ(m.profiles[0].ingress, Json::array({Rule("Allow")}));
  EXPECT_EQ(m.profiles[0].egress, Json::array({Rule("Allow")}));
}

TEST(CalcGraphTest, NamespacedPolicyOnlySelectsItsNamespace) {
  CalcGraph g(kNode);
  Apply(g, {
               Wep("ns1", "a", kNode, "cali-a", {"10.0.0.1/32"}, {{"app", "x"}}),
               Wep("ns2", "b", kNode, "cali-b", {"10.0.0.2/32"}, {{"app", "x"}}),
               Np("ns1", "np", {{"selector", "app == 'x'"}, {"ingress", {Rule("Allow")}}}),
               Np("ns2", "np", {{"selector", "app == 'y'"}, {"ingress", {Rule("Allow")}}}),
               Gnp("np", {{"selector", "all()"}, {"ingress", {Rule("Allow")}}}),
           });
  const policy::Model m = g.Model();
  EXPECT_EQ(PolicyIds(m), (std::vector<std::string>{"np", "ns1/np"}));
  ASSERT_EQ(m.endpoints.size(), 2u);
  // Same tier, no orders: ties broken by name, then namespace ("" first).
  EXPECT_EQ(m.endpoints[0].ingress_tiers,
            (std::vector<policy::TierRef>{{.name = "default", .policies = {"np", "ns1/np"}}}));
  EXPECT_EQ(m.endpoints[1].ingress_tiers,
            (std::vector<policy::TierRef>{{.name = "default", .policies = {"np"}}}));
}

TEST(CalcGraphTest, TiersAndPoliciesAreOrderedAndPassTiersDoNotDeny) {
  CalcGraph g(kNode);
  Apply(g, {
               TierRes("t-a", {{"order", 50}, {"defaultAction", "Pass"}}),
               TierRes("t-b", {{"order", 50}}),
               TierRes("t-nil", Json::object()),
               TierRes("early", {{"order", 1}, {"defaultAction", "Deny"}}),
               Wep("ns1", "a", kNode, "cali-a", {"10.0.0.1/32"}, Json::object()),
           });
  const Json allow = Json::array({Rule("Allow")});
  for (const char* tier : {"t-nil", "unknown-tier", "default", "t-b", "t-a", "kube-admin"}) {
    g.OnUpdate(Gnp(fmt::format("p-{}", tier), {{"tier", tier}, {"ingress", allow}}));
  }
  g.OnUpdate(Gnp("z", {{"order", 10}, {"ingress", allow}}));
  g.OnUpdate(Gnp("a", {{"order", 10}, {"ingress", allow}}));
  g.OnUpdate(Gnp("c", {{"order", 1.5}, {"ingress", allow}}));
  g.OnUpdate(Gnp("b", {{"order", 1000}, {"ingress", allow}}));
  const policy::Model m = g.Model();
  ASSERT_EQ(m.endpoints.size(), 1u);
  EXPECT_EQ(m.endpoints[0].ingress_tiers,
            (std::vector<policy::TierRef>{
                {.name = "t-a", .policies = {"p-t-a"}, .default_deny = false},
                {.name = "t-b", .policies = {"p-t-b"}},
                {.name = "kube-admin", .policies = {"p-kube-admin"}, .default_deny = false},
                {.name = "default", .policies = {"c", "a", "z", "b", "p-default"}},
                {.name = "t-nil", .policies = {"p-t-nil"}},
                {.name = "unknown-tier", .policies = {"p-unknown-tier"}},
            }));
  EXPECT_TRUE(m.endpoints[0].egress_tiers.empty());
  // A Tier resource for a built-in tier without an order keeps the built-in order.
  g.OnUpdate(TierRes("default", {{"defaultAction", "Pass"}}));
  EXPECT_EQ(g.Model().endpoints[0].ingress_tiers[3],
            (policy::TierRef{.name = "default",
                             .policies = {"c", "a", "z", "b", "p-default"},
                             .default_deny = false}));
  g.OnUpdate(TierRes("default", {{"order", 0}}));
  EXPECT_EQ(g.Model().endpoints[0].ingress_tiers[0].name, "default");
}

TEST(CalcGraphTest, StagedPoliciesAreIgnored) {
  CalcGraph g(kNode);
  g.OnUpdate(Wep("ns1", "a", kNode, "cali-a", {"10.0.0.1/32"}, Json::object()));
  const policy::Model before = g.Model();
  Resource staged("StagedNetworkPolicy", "s", "ns1");
  staged.spec() = Json{{"selector", "all()"}, {"ingress", {RuleFrom("Deny", "all()")}}};
  Resource staged_global("StagedGlobalNetworkPolicy", "sg");
  staged_global.spec() = staged.spec();
  Resource staged_k8s("StagedKubernetesNetworkPolicy", "sk", "ns1");
  g.OnUpdate(staged);
  g.OnUpdate(staged_global);
  g.OnUpdate(staged_k8s);
  EXPECT_EQ(g.Model(), before);
  g.OnDelete("StagedNetworkPolicy", "ns1", "s");
  g.OnDelete("StagedGlobalNetworkPolicy", "", "sg");
  EXPECT_EQ(g.Model(), before);
}

TEST(CalcGraphTest, UntrackedAndPreDnatPoliciesDoNotApplyToWorkloads) {
  CalcGraph g(kNode);
  g.OnUpdate(Wep("ns1", "a", kNode, "cali-a", {"10.0.0.1/32"}, Json::object()));
  const policy::Model before = g.Model();
  g.OnUpdate(Gnp(
      "untracked",
      {{"doNotTrack", true}, {"applyOnForward", true}, {"ingress", {RuleFrom("Allow", "all()")}}}));
  g.OnUpdate(Gnp(
      "pre-dnat",
      {{"preDNAT", true}, {"applyOnForward", true}, {"ingress", {RuleFrom("Allow", "all()")}}}));
  EXPECT_EQ(g.Model(), before);
  // The same policy without the flag applies.
  g.OnUpdate(Gnp("untracked", {{"ingress", {RuleFrom("Allow", "all()")}}}));
  EXPECT_EQ(PolicyIds(g.Model()), std::vector<std::string>{"untracked"});
}

TEST(CalcGraphTest, TypesDefaulting) {
  CalcGraph g(kNode);
  g.OnUpdate(Wep("ns1", "a", kNode, "cali-a", {"10.0.0.1/32"}, Json::object()));
  const Json in = Json::array({RuleFrom("Allow", "in == 'x'")});
  const Json out = Json::array({RuleTo("Allow", "out == 'x'")});
  Apply(g,
        {
            Gnp("1-ingress-only", {{"ingress", in}}),
            Gnp("2-egress-only", {{"egress", out}}),
            Gnp("3-both", {{"ingress", in}, {"egress", out}}),
            Gnp("4-no-rules", Json::object()),
            Gnp("5-explicit-both", {{"types", {"Ingress", "Egress"}}}),
            Gnp("6-explicit-ingress", {{"types", {"Ingress"}}, {"ingress", in}, {"egress", out}}),
        });
  const policy::Model m = g.Model();
  ASSERT_EQ(m.endpoints.size(), 1u);
  EXPECT_EQ(
      m.endpoints[0].ingress_tiers,
      (std::vector<policy::TierRef>{{.name = "default",
                                     .policies = {"1-ingress-only", "3-both", "4-no-rules",
                                                  "5-explicit-both", "6-explicit-ingress"}}}));
  EXPECT_EQ(m.endpoints[0].egress_tiers,
            (std::vector<policy::TierRef>{
                {.name = "default", .policies = {"2-egress-only", "3-both", "5-explicit-both"}}}));
  ASSERT_EQ(m.policies.size(), 6u);
  // Only the rules of the policy's directions are kept (and only they make IP sets).
  EXPECT_EQ(m.policies[5].id, "6-explicit-ingress");
  EXPECT_EQ(m.policies[5].egress, Json::array());
  EXPECT_EQ(m.policies[1].ingress, Json::array());
  EXPECT_EQ(m.ip_sets.size(), 2u);
}

TEST(CalcGraphTest, IpSetMembersFollowLabelsAddressesAndNetworkSets) {
  CalcGraph g(kNode);
  Apply(g,
        {
            Wep("ns1", "server", kNode, "cali-s", {"10.0.0.1/32"}, {{"app", "server"}}),
            Wep("ns1", "r1", kOtherNode, "cali-r1", {"10.1.0.1/32"}, {{"role", "client"}}),
            Wep("ns2", "r2", kOtherNode, "cali-r2", {"10.1.0.2"}, {{"role", "client"}}),
            NetSet("ns1", "clients", {{"role", "client"}}, {"10.2.3.4/16"}),
            NetSet("", "bad", {{"role", "bad"}}, {"1.2.3.4", "2001:db8::/32"}),
            Hep("h1", {"172.16.0.1"}, {{"role", "client"}}),
            Gnp("server",
                {{"selector", "app == 'server'"},
                 {"ingress",
                  {{{"action", "Allow"},
                    {"source",
                     {{"selector", "role == 'client'"}, {"notSelector", "role == 'bad'"}}}}}}}),
            Np("ns1", "global-only",
               {{"selector", "all()"},
                {"ingress",
                 {{{"action", "Allow"},
                   {"source", {{"selector", "has(role)"}, {"namespaceSelector", "global()"}}}}}}}),
        });
  const std::string global_role = Canon("(!has(projectcalico.org/namespace)) && (has(role))");
  std::vector<policy::IpSet> want = {
      Set("role == 'client'", {"10.1.0.1/32", "10.1.0.2/32", "10.2.0.0/16", "172.16.0.1/32"}),
      Set("role == 'bad'", {"1.2.3.4/32", "2001:db8::/32"}),
      Set(global_role, {"1.2.3.4/32", "2001:db8::/32", "172.16.0.1/32"}),
  };
  SortSets(want);
  policy::Model m = g.Model();
  EXPECT_EQ(m.ip_sets, want);
  // The NP's rule had its namespaceSelector folded into the selector.
  ASSERT_EQ(PolicyIds(m), (std::vector<std::string>{"ns1/global-only", "server"}));
  EXPECT_EQ(m.policies[0].ingress[0].source,
            policy::ParseRule(Json{{"action", "Allow"}, {"source", {{"selector", global_role}}}})
                ->source);

  // Label change, address change, network set removal.
  g.OnUpdate(Wep("ns1", "r1", kOtherNode, "cali-r1", {"10.1.0.1/32"}, {{"role", "other"}}));
  g.OnUpdate(Wep("ns2", "r2", kOtherNode, "cali-r2", {"10.1.0.22/32"}, {{"role", "client"}}));
  g.OnDelete("NetworkSet", "ns1", "clients");
  g.OnUpdate(NetSet("", "bad", {{"role", "bad"}}, {"1.2.3.4"}));
  g.OnDelete("HostEndpoint", "", "h1");
  want = {
      Set("role == 'client'", {"10.1.0.22/32"}),
      Set("role == 'bad'", {"1.2.3.4/32"}),
      Set(global_role, {"1.2.3.4/32"}),
  };
  SortSets(want);
  m = g.Model();
  EXPECT_EQ(m.ip_sets, want);

  // The selecting policy goes away: its IP sets go with it.
  g.OnDelete("GlobalNetworkPolicy", "", "server");
  m = g.Model();
  EXPECT_EQ(m.ip_sets, std::vector<policy::IpSet>{Set(global_role, {"1.2.3.4/32"})});
}

TEST(CalcGraphTest, RemoteEndpointsOnlyContributeIpSetMembers) {
  CalcGraph g(kNode);
  Apply(g,
        {
            Wep("ns1", "remote", kOtherNode, "cali-r", {"10.1.0.1/32"}, {{"app", "x"}}, {"prof"}),
            Prof("prof", {{"ingress", {RuleFrom("Allow", "app == 'x'")}}}),
            Gnp("x", {{"selector", "app == 'x'"}, {"ingress", {RuleFrom("Allow", "all()")}}}),
        });
  policy::Model m = g.Model();
  EXPECT_EQ(m, policy::Model{});  // Nothing local: no endpoints, no active rules, no sets.

  g.OnUpdate(Wep("ns1", "local", kNode, "cali-l", {"10.0.0.1/32"}, {{"app", "y"}}));
  g.OnUpdate(
      Gnp("y", {{"selector", "app == 'y'"}, {"ingress", {RuleFrom("Allow", "app == 'x'")}}}));
  m = g.Model();
  ASSERT_EQ(m.endpoints.size(), 1u);
  EXPECT_EQ(m.endpoints[0].name, "ns1/local");
  EXPECT_EQ(PolicyIds(m), std::vector<std::string>{"y"});
  EXPECT_EQ(m.ip_sets, std::vector<policy::IpSet>{Set("app == 'x'", {"10.1.0.1/32"})});

  // The remote endpoint moves to this node: it gets its chains, policy and profile.
  g.OnUpdate(Wep("ns1", "remote", kNode, "cali-r", {"10.1.0.1/32"}, {{"app", "x"}}, {"prof"}));
  m = g.Model();
  ASSERT_EQ(m.endpoints.size(), 2u);
  EXPECT_EQ(PolicyIds(m), (std::vector<std::string>{"x", "y"}));
  ASSERT_EQ(m.profiles.size(), 1u);
  EXPECT_EQ(m.ip_sets.size(), 2u);
  ASSERT_NE(FindEndpoint(m, "ns1/remote"), nullptr);
  EXPECT_EQ(FindEndpoint(m, "ns1/remote")->ingress_tiers[0].policies,
            std::vector<std::string>{"x"});
}

// Remote endpoints are kept compact (own labels and profiles interned, effective labels and
// addresses only in the IP set index): a profile's labelsToApply still re-labels them, moving
// between nodes keeps and restores the whole record, and the model equals a fresh graph's.
TEST(CalcGraphTest, CompactRemoteEndpointsFollowProfilesAndNodeMoves) {
  CalcGraph g(kNode);
  const std::vector<Resource> base = {
      Wep("ns1", "local", kNode, "cali-l", {"10.0.0.1/32"}, {{"app", "y"}}),
      Gnp("y", {{"selector", "app == 'y'"}, {"ingress", {RuleFrom("Allow", "team == 'blue'")}}}),
      Prof("prof", {{"labelsToApply", {{"team", "red"}}}}),
      Wep("ns1", "r1", kOtherNode, "cali-r1", {"10.1.0.1/32"}, {{"app", "x"}}, {"prof"}),
      Wep("ns1", "r2", kOtherNode, "cali-r2", {"10.1.0.2/32"}, {{"app", "x"}, {"team", "blue"}},
          {"prof"}),
  };
  Apply(g, base);
  // r2's own label wins over the profile's.
  EXPECT_EQ(g.Model().ip_sets, std::vector<policy::IpSet>{Set("team == 'blue'", {"10.1.0.2/32"})});
  // The profile now gives team=blue: r1 joins through inheritance while remote.
  const Resource blue = Prof("prof", {{"labelsToApply", {{"team", "blue"}}}});
  g.OnUpdate(blue);
  EXPECT_EQ(g.Model().ip_sets,
            std::vector<policy::IpSet>{Set("team == 'blue'", {"10.1.0.1/32", "10.1.0.2/32"})});
  // r1 moves here (its whole record is kept), then away again, with a new address.
  const Resource r1_here =
      Wep("ns1", "r1", kNode, "cali-r1", {"10.1.0.1/32"}, {{"app", "x"}}, {"prof"});
  g.OnUpdate(r1_here);
  policy::Model m = g.Model();
  ASSERT_NE(FindEndpoint(m, "ns1/r1"), nullptr);
  EXPECT_EQ(FindEndpoint(m, "ns1/r1")->labels,
            (selector::LabelMap{{"app", "x"}, {kNs, "ns1"}, {"team", "blue"}}));
  EXPECT_EQ(FindEndpoint(m, "ns1/r1")->addresses, std::vector<net::CIDR>{C("10.1.0.1/32")});
  const Resource r1_away =
      Wep("ns1", "r1", kOtherNode, "cali-r1", {"10.1.0.9/32"}, {{"app", "x"}}, {"prof"});
  g.OnUpdate(r1_away);
  m = g.Model();
  EXPECT_EQ(FindEndpoint(m, "ns1/r1"), nullptr);
  EXPECT_EQ(m.ip_sets,
            std::vector<policy::IpSet>{Set("team == 'blue'", {"10.1.0.2/32", "10.1.0.9/32"})});
  // The same model as a fresh graph given the current resources.
  CalcGraph fresh(kNode);
  std::vector<Resource> now = base;
  now.push_back(blue);
  now.push_back(r1_away);
  Apply(fresh, now);
  EXPECT_EQ(m, fresh.Model());
  // Deleting the profile drops the inherited label; deleting r2 empties the set.
  g.OnDelete("Profile", "", "prof");
  EXPECT_EQ(g.Model().ip_sets, std::vector<policy::IpSet>{Set("team == 'blue'", {"10.1.0.2/32"})});
  g.OnDelete("WorkloadEndpoint", "ns1", "r2");
  EXPECT_EQ(g.Model().ip_sets, std::vector<policy::IpSet>{Set("team == 'blue'", {})});
}

// A remote endpoint whose profiles add no labels keeps no copy of its own labels (they are the
// effective labels the IP set index holds): when a profile starts adding labels, stops, and
// starts again, the endpoint's own labels are recovered intact and still win.
TEST(CalcGraphTest, OwnLabelsSharedWithTheIndexSurviveProfileLabelChanges) {
  CalcGraph g(kNode);
  const std::vector<Resource> base = {
      Wep("ns1", "local", kNode, "cali-l", {"10.0.0.1/32"}, {{"app", "y"}}),
      Gnp("y",
          {{"selector", "app == 'y'"},
           {"ingress", {RuleFrom("Allow", "team == 'blue'"), RuleFrom("Allow", "app == 'x'")}}}),
      Prof("prof", Json::object()),
      Wep("ns1", "r1", kOtherNode, "cali-r1", {"10.1.0.1/32"}, {{"app", "x"}}, {"prof"}),
  };
  Apply(g, base);
  // The two sets' members, sorted by selector.
  auto sets = [](std::vector<std::string> blue, std::vector<std::string> x) {
    return std::vector<policy::IpSet>{Set("app == 'x'", x), Set("team == 'blue'", blue)};
  };
  auto model_sets = [&] {
    std::vector<policy::IpSet> got = g.Model().ip_sets;
    std::sort(got.begin(), got.end(),
              [](const auto& a, const auto& b) { return a.selector < b.selector; });
    return got;
  };
  EXPECT_EQ(model_sets(), sets({}, {"10.1.0.1/32"}));
  g.OnUpdate(Prof("prof", {{"labelsToApply", {{"team", "blue"}}}}));
  EXPECT_EQ(model_sets(), sets({"10.1.0.1/32"}, {"10.1.0.1/32"}));
  // The profile's labels now all lose to the endpoint's own: nothing added, own shared again.
  g.OnUpdate(Prof("prof", {{"labelsToApply", {{"app", "z"}}}}));
  EXPECT_EQ(model_sets(), sets({}, {"10.1.0.1/32"}));
  const Resource blue_again = Prof("prof", {{"labelsToApply", {{"team", "blue"}, {"app", "z"}}}});
  g.OnUpdate(blue_again);
  EXPECT_EQ(model_sets(), sets({"10.1.0.1/32"}, {"10.1.0.1/32"}));
  CalcGraph fresh(kNode);
  std::vector<Resource> now = base;
  now.push_back(blue_again);
  Apply(fresh, now);
  EXPECT_EQ(g.Model(), fresh.Model());
  g.OnDelete("Profile", "", "prof");
  EXPECT_EQ(model_sets(), sets({}, {"10.1.0.1/32"}));
}

// Endpoints() lists every endpoint, remote ones too (flow logs name a flow's remote endpoints with
// it), with their effective labels and addresses.
TEST(CalcGraphTest, EndpointsListsRemoteEndpointsToo) {
  CalcGraph g(kNode);
  Apply(g, {
               Prof("prof", {{"labelsToApply", {{"team", "red"}}}}),
               Wep("ns1", "local", kNode, "cali-l", {"10.0.0.1/32"}, {{"app", "y"}}),
               Wep("ns1", "r1", kOtherNode, "cali-r1", {"10.1.0.1/32"}, {{"app", "x"}}, {"prof"}),
               LocalHep("node2-eth0", kOtherNode, "eth0", {"192.0.2.20"}, {{"role", "web"}}),
           });
  const std::vector<EndpointSummary> got = g.Endpoints();
  const std::vector<EndpointSummary> want = {
      {.is_workload = false,
       .local = false,
       .name = "node2-eth0",
       .addresses = {C("192.0.2.20/32")},
       .labels = {{"role", "web"}}},
      {.is_workload = true,
       .local = true,
       .ns = "ns1",
       .name = "local",
       .addresses = {C("10.0.0.1/32")},
       .labels = {{"app", "y"}, {kNs, "ns1"}}},
      {.is_workload = true,
       .local = false,
       .ns = "ns1",
       .name = "r1",
       .addresses = {C("10.1.0.1/32")},
       .labels = {{"app", "x"}, {kNs, "ns1"}, {"team", "red"}}},
  };
  EXPECT_EQ(got, want);
}

// EndpointsVersion() moves with every change to what Endpoints() lists (the flow logs rebuild their
// endpoint table only then) and with nothing else; a new graph never repeats an older one's value.
TEST(CalcGraphTest, EndpointsVersionFollowsEndpointChangesOnly) {
  CalcGraph g(kNode);
  std::set<uint64_t> seen = {g.EndpointsVersion()};
  auto moved = [&] { return seen.insert(g.EndpointsVersion()).second; };
  g.OnUpdate(Prof("prof", {{"labelsToApply", {{"team", "red"}}}}));
  EXPECT_FALSE(moved());  // No endpoint lists it yet.
  g.OnUpdate(Wep("ns1", "r1", kOtherNode, "cali-r1", {"10.1.0.1/32"}, {{"app", "x"}}, {"prof"}));
  EXPECT_TRUE(moved());
  g.OnUpdate(
      Gnp("p1", {{"selector", "app == 'x'"}, {"ingress", Json::array({{{"action", "Allow"}}})}}));
  g.OnUpdate(NetSet("ns1", "set1", {{"app", "x"}}, {"10.9.0.0/16"}));
  EXPECT_FALSE(moved());  // Policies and network sets are not endpoints.
  g.OnUpdate(Prof("prof", {{"labelsToApply", {{"team", "blue"}}}}));
  EXPECT_TRUE(moved());  // r1's effective labels changed.
  EXPECT_EQ(g.Endpoints().at(0).labels.at("team"), "blue");
  g.OnUpdate(Wep("ns1", "r1", kOtherNode, "cali-r1", {"10.1.0.2/32"}, {{"app", "x"}}, {"prof"}));
  EXPECT_TRUE(moved());
  g.OnDelete("WorkloadEndpoint", "ns1", "absent");
  EXPECT_FALSE(moved());
  g.OnDelete("WorkloadEndpoint", "ns1", "r1");
  EXPECT_TRUE(moved());
  EXPECT_TRUE(g.Endpoints().empty());
  g.OnUpdate(Hep("h1", {"172.16.0.1"}, Json::object()));
  EXPECT_TRUE(moved());
  CalcGraph fresh(kNode);
  EXPECT_TRUE(seen.insert(fresh.EndpointsVersion()).second);
}

// --- Host endpoints ----------------------------------------------------------------------------

std::vector<Resource> HostScenarioUpdates() {
  return {
      LocalHep("node1-eth0", kNode, "eth0", {"192.0.2.10"}, {{"role", "web"}}),
      LocalHep("node1-all", kNode, "*", {}, {{"role", "any"}}, {"projectcalico-default-allow"}),
      LocalHep("node1-by-ip", kNode, "", {"198.51.100.7"}, {{"role", "web"}}),
      LocalHep("node2-eth0", kOtherNode, "eth0", {"192.0.2.20"}, {{"role", "web"}}),
      Wep("ns1", "a", kNode, "cali-a", {"10.0.0.1/32"}, {{"role", "web"}}),
      Gnp("web",
          {{"selector", "role == 'web'"},
           {"ingress",
            {{{"action", "Allow"}, {"protocol", "TCP"}, {"destination", {{"ports", {8080}}}}}}}}),
      Gnp("fwd", {{"selector", "has(role)"},
                  {"applyOnForward", true},
                  {"types", {"Ingress", "Egress"}},
                  {"ingress", {RuleFrom("Allow", "role == 'web'")}}}),
      Gnp("pre", {{"selector", "role == 'web'"},
                  {"order", 1},
                  {"preDNAT", true},
                  {"applyOnForward", true},
                  {"ingress", {Rule("Deny")}}}),
      Gnp("untracked", {{"selector", "role == 'any'"},
                        {"doNotTrack", true},
                        {"applyOnForward", true},
                        {"types", {"Ingress", "Egress"}},
                        {"ingress", {Rule("Allow")}},
                        {"egress", {Rule("Allow")}}}),
      // Namespaced policies never apply to host endpoints.
      Np("ns1", "all-in-ns1", {{"selector", "all()"}, {"ingress", {Rule("Allow")}}}),
  };
}

policy::Model HostScenarioModel() {
  policy::Model m;
  m.endpoints = {
      {.name = "ns1/a",
       .interface_name = "cali-a",
       .addresses = {C("10.0.0.1/32")},
       .labels = {{"role", "web"}, {kNs, "ns1"}},
       .ingress_tiers = {{.name = "default", .policies = {"ns1/all-in-ns1", "fwd", "web"}}},
       .egress_tiers = {{.name = "default", .policies = {"fwd"}}}}};
  const policy::TierRef fwd{.name = "default", .policies = {"fwd"}};
  m.host_endpoints = {
      {.name = "node1-all",
       .interface_name = "*",
       .labels = {{"role", "any"}},
       .profiles = {"projectcalico-default-allow"},
       .ingress_tiers = {fwd},
       .egress_tiers = {fwd},
       .forward_ingress_tiers = {fwd},
       .forward_egress_tiers = {fwd},
       .untracked_ingress_tiers = {{.name = "default",
                                    .policies = {"untracked"},
                                    .default_deny = false}},
       .untracked_egress_tiers = {{.name = "default",
                                   .policies = {"untracked"},
                                   .default_deny = false}}},
      {.name = "node1-by-ip",
       .expected_ips = {C("198.51.100.7/32")},
       .labels = {{"role", "web"}},
       .ingress_tiers = {{.name = "default", .policies = {"fwd", "web"}}},
       .egress_tiers = {fwd},
       .forward_ingress_tiers = {fwd},
       .forward_egress_tiers = {fwd},
       .pre_dnat_ingress_tiers = {{.name = "default", .policies = {"pre"}, .default_deny = false}}},
      {.name = "node1-eth0",
       .interface_name = "eth0",
       .expected_ips = {C("192.0.2.10/32")},
       .labels = {{"role", "web"}},
       .ingress_tiers = {{.name = "default", .policies = {"fwd", "web"}}},
       .egress_tiers = {fwd},
       .forward_ingress_tiers = {fwd},
       .forward_egress_tiers = {fwd},
       .pre_dnat_ingress_tiers = {{.name = "default", .policies = {"pre"}, .default_deny = false}}},
  };
  m.policies = {
      {.id = "fwd", .tier = "default", .ingress = {RuleFrom("Allow", Canon("role == 'web'"))}},
      {.id = "ns1/all-in-ns1", .tier = "default", .ingress = {Rule("Allow")}},
      {.id = "pre", .tier = "default", .ingress = {Rule("Deny")}},
      {.id = "untracked", .tier = "default", .ingress = {Rule("Allow")}, .egress = {Rule("Allow")}},
      {.id = "web",
       .tier = "default",
       .ingress = {{{"action", "Allow"},
                    {"protocol", "TCP"},
                    {"destination", {{"ports", {8080}}}}}}},
  };
  m.profiles = {
      {.id = "projectcalico-default-allow", .ingress = {Rule("Allow")}, .egress = {Rule("Allow")}}};
  // Host endpoints' expectedIPs (any node) are members like workload addresses.
  m.ip_sets = {
      Set("role == 'web'", {"10.0.0.1/32", "192.0.2.10/32", "192.0.2.20/32", "198.51.100.7/32"})};
  return m;
}

TEST(CalcGraphTest, HostEndpointsOfThisNodeGetTheirPolicies) {
  CalcGraph g(kNode);
  Apply(g, HostScenarioUpdates());
  const policy::Model m = g.Model();
  const policy::Model want = HostScenarioModel();
  EXPECT_EQ(m.endpoints, want.endpoints);
  ASSERT_EQ(m.host_endpoints.size(), want.host_endpoints.size());
  for (std::size_t i = 0; i < want.host_endpoints.size(); ++i) {
    EXPECT_EQ(m.host_endpoints[i], want.host_endpoints[i]) << want.host_endpoints[i].name;
  }
  EXPECT_EQ(m.policies, want.policies);
  EXPECT_EQ(m.profiles, want.profiles);
  EXPECT_EQ(m.ip_sets, want.ip_sets);
  EXPECT_EQ(m, want);
  // Bound to interfaces, the model renders.
  policy::Model bound = m;
  bound.host_endpoints = policy::ResolveHostEndpoints(
      m.host_endpoints, {{"eth1", {*net::IPAddr::Parse("198.51.100.7")}}});
  ASSERT_EQ(bound.host_endpoints.size(), 3u);
  EXPECT_EQ(bound.host_endpoints[2].name, "node1-by-ip");
  EXPECT_EQ(bound.host_endpoints[2].interface_name, "eth1");
  auto ruleset = policy::RenderRuleset(bound);
  ASSERT_TRUE(ruleset) << ruleset.error().message();
  EXPECT_NE(ruleset->find("chain cali-fh-eth1 {"), std::string::npos);
  // Untracked policy on the "*" endpoint is ignored (as Felix does).
  EXPECT_EQ(ruleset->find("raw-cali-from-host-endpoint"), std::string::npos);
  EXPECT_NE(ruleset->find("chain mangle-cali-fh-eth0 {"), std::string::npos);
}

TEST(CalcGraphTest, HostEndpointUpdatesInAnyOrderAndDeleteAll) {
  ExpectAnyOrderGives(HostScenarioUpdates(), HostScenarioModel(), 20, 7);
}

TEST(CalcGraphTest, PolicyMovesBetweenNormalAndHostOnlyKinds) {
  CalcGraph g(kNode);
  Apply(g, {LocalHep("h", kNode, "eth0", {}, {{"role", "web"}}),
            Wep("ns1", "a", kNode, "cali-a", {"10.0.0.1/32"}, {{"role", "web"}})});
  const Json spec = {{"selector", "role == 'web'"}, {"ingress", {RuleFrom("Allow", "src == 'x'")}}};
  g.OnUpdate(Gnp("p", spec));
  policy::Model m = g.Model();
  ASSERT_EQ(m.host_endpoints.size(), 1u);
  EXPECT_EQ(m.host_endpoints[0].ingress_tiers.size(), 1u);
  EXPECT_EQ(m.endpoints[0].ingress_tiers.size(), 1u);
  EXPECT_EQ(m.ip_sets.size(), 1u);

  // preDNAT: only the host endpoint keeps it (pre-DNAT tier), the policy stays active.
  Json pre = spec;
  pre["preDNAT"] = true;
  pre["applyOnForward"] = true;
  g.OnUpdate(Gnp("p", pre));
  m = g.Model();
  EXPECT_TRUE(m.endpoints[0].ingress_tiers.empty());
  EXPECT_TRUE(m.host_endpoints[0].ingress_tiers.empty());
  EXPECT_EQ(m.host_endpoints[0].pre_dnat_ingress_tiers,
            (std::vector<policy::TierRef>{
                {.name = "default", .policies = {"p"}, .default_deny = false}}));
  EXPECT_EQ(PolicyIds(m), std::vector<std::string>{"p"});
  EXPECT_EQ(m.ip_sets.size(), 1u);

  // Without the host endpoint a preDNAT policy is inactive (its IP sets go too).
  g.OnDelete("HostEndpoint", "", "h");
  m = g.Model();
  EXPECT_TRUE(m.policies.empty());
  EXPECT_TRUE(m.ip_sets.empty());

  // Back to a normal policy: the workload has it again.
  g.OnUpdate(Gnp("p", spec));
  m = g.Model();
  EXPECT_EQ(m.endpoints[0].ingress_tiers.size(), 1u);
  EXPECT_EQ(m.ip_sets.size(), 1u);
}

TEST(CalcGraphTest, HostEndpointMovingNodesAndChangingLabels) {
  CalcGraph g(kNode);
  g.OnUpdate(Gnp("web", {{"selector", "role == 'web'"}, {"ingress", {Rule("Allow")}}}));
  g.OnUpdate(LocalHep("h", kOtherNode, "eth0", {"192.0.2.1"}, {{"role", "web"}}));
  EXPECT_TRUE(g.Model().host_endpoints.empty());
  EXPECT_TRUE(g.Model().policies.empty());
  g.OnUpdate(LocalHep("h", kNode, "eth0", {"192.0.2.1"}, {{"role", "web"}}));
  policy::Model m = g.Model();
  ASSERT_EQ(m.host_endpoints.size(), 1u);
  EXPECT_EQ(m.host_endpoints[0].ingress_tiers.size(), 1u);
  EXPECT_EQ(PolicyIds(m), std::vector<std::string>{"web"});
  // Not selected any more: still enforced, with no policies (drops all but failsafes).
  g.OnUpdate(LocalHep("h", kNode, "eth0", {"192.0.2.1"}, {{"role", "db"}}));
  m = g.Model();
  ASSERT_EQ(m.host_endpoints.size(), 1u);
  EXPECT_TRUE(m.host_endpoints[0].ingress_tiers.empty());
  EXPECT_TRUE(m.policies.empty());
  g.OnDelete("HostEndpoint", "", "h");
  EXPECT_EQ(g.Model(), policy::Model{});
}

TEST(CalcGraphTest, HostEndpointsAndPoolsAreStored) {
  CalcGraph g(kNode);
  Resource pool("IPPool", "p");
  pool.spec()["cidr"] = "10.0.0.0/16";
  g.OnUpdate(pool);
  g.OnUpdate(Hep("h1", {"172.16.0.1"}, Json::object()));
  EXPECT_EQ(g.IpPools().size(), 1u);
  EXPECT_EQ(g.HostEndpoints().size(), 1u);
  g.OnDelete("IPPool", "", "p");
  g.OnDelete("HostEndpoint", "", "h1");
  EXPECT_TRUE(g.IpPools().empty());
  EXPECT_TRUE(g.HostEndpoints().empty());
}

// --- Named ports -----------------------------------------------------------------------------

// A vector, not a Json: `{Port(...)}` with one element is a one-element array to g++ but a copy
// of that element to clang (CWG 2137), which made the named-port tests fail under clang only.
Resource WithPorts(Resource r, std::vector<Json> ports) {
  r.spec()["ports"] = Json(std::move(ports));
  return r;
}

Json Port(const std::string& name, const std::string& proto, int port) {
  return Json{{"name", name}, {"protocol", proto}, {"port", port}};
}

policy::IpPortMember M(std::string_view addr, uint8_t proto, uint16_t port) {
  return {.addr = *net::IPAddr::Parse(addr), .protocol = proto, .port = port};
}

// The named-port set of (selector, protocol, name) with `members`.
policy::IpSet NamedSet(std::string_view sel, uint8_t proto, const std::string& name,
                       std::vector<policy::IpPortMember> members) {
  auto parsed = selector::Parse(sel);
  EXPECT_TRUE(parsed) << sel;
  policy::IpSet set{.id = policy::NamedPortSetId(*parsed, proto, name),
                    .selector = parsed->String(),
                    .named_port = name,
                    .named_port_protocol = proto,
                    .port_members = std::move(members)};
  std::sort(set.port_members.begin(), set.port_members.end());
  return set;
}

std::vector<Resource> NamedPortUpdates() {
  return {
      WithPorts(Wep("ns1", "db", kNode, "cali-db", {"10.0.0.2/32", "fd00::2/128"}, {{"app", "db"}}),
                {Port("http", "TCP", 8080), Port("http", "UDP", 8081), Port("metrics", "TCP", 9090),
                 Port("", "TCP", 1)}),
      WithPorts(Wep("ns1", "web", kNode, "cali-web", {"10.0.0.1/32"}, {{"app", "web"}}),
                {Port("http", "TCP", 80)}),
      WithPorts(Wep("ns2", "remote-db", kOtherNode, "cali-r", {"10.0.1.3/32"}, {{"app", "db"}}),
                {Port("http", "tcp", 8080)}),
      WithPorts(Hep("h1", {"192.168.0.1"}, {{"app", "db"}}), {Port("http", "TCP", 8443)}),
      NetSet("", "ext", {{"app", "db"}}, {"198.51.100.0/24"}),  // No ports: never a member.
      Gnp("db-in",
          {{"selector", "app == 'db'"},
           {"ingress",
            {{{"action", "Allow"},
              {"protocol", "TCP"},
              {"source", {{"selector", "app == 'web'"}}},
              {"destination", {{"ports", {"http"}}}}},
             {{"action", "Allow"}, {"protocol", "UDP"}, {"destination", {{"ports", {"http"}}}}},
             {{"action", "Deny"}, {"destination", {{"notPorts", {"metrics"}}}}}}}}),
      Np("ns1", "web-out",
         {{"selector", "app == 'web'"},
          {"types", {"Egress"}},
          {"egress",
           {{{"action", "Allow"},
             {"protocol", "TCP"},
             {"destination", {{"selector", "app == 'db'"}, {"ports", {5432, "http"}}}}}}}}),
  };
}

std::vector<policy::IpSet> NamedPortSets() {
  const std::string db_in_ns1 = Canon("(projectcalico.org/namespace == 'ns1') && (app == 'db')");
  std::vector<policy::IpSet> sets = {
      Set("app == 'web'", {"10.0.0.1/32"}),
      // all() x TCP http: every endpoint (WEPs of any node, HEPs) with a TCP port named http.
      NamedSet("all()", 6, "http",
               {M("10.0.0.2", 6, 8080), M("fd00::2", 6, 8080), M("10.0.0.1", 6, 80),
                M("10.0.1.3", 6, 8080), M("192.168.0.1", 6, 8443)}),
      NamedSet("all()", 17, "http", {M("10.0.0.2", 17, 8081), M("fd00::2", 17, 8081)}),
      // notPorts with no protocol: a TCP set.
      NamedSet("all()", 6, "metrics", {M("10.0.0.2", 6, 9090), M("fd00::2", 6, 9090)}),
      // The NP's scoped selector: its numeric alternative needs the selector set, the named one
      // a set filtered by it (ns1's db only).
      Set(db_in_ns1, {"10.0.0.2/32", "fd00::2/128"}),
      NamedSet(db_in_ns1, 6, "http", {M("10.0.0.2", 6, 8080), M("fd00::2", 6, 8080)}),
  };
  SortSets(sets);
  return sets;
}

TEST(CalcGraphTest, NamedPortSetsHoldTheMatchingEndpointsPorts) {
  CalcGraph g(kNode);
  Apply(g, NamedPortUpdates());
  const policy::Model m = g.Model();
  EXPECT_EQ(m.ip_sets, NamedPortSets());
  // The renderer finds every set the rules need.
  auto ruleset = policy::RenderRuleset(m);
  ASSERT_TRUE(ruleset) << ruleset.error().message();
  EXPECT_NE(ruleset->find("ip daddr . meta l4proto . th dport @cali40n-"), std::string::npos);
  EXPECT_NE(ruleset->find("10.0.0.2 . 6 . 8080"), std::string::npos);
}

TEST(CalcGraphTest, NamedPortSetsDoNotDependOnUpdateOrder) {
  std::vector<Resource> updates = NamedPortUpdates();
  CalcGraph forward(kNode);
  Apply(forward, updates);
  const policy::Model want = forward.Model();
  std::reverse(updates.begin(), updates.end());
  {
    CalcGraph g(kNode);
    Apply(g, updates);
    EXPECT_EQ(g.Model(), want) << "reversed";
    DeleteAll(g, updates);
    EXPECT_EQ(g.Model(), policy::Model{});
  }
  ExpectAnyOrderGives(updates, want, 10, 7);
}

TEST(CalcGraphTest, NamedPortMembersFollowPortsLabelsAndRules) {
  CalcGraph g(kNode);
  Apply(g, NamedPortUpdates());
  auto find = [](const policy::Model& m, std::string_view sel, uint8_t proto,
                 const std::string& name) -> const policy::IpSet* {
    const std::string id = policy::NamedPortSetId(*selector::Parse(sel), proto, name);
    for (const auto& set : m.ip_sets) {
      if (set.id == id) return &set;
    }
    return nullptr;
  };
  const std::string db_in_ns1 = Canon("(projectcalico.org/namespace == 'ns1') && (app == 'db')");

  // db's http port moves to 8088: both http sets follow, nothing else changes.
  g.OnUpdate(WithPorts(
      Wep("ns1", "db", kNode, "cali-db", {"10.0.0.2/32", "fd00::2/128"}, {{"app", "db"}}),
      {Port("http", "TCP", 8088), Port("http", "UDP", 8081), Port("metrics", "TCP", 9090)}));
  policy::Model m = g.Model();
  ASSERT_NE(find(m, db_in_ns1, 6, "http"), nullptr);
  EXPECT_EQ(find(m, db_in_ns1, 6, "http")->port_members,
            (std::vector<policy::IpPortMember>{M("10.0.0.2", 6, 8088), M("fd00::2", 6, 8088)}));
  EXPECT_EQ(find(m, "all()", 6, "http")->port_members.size(), 5u);

  // web's label change deactivates the NP (it selected web), so the NP's sets go; web stays in the
  // all() set (all() does not care about labels).
  g.OnUpdate(WithPorts(Wep("ns1", "web", kNode, "cali-web", {"10.0.0.1/32"}, {{"app", "other"}}),
                       {Port("http", "TCP", 80)}));
  m = g.Model();
  EXPECT_EQ(find(m, db_in_ns1, 6, "http"), nullptr);
  ASSERT_NE(find(m, "all()", 6, "http"), nullptr);
  EXPECT_EQ(find(m, "all()", 6, "http")->port_members.size(), 5u);

  // A HEP dropping its ports and a deleted remote endpoint leave the all() set.
  g.OnUpdate(Hep("h1", {"192.168.0.1"}, {{"app", "db"}}));
  g.OnDelete("WorkloadEndpoint", "ns2", "remote-db");
  m = g.Model();
  EXPECT_EQ(find(m, "all()", 6, "http")->port_members,
            (std::vector<policy::IpPortMember>{M("10.0.0.1", 6, 80), M("10.0.0.2", 6, 8088),
                                               M("fd00::2", 6, 8088)}));

  // The GNP goes inactive (no local endpoint matches): its named-port sets disappear.
  g.OnUpdate(
      Gnp("db-in", {{"selector", "app == 'nothing'"},
                    {"ingress", {{{"action", "Allow"}, {"destination", {{"ports", {"http"}}}}}}}}));
  m = g.Model();
  EXPECT_TRUE(m.ip_sets.empty());

  // Everything back: the original model.
  Apply(g, NamedPortUpdates());
  EXPECT_EQ(g.Model().ip_sets, NamedPortSets());
}

// 10k endpoints (half local) x 1k policies; counts only, no timing assertions.
TEST(CalcGraphTest, Scale) {
  constexpr int kEndpoints = 10000;
  constexpr int kPolicies = 1000;
  constexpr int kApps = 500;
  const auto start = std::chrono::steady_clock::now();
  CalcGraph g(kNode);
  g.OnUpdate(Prof("kns", {{"labelsToApply", {{"team", "t"}}}, {"ingress", {Rule("Allow")}}}));
  for (int i = 0; i < kPolicies; ++i) {
    g.OnUpdate(
        Gnp(fmt::format("p{:04}", i),
            {{"order", i % 7},
             {"selector", fmt::format("app == 'app-{}'", i % kApps)},
             {"ingress", {RuleFrom("Allow", fmt::format("app == 'app-{}'", (i + 1) % kApps))}},
             {"egress", {RuleTo("Allow", "has(team)")}}}));
  }
  for (int i = 0; i < kEndpoints; ++i) {
    g.OnUpdate(Wep(fmt::format("ns-{}", i % 20), fmt::format("wep-{}", i),
                   i % 2 == 0 ? kNode : kOtherNode, fmt::format("cali{:05}", i),
                   {fmt::format("10.{}.{}.{}/32", i / 65536, (i / 256) % 256, i % 256)},
                   {{"app", fmt::format("app-{}", i % kApps)}}, {"kns"}));
  }
  const auto built = std::chrono::steady_clock::now();
  const policy::Model m = g.Model();
  const auto modelled = std::chrono::steady_clock::now();
  // A label change of one endpoint, then the model again.
  g.OnUpdate(
      Wep("ns-0", "wep-0", kNode, "cali00000", {"10.0.0.0/32"}, {{"app", "app-1"}}, {"kns"}));
  const policy::Model m2 = g.Model();
  const auto updated = std::chrono::steady_clock::now();
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  fmt::print(stderr, "build {} ms, Model() {} ms, update + Model() {} ms\n", ms(built - start),
             ms(modelled - built), ms(updated - modelled));

  ASSERT_EQ(m.endpoints.size(), static_cast<std::size_t>(kEndpoints / 2));
  // Local endpoints have even indexes, so only even apps are selected: policies i with i%500 even.
  EXPECT_EQ(m.policies.size(), static_cast<std::size_t>(kPolicies / 2));
  // Rule selectors: app-(i+1) for the active (even) i, i.e. the 250 odd apps, plus has(team).
  ASSERT_EQ(m.ip_sets.size(), static_cast<std::size_t>(kApps / 2 + 1));
  for (const auto& set : m.ip_sets) {
    EXPECT_EQ(set.members.size(), set.selector == "has(team)" ? kEndpoints : kEndpoints / kApps)
        << set.selector;
  }
  for (const auto& ep : m.endpoints) {
    ASSERT_EQ(ep.ingress_tiers.size(), 1u);
    EXPECT_EQ(ep.ingress_tiers[0].policies.size(), 2u);  // i and i + 500.
    EXPECT_EQ(ep.egress_tiers[0].policies.size(), 2u);
  }
  EXPECT_EQ(m.profiles.size(), 1u);
  ASSERT_EQ(m2.endpoints.size(), m.endpoints.size());
  EXPECT_EQ(m2.policies.size(), m.policies.size() + 2);  // app-1's two policies became active.
}

// --- Full resync from the datastore
// ----------------------------------------------------------------

TEST(ModelFromDatastoreTest, ListsEverythingAndFeedsTheGraph) {
  datastore::MemBackend backend;
  datastore::Client client(backend);
  ASSERT_TRUE(client.EnsureInitialized());
  auto create = [&](Resource r) {
    auto created = client.Create(std::move(r));
    ASSERT_TRUE(created) << created.error().message();
  };
  create(Prof("kns.ns1", {{"labelsToApply", {{"team", "a"}}}}));
  Resource wep("WorkloadEndpoint", "", "ns1");
  wep.metadata()["labels"] = Json{{"app", "db"}};
  wep.spec() = Json{{"node", kNode},
                    {"orchestrator", "cni"},
                    {"containerID", "abc123"},
                    {"endpoint", "eth0"},
                    {"interfaceName", "cali-db"},
                    {"ipNetworks", {"10.0.0.1/32"}},
                    {"profiles", {"kns.ns1", "projectcalico-default-allow"}}};
  create(wep);
  Resource remote = wep;
  remote.metadata()["labels"] = Json{{"app", "web"}};
  remote.spec()["node"] = kOtherNode;
  remote.spec()["containerID"] = "def456";
  remote.spec()["interfaceName"] = "cali-web";
  remote.spec()["ipNetworks"] = {"10.0.1.1/32"};
  create(remote);
  create(Np("ns1", "allow-web",
            {{"selector", "app == 'db'"}, {"ingress", {RuleFrom("Allow", "app == 'web'")}}}));
  create(Gnp("team-a", {{"selector", "team == 'a'"}, {"egress", {RuleTo("Allow", "all()")}}}));
  Resource staged("StagedNetworkPolicy", "staged", "ns1");
  staged.spec() = Json{{"selector", "all()"}, {"ingress", {Rule("Deny")}}};
  create(staged);
  create(NetSet("", "ext", {{"app", "web"}}, {"192.168.0.0/24"}));

  auto m = ModelFromDatastore(client, kNode);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->endpoints.size(), 1u);
  const policy::Endpoint& ep = m->endpoints[0];
  EXPECT_EQ(ep.interface_name, "cali-db");
  EXPECT_EQ(ep.labels.at("team"), "a");
  EXPECT_EQ(ep.ingress_tiers,
            (std::vector<policy::TierRef>{{.name = "default", .policies = {"ns1/allow-web"}}}));
  EXPECT_EQ(ep.egress_tiers,
            (std::vector<policy::TierRef>{{.name = "default", .policies = {"team-a"}}}));
  EXPECT_EQ(PolicyIds(*m), (std::vector<std::string>{"ns1/allow-web", "team-a"}));
  ASSERT_EQ(m->profiles.size(), 2u);
  EXPECT_EQ(m->profiles[1].id, "projectcalico-default-allow");
  EXPECT_EQ(m->profiles[1].ingress, Json::array({Rule("Allow")}));
  std::vector<policy::IpSet> want = {
      Set("(projectcalico.org/namespace == 'ns1') && (app == 'web')", {"10.0.1.1/32"}),
      Set("all()", {"10.0.0.1/32", "10.0.1.1/32", "192.168.0.0/24"}),
  };
  SortSets(want);
  EXPECT_EQ(m->ip_sets, want);
  auto ruleset = policy::RenderRuleset(*m);
  EXPECT_TRUE(ruleset) << ruleset.error().message();

  // A failing List is reported with the kind.
  backend.FailNext(Error(ErrorCode::kUnavailable, "boom"));
  auto failed = ModelFromDatastore(client, kNode);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(failed.error().message().find("list Tier"), std::string::npos);
}

}  // namespace
}  // namespace calico::calc

namespace calico::calc {
namespace {

// TakeChanges: a change of an existing policy's rules alone is named (and PatchPolicyRules puts
// the new rules into the previous model, giving what Model() gives); a change of its selector,
// order or rule IP sets, a new policy, a delete or an endpoint update is `other`.
TEST(CalcGraphChangesTest, RulesAloneAreNamedEverythingElseIsOther) {
  CalcGraph g(kNode);
  g.OnUpdate(Wep("ns1", "a", kNode, "cali1", {"10.0.0.1/32"}, {{"app", "web"}}));
  auto policy = [](int port, const std::string& selector, const std::string& source) {
    Json rule{{"action", "Allow"}, {"protocol", "TCP"}, {"destination", {{"ports", {port}}}}};
    if (!source.empty()) rule["source"] = {{"selector", source}};
    return Gnp("p1", {{"order", 10}, {"selector", selector}, {"ingress", {rule}}});
  };
  g.OnUpdate(policy(80, "app == 'web'", "role == 'db'"));
  EXPECT_TRUE(g.TakeChanges().other) << "the first updates are not a rules-only change";
  policy::Model before = g.Model();

  g.OnUpdate(policy(81, "app == 'web'", "role == 'db'"));
  CalcGraph::Changes changes = g.TakeChanges();
  EXPECT_FALSE(changes.other);
  ASSERT_EQ(changes.policy_rules.size(), 1u);
  auto ids = g.PatchPolicyRules(before, changes);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, std::vector<std::string>{"p1"});
  EXPECT_EQ(before, g.Model());
  EXPECT_TRUE(g.TakeChanges().empty());

  g.OnUpdate(policy(81, "app == 'db'", "role == 'db'"));  // Another selector.
  EXPECT_TRUE(g.TakeChanges().other);
  g.OnUpdate(policy(81, "app == 'db'", "role == 'web'"));  // Another IP set.
  EXPECT_TRUE(g.TakeChanges().other);
  g.OnUpdate(Gnp("p2", {{"selector", "all()"}}));  // A new policy.
  EXPECT_TRUE(g.TakeChanges().other);
  g.OnUpdate(Wep("ns1", "a", kNode, "cali1", {"10.0.0.1/32"}, {{"app", "db"}}));
  EXPECT_TRUE(g.TakeChanges().other);
  g.OnDelete("GlobalNetworkPolicy", "", "p2");
  EXPECT_TRUE(g.TakeChanges().other);
}

}  // namespace
}  // namespace calico::calc
