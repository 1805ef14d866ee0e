// MemBackend: an in-memory datastore::Backend with etcd semantics (one global revision, CAS on
// mod_revision, TTL leases, watch from a revision over a bounded history with compaction).
// The fake for unit tests (with failure injection) and a usable product store for one process.
//
// Thread-safety: thread-safe. WatchStreams share the store's state and outlive nothing: destroy
// them before the MemBackend.
#pragma once

#include <memory>
#include <optional>

#include "calico/base/clock.h"
#include "calico/datastore/backend.h"

namespace calico::datastore {

class MemBackend final : public Backend {
 public:
  // history: how many events are kept for watches before older ones are compacted.
  explicit MemBackend(const Clock* clock = nullptr, size_t history = 100000);
  ~MemBackend() override;

  [[nodiscard]] Result<KVPair> Get(std::string_view key) override;
  [[nodiscard]] Result<ListResult> List(std::string_view prefix) override;
  [[nodiscard]] Result<KVPair> Create(std::string_view key, std::string_view value,
                                      std::chrono::seconds ttl = std::chrono::seconds(0)) override;
  [[nodiscard]] Result<KVPair> Update(std::string_view key, std::string_view value,
                                      int64_t expected_revision,
                                      std::chrono::seconds ttl = std::chrono::seconds(0)) override;
  [[nodiscard]] Result<KVPair> Put(std::string_view key, std::string_view value,
                                   std::chrono::seconds ttl = std::chrono::seconds(0)) override;
  [[nodiscard]] Result<KVPair> Delete(std::string_view key, int64_t expected_revision = 0) override;
  [[nodiscard]] Result<std::vector<KVPair>> Txn(const std::vector<TxnOp>& ops) override;
  [[nodiscard]] Result<int64_t> DeletePrefix(std::string_view prefix) override;
  [[nodiscard]] Result<std::unique_ptr<WatchStream>> Watch(std::string_view prefix,
                                                           int64_t from_revision) override;
  std::string Describe() const override { return "in-memory store"; }

  // Failure injection: the next call of any operation fails with `error`.
  void FailNext(Error error);
  // Failure injection for watches: the next `count` reads (WatchStream::Next) of any watch
  // stream fail with `error`, as a stream that breaks or that the client refuses does.
  void FailWatchReads(Error error, int count);
  // Drops watch history up to and including `revision` (as etcd compaction does).
  void Compact(int64_t revision);
  int64_t revision() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace calico::datastore
