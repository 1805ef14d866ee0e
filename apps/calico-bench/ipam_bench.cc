#include "ipam_bench.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "calico/datastore/client.h"
#include "calico/datastore/local/sqlite_backend.h"
#include "calico/ipam/ipam.h"

namespace calico::bench {

Result<std::vector<RowResult>> RunIpamBench(int per_client) {
  std::vector<RowResult> rows;
  int duplicates = 0;
  for (int clients : {1, 4}) {
    char tmpl[] = "/tmp/calico-bench-ipam-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return Unavailable("mkdtemp");
    const std::string db = std::string(tmpl) + "/calico.db";
    {
      ASSIGN_OR_RETURN(auto store, datastore::SqliteBackend::Open(db));
      datastore::Client client(*store);
      RETURN_IF_ERROR(client.EnsureInitialized());
      model::Resource pool("IPPool", "bench");
      pool.spec()["cidr"] = "10.210.0.0/16";
      RETURN_IF_ERROR(client.Create(pool));
    }
    std::mutex mu;
    std::vector<std::string> addresses;
    Status first = OkStatus();
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        auto store = datastore::SqliteBackend::Open(db);
        if (!store) {
          std::lock_guard<std::mutex> lock(mu);
          first = Unexpected(store.error());
          return;
        }
        ipam::IpamClient ipam(**store);
        for (int i = 0; i < per_client; ++i) {
          ipam::AutoAssignArgs args;
          args.num4 = 1;
          args.handle = fmt::format("bench.c{}-{}", c, i);
          args.host = "bench";
          args.attrs = ipam::Json{{"node", "bench"}};
          auto r = ipam.AutoAssign(args);
          std::lock_guard<std::mutex> lock(mu);
          if (!r || r->ipv4.empty()) {
            if (first)
              first =
                  r ? Status(Unavailable("no address assigned")) : Status(Unexpected(r.error()));
            return;
          }
          addresses.push_back(r->ipv4[0].addr().String());
        }
      });
    }
    for (auto& t : threads)
      t.join();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::filesystem::remove_all(tmpl);
    RETURN_IF_ERROR(first);
    std::set<std::string> unique(addresses.begin(), addresses.end());
    duplicates += static_cast<int>(addresses.size() - unique.size());
    RowResult r;
    r.row = "ipam";
    r.metric = fmt::format("allocs_per_s_{}_clients", clients);
    r.ours = static_cast<double>(addresses.size()) / secs;
    r.peer = 0;
    r.unit = "allocations/s";
    r.samples = static_cast<int>(addresses.size());
    r.params = {{"clients", clients}, {"store", "local"}};
    rows.push_back(r);
  }
  RowResult d;
  d.row = "ipam";
  d.metric = "duplicates";
  d.ours = duplicates;
  d.peer = 0;
  d.unit = "addresses";
  d.samples = 5 * per_client;
  d.params = {{"peer", "must be 0"}};
  rows.push_back(d);
  return rows;
}

}  // namespace calico::bench
