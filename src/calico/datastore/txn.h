// Backend::Txn helpers: the checks every backend applies to a transaction, and etcdtxn, the one
// protocol-neutral description of etcd v3 transactions (api/etcdserverpb/rpc.proto TxnRequest /
// TxnResponse) that both etcd clients encode, the gRPC one (etcd/etcd_backend.cc) as protobuf and
// the JSON-gateway one (etcdhttp/etcd_http_backend.cc) as JSON. Create, Update, Delete, Txn and
// ReadMany are planned here once (which compares, which ops, what a failure reads back) and their
// answers interpreted here once, as libcalico-go/lib/backend/etcdv3/etcdv3.go builds its clientv3
// Txn()s: Create = If(CreateRevision == 0), Update/Delete = If(ModRevision == rev) or, with no
// revision, If(Version > 0).
//
//   etcdtxn::Request req = etcdtxn::PlanWrites(ops, lease);
//   ... encode req, send it, decode the answer into etcdtxn::Response resp ...
//   return etcdtxn::WritesResult(ops, resp, ttl);
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/datastore/backend.h"

namespace calico::datastore {

// kInvalidArgument for more than kMaxTxnOps ops, an empty key, or the same key twice (etcd refuses
// "duplicate key given in txn request"; the other stores follow).
[[nodiscard]] Status ValidateTxn(const std::vector<TxnOp>& ops);

namespace etcdtxn {

// The start and end of a prefix's key range (etcd's clientv3.GetPrefixRangeEnd); the empty prefix
// is the whole key space, "\0" to "\0".
std::string RangeStart(std::string_view prefix);
std::string RangeEnd(std::string_view prefix);

// etcd's Compare, the subset used: target VERSION or MOD, result EQUAL or GREATER.
struct Compare {
  enum class Target { kVersion, kMod };
  enum class Op { kEqual, kGreater };
  std::string key;
  Target target = Target::kVersion;
  Op result = Op::kEqual;
  int64_t value = 0;  // the version or the mod_revision compared with
  bool operator==(const Compare&) const = default;
};

// etcd's RequestOp: a RangeRequest, PutRequest or DeleteRangeRequest (single key).
struct Op {
  enum class Kind { kRange, kPut, kDelete };
  Kind kind = Kind::kRange;
  std::string key;
  std::string range_end;  // kRange: empty = the key alone
  int64_t limit = 0;      // kRange
  std::string value;      // kPut
  int64_t lease = 0;      // kPut
  bool prev_kv = false;   // kPut, kDelete
  bool operator==(const Op&) const = default;
};

struct Request {
  std::vector<Compare> compare;
  std::vector<Op> success;
  std::vector<Op> failure;
  bool operator==(const Request&) const = default;
};

// One ResponseOp: a range's kvs (and more), a put's prev_kv (0 or 1), a delete's prev_kvs.
struct OpResponse {
  std::vector<KVPair> kvs;
  bool more = false;
};

struct Response {
  bool succeeded = false;
  int64_t revision = 0;  // the header's: the store revision after the transaction
  std::vector<OpResponse> responses;
};

// The transaction for Backend::Txn (and Create/Update/Delete: one op): one compare per op, then
// all writes; on failure, a range of every key, from which WritesResult names the op that failed.
// `lease` goes on every put (0 = none).
Request PlanWrites(const std::vector<TxnOp>& ops, int64_t lease = 0);
// What PlanWrites' transaction answered, as Backend::Txn returns it; ttl_seconds goes into the
// pairs written.
[[nodiscard]] Result<std::vector<KVPair>> WritesResult(const std::vector<TxnOp>& ops,
                                                       const Response& resp,
                                                       int64_t ttl_seconds = 0);

// One transaction of ranges without compares for Backend::ReadMany (at most etcd's 128 ops: the
// caller chunks); a prefix read is limited to `limit` keys (ReadResults says when it holds more).
Request PlanReads(const std::vector<ReadRequest>& reads, int64_t limit);
// ReadMany's answer for `reads`; a prefix read whose range came back with more keys than its
// limit is nullopt (the caller lists it page by page).
[[nodiscard]] Result<std::vector<std::optional<ListResult>>> ReadResults(
    const std::vector<ReadRequest>& reads, const Response& resp);

// The write half of Backend for both etcd clients: Create, Update, Delete and Txn, each one
// planned transaction (PlanWrites, then WritesResult). A client supplies the two calls that speak
// its protocol: GrantLease (0 for no TTL) and RunTxn (`what` names the call in errors).
class Writer : public Backend {
 public:
  [[nodiscard]] Result<KVPair> Create(std::string_view key, std::string_view value,
                                      std::chrono::seconds ttl) override;
  [[nodiscard]] Result<KVPair> Update(std::string_view key, std::string_view value,
                                      int64_t expected_revision, std::chrono::seconds ttl) override;
  [[nodiscard]] Result<KVPair> Delete(std::string_view key, int64_t expected_revision) override;
  [[nodiscard]] Result<std::vector<KVPair>> Txn(const std::vector<TxnOp>& ops) override;

 protected:
  [[nodiscard]] virtual Result<int64_t> GrantLease(std::chrono::seconds ttl) = 0;
  [[nodiscard]] virtual Result<Response> RunTxn(const std::string& what, const Request& req) = 0;

 private:
  Result<std::vector<KVPair>> Writes(const std::string& what, const std::vector<TxnOp>& ops,
                                     std::chrono::seconds ttl);
};

}  // namespace etcdtxn
}  // namespace calico::datastore
