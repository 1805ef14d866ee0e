// In-memory Backend with etcd v3 semantics (the stateful fake of STYLE.md section 4).
#include "calico/datastore/testing/mem_backend.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include "calico/datastore/txn.h"

namespace calico::datastore {

struct MemBackend::State {
  struct Entry {
    std::string value;
    int64_t create_rev = 0;
    int64_t mod_rev = 0;
    int64_t ttl = 0;
    std::chrono::steady_clock::time_point expires{};
  };

  std::mutex mu;
  std::condition_variable cv;
  SystemClock system_clock;
  const Clock* clock = nullptr;
  size_t history_limit = 0;
  std::map<std::string, Entry, std::less<>> kv;
  int64_t revision = 0;
  int64_t compacted = 0;           // Events with revision <= compacted are gone.
  std::deque<WatchEvent> history;  // In revision order.
  // No lease expires before this (a lower bound: deleted keys may have held it).
  std::optional<std::chrono::steady_clock::time_point> next_expiry;
  std::optional<Error> fail_next;
  std::optional<Error> fail_watch_reads;
  int fail_watch_reads_left = 0;
  bool closed = false;

  std::chrono::steady_clock::time_point Now() const {
    return clock ? clock->Now() : system_clock.Now();
  }

  KVPair ToPair(const std::string& key, const Entry& e) const {
    return KVPair{key, e.value, e.mod_rev, e.create_rev, e.ttl};
  }

  void Record(WatchEventType type, KVPair kv_pair) {
    history.push_back(WatchEvent{type, std::move(kv_pair)});
    while (history.size() > history_limit) {
      compacted = history.front().kv.mod_revision;
      history.pop_front();
    }
    cv.notify_all();
  }

  // Expires leases whose time has come (each expiry is a delete with its own revision). Walks the
  // keys only when the earliest lease may have expired.
  void ExpireLocked() {
    auto now = Now();
    if (!next_expiry || now < *next_expiry) return;
    next_expiry.reset();
    for (auto it = kv.begin(); it != kv.end();) {
      if (it->second.ttl > 0 && it->second.expires > now) {
        next_expiry = std::min(next_expiry.value_or(it->second.expires), it->second.expires);
      }
      if (it->second.ttl > 0 && it->second.expires <= now) {
        ++revision;
        KVPair gone{it->first, "", revision, it->second.create_rev, 0};
        it = kv.erase(it);
        Record(WatchEventType::kDelete, std::move(gone));
      } else {
        ++it;
      }
    }
  }

  Status CheckFail() {
    if (fail_next) {
      Error e = std::move(*fail_next);
      fail_next.reset();
      return Unexpected(std::move(e));
    }
    return OkStatus();
  }

  KVPair WriteLocked(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
    ++revision;
    return WriteAtLocked(key, value, ttl);
  }

  // A write at the current revision (one of a transaction's writes, which share one revision).
  KVPair WriteAtLocked(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
    auto it = kv.find(key);
    Entry e;
    e.value = std::string(value);
    e.mod_rev = revision;
    e.create_rev = it == kv.end() ? revision : it->second.create_rev;
    e.ttl = ttl.count();
    if (e.ttl > 0) {
      e.expires = Now() + ttl;
      next_expiry = std::min(next_expiry.value_or(e.expires), e.expires);
    }
    KVPair out = ToPair(std::string(key), e);
    kv.insert_or_assign(std::string(key), std::move(e));
    Record(WatchEventType::kPut, out);
    return out;
  }
};

namespace {

class MemWatchStream final : public WatchStream {
 public:
  MemWatchStream(std::shared_ptr<MemBackend::State> state, std::string prefix, int64_t next)
      : state_(std::move(state)), prefix_(std::move(prefix)), next_(next) {}

  Result<std::vector<WatchEvent>> Next(std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(state_->mu);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (closed_) return Unavailable("watch closed");
      if (state_->fail_watch_reads_left > 0 && state_->fail_watch_reads) {
        --state_->fail_watch_reads_left;
        return Unexpected(*state_->fail_watch_reads);
      }
      state_->ExpireLocked();
      if (next_ <= state_->compacted) {
        return Conflict("watch revision " + std::to_string(next_) + " has been compacted");
      }
      std::vector<WatchEvent> out;
      auto first =
          std::partition_point(state_->history.begin(), state_->history.end(),
                               [&](const WatchEvent& ev) { return ev.kv.mod_revision < next_; });
      for (auto it = first; it != state_->history.end(); ++it) {
        if (it->kv.key.compare(0, prefix_.size(), prefix_) == 0) out.push_back(*it);
      }
      if (!state_->history.empty())
        next_ = std::max(next_, state_->history.back().kv.mod_revision + 1);
      if (!out.empty()) return out;
      if (std::chrono::steady_clock::now() >= deadline) return out;
      // Poll at least every 50 ms so lease expiry is noticed without writes.
      state_->cv.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() +
                                                         std::chrono::milliseconds(50)));
    }
  }

  void Close() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    closed_ = true;
    state_->cv.notify_all();
  }

 private:
  std::shared_ptr<MemBackend::State> state_;
  std::string prefix_;
  int64_t next_;
  bool closed_ = false;
};

}  // namespace

MemBackend::MemBackend(const Clock* clock, size_t history) : state_(std::make_shared<State>()) {
  state_->clock = clock;
  state_->history_limit = history;
}

MemBackend::~MemBackend() = default;

Result<KVPair> MemBackend::Get(std::string_view key) {
  std::lock_guard<std::mutex> lock(state_->mu);
  RETURN_IF_ERROR(state_->CheckFail());
  state_->ExpireLocked();
  auto it = state_->kv.find(key);
  if (it == state_->kv.end()) return NotFound("resource does not exist: " + std::string(key));
  return state_->ToPair(it->first, it->second);
}

Result<ListResult> MemBackend::List(std::string_view prefix) {
  std::lock_guard<std::mutex> lock(state_->mu);
  RETURN_IF_ERROR(state_->CheckFail());
  state_->ExpireLocked();
  ListResult out;
  out.revision = state_->revision;
  for (auto it = state_->kv.lower_bound(prefix); it != state_->kv.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    out.kvs.push_back(state_->ToPair(it->first, it->second));
  }
  return out;
}

Result<KVPair> MemBackend::Create(std::string_view key, std::string_view value,
                                  std::chrono::seconds ttl) {
  std::lock_guard<std::mutex> lock(state_->mu);
  RETURN_IF_ERROR(state_->CheckFail());
  state_->ExpireLocked();
  if (state_->kv.count(key) != 0) {
    return AlreadyExists("resource already exists: " + std::string(key));
  }
  return state_->WriteLocked(key, value, ttl);
}

Result<KVPair> MemBackend::Update(std::string_view key, std::string_view value,
                                  int64_t expected_revision, std::chrono::seconds ttl) {
  std::lock_guard<std::mutex> lock(state_->mu);
  RETURN_IF_ERROR(state_->CheckFail());
  state_->ExpireLocked();
  auto it = state_->kv.find(key);
  if (it == state_->kv.end()) return NotFound("resource does not exist: " + std::string(key));
  if (expected_revision != 0 && it->second.mod_rev != expected_revision) {
    return Conflict("update conflict: " + std::string(key));
  }
  return state_->WriteLocked(key, value, ttl);
}

Result<KVPair> MemBackend::Put(std::string_view key, std::string_view value,
                               std::chrono::seconds ttl) {
  std::lock_guard<std::mutex> lock(state_->mu);
  RETURN_IF_ERROR(state_->CheckFail());
  state_->ExpireLocked();
  return state_->WriteLocked(key, value, ttl);
}

Result<KVPair> MemBackend::Delete(std::string_view key, int64_t expected_revision) {
  std::lock_guard<std::mutex> lock(state_->mu);
  RETURN_IF_ERROR(state_->CheckFail());
  state_->ExpireLocked();
  auto it = state_->kv.find(key);
  if (it == state_->kv.end()) return NotFound("resource does not exist: " + std::string(key));
  if (expected_revision != 0 && it->second.mod_rev != expected_revision) {
    return Conflict("update conflict: " + std::string(key));
  }
  KVPair prev = state_->ToPair(it->first, it->second);
  state_->kv.erase(it);
  ++state_->revision;
  state_->Record(WatchEventType::kDelete,
                 KVPair{prev.key, "", state_->revision, prev.create_revision, 0});
  return prev;
}

Result<std::vector<KVPair>> MemBackend::Txn(const std::vector<TxnOp>& ops) {
  RETURN_IF_ERROR(ValidateTxn(ops));
  std::lock_guard<std::mutex> lock(state_->mu);
  RETURN_IF_ERROR(state_->CheckFail());
  state_->ExpireLocked();
  for (const TxnOp& op : ops) {
    auto it = state_->kv.find(op.key);
    if (op.kind == TxnOp::Kind::kCreate) {
      if (it != state_->kv.end()) return AlreadyExists("resource already exists: " + op.key);
      continue;
    }
    if (it == state_->kv.end()) return NotFound("resource does not exist: " + op.key);
    if (op.expected_revision != 0 && it->second.mod_rev != op.expected_revision) {
      return Conflict("update conflict: " + op.key);
    }
  }
  std::vector<KVPair> out;
  if (ops.empty()) return out;
  ++state_->revision;  // One revision for the whole transaction, as etcd's Txn.
  for (const TxnOp& op : ops) {
    if (op.kind != TxnOp::Kind::kDelete) {
      out.push_back(state_->WriteAtLocked(op.key, op.value, std::chrono::seconds(0)));
      continue;
    }
    auto it = state_->kv.find(op.key);
    KVPair prev = state_->ToPair(it->first, it->second);
    state_->kv.erase(it);
    state_->Record(WatchEventType::kDelete,
                   KVPair{prev.key, "", state_->revision, prev.create_revision, 0});
    out.push_back(std::move(prev));
  }
  return out;
}

Result<int64_t> MemBackend::DeletePrefix(std::string_view prefix) {
  std::lock_guard<std::mutex> lock(state_->mu);
  RETURN_IF_ERROR(state_->CheckFail());
  state_->ExpireLocked();
  int64_t n = 0;
  auto it = state_->kv.lower_bound(prefix);
  if (it == state_->kv.end() || it->first.compare(0, prefix.size(), prefix) != 0) return n;
  ++state_->revision;  // One revision for the whole range, as etcd's DeleteRange.
  while (it != state_->kv.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
    state_->Record(WatchEventType::kDelete,
                   KVPair{it->first, "", state_->revision, it->second.create_rev, 0});
    it = state_->kv.erase(it);
    ++n;
  }
  return n;
}

Result<std::unique_ptr<WatchStream>> MemBackend::Watch(std::string_view prefix,
                                                       int64_t from_revision) {
  std::lock_guard<std::mutex> lock(state_->mu);
  RETURN_IF_ERROR(state_->CheckFail());
  int64_t next = from_revision > 0 ? from_revision : state_->revision + 1;
  if (next <= state_->compacted) {
    return Conflict("watch revision " + std::to_string(next) + " has been compacted");
  }
  return std::unique_ptr<WatchStream>(new MemWatchStream(state_, std::string(prefix), next));
}

void MemBackend::FailWatchReads(Error error, int count) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->fail_watch_reads = std::move(error);
  state_->fail_watch_reads_left = count;
  state_->cv.notify_all();
}

void MemBackend::FailNext(Error error) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->fail_next = std::move(error);
}

void MemBackend::Compact(int64_t revision) {
  std::lock_guard<std::mutex> lock(state_->mu);
  while (!state_->history.empty() && state_->history.front().kv.mod_revision <= revision) {
    state_->history.pop_front();
  }
  state_->compacted = std::max(state_->compacted, revision);
}

int64_t MemBackend::revision() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->revision;
}

}  // namespace calico::datastore
