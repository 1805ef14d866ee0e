// The agent's dirty-chain path (Agent::ProgramPolicyRules: a batch that changed some policies'
// rules alone re-renders only their chains and patches the applied ruleset) against the whole
// render: after every step of a random walk over policies, tiers and endpoints, what the agent
// applied must be exactly the ruleset a full render of the same datastore gives. This is the
// guard that the dirty tracking (calc::CalcGraph::Changes, policy::RenderPolicyRulesChains)
// misses nothing.
#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "calico/agent/agent.h"
#include "calico/calc/calc_graph.h"
#include "calico/datastore/client.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/nft_model/ruleset.h"
#include "calico/policy/ruleset_renderer.h"

namespace calico::agent {
namespace {

using model::Json;
using model::Resource;

// The kernel as the text of what it holds; counts which path each apply took.
class FakeKernel final : public PolicyProgrammer {
 public:
  Status ApplyFull(const nft_model::NftRuleset& ruleset) override {
    ++full;
    kernel = nft_model::NftRulesetText(ruleset);
    return OkStatus();
  }
  Status ApplyIncremental(const nft_model::NftRuleset& from,
                          const nft_model::NftRuleset& to) override {
    ++incremental;
    EXPECT_EQ(nft_model::NftRulesetText(from), kernel)
        << "incremental update from something other than the kernel state";
    // Only what differs is sent: an update that changes nothing is not one.
    EXPECT_FALSE(nft_model::DiffNftRulesets(from, to).empty());
    kernel = nft_model::NftRulesetText(to);
    return OkStatus();
  }
  Status ApplyChains(const nft_model::NftRuleset& from,
                     const std::map<std::string, nft_model::NftChain>& chains) override {
    ++by_chains;
    if (fail_chains) return Unavailable("injected");
    --incremental;  // The default below counts itself as an incremental update.
    // What the nftables programmer sends (NftPolicyProgrammer): the same transaction as the
    // whole rulesets' diff.
    const auto [chains_from, chains_to] = ChainsOnly(from, chains);
    EXPECT_EQ(nft_model::DiffNftRulesets(chains_from, chains_to).commands,
              nft_model::DiffNftRulesets(from, WithChainRules(from, chains)).commands);
    return PolicyProgrammer::ApplyChains(from, chains);
  }
  Result<bool> Matches() override { return true; }
  std::string kernel;
  int full = 0;
  int incremental = 0;
  int by_chains = 0;
  bool fail_chains = false;
};

class NoRoutes final : public RouteProgrammer {
 public:
  Result<RouteSyncStats> Sync(const std::set<OwnedRoute>&) override { return RouteSyncStats{}; }
  Status ConfigureInterface(const std::string&, bool, bool) override { return OkStatus(); }
  Status SetRpFilter(const std::string&, bool) override { return OkStatus(); }
  void SetOptions(const RouteOptions&) override {}
};

// Agent "node1" over the given store, programming into a FakeKernel, routes discarded.
struct Node {
  explicit Node(datastore::Backend& store) : agent(Config(), store, kernel, routes, metrics) {}
  static AgentConfig Config() {
    AgentConfig cfg;
    cfg.node_name = "node1";
    return cfg;
  }
  FakeKernel kernel;
  NoRoutes routes;
  Metrics metrics;
  Agent agent;
};

// A random walk over a small cluster: most steps change one policy's rules alone (the dirty
// path), the rest everything else the graph knows (selectors, orders, tiers, policies added and
// removed, endpoints and their labels), and rules that move a policy into or out of a merged
// lookup, into Pass or out of Allow, or onto new IP sets (the cases that must fall back).
class Walk {
 public:
  explicit Walk(datastore::Client& client) : client_(client) {}

  Json Rule() {
    const int app = Pick(4);
    const int port = 1000 + Pick(6);
    switch (Pick(7)) {
      case 0:  // Simple, mergeable: protocol and port.
        return {{"action", "Allow"}, {"protocol", "TCP"}, {"destination", {{"ports", {port}}}}};
      case 1:  // Simple, mergeable: a source net.
        return {{"action", "Allow"},
                {"source", {{"nets", {fmt::format("192.0.{}.0/24", Pick(4))}}}}};
      case 2:  // An IP set (the selector's set exists only while a rule uses it).
        return {{"action", "Deny"}, {"source", {{"selector", fmt::format("app == 'a{}'", app)}}}};
      case 3:
        return {{"action", "Pass"}};
      case 4:
        return {{"action", "Allow"},
                {"protocol", "UDP"},
                {"source", {{"selector", fmt::format("app == 'a{}'", app)}}},
                {"destination", {{"ports", {port}}}}};
      case 5:
        return {{"action", "Deny"}, {"protocol", "TCP"}, {"destination", {{"ports", {port}}}}};
      default:
        return {{"action", "Allow"},
                {"protocol", "TCP"},
                {"source", {{"selector", "role == 'db'"}}},
                {"destination", {{"ports", {port}}}}};
    }
  }
  Json Rules() {
    Json rules = Json::array();
    for (int i = Pick(4); i > 0; --i)
      rules.push_back(Rule());
    return rules;
  }
  // Other ports and the odd action, the same IP sets (Felix's common case: a port opened).
  void Tweak(Json& rules) {
    for (Json& rule : rules) {
      if (rule.contains("destination") && rule["destination"].contains("ports")) {
        rule["destination"]["ports"] = {1000 + Pick(6)};
      }
      if (Pick(4) == 0 && rule["action"] != "Pass") {
        rule["action"] = rule["action"] == "Allow" ? "Deny" : "Allow";
      }
    }
    // Not to or from no rules: that changes the policy's defaulted types (the full path).
    if (Pick(4) == 0 && rules.size() > 1) rules.erase(rules.size() - 1);
    if (Pick(4) == 0 && !rules.empty()) rules.push_back({{"action", "Deny"}, {"protocol", "UDP"}});
  }
  Json Spec() {
    Json spec{
        {"order", Pick(5) * 10},
        {"selector", Pick(4) == 0 ? std::string("all()") : fmt::format("app == 'a{}'", Pick(3))},
        {"ingress", Rules()},
        {"egress", Rules()}};
    if (Pick(3) == 0) spec["tier"] = "security";
    return spec;
  }
  std::string PolicyName(const Json& spec, int i) const {
    const std::string tier = spec.value("tier", "default");
    return tier == "default" ? fmt::format("p{}", i) : fmt::format("{}.p{}", tier, i);
  }

  void PutPolicy(int i, Json spec) {
    const bool global = i % 2 == 0;
    Resource p(global ? "GlobalNetworkPolicy" : "NetworkPolicy", PolicyName(spec, i),
               global ? "" : "default");
    p.spec() = std::move(spec);
    auto it = policies_.find(i);
    if (it != policies_.end() && PolicyName(it->second, i) != p.name()) {
      // A tier change is a rename (Calico prefixes tiered policy names with their tier).
      DeletePolicy(i);
      it = policies_.end();
    }
    auto done = client_.Apply(p);
    ASSERT_TRUE(done) << done.error().message();
    policies_[i] = p.spec();
  }
  void DeletePolicy(int i) {
    const bool global = i % 2 == 0;
    auto st = client_.Delete(global ? "GlobalNetworkPolicy" : "NetworkPolicy",
                             global ? "" : "default", PolicyName(policies_.at(i), i));
    ASSERT_TRUE(st) << st.error().message();
    policies_.erase(i);
  }
  void PutEndpoint(int i) {
    const bool local = i % 3 != 2;
    const std::string id = fmt::format("{:04x}", i);
    Resource wep("WorkloadEndpoint", fmt::format("node{}-k8s-pod{}-eth0", local ? 1 : 2, i),
                 "default");
    Json labels{{"app", fmt::format("a{}", Pick(4))}};
    if (Pick(2) == 0) labels["role"] = "db";
    wep.metadata()["labels"] = labels;
    wep.spec() = Json{{"orchestrator", "k8s"},
                      {"node", local ? "node1" : "node2"},
                      {"pod", fmt::format("pod{}", i)},
                      {"endpoint", "eth0"},
                      {"interfaceName", "cali" + id},
                      {"ipNetworks", {fmt::format("10.65.{}.{}/32", i / 200, i % 200 + 1)}},
                      {"profiles", {"kns.default"}}};
    auto done = client_.Apply(wep);
    ASSERT_TRUE(done) << done.error().message();
    endpoints_.insert(i);
  }

  // One step; returns whether it changed the rules of existing policies alone.
  bool Step() {
    const int op = Pick(100);
    if (op < 60 && !policies_.empty()) {
      // One or (a burst in one batch) two policies' rules.
      for (int n = Pick(4) == 0 ? 2 : 1; n > 0; --n) {
        const int i = AnyPolicy();
        Json spec = policies_.at(i);
        if (Pick(3) == 0) {
          spec["ingress"] = Rules();
          if (Pick(2) == 0) spec["egress"] = Rules();
        } else {
          Tweak(spec["ingress"]);
          Tweak(spec["egress"]);
        }
        PutPolicy(i, std::move(spec));
      }
      return true;
    }
    if (op < 70 && !policies_.empty()) {
      const int i = AnyPolicy();
      Json spec = Spec();
      PutPolicy(i, std::move(spec));
    } else if (op < 80) {
      PutPolicy(next_policy_++, Spec());
    } else if (op < 87 && !policies_.empty()) {
      DeletePolicy(AnyPolicy());
    } else if (op < 95) {
      PutEndpoint(Pick(12));  // Labels of an endpoint, or a new one.
    } else {
      Resource tier("Tier", "security");
      tier.spec() = Json{{"order", Pick(2) == 0 ? 100 : 2000000},
                         {"defaultAction", Pick(2) == 0 ? "Pass" : "Deny"}};
      auto done = client_.Apply(tier);
      EXPECT_TRUE(done) << done.error().message();
    }
    return false;
  }

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  int AnyPolicy() {
    auto it = policies_.begin();
    std::advance(it, Pick(static_cast<int>(policies_.size())));
    return it->first;
  }

  int next_policy_ = 0;

 private:
  datastore::Client& client_;
  std::mt19937 rng_{20261208};
  std::map<int, Json> policies_;
  std::set<int> endpoints_;
};

TEST(AgentIncrementalTest, RandomChangesGiveTheFullRendersRuleset) {
  datastore::MemBackend store;
  datastore::Client client(store);
  ASSERT_TRUE(client.EnsureInitialized());
  Resource security("Tier", "security");
  security.spec() = Json{{"order", 100}, {"defaultAction", "Pass"}};
  ASSERT_TRUE(client.Create(security));
  Resource profile("Profile", "kns.default");
  profile.spec() = Json{{"ingress", Json::array({{{"action", "Allow"}}})},
                        {"egress", Json::array({{{"action", "Allow"}}})}};
  ASSERT_TRUE(client.Create(profile));
  Walk walk(client);
  for (int i = 0; i < 9; ++i)
    walk.PutEndpoint(i);
  for (int i = 0; i < 12; ++i)
    walk.PutPolicy(walk.next_policy_++, walk.Spec());

  Node node(store);
  FakeKernel& kernel = node.kernel;
  Agent& agent = node.agent;
  ASSERT_TRUE(agent.FullSync());

  int rules_only_steps = 0;
  for (int step = 0; step < 400; ++step) {
    SCOPED_TRACE(fmt::format("step {}", step));
    if (walk.Step()) ++rules_only_steps;
    for (int i = 0; i < 2; ++i)
      ASSERT_TRUE(agent.Step(std::chrono::milliseconds(1)));
    auto model = calc::ModelFromDatastore(client, "node1");
    ASSERT_TRUE(model) << model.error().message();
    policy::RenderReport report;
    auto full = policy::RenderRulesetParts(*model, Node::Config().render, nullptr, &report);
    ASSERT_TRUE(full) << full.error().message();
    ASSERT_EQ(nft_model::NftRulesetText(agent.applied()), nft_model::NftRulesetText(*full));
    ASSERT_EQ(kernel.kernel, nft_model::NftRulesetText(*full));
    EXPECT_EQ(agent.model(), *model);
  }
  // The walk went through both paths: rules-only batches by their chains alone (57 with this
  // seed; most of the others fall back, as they should: simple rules are merged lookups, an
  // action flip changes what the endpoint chains return on, new selectors are new IP sets,
  // added or removed rules change defaulted types), everything else whole.
  EXPECT_GT(rules_only_steps, 150);
  EXPECT_GT(kernel.by_chains, 40);
  EXPECT_GT(kernel.incremental, 50);
  EXPECT_EQ(kernel.full, 1);
}

// A refused chains-only transaction: the agent renders and applies the whole ruleset instead.
TEST(AgentIncrementalTest, RefusedChainsUpdateFallsBackToTheWholeRuleset) {
  datastore::MemBackend store;
  datastore::Client client(store);
  ASSERT_TRUE(client.EnsureInitialized());
  Resource profile("Profile", "kns.default");
  profile.spec() = Json{{"ingress", Json::array({{{"action", "Allow"}}})}};
  ASSERT_TRUE(client.Create(profile));
  Walk walk(client);
  walk.PutEndpoint(0);
  auto policy = [](int port) {
    return Json{{"selector", "all()"},
                {"ingress",
                 {{{"action", "Allow"},
                   {"protocol", "TCP"},
                   {"source", {{"selector", "role == 'db'"}}},
                   {"destination", {{"ports", {port}}}}}}}};
  };
  walk.PutPolicy(0, policy(80));
  Node node(store);
  FakeKernel& kernel = node.kernel;
  Agent& agent = node.agent;
  ASSERT_TRUE(agent.FullSync());
  kernel.fail_chains = true;
  walk.PutPolicy(0, policy(81));
  ASSERT_TRUE(agent.Step(std::chrono::milliseconds(1)));
  EXPECT_EQ(kernel.by_chains, 1) << "a port change is a rules-only change";
  EXPECT_EQ(kernel.incremental, 1) << "no whole-ruleset update after the refused one";
  EXPECT_NE(kernel.kernel.find("th dport 81"), std::string::npos) << kernel.kernel;
  EXPECT_EQ(kernel.kernel, nft_model::NftRulesetText(agent.applied()));
  // The next change goes by its chains again.
  kernel.fail_chains = false;
  walk.PutPolicy(0, policy(82));
  ASSERT_TRUE(agent.Step(std::chrono::milliseconds(1)));
  EXPECT_EQ(kernel.by_chains, 2);
  EXPECT_EQ(kernel.incremental, 1) << "the whole ruleset again";
  EXPECT_NE(kernel.kernel.find("th dport 82"), std::string::npos) << kernel.kernel;
}

}  // namespace
}  // namespace calico::agent
