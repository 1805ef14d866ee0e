// The agent against the in-memory store and recording fakes of its kernel seams: what it programs
// after a full sync, after each change, on failures, on drift and after compaction.
#include "calico/agent/agent.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "calico/agent/config.h"
#include "calico/agent/http.h"
#include "calico/agent/nat.h"
#include "calico/agent/vxlan_model.h"
#include "calico/base/log.h"
#include "calico/base/testing/fake_clock.h"
#include "calico/datastore/client.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/policy/host_endpoints.h"

namespace calico::agent {
namespace {

using model::Json;
using model::Resource;

// The kernel as the text of what it holds.
class FakePolicy final : public PolicyProgrammer {
 public:
  Status ApplyFull(const nft_model::NftRuleset& ruleset) override {
    ++full;
    kernel = nft_model::NftRulesetText(ruleset);
    applied = kernel;
    return OkStatus();
  }
  Status ApplyIncremental(const nft_model::NftRuleset& from,
                          const nft_model::NftRuleset& to) override {
    ++incremental;
    if (fail_incremental) return Unavailable("injected");
    EXPECT_EQ(nft_model::NftRulesetText(from), kernel)
        << "incremental update from something other than the kernel state";
    kernel = nft_model::NftRulesetText(to);
    applied = kernel;
    return OkStatus();
  }
  Result<bool> Matches() override { return kernel == applied; }
  std::string applied;
  std::string kernel;
  int full = 0;
  int incremental = 0;
  bool fail_incremental = false;
};

class FakeRoutes final : public RouteProgrammer {
 public:
  Result<RouteSyncStats> Sync(const std::set<OwnedRoute>& desired) override {
    RouteSyncStats stats;
    for (const auto& r : desired)
      stats.added += kernel.count(r) == 0 ? 1 : 0;
    for (const auto& r : kernel)
      stats.removed += desired.count(r) == 0 ? 1 : 0;
    kernel = desired;
    return stats;
  }
  Status ConfigureInterface(const std::string& ifname, bool v4, bool v6) override {
    configured[ifname] = {v4, v6};
    return OkStatus();
  }
  Status SetRpFilter(const std::string& ifname, bool off) override {
    rp_filter_off[ifname] = off;
    return OkStatus();
  }
  void SetOptions(const RouteOptions& o) override { options = o; }
  RouteOptions options;
  std::set<OwnedRoute> kernel;
  std::map<std::string, std::pair<bool, bool>> configured;
  std::map<std::string, bool> rp_filter_off;  // Last SetRpFilter per interface.
};

class AgentTest : public ::testing::Test {
 protected:
  AgentTest() : client_(store_) {
    EXPECT_TRUE(client_.EnsureInitialized());
    AgentConfig cfg;
    cfg.node_name = "node1";
    cfg.health = &health_;
    agent_ = std::make_unique<Agent>(cfg, store_, policy_, routes_, metrics_);
  }
  void AddEndpoint(const std::string& id, const std::string& ip, const std::string& node = "node1",
                   const std::string& profile = "net1") {
    Resource wep("WorkloadEndpoint", "", "default");
    wep.spec() = Json{{"orchestrator", "cni"},
                      {"node", node},
                      {"containerID", id},
                      {"endpoint", "eth0"},
                      {"interfaceName", "cali" + id},
                      {"ipNetworks", Json::array({ip + "/32"})},
                      {"profiles", Json::array({profile})}};
    auto made = client_.Create(wep);
    ASSERT_TRUE(made) << made.error().message();
  }
  void AddProfile(const std::string& name) {
    Resource p("Profile", name);
    p.spec() = Json{
        {"ingress",
         Json::array({{{"action", "Allow"}, {"source", {{"selector", "has(" + name + ")"}}}}})},
        {"egress", Json::array({{{"action", "Allow"}}})},
        {"labelsToApply", {{name, ""}}}};
    ASSERT_TRUE(client_.Create(p));
  }
  // Runs Step until the watch is drained.
  void Drain() {
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(agent_->Step(std::chrono::milliseconds(20)));
  }
  bool HasRoute(const std::string& cidr, const std::string& ifname, bool blackhole = false) {
    return routes_.kernel.count({*net::CIDR::Parse(cidr), ifname, blackhole}) > 0;
  }

  datastore::MemBackend store_;
  datastore::Client client_;
  FakePolicy policy_;
  FakeRoutes routes_;
  Metrics metrics_;
  calico::testing::FakeClock clock_;
  HealthAggregator health_{clock_};
  std::unique_ptr<Agent> agent_;
};

TEST_F(AgentTest, FullSyncProgramsLocalEndpointsProfilesAndRoutes) {
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  AddEndpoint("bbbb", "10.65.1.2", "node2");  // remote: no chain, no route, but in IP sets
  ASSERT_TRUE(store_.Put(
      datastore::BlockAffinityKey{.cidr = *net::CIDR::Parse("10.65.0.0/26"), .host = "node1"}
          .Format(),
      R"({"state":"confirmed"})"));
  EXPECT_FALSE(health_.Summary().ready);
  ASSERT_TRUE(agent_->FullSync());
  EXPECT_TRUE(health_.Summary().ready);
  EXPECT_EQ(policy_.full, 1);
  EXPECT_NE(policy_.kernel.find("caliaaaa"), std::string::npos);
  EXPECT_EQ(policy_.kernel.find("calibbbb"), std::string::npos);
  EXPECT_NE(policy_.kernel.find("net1"), std::string::npos) << "profile chain missing";
  EXPECT_TRUE(HasRoute("10.65.0.2/32", "caliaaaa"));
  EXPECT_TRUE(HasRoute("10.65.0.0/26", "", true)) << "no blackhole for the host's own block";
  EXPECT_EQ(routes_.kernel.size(), 2u);
  EXPECT_EQ(routes_.configured.count("caliaaaa"), 1u) << "host interface sysctls not applied";
  EXPECT_EQ(routes_.configured.count("calibbbb"), 0u);
  ASSERT_EQ(agent_->model().endpoints.size(), 1u);
  // The remote endpoint is a member of the profile's selector set.
  bool remote_in_set = false;
  for (const auto& set : agent_->model().ip_sets) {
    for (const auto& m : set.members)
      remote_in_set = remote_in_set || m.String() == "10.65.1.2/32";
  }
  EXPECT_TRUE(remote_in_set);
  std::string prom = metrics_.Render();
  EXPECT_NE(prom.find("felix_active_local_endpoints 1"), std::string::npos) << prom;
  // Every rule line with a counter in the programmed table is counted.
  int counted = 0;
  std::istringstream lines(policy_.kernel);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\t\t") == 0 && line.find("counter") != std::string::npos) ++counted;
  }
  EXPECT_GT(counted, 0);
  EXPECT_NE(prom.find("calico_node_nft_rules " + std::to_string(counted)), std::string::npos)
      << prom;
  // Cluster-wide counts as Felix's stats collector: two endpoints on two hosts (no Node
  // resources), the three tiers EnsureInitialized made, one profile, one full list.
  EXPECT_NE(prom.find("felix_cluster_num_workload_endpoints 2\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find("felix_cluster_num_hosts 2\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find("felix_cluster_num_tiers 3\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find("felix_cluster_num_profiles 1\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find("felix_cluster_num_policies 0\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find("felix_resyncs_started 1\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find("felix_calc_graph_update_time_seconds_count "), std::string::npos) << prom;
  // A host's last endpoint goes: it is no longer counted.
  auto weps = client_.List("WorkloadEndpoint", "default");
  ASSERT_TRUE(weps);
  for (const Resource& w : *weps) {
    if (w.spec().value("node", "") == "node2") {
      ASSERT_TRUE(client_.Delete("WorkloadEndpoint", "default", w.name()));
    }
  }
  Drain();
  prom = metrics_.Render();
  EXPECT_NE(prom.find("felix_cluster_num_workload_endpoints 1\n"), std::string::npos) << prom;
  EXPECT_NE(prom.find("felix_cluster_num_hosts 1\n"), std::string::npos) << prom;
}

TEST_F(AgentTest, EachChangeIsOneIncrementalTransactionAndUnrelatedChangesNone) {
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  ASSERT_TRUE(agent_->FullSync());
  std::string before = policy_.kernel;

  Resource gnp("GlobalNetworkPolicy", "deny-ping");
  gnp.spec() = Json{{"selector", "has(net1)"},
                    {"ingress", Json::array({{{"action", "Deny"}, {"protocol", "ICMP"}}})}};
  ASSERT_TRUE(client_.Create(gnp));
  Drain();
  EXPECT_EQ(policy_.full, 1);
  EXPECT_EQ(policy_.incremental, 1);
  EXPECT_NE(policy_.kernel, before);
  EXPECT_NE(policy_.kernel.find("deny-ping"), std::string::npos);

  // Something the agent does not program: no transaction.
  Resource bgp("BGPConfiguration", "default");
  bgp.spec() = Json{{"asNumber", 64512}};
  ASSERT_TRUE(client_.Create(bgp));
  Drain();
  EXPECT_EQ(policy_.incremental, 1);

  // A new local endpoint: its chains and its route.
  AddEndpoint("cccc", "10.65.0.3");
  Drain();
  EXPECT_EQ(policy_.incremental, 2);
  EXPECT_NE(policy_.kernel.find("calicccc"), std::string::npos);
  EXPECT_TRUE(HasRoute("10.65.0.3/32", "calicccc"));

  // Deleting it removes both; deleting the policy removes its chain.
  ASSERT_TRUE(client_.Delete("WorkloadEndpoint", "default", "node1-cni-cccc-eth0"));
  ASSERT_TRUE(client_.Delete("GlobalNetworkPolicy", "", "deny-ping"));
  Drain();
  EXPECT_EQ(policy_.kernel.find("calicccc"), std::string::npos);
  EXPECT_FALSE(HasRoute("10.65.0.3/32", "calicccc"));
  EXPECT_EQ(policy_.kernel.find("deny-ping"), std::string::npos);
  EXPECT_EQ(policy_.kernel, before);
}

// calico_node_nft_rules after incremental updates (counted again only for the chains a change
// touched): always the rules with a counter in what the kernel holds.
TEST_F(AgentTest, RuleCountFollowsIncrementalChanges) {
  auto kernel_rules = [&] {
    int counted = 0;
    std::istringstream lines(policy_.kernel);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\t\t") == 0 && line.find("counter") != std::string::npos) ++counted;
    }
    return counted;
  };
  auto metric_rules = [&] {
    const std::string prom = metrics_.Render();
    const std::string name = "\ncalico_node_nft_rules ";  // The sample, not its HELP line.
    const auto at = prom.find(name);
    return at == std::string::npos ? -1 : std::stoi(prom.substr(at + name.size()));
  };
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  ASSERT_TRUE(agent_->FullSync());
  const int initial = kernel_rules();
  EXPECT_EQ(metric_rules(), initial);

  // A policy with three rules (a new chain, and the endpoint chain's jump to it).
  Resource gnp("GlobalNetworkPolicy", "three");
  gnp.spec() = Json{{"selector", "has(net1)"},
                    {"ingress", Json::array({{{"action", "Deny"}, {"protocol", "ICMP"}},
                                             {{"action", "Allow"}, {"protocol", "TCP"}},
                                             {{"action", "Deny"}}})}};
  ASSERT_TRUE(client_.Create(gnp));
  Drain();
  ASSERT_EQ(policy_.incremental, 1);
  EXPECT_GT(kernel_rules(), initial);
  EXPECT_EQ(metric_rules(), kernel_rules());

  // The same policy with one rule (a changed chain), a second endpoint (new chains), then both
  // gone (removed chains).
  gnp.spec()["ingress"] = Json::array({{{"action", "Deny"}}});
  ASSERT_TRUE(client_.Update(gnp));
  Drain();
  ASSERT_EQ(policy_.incremental, 2);
  EXPECT_EQ(metric_rules(), kernel_rules());
  AddEndpoint("cccc", "10.65.0.3");
  Drain();
  ASSERT_EQ(policy_.incremental, 3);
  EXPECT_EQ(metric_rules(), kernel_rules());
  ASSERT_TRUE(client_.Delete("WorkloadEndpoint", "default", "node1-cni-cccc-eth0"));
  ASSERT_TRUE(client_.Delete("GlobalNetworkPolicy", "", "three"));
  Drain();
  EXPECT_EQ(kernel_rules(), initial);
  EXPECT_EQ(metric_rules(), initial);
}

TEST_F(AgentTest, FailedIncrementalUpdateFallsBackToAFullReplace) {
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  ASSERT_TRUE(agent_->FullSync());
  policy_.fail_incremental = true;
  AddEndpoint("dddd", "10.65.0.4");
  Drain();
  EXPECT_EQ(policy_.full, 2);
  EXPECT_NE(policy_.kernel.find("calidddd"), std::string::npos);
  EXPECT_EQ(nft_model::NftRulesetText(agent_->applied()), policy_.kernel);
}

// routeRefreshInterval and nftablesRefreshInterval are separate: each refresh repairs only its
// own half of the kernel.
TEST_F(AgentTest, PolicyAndRouteRefreshAreSeparate) {
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  ASSERT_TRUE(agent_->FullSync());
  const std::string applied = policy_.applied;
  policy_.kernel = "drifted";
  routes_.kernel.clear();
  auto routes = agent_->ResyncRoutes();
  ASSERT_TRUE(routes) << routes.error().message();
  EXPECT_TRUE(*routes);
  EXPECT_TRUE(HasRoute("10.65.0.2/32", "caliaaaa"));
  EXPECT_EQ(policy_.kernel, "drifted");
  auto policy = agent_->ResyncPolicy();
  ASSERT_TRUE(policy) << policy.error().message();
  EXPECT_TRUE(*policy);
  EXPECT_EQ(policy_.kernel, applied);
  routes_.kernel.clear();
  policy = agent_->ResyncPolicy();
  ASSERT_TRUE(policy);
  EXPECT_FALSE(*policy);
  EXPECT_FALSE(HasRoute("10.65.0.2/32", "caliaaaa"));
}

// FelixConfiguration changes are applied while running (Felix restarts for them); a bad value
// keeps the running settings.
TEST_F(AgentTest, FelixConfigurationChangesApplyWhileRunning) {
  AgentConfig cfg;
  cfg.node_name = "node1";
  cfg.reload_settings = [](const Resource* global,
                           const Resource* per_node) -> Result<ReloadableSettings> {
    ASSIGN_OR_RETURN(auto s, LoadFelixSettings({}, "node1", global, per_node));
    return ReloadableSettings{.route_refresh_interval = s.agent.route_refresh_interval,
                              .policy_refresh_interval = s.agent.policy_refresh_interval,
                              .render = s.agent.render,
                              .routes = s.agent.routes,
                              .nat = s.agent.nat,
                              .vxlan = s.agent.vxlan,
                              .vxlan_enabled = s.agent.vxlan_enabled};
  };
  agent_ = std::make_unique<Agent>(cfg, store_, policy_, routes_, metrics_);
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  ASSERT_TRUE(agent_->FullSync());
  const std::string drop = "counter drop comment \"Configured DefaultEndpointToHostAction\"";
  const std::string accept = "counter accept comment \"Configured DefaultEndpointToHostAction\"";
  EXPECT_NE(policy_.kernel.find(drop), std::string::npos);

  EXPECT_TRUE(routes_.options.remove_external_routes);

  Resource fc("FelixConfiguration", "node.node1");
  fc.spec() = Json{{"defaultEndpointToHostAction", "Accept"},
                   {"removeExternalRoutes", false},
                   {"deviceRouteSourceAddress", "10.99.0.1"},
                   {"nftablesFilterDenyAction", "Reject"}};
  ASSERT_TRUE(client_.Create(fc));
  Drain();
  EXPECT_NE(policy_.kernel.find(accept), std::string::npos) << policy_.kernel;
  EXPECT_EQ(policy_.kernel.find(drop), std::string::npos);
  EXPECT_NE(policy_.kernel.find("counter reject comment \"Reject if no profiles matched\""),
            std::string::npos);
  // The route options reach the route programmer with the next sync.
  EXPECT_FALSE(routes_.options.remove_external_routes);
  EXPECT_EQ(routes_.options.source_v4, net::IPAddr::Parse("10.99.0.1"));
  fc.spec() = Json{{"defaultEndpointToHostAction", "Accept"}};
  ASSERT_TRUE(store_.Put(
      datastore::ResourceKey{.kind = model::LookupKind("FelixConfiguration"), .name = "node.node1"}
          .Format(),
      datastore::EncodeStoredResource(fc)));
  Drain();
  EXPECT_TRUE(routes_.options.remove_external_routes);
  EXPECT_FALSE(routes_.options.source_v4);
  EXPECT_EQ(policy_.kernel.find("reject"), std::string::npos);

  // A value that is not valid (written past the client's validation) is treated as missing, as
  // Felix's validation filter does: back to the defaults, and counted.
  fc.spec() = Json{{"defaultEndpointToHostAction", "Maybe"}};
  ASSERT_TRUE(store_.Put(
      datastore::ResourceKey{.kind = model::LookupKind("FelixConfiguration"), .name = "node.node1"}
          .Format(),
      datastore::EncodeStoredResource(fc)));
  Drain();
  EXPECT_NE(policy_.kernel.find(drop), std::string::npos);
  EXPECT_NE(metrics_.Render().find("calico_node_datastore_values_skipped_total 1"),
            std::string::npos)
      << metrics_.Render();

  // Valid again, then deleted: applied, then back to the defaults.
  fc.spec() = Json{{"defaultEndpointToHostAction", "Accept"}};
  ASSERT_TRUE(store_.Put(
      datastore::ResourceKey{.kind = model::LookupKind("FelixConfiguration"), .name = "node.node1"}
          .Format(),
      datastore::EncodeStoredResource(fc)));
  Drain();
  EXPECT_NE(policy_.kernel.find(accept), std::string::npos);
  ASSERT_TRUE(store_.Delete(
      datastore::ResourceKey{.kind = model::LookupKind("FelixConfiguration"), .name = "node.node1"}
          .Format()));
  Drain();
  EXPECT_NE(policy_.kernel.find(drop), std::string::npos);
}

// The agent's log lines while a test runs (the "agent" logger).
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    log::Get("agent")->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = log::Get("agent")->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  std::string text() const { return out_.str(); }
  // How many lines contain `needle`.
  int Count(const std::string& needle) const {
    int n = 0;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);)
      n += line.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

Resource Policy(const std::string& name, int order, Json ingress, Json egress = Json::array()) {
  Resource p("NetworkPolicy", name, "default");
  p.spec() = Json{{"order", order},
                  {"selector", "all()"},
                  {"types", Json::array({"Ingress", "Egress"})},
                  {"ingress", std::move(ingress)},
                  {"egress", std::move(egress)}};
  return p;
}

// Felix without an L7 proxy: the HTTP part of a rule is ignored, its L3/L4 part enforced, logged
// once per policy and counted; a Deny policy on the same endpoint is programmed as usual.
TEST_F(AgentTest, HttpMatchIsIgnoredAndTheOtherPoliciesProgrammed) {
  LogCapture log;
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  ASSERT_TRUE(client_.Create(Policy("deny-ssh", 5, Json::parse(R"([{"action": "Deny",
      "protocol": "TCP", "destination": {"ports": [22]}}])"))));
  ASSERT_TRUE(client_.Create(Policy("http-get", 10, Json::parse(R"([{"action": "Allow",
      "protocol": "TCP", "destination": {"ports": [80]}, "http": {"methods": ["GET"]}}])"))));
  ASSERT_TRUE(agent_->FullSync());
  EXPECT_NE(policy_.kernel.find("meta l4proto 6 th dport 22 counter drop"), std::string::npos)
      << policy_.kernel;
  EXPECT_NE(policy_.kernel.find("meta l4proto 6 th dport 80 counter meta mark set"),
            std::string::npos)
      << policy_.kernel;
  const std::string metrics = metrics_.Render();
  EXPECT_NE(metrics.find("calico_node_http_match_ignored{kind=\"policy\",name=\"default/"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("http-get\"} 1\n"), std::string::npos) << metrics;
  // More changes: logged once.
  AddEndpoint("bbbb", "10.65.0.3");
  Drain();
  EXPECT_NE(policy_.kernel.find("calibbbb"), std::string::npos);
  EXPECT_EQ(log.Count("HTTP match ignored in 1 rule(s)"), 1) << log.text();
  EXPECT_EQ(log.Count("http-get"), 1) << log.text();
}

// One policy the renderer cannot express never stops the others: it becomes a drop, is named in
// the log (once) and in calico_node_unrenderable, and is programmed once it is fixed.
TEST_F(AgentTest, UnrenderablePolicyIsIsolated) {
  LogCapture log;
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  ASSERT_TRUE(client_.Create(Policy("deny-ssh", 5, Json::parse(R"([{"action": "Deny",
      "protocol": "TCP", "destination": {"ports": [22]}}])"))));
  Resource svc = Policy("to-dns", 10, Json::array(), Json::parse(R"([{"action": "Allow",
      "destination": {"services": {"name": "kube-dns", "namespace": "kube-system"}}}])"));
  auto made = client_.Create(svc);
  ASSERT_TRUE(made) << made.error().message();
  ASSERT_TRUE(agent_->FullSync());
  EXPECT_NE(policy_.kernel.find("meta l4proto 6 th dport 22 counter drop"), std::string::npos)
      << policy_.kernel;
  EXPECT_NE(policy_.kernel.find("to-dns cannot be rendered: drop"), std::string::npos)
      << policy_.kernel;
  EXPECT_NE(metrics_.Render().find("calico_node_unrenderable{kind=\"policy\""), std::string::npos)
      << metrics_.Render();
  AddEndpoint("bbbb", "10.65.0.3");
  Drain();
  EXPECT_EQ(log.Count("to-dns cannot be rendered"), 1) << log.text();
  EXPECT_EQ(log.Count("destination.services"), 1) << log.text();

  // Fixed: rendered, the metric is empty again.
  svc = *made;
  svc.spec()["egress"] = Json::parse(R"([{"action": "Allow", "protocol": "UDP",
      "destination": {"ports": [53]}}])");
  ASSERT_TRUE(client_.Update(svc));
  Drain();
  EXPECT_EQ(policy_.kernel.find("cannot be rendered"), std::string::npos);
  EXPECT_NE(policy_.kernel.find("meta l4proto 17 th dport 53"), std::string::npos);
  EXPECT_EQ(metrics_.Render().find("calico_node_unrenderable{"), std::string::npos);
  EXPECT_EQ(log.Count("is rendered again"), 1) << log.text();
}

// What was isolated or ignored reaches on_status (calico-node's agent status file, printed by
// `calicoctl node status`): once after the first render, then only when it changes.
TEST_F(AgentTest, IsolatedItemsAreReportedThroughOnStatus) {
  std::vector<AgentStatus> reported;
  AgentConfig cfg;
  cfg.node_name = "node1";
  cfg.on_status = [&](const AgentStatus& s) { reported.push_back(s); };
  agent_ = std::make_unique<Agent>(cfg, store_, policy_, routes_, metrics_);
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  ASSERT_TRUE(agent_->FullSync());
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0], AgentStatus{});

  Resource svc = Policy("to-dns", 10, Json::array(), Json::parse(R"([{"action": "Allow",
      "destination": {"services": {"name": "kube-dns", "namespace": "kube-system"}}}])"));
  auto made = client_.Create(svc);
  ASSERT_TRUE(made) << made.error().message();
  ASSERT_TRUE(client_.Create(Policy("http-get", 20, Json::parse(R"([{"action": "Allow",
      "protocol": "TCP", "destination": {"ports": [80]}, "http": {"methods": ["GET"]}}])"))));
  Drain();
  ASSERT_EQ(reported.size(), 2u);
  ASSERT_EQ(reported[1].unrenderable.size(), 1u);
  EXPECT_EQ(reported[1].unrenderable[0].kind, "policy");
  EXPECT_EQ(reported[1].unrenderable[0].name, "default/default/to-dns");
  EXPECT_NE(reported[1].unrenderable[0].reason.find("destination.services"), std::string::npos)
      << reported[1].unrenderable[0].reason;
  ASSERT_EQ(reported[1].http_ignored.size(), 1u);
  EXPECT_EQ(reported[1].http_ignored[0].name, "default/default/http-get");
  EXPECT_EQ(reported[1].http_ignored[0].rules, 1);
  const std::string section = RenderAgentStatusSection(reported[1]);
  EXPECT_NE(section.find("| policy | default/default/to-dns |"), std::string::npos) << section;

  // Unrelated changes: nothing new reported.
  AddEndpoint("bbbb", "10.65.0.3");
  Drain();
  EXPECT_EQ(reported.size(), 2u);
  // Fixed: reported again without it.
  svc = *made;
  svc.spec()["egress"] = Json::parse(R"([{"action": "Allow", "protocol": "UDP",
      "destination": {"ports": [53]}}])");
  ASSERT_TRUE(client_.Update(svc));
  Drain();
  ASSERT_EQ(reported.size(), 3u);
  EXPECT_TRUE(reported[2].unrenderable.empty());
  EXPECT_EQ(reported[2].http_ignored.size(), 1u);
}

// Values that are not JSON or not valid resources are skipped (treated as deleted), logged and
// counted; everything else is programmed.
TEST_F(AgentTest, BadDatastoreValuesAreSkipped) {
  LogCapture log;
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  const model::KindInfo& gnp = *model::LookupKind("GlobalNetworkPolicy");
  ASSERT_TRUE(
      store_.Put(datastore::ResourceKey{.kind = &gnp, .name = "garbage"}.Format(), "{not json"));
  ASSERT_TRUE(store_.Put(datastore::ResourceKey{.kind = &gnp, .name = "array"}.Format(), "[1, 2]"));
  Resource bad("GlobalNetworkPolicy", "bad-shape");
  bad.spec() = Json{{"selector", "all()"}, {"ingress", "not a list"}};
  ASSERT_TRUE(store_.Put(datastore::ResourceKey{.kind = &gnp, .name = "bad-shape"}.Format(),
                         datastore::EncodeStoredResource(bad)));
  Resource wrong_types("Profile", "wrong");
  wrong_types.spec() = Json{{"labelsToApply", Json::array({1})}};
  ASSERT_TRUE(store_.Put(
      datastore::ResourceKey{.kind = model::LookupKind("Profile"), .name = "wrong"}.Format(),
      datastore::EncodeStoredResource(wrong_types)));
  ASSERT_TRUE(agent_->FullSync());
  EXPECT_NE(policy_.kernel.find("caliaaaa"), std::string::npos);
  EXPECT_NE(metrics_.Render().find("calico_node_datastore_values_skipped_total 4"),
            std::string::npos)
      << metrics_.Render();
  EXPECT_EQ(log.Count("skipping the datastore value at"), 4) << log.text();

  // A good policy that turns bad is treated as deleted (its chain goes), then comes back.
  Resource good("GlobalNetworkPolicy", "deny-ssh");
  good.spec() = Json{{"selector", "all()"},
                     {"types", Json::array({"Ingress"})},
                     {"ingress", Json::parse(R"([{"action": "Deny", "protocol": "TCP",
                         "destination": {"ports": [22]}}])")}};
  auto made = client_.Create(good);
  ASSERT_TRUE(made) << made.error().message();
  Drain();
  EXPECT_NE(policy_.kernel.find("th dport 22 counter drop"), std::string::npos);
  ASSERT_TRUE(store_.Put(datastore::ResourceKey{.kind = &gnp, .name = "deny-ssh"}.Format(),
                         "{\"kind\": 7"));
  Drain();
  EXPECT_EQ(policy_.kernel.find("th dport 22 counter drop"), std::string::npos);
  ASSERT_TRUE(store_.Put(datastore::ResourceKey{.kind = &gnp, .name = "deny-ssh"}.Format(),
                         datastore::EncodeStoredResource(good)));
  Drain();
  EXPECT_NE(policy_.kernel.find("th dport 22 counter drop"), std::string::npos);
}

// WorkloadEndpoints in the shape Calico writes take the one-pass typed path, the others the JSON
// tree and model::Validate (model/v3/stored_endpoint.h): either way the endpoint is programmed
// the same, an invalid value is skipped with the reference path's message, and a delete finds the
// endpoint whatever its key says.
// What the graph is fed also reaches the flow logs' pending view (AgentConfig::on_resource and,
// for WorkloadEndpoints read typed, on_workload_endpoint).
TEST_F(AgentTest, ResourceHooksSeeEverythingTheGraphIsFed) {
  AgentConfig cfg;
  cfg.node_name = "node1";
  std::vector<std::string> seen;
  cfg.on_resource = [&](const Resource* r, std::string_view kind, std::string_view ns,
                        std::string_view name) {
    seen.push_back(fmt::format("{} {} {}/{}", r != nullptr ? "update" : "delete", kind, ns, name));
  };
  cfg.on_workload_endpoint = [&](const model::v3::WorkloadEndpoint& w) {
    seen.push_back(
        fmt::format("typed WorkloadEndpoint {}/{}", w.metadata.namespace_, w.metadata.name));
  };
  agent_ = std::make_unique<Agent>(cfg, store_, policy_, routes_, metrics_);
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  ASSERT_TRUE(agent_->FullSync());
  EXPECT_NE(
      std::find(seen.begin(), seen.end(), "typed WorkloadEndpoint default/node1-cni-aaaa-eth0"),
      seen.end())
      << fmt::format("{}", fmt::join(seen, "; "));
  EXPECT_NE(std::find(seen.begin(), seen.end(), "update Profile /net1"), seen.end())
      << fmt::format("{}", fmt::join(seen, "; "));
}

TEST_F(AgentTest, WorkloadEndpointsAreReadTheSameOnEitherPath) {
  LogCapture log;
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");  // The fast path.
  constexpr std::string_view kPrefix = "/calico/resources/v3/projectcalico.org/workloadendpoints/";
  auto listed = store_.List(kPrefix);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->kvs.size(), 1u);
  const std::string fast_key = listed->kvs[0].key;
  Json doc = Json::parse(listed->kvs[0].value);
  // The same endpoint with an escape in a string and another address: the reference path.
  Json escaped = doc;
  escaped["metadata"]["name"] = "node1-cni-bbbb-eth0";
  escaped["spec"]["containerID"] = "bbbb";
  escaped["spec"]["interfaceName"] = "calibbbb";
  escaped["spec"]["ipNetworks"] = Json::array({"10.65.0.3/32"});
  std::string escaped_text = escaped.dump();
  escaped_text.replace(escaped_text.find("\"orchestrator\":\"cni\""), 20,
                       "\"orchestrator\":\"\\u0063ni\"");
  ASSERT_NE(escaped_text.find("u0063"), std::string::npos);
  const std::string slow_key = std::string(kPrefix) + "default/node1-cni-bbbb-eth0";
  ASSERT_TRUE(store_.Put(slow_key, escaped_text));
  // A hand-written key that does not name the endpoint it holds.
  Json renamed = doc;
  renamed["metadata"]["name"] = "node1-cni-cccc-eth0";
  renamed["spec"]["containerID"] = "cccc";
  renamed["spec"]["interfaceName"] = "calicccc";
  renamed["spec"]["ipNetworks"] = Json::array({"10.65.0.4/32"});
  const std::string odd_key = std::string(kPrefix) + "default/not-its-name";
  ASSERT_TRUE(store_.Put(odd_key, renamed.dump()));
  ASSERT_TRUE(agent_->FullSync());
  EXPECT_TRUE(HasRoute("10.65.0.2/32", "caliaaaa"));
  EXPECT_TRUE(HasRoute("10.65.0.3/32", "calibbbb"));
  EXPECT_TRUE(HasRoute("10.65.0.4/32", "calicccc"));
  for (const char* iface : {"caliaaaa", "calibbbb", "calicccc"}) {
    EXPECT_NE(policy_.kernel.find(iface), std::string::npos) << iface;
  }
  EXPECT_NE(metrics_.Render().find("felix_cluster_num_workload_endpoints 3"), std::string::npos)
      << metrics_.Render();

  // Invalid on the fast path's shape: skipped with model::Validate's message, treated as deleted.
  Json invalid = doc;
  invalid["spec"]["interfaceName"] = "cali aaaa";
  ASSERT_TRUE(store_.Put(fast_key, invalid.dump()));
  Drain();
  EXPECT_FALSE(HasRoute("10.65.0.2/32", "caliaaaa"));
  EXPECT_EQ(log.Count("spec.interfaceName"), 1) << log.text();
  EXPECT_EQ(log.Count("skipping the datastore value at " + fast_key), 1) << log.text();

  // Deletes, by the key each value was stored at.
  ASSERT_TRUE(store_.Delete(slow_key));
  ASSERT_TRUE(store_.Delete(odd_key));
  Drain();
  EXPECT_FALSE(HasRoute("10.65.0.3/32", "calibbbb"));
  EXPECT_FALSE(HasRoute("10.65.0.4/32", "calicccc"));
  EXPECT_EQ(policy_.kernel.find("calicccc"), std::string::npos);
  EXPECT_NE(metrics_.Render().find("felix_cluster_num_workload_endpoints 0"), std::string::npos)
      << metrics_.Render();
}

// (Global)NetworkPolicies in the stored shape take the typed path (model/v3/stored_policy.h),
// others the reference path; both programme the same, and so does a sync that decodes on a second
// thread (AgentConfig::decode_thread).
TEST_F(AgentTest, PoliciesAreReadTheSameOnEitherPathAndEitherThread) {
  LogCapture log;
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  auto policy = [](const std::string& kind, const std::string& name, int port) {
    Resource p(kind, name, kind == "NetworkPolicy" ? "default" : "");
    p.spec() =
        Json{{"selector", "all()"},
             {"ingress", Json::array({{{"action", "Allow"},
                                       {"protocol", "TCP"},
                                       {"source", {{"nets", Json::array({"192.0.2.0/24"})}}},
                                       {"destination", {{"ports", Json::array({port})}}}}})}};
    return p;
  };
  ASSERT_TRUE(client_.Create(policy("GlobalNetworkPolicy", "fast", 8081)));  // The fast path.
  ASSERT_TRUE(client_.Create(policy("NetworkPolicy", "fast-ns", 8083)));     // The fast path.
  ASSERT_TRUE(client_.Create(policy("GlobalNetworkPolicy", "slow", 8082)));
  const std::string slow_key = "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/slow";
  auto slow = store_.Get(slow_key);
  ASSERT_TRUE(slow);
  std::string escaped = slow->value;  // An escape in a string: the reference path.
  const size_t at = escaped.find("\"Allow\"");
  ASSERT_NE(at, std::string::npos);
  escaped.replace(at, 7, "\"\\u0041llow\"");
  ASSERT_TRUE(store_.Put(slow_key, escaped));
  ASSERT_TRUE(agent_->FullSync());
  for (const char* port : {"8081", "8082", "8083"}) {
    EXPECT_NE(policy_.kernel.find(port), std::string::npos) << port << "\n" << policy_.kernel;
  }
  EXPECT_EQ(log.Count("skipping"), 0) << log.text();

  // The same store synced with the decoding on a second thread: the same ruleset.
  AgentConfig cfg;
  cfg.node_name = "node1";
  cfg.decode_thread = true;
  FakePolicy policy2;
  FakeRoutes routes2;
  Metrics metrics2;
  Agent two(cfg, store_, policy2, routes2, metrics2);
  ASSERT_TRUE(two.FullSync());
  EXPECT_EQ(policy2.kernel, policy_.kernel);

  // Invalid on the fast path's shape: skipped with model::Validate's message, treated as deleted.
  const std::string fast_key = "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/fast";
  auto fast = store_.Get(fast_key);
  ASSERT_TRUE(fast);
  std::string invalid = fast->value;
  invalid.replace(invalid.find("\"all()\""), 7, "\"all(\"");
  ASSERT_TRUE(store_.Put(fast_key, invalid));
  Drain();
  EXPECT_EQ(policy_.kernel.find("8081"), std::string::npos) << policy_.kernel;
  EXPECT_EQ(log.Count("spec.selector"), 1) << log.text();
  EXPECT_EQ(log.Count("skipping the datastore value at " + fast_key), 1) << log.text();
  // Deletes reach both kinds.
  ASSERT_TRUE(
      store_.Delete("/calico/resources/v3/projectcalico.org/networkpolicies/default/fast-ns"));
  Drain();
  EXPECT_EQ(policy_.kernel.find("8083"), std::string::npos) << policy_.kernel;
  EXPECT_NE(policy_.kernel.find("8082"), std::string::npos) << policy_.kernel;
}

// FelixConfiguration fields that validate but this build ignores: logged at start-up and on
// change (naming the resource), counted in a metric; an unchanged resource is not logged again.
TEST_F(AgentTest, FieldsNotActedOnAreLoggedAndCounted) {
  LogCapture log;
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  Resource fc("FelixConfiguration", "default");
  fc.spec() = Json{{"wireguardEnabled", true}, {"bpfEnabled", false}, {"healthPort", 9099}};
  auto made = client_.Create(fc);
  ASSERT_TRUE(made) << made.error().message();
  ASSERT_TRUE(agent_->FullSync());
  EXPECT_EQ(log.Count("accepted, not acted on by this build: "
                      "FelixConfiguration(default).spec.bpfEnabled, "
                      "FelixConfiguration(default).spec.wireguardEnabled"),
            1)
      << log.text();
  EXPECT_NE(metrics_.Render().find("calico_node_config_fields_not_acted_on 2\n"),
            std::string::npos);
  AddEndpoint("bbbb", "10.65.0.3");
  Drain();
  EXPECT_EQ(log.Count("accepted, not acted on"), 1) << log.text();

  fc = *made;
  fc.spec()["usageReportingEnabled"] = true;
  ASSERT_TRUE(client_.Update(fc));
  Drain();
  EXPECT_EQ(log.Count("FelixConfiguration(default).spec.usageReportingEnabled"), 1) << log.text();
  EXPECT_NE(metrics_.Render().find("calico_node_config_fields_not_acted_on 3\n"),
            std::string::npos);
  ASSERT_TRUE(client_.Delete("FelixConfiguration", "", "default"));
  Drain();
  EXPECT_NE(metrics_.Render().find("calico_node_config_fields_not_acted_on 0\n"),
            std::string::npos);
}

// workloadSourceSpoofing: an endpoint with allowSpoofedSourcePrefixes is refused (reported, its
// interface left to the "Unknown interface" drop) until the setting is Any; then its prefixes
// are exempt from the reverse-path check and its rp_filter is 0, back to the default when the
// setting goes (Felix's calc ValidationFilter and endpoint_mgr).
TEST_F(AgentTest, WorkloadSourceSpoofing) {
  AgentConfig cfg;
  cfg.node_name = "node1";
  cfg.reload_settings = [](const Resource* global,
                           const Resource* per_node) -> Result<ReloadableSettings> {
    ASSIGN_OR_RETURN(auto s, LoadFelixSettings({}, "node1", global, per_node));
    return ReloadableSettings{.render = s.agent.render, .routes = s.agent.routes};
  };
  agent_ = std::make_unique<Agent>(cfg, store_, policy_, routes_, metrics_);
  LogCapture log;
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  Resource wep("WorkloadEndpoint", "", "default");
  wep.spec() = Json{{"orchestrator", "cni"},
                    {"node", "node1"},
                    {"containerID", "spoof"},
                    {"endpoint", "eth0"},
                    {"interfaceName", "calispoof"},
                    {"ipNetworks", Json::array({"10.65.0.9/32"})},
                    {"profiles", Json::array({"net1"})},
                    {"allowSpoofedSourcePrefixes", Json::array({"10.88.0.0/24"})}};
  ASSERT_TRUE(client_.Create(wep));
  ASSERT_TRUE(agent_->FullSync());
  EXPECT_EQ(agent_->applied().chains.count("cali-fw-calispoof"), 0u);
  EXPECT_EQ(agent_->applied().chains.count("cali-fw-caliaaaa"), 1u);
  EXPECT_GE(log.Count("source IP spoofing requested but not enabled in Felix configuration"), 1)
      << log.text();
  EXPECT_TRUE(routes_.rp_filter_off.empty());

  Resource fc("FelixConfiguration", "default");
  fc.spec() = Json{{"workloadSourceSpoofing", "Any"}};
  auto made = client_.Create(fc);
  ASSERT_TRUE(made);
  Drain();
  EXPECT_EQ(agent_->applied().chains.count("cali-fw-calispoof"), 1u);
  ASSERT_EQ(agent_->applied().chains.count("raw-cali-rpf-skip-calispoof"), 1u);
  EXPECT_THAT(agent_->applied().chains.at("raw-cali-rpf-skip-calispoof").rules.get(),
              ::testing::ElementsAre(::testing::StartsWith("ip saddr 10.88.0.0/24 accept")));
  EXPECT_EQ(routes_.rp_filter_off, (std::map<std::string, bool>{{"calispoof", true}}));

  ASSERT_TRUE(client_.Delete("FelixConfiguration", "", "default"));
  Drain();
  EXPECT_EQ(agent_->applied().chains.count("cali-fw-calispoof"), 0u);
  EXPECT_EQ(routes_.rp_filter_off, (std::map<std::string, bool>{{"calispoof", false}}));
}

// ipv6Support: false: no IPv6 routes (workload /128s, IPv6 block blackholes) and no IPv6
// interface settings; IPv4 as before; IPv6 is accepted first in the base chains.
TEST_F(AgentTest, Ipv6SupportFalse) {
  AgentConfig cfg;
  cfg.node_name = "node1";
  cfg.reload_settings = [](const Resource* global,
                           const Resource* per_node) -> Result<ReloadableSettings> {
    ASSIGN_OR_RETURN(auto s, LoadFelixSettings({}, "node1", global, per_node));
    return ReloadableSettings{.render = s.agent.render, .routes = s.agent.routes};
  };
  agent_ = std::make_unique<Agent>(cfg, store_, policy_, routes_, metrics_);
  AddProfile("net1");
  Resource wep("WorkloadEndpoint", "", "default");
  wep.spec() = Json{{"orchestrator", "cni"},
                    {"node", "node1"},
                    {"containerID", "dual"},
                    {"endpoint", "eth0"},
                    {"interfaceName", "calidual"},
                    {"ipNetworks", Json::array({"10.65.0.9/32", "fd00:65::9/128"})},
                    {"profiles", Json::array({"net1"})}};
  ASSERT_TRUE(client_.Create(wep));
  ASSERT_TRUE(agent_->FullSync());
  EXPECT_TRUE(HasRoute("fd00:65::9/128", "calidual"));
  EXPECT_EQ(routes_.configured["calidual"], std::make_pair(true, true));

  Resource fc("FelixConfiguration", "default");
  fc.spec() = Json{{"ipv6Support", false}};
  ASSERT_TRUE(client_.Create(fc));
  Drain();
  ASSERT_TRUE(agent_->Resync());  // Interfaces are configured again at each refresh.
  EXPECT_TRUE(HasRoute("10.65.0.9/32", "calidual"));
  EXPECT_FALSE(HasRoute("fd00:65::9/128", "calidual"));
  EXPECT_EQ(routes_.options.ipv6, false);
  EXPECT_EQ(routes_.configured["calidual"], std::make_pair(true, false));
  EXPECT_EQ(agent_->applied().chains.at("cali-FORWARD").rules[0],
            "meta nfproto ipv6 accept comment \"ipv6Support is false: IPv6 is not policed\"");
}

TEST_F(AgentTest, ResyncRepairsDrift) {
  AddProfile("net1");
  AddEndpoint("aaaa", "10.65.0.2");
  ASSERT_TRUE(agent_->FullSync());
  auto clean = agent_->Resync();
  ASSERT_TRUE(clean);
  EXPECT_FALSE(*clean);
  policy_.kernel = "table inet calico {}";  // someone flushed our table
  routes_.kernel.clear();                   // and removed our routes
  auto repaired = agent_->Resync();
  ASSERT_TRUE(repaired);
  EXPECT_TRUE(*repaired);
  EXPECT_EQ(policy_.kernel, nft_model::NftRulesetText(agent_->applied()));
  EXPECT_TRUE(HasRoute("10.65.0.2/32", "caliaaaa"));
}

TEST_F(AgentTest, CompactedWatchListsAgain) {
  AddProfile("net1");
  ASSERT_TRUE(agent_->FullSync());
  AddEndpoint("aaaa", "10.65.0.2");
  auto rev = store_.List("/calico/");
  ASSERT_TRUE(rev);
  store_.Compact(rev->revision);
  AddEndpoint("eeee", "10.65.0.5");
  Drain();
  EXPECT_NE(policy_.kernel.find("caliaaaa"), std::string::npos);
  EXPECT_NE(policy_.kernel.find("calieeee"), std::string::npos);
}

// A watch stream that fails (the store went away, or sent what the client refused, e.g. a
// chunk-size line over the JSON gateway's limit) is logged with its reason and resumed from the
// last revision seen; after 5 failures without an event in between the agent lists everything
// again (libcalico-go watchersyncer/watchercache.go MaxErrorsPerRevision).
TEST_F(AgentTest, FailedWatchIsLoggedResumedAndAfterFiveListedAgain) {
  int resyncs = 0;
  AgentConfig cfg;
  cfg.node_name = "node1";
  cfg.health = &health_;
  cfg.on_resync = [&] { ++resyncs; };
  agent_ = std::make_unique<Agent>(cfg, store_, policy_, routes_, metrics_);
  AddProfile("net1");
  ASSERT_TRUE(agent_->FullSync());
  ASSERT_EQ(resyncs, 1);
  LogCapture log;
  store_.FailWatchReads(
      Error(ErrorCode::kUnavailable, "watch: chunk-size line longer than 4096 bytes"), 4);
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(agent_->Step(std::chrono::milliseconds(20)));
  EXPECT_EQ(log.Count("chunk-size line longer than 4096 bytes"), 4) << log.text();
  EXPECT_EQ(log.Count("(4 without progress)"), 1) << log.text();
  EXPECT_EQ(resyncs, 1) << "four failures resume the watch without listing again";
  AddEndpoint("aaaa", "10.65.0.2");
  Drain();
  EXPECT_NE(policy_.kernel.find("caliaaaa"), std::string::npos) << "the resumed watch delivers";

  // An event resets the count: five more failures in a row are needed, and the fifth lists.
  store_.FailWatchReads(Error(ErrorCode::kUnavailable, "watch closed by peer"), 5);
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(agent_->Step(std::chrono::milliseconds(20)));
  EXPECT_EQ(resyncs, 1);
  ASSERT_TRUE(agent_->Step(std::chrono::milliseconds(20)));
  EXPECT_EQ(resyncs, 2) << log.text();
  EXPECT_EQ(log.Count("watch repeatedly failed without making progress; listing again"), 1);
  AddEndpoint("eeee", "10.65.0.5");
  Drain();
  EXPECT_NE(policy_.kernel.find("calieeee"), std::string::npos);
}

// vxlanVNI, vxlanPort, vxlanMTU and vxlanEnabled reach the VXLAN programmer, also when
// FelixConfiguration changes while running.
TEST_F(AgentTest, VxlanOptionsFromFelixConfiguration) {
  std::vector<VxlanState> applied;
  AgentConfig cfg;
  cfg.node_name = "node1";
  cfg.apply_vxlan = [&](const VxlanState& st) -> Status {
    if (st.family == 4) applied.push_back(st);  // IPv6: Ipv6VxlanFollowsTheIpv6Pools
    return OkStatus();
  };
  cfg.reload_settings = [](const Resource* global,
                           const Resource* per_node) -> Result<ReloadableSettings> {
    ASSIGN_OR_RETURN(auto s, LoadFelixSettings({}, "node1", global, per_node));
    return ReloadableSettings{
        .render = s.agent.render, .vxlan = s.agent.vxlan, .vxlan_enabled = s.agent.vxlan_enabled};
  };
  Resource pool("IPPool", "vx");
  pool.spec() = Json{{"cidr", "10.70.0.0/16"}, {"vxlanMode", "Always"}};
  ASSERT_TRUE(client_.Create(pool));
  Resource node("Node", "node1");
  node.spec() =
      Json{{"bgp", {{"ipv4Address", "198.18.0.11/24"}}}, {"ipv4VXLANTunnelAddr", "10.70.0.1"}};
  ASSERT_TRUE(client_.Create(node));
  AddProfile("net1");
  AddEndpoint("aaaa", "10.70.0.2");
  Resource fc("FelixConfiguration", "default");
  fc.spec() = Json{{"vxlanVNI", 5000}, {"vxlanPort", 4790}, {"vxlanMTU", 1400}};
  ASSERT_TRUE(client_.Create(fc));
  agent_ = std::make_unique<Agent>(cfg, store_, policy_, routes_, metrics_);
  ASSERT_TRUE(agent_->FullSync());
  ASSERT_FALSE(applied.empty());
  EXPECT_TRUE(applied.back().enabled);
  EXPECT_EQ(applied.back().options, (VxlanOptions{.vni = 5000, .port = 4790, .mtu = 1400}));
  EXPECT_NE(policy_.kernel.find("th dport 4790 counter drop"), std::string::npos);

  fc.spec() = Json{{"vxlanEnabled", false}};
  ASSERT_TRUE(store_.Put(
      datastore::ResourceKey{.kind = model::LookupKind("FelixConfiguration"), .name = "default"}
          .Format(),
      datastore::EncodeStoredResource(fc)));
  Drain();
  EXPECT_FALSE(applied.back().enabled) << "vxlanEnabled: false turns the overlay off";
  EXPECT_EQ(applied.back().options, VxlanOptions{});
}

// IPv6 VXLAN (vxlan-v6.calico): its own state beside IPv4's, from the IPv6 pools, the Nodes' IPv6
// VTEPs and IPv6 blocks, with vxlanMTUV6; vxlanEnabled: false does not touch it, ipv6Support:
// false turns it off.
TEST_F(AgentTest, Ipv6VxlanFollowsTheIpv6Pools) {
  std::map<int, VxlanState> applied;  // family ->
  AgentConfig cfg;
  cfg.node_name = "node1";
  cfg.apply_vxlan = [&](const VxlanState& st) -> Status {
    applied[st.family] = st;
    return OkStatus();
  };
  cfg.reload_settings = [](const Resource* global,
                           const Resource* per_node) -> Result<ReloadableSettings> {
    ASSIGN_OR_RETURN(auto s, LoadFelixSettings({}, "node1", global, per_node));
    return ReloadableSettings{.render = s.agent.render,
                              .routes = s.agent.routes,
                              .vxlan = s.agent.vxlan,
                              .vxlan_enabled = s.agent.vxlan_enabled};
  };
  Resource pool("IPPool", "vx6");
  pool.spec() = Json{{"cidr", "fd00:70::/48"}, {"blockSize", 122}, {"vxlanMode", "Always"}};
  ASSERT_TRUE(client_.Create(pool));
  for (auto [name, ip6, tun6] : {std::tuple{"node1", "fd00:18::11/64", "fd00:70::1"},
                                 std::tuple{"node2", "fd00:18::12/64", "fd00:70:0:1::1"}}) {
    Resource node("Node", name);
    node.spec() = Json{{"bgp", {{"ipv6Address", ip6}}}, {"ipv6VXLANTunnelAddr", tun6}};
    ASSERT_TRUE(client_.Create(node));
  }
  ASSERT_TRUE(store_.Put(
      datastore::BlockAffinityKey{.cidr = *net::CIDR::Parse("fd00:70:0:1::/122"), .host = "node2"}
          .Format(),
      R"({"state":"confirmed"})"));
  Resource fc("FelixConfiguration", "default");
  fc.spec() = Json{{"vxlanMTUV6", 1380}, {"vxlanEnabled", false}};
  ASSERT_TRUE(client_.Create(fc));
  agent_ = std::make_unique<Agent>(cfg, store_, policy_, routes_, metrics_);
  ASSERT_TRUE(agent_->FullSync());
  ASSERT_EQ(applied.count(4), 1u);
  EXPECT_FALSE(applied[4].enabled) << "no IPv4 VXLAN pool (and vxlanEnabled false)";
  ASSERT_EQ(applied.count(6), 1u);
  const VxlanState& v6 = applied[6];
  EXPECT_TRUE(v6.enabled) << "vxlanEnabled is IPv4's switch only";
  EXPECT_EQ(v6.options.mtu_v6, 1380);
  EXPECT_EQ(v6.local.tunnel_ip, *net::IPAddr::Parse("fd00:70::1"));
  ASSERT_EQ(v6.routes.size(), 1u);
  EXPECT_EQ(v6.routes[0].dst.String(), "fd00:70:0:1::/122");
  EXPECT_EQ(v6.routes[0].via, net::IPAddr::Parse("fd00:70:0:1::1"));
  ASSERT_EQ(v6.remotes.size(), 1u);
  EXPECT_EQ(v6.remotes[0].parent_ip, *net::IPAddr::Parse("fd00:18::12"));

  fc.spec() = Json{{"ipv6Support", false}};
  ASSERT_TRUE(store_.Put(
      datastore::ResourceKey{.kind = model::LookupKind("FelixConfiguration"), .name = "default"}
          .Format(),
      datastore::EncodeStoredResource(fc)));
  Drain();
  EXPECT_FALSE(applied[6].enabled) << "ipv6Support: false removes vxlan-v6.calico";
  EXPECT_EQ(applied[6].family, 6);
}

TEST_F(AgentTest, VxlanStateFollowsNodesPoolsAndRemoteBlocks) {
  std::vector<VxlanState> applied;
  AgentConfig cfg;
  cfg.node_name = "node1";
  int synced = 0;
  int routing_syncs = 0;
  cfg.on_synced = [&](bool routing) {
    ++synced;
    routing_syncs += routing ? 1 : 0;
  };
  cfg.apply_vxlan = [&](const VxlanState& st) -> Status {
    if (st.family == 4) applied.push_back(st);  // IPv6: Ipv6VxlanFollowsTheIpv6Pools
    return OkStatus();
  };
  agent_ = std::make_unique<Agent>(cfg, store_, policy_, routes_, metrics_);
  Resource pool("IPPool", "vx");
  pool.spec() = Json{{"cidr", "10.70.0.0/16"}, {"vxlanMode", "Always"}};
  ASSERT_TRUE(client_.Create(pool));
  for (auto [name, ip, tun] : {std::tuple{"node1", "198.18.0.11/24", "10.70.0.1"},
                               std::tuple{"node2", "198.18.0.12/24", "10.70.1.1"}}) {
    Resource node("Node", name);
    node.spec() = Json{{"bgp", {{"ipv4Address", ip}}}, {"ipv4VXLANTunnelAddr", tun}};
    ASSERT_TRUE(client_.Create(node));
  }
  ASSERT_TRUE(store_.Put(
      datastore::BlockAffinityKey{.cidr = *net::CIDR::Parse("10.70.0.0/26"), .host = "node1"}
          .Format(),
      R"({"state":"confirmed"})"));
  ASSERT_TRUE(agent_->FullSync());
  EXPECT_GE(synced, 1);
  ASSERT_FALSE(applied.empty());
  EXPECT_TRUE(applied.back().enabled);
  auto has_route = [&](const std::string& dst) {
    for (const auto& r : applied.back().routes) {
      if (r.dst.String() == dst) return true;
    }
    return false;
  };
  EXPECT_FALSE(has_route("10.70.1.0/26")) << "no remote block yet";
  // node2 gets a block: one route via its tunnel address.
  ASSERT_TRUE(store_.Put(
      datastore::BlockAffinityKey{.cidr = *net::CIDR::Parse("10.70.1.0/26"), .host = "node2"}
          .Format(),
      R"({"state":"confirmed"})"));
  Drain();
  EXPECT_TRUE(has_route("10.70.1.0/26"));
  ASSERT_EQ(applied.back().remotes.size(), 1u);
  EXPECT_EQ(applied.back().remotes[0].node, "node2");
  size_t before = applied.size();
  Resource bgp("BGPConfiguration", "default");
  bgp.spec() = Json{{"asNumber", 64512}};
  ASSERT_TRUE(client_.Create(bgp));
  Drain();
  EXPECT_EQ(applied.size(), before) << "an unchanged overlay is not programmed again";
  // A workload endpoint is no routing change; a BGP configuration is.
  int routing_before = routing_syncs;
  Resource wep("WorkloadEndpoint", "", "default");
  wep.spec() = Json{{"orchestrator", "cni"},      {"node", "node1"},
                    {"containerID", "rr1"},       {"endpoint", "eth0"},
                    {"interfaceName", "calirr1"}, {"ipNetworks", Json::array({"10.70.0.5/32"})}};
  ASSERT_TRUE(client_.Create(wep));
  Drain();
  EXPECT_EQ(routing_syncs, routing_before);
  Resource peer("BGPPeer", "p1");
  peer.spec() = Json{{"peerIP", "198.18.0.99"}, {"asNumber", 64513}};
  ASSERT_TRUE(client_.Create(peer));
  Drain();
  EXPECT_EQ(routing_syncs, routing_before + 1);
  // A BGPFilter changes what BIRD renders too.
  Resource filter("BGPFilter", "f1");
  filter.spec() = Json{{"exportV4", Json::array({Json{{"action", "Reject"}}})}};
  ASSERT_TRUE(client_.Create(filter));
  Drain();
  EXPECT_EQ(routing_syncs, routing_before + 2);
}

// Between waits for datastore changes the agent calls on_idle even when nothing changes, so
// calico-node can restart a dead BIRD and notice changed secret files without a datastore event.
TEST_F(AgentTest, RunCallsOnIdleWithoutDatastoreChanges) {
  std::atomic<int> idle{0};
  std::atomic<bool> stop{false};
  AgentConfig cfg;
  cfg.node_name = "node1";
  cfg.on_idle = [&] {
    if (++idle >= 3) stop = true;
  };
  agent_ = std::make_unique<Agent>(cfg, store_, policy_, routes_, metrics_);
  ASSERT_TRUE(agent_->Run(stop));
  EXPECT_GE(idle.load(), 3);
}

TEST_F(AgentTest, NatTablesFollowThePools) {
  std::vector<std::string> applied;
  AgentConfig cfg;
  cfg.node_name = "node1";
  cfg.apply_nat = [&](const std::string& v4, const std::string&) -> Status {
    applied.push_back(v4);
    return OkStatus();
  };
  agent_ = std::make_unique<Agent>(cfg, store_, policy_, routes_, metrics_);
  ASSERT_TRUE(agent_->FullSync());
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].find("elements"), std::string::npos);
  Resource pool("IPPool", "p");
  pool.spec() = Json{{"cidr", "10.80.0.0/16"}, {"natOutgoing", true}};
  ASSERT_TRUE(client_.Create(pool));
  Drain();
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_NE(applied[1].find("masq-ipam-pools {\n    type ipv4_addr\n    flags interval\n    "
                            "elements = { 10.80.0.0/16 }"),
            std::string::npos)
      << applied[1];
}

TEST_F(AgentTest, HealthAndMetricsEndpoints) {
  HttpEndpoints http(metrics_, health_);
  ASSERT_TRUE(
      http.Start("127.0.0.1", 19099 + (::getpid() % 500), "127.0.0.1", 19699 + (::getpid() % 500)));
  httplib::Client health("127.0.0.1", 19099 + (::getpid() % 500));
  auto ready = health.Get("/readiness");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503) << "ready before the first sync";
  EXPECT_EQ(health.Get("/liveness")->status, 200);
  AddProfile("net1");
  ASSERT_TRUE(agent_->FullSync());
  EXPECT_EQ(health.Get("/readiness")->status, 200);
  httplib::Client prom("127.0.0.1", 19699 + (::getpid() % 500));
  auto m = prom.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("felix_int_dataplane_apply_time_seconds_count 1"), std::string::npos)
      << m->body;
  http.Stop();
}

// Issue 19: eight connections sending a byte a second made /liveness time out (the server took
// one connection at a time). They now hold eight connection threads while the probe is answered.
TEST_F(AgentTest, LivenessAnswersWhileSlowClientsHoldConnections) {
  HttpEndpoints http(metrics_, health_);
  const int port = 20099 + (::getpid() % 500);
  ASSERT_TRUE(http.Start("127.0.0.1", port, "127.0.0.1", 0));
  std::vector<int> slow;
  for (int i = 0; i < 8; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    ASSERT_EQ(::send(fd, "G", 1, MSG_NOSIGNAL), 1);  // a request begun, never finished
    slow.push_back(fd);
  }
  httplib::Client health("127.0.0.1", port);
  auto live = health.Get("/liveness");
  ASSERT_TRUE(live) << "no answer while eight slow clients are connected";
  EXPECT_EQ(live->status, 200);
  for (int fd : slow)
    ::close(fd);
  http.Stop();
}

}  // namespace
}  // namespace calico::agent

namespace calico::agent {
namespace {

TEST(NatTest, MasqueradesNatOutgoingPoolsToOutsideEveryPool) {
  const model::v3::IPPool a{.spec = {.cidr = "10.65.0.0/16", .nat_outgoing = true}};
  const model::v3::IPPool b{.spec = {.cidr = "10.66.0.0/16"}};
  const model::v3::IPPool c{.spec = {.cidr = "fd00:65::/48", .nat_outgoing = true}};
  EXPECT_EQ(
      RenderNatRuleset({a, b, c}, 4),
      "table ip calico-nat {\n"
      "  set masq-ipam-pools {\n    type ipv4_addr\n    flags interval\n"
      "    elements = { 10.65.0.0/16 }\n  }\n"
      "  set all-ipam-pools {\n    type ipv4_addr\n    flags interval\n"
      "    elements = { 10.65.0.0/16, 10.66.0.0/16 }\n  }\n"
      "  chain nat-outgoing {\n"
      "    type nat hook postrouting priority srcnat; policy accept;\n"
      "    ip saddr @masq-ipam-pools ip daddr != @all-ipam-pools counter masquerade fully-random "
      "comment \"calico natOutgoing\"\n"
      "  }\n}\n");
  EXPECT_NE(RenderNatRuleset({a, b, c}, 6).find("elements = { fd00:65::/48 }"), std::string::npos);
  // No pool: empty sets, nothing masqueraded.
  EXPECT_EQ(RenderNatRuleset({}, 4).find("elements"), std::string::npos);
}

// natOutgoingAddress / natPortRange (felix/rules/nat.go NATOutgoingChain): TCP and UDP get the
// port range first, then everything is SNATed to the address (IPv4 only) or masqueraded.
TEST(NatTest, OutgoingAddressAndPortRange) {
  const model::v3::IPPool a{.spec = {.cidr = "10.65.0.0/16", .nat_outgoing = true}};
  const model::v3::IPPool c{.spec = {.cidr = "fd00:65::/48", .nat_outgoing = true}};
  const std::string match = "ip saddr @masq-ipam-pools ip daddr != @all-ipam-pools ";
  NatOptions snat{.address = net::IPAddr::Parse("192.0.2.7")};
  std::string v4 = RenderNatRuleset({a, c}, 4, snat);
  EXPECT_NE(
      v4.find(match + "counter snat to 192.0.2.7 fully-random comment \"calico natOutgoing\""),
      std::string::npos)
      << v4;
  EXPECT_EQ(v4.find("masquerade"), std::string::npos);
  // The IPv6 table keeps masquerading: the address is IPv4.
  EXPECT_NE(RenderNatRuleset({a, c}, 6, snat).find("counter masquerade fully-random"),
            std::string::npos);

  NatOptions ports{.port_range = std::pair(40000, 40010)};
  v4 = RenderNatRuleset({a, c}, 4, ports);
  const std::size_t tcp = v4.find(match +
                                  "meta l4proto tcp counter masquerade to :40000-40010 "
                                  "fully-random comment \"calico natOutgoing port range\"");
  const std::size_t udp = v4.find(match + "meta l4proto udp counter masquerade to :40000-40010");
  const std::size_t rest = v4.find(match + "counter masquerade fully-random");
  ASSERT_NE(tcp, std::string::npos) << v4;
  ASSERT_NE(udp, std::string::npos) << v4;
  ASSERT_NE(rest, std::string::npos) << v4;
  EXPECT_LT(tcp, rest);
  EXPECT_LT(udp, rest);
  EXPECT_NE(RenderNatRuleset({a, c}, 6, ports)
                .find("meta l4proto tcp counter masquerade to :40000-40010"),
            std::string::npos);

  NatOptions both{.address = net::IPAddr::Parse("192.0.2.7"),
                  .port_range = std::pair(40000, 40010)};
  EXPECT_NE(RenderNatRuleset({a}, 4, both)
                .find("meta l4proto udp counter snat to "
                      "192.0.2.7:40000-40010 fully-random"),
            std::string::npos);
}

}  // namespace
}  // namespace calico::agent

namespace calico::agent {
namespace {

// Host endpoints: enforced on this node only, failsafes from the configuration, expectedIPs-only
// endpoints bound through the host's interface addresses (re-checked at resync).
TEST(AgentHostEndpointTest, BindsHostEndpointsAndRebindsAtResync) {
  datastore::MemBackend store;
  datastore::Client client(store);
  ASSERT_TRUE(client.EnsureInitialized());
  FakePolicy policy;
  FakeRoutes routes;
  Metrics metrics;
  std::map<std::string, std::vector<net::IPAddr>> ifaces = {
      {"eth0", {*net::IPAddr::Parse("192.0.2.10")}},
      {"cali123", {*net::IPAddr::Parse("192.0.2.99")}},  // A workload interface: never a HEP.
  };
  AgentConfig cfg;
  cfg.node_name = "node1";
  cfg.render.failsafe_inbound = *policy::ParseFailsafePorts("tcp:2222");
  cfg.host_interfaces = [&]() -> Result<std::map<std::string, std::vector<net::IPAddr>>> {
    return ifaces;
  };
  Agent agent(cfg, store, policy, routes, metrics);
  auto hep = [&](const std::string& name, const std::string& node, Json spec) {
    Resource r("HostEndpoint", name);
    r.metadata()["labels"] = Json{{"role", "web"}};
    r.spec() = std::move(spec);
    r.spec()["node"] = node;
    auto made = client.Create(r);
    ASSERT_TRUE(made) << made.error().message();
  };
  hep("by-ip", "node1", {{"expectedIPs", {"192.0.2.10", "192.0.2.99"}}});
  hep("other-node", "node2", {{"interfaceName", "eth7"}});
  ASSERT_TRUE(agent.FullSync());
  EXPECT_NE(policy.kernel.find("\"eth0\" : goto cali-fh-eth0"), std::string::npos) << policy.kernel;
  EXPECT_EQ(policy.kernel.find("cali-fh-cali123"), std::string::npos);
  EXPECT_EQ(policy.kernel.find("eth7"), std::string::npos);
  EXPECT_NE(policy.kernel.find("th dport 2222 counter accept"), std::string::npos);
  ASSERT_EQ(agent.model().host_endpoints.size(), 1u);
  EXPECT_EQ(agent.model().host_endpoints[0].interface_name, "eth0");
  EXPECT_TRUE(agent.model().endpoints.empty());
  EXPECT_TRUE(routes.configured.empty()) << "host interfaces are not workload interfaces";

  // The address moves to eth1: the next resync follows it.
  ifaces = {{"eth1", {*net::IPAddr::Parse("192.0.2.10")}}};
  auto repaired = agent.Resync();
  ASSERT_TRUE(repaired) << repaired.error().message();
  EXPECT_NE(policy.kernel.find("\"eth1\" : goto cali-fh-eth1"), std::string::npos);
  EXPECT_EQ(policy.kernel.find("cali-fh-eth0"), std::string::npos);

  // Deleting the host endpoint restores the workload-only ruleset.
  ASSERT_TRUE(client.Delete("HostEndpoint", "", "by-ip"));
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(agent.Step(std::chrono::milliseconds(20)));
  EXPECT_EQ(policy.kernel.find("host-endpoint"), std::string::npos);
  EXPECT_EQ(policy.kernel.find("failsafe"), std::string::npos);
}

}  // namespace
}  // namespace calico::agent
