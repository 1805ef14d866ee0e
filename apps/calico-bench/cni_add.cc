#include "cni_add.h"

#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include "calico/base/cleanup.h"
#include "calico/base/subprocess.h"
#include "calico/base/unique_fd.h"
#include "calico/cni/delegate.h"
#include "calico/dataplane/netns.h"
#include "calico/dataplane/testing/netns_fixture.h"
#include "calico/datastore/client.h"
#include "calico/datastore/factory/factory.h"
#include "calico/http/client.h"

namespace calico::bench {
namespace {

using dataplane::testing::ScopedNetns;
using Clock = std::chrono::steady_clock;

struct Side {
  std::string name;  // "ours" / "peer"
  std::string type;  // plugin binary
  std::string conf;  // network configuration
};

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// One ADD followed by DEL; returns the summed time, or the plugin's error.
Result<double> AddDel(const Side& side, const std::string& cni_path, const std::string& id,
                      const std::string& netns) {
  std::map<std::string, std::string> env = {{"CNI_CONTAINERID", id},
                                            {"CNI_NETNS", netns},
                                            {"CNI_IFNAME", "eth0"},
                                            {"CNI_PATH", cni_path},
                                            {"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
  // The etcd client switch (datastore/factory/factory.h), so that one build measures both.
  if (const char* client = std::getenv("CALICO_ETCD_CLIENT"); client != nullptr) {
    env["CALICO_ETCD_CLIENT"] = client;
  }
  auto start = Clock::now();
  auto add = cni::DelegateInvoke(side.type, "ADD", env, side.conf);
  if (!add) return Unexpected(add.error().Wrap(side.name + " ADD"));
  auto del = cni::DelegateInvoke(side.type, "DEL", env, side.conf);
  if (!del) return Unexpected(del.error().Wrap(side.name + " DEL"));
  return Ms(Clock::now() - start);
}

int FreePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

// An etcd of our own, in the calling thread's network namespace; stopped by PID.
class EtcdProcess {
 public:
  explicit EtcdProcess(const std::string& dir) {
    url_ = "http://127.0.0.1:" + std::to_string(FreePort());
    std::string peer = "http://127.0.0.1:" + std::to_string(FreePort());
    auto pid = SpawnSubprocess(
        {.argv = {"etcd", "--data-dir", dir + "/etcd", "--listen-client-urls", url_,
                  "--advertise-client-urls", url_, "--listen-peer-urls", peer,
                  "--initial-advertise-peer-urls", peer, "--initial-cluster", "default=" + peer}},
        {.log_path = dir + "/etcd.log"});
    if (pid) {
      pid_ = *pid;
    } else {
      // The datastore then never answers and PreparePool reports it.
      std::fprintf(stderr, "calico-bench: cannot start etcd: %s\n", pid.error().message().c_str());
    }
  }
  ~EtcdProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

// etcd's own counters (its /metrics on the client URL): the KV, Lease and Auth requests it
// answered, and its WAL fsyncs. A write (a Put, DeleteRange or Txn that changes something) goes
// through raft and is fsynced before etcd answers; reads, read-only transactions included, are
// not. With one writer at a time (the sequential run), fsyncs are the writes.
struct EtcdCounts {
  double requests = 0;
  double fsyncs = 0;
  double fsync_s = 0;  // time etcd spent in those fsyncs
};

Result<EtcdCounts> ReadEtcdCounts(const std::string& url) {
  ASSIGN_OR_RETURN(http::Url parsed, http::ParseUrl(url));
  ASSIGN_OR_RETURN(auto conn, http::ClientConnection::Open(parsed, http::TlsFiles{},
                                                           std::chrono::milliseconds(2000)));
  ASSIGN_OR_RETURN(auto resp,
                   conn->RoundTrip("GET", "/metrics", "", "", std::chrono::milliseconds(5000)));
  EtcdCounts out;
  std::istringstream in(resp.body);
  std::string line;
  auto value = [](const std::string& l) {
    return std::strtod(l.c_str() + l.rfind(' ') + 1, nullptr);
  };
  while (std::getline(in, line)) {
    if (line.rfind("grpc_server_handled_total{", 0) == 0 &&
        (line.find("grpc_service=\"etcdserverpb.KV\"") != std::string::npos ||
         line.find("grpc_service=\"etcdserverpb.Lease\"") != std::string::npos ||
         line.find("grpc_service=\"etcdserverpb.Auth\"") != std::string::npos)) {
      out.requests += value(line);
    } else if (line.rfind("etcd_disk_wal_fsync_duration_seconds_count ", 0) == 0) {
      out.fsyncs = value(line);
    } else if (line.rfind("etcd_disk_wal_fsync_duration_seconds_sum ", 0) == 0) {
      out.fsync_s = value(line);
    }
  }
  return out;
}

Status PreparePool(const datastore::ClientConfig& cfg) {
  std::unique_ptr<datastore::Backend> backend;
  for (int attempt = 0; attempt < 100; ++attempt) {  // etcd may still be starting
    auto b = datastore::OpenBackend(cfg);
    if (b) {
      backend = std::move(*b);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!backend) return Unavailable("cannot open the bench datastore");
  datastore::Client client(*backend);
  RETURN_IF_ERROR(client.EnsureInitialized());
  model::Resource pool("IPPool", "bench-pool");
  pool.spec()["cidr"] = "10.200.0.0/16";
  auto made = client.Create(pool);
  if (!made && made.error().code() != ErrorCode::kAlreadyExists) return Unexpected(made.error());
  return OkStatus();
}

// Sequential: `samples` pairs per side, alternating which side goes first.
Result<std::vector<std::vector<double>>> Sequential(const std::vector<Side>& sides, int samples,
                                                    const std::string& cni_path,
                                                    const std::vector<std::string>& netns) {
  std::vector<std::vector<double>> out(sides.size());
  for (int i = 0; i < samples; ++i) {
    for (size_t k = 0; k < sides.size(); ++k) {
      size_t s = (k + static_cast<size_t>(i)) % sides.size();
      ASSIGN_OR_RETURN(double ms, AddDel(sides[s], cni_path, "seq" + std::to_string(i), netns[s]));
      out[s].push_back(ms);
    }
  }
  return out;
}

// Parallel: `parallel` concurrent pairs per round; every pair's latency is a sample.
// Rounds first_round .. first_round + rounds - 1 of `parallel` concurrent pairs.
Result<std::vector<double>> Parallel(const Side& side, int parallel, int first_round, int rounds,
                                     const std::string& cni_path,
                                     const std::vector<std::string>& netns) {
  std::vector<double> out;
  for (int r = first_round; r < first_round + rounds; ++r) {
    std::mutex mu;
    Status first = OkStatus();
    std::vector<std::thread> threads;
    for (int p = 0; p < parallel; ++p) {
      threads.emplace_back([&, p] {
        auto ms = AddDel(side, cni_path, "par" + std::to_string(r) + "-" + std::to_string(p),
                         netns[static_cast<size_t>(p)]);
        std::lock_guard<std::mutex> lock(mu);
        if (ms) {
          out.push_back(*ms);
        } else if (first) {
          first = Unexpected(ms.error());
        }
      });
    }
    for (auto& t : threads)
      t.join();
    RETURN_IF_ERROR(first);
  }
  return out;
}

void AddRows(std::vector<RowResult>& rows, const std::string& mode, const std::string& store,
             const std::vector<double>& ours, const std::vector<double>& peer, int parallel) {
  for (auto [metric, p] : {std::pair{"p50_ms", 50.0}, std::pair{"p99_ms", 99.0}}) {
    RowResult r;
    r.row = "cni-add";
    r.metric = metric;
    r.ours = Percentile(ours, p);
    r.peer = Percentile(peer, p);
    r.unit = "ms";
    r.samples = static_cast<int>(ours.size());
    r.params = {{"mode", mode}, {"store", store}, {"peer", "ptp+host-local"}};
    if (mode == "parallel") r.params["parallel"] = parallel;
    rows.push_back(r);
  }
}

}  // namespace

Result<std::vector<RowResult>> RunCniAdd(const CniAddOptions& o) {
  char tmpl[] = "/tmp/calico-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Unavailable("mkdtemp failed");
  const std::string dir = tmpl;
  Cleanup remove_dir([&dir] {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  });

  ScopedNetns host("calico-bench-host");
  if (!host.ok() || !dataplane::testing::MakeHost(host)) {
    return Unavailable("cannot create the bench host namespace (run as root)");
  }
  const int containers = std::max(o.parallel, 2);
  std::vector<std::unique_ptr<ScopedNetns>> ours_ns, peer_ns;
  std::vector<std::string> ours_paths, peer_paths;
  for (int i = 0; i < containers; ++i) {
    ours_ns.push_back(std::make_unique<ScopedNetns>("calico-bench-o"));
    peer_ns.push_back(std::make_unique<ScopedNetns>("calico-bench-p"));
    ours_paths.push_back(ours_ns.back()->path());
    peer_paths.push_back(peer_ns.back()->path());
  }
  // Everything below runs in the host namespace, plugins included (they inherit it).
  ASSIGN_OR_RETURN(auto root_ns, dataplane::NetnsFd::Current());
  ASSIGN_OR_RETURN(auto host_ns, dataplane::NetnsFd::Open(host.path()));
  if (::setns(host_ns.fd(), CLONE_NEWNET) != 0)
    return Unavailable("setns to the bench host failed");
  Cleanup back([fd = root_ns.fd()] {
    if (::setns(fd, CLONE_NEWNET) != 0) std::perror("setns back");
  });

  const std::string cni_path = o.bin + ":/usr/lib/cni";
  Side peer{"peer", "ptp",
            R"({"cniVersion":"1.0.0","name":"benchptp","type":"ptp","ipMasq":false,"mtu":1400,)"
            R"("ipam":{"type":"host-local","subnet":"10.201.0.0/16","dataDir":")" +
                dir + R"(/host-local"}})"};
  std::vector<RowResult> rows;

  struct Store {
    std::string name;
    std::string conf_fields;
    datastore::ClientConfig cfg;
  };
  std::vector<Store> stores;
  Store local{"local", R"("datastore_path":")" + dir + R"(/calico.db")", {}};
  local.cfg.type = datastore::DatastoreType::kLocal;
  local.cfg.local_path = dir + "/calico.db";
  stores.push_back(local);
  std::unique_ptr<EtcdProcess> etcd;
  if (o.etcd && dataplane::testing::Sh("command -v etcd >/dev/null") == 0) {
    etcd = std::make_unique<EtcdProcess>(dir);
    Store e{"etcd", R"("datastore_type":"etcdv3","etcd_endpoints":")" + etcd->url() + "\"", {}};
    e.cfg.type = datastore::DatastoreType::kEtcdV3;
    e.cfg.etcd.endpoints = {etcd->url()};
    stores.push_back(e);
  }
  std::vector<double> peer_seq, peer_par;
  for (size_t s = 0; s < stores.size(); ++s) {
    RETURN_IF_ERROR(PreparePool(stores[s].cfg));
    Side ours{
        "ours", "calico",
        R"({"cniVersion":"1.0.0","name":"benchnet","type":"calico","nodename":"bench","mtu":1400,)" +
            stores[s].conf_fields + R"(,"ipam":{"type":"calico-ipam"}})"};
    std::optional<EtcdCounts> before;
    if (stores[s].name == "etcd") {
      auto counts = ReadEtcdCounts(etcd->url());
      if (counts) before = *counts;
    }
    ASSIGN_OR_RETURN(auto seq,
                     Sequential({ours, peer}, o.samples, cni_path, {ours_paths[0], peer_paths[0]}));
    // What one ADD+DEL asks of etcd (the peer does not use it): the previous figures (JSON gateway,
    // before the IPAM block and handle shared a transaction) as the peer. How long etcd's disk made
    // each pair wait has no peer of its own: it goes in the writes row's details, beside the time
    // per fsync (this machine's disk, which decides what a write costs).
    if (before) {
      auto after = ReadEtcdCounts(etcd->url());
      if (after) {
        const double writes = after->fsyncs - before->fsyncs;
        const double fsync_ms = 1000 * (after->fsync_s - before->fsync_s);
        for (auto [metric, ours_n, was] :
             {std::tuple{"etcd_requests_per_add_del", after->requests - before->requests, 12.0},
              std::tuple{"etcd_writes_per_add_del", writes, 6.0}}) {
          RowResult r;
          r.row = "cni-add";
          r.metric = metric;
          r.ours = ours_n / o.samples;
          r.peer = was;
          r.unit = "count";
          r.samples = o.samples;
          r.params = {{"mode", "sequential"}, {"store", "etcd"}, {"peer", "before issue 20 txn"}};
          if (r.metric == std::string("etcd_writes_per_add_del")) {
            r.details = {{"fsync_ms_per_add_del", fsync_ms / o.samples},
                         {"fsync_ms_per_write", writes > 0 ? fsync_ms / writes : 0.0}};
          }
          rows.push_back(r);
        }
      }
    }
    // Ours' and the peer's rounds alternate, each side going first every other round (as the
    // sequential pairs do): all of ours and then all of the peer's put a minute of a shared
    // machine's changing load between them, which moved the ratio by 0.3-0.5 from run to run.
    std::vector<double> ours_par, p_par;
    for (int r = 0; r < o.rounds; ++r) {
      const bool ours_first = r % 2 == 0;
      for (int k = 0; k < 2; ++k) {
        const bool run_ours = (k == 0) == ours_first;
        ASSIGN_OR_RETURN(auto got, Parallel(run_ours ? ours : peer, o.parallel, r, 1, cni_path,
                                            run_ours ? ours_paths : peer_paths));
        auto& into = run_ours ? ours_par : p_par;
        into.insert(into.end(), got.begin(), got.end());
      }
    }
    // The peer runs beside each store's measurement; its samples from all runs count.
    peer_seq.insert(peer_seq.end(), seq[1].begin(), seq[1].end());
    peer_par.insert(peer_par.end(), p_par.begin(), p_par.end());
    AddRows(rows, "sequential", stores[s].name, seq[0], seq[1], o.parallel);
    AddRows(rows, "parallel", stores[s].name, ours_par, p_par, o.parallel);
  }
  return rows;
}

}  // namespace calico::bench
