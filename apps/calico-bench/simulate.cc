// calico-bench simulate. See simulate.h.
#include "simulate.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/base/subprocess.h"
#include "calico/datastore/factory/factory.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/ipam/ipam.h"

namespace calico::bench {
namespace {

using Clock = std::chrono::steady_clock;
using model::Json;

constexpr std::string_view kChangePolicy = "sim-change";
constexpr int kChangePortBase = 10000;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The named field of /proc/<pid>/status in kB ("VmRSS"), 0 when unreadable.
double StatusKb(const std::string& pid, std::string_view field) {
  std::ifstream in("/proc/" + pid + "/status");
  for (std::string line; std::getline(in, line);) {
    if (!StartsWith(line, field) || line.size() <= field.size() || line[field.size()] != ':') {
      continue;
    }
    const std::vector<std::string> words =
        StrSplit(StrTrim(std::string_view(line).substr(field.size() + 1)), ' ', true);
    if (auto kb = ParseDouble(words.empty() ? "" : words[0])) return *kb;
  }
  return 0;
}

// User + system CPU seconds of a process (/proc/<pid>/stat fields 14 and 15), 0 when unreadable.
double CpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  const std::vector<std::string> f = StrSplit(text.substr(paren + 2), ' ', true);
  // f[0] is field 3 (state): utime is field 14, stime 15.
  if (f.size() < 13) return 0;
  auto utime = ParseDouble(f[11]);
  auto stime = ParseDouble(f[12]);
  if (!utime || !stime) return 0;
  return (*utime + *stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// This process's resident memory once freed heap is returned (as the agent does after a sync).
double SelfRssMb() {
  ::malloc_trim(0);
  return StatusKb("self", "VmRSS") / 1024.0;
}

// One gauge of a Prometheus text page (summed over its label sets), nullopt when absent.
std::optional<double> Gauge(const std::string& page, std::string_view name) {
  std::optional<double> sum;
  for (const std::string& line : StrSplit(page, '\n', true)) {
    if (!StartsWith(line, name)) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != ' ' && next != '{') continue;
    const size_t space = line.rfind(' ');
    if (auto v = ParseDouble(line.substr(space + 1))) sum = sum.value_or(0) + *v;
  }
  return sum;
}

Result<std::string> FetchMetrics(const std::string& url) {
  ASSIGN_OR_RETURN(auto out, RunSubprocess({.argv = {"curl", "-sf", "--max-time", "10", url}},
                                           {.timeout = std::chrono::milliseconds(15000)}));
  if (out.exit_code != 0) {
    return Unavailable(fmt::format("curl {} exited {}: {}", url, out.exit_code, out.err));
  }
  return out.out;
}

// The bytes the datastore holds under /calico/ (keys and values).
Result<double> DatastoreBytes(datastore::Backend& backend) {
  ASSIGN_OR_RETURN(auto list, backend.List("/calico/"));
  double bytes = 0;
  for (const auto& kv : list.kvs) {
    bytes += static_cast<double>(kv.key.size() + kv.value.size());
  }
  return bytes;
}

}  // namespace

std::string SimNodeName(int i) {
  return fmt::format("sim-node-{}", i);
}

model::Resource SimChangePolicy(int version) {
  model::Resource p("GlobalNetworkPolicy", kChangePolicy);
  p.spec() =
      Json{{"order", 5},
           {"selector", "all()"},
           {"ingress",
            Json::array({{{"action", "Allow"},
                          {"protocol", "TCP"},
                          {"destination", {{"ports", Json::array({kChangePortBase + version})}}}},
                         {{"action", "Pass"}}})},
           {"egress", Json::array({{{"action", "Pass"}}})}};
  return p;
}

std::optional<int> SimChangeVersion(const policy::Model& model) {
  for (const policy::Policy& p : model.policies) {
    if (!EndsWith(p.id, kChangePolicy)) continue;
    const auto& rules = p.ingress.rules();
    if (rules.empty() || rules[0].destination.ports.empty()) return std::nullopt;
    return static_cast<int>(rules[0].destination.ports[0].first) - kChangePortBase;
  }
  return std::nullopt;
}

Status FillSimPolicies(datastore::Client& client, int policies) {
  RETURN_IF_ERROR(client.EnsureInitialized());
  model::Resource pool("IPPool", "sim-pool");
  pool.spec() = Json{{"cidr", "10.64.0.0/14"}, {"blockSize", 26}};
  RETURN_IF_ERROR(client.Create(std::move(pool)));
  // The profile Calico's CNI plugin makes for a network (labelsToApply names the network).
  model::Resource profile("Profile", "sim");
  profile.spec() = Json{{"ingress", Json::array({{{"action", "Allow"}}})},
                        {"egress", Json::array({{{"action", "Allow"}}})},
                        {"labelsToApply", {{"sim", ""}}}};
  RETURN_IF_ERROR(client.Create(std::move(profile)));
  for (int p = 0; p < policies; ++p) {
    model::Resource gnp("GlobalNetworkPolicy", fmt::format("sim-p{:04d}", p));
    gnp.spec() = Json{
        {"order", 100 + p},
        {"selector", fmt::format("app == 'app-{}'", p % 10)},
        {"ingress",
         Json::array({{{"action", "Allow"},
                       {"protocol", "TCP"},
                       {"source", {{"selector", fmt::format("app == 'app-{}'", (p + 1) % 10)}}},
                       {"destination", {{"ports", Json::array({2000 + p})}}}}})},
        {"egress", Json::array({{{"action", "Allow"}}})}};
    RETURN_IF_ERROR(client.Create(std::move(gnp)));
  }
  RETURN_IF_ERROR(client.Create(SimChangePolicy(0)));
  return OkStatus();
}

Status AddSimNode(datastore::Backend& backend, int i, int endpoints) {
  if (endpoints < 0 || endpoints > 256) {
    return InvalidArgument(fmt::format("{} endpoints per node: at most 256", endpoints));
  }
  datastore::Client client(backend);
  const std::string name = SimNodeName(i);
  model::Resource node("Node", name);
  node.spec() = Json{
      {"bgp", {{"ipv4Address", fmt::format("172.16.{}.{}/16", (i / 250) % 256, i % 250 + 1)}}}};
  RETURN_IF_ERROR(client.Create(std::move(node)));
  ipam::IpamClient ipam(backend);
  for (int j = 0; j < endpoints; ++j) {
    const std::string container = fmt::format("{:08x}{:04x}", i, j);
    ipam::AutoAssignArgs args;
    args.num4 = 1;
    args.handle = "sim." + container;
    args.host = name;
    args.attrs = Json{{"node", name}, {"namespace", "default"}, {"pod", container}};
    ASSIGN_OR_RETURN(auto assigned, ipam.AutoAssign(args));
    if (assigned.ipv4.empty()) {
      return Unavailable(fmt::format("IPAM gave {} no address", name));
    }
    const net::CIDR& cidr = assigned.ipv4[0];
    model::Resource wep("WorkloadEndpoint", "", "default");
    wep.metadata()["labels"] = {{"app", fmt::format("app-{}", j % 10)}};
    wep.spec() = Json{{"orchestrator", "cni"},
                      {"node", name},
                      {"containerID", container},
                      {"endpoint", "eth0"},
                      {"interfaceName", fmt::format("cali{:011x}", i * 256 + j)},
                      {"ipNetworks", Json::array({cidr.addr().String() + "/32"})},
                      {"profiles", Json::array({"sim"})}};
    RETURN_IF_ERROR(client.Create(std::move(wep)));
  }
  return OkStatus();
}

// The kernel is not what the simulation measures: transactions and routes go nowhere.
class SimAgent::NoKernel final : public agent::PolicyProgrammer {
 public:
  Status ApplyFull(const nft_model::NftRuleset&) override { return OkStatus(); }
  Status ApplyIncremental(const nft_model::NftRuleset&, const nft_model::NftRuleset&) override {
    return OkStatus();
  }
  Result<bool> Matches() override { return true; }
};

class SimAgent::NoRoutes final : public agent::RouteProgrammer {
 public:
  Result<agent::RouteSyncStats> Sync(const std::set<agent::OwnedRoute>&) override {
    return agent::RouteSyncStats{};
  }
  Status ConfigureInterface(const std::string&, bool, bool) override { return OkStatus(); }
};

SimAgent::SimAgent(std::string node, std::unique_ptr<datastore::Backend> backend, int max_version)
    : SimAgent(std::move(node), *backend, max_version) {
  owned_ = std::move(backend);
}

SimAgent::SimAgent(std::string node, datastore::Backend& backend, int max_version)
    : node_(std::move(node)),
      kernel_(std::make_unique<NoKernel>()),
      routes_(std::make_unique<NoRoutes>()),
      seen_at_(static_cast<size_t>(max_version) + 1) {
  agent::AgentConfig cfg;
  cfg.node_name = node_;
  cfg.program_routes = false;
  agent_ = std::make_unique<agent::Agent>(std::move(cfg), backend, *kernel_, *routes_, metrics_);
}

SimAgent::~SimAgent() {
  agent_.reset();  // Closes its watch before the backend goes.
}

Status SimAgent::FullSync() {
  RETURN_IF_ERROR(agent_->FullSync());
  Publish();
  return OkStatus();
}

void SimAgent::Publish() {
  const std::optional<int> v = SimChangeVersion(agent_->model());
  const int was = version_.load(std::memory_order_relaxed);
  if (!v || *v <= was) return;
  const auto now = Clock::now();
  for (int k = std::max(was + 1, 0); k <= *v && k < static_cast<int>(seen_at_.size()); ++k) {
    seen_at_[static_cast<size_t>(k)] = k == *v ? now : Clock::time_point{};
  }
  version_.store(*v, std::memory_order_release);
}

void SimAgent::Run(const std::atomic<bool>& stop) {
  while (!stop) {
    Status st = agent_->Step(std::chrono::milliseconds(200));
    if (!st) {
      ++errors_;
      CALICO_LOG(warn, "simulate", "{}: {}", node_, st.error().message());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    Publish();
  }
}

namespace {

// The running agents and their threads.
class Fleet {
 public:
  ~Fleet() { Stop(); }

  void Add(std::unique_ptr<SimAgent> agent) {
    SimAgent* a = agent.get();
    agents_.push_back(std::move(agent));
    threads_.emplace_back([this, a] { a->Run(stop_); });
  }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
  }
  const std::vector<std::unique_ptr<SimAgent>>& agents() const { return agents_; }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<SimAgent>> agents_;
  std::vector<std::thread> threads_;
};

// Runs `fn(i)` for i in [from, to) on `parallel` threads; the first error.
Status ParallelFor(int from, int to, int parallel, const std::function<Status(int)>& fn) {
  std::atomic<int> next{from};
  std::mutex mu;
  Status first = OkStatus();
  std::vector<std::thread> workers;
  for (int w = 0; w < parallel; ++w) {
    workers.emplace_back([&] {
      for (int i = next++; i < to; i = next++) {
        Status st = fn(i);
        if (!st) {
          std::lock_guard<std::mutex> lock(mu);
          if (first) first = std::move(st);
          next = to;
        }
      }
    });
  }
  for (auto& t : workers)
    t.join();
  return first;
}

struct MemberFigures {
  double cpu_s = 0;
  double rss_mb = 0;
  std::optional<double> watch_streams;
  std::optional<double> watchers;
};

std::vector<MemberFigures> Members(const SimulateOptions& o) {
  const size_t n = std::max(o.etcd_pids.size(), o.etcd_metrics.size());
  std::vector<MemberFigures> out(n);
  for (size_t m = 0; m < n; ++m) {
    if (m < o.etcd_pids.size()) {
      out[m].cpu_s = CpuSeconds(o.etcd_pids[m]);
      out[m].rss_mb = StatusKb(std::to_string(o.etcd_pids[m]), "VmRSS") / 1024.0;
    }
    if (m < o.etcd_metrics.size()) {
      auto page = FetchMetrics(o.etcd_metrics[m]);
      if (!page) {
        CALICO_LOG(warn, "simulate", "etcd member {} metrics: {}", m + 1, page.error().message());
        continue;
      }
      out[m].watch_streams = Gauge(*page, "etcd_debugging_mvcc_watch_stream_total");
      out[m].watchers = Gauge(*page, "etcd_debugging_mvcc_watcher_total");
    }
  }
  return out;
}

}  // namespace

Result<std::vector<RowResult>> RunSimulation(const SimulateOptions& o) {
  log::SetLevel("agent", "warn");
  const bool etcd = !o.etcd_endpoints.empty();
  datastore::ClientConfig cfg;
  cfg.type = datastore::DatastoreType::kEtcdV3;
  cfg.etcd.endpoints = o.etcd_endpoints;
  datastore::MemBackend mem(nullptr, 1000000);
  // The writer (fills, changes): one more client of the cluster.
  std::unique_ptr<datastore::Backend> writer_owned;
  if (etcd) {
    ASSIGN_OR_RETURN(writer_owned, datastore::OpenBackend(cfg));
  }
  datastore::Backend& writer = etcd ? *writer_owned : mem;
  auto open = [&]() -> Result<std::unique_ptr<datastore::Backend>> {
    return datastore::OpenBackend(cfg);
  };
  datastore::Client client(writer);
  RETURN_IF_ERROR(FillSimPolicies(client, o.policies));
  ASSIGN_OR_RETURN(const double base_bytes, DatastoreBytes(writer));
  const double base_rss = SelfRssMb();
  const int max_version = static_cast<int>(o.nodes.size()) * o.changes;

  std::vector<RowResult> rows;
  Fleet fleet;
  int have = 0;
  int version = 0;
  for (const int n : o.nodes) {
    if (n <= have) return InvalidArgument("--nodes must be ascending");
    const Json params = {{"nodes", n},
                         {"endpoints_per_node", o.endpoints_per_node},
                         {"policies", o.policies + 1},
                         {"store", etcd ? fmt::format("etcd, {} members", o.etcd_endpoints.size())
                                        : std::string("in-memory")}};
    auto row = [&](const std::string& metric, double ours, double peer, const std::string& unit,
                   int samples, const std::string& peer_name, const Json& extra = Json::object()) {
      RowResult r{.row = "simulate",
                  .metric = metric,
                  .ours = ours,
                  .peer = peer,
                  .unit = unit,
                  .samples = samples,
                  .params = params};
      r.params["peer"] = peer_name;
      for (const auto& [k, v] : extra.items())
        r.params[k] = v;
      rows.push_back(std::move(r));
    };
    // The new nodes' data, written by 4 clients at once (as nodes joining).
    const auto fill_start = Clock::now();
    RETURN_IF_ERROR(ParallelFor(
        have, n, 4, [&](int i) { return AddSimNode(writer, i, o.endpoints_per_node); }));
    fmt::print("simulate: {} nodes written in {:.1f} s\n", n, Ms(Clock::now() - fill_start) / 1000);
    ASSIGN_OR_RETURN(const double bytes, DatastoreBytes(writer));
    row("datastore_bytes_per_node", (bytes - base_bytes) / n, 0, "B", n,
        "none (keys and values under /calico/ per node: Node, IPAM block share, affinity, "
        "handles, endpoints)");

    // Start the new agents: each lists and calculates (at most parallel_syncs at once).
    const std::vector<MemberFigures> before_sync = Members(o);
    const auto sync_start = Clock::now();
    std::vector<std::unique_ptr<SimAgent>> started(static_cast<size_t>(n - have));
    auto start_agent = [&](int i) -> Status {
      std::unique_ptr<SimAgent> a;
      if (etcd) {
        ASSIGN_OR_RETURN(auto b, open());
        a = std::make_unique<SimAgent>(SimNodeName(i), std::move(b), max_version);
      } else {
        a = std::make_unique<SimAgent>(SimNodeName(i), writer, max_version);
      }
      RETURN_IF_ERROR(a->FullSync());
      started[static_cast<size_t>(i - have)] = std::move(a);
      return OkStatus();
    };
    RETURN_IF_ERROR(ParallelFor(have, n, o.parallel_syncs, start_agent));
    for (auto& a : started)
      fleet.Add(std::move(a));
    const double sync_s = Ms(Clock::now() - sync_start) / 1000;
    const std::vector<MemberFigures> after_sync = Members(o);
    const double rss = SelfRssMb();
    fmt::print("simulate: {} agents in sync ({} new in {:.1f} s), {:.0f} MB\n", n, n - have, sync_s,
               rss);
    row("sync_new_agents_s", sync_s, 0, "s", n - have,
        fmt::format("none ({} agents listing at once)", o.parallel_syncs),
        {{"new_agents", n - have}});
    row("rss_mb_per_agent", (rss - base_rss) / n, 0, "MB", n,
        "none (this process's RSS over the agents it runs)");
    have = n;

    // The changes: each until every agent's model holds it.
    std::vector<double> last, first, all;
    int timeouts = 0;
    for (int c = 0; c < o.changes; ++c) {
      ++version;
      const auto t0 = Clock::now();
      RETURN_IF_ERROR(client.Apply(SimChangePolicy(version)));
      const auto deadline = t0 + std::chrono::seconds(120);
      bool everyone = false;
      while (!everyone && Clock::now() < deadline) {
        everyone = std::all_of(fleet.agents().begin(), fleet.agents().end(),
                               [&](const auto& a) { return a->version() >= version; });
        if (!everyone) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (!everyone) {
        ++timeouts;
        continue;
      }
      std::vector<double> per_agent;
      for (const auto& a : fleet.agents()) {
        per_agent.push_back(Ms(a->seen_at(version) - t0));
      }
      all.insert(all.end(), per_agent.begin(), per_agent.end());
      first.push_back(*std::min_element(per_agent.begin(), per_agent.end()));
      last.push_back(*std::max_element(per_agent.begin(), per_agent.end()));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (timeouts > 0) {
      return Unavailable(
          fmt::format("{} of {} changes did not reach every one of {} agents "
                      "within 120 s",
                      timeouts, o.changes, n));
    }
    const std::vector<MemberFigures> after_changes = Members(o);
    const std::string floor = "the same change reaching the first agent (commit + one watch event)";
    row("change_all_p50_ms", Percentile(last, 50), Percentile(first, 50), "ms", o.changes, floor);
    row("change_all_p99_ms", Percentile(last, 99), Percentile(first, 99), "ms", o.changes, floor);
    row("change_agent_p50_ms", Percentile(all, 50), Percentile(first, 50), "ms",
        static_cast<int>(all.size()), floor);
    fmt::print(
        "simulate: {} agents: a change is in every model after p50 {:.1f} ms / p99 {:.1f} ms "
        "(first agent p50 {:.1f} ms; per agent p50 {:.1f} ms)\n",
        n, Percentile(last, 50), Percentile(last, 99), Percentile(first, 50), Percentile(all, 50));
    for (size_t m = 0; m < after_changes.size(); ++m) {
      const Json member = {{"member", m + 1}};
      if (m < o.etcd_pids.size()) {
        row("etcd_cpu_s_sync", after_sync[m].cpu_s - before_sync[m].cpu_s, 0, "s", 1,
            "none (the member's CPU while the new agents listed and watched)", member);
        row("etcd_cpu_s_changes", after_changes[m].cpu_s - after_sync[m].cpu_s, 0, "s", o.changes,
            "none (the member's CPU over the changes)", member);
        row("etcd_rss_mb", after_changes[m].rss_mb, 0, "MB", 1, "none", member);
      }
      if (after_changes[m].watch_streams) {
        row("etcd_watch_streams", *after_changes[m].watch_streams, 0, "streams", 1,
            "none (etcd_debugging_mvcc_watch_stream_total)", member);
      }
      fmt::print(
          "simulate: etcd member {}: cpu {:.2f} s sync, {:.2f} s changes, {:.0f} MB, {} "
          "watch streams, {} watchers\n",
          m + 1, m < o.etcd_pids.size() ? after_sync[m].cpu_s - before_sync[m].cpu_s : 0.0,
          m < o.etcd_pids.size() ? after_changes[m].cpu_s - after_sync[m].cpu_s : 0.0,
          after_changes[m].rss_mb, after_changes[m].watch_streams.value_or(-1),
          after_changes[m].watchers.value_or(-1));
    }
    int64_t errors = 0;
    for (const auto& a : fleet.agents())
      errors += a->errors();
    if (errors > 0) return Unavailable(fmt::format("the agents met {} datastore errors", errors));
  }
  fleet.Stop();
  return rows;
}

}  // namespace calico::bench
