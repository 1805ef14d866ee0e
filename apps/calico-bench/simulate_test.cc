// The simulation's pieces on the fake datastore: the data it writes, how it reads the changed
// policy's version from a model, and that its agents (agent::Agent without a dataplane, fed by
// their watch) reach the model a real agent computes from a full list of the same store.
#include "simulate.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "calico/agent/agent.h"
#include "calico/base/testing/status_matchers.h"
#include "calico/calc/calc_graph.h"
#include "calico/datastore/client.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::bench {
namespace {

using calico::testing::IsOk;

// The real agent's kernel seams as a recording fake: the ruleset it was last given.
class RecordingKernel final : public agent::PolicyProgrammer {
 public:
  Status ApplyFull(const nft_model::NftRuleset& r) override {
    last = r;
    return OkStatus();
  }
  Status ApplyIncremental(const nft_model::NftRuleset&, const nft_model::NftRuleset& to) override {
    last = to;
    return OkStatus();
  }
  Result<bool> Matches() override { return true; }
  nft_model::NftRuleset last;
};
class NoRoutes final : public agent::RouteProgrammer {
 public:
  Result<agent::RouteSyncStats> Sync(const std::set<agent::OwnedRoute>& desired) override {
    routes = desired;
    return agent::RouteSyncStats{};
  }
  Status ConfigureInterface(const std::string&, bool, bool) override { return OkStatus(); }
  std::set<agent::OwnedRoute> routes;
};

// A real agent's model after a full list of `store` (what calico-node computes at start-up).
policy::Model RealAgentModel(datastore::Backend& store, const std::string& node) {
  RecordingKernel kernel;
  NoRoutes routes;
  agent::Metrics metrics;
  agent::AgentConfig cfg;
  cfg.node_name = node;
  agent::Agent a(std::move(cfg), store, kernel, routes, metrics);
  EXPECT_THAT(a.FullSync(), IsOk());
  EXPECT_FALSE(kernel.last.chains.empty()) << node << ": the real agent programmed nothing";
  return a.model();
}

TEST(SimulateTest, ChangeVersionIsReadFromTheModel) {
  datastore::MemBackend store;
  datastore::Client client(store);
  ASSERT_THAT(FillSimPolicies(client, 2), IsOk());
  ASSERT_THAT(AddSimNode(store, 0, 1), IsOk());
  ASSERT_THAT(client.Apply(SimChangePolicy(7)), IsOk());
  auto model = calc::ModelFromDatastore(client, SimNodeName(0));
  ASSERT_THAT(model, IsOk());
  EXPECT_EQ(SimChangeVersion(*model), 7);
  // A node without endpoints has no active policy: no version.
  ASSERT_THAT(client.Create(model::Resource("Node", "empty-node")), IsOk());
  auto empty = calc::ModelFromDatastore(client, "empty-node");
  ASSERT_THAT(empty, IsOk());
  EXPECT_EQ(SimChangeVersion(*empty), std::nullopt);
}

TEST(SimulateTest, NodesGetIpamAddressesAndEndpoints) {
  datastore::MemBackend store;
  datastore::Client client(store);
  ASSERT_THAT(FillSimPolicies(client, 1), IsOk());
  ASSERT_THAT(AddSimNode(store, 0, 3), IsOk());
  ASSERT_THAT(AddSimNode(store, 1, 3), IsOk());
  auto weps = client.List("WorkloadEndpoint", "default");
  ASSERT_THAT(weps, IsOk());
  ASSERT_EQ(weps->size(), 6u);
  std::set<std::string> addresses, interfaces;
  for (const auto& w : *weps) {
    addresses.insert(w.spec()["ipNetworks"][0].get<std::string>());
    interfaces.insert(w.spec()["interfaceName"].get<std::string>());
  }
  EXPECT_EQ(addresses.size(), 6u) << "IPAM gave an address twice";
  EXPECT_EQ(interfaces.size(), 6u) << "two endpoints share an interface name";
  // Each node claimed its own block (an affinity per node).
  auto affinities = store.List("/calico/ipam/v2/host/");
  ASSERT_THAT(affinities, IsOk());
  EXPECT_EQ(affinities->kvs.size(), 2u);
  auto model = calc::ModelFromDatastore(client, SimNodeName(1));
  ASSERT_THAT(model, IsOk());
  EXPECT_EQ(model->endpoints.size(), 3u);
}

// Agents fed by their watch through node joins, an endpoint leaving and policy changes hold the
// model a real agent lists from the same store; each has seen the last version of the changed
// policy.
TEST(SimulateTest, WatchingAgentsReachTheRealAgentsModel) {
  datastore::MemBackend store;
  datastore::Client client(store);
  ASSERT_THAT(FillSimPolicies(client, 5), IsOk());
  constexpr int kNodes = 4;
  for (int i = 0; i < kNodes; ++i) {
    ASSERT_THAT(AddSimNode(store, i, 2), IsOk());
  }
  std::vector<std::unique_ptr<SimAgent>> agents;
  for (int i = 0; i < kNodes; ++i) {
    agents.push_back(std::make_unique<SimAgent>(SimNodeName(i), store, 3));
    ASSERT_THAT(agents.back()->FullSync(), IsOk());
    EXPECT_EQ(agents.back()->version(), 0);
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (auto& a : agents)
    threads.emplace_back([&stop, p = a.get()] { p->Run(stop); });
  ASSERT_THAT(client.Apply(SimChangePolicy(1)), IsOk());
  // Remote endpoints change IP set members on every node; one endpoint of node 0 leaves.
  ASSERT_THAT(AddSimNode(store, kNodes, 2), IsOk());
  auto weps = client.List("WorkloadEndpoint", "default");
  ASSERT_THAT(weps, IsOk());
  for (const auto& w : *weps) {
    if (w.spec()["node"] == SimNodeName(0)) {
      ASSERT_THAT(client.Delete("WorkloadEndpoint", "default", w.name()), IsOk());
      break;
    }
  }
  ASSERT_THAT(client.Apply(SimChangePolicy(3)), IsOk());
  // Events arrive in revision order: an agent holding version 3 has applied everything before it.
  // (A liveness bound only, generous for a loaded machine; no time is asserted.)
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto all_there = [&] {
    for (const auto& a : agents) {
      if (a->version() < 3) return false;
    }
    return true;
  };
  while (!all_there() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (auto& t : threads)
    t.join();
  for (const auto& a : agents) {
    SCOPED_TRACE(a->node());
    EXPECT_EQ(a->version(), 3);
    EXPECT_EQ(a->errors(), 0);
    EXPECT_NE(a->seen_at(3), SimAgent::Clock::time_point{});
    const policy::Model real = RealAgentModel(store, a->node());
    EXPECT_EQ(SimChangeVersion(real), 3);
    EXPECT_FALSE(real.ip_sets.empty());
    EXPECT_TRUE(a->model() == real) << "the watching agent's model differs from a full list's";
  }
  EXPECT_EQ(agents[0]->model().endpoints.size(), 1u);
  EXPECT_EQ(agents[1]->model().endpoints.size(), 2u);
}

}  // namespace
}  // namespace calico::bench
