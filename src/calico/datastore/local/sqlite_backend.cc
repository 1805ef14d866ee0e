// The embedded SQLite store with etcd v3 semantics (DESIGN section 3, reference Part 4.2/4.3).
#include "calico/datastore/local/sqlite_backend.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "calico/base/log.h"
#include "calico/base/unique_fd.h"
#include "calico/datastore/txn.h"

namespace calico::datastore {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS kv(
  key TEXT PRIMARY KEY, value TEXT NOT NULL, create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL, ttl INTEGER NOT NULL DEFAULT 0, expires_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, rev INTEGER NOT NULL, key TEXT NOT NULL,
  type INTEGER NOT NULL, value TEXT NOT NULL, create_rev INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_rev ON events(rev);
-- Leased keys only: the expiry checks on every write and watch poll must not scan every key.
CREATE INDEX IF NOT EXISTS kv_expires ON kv(expires_ms) WHERE expires_ms > 0;
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(name, value) VALUES ('revision', 0), ('compacted', 0);
)sql";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A prepared statement with RAII finalisation.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::string ErrMsg() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

Status Exec(sqlite3* db, const char* sql, std::string_view what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Unavailable(std::string(what) + ": " + msg);
  }
  return OkStatus();
}

// How long a connection waits for another's write transaction before kUnavailable.
constexpr auto kBusyWait = std::chrono::seconds(30);

// sqlite3_busy_timeout's handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms between
// tries, while a write transaction here holds the lock for well under a millisecond: with several
// writers (parallel CNI ADDs, IPAM clients of several hosts) the waiters slept far longer than
// the holder needed and four clients allocated slower than one. This one tries again after 50 us,
// doubling up to 2 ms, for the same 30 s in all.
int BusyHandler(void* /*unused*/, int tries) {
  constexpr int64_t kFirstUs = 50;
  constexpr int64_t kMaxUs = 2000;
  constexpr int kDoublings = 6;  // 50 us << 6 > 2 ms
  int64_t waited_us = 0;
  for (int i = 0; i < std::min(tries, kDoublings); ++i)
    waited_us += std::min(kFirstUs << i, kMaxUs);
  if (tries > kDoublings) waited_us += (tries - kDoublings) * kMaxUs;
  if (waited_us >= std::chrono::duration_cast<std::chrono::microseconds>(kBusyWait).count()) {
    return 0;  // give up: SQLITE_BUSY
  }
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::min(kFirstUs << std::min(tries, kDoublings), kMaxUs)));
  return 1;
}

Result<sqlite3*> OpenConnection(const std::string& path) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Unavailable("open local store " + path + ": " + msg);
  }
  sqlite3_busy_handler(db, BusyHandler, nullptr);
  // Short-lived clients (every CNI call is a process) must not each checkpoint and fsync the WAL
  // on close; writers checkpoint as the WAL grows (wal_autocheckpoint).
  sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  return db;
}

std::string PrefixEnd(std::string_view prefix) {
  // The smallest string greater than every string with this prefix (etcd's range_end).
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char c = static_cast<unsigned char>(end.back());
    if (c < 0xff) {
      end.back() = static_cast<char>(c + 1);
      return end;
    }
    end.pop_back();
  }
  return "";  // Whole key space.
}

// A write transaction: BEGIN IMMEDIATE ... COMMIT, rolled back unless committed.
class WriteTxn {
 public:
  explicit WriteTxn(sqlite3* db) : db_(db) {}
  ~WriteTxn() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;
  [[nodiscard]] Status Begin() {
    RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE", "begin transaction"));
    open_ = true;
    return OkStatus();
  }
  [[nodiscard]] Status Commit() {
    RETURN_IF_ERROR(Exec(db_, "COMMIT", "commit"));
    open_ = false;
    return OkStatus();
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

Result<int64_t> MetaValue(sqlite3* db, const char* name) {
  Stmt s(db, "SELECT value FROM meta WHERE name = ?");
  s.Bind(1, std::string_view(name));
  if (s.Step() != SQLITE_ROW) return Unavailable("read store metadata: " + s.ErrMsg());
  return s.Int(0);
}

Status SetMeta(sqlite3* db, const char* name, int64_t value) {
  Stmt s(db, "UPDATE meta SET value = ? WHERE name = ?");
  s.Bind(1, value).Bind(2, std::string_view(name));
  if (s.Step() != SQLITE_DONE) return Unavailable("write store metadata: " + s.ErrMsg());
  return OkStatus();
}

Result<int64_t> NextRevision(sqlite3* db) {
  ASSIGN_OR_RETURN(int64_t rev, MetaValue(db, "revision"));
  RETURN_IF_ERROR(SetMeta(db, "revision", rev + 1));
  return rev + 1;
}

Status AppendEvent(sqlite3* db, int64_t rev, std::string_view key, WatchEventType type,
                   std::string_view value, int64_t create_rev) {
  Stmt s(db, "INSERT INTO events(rev, key, type, value, create_rev) VALUES (?, ?, ?, ?, ?)");
  s.Bind(1, rev).Bind(2, key).Bind(3, int64_t{type == WatchEventType::kPut ? 0 : 1});
  s.Bind(4, value).Bind(5, create_rev);
  if (s.Step() != SQLITE_DONE) return Unavailable("append event: " + s.ErrMsg());
  return OkStatus();
}

// Deletes expired keys (inside a write transaction), each as a delete event.
Status ExpireLocked(sqlite3* db) {
  std::vector<std::pair<std::string, int64_t>> expired;
  {
    Stmt s(db, "SELECT key, create_rev FROM kv WHERE expires_ms > 0 AND expires_ms <= ?");
    s.Bind(1, NowMs());
    while (s.Step() == SQLITE_ROW)
      expired.emplace_back(s.Text(0), s.Int(1));
  }
  for (const auto& [key, create_rev] : expired) {
    ASSIGN_OR_RETURN(int64_t rev, NextRevision(db));
    Stmt d(db, "DELETE FROM kv WHERE key = ?");
    d.Bind(1, key);
    if (d.Step() != SQLITE_DONE) return Unavailable("expire key: " + d.ErrMsg());
    RETURN_IF_ERROR(AppendEvent(db, rev, key, WatchEventType::kDelete, "", create_rev));
  }
  return OkStatus();
}

// Keeps the event log bounded; records the compacted revision.
Status TrimEvents(sqlite3* db, int64_t history) {
  Stmt c(db, "SELECT COALESCE(MAX(seq), 0) - COALESCE(MIN(seq), 0) + 1 FROM events");
  if (c.Step() != SQLITE_ROW || c.Int(0) <= history + history / 10) return OkStatus();
  Stmt r(db, "SELECT rev FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?");
  r.Bind(1, history);
  if (r.Step() != SQLITE_ROW) return OkStatus();
  int64_t upto = r.Int(0);
  Stmt d(db, "DELETE FROM events WHERE rev <= ?");
  d.Bind(1, upto);
  if (d.Step() != SQLITE_DONE) return Unavailable("trim events: " + d.ErrMsg());
  return SetMeta(db, "compacted", upto);
}

std::optional<KVPair> ReadKey(sqlite3* db, std::string_view key) {
  Stmt s(db,
         "SELECT value, mod_rev, create_rev, ttl FROM kv WHERE key = ? AND "
         "(expires_ms = 0 OR expires_ms > ?)");
  s.Bind(1, key).Bind(2, NowMs());
  if (s.Step() != SQLITE_ROW) return std::nullopt;
  return KVPair{std::string(key), s.Text(0), s.Int(1), s.Int(2), s.Int(3)};
}

class SqliteWatchStream final : public WatchStream {
 public:
  SqliteWatchStream(sqlite3* db, std::string prefix, int64_t next)
      : db_(db), prefix_(std::move(prefix)), end_(PrefixEnd(prefix_)), next_rev_(next) {}
  ~SqliteWatchStream() override { sqlite3_close(db_); }
  SqliteWatchStream(const SqliteWatchStream&) = delete;
  SqliteWatchStream& operator=(const SqliteWatchStream&) = delete;

  Result<std::vector<WatchEvent>> Next(std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (closed_.load()) return Unavailable("watch closed");
      ASSIGN_OR_RETURN(auto events, Poll());
      if (!events.empty() || std::chrono::steady_clock::now() >= deadline) return events;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void Close() override { closed_.store(true); }

 private:
  Result<std::vector<WatchEvent>> Poll() {
    // Expire leases so that watchers see their deletes even when nobody writes.
    {
      Stmt s(db_, "SELECT 1 FROM kv WHERE expires_ms > 0 AND expires_ms <= ? LIMIT 1");
      s.Bind(1, NowMs());
      if (s.Step() == SQLITE_ROW) {
        WriteTxn txn(db_);
        // Best effort: a failed expiry (another process holds the write lock) is retried on the
        // next poll, half a second later, and every read already hides expired keys.
        if (txn.Begin() && ExpireLocked(db_)) (void)txn.Commit();
      }
    }
    ASSIGN_OR_RETURN(int64_t compacted, MetaValue(db_, "compacted"));
    if (next_rev_ <= compacted) {
      return Conflict("watch revision " + std::to_string(next_rev_) + " has been compacted");
    }
    std::vector<WatchEvent> out;
    const char* sql =
        end_.empty() ? "SELECT seq, rev, key, type, value, create_rev FROM events WHERE seq > ? "
                       "AND rev >= ? AND key >= ? ORDER BY seq"
                     : "SELECT seq, rev, key, type, value, create_rev FROM events WHERE seq > ? "
                       "AND rev >= ? AND key >= ? AND key < ? ORDER BY seq";
    Stmt s(db_, sql);
    s.Bind(1, last_seq_).Bind(2, next_rev_).Bind(3, std::string_view(prefix_));
    if (!end_.empty()) s.Bind(4, std::string_view(end_));
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      last_seq_ = s.Int(0);
      WatchEvent ev;
      ev.type = s.Int(3) == 0 ? WatchEventType::kPut : WatchEventType::kDelete;
      ev.kv = KVPair{s.Text(2), s.Text(4), s.Int(1), s.Int(5), 0};
      out.push_back(std::move(ev));
    }
    if (rc != SQLITE_DONE) return Unavailable("read events: " + s.ErrMsg());
    return out;
  }

  sqlite3* db_;
  std::string prefix_;
  std::string end_;
  int64_t next_rev_;
  int64_t last_seq_ = 0;
  std::atomic<bool> closed_{false};
};

}  // namespace

namespace {

// mkdir -p with fixed modes: ancestors 0755 (root-owned and traversable, as `install -d`), the
// store's own directory 0700 (root only). chmod after mkdir because mkdir's mode is cut by the
// umask (0777 directories with umask 000 before). Existing directories are left as they are.
Status MakeStoreDirectories(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> missing;
  std::error_code ec;
  for (auto p = dir; !p.empty() && !std::filesystem::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    const mode_t mode = *it == dir ? 0700 : 0755;
    if (::mkdir(it->c_str(), mode) != 0 && errno != EEXIST) {
      return Unexpected(Error::FromErrno(errno, "create directory " + it->string()));
    }
    if (::chmod(it->c_str(), mode) != 0) {
      return Unexpected(Error::FromErrno(errno, "set the mode of " + it->string()));
    }
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<SqliteBackend>> SqliteBackend::Open(const std::string& path, int64_t history,
                                                           OpenMode mode) {
  std::error_code ec;
  if (mode == OpenMode::kExisting && !std::filesystem::exists(path, ec)) {
    return Unavailable("local store " + path +
                       " does not exist (calico-node creates it at start-up; point "
                       "CALICO_DATASTORE_PATH or the network config's datastore_path at the "
                       "store calico-node uses)");
  }
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    auto made = MakeStoreDirectories(parent);
    if (!made) return Unavailable(made.error().message());
  }
  // Create the file with mode 0600 before SQLite does (the WAL and SHM files copy its mode).
  // Only when it is new: close() of any descriptor of the file drops every POSIX lock this
  // process holds on it, so touching an existing store that another connection in this process
  // has open would silently unlock that connection and corrupt the database.
  if (!std::filesystem::exists(path, ec)) {
    UniqueFd created(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!created && errno != EEXIST) {
      return Unexpected(Error::FromErrno(errno, "open local store " + path));
    }
  }
  ASSIGN_OR_RETURN(sqlite3 * db, OpenConnection(path));
  std::unique_ptr<SqliteBackend> backend(new SqliteBackend(path, db, history));
  RETURN_IF_ERROR(Exec(db, "PRAGMA journal_mode=WAL", "enable WAL on " + path));
  RETURN_IF_ERROR(Exec(db, "PRAGMA synchronous=NORMAL", "set synchronous on " + path));
  {
    WriteTxn txn(db);
    RETURN_IF_ERROR(txn.Begin());
    RETURN_IF_ERROR(Exec(db, kSchema, "create schema in " + path));
    RETURN_IF_ERROR(txn.Commit());
  }
  return backend;
}

SqliteBackend::~SqliteBackend() {
  sqlite3_close(db_);
}

Result<KVPair> SqliteBackend::Get(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto kv = ReadKey(db_, key);
  if (!kv) return NotFound("resource does not exist: " + std::string(key));
  return *kv;
}

Result<ListResult> SqliteBackend::List(std::string_view prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  // One read transaction so the list and its revision are consistent.
  RETURN_IF_ERROR(Exec(db_, "BEGIN", "begin read"));
  ListResult out;
  std::string end = PrefixEnd(prefix);
  Stmt s(db_, end.empty() ? "SELECT key, value, mod_rev, create_rev, ttl FROM kv WHERE key >= ? "
                            "AND (expires_ms = 0 OR expires_ms > ?) ORDER BY key"
                          : "SELECT key, value, mod_rev, create_rev, ttl FROM kv WHERE key >= ? "
                            "AND (expires_ms = 0 OR expires_ms > ?) AND key < ? ORDER BY key");
  s.Bind(1, prefix).Bind(2, NowMs());
  if (!end.empty()) s.Bind(3, std::string_view(end));
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.kvs.push_back(KVPair{s.Text(0), s.Text(1), s.Int(2), s.Int(3), s.Int(4)});
  }
  auto rev = MetaValue(db_, "revision");
  // Ending a read transaction changes nothing; the rows read are valid either way.
  if (Status ended = Exec(db_, "COMMIT", "end read"); !ended) {
    CALICO_LOG(warn, "datastore", "sqlite: {}", ended.error().message());
  }
  if (rc != SQLITE_DONE) return Unavailable("list " + std::string(prefix) + ": " + s.ErrMsg());
  if (!rev) return Unexpected(rev.error());
  out.revision = *rev;
  return out;
}

Result<KVPair> SqliteBackend::Write(std::string_view key, std::string_view value,
                                    int64_t expected_revision, std::chrono::seconds ttl,
                                    WriteMode mode) {
  std::lock_guard<std::mutex> lock(mu_);
  WriteTxn txn(db_);
  RETURN_IF_ERROR(txn.Begin());
  RETURN_IF_ERROR(ExpireLocked(db_));
  std::optional<KVPair> existing = ReadKey(db_, key);
  if (mode == WriteMode::kCreate && existing) {
    return AlreadyExists("resource already exists: " + std::string(key));
  }
  if (mode == WriteMode::kUpdate) {
    if (!existing) return NotFound("resource does not exist: " + std::string(key));
    if (expected_revision != 0 && existing->mod_revision != expected_revision) {
      return Conflict("update conflict: " + std::string(key));
    }
  }
  ASSIGN_OR_RETURN(int64_t rev, NextRevision(db_));
  int64_t create_rev = existing ? existing->create_revision : rev;
  int64_t expires = ttl.count() > 0 ? NowMs() + ttl.count() * 1000 : 0;
  Stmt s(db_,
         "INSERT OR REPLACE INTO kv(key, value, create_rev, mod_rev, ttl, expires_ms) "
         "VALUES (?, ?, ?, ?, ?, ?)");
  s.Bind(1, key).Bind(2, value).Bind(3, create_rev).Bind(4, rev).Bind(5, int64_t{ttl.count()});
  s.Bind(6, expires);
  if (s.Step() != SQLITE_DONE) return Unavailable("write " + std::string(key) + ": " + s.ErrMsg());
  RETURN_IF_ERROR(AppendEvent(db_, rev, key, WatchEventType::kPut, value, create_rev));
  RETURN_IF_ERROR(TrimEvents(db_, history_));
  RETURN_IF_ERROR(txn.Commit());
  return KVPair{std::string(key), std::string(value), rev, create_rev, ttl.count()};
}

Result<KVPair> SqliteBackend::Create(std::string_view key, std::string_view value,
                                     std::chrono::seconds ttl) {
  return Write(key, value, 0, ttl, WriteMode::kCreate);
}

Result<KVPair> SqliteBackend::Update(std::string_view key, std::string_view value,
                                     int64_t expected_revision, std::chrono::seconds ttl) {
  return Write(key, value, expected_revision, ttl, WriteMode::kUpdate);
}

Result<KVPair> SqliteBackend::Put(std::string_view key, std::string_view value,
                                  std::chrono::seconds ttl) {
  return Write(key, value, 0, ttl, WriteMode::kPut);
}

Result<KVPair> SqliteBackend::Delete(std::string_view key, int64_t expected_revision) {
  std::lock_guard<std::mutex> lock(mu_);
  WriteTxn txn(db_);
  RETURN_IF_ERROR(txn.Begin());
  RETURN_IF_ERROR(ExpireLocked(db_));
  std::optional<KVPair> existing = ReadKey(db_, key);
  if (!existing) return NotFound("resource does not exist: " + std::string(key));
  if (expected_revision != 0 && existing->mod_revision != expected_revision) {
    return Conflict("update conflict: " + std::string(key));
  }
  ASSIGN_OR_RETURN(int64_t rev, NextRevision(db_));
  Stmt s(db_, "DELETE FROM kv WHERE key = ?");
  s.Bind(1, key);
  if (s.Step() != SQLITE_DONE) return Unavailable("delete " + std::string(key) + ": " + s.ErrMsg());
  RETURN_IF_ERROR(
      AppendEvent(db_, rev, key, WatchEventType::kDelete, "", existing->create_revision));
  RETURN_IF_ERROR(TrimEvents(db_, history_));
  RETURN_IF_ERROR(txn.Commit());
  return *existing;
}

Result<std::vector<KVPair>> SqliteBackend::Txn(const std::vector<TxnOp>& ops) {
  RETURN_IF_ERROR(ValidateTxn(ops));
  std::vector<KVPair> out;
  if (ops.empty()) return out;
  std::lock_guard<std::mutex> lock(mu_);
  WriteTxn txn(db_);
  RETURN_IF_ERROR(txn.Begin());
  RETURN_IF_ERROR(ExpireLocked(db_));
  std::vector<std::optional<KVPair>> existing;
  existing.reserve(ops.size());
  for (const TxnOp& op : ops) {
    existing.push_back(ReadKey(db_, op.key));
    const std::optional<KVPair>& now = existing.back();
    if (op.kind == TxnOp::Kind::kCreate) {
      if (now) return AlreadyExists("resource already exists: " + op.key);
      continue;
    }
    if (!now) return NotFound("resource does not exist: " + op.key);
    if (op.expected_revision != 0 && now->mod_revision != op.expected_revision) {
      return Conflict("update conflict: " + op.key);
    }
  }
  ASSIGN_OR_RETURN(int64_t rev, NextRevision(db_));  // One revision for all, as etcd's Txn.
  for (size_t i = 0; i < ops.size(); ++i) {
    const TxnOp& op = ops[i];
    if (op.kind == TxnOp::Kind::kDelete) {
      Stmt d(db_, "DELETE FROM kv WHERE key = ?");
      d.Bind(1, std::string_view(op.key));
      if (d.Step() != SQLITE_DONE) return Unavailable("delete " + op.key + ": " + d.ErrMsg());
      RETURN_IF_ERROR(
          AppendEvent(db_, rev, op.key, WatchEventType::kDelete, "", existing[i]->create_revision));
      out.push_back(*existing[i]);
      continue;
    }
    const int64_t create_rev = existing[i] ? existing[i]->create_revision : rev;
    Stmt s(db_,
           "INSERT OR REPLACE INTO kv(key, value, create_rev, mod_rev, ttl, expires_ms) "
           "VALUES (?, ?, ?, ?, 0, 0)");
    s.Bind(1, std::string_view(op.key)).Bind(2, std::string_view(op.value));
    s.Bind(3, create_rev).Bind(4, rev);
    if (s.Step() != SQLITE_DONE) return Unavailable("write " + op.key + ": " + s.ErrMsg());
    RETURN_IF_ERROR(AppendEvent(db_, rev, op.key, WatchEventType::kPut, op.value, create_rev));
    out.push_back(KVPair{op.key, op.value, rev, create_rev, 0});
  }
  RETURN_IF_ERROR(TrimEvents(db_, history_));
  RETURN_IF_ERROR(txn.Commit());
  return out;
}

Result<int64_t> SqliteBackend::DeletePrefix(std::string_view prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  WriteTxn txn(db_);
  RETURN_IF_ERROR(txn.Begin());
  RETURN_IF_ERROR(ExpireLocked(db_));
  std::vector<std::pair<std::string, int64_t>> keys;
  std::string end = PrefixEnd(prefix);
  {
    Stmt s(db_, end.empty() ? "SELECT key, create_rev FROM kv WHERE key >= ?"
                            : "SELECT key, create_rev FROM kv WHERE key >= ? AND key < ?");
    s.Bind(1, prefix);
    if (!end.empty()) s.Bind(2, std::string_view(end));
    while (s.Step() == SQLITE_ROW)
      keys.emplace_back(s.Text(0), s.Int(1));
  }
  if (keys.empty()) return int64_t{0};
  ASSIGN_OR_RETURN(int64_t rev, NextRevision(db_));
  for (const auto& [key, create_rev] : keys) {
    Stmt d(db_, "DELETE FROM kv WHERE key = ?");
    d.Bind(1, key);
    if (d.Step() != SQLITE_DONE) return Unavailable("delete " + key + ": " + d.ErrMsg());
    RETURN_IF_ERROR(AppendEvent(db_, rev, key, WatchEventType::kDelete, "", create_rev));
  }
  RETURN_IF_ERROR(TrimEvents(db_, history_));
  RETURN_IF_ERROR(txn.Commit());
  return static_cast<int64_t>(keys.size());
}

Result<std::unique_ptr<WatchStream>> SqliteBackend::Watch(std::string_view prefix,
                                                          int64_t from_revision) {
  int64_t next = from_revision;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(int64_t compacted, MetaValue(db_, "compacted"));
    ASSIGN_OR_RETURN(int64_t rev, MetaValue(db_, "revision"));
    if (next <= 0) next = rev + 1;
    if (next <= compacted) {
      return Conflict("watch revision " + std::to_string(next) + " has been compacted");
    }
  }
  ASSIGN_OR_RETURN(sqlite3 * db, OpenConnection(path_));
  return std::unique_ptr<WatchStream>(new SqliteWatchStream(db, std::string(prefix), next));
}

Status SqliteBackend::Compact(int64_t revision) {
  std::lock_guard<std::mutex> lock(mu_);
  WriteTxn txn(db_);
  RETURN_IF_ERROR(txn.Begin());
  Stmt d(db_, "DELETE FROM events WHERE rev <= ?");
  d.Bind(1, revision);
  if (d.Step() != SQLITE_DONE) return Unavailable("compact: " + d.ErrMsg());
  ASSIGN_OR_RETURN(int64_t compacted, MetaValue(db_, "compacted"));
  RETURN_IF_ERROR(SetMeta(db_, "compacted", std::max(compacted, revision)));
  return txn.Commit();
}

}  // namespace calico::datastore
