// Backend::Txn checks and the protocol-neutral etcd transactions; see txn.h.
#include "calico/datastore/txn.h"

#include <set>

namespace calico::datastore {

Status ValidateTxn(const std::vector<TxnOp>& ops) {
  if (ops.size() > kMaxTxnOps) {
    return InvalidArgument("transaction of " + std::to_string(ops.size()) + " writes: at most " +
                           std::to_string(kMaxTxnOps));
  }
  std::set<std::string_view> keys;
  for (const TxnOp& op : ops) {
    if (op.key.empty()) return InvalidArgument("transaction write with an empty key");
    if (!keys.insert(op.key).second) {
      return InvalidArgument("transaction writes " + op.key + " twice");
    }
  }
  return OkStatus();
}

namespace etcdtxn {

std::string RangeStart(std::string_view prefix) {
  return prefix.empty() ? std::string(1, '\0') : std::string(prefix);
}

std::string RangeEnd(std::string_view prefix) {
  if (prefix.empty()) return std::string(1, '\0');  // With key "\0": the whole key space.
  std::string end(prefix);
  while (!end.empty()) {
    auto c = static_cast<unsigned char>(end.back());
    if (c < 0xff) {
      end.back() = static_cast<char>(c + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

namespace {

// Calico's compares (etcdv3.go): the key absent (version == 0); present (version > 0); or at a
// mod_revision.
Compare CompareFor(const TxnOp& op) {
  if (op.kind == TxnOp::Kind::kCreate) {
    return {op.key, Compare::Target::kVersion, Compare::Op::kEqual, 0};
  }
  if (op.expected_revision != 0) {
    return {op.key, Compare::Target::kMod, Compare::Op::kEqual, op.expected_revision};
  }
  return {op.key, Compare::Target::kVersion, Compare::Op::kGreater, 0};
}

}  // namespace

Request PlanWrites(const std::vector<TxnOp>& ops, int64_t lease) {
  Request req;
  for (const TxnOp& op : ops) {
    req.compare.push_back(CompareFor(op));
    Op write;
    write.key = op.key;
    switch (op.kind) {
      case TxnOp::Kind::kCreate:
        write.kind = Op::Kind::kPut;
        write.value = op.value;
        write.lease = lease;
        break;
      case TxnOp::Kind::kUpdate:
        // prev_kv: the pair written keeps the key's create_revision.
        write.kind = Op::Kind::kPut;
        write.value = op.value;
        write.lease = lease;
        write.prev_kv = true;
        break;
      case TxnOp::Kind::kDelete:
        write.kind = Op::Kind::kDelete;
        write.prev_kv = true;
        break;
    }
    req.success.push_back(std::move(write));
    Op read;  // a range of the key alone
    read.key = op.key;
    req.failure.push_back(std::move(read));
  }
  return req;
}

Result<std::vector<KVPair>> WritesResult(const std::vector<TxnOp>& ops, const Response& resp,
                                         int64_t ttl_seconds) {
  if (resp.responses.size() != ops.size()) {
    return Unavailable("transaction of " + std::to_string(ops.size()) + " writes: etcd answered " +
                       std::to_string(resp.responses.size()));
  }
  if (!resp.succeeded) {
    // The failure branch read every key at the revision the compares saw: the first op whose
    // condition does not hold is named.
    for (size_t i = 0; i < ops.size(); ++i) {
      const TxnOp& op = ops[i];
      const std::vector<KVPair>& now = resp.responses[i].kvs;
      if (op.kind == TxnOp::Kind::kCreate) {
        if (!now.empty()) return AlreadyExists("resource already exists: " + op.key);
        continue;
      }
      if (now.empty()) return NotFound("resource does not exist: " + op.key);
      if (op.expected_revision != 0 && now[0].mod_revision != op.expected_revision) {
        return Conflict("update conflict: " + op.key);
      }
    }
    return Conflict("transaction conflict on " + (ops.empty() ? std::string() : ops[0].key));
  }
  std::vector<KVPair> out;
  out.reserve(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const TxnOp& op = ops[i];
    const std::vector<KVPair>& prev = resp.responses[i].kvs;
    switch (op.kind) {
      case TxnOp::Kind::kCreate:
        out.push_back(KVPair{op.key, op.value, resp.revision, resp.revision, ttl_seconds});
        break;
      case TxnOp::Kind::kUpdate:
        out.push_back(KVPair{op.key, op.value, resp.revision,
                             prev.empty() ? resp.revision : prev[0].create_revision, ttl_seconds});
        break;
      case TxnOp::Kind::kDelete:
        // The compare held, so the key was there; a member answering otherwise is reported.
        if (prev.empty()) return NotFound("resource does not exist: " + op.key);
        out.push_back(prev[0]);
        break;
    }
  }
  return out;
}

Request PlanReads(const std::vector<ReadRequest>& reads, int64_t limit) {
  Request req;
  for (const ReadRequest& r : reads) {
    Op range;
    if (r.prefix) {
      range.key = RangeStart(r.key);
      range.range_end = RangeEnd(r.key);
      range.limit = limit;
    } else {
      range.key = r.key;
    }
    req.success.push_back(std::move(range));
  }
  return req;
}

Result<std::vector<std::optional<ListResult>>> ReadResults(const std::vector<ReadRequest>& reads,
                                                           const Response& resp) {
  if (resp.responses.size() != reads.size()) {
    return Unavailable("read " + std::to_string(reads.size()) + " keys: etcd answered " +
                       std::to_string(resp.responses.size()));
  }
  std::vector<std::optional<ListResult>> out;
  out.reserve(reads.size());
  for (size_t i = 0; i < reads.size(); ++i) {
    if (reads[i].prefix && resp.responses[i].more) {
      out.emplace_back();
      continue;
    }
    out.push_back(ListResult{resp.responses[i].kvs, resp.revision});
  }
  return out;
}

Result<std::vector<KVPair>> Writer::Writes(const std::string& what, const std::vector<TxnOp>& ops,
                                           std::chrono::seconds ttl) {
  ASSIGN_OR_RETURN(int64_t lease, GrantLease(ttl));
  ASSIGN_OR_RETURN(Response resp, RunTxn(what, PlanWrites(ops, lease)));
  return WritesResult(ops, resp, ttl.count());
}

Result<KVPair> Writer::Create(std::string_view key, std::string_view value,
                              std::chrono::seconds ttl) {
  ASSIGN_OR_RETURN(auto kvs, Writes("create " + std::string(key),
                                    {TxnOp::Create(std::string(key), std::string(value))}, ttl));
  return std::move(kvs[0]);
}

Result<KVPair> Writer::Update(std::string_view key, std::string_view value,
                              int64_t expected_revision, std::chrono::seconds ttl) {
  ASSIGN_OR_RETURN(
      auto kvs,
      Writes("update " + std::string(key),
             {TxnOp::Update(std::string(key), std::string(value), expected_revision)}, ttl));
  return std::move(kvs[0]);
}

Result<KVPair> Writer::Delete(std::string_view key, int64_t expected_revision) {
  ASSIGN_OR_RETURN(auto kvs, Writes("delete " + std::string(key),
                                    {TxnOp::Delete(std::string(key), expected_revision)},
                                    std::chrono::seconds(0)));
  return std::move(kvs[0]);
}

Result<std::vector<KVPair>> Writer::Txn(const std::vector<TxnOp>& ops) {
  RETURN_IF_ERROR(ValidateTxn(ops));
  if (ops.empty()) return std::vector<KVPair>{};
  return Writes("transaction of " + std::to_string(ops.size()) + " writes (" + ops[0].key +
                    (ops.size() > 1 ? ", ..." : "") + ")",
                ops, std::chrono::seconds(0));
}

}  // namespace etcdtxn
}  // namespace calico::datastore
