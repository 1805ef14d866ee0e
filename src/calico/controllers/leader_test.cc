// Leader election over the in-memory store with a fake clock: one leader at a time, a leader that
// cannot renew stops acting before its lease can expire, a standby takes over only after expiry
// (or at once after a Release).
#include "calico/controllers/leader.h"

#include <gtest/gtest.h>

#include "calico/base/testing/fake_clock.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::controllers {
namespace {

using ::calico::testing::FakeClock;

using std::chrono::seconds;

class LeaderTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  datastore::MemBackend backend_{&clock_};
  LeaderElector a_{backend_, clock_, "a", seconds(15)};
  LeaderElector b_{backend_, clock_, "b", seconds(15)};
};

TEST_F(LeaderTest, OnlyOneLeads) {
  ASSERT_EQ(a_.Tick(), Result<bool>(true));
  ASSERT_EQ(b_.Tick(), Result<bool>(false));
  EXPECT_TRUE(a_.IsLeader());
  EXPECT_FALSE(b_.IsLeader());
  EXPECT_EQ(*b_.Holder(), "a");
  // Renewals keep it.
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(seconds(4));
    ASSERT_EQ(a_.Tick(), Result<bool>(true));
    ASSERT_EQ(b_.Tick(), Result<bool>(false));
    EXPECT_TRUE(a_.IsLeader());
  }
}

// A leader that cannot renew (stalled, store unreachable) stops acting after lease - lease/3; the
// lease expires at lease; only then can the standby win. Never both at once.
TEST_F(LeaderTest, StalledLeaderStopsBeforeTheStandbyStarts) {
  ASSERT_EQ(a_.Tick(), Result<bool>(true));
  bool both = false;
  bool b_won = false;
  for (int i = 0; i < 40; ++i) {
    clock_.Advance(seconds(1));
    auto t = b_.Tick();
    ASSERT_TRUE(t.has_value());
    b_won = b_won || *t;
    both = both || (a_.IsLeader() && b_.IsLeader());
    if (clock_.Now().time_since_epoch() < seconds(10)) {
      EXPECT_TRUE(a_.IsLeader());
    }
  }
  EXPECT_FALSE(a_.IsLeader());
  EXPECT_TRUE(b_won);
  EXPECT_FALSE(both);
  // The old leader finds out on its next renewal and stands by.
  ASSERT_EQ(a_.Tick(), Result<bool>(false));
  EXPECT_FALSE(a_.IsLeader());
  EXPECT_TRUE(b_.IsLeader());
}

TEST_F(LeaderTest, StoreErrorsDoNotExtendLeadership) {
  ASSERT_EQ(a_.Tick(), Result<bool>(true));
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(seconds(1));
    backend_.FailNext(Error(ErrorCode::kUnavailable, "injected"));
    EXPECT_FALSE(a_.Tick().has_value());
  }
  EXPECT_FALSE(a_.IsLeader());
}

TEST_F(LeaderTest, ReleaseHandsOverAtOnce) {
  ASSERT_EQ(a_.Tick(), Result<bool>(true));
  a_.Release();
  EXPECT_FALSE(a_.IsLeader());
  ASSERT_EQ(b_.Tick(), Result<bool>(true));
  EXPECT_EQ(*a_.Holder(), "b");
  // Releasing a lease someone else holds now changes nothing.
  a_.Release();
  EXPECT_TRUE(b_.IsLeader());
  ASSERT_EQ(b_.Tick(), Result<bool>(true));
}

}  // namespace
}  // namespace calico::controllers
