#include "calico/datastore/read_ahead.h"

#include "calico/base/strings.h"

namespace calico::datastore {

Status ReadAheadBackend::Prefetch(const std::vector<ReadRequest>& reads) {
  if (reads.empty()) return OkStatus();
  auto got = inner_.ReadMany(reads);
  if (!got) return Unexpected(got.error());
  if (got->size() != reads.size()) return Internal("batch read answered the wrong number of reads");
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < reads.size(); ++i) {
    auto& held = reads[i].prefix ? prefixes_ : keys_;
    held.insert_or_assign(reads[i].key, std::move((*got)[i]));
  }
  return OkStatus();
}

int64_t ReadAheadBackend::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

Result<KVPair> ReadAheadBackend::Get(std::string_view key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = keys_.find(key); it != keys_.end()) {
      ++hits_;
      if (it->second.kvs.empty()) return NotFound("resource does not exist: " + std::string(key));
      return it->second.kvs.front();
    }
  }
  return inner_.Get(key);
}

Result<ListResult> ReadAheadBackend::List(std::string_view prefix) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = prefixes_.find(prefix); it != prefixes_.end()) {
      ++hits_;
      return it->second;
    }
  }
  return inner_.List(prefix);
}

void ReadAheadBackend::Forget(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = keys_.find(key); it != keys_.end()) keys_.erase(it);
  for (auto it = prefixes_.begin(); it != prefixes_.end();) {
    it = StartsWith(key, it->first) ? prefixes_.erase(it) : std::next(it);
  }
}

Result<KVPair> ReadAheadBackend::Create(std::string_view key, std::string_view value,
                                        std::chrono::seconds ttl) {
  Forget(key);
  return inner_.Create(key, value, ttl);
}

Result<KVPair> ReadAheadBackend::Update(std::string_view key, std::string_view value,
                                        int64_t expected_revision, std::chrono::seconds ttl) {
  Forget(key);
  return inner_.Update(key, value, expected_revision, ttl);
}

Result<KVPair> ReadAheadBackend::Put(std::string_view key, std::string_view value,
                                     std::chrono::seconds ttl) {
  Forget(key);
  return inner_.Put(key, value, ttl);
}

Result<KVPair> ReadAheadBackend::Delete(std::string_view key, int64_t expected_revision) {
  Forget(key);
  return inner_.Delete(key, expected_revision);
}

Result<std::vector<KVPair>> ReadAheadBackend::Txn(const std::vector<TxnOp>& ops) {
  for (const TxnOp& op : ops)
    Forget(op.key);
  return inner_.Txn(ops);
}

Result<int64_t> ReadAheadBackend::DeletePrefix(std::string_view prefix) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = keys_.begin(); it != keys_.end();) {
      it = StartsWith(it->first, prefix) ? keys_.erase(it) : std::next(it);
    }
    for (auto it = prefixes_.begin(); it != prefixes_.end();) {
      bool overlaps = StartsWith(it->first, prefix) || StartsWith(prefix, it->first);
      it = overlaps ? prefixes_.erase(it) : std::next(it);
    }
  }
  return inner_.DeletePrefix(prefix);
}

}  // namespace calico::datastore
