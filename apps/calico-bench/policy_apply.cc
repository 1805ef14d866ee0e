#include "policy_apply.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "calico/agent/agent.h"
#include "calico/agent/linux/programmers.h"
#include "calico/base/cleanup.h"
#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/base/subprocess.h"
#include "calico/base/unique_fd.h"
#include "calico/dataplane/netns.h"
#include "calico/dataplane/testing/netns_fixture.h"
#include "calico/datastore/client.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/local/sqlite_backend.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::bench {
namespace {

using Clock = std::chrono::steady_clock;
using dataplane::testing::ScopedNetns;
using model::Json;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Routes are not what this row measures.
class NoRoutes final : public agent::RouteProgrammer {
 public:
  Result<agent::RouteSyncStats> Sync(const std::set<agent::OwnedRoute>&) override {
    return agent::RouteSyncStats{};
  }
  Status ConfigureInterface(const std::string&, bool, bool) override { return OkStatus(); }
};

}  // namespace

model::Resource BenchEndpoint(int i, int local) {
  std::string id = fmt::format("{:011x}", i);
  model::Resource wep("WorkloadEndpoint", "", "default");
  wep.metadata()["labels"] = {{"app", fmt::format("app-{}", i % 100)},
                              {"tier", i % 3 == 0 ? "web" : "db"}};
  wep.spec() = Json{
      {"orchestrator", "cni"},
      {"node", i < local ? "bench" : fmt::format("node-{}", i % 50)},
      {"containerID", id},
      {"endpoint", "eth0"},
      {"interfaceName", "cali" + id},
      {"ipNetworks",
       Json::array({fmt::format("10.{}.{}.{}/32", 100 + i / 65536, (i / 256) % 256, i % 256)})},
      {"profiles", Json::array({"bench"})}};
  return wep;
}

model::Resource BenchPolicy(int i, int port_shift) {
  model::Resource p("GlobalNetworkPolicy", fmt::format("p{:05d}", i));
  p.spec() = Json{
      {"order", i},
      {"selector", fmt::format("app == 'app-{}'", i % 100)},
      {"ingress",
       Json::array({{{"action", "Allow"},
                     {"protocol", "TCP"},
                     {"source", {{"selector", fmt::format("app == 'app-{}'", (i + 1) % 100)}}},
                     {"destination", {{"ports", Json::array({1000 + (i + port_shift) % 5000})}}}},
                    {{"action", "Deny"}, {"source", {{"nets", Json::array({"192.0.2.0/24"})}}}}})},
      {"egress", Json::array({{{"action", "Allow"}}})}};
  return p;
}

Status FillBenchStore(datastore::Client& client, int endpoints, int local, int policies) {
  RETURN_IF_ERROR(client.EnsureInitialized());
  model::Resource profile("Profile", "bench");
  profile.spec() = Json{{"ingress", Json::array({{{"action", "Allow"}}})},
                        {"egress", Json::array({{{"action", "Allow"}}})}};
  RETURN_IF_ERROR(client.Create(profile));
  for (int i = 0; i < endpoints; ++i) {
    RETURN_IF_ERROR(client.Create(BenchEndpoint(i, local)));
  }
  for (int i = 0; i < policies; ++i) {
    RETURN_IF_ERROR(client.Create(BenchPolicy(i)));
  }
  return OkStatus();
}

namespace {

// Runs `fn` on a thread inside a fresh namespace.
Status InFreshNetns(const std::string& prefix, const std::function<Status()>& fn) {
  ScopedNetns ns(prefix);
  if (!ns.ok()) return Unavailable("cannot create a bench namespace (run as root)");
  ASSIGN_OR_RETURN(auto fd, dataplane::NetnsFd::Open(ns.path()));
  return dataplane::RunInNetns(fd, fn);
}

// calico-node -felix on a SQLite copy of the same data: its RSS once in sync.
Result<double> AgentRssMb(const std::string& bin, int endpoints, int local, int policies) {
  char tmpl[] = "/tmp/calico-bench-rss-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Unavailable("mkdtemp");
  std::string dir = tmpl;
  Cleanup rm([&dir] {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  });
  {
    ASSIGN_OR_RETURN(auto store, datastore::SqliteBackend::Open(dir + "/calico.db"));
    datastore::Client client(*store);
    RETURN_IF_ERROR(FillBenchStore(client, endpoints, local, policies));
  }
  ScopedNetns ns("calico-bench-rss");
  if (!ns.ok()) return Unavailable("cannot create a bench namespace");
  std::string log = dir + "/agent.log";
  UniqueFd netns(::open(ns.path().c_str(), O_RDONLY | O_CLOEXEC));
  if (!netns) return Unexpected(Error::FromErrno(errno, "open " + ns.path()));
  Environment env = CurrentEnvironment();
  env["NODENAME"] = "bench";
  env["DATASTORE_TYPE"] = "local";
  env["CALICO_DATASTORE_PATH"] = dir + "/calico.db";
  env["FELIX_HEALTHENABLED"] = "false";
  ASSIGN_OR_RETURN(pid_t pid, SpawnSubprocess({.argv = {bin + "/calico-node", "-felix"},
                                               .env = std::move(env),
                                               .netns_fd = netns.get()},
                                              {.log_path = log}));
  double rss = 0;
  for (int i = 0; i < 600 && rss == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("in sync at revision") == std::string::npos) continue;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("VmRSS:", 0) != 0) continue;
      // "VmRSS:\t   65432 kB"
      const std::vector<std::string> words = StrSplit(StrTrim(line.substr(6)), ' ', true);
      if (auto kb = ParseDouble(words.empty() ? "" : words[0])) rss = *kb / 1024.0;
    }
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  if (rss == 0) return Unavailable("calico-node did not get in sync (see its log)");
  return rss;
}

}  // namespace

Result<std::vector<RowResult>> RunPolicyApply(const PolicyApplyOptions& o) {
  std::vector<RowResult> rows;
  for (int policies : o.policies) {
    datastore::MemBackend store(nullptr, 1000000);
    datastore::Client client(store);
    RETURN_IF_ERROR(FillBenchStore(client, o.endpoints, o.local, policies));
    Json params = {{"endpoints", o.endpoints}, {"local", o.local}, {"policies", policies}};
    std::vector<double> full, nft;
    std::vector<double> incremental;
    std::vector<double> floor;       // the same changes as `nft -f` transactions
    std::vector<std::string> diffs;  // each change's minimal transaction, in order
    std::string text;
    // Full programs are single events on a shared machine: three of each side, medians reported.
    const int kFullRepeats = o.full_repeats;
    // One agent in a fresh namespace: its full program, then (first run only) the changes.
    auto measure = [&](int changes) -> Status {
      agent::AgentConfig cfg;
      cfg.node_name = "bench";
      agent::NftPolicyProgrammer programmer;
      NoRoutes routes;
      agent::Metrics metrics;
      agent::Agent a(cfg, store, programmer, routes, metrics);
      auto start = Clock::now();
      RETURN_IF_ERROR(a.FullSync());
      full.push_back(Ms(Clock::now() - start));
      text = nft_model::NftRulesetText(a.applied());
      for (int c = 0; c < changes; ++c) {
        // One policy that applies to local endpoints gets a new port.
        const nft_model::NftRuleset applied_before = a.applied();
        RETURN_IF_ERROR(store.Put(
            datastore::ResourceKey{.kind = model::LookupKind("GlobalNetworkPolicy"),
                                   .name = fmt::format("p{:05d}", c % std::min(policies, 100))}
                .Format(),
            datastore::EncodeStoredResource(BenchPolicy(c % std::min(policies, 100), c + 1))));
        auto t0 = Clock::now();
        const uint64_t before = a.policy_applies();
        while (a.policy_applies() == before && Ms(Clock::now() - t0) < 10000) {
          RETURN_IF_ERROR(a.Step(std::chrono::milliseconds(50)));
        }
        incremental.push_back(Ms(Clock::now() - t0));
        diffs.push_back(nft_model::DiffNftRulesets(applied_before, a.applied()).commands);
      }
      return OkStatus();
    };
    RETURN_IF_ERROR(InFreshNetns("calico-bench-pa", [&] { return measure(o.changes); }));
    for (int i = 1; i < kFullRepeats; ++i) {
      RETURN_IF_ERROR(InFreshNetns("calico-bench-pa", [&] { return measure(0); }));
    }
    // The limit: nft itself loading the same ruleset into a fresh namespace.
    std::string file = "/tmp/calico-bench-ruleset-" + std::to_string(::getpid()) + ".nft";
    std::ofstream(file) << text;
    for (int i = 0; i < kFullRepeats; ++i) {
      ScopedNetns ns("calico-bench-nft");
      auto t0 = Clock::now();
      int rc = ns.Exec("nft -f " + file);
      nft.push_back(Ms(Clock::now() - t0));
      if (rc != 0) {
        std::filesystem::remove(file);
        return Unavailable("nft -f could not load the rendered ruleset");
      }
    }
    // The kernel's floor for one change: the same ruleset loaded into a fresh namespace, then
    // each change the agent made, in the same order, as the smallest `nft -f` transaction (the
    // diff between the rulesets before and after it). nft runs in the namespace directly.
    {
      ScopedNetns ns("calico-bench-floor");
      UniqueFd netns(::open(ns.path().c_str(), O_RDONLY | O_CLOEXEC));
      if (!ns.ok() || !netns) {
        std::filesystem::remove(file);
        return Unavailable("cannot create a bench namespace");
      }
      auto nft_f = [&](const std::string& path) -> Status {
        ASSIGN_OR_RETURN(auto out,
                         RunSubprocess({.argv = {"nft", "-f", path}, .netns_fd = netns.get()}));
        if (out.exit_code != 0) return Unavailable("nft -f " + path + ": " + out.err);
        return OkStatus();
      };
      Status loaded = nft_f(file);
      const std::string change_file = file + ".change";
      if (!o.keep_dir.empty()) {
        std::filesystem::copy_file(file, fmt::format("{}/{}-ruleset.nft", o.keep_dir, policies),
                                   std::filesystem::copy_options::overwrite_existing);
        for (size_t i = 0; i < diffs.size(); ++i) {
          std::ofstream(fmt::format("{}/{}-change-{}.nft", o.keep_dir, policies, i)) << diffs[i];
        }
      }
      for (size_t i = 0; loaded && i < diffs.size(); ++i) {
        std::ofstream(change_file) << diffs[i];
        auto t0 = Clock::now();
        loaded = nft_f(change_file);
        floor.push_back(Ms(Clock::now() - t0));
      }
      std::filesystem::remove(change_file);
      if (!loaded) {
        std::filesystem::remove(file);
        return Unexpected(loaded.error().Wrap("the one-change floor"));
      }
    }
    std::filesystem::remove(file);
    const double full_ms = Percentile(full, 50);
    const double nft_ms = Percentile(nft, 50);
    auto row = [&](const char* metric, double ours, double peer, int samples) {
      RowResult r;
      r.row = "policy-apply";
      r.metric = metric;
      r.ours = ours;
      r.peer = peer;
      r.unit = "ms";
      r.samples = samples;
      r.params = params;
      r.params["peer"] = "nft -f (limit)";
      rows.push_back(r);
    };
    row("full_ms", full_ms, nft_ms, kFullRepeats);
    // One change against the same change sent alone to the kernel as an `nft -f` transaction.
    auto change_row = [&](const char* metric, double p) {
      row(metric, Percentile(incremental, p), Percentile(floor, p),
          static_cast<int>(incremental.size()));
      rows.back().params["peer"] = "nft -f of the same change into the loaded table (floor)";
    };
    change_row("incr_p50_ms", 50);
    change_row("incr_p99_ms", 99);
    if (!o.bin.empty()) {
      ASSIGN_OR_RETURN(double rss, AgentRssMb(o.bin, o.endpoints, o.local, policies));
      RowResult r;
      r.row = "memory";
      r.metric = "rss_mb";
      r.ours = rss;
      r.peer = 100;  // the target, DESIGN section 8
      r.unit = "MB";
      r.samples = 1;
      r.params = params;
      r.params["peer"] = "target 100 MB";
      rows.push_back(r);
      if (o.endpoints > o.local) {
        // What calico-node holds per remote endpoint: against the same data without them.
        ASSIGN_OR_RETURN(double local_rss, AgentRssMb(o.bin, o.local, o.local, policies));
        r.metric = "bytes_per_remote_endpoint";
        r.ours = (rss - local_rss) * 1024.0 * 1024.0 / (o.endpoints - o.local);
        r.peer = 1024;
        r.unit = "B";
        r.params["peer"] = "target 1 KB";
        rows.push_back(r);
      }
    }
  }
  return rows;
}

}  // namespace calico::bench
