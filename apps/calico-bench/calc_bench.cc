#include "calc_bench.h"

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "calico/agent/agent.h"
#include "calico/calc/calc_graph.h"
#include "calico/datastore/client.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/flowlog/collector.h"
#include "calico/model/v3/stored_endpoint.h"
#include "calico/model/v3/stored_policy.h"
#include "calico/model/validate.h"
#include "calico/policy/ruleset_renderer.h"

#include "policy_apply.h"

namespace calico::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The kernel is not what this row measures: the agent's transactions go nowhere.
class NoKernel final : public agent::PolicyProgrammer {
 public:
  Status ApplyFull(const nft_model::NftRuleset&) override { return OkStatus(); }
  Status ApplyIncremental(const nft_model::NftRuleset&, const nft_model::NftRuleset&) override {
    return OkStatus();
  }
  Result<bool> Matches() override { return true; }
};
class NoRoutes final : public agent::RouteProgrammer {
 public:
  Result<agent::RouteSyncStats> Sync(const std::set<agent::OwnedRoute>&) override {
    return agent::RouteSyncStats{};
  }
  Status ConfigureInterface(const std::string&, bool, bool) override { return OkStatus(); }
};

// Resident bytes of this process once freed heap is given back (as the agent does after a sync).
double ResidentBytes() {
  ::malloc_trim(0);
  std::ifstream statm("/proc/self/statm");
  long pages = 0;
  long resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

// One agent's full sync against `store` with the kernel left out: its time, and the resident
// memory it holds afterwards.
struct SyncFigures {
  double ms = 0;
  double held_bytes = 0;
};
Result<SyncFigures> AgentSync(datastore::Backend& store, bool decode_thread = false) {
  const double before = ResidentBytes();
  agent::AgentConfig cfg;
  cfg.node_name = "bench";
  cfg.decode_thread = decode_thread;
  NoKernel programmer;
  NoRoutes routes;
  agent::Metrics metrics;
  agent::Agent a(cfg, store, programmer, routes, metrics);
  const auto start = Clock::now();
  RETURN_IF_ERROR(a.FullSync());
  SyncFigures out{.ms = Ms(Clock::now() - start)};
  out.held_bytes = ResidentBytes() - before;
  return out;
}

// The start-up phases one after the other on one thread, as separate passes (what each costs).
struct Phases {
  double list = 0, decode = 0, calc = 0, model = 0, render = 0;
  // With flow logs on, every program also builds CalcGraph::Endpoints() and, from it and the
  // model, the collector's lookups (flowlog::FlowContext; flowlog/linux/node_flow_logs.cc).
  // flow_context: a context with its endpoint table built (the first program, or any after an
  // endpoint changed); flow_context_unchanged: the next one with no endpoint changed (the table
  // shared, flowlog::FlowContextSource).
  double endpoints = 0, flow_context = 0, flow_context_unchanged = 0;
};
Result<Phases> TimePhases(datastore::Backend& store) {
  Phases p;
  auto t = Clock::now();
  ASSIGN_OR_RETURN(auto list, store.List("/calico/"));
  p.list = Ms(Clock::now() - t);
  t = Clock::now();
  // As the agent decodes (Agent::DecodeValue): WorkloadEndpoints and (Global)NetworkPolicies
  // straight into the typed form, the rest through the JSON tree and model::Validate. Workload
  // endpoint keys sort last and policies before most others matter to the graph only by kind, so
  // feeding each group in turn keeps what the graph builds.
  std::vector<model::Resource> resources;
  std::vector<model::v3::WorkloadEndpoint> weps;
  std::vector<model::v3::GlobalNetworkPolicy> gnps;
  std::vector<model::v3::NetworkPolicy> nps;
  resources.reserve(list.kvs.size());
  constexpr std::string_view kGnps =
      "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/";
  constexpr std::string_view kNps = "/calico/resources/v3/projectcalico.org/networkpolicies/";
  for (const auto& kv : list.kvs) {
    if (kv.key.rfind(datastore::kResourcePrefix, 0) != 0) continue;
    if (auto wep = model::v3::ReadValidStoredWorkloadEndpoint(kv.value, kv.mod_revision)) {
      weps.push_back(std::move(*wep));
      continue;
    }
    if (kv.key.rfind(kGnps, 0) == 0) {
      if (auto pol = model::v3::ReadValidStoredGlobalNetworkPolicy(kv.value, kv.mod_revision)) {
        gnps.push_back(std::move(*pol));
        continue;
      }
    } else if (kv.key.rfind(kNps, 0) == 0) {
      if (auto pol = model::v3::ReadValidStoredNetworkPolicy(kv.value, kv.mod_revision)) {
        nps.push_back(std::move(*pol));
        continue;
      }
    }
    ASSIGN_OR_RETURN(auto r, datastore::DecodeStoredResource(kv.key, kv.value, kv.mod_revision));
    RETURN_IF_ERROR(model::Validate(r));
    resources.push_back(std::move(r));
  }
  p.decode = Ms(Clock::now() - t);
  t = Clock::now();
  calc::CalcGraph graph("bench");
  graph.ReserveEndpoints(weps.size());  // As the agent's full sync.
  for (const auto& r : resources) {
    graph.OnUpdate(r);
  }
  for (auto& gnp : gnps) {
    graph.OnGlobalNetworkPolicy(std::move(gnp));
  }
  for (auto& np : nps) {
    graph.OnNetworkPolicy(std::move(np));
  }
  for (auto& wep : weps) {
    graph.OnWorkloadEndpoint(std::move(wep));
  }
  p.calc = Ms(Clock::now() - t);
  t = Clock::now();
  policy::Model model = graph.Model();
  p.model = Ms(Clock::now() - t);
  t = Clock::now();
  std::vector<calc::EndpointSummary> endpoints = graph.Endpoints();
  p.endpoints = Ms(Clock::now() - t);
  if (endpoints.size() != weps.size()) {
    return Internal(fmt::format("Endpoints() listed {} of {}", endpoints.size(), weps.size()));
  }
  flowlog::FlowContextSource contexts;
  t = Clock::now();
  auto context = contexts.Make(model, graph);
  p.flow_context = Ms(Clock::now() - t);
  t = Clock::now();
  context = contexts.Make(model, graph);
  p.flow_context_unchanged = Ms(Clock::now() - t);
  if (contexts.rebuilt()) return Internal("FlowContextSource rebuilt with no endpoint changed");
  t = Clock::now();
  policy::RenderCache cache;
  policy::RenderReport report;
  ASSIGN_OR_RETURN(auto ruleset, policy::RenderRulesetParts(model, {}, &cache, &report));
  p.render = Ms(Clock::now() - t);
  return p;
}

}  // namespace

Result<std::vector<RowResult>> RunCalcBench(const CalcBenchOptions& o) {
  if (o.endpoints <= o.local) return InvalidArgument("--endpoints must exceed --local");
  // The same data, and the same policies and local endpoints without the remote endpoints.
  datastore::MemBackend full_store(nullptr, 1000000);
  datastore::MemBackend local_store(nullptr, 1000000);
  {
    datastore::Client full(full_store);
    RETURN_IF_ERROR(FillBenchStore(full, o.endpoints, o.local, o.policies));
    datastore::Client local(local_store);
    RETURN_IF_ERROR(FillBenchStore(local, o.local, o.local, o.policies));
  }
  std::vector<double> sync_ms, per_endpoint, two_threads_ms;
  std::vector<Phases> phases;
  for (int i = 0; i < o.repeats; ++i) {
    ASSIGN_OR_RETURN(SyncFigures base, AgentSync(local_store));
    ASSIGN_OR_RETURN(SyncFigures all, AgentSync(full_store));
    sync_ms.push_back(all.ms);
    ASSIGN_OR_RETURN(SyncFigures two, AgentSync(full_store, true));
    two_threads_ms.push_back(two.ms);
    per_endpoint.push_back((all.held_bytes - base.held_bytes) / (o.endpoints - o.local));
    ASSIGN_OR_RETURN(Phases p, TimePhases(full_store));
    phases.push_back(p);
  }
  auto median = [&](double Phases::*field) {
    std::vector<double> v;
    for (const Phases& p : phases) {
      v.push_back(p.*field);
    }
    return Percentile(v, 50);
  };
  const Json params = {{"endpoints", o.endpoints}, {"local", o.local}, {"policies", o.policies}};
  std::vector<RowResult> rows;
  auto row = [&](const std::string& metric, double ours, double peer, const std::string& unit,
                 const std::string& peer_name) {
    RowResult r{.row = "calc",
                .metric = metric,
                .ours = ours,
                .peer = peer,
                .unit = unit,
                .samples = o.repeats,
                .params = params};
    r.params["peer"] = peer_name;
    rows.push_back(std::move(r));
  };
  row("bytes_per_remote_endpoint", Percentile(per_endpoint, 50), 1024, "B", "target 1 KB");
  row("sync_no_kernel_ms", Percentile(sync_ms, 50), 1000, "ms", "target 1 s (full program)");
  // The same sync with the values decoded on a second thread (AgentConfig::decode_thread), against
  // the one-thread sync of the same run.
  row("sync_decode_thread_ms", Percentile(two_threads_ms, 50), Percentile(sync_ms, 50), "ms",
      "sync_no_kernel_ms (one thread)");
  // Each phase alone on one thread, against the same budget.
  row("phase_list_ms", median(&Phases::list), 1000, "ms", "target 1 s (full program)");
  row("phase_decode_ms", median(&Phases::decode), 1000, "ms", "target 1 s (full program)");
  row("phase_calc_ms", median(&Phases::calc), 1000, "ms", "target 1 s (full program)");
  row("phase_model_ms", median(&Phases::model), 1000, "ms", "target 1 s (full program)");
  row("phase_render_ms", median(&Phases::render), 1000, "ms", "target 1 s (full program)");
  // What flow logs add to every program (the agent's summary of every endpoint for the collector),
  // against the model it is built beside.
  row("flow_endpoints_ms", median(&Phases::endpoints), median(&Phases::model), "ms",
      "phase_model_ms (same run)");
  row("flow_context_ms", median(&Phases::flow_context), median(&Phases::model), "ms",
      "phase_model_ms (same run)");
  row("flow_context_unchanged_ms", median(&Phases::flow_context_unchanged), median(&Phases::model),
      "ms", "phase_model_ms (same run)");
  return rows;
}

}  // namespace calico::bench
