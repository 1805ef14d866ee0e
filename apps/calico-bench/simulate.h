// calico-bench simulate (issue 20, "many nodes"): N lightweight agents in one process against one
// datastore, to see how the datastore and the fan-out of a change behave when a cluster outgrows a
// single host's worth of nodes.
//
// Each simulated node is the real agent::Agent (list once, then watch "/calico/"; decode and
// validate every value; the calculation graph; the render into the ruleset model) with the kernel
// left out: its nftables transactions and routes go nowhere. Each has its own Backend, so against
// etcd it holds its own gRPC connection and its own watch stream, as a separate host does. Agents
// share nothing mutable (each its own graph, label interner, render cache and metrics).
//
//   bench/simulate.sh: 3-member etcd on loopback ─▶ calico-bench simulate --etcd ... --nodes
//   100,250,500
//     for N in nodes: add nodes (Node, IPAM addresses through IpamClient, WorkloadEndpoints),
//                     start their agents (FullSync), then `changes` times: update one policy that
//                     selects every endpoint and wait until every agent's model has the new
//                     version.
//
// Thread-safety: a SimAgent runs on its own thread (Run); version() may be read from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "calico/agent/agent.h"
#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/client.h"
#include "calico/model/resource.h"
#include "calico/policy/policy_model.h"

#include "stats.h"

namespace calico::bench {

struct SimulateOptions {
  // Cluster sizes, ascending: the cluster grows in place (the first N nodes stay).
  std::vector<int> nodes = {100, 250, 500};
  int endpoints_per_node = 4;
  int policies = 50;  // Besides the policy that is changed.
  int changes = 20;   // Policy changes per cluster size (p50/p99 over them).
  // etcd client URLs; empty: one in-memory store shared by every agent (the smoke test).
  std::vector<std::string> etcd_endpoints;
  // The members' process ids (CPU seconds, RSS) and /metrics URLs (watch streams), in member
  // order; either may be empty.
  std::vector<int> etcd_pids;
  std::vector<std::string> etcd_metrics;
  int parallel_syncs = 4;  // Agents listing the datastore at the same time while starting.
};

// The simulation's data. Node i is "sim-node-<i>" (a Node resource with a BGP address); its
// `endpoints` (at most 256) WorkloadEndpoints get their addresses from Calico IPAM (a block affine
// to the node, a handle per endpoint), carry labels app=app-(j%10) and sim, and use profile "sim".
// The policies: P GlobalNetworkPolicies selecting app-(p%10) with a source selector (an IP set
// whose members come from every node), and "sim-change", which selects every endpoint (all()) and
// whose first ingress rule allows TCP to port 10000 + version.
std::string SimNodeName(int i);
[[nodiscard]] Status FillSimPolicies(datastore::Client& client, int policies);
[[nodiscard]] Status AddSimNode(datastore::Backend& backend, int i, int endpoints);
model::Resource SimChangePolicy(int version);
// The version of "sim-change" in a model (nullopt: the policy is not in it).
std::optional<int> SimChangeVersion(const policy::Model& model);

// One simulated node: agent::Agent without a dataplane, publishing which version of
// "sim-change" its model holds and when it first held each.
class SimAgent {
 public:
  using Clock = std::chrono::steady_clock;
  // `backend` is the agent's own (owned = its own connection); `max_version` sizes the record of
  // arrival times.
  SimAgent(std::string node, std::unique_ptr<datastore::Backend> backend, int max_version);
  // Shares `backend` (the fake datastore of the tests, the in-memory smoke run).
  SimAgent(std::string node, datastore::Backend& backend, int max_version);
  ~SimAgent();
  SimAgent(const SimAgent&) = delete;
  SimAgent& operator=(const SimAgent&) = delete;

  // The agent's start: list, calculate, render (nothing is programmed).
  [[nodiscard]] Status FullSync();
  // Takes watch batches until `stop`; after each, publishes the version its model holds.
  // Datastore errors are counted and retried (as Agent::Run does).
  void Run(const std::atomic<bool>& stop);

  const std::string& node() const { return node_; }
  // The highest "sim-change" version seen in the model (-1: none yet).
  int version() const { return version_.load(std::memory_order_acquire); }
  // When the model first held `v` (valid once version() >= v; epoch when it skipped v).
  Clock::time_point seen_at(int v) const { return seen_at_.at(static_cast<size_t>(v)); }
  int64_t errors() const { return errors_.load(); }
  // The agent's model: only while Run is not running.
  const policy::Model& model() const { return agent_->model(); }

 private:
  class NoKernel;
  class NoRoutes;
  void Publish();

  std::string node_;
  std::unique_ptr<datastore::Backend> owned_;
  std::unique_ptr<NoKernel> kernel_;
  std::unique_ptr<NoRoutes> routes_;
  agent::Metrics metrics_;
  std::unique_ptr<agent::Agent> agent_;
  std::atomic<int> version_{-1};
  std::vector<Clock::time_point> seen_at_;
  std::atomic<int64_t> errors_{0};
};

[[nodiscard]] Result<std::vector<RowResult>> RunSimulation(const SimulateOptions& options);

}  // namespace calico::bench
