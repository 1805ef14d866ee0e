// calico-node's status reports: the keys and value Felix writes, the TTL on the live key only.
#include "calico/node/status_report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "calico/base/testing/fake_clock.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::node {
namespace {

using ::calico::testing::FakeClock;

TEST(StatusReportTest, WritesBothKeysTtlOnTheLiveOne) {
  FakeClock clock;
  clock.SetWall(std::chrono::system_clock::from_time_t(1700000000));
  datastore::MemBackend backend(&clock);
  StatusReporter reporter(backend, clock, "node-1",
                          {std::chrono::seconds(30), std::chrono::seconds(90)});
  ASSERT_TRUE(reporter.ReportOnce().has_value());
  auto live = backend.Get("/calico/felix/v2/no-region/host/node-1/status");
  auto last = backend.Get("/calico/felix/v2/no-region/host/node-1/last_reported_status");
  ASSERT_TRUE(live.has_value());
  ASSERT_TRUE(last.has_value());
  auto v = nlohmann::json::parse(last->value);
  EXPECT_EQ(v["time"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(v["first_update"], true);
  clock.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(reporter.ReportOnce().has_value());
  EXPECT_EQ(nlohmann::json::parse(
                backend.Get(datastore::FelixLastStatusKey("node-1"))->value)["first_update"],
            false);
  // Silence: the live key expires with its TTL, the last report stays.
  clock.Advance(std::chrono::seconds(91));
  EXPECT_FALSE(backend.Get(datastore::FelixStatusKey("node-1")).has_value());
  EXPECT_TRUE(backend.Get(datastore::FelixLastStatusKey("node-1")).has_value());
}

TEST(StatusReportTest, Settings) {
  auto s = StatusReportSettingsFromEnv({});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->interval, std::chrono::seconds(30));
  EXPECT_EQ(s->ttl, std::chrono::seconds(90));
  s = StatusReportSettingsFromEnv({{"FELIX_REPORTINGINTERVALSECS", "0"}});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->interval.count(), 0);
  s = StatusReportSettingsFromEnv({{"FELIX_REPORTINGTTLSECS", "soon"}});
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("FELIX_REPORTINGTTLSECS"), std::string::npos);
}

}  // namespace
}  // namespace calico::node
