#include "calico/datastore/local/sqlite_backend.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "calico/base/testing/temp_dir.h"

namespace calico::datastore {
namespace {

std::string TempPath(const std::string& name) {
  return (::calico::testing::MakeTestDir("sqlite-test") / name).string();
}

TEST(SqliteBackendTest, FileIsPrivateAndDataPersists) {
  std::string path = TempPath("sub/dir/calico.db");
  {
    auto b = SqliteBackend::Open(path);
    ASSERT_TRUE(b) << b.error().message();
    ASSERT_TRUE((*b)->Create("/calico/x", "1"));
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto b = SqliteBackend::Open(path);
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)->Get("/calico/x")->value, "1");
}

// The lease-expiry checks run on every write and every watch poll; with 100k keys a full scan per
// write made filling a store quadratic. They must be index searches.
TEST(SqliteBackendTest, ExpiryChecksUseAnIndexNotAScanOfEveryKey) {
  std::string path = TempPath("calico.db");
  {
    auto b = SqliteBackend::Open(path);
    ASSERT_TRUE(b) << b.error().message();
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  for (const char* query :
       {"SELECT key, create_rev FROM kv WHERE expires_ms > 0 AND expires_ms <= 1",
        "SELECT 1 FROM kv WHERE expires_ms > 0 AND expires_ms <= 1 LIMIT 1"}) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, (std::string("EXPLAIN QUERY PLAN ") + query).c_str(), -1,
                                 &stmt, nullptr),
              SQLITE_OK);
    std::string plan;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
      plan += "; ";
    }
    sqlite3_finalize(stmt);
    EXPECT_NE(plan.find("USING"), std::string::npos) << query << ": " << plan;
    EXPECT_NE(plan.find("kv_expires"), std::string::npos) << query << ": " << plan;
    EXPECT_EQ(plan.find("SCAN kv"), std::string::npos) << query << ": " << plan;
  }
  sqlite3_close(db);
}

// POSIX locks this process holds on `file` (from /proc/locks).
int LocksHeldOn(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return -1;
  std::ifstream in("/proc/locks");
  std::string line;
  int n = 0;
  const std::string pid = std::to_string(::getpid());
  const std::string inode = ":" + std::to_string(st.st_ino) + " ";
  while (std::getline(in, line)) {
    if (line.find("POSIX") != std::string::npos &&
        line.find(" " + pid + " ") != std::string::npos && line.find(inode) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

// Opening the store again in a process that has it open must not drop the first connection's
// locks (close() of any descriptor of the file drops them all). Without its shared lock, another
// process closing its connection believes it is the last one, checkpoints and deletes the WAL
// under the first connection's feet, and the database ends up "malformed".
TEST(SqliteBackendTest, SecondOpenInOneProcessKeepsTheFirstConnectionsLocks) {
  std::string path = TempPath("calico.db");
  auto first = SqliteBackend::Open(path);
  ASSERT_TRUE(first);
  ASSERT_TRUE((*first)->Create("/calico/a", "1"));
  ASSERT_TRUE((*first)->List("/calico/"));
  int held = LocksHeldOn(path);
  ASSERT_GT(held, 0) << "the open connection holds no lock on the database";
  auto again = SqliteBackend::Open(path);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(LocksHeldOn(path), held);
  ASSERT_TRUE((*first)->Create("/calico/b", "2"));
  EXPECT_EQ((*again)->List("/calico/")->kvs.size(), 2u);
}

TEST(SqliteBackendTest, UnopenablePathIsAClearError) {
  auto b = SqliteBackend::Open("/proc/self/forbidden/calico.db");
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message().find("/proc/self/forbidden"), std::string::npos);
}

// Several processes share one file (calico-lab hosts): CAS increments from forked children
// lose nothing, and a watcher in this process sees every write.
TEST(SqliteBackendTest, ProcessesShareTheStoreWithoutLostUpdates) {
  std::string path = TempPath("shared.db");
  auto parent = SqliteBackend::Open(path);
  ASSERT_TRUE(parent);
  ASSERT_TRUE((*parent)->Create("/counter", "0"));
  auto watch = (*parent)->Watch("/counter", 0);
  ASSERT_TRUE(watch);
  constexpr int kProcs = 3;
  constexpr int kIncrements = 20;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto child = SqliteBackend::Open(path);
      if (!child) ::_exit(2);
      for (int i = 0; i < kIncrements;) {
        auto cur = (*child)->Get("/counter");
        if (!cur) ::_exit(3);
        if ((*child)->Update("/counter", std::to_string(std::stoi(cur->value) + 1),
                             cur->mod_revision)) {
          ++i;
        }
      }
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ((*parent)->Get("/counter")->value, std::to_string(kProcs * kIncrements));
  size_t seen = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (seen < static_cast<size_t>(kProcs * kIncrements) &&
         std::chrono::steady_clock::now() < deadline) {
    auto evs = (*watch)->Next(std::chrono::milliseconds(200));
    ASSERT_TRUE(evs);
    seen += evs->size();
  }
  EXPECT_EQ(seen, static_cast<size_t>(kProcs * kIncrements));
}

}  // namespace
}  // namespace calico::datastore
