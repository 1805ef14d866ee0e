#include "calico/datastore/read_ahead.h"

#include <gtest/gtest.h>

#include "calico/datastore/testing/mem_backend.h"

namespace calico::datastore {
namespace {

// The store is changed behind the read-ahead's back (by another client) to tell an answer from the
// batch from one read from the store.
class ReadAheadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.Put("/k", "1"));
    ASSERT_TRUE(store_.Put("/p/a", "a1"));
    ASSERT_TRUE(store_.Put("/p/b", "b1"));
  }
  MemBackend store_;
  ReadAheadBackend ra_{store_};
};

TEST_F(ReadAheadTest, PrefetchedReadsAreAnsweredFromTheBatch) {
  ASSERT_TRUE(ra_.Prefetch({{.key = "/k"}, {.key = "/p/", .prefix = true}, {.key = "/absent"}}));
  ASSERT_TRUE(store_.Put("/k", "2"));
  ASSERT_TRUE(store_.Put("/p/c", "c1"));
  ASSERT_TRUE(store_.Put("/absent", "now here"));
  EXPECT_EQ(ra_.Get("/k")->value, "1");
  EXPECT_EQ(ra_.Get("/k")->value, "1");  // until this client writes it
  EXPECT_EQ(ra_.List("/p/")->kvs.size(), 2u);
  auto absent = ra_.Get("/absent");
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ra_.hits(), 4);
  // Reads that were not in the batch go to the store.
  EXPECT_EQ(ra_.List("/p/a")->kvs.size(), 1u);
  EXPECT_EQ(ra_.Get("/p/c")->value, "c1");
  EXPECT_EQ(ra_.hits(), 4);
}

TEST_F(ReadAheadTest, AWriteOfThisClientIsReadBack) {
  ASSERT_TRUE(ra_.Prefetch({{.key = "/k"}, {.key = "/p/", .prefix = true}}));
  auto k = ra_.Get("/k");
  ASSERT_TRUE(ra_.Update("/k", "mine", k->mod_revision));
  EXPECT_EQ(ra_.Get("/k")->value, "mine");
  ASSERT_TRUE(ra_.Create("/p/new", "x"));
  EXPECT_EQ(ra_.List("/p/")->kvs.size(), 3u);
}

// A compare-and-swap that loses to another writer must see that writer's value on the next read,
// or a read-modify-write loop would retry on the stale value forever.
TEST_F(ReadAheadTest, AFailedWriteDropsTheHeldReadToo) {
  ASSERT_TRUE(ra_.Prefetch({{.key = "/k"}, {.key = "/p/", .prefix = true}}));
  auto stale = ra_.Get("/k");
  ASSERT_TRUE(store_.Put("/k", "theirs"));
  auto lost = ra_.Update("/k", "mine", stale->mod_revision);
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(ra_.Get("/k")->value, "theirs");

  ASSERT_TRUE(store_.Put("/p/a", "a2"));
  auto lost_delete = ra_.Delete("/p/a", 1);
  ASSERT_FALSE(lost_delete);
  EXPECT_EQ(ra_.List("/p/")->kvs[0].value, "a2");
}

TEST_F(ReadAheadTest, DeletePrefixDropsWhatItOverlaps) {
  ASSERT_TRUE(ra_.Prefetch({{.key = "/k"}, {.key = "/p/a"}, {.key = "/p/", .prefix = true}}));
  ASSERT_TRUE(store_.Put("/k", "2"));
  ASSERT_TRUE(ra_.DeletePrefix("/p/"));
  EXPECT_EQ(ra_.Get("/p/a").error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(ra_.List("/p/")->kvs.empty());
  EXPECT_EQ(ra_.Get("/k")->value, "1");  // outside the prefix: still from the batch
}

TEST_F(ReadAheadTest, AFailedPrefetchHoldsNothing) {
  store_.FailNext(Error(ErrorCode::kUnavailable, "etcd down"));
  EXPECT_FALSE(ra_.Prefetch({{.key = "/k"}}));
  ASSERT_TRUE(store_.Put("/k", "2"));
  EXPECT_EQ(ra_.Get("/k")->value, "2");
  EXPECT_EQ(ra_.hits(), 0);
}

}  // namespace
}  // namespace calico::datastore
