// ReadAheadBackend: a Backend that answers a short-lived client's reads from one batch read
// (Backend::ReadMany: one etcd transaction of ranges) instead of one round trip each. A CNI ADD
// knows up front most of what it will read (ClusterInformation, this namespace's endpoints, the
// network's profile; then the pools, reservations, IPAM config, the host's affinities and the
// handle), and each read over gRPC is a round trip: fetched together they cost one.
//
//   datastore::ReadAheadBackend store(*backend);
//   store.Prefetch({{.key = cluster_info_key}, {.key = endpoints_prefix, .prefix = true}});
//   client.Get(...)   // answered from the batch; anything not in it goes to the store
//
// A Get of a key read, or a List of exactly a prefix read, is answered from the batch until this
// client writes that key (or a key under that prefix): any write through this backend, whether
// it succeeds or not, drops what the batch held for the key, so read-modify-write loops read the
// store again after a conflict, and a client always reads its own writes. Others' writes after
// the batch are seen no sooner than they would have been by a read made at the batch's time; every
// write is a compare-and-swap on what was read, as without the batch. Meant for one process's
// short task (a CNI invocation), not for long-lived clients: nothing expires.
//
// Thread-safety: thread-safe (the inner backend must be).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "calico/datastore/backend.h"

namespace calico::datastore {

class ReadAheadBackend final : public Backend {
 public:
  explicit ReadAheadBackend(Backend& inner) : inner_(inner) {}

  // Reads them all at once (replacing what an earlier batch held for the same reads). A failure
  // leaves nothing held: the reads then go to the store, which reports its error there.
  [[nodiscard]] Status Prefetch(const std::vector<ReadRequest>& reads);
  // Reads answered from a batch so far (tests, debug logs).
  int64_t hits() const;

  Result<KVPair> Get(std::string_view key) override;
  Result<ListResult> List(std::string_view prefix) override;
  Result<KVPair> Create(std::string_view key, std::string_view value,
                        std::chrono::seconds ttl = std::chrono::seconds(0)) override;
  Result<KVPair> Update(std::string_view key, std::string_view value, int64_t expected_revision,
                        std::chrono::seconds ttl = std::chrono::seconds(0)) override;
  Result<KVPair> Put(std::string_view key, std::string_view value,
                     std::chrono::seconds ttl = std::chrono::seconds(0)) override;
  Result<KVPair> Delete(std::string_view key, int64_t expected_revision = 0) override;
  Result<std::vector<KVPair>> Txn(const std::vector<TxnOp>& ops) override;
  Result<int64_t> DeletePrefix(std::string_view prefix) override;
  Result<std::vector<ListResult>> ReadMany(const std::vector<ReadRequest>& reads) override {
    return inner_.ReadMany(reads);
  }
  Result<std::unique_ptr<WatchStream>> Watch(std::string_view prefix,
                                             int64_t from_revision) override {
    return inner_.Watch(prefix, from_revision);
  }
  std::string Describe() const override { return inner_.Describe(); }

 private:
  void Forget(std::string_view key);

  Backend& inner_;
  mutable std::mutex mu_;
  std::map<std::string, ListResult, std::less<>> keys_;      // key read -> 0 or 1 pair
  std::map<std::string, ListResult, std::less<>> prefixes_;  // prefix read -> its pairs
  int64_t hits_ = 0;
};

}  // namespace calico::datastore
