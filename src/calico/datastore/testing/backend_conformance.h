// The Backend conformance suite: every Backend implementation must pass these tests.
//
// Use: include this header in exactly one test .cc of a binary and instantiate it with factories
// that each return a fresh, empty backend (and its revision-compaction hook):
//
//   #include "calico/datastore/testing/backend_conformance.h"
//   INSTANTIATE_TEST_SUITE_P(Mem, BackendConformanceTest,
//       ::testing::Values(calico::datastore::BackendFactory{"mem", [] { ... }}));
//
// (TEST_P bodies live in this header so the linker cannot drop them from a static library.)
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "calico/base/numbers.h"
#include "calico/datastore/backend.h"

namespace calico::datastore {

struct BackendUnderTest {
  std::unique_ptr<Backend> backend;
  // Compacts history up to and including the revision (may be empty if unsupported).
  std::function<void(int64_t)> compact;
};

struct BackendFactory {
  std::string name;
  std::function<BackendUnderTest()> make;
};

inline std::ostream& operator<<(std::ostream& os, const BackendFactory& f) {
  return os << f.name;
}

class BackendConformanceTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override {
    under_test_ = GetParam().make();
    ASSERT_NE(under_test_.backend, nullptr);
  }
  Backend& b() { return *under_test_.backend; }

  // Collects watch events until `count` arrived or 5 s passed.
  static std::vector<WatchEvent> Collect(WatchStream& w, size_t count) {
    std::vector<WatchEvent> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto evs = w.Next(std::chrono::milliseconds(200));
      if (!evs) break;
      out.insert(out.end(), evs->begin(), evs->end());
    }
    return out;
  }

  BackendUnderTest under_test_;
};

TEST_P(BackendConformanceTest, CreateGetAndRevisions) {
  auto a = b().Create("/calico/x/a", "1");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_GT(a->mod_revision, 0);
  EXPECT_EQ(a->create_revision, a->mod_revision);
  auto again = b().Create("/calico/x/a", "2");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  auto got = b().Get("/calico/x/a");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->value, "1");
  EXPECT_EQ(got->mod_revision, a->mod_revision);
  auto missing = b().Get("/calico/x/none");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  auto c = b().Create("/calico/x/b", "3");
  ASSERT_TRUE(c);
  EXPECT_GT(c->mod_revision, a->mod_revision);
}

TEST_P(BackendConformanceTest, UpdateIsCompareAndSwap) {
  auto a = b().Create("/k", "v1");
  ASSERT_TRUE(a);
  auto u = b().Update("/k", "v2", a->mod_revision);
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->create_revision, a->create_revision);
  EXPECT_GT(u->mod_revision, a->mod_revision);
  auto stale = b().Update("/k", "v3", a->mod_revision);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(b().Get("/k")->value, "v2");
  auto any = b().Update("/k", "v4", 0);
  ASSERT_TRUE(any);
  auto missing = b().Update("/nope", "x", 0);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  auto put = b().Put("/p", "x");
  ASSERT_TRUE(put);
  EXPECT_EQ(b().Get("/p")->value, "x");
}

TEST_P(BackendConformanceTest, DeleteWithAndWithoutRevision) {
  auto a = b().Create("/d/a", "1");
  ASSERT_TRUE(a);
  auto stale = b().Delete("/d/a", a->mod_revision + 100);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), ErrorCode::kConflict);
  auto del = b().Delete("/d/a", a->mod_revision);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->value, "1");
  auto again = b().Delete("/d/a", 0);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kNotFound);
}

TEST_P(BackendConformanceTest, ListAndDeletePrefixRespectBoundaries) {
  for (const char* k : {"/l/a/1", "/l/a/2", "/l/ab/1", "/l/b/1"})
    ASSERT_TRUE(b().Create(k, k));
  auto list = b().List("/l/a/");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->kvs.size(), 2u);
  EXPECT_EQ(list->kvs[0].key, "/l/a/1");
  EXPECT_EQ(list->kvs[1].key, "/l/a/2");
  EXPECT_GE(list->revision, list->kvs[1].mod_revision);
  auto n = b().DeletePrefix("/l/a/");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(b().List("/l/")->kvs.size(), 2u);
  EXPECT_EQ(*b().DeletePrefix("/l/zzz/"), 0);
}

// A batch of reads answers each as Get/List would, in order: a key read holds its pair or none.
TEST_P(BackendConformanceTest, ReadManyAnswersEachReadInOrder) {
  for (const char* k : {"/r/a/1", "/r/a/2", "/r/ab/1", "/r/k"})
    ASSERT_TRUE(b().Create(k, std::string(k) + "-value"));
  auto got = b().ReadMany({{.key = "/r/a/", .prefix = true},
                           {.key = "/r/k"},
                           {.key = "/r/missing"},
                           {.key = "/r/none/", .prefix = true}});
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->size(), 4u);
  ASSERT_EQ((*got)[0].kvs.size(), 2u);
  EXPECT_EQ((*got)[0].kvs[0].key, "/r/a/1");
  EXPECT_EQ((*got)[0].kvs[1].value, "/r/a/2-value");
  ASSERT_EQ((*got)[1].kvs.size(), 1u);
  EXPECT_EQ((*got)[1].kvs[0].value, "/r/k-value");
  EXPECT_EQ((*got)[1].kvs[0].mod_revision, b().Get("/r/k")->mod_revision);
  EXPECT_TRUE((*got)[2].kvs.empty());
  EXPECT_TRUE((*got)[3].kvs.empty());
  EXPECT_TRUE(b().ReadMany({})->empty());
}

TEST_P(BackendConformanceTest, WatchDeliversOrderedEventsFromRevision) {
  auto first = b().Create("/w/a", "1");
  ASSERT_TRUE(first);
  auto watch = b().Watch("/w/", first->mod_revision);
  ASSERT_TRUE(watch) << watch.error().message();
  ASSERT_TRUE(b().Update("/w/a", "2", 0));
  ASSERT_TRUE(b().Create("/other/x", "ignored"));
  ASSERT_TRUE(b().Delete("/w/a", 0));
  auto events = Collect(**watch, 3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, WatchEventType::kPut);
  EXPECT_EQ(events[0].kv.value, "1");
  EXPECT_EQ(events[1].kv.value, "2");
  EXPECT_EQ(events[2].type, WatchEventType::kDelete);
  EXPECT_EQ(events[2].kv.key, "/w/a");
  EXPECT_LT(events[0].kv.mod_revision, events[1].kv.mod_revision);
  EXPECT_LT(events[1].kv.mod_revision, events[2].kv.mod_revision);
  (*watch)->Close();
}

TEST_P(BackendConformanceTest, WatchFromNowSkipsHistoryAndTimesOut) {
  ASSERT_TRUE(b().Create("/n/old", "1"));
  auto watch = b().Watch("/n/", 0);
  ASSERT_TRUE(watch);
  auto none = (*watch)->Next(std::chrono::milliseconds(100));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(b().Create("/n/new", "2"));
  auto events = Collect(**watch, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.key, "/n/new");
}

TEST_P(BackendConformanceTest, CompactedWatchRevisionIsConflict) {
  if (!under_test_.compact) GTEST_SKIP() << "backend has no compaction hook";
  auto a = b().Create("/c/a", "1");
  auto u = b().Update("/c/a", "2", 0);
  ASSERT_TRUE(a && u);
  under_test_.compact(u->mod_revision);
  auto watch = b().Watch("/c/", a->mod_revision);
  if (watch) {
    auto next = (*watch)->Next(std::chrono::milliseconds(500));
    ASSERT_FALSE(next);
    EXPECT_EQ(next.error().code(), ErrorCode::kConflict);
  } else {
    EXPECT_EQ(watch.error().code(), ErrorCode::kConflict);
  }
}

TEST_P(BackendConformanceTest, TtlKeysExpireWithDeleteEvent) {
  auto watch = b().Watch("/t/", 0);
  ASSERT_TRUE(watch);
  ASSERT_TRUE(b().Create("/t/lease", "x", std::chrono::seconds(1)));
  auto events = Collect(**watch, 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, WatchEventType::kDelete);
  auto gone = b().Get("/t/lease");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
}

TEST_P(BackendConformanceTest, ConcurrentCasLosesNoUpdate) {
  ASSERT_TRUE(b().Create("/counter", "0"));
  constexpr int kThreads = 4;
  constexpr int kIncrements = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements;) {
        auto cur = b().Get("/counter");
        if (!cur) continue;
        Result<int> v = ParseInt<int>(cur->value);
        if (!v) {
          ADD_FAILURE() << "/counter holds " << cur->value;
          return;
        }
        if (b().Update("/counter", std::to_string(*v + 1), cur->mod_revision)) ++i;
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(b().Get("/counter")->value, std::to_string(kThreads * kIncrements));
}

// Backend::Txn: all writes at one revision, or none (IPAM's handle and block, ipam/ipam.cc).
TEST_P(BackendConformanceTest, TxnWritesEveryKeyAtOneRevision) {
  auto block = b().Create("/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26", "b1");
  ASSERT_TRUE(block);
  auto old = b().Create("/calico/ipam/v2/handle/old", "h0");
  ASSERT_TRUE(old);
  auto watch = b().Watch("/calico/ipam/", old->mod_revision + 1);
  ASSERT_TRUE(watch);
  auto done = b().Txn({TxnOp::Create("/calico/ipam/v2/handle/h1", "h1"),
                       TxnOp::Update(block->key, "b2", block->mod_revision),
                       TxnOp::Delete("/calico/ipam/v2/handle/old", 0)});
  ASSERT_TRUE(done) << done.error().message();
  ASSERT_EQ(done->size(), 3u);
  const int64_t rev = (*done)[0].mod_revision;
  EXPECT_GT(rev, block->mod_revision);
  EXPECT_EQ((*done)[0].create_revision, rev);
  EXPECT_EQ((*done)[1].mod_revision, rev);
  EXPECT_EQ((*done)[1].create_revision, block->create_revision);
  EXPECT_EQ((*done)[1].value, "b2");
  EXPECT_EQ((*done)[2].value, "h0");  // a delete returns the pair as it was
  EXPECT_EQ(b().Get(block->key)->value, "b2");
  EXPECT_EQ(b().Get(block->key)->mod_revision, rev);
  EXPECT_EQ(b().Get("/calico/ipam/v2/handle/h1")->value, "h1");
  EXPECT_EQ(b().Get("/calico/ipam/v2/handle/old").error().code(), ErrorCode::kNotFound);
  // Watchers see the three changes, all at the transaction's revision.
  auto events = Collect(**watch, 3);
  ASSERT_EQ(events.size(), 3u);
  std::set<std::string> keys;
  for (const WatchEvent& ev : events) {
    EXPECT_EQ(ev.kv.mod_revision, rev) << ev.kv.key;
    keys.insert(ev.kv.key);
  }
  EXPECT_EQ(keys.size(), 3u);
  // Nothing to write: nothing happens.
  auto none = b().Txn({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(BackendConformanceTest, TxnWritesNothingWhenOneConditionFails) {
  auto a = b().Create("/x/a", "a1");
  ASSERT_TRUE(a);
  ASSERT_TRUE(b().Update("/x/a", "a2", a->mod_revision));
  const int64_t before = b().List("/x/")->revision;
  struct Case {
    std::vector<TxnOp> ops;
    ErrorCode code;
    std::string key;  // the key the error names
  };
  const std::vector<Case> cases = {
      // A stale revision (another writer got there first).
      {{TxnOp::Create("/x/h", "h"), TxnOp::Update("/x/a", "a3", a->mod_revision)},
       ErrorCode::kConflict,
       "/x/a"},
      // A create of an existing key, before a delete that would succeed.
      {{TxnOp::Create("/x/a", "again"), TxnOp::Delete("/x/h", 0)},
       ErrorCode::kAlreadyExists,
       "/x/a"},
      // An update and a delete of a missing key.
      {{TxnOp::Update("/x/a", "a3", 0), TxnOp::Update("/x/none", "n", 0)},
       ErrorCode::kNotFound,
       "/x/none"},
      {{TxnOp::Delete("/x/none", 0)}, ErrorCode::kNotFound, "/x/none"},
      // The first failing op (in order) is the one reported.
      {{TxnOp::Delete("/x/a", a->mod_revision), TxnOp::Create("/x/new", "v"),
        TxnOp::Delete("/x/none", 0)},
       ErrorCode::kConflict,
       "/x/a"},
  };
  for (const Case& c : cases) {
    auto failed = b().Txn(c.ops);
    ASSERT_FALSE(failed) << c.key;
    EXPECT_EQ(failed.error().code(), c.code) << failed.error().message();
    const std::string& message = failed.error().message();
    EXPECT_EQ(message.substr(message.size() - std::min(message.size(), c.key.size() + 2)),
              ": " + c.key)
        << message;
  }
  // Nothing was written by any of them.
  auto after = b().List("/x/");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->revision, before);
  ASSERT_EQ(after->kvs.size(), 1u);
  EXPECT_EQ(after->kvs[0].value, "a2");
}

TEST_P(BackendConformanceTest, TxnRefusesTheSameKeyTwiceAndTooManyOps) {
  auto twice = b().Txn({TxnOp::Create("/d/k", "1"), TxnOp::Delete("/d/k", 0)});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(twice.error().message().find("/d/k"), std::string::npos);
  std::vector<TxnOp> many;
  for (size_t i = 0; i <= kMaxTxnOps; ++i)
    many.push_back(TxnOp::Create("/d/" + std::to_string(i), "v"));
  auto too_many = b().Txn(many);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(b().List("/d/")->kvs.empty());
}

// Two keys kept in step by compare-and-swap transactions from several threads: a transaction that
// applied half of its writes, or lost one, would leave them apart.
TEST_P(BackendConformanceTest, ConcurrentTxnsKeepTwoKeysInStep) {
  ASSERT_TRUE(b().Create("/pair/a", "0"));
  ASSERT_TRUE(b().Create("/pair/b", "0"));
  constexpr int kThreads = 3;
  constexpr int kIncrements = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements;) {
        auto a = b().Get("/pair/a");
        auto bb = b().Get("/pair/b");
        if (!a || !bb) continue;
        Result<int> va = ParseInt<int>(a->value);
        Result<int> vb = ParseInt<int>(bb->value);
        if (!va || !vb) {
          ADD_FAILURE() << "/pair holds " << a->value << ", " << bb->value;
          return;
        }
        auto done = b().Txn({TxnOp::Update("/pair/a", std::to_string(*va + 1), a->mod_revision),
                             TxnOp::Update("/pair/b", std::to_string(*vb + 1), bb->mod_revision)});
        if (done) {
          ++i;
        } else if (done.error().code() != ErrorCode::kConflict) {
          ADD_FAILURE() << done.error().message();
          return;
        }
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(b().Get("/pair/a")->value, std::to_string(kThreads * kIncrements));
  EXPECT_EQ(b().Get("/pair/b")->value, std::to_string(kThreads * kIncrements));
}

}  // namespace calico::datastore
