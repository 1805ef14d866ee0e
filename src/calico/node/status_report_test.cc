// calico-node's status reports on the in-memory datastore with a fake clock: the keys and value
// Felix writes, the TTL on the live key only, the first report's delay, reportingInterval 0 (off)
// and settings changed while running.
#include "calico/node/status_report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "calico/base/testing/fake_clock.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::node {
namespace {

using ::calico::testing::FakeClock;
using std::chrono::seconds;

TEST(StatusReportTest, WritesBothKeysTtlOnTheLiveOne) {
  FakeClock clock;
  clock.SetWall(std::chrono::system_clock::from_time_t(1700000000));
  datastore::MemBackend backend(&clock);
  StatusReporter reporter(backend, clock, "node-1", {seconds(30), seconds(90)});
  ASSERT_TRUE(reporter.ReportOnce().has_value());
  auto live = backend.Get("/calico/felix/v2/no-region/host/node-1/status");
  auto last = backend.Get("/calico/felix/v2/no-region/host/node-1/last_reported_status");
  ASSERT_TRUE(live.has_value());
  ASSERT_TRUE(last.has_value());
  auto v = nlohmann::json::parse(last->value);
  EXPECT_EQ(v["time"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(v["first_update"], true);
  EXPECT_EQ(v["uptime"], 0.0);
  clock.Advance(seconds(30));
  ASSERT_TRUE(reporter.ReportOnce().has_value());
  v = nlohmann::json::parse(backend.Get(datastore::FelixLastStatusKey("node-1"))->value);
  EXPECT_EQ(v["first_update"], false);
  EXPECT_EQ(v["uptime"], 30.0);
  // Silence: the live key expires with its TTL, the last report stays.
  clock.Advance(seconds(91));
  EXPECT_FALSE(backend.Get(datastore::FelixStatusKey("node-1")).has_value());
  EXPECT_TRUE(backend.Get(datastore::FelixLastStatusKey("node-1")).has_value());
}

// felix/dataplane/linux/int_dataplane.go loopReportingStatus: 10 s before the first report, then
// one per interval; the TTL is reportingTTL's.
TEST(StatusReportTest, TicksReportEveryIntervalAfterTheFirstDelay) {
  FakeClock clock;
  datastore::MemBackend backend(&clock);
  StatusReporter reporter(backend, clock, "node-1", {seconds(20), seconds(45)});
  EXPECT_FALSE(reporter.Tick());
  clock.Advance(seconds(9));
  EXPECT_FALSE(reporter.Tick());
  EXPECT_FALSE(backend.Get(datastore::FelixStatusKey("node-1")).has_value());
  clock.Advance(seconds(1));
  EXPECT_TRUE(reporter.Tick());
  EXPECT_TRUE(backend.Get(datastore::FelixStatusKey("node-1")).has_value());
  clock.Advance(seconds(19));
  EXPECT_FALSE(reporter.Tick());
  clock.Advance(seconds(1));
  EXPECT_TRUE(reporter.Tick());
  // reportingTTL 45 s: the live key outlives two missed reports, not a third.
  clock.Advance(seconds(44));
  EXPECT_TRUE(backend.Get(datastore::FelixStatusKey("node-1")).has_value());
  clock.Advance(seconds(2));
  EXPECT_FALSE(backend.Get(datastore::FelixStatusKey("node-1")).has_value());
}

// The default FelixConfiguration's reportingInterval 0s: nothing is written; a FelixConfiguration
// change while running turns reports on (at once, the start-up delay being over) and off again.
TEST(StatusReportTest, IntervalZeroIsOffAndChangesApplyWhileRunning) {
  FakeClock clock;
  datastore::MemBackend backend(&clock);
  StatusReporter reporter(backend, clock, "node-1", {seconds(0), seconds(90)});
  clock.Advance(seconds(60));
  EXPECT_FALSE(reporter.Tick());
  EXPECT_FALSE(backend.Get(datastore::FelixLastStatusKey("node-1")).has_value());
  reporter.SetSettings({seconds(15), seconds(40)});
  EXPECT_TRUE(reporter.Tick());
  auto first = backend.Get(datastore::FelixLastStatusKey("node-1"));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(nlohmann::json::parse(first->value)["first_update"], true);
  clock.Advance(seconds(15));
  EXPECT_TRUE(reporter.Tick());
  reporter.SetSettings({seconds(0), seconds(40)});
  clock.Advance(seconds(60));
  EXPECT_FALSE(reporter.Tick());
  EXPECT_FALSE(backend.Get(datastore::FelixStatusKey("node-1")).has_value());  // TTL 40 s.
  EXPECT_EQ(
      nlohmann::json::parse(backend.Get(datastore::FelixLastStatusKey("node-1"))->value)["uptime"],
      75.0);
}

}  // namespace
}  // namespace calico::node
