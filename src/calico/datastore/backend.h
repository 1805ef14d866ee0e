// datastore::Backend: the key/value seam under every resource and IPAM operation
// (libcalico-go/lib/backend/api). Two real implementations pass one conformance suite:
//   local/  embedded SQLite (default; WAL mode; safe across processes)
//   etcd/   etcd v3 over gRPC
// and testing/ holds MemBackend, the in-memory fake that is also usable as a product store.
//
// Keys are Calico's etcd keys ("/calico/resources/v3/projectcalico.org/ippools/default-pool",
// "/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26"); values are the JSON text Calico stores.
// Every write bumps one global revision (etcd semantics); a key's mod_revision is the revision of
// its last write and is what resources expose as metadata.resourceVersion.
//
// Thread-safety: implementations are thread-safe; a WatchStream is used from one thread at a time
// except Close(), which may be called from any thread to wake a blocked Next().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "calico/base/result.h"

namespace calico::datastore {

struct KVPair {
  std::string key;
  std::string value;
  int64_t mod_revision = 0;       // Revision of the last write of this key.
  int64_t create_revision = 0;    // Revision at which the key was created.
  int64_t lease_ttl_seconds = 0;  // 0 = no expiry.
  bool operator==(const KVPair&) const = default;
};

struct ListResult {
  std::vector<KVPair> kvs;  // Sorted by key.
  int64_t revision = 0;     // Store revision the list was read at; watch from revision + 1.
};

// One read of a batch (Backend::ReadMany): the key itself, or every key with `key` as a prefix.
struct ReadRequest {
  std::string key;
  bool prefix = false;
  bool operator==(const ReadRequest&) const = default;
};

// One write of an atomic multi-key transaction (Backend::Txn), with the semantics of the single-key
// call of the same name: kCreate fails if the key exists; kUpdate and kDelete need the key to exist
// and, when expected_revision != 0, its mod_revision to equal it.
struct TxnOp {
  enum class Kind { kCreate, kUpdate, kDelete };
  Kind kind = Kind::kCreate;
  std::string key;
  std::string value;              // kCreate and kUpdate.
  int64_t expected_revision = 0;  // kUpdate and kDelete: 0 = any existing revision.

  static TxnOp Create(std::string key, std::string value) {
    return {Kind::kCreate, std::move(key), std::move(value), 0};
  }
  static TxnOp Update(std::string key, std::string value, int64_t expected_revision) {
    return {Kind::kUpdate, std::move(key), std::move(value), expected_revision};
  }
  static TxnOp Delete(std::string key, int64_t expected_revision) {
    return {Kind::kDelete, std::move(key), "", expected_revision};
  }
  bool operator==(const TxnOp&) const = default;
};

// At most this many writes in one Txn (etcd's --max-txn-ops default is 128).
inline constexpr size_t kMaxTxnOps = 64;

enum class WatchEventType { kPut, kDelete };

struct WatchEvent {
  WatchEventType type = WatchEventType::kPut;
  KVPair kv;  // For kDelete: key and the deleting revision in mod_revision; value empty.
};

class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // Blocks until events are available, the timeout passes (returns an empty vector), or Close().
  // Events come in revision order, each exactly once.
  // Errors: kConflict when the start revision was compacted (the caller must List and re-watch
  // from the list's revision + 1); kUnavailable when the stream is closed or the store is gone.
  [[nodiscard]] virtual Result<std::vector<WatchEvent>> Next(std::chrono::milliseconds timeout) = 0;
  virtual void Close() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Errors: kNotFound when the key is absent; kUnavailable when the store cannot be reached.
  [[nodiscard]] virtual Result<KVPair> Get(std::string_view key) = 0;

  // All keys with the given prefix ("" = everything), sorted by key.
  [[nodiscard]] virtual Result<ListResult> List(std::string_view prefix) = 0;

  // Creates `key`; returns the new KVPair (with revisions). Errors: kAlreadyExists.
  // ttl > 0 attaches a lease: the key disappears (with a delete event) after ttl.
  [[nodiscard]] virtual Result<KVPair> Create(
      std::string_view key, std::string_view value,
      std::chrono::seconds ttl = std::chrono::seconds(0)) = 0;

  // Compare-and-swap on mod_revision: replaces the value only if the key's current mod_revision
  // equals expected_revision. expected_revision == 0 means "any existing revision".
  // Errors: kNotFound when absent; kConflict when the revision does not match.
  [[nodiscard]] virtual Result<KVPair> Update(
      std::string_view key, std::string_view value, int64_t expected_revision,
      std::chrono::seconds ttl = std::chrono::seconds(0)) = 0;

  // Create-or-update without a revision check (used by status writers and migration import).
  [[nodiscard]] virtual Result<KVPair> Put(std::string_view key, std::string_view value,
                                           std::chrono::seconds ttl = std::chrono::seconds(0)) = 0;

  // Deletes `key` if its mod_revision equals expected_revision (0 = any). Returns the deleted pair
  // (value and revision as they were before the delete). Errors: kNotFound, kConflict.
  [[nodiscard]] virtual Result<KVPair> Delete(std::string_view key,
                                              int64_t expected_revision = 0) = 0;

  // Several writes as one atomic transaction: every op's condition holds and all are applied (as
  // one store revision, as etcd's Txn), or nothing is written. Returns one KVPair per op in order:
  // for kCreate/kUpdate the pair written, for kDelete the pair as it was before.
  // Errors: the first op (in order) whose condition fails decides: kAlreadyExists (kCreate),
  // kNotFound or kConflict (kUpdate/kDelete), naming its key; kInvalidArgument for the same key
  // twice or more than kMaxTxnOps ops (nothing sent); kUnavailable.
  [[nodiscard]] virtual Result<std::vector<KVPair>> Txn(const std::vector<TxnOp>& ops) = 0;

  // Several reads at once, one ListResult per request in order (a key read holds 0 or 1 pair).
  // etcd answers them in one round trip, as one transaction of ranges at one revision; the default
  // reads them one by one (a key read's revision is then 0: unknown).
  // Errors: as Get/List (kUnavailable), never kNotFound.
  [[nodiscard]] virtual Result<std::vector<ListResult>> ReadMany(
      const std::vector<ReadRequest>& reads) {
    std::vector<ListResult> out;
    out.reserve(reads.size());
    for (const ReadRequest& r : reads) {
      if (r.prefix) {
        ASSIGN_OR_RETURN(ListResult listed, List(r.key));
        out.push_back(std::move(listed));
        continue;
      }
      ListResult one;
      auto kv = Get(r.key);
      if (kv) {
        one.kvs.push_back(*std::move(kv));
      } else if (kv.error().code() != ErrorCode::kNotFound) {
        return Unexpected(kv.error());
      }
      out.push_back(std::move(one));
    }
    return out;
  }

  // Deletes every key with the prefix; returns how many were deleted.
  [[nodiscard]] virtual Result<int64_t> DeletePrefix(std::string_view prefix) = 0;

  // Streams every change to keys with the prefix whose revision is >= from_revision
  // (0 = from now on). Errors: kConflict (compacted), kUnavailable.
  [[nodiscard]] virtual Result<std::unique_ptr<WatchStream>> Watch(std::string_view prefix,
                                                                   int64_t from_revision) = 0;

  // A human-readable description for error messages ("local store /var/lib/calico/calico.db",
  // "etcd http://127.0.0.1:2379").
  virtual std::string Describe() const = 0;
};

}  // namespace calico::datastore
