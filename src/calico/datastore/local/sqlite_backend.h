// SqliteBackend: the embedded datastore (DESIGN section 3): one SQLite file in WAL mode holding
// the same keys and values as Calico's etcd, with etcd semantics (global revision, CAS on
// mod_revision, TTL keys, watch from a revision through an event log with bounded history).
// Several processes may share the file (each write is a BEGIN IMMEDIATE transaction; readers never
// block writers), which is how all hosts of a calico-lab share one store.
//
// Thread-safety: thread-safe (one connection per backend behind a mutex; each WatchStream has its
// own connection).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "calico/datastore/backend.h"

struct sqlite3;

namespace calico::datastore {

class SqliteBackend final : public Backend {
 public:
  static constexpr int64_t kDefaultHistory = 100000;
  // kCreate: a missing store is created (file 0600; missing directories 0755, the store's own
  // directory 0700, whatever the umask). kExisting: a missing store is an error (kUnavailable
  // "local store PATH does not exist ...") and nothing is created.
  enum class OpenMode { kCreate, kExisting };
  // Opens the store at `path`. Errors: kUnavailable naming the path.
  [[nodiscard]] static Result<std::unique_ptr<SqliteBackend>> Open(
      const std::string& path, int64_t history = kDefaultHistory,
      OpenMode mode = OpenMode::kCreate);
  ~SqliteBackend() override;
  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;

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
  // One SQL transaction (BEGIN IMMEDIATE ... COMMIT) at one revision.
  [[nodiscard]] Result<std::vector<KVPair>> Txn(const std::vector<TxnOp>& ops) override;
  [[nodiscard]] Result<int64_t> DeletePrefix(std::string_view prefix) override;
  [[nodiscard]] Result<std::unique_ptr<WatchStream>> Watch(std::string_view prefix,
                                                           int64_t from_revision) override;
  std::string Describe() const override { return "local store " + path_; }

  // Drops watch history up to and including `revision`.
  [[nodiscard]] Status Compact(int64_t revision);

 private:
  SqliteBackend(std::string path, sqlite3* db, int64_t history)
      : path_(std::move(path)), db_(db), history_(history) {}

  enum class WriteMode { kCreate, kUpdate, kPut };
  [[nodiscard]] Result<KVPair> Write(std::string_view key, std::string_view value,
                                     int64_t expected_revision, std::chrono::seconds ttl,
                                     WriteMode mode);

  std::string path_;
  std::mutex mu_;
  sqlite3* db_;
  int64_t history_;
};

}  // namespace calico::datastore
