#include "ipam_bench.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "calico/base/cleanup.h"
#include "calico/datastore/client.h"
#include "calico/datastore/factory/factory.h"
#include "calico/datastore/testing/etcd_process.h"
#include "calico/ipam/host_lock.h"
#include "calico/ipam/ipam.h"

namespace calico::bench {
namespace {

struct Store {
  std::string name;
  // A fresh, initialised store with one pool for each measurement.
  std::function<Result<datastore::ClientConfig>(int run)> make;
};

struct Run {
  int clients = 1;
  bool one_host = false;  // all clients on one host, under the host-wide lock
};

Result<double> Measure(const datastore::ClientConfig& cfg, const Run& run, int per_client,
                       const std::string& lock_file, std::vector<std::string>& addresses) {
  std::mutex mu;
  Status first = OkStatus();
  // Every client connects before the clock starts (a CNI process's connection is the cni-add
  // row's business).
  std::vector<std::unique_ptr<datastore::Backend>> stores;
  for (int c = 0; c < run.clients; ++c) {
    ASSIGN_OR_RETURN(auto store, datastore::OpenBackend(cfg));
    stores.push_back(std::move(store));
  }
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < run.clients; ++c) {
    threads.emplace_back([&, c] {
      ipam::IpamClient ipam(*stores[static_cast<size_t>(c)]);
      const std::string host = run.one_host ? "bench" : fmt::format("bench-{}", c);
      for (int i = 0; i < per_client; ++i) {
        ipam::AutoAssignArgs args;
        args.num4 = 1;
        args.handle = fmt::format("bench.c{}-{}", c, i);
        args.host = host;
        args.attrs = ipam::Json{{"node", host}};
        std::optional<ipam::HostLock> lock;
        if (run.one_host) {
          auto held = ipam::HostLock::Acquire(lock_file);
          if (!held) {
            std::lock_guard<std::mutex> guard(mu);
            if (first) first = Unexpected(held.error());
            return;
          }
          lock.emplace(*std::move(held));
        }
        auto r = ipam.AutoAssign(args);
        lock.reset();
        std::lock_guard<std::mutex> guard(mu);
        if (!r || r->ipv4.empty()) {
          if (first)
            first = r ? Status(Unavailable("no address assigned")) : Status(Unexpected(r.error()));
          return;
        }
        addresses.push_back(r->ipv4[0].addr().String());
      }
    });
  }
  for (auto& t : threads)
    t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RETURN_IF_ERROR(first);
  return static_cast<double>(run.clients) * per_client / secs;
}

Status Prepare(datastore::Backend& backend) {
  datastore::Client client(backend);
  RETURN_IF_ERROR(client.EnsureInitialized());
  model::Resource pool("IPPool", "bench");
  pool.spec()["cidr"] = "10.210.0.0/16";
  auto made = client.Create(pool);
  if (!made) return Unexpected(made.error());
  return OkStatus();
}

}  // namespace

Result<std::vector<RowResult>> RunIpamBench(const IpamBenchOptions& o) {
  char tmpl[] = "/tmp/calico-bench-ipam-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Unavailable("mkdtemp");
  const std::string dir = tmpl;
  std::unique_ptr<testing::EtcdMember> etcd;
  Cleanup remove_dir([&] {
    etcd.reset();  // stopped (by PID) before its data directory goes
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  });

  std::vector<Store> stores;
  stores.push_back({"local", [&](int run) -> Result<datastore::ClientConfig> {
                      datastore::ClientConfig cfg;
                      cfg.type = datastore::DatastoreType::kLocal;
                      cfg.local_path = fmt::format("{}/calico-{}.db", dir, run);
                      ASSIGN_OR_RETURN(auto store, datastore::OpenBackend(cfg));
                      RETURN_IF_ERROR(Prepare(*store));
                      return cfg;
                    }});
  if (o.etcd && testing::EtcdInstalled()) {
    etcd = std::make_unique<testing::EtcdMember>(dir, "ipam-bench");
    if (!etcd->WaitUntilServing()) return Unavailable("the bench etcd did not start");
    stores.push_back({"etcd", [&](int) -> Result<datastore::ClientConfig> {
                        datastore::ClientConfig cfg;
                        cfg.type = datastore::DatastoreType::kEtcdV3;
                        cfg.etcd.endpoints = {etcd->client_url()};
                        ASSIGN_OR_RETURN(auto store, datastore::OpenBackend(cfg));
                        RETURN_IF_ERROR(store->DeletePrefix("/calico/"));
                        RETURN_IF_ERROR(Prepare(*store));
                        return cfg;
                      }});
  }

  std::vector<RowResult> rows;
  int duplicates = 0;
  int total = 0;
  int run_id = 0;
  for (const Store& store : stores) {
    for (Run run : {Run{1, false}, Run{4, false}, Run{4, true}}) {
      ASSIGN_OR_RETURN(datastore::ClientConfig cfg, store.make(run_id++));
      std::vector<std::string> addresses;
      ASSIGN_OR_RETURN(double rate, Measure(cfg, run, o.per_client, dir + "/ipam.lock", addresses));
      std::set<std::string> unique(addresses.begin(), addresses.end());
      duplicates += static_cast<int>(addresses.size() - unique.size());
      total += static_cast<int>(addresses.size());
      RowResult r;
      r.row = "ipam";
      r.metric =
          fmt::format("allocs_per_s_{}_clients{}", run.clients, run.one_host ? "_one_host" : "");
      r.ours = rate;
      r.peer = 0;
      r.unit = "allocations/s";
      r.samples = static_cast<int>(addresses.size());
      r.params = {{"clients", run.clients},
                  {"store", store.name},
                  {"hosts", run.one_host ? 1 : run.clients}};
      if (run.one_host) r.params["lock"] = "host-wide IPAM lock";
      rows.push_back(r);
    }
  }
  RowResult d;
  d.row = "ipam";
  d.metric = "duplicates";
  d.ours = duplicates;
  d.peer = 0;
  d.unit = "addresses";
  d.samples = total;
  d.params = {{"peer", "must be 0"}};
  rows.push_back(d);
  return rows;
}

}  // namespace calico::bench
