// agent/health.h with a fake clock: reporters time out (libcalico-go/lib/health/health.go
// TimedOut), healthTimeoutOverrides make one time out sooner or later, the table upstream serves,
// unknown override names logged; /liveness and /readiness over HTTP follow; the agent's reporters
// and an override changed by a FelixConfiguration change while the agent runs.
#include "calico/agent/health.h"

#include <httplib.h>
#include <unistd.h>

#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "calico/agent/agent.h"
#include "calico/agent/config.h"
#include "calico/agent/http.h"
#include "calico/base/log.h"
#include "calico/base/testing/fake_clock.h"
#include "calico/datastore/client.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::agent {
namespace {

using ::calico::testing::FakeClock;
using std::chrono::seconds;

TEST(HealthAggregatorTest, ReportsTimeOutAndOverridesChangeWhen) {
  FakeClock clock;
  HealthAggregator h(clock);
  h.RegisterReporter(kHealthDataplane, {.live = true, .ready = true}, seconds(90));
  h.RegisterReporter(kHealthFelixStartup, {.live = true, .ready = true}, seconds(0));
  // Registered reporters start live, not ready.
  EXPECT_TRUE(h.Summary().live);
  EXPECT_FALSE(h.Summary().ready);
  h.Report(kHealthDataplane, {.live = true, .ready = true});
  h.Report(kHealthFelixStartup, {.live = true, .ready = true});
  EXPECT_TRUE(h.Summary().ready);
  clock.Advance(seconds(60));
  EXPECT_TRUE(h.Summary().live);
  // An override making the dataplane loop time out sooner: 60 s without a report is too long.
  h.SetTimeoutOverrides({{kHealthDataplane, seconds(30)}});
  HealthReport s = h.Summary();
  EXPECT_FALSE(s.live);
  EXPECT_FALSE(s.ready);
  EXPECT_NE(s.detail.find("| InternalDataplaneMainLoop | 30s (override) | timed out"),
            std::string::npos)
      << s.detail;
  // ... and later: live again without a report.
  h.SetTimeoutOverrides({{kHealthDataplane, seconds(120)}});
  EXPECT_TRUE(h.Summary().live);
  clock.Advance(seconds(61));
  EXPECT_FALSE(h.Summary().live);
  // 0: never times out. Removing the override restores the registered 90 s.
  h.SetTimeoutOverrides({{kHealthDataplane, seconds(0)}});
  EXPECT_TRUE(h.Summary().live);
  h.SetTimeoutOverrides({});
  EXPECT_FALSE(h.Summary().live);
  h.Report(kHealthDataplane, {.live = true, .ready = true});
  EXPECT_TRUE(h.Summary().live);
  // A reporter saying it is not live.
  h.Report(kHealthDataplane, {.live = false, .ready = true});
  EXPECT_FALSE(h.Summary().live);
}

TEST(HealthAggregatorTest, DetailIsUpstreamsTable) {
  FakeClock clock;
  HealthAggregator h(clock);
  h.RegisterReporter(kHealthCalculationGraph, {.live = true, .ready = true}, seconds(30));
  h.RegisterReporter(kHealthFelixStartup, {.live = true, .ready = true}, seconds(0));
  h.Report(kHealthCalculationGraph, {.live = true, .ready = false});
  h.Report(kHealthFelixStartup, {.live = true, .ready = true});
  EXPECT_EQ(h.Summary().detail,
            "+------------------+---------+----------------+---------------------+--------+\n"
            "| COMPONENT        | TIMEOUT | LIVENESS       | READINESS           | DETAIL |\n"
            "+------------------+---------+----------------+---------------------+--------+\n"
            "| CalculationGraph | 30s     | reporting live | reporting non-ready |        |\n"
            "| FelixStartup     | -       | reporting live | reporting ready     |        |\n"
            "+------------------+---------+----------------+---------------------+--------+");
}

TEST(HealthAggregatorTest, OverrideOfAnUnknownReporterIsLogged) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto& sinks = log::Get("health")->sinks();
  sinks.push_back(sink);
  FakeClock clock;
  HealthAggregator h(clock);
  h.RegisterReporter(kHealthDataplane, {.live = true, .ready = true}, seconds(90));
  h.SetTimeoutOverrides({{"NoSuchReporter", seconds(5)}});
  sinks.pop_back();
  EXPECT_NE(out.str().find("healthTimeoutOverrides: no health reporter named NoSuchReporter in "
                           "this build (reporters: InternalDataplaneMainLoop)"),
            std::string::npos)
      << out.str();
  EXPECT_TRUE(h.Summary().live);
}

TEST(HealthAggregatorTest, GoDurationStrings) {
  using std::chrono::milliseconds;
  using std::chrono::nanoseconds;
  EXPECT_EQ(GoDurationString(nanoseconds(0)), "0s");
  EXPECT_EQ(GoDurationString(nanoseconds(10)), "10ns");
  EXPECT_EQ(GoDurationString(nanoseconds(1500)), "1.5µs");
  EXPECT_EQ(GoDurationString(milliseconds(250)), "250ms");
  EXPECT_EQ(GoDurationString(milliseconds(1500)), "1.5s");
  EXPECT_EQ(GoDurationString(seconds(90)), "1m30s");
  EXPECT_EQ(GoDurationString(seconds(300)), "5m0s");
  EXPECT_EQ(GoDurationString(seconds(3600)), "1h0m0s");
}

// /liveness and /readiness answer as health.go genResponse: 200 with the table, 503 when bad.
TEST(HealthAggregatorTest, HttpEndpointsFollowTheOverride) {
  FakeClock clock;
  HealthAggregator h(clock);
  h.RegisterReporter(kHealthDataplane, {.live = true, .ready = true}, seconds(90));
  h.Report(kHealthDataplane, {.live = true, .ready = true});
  // The clock moves before the server's threads start (FakeClock is not thread-safe); the
  // overrides then change under the aggregator's lock.
  clock.Advance(seconds(45));
  Metrics metrics;
  HttpEndpoints http(metrics, h);
  const int port = 21099 + (::getpid() % 500);
  ASSERT_TRUE(http.Start("127.0.0.1", port, "127.0.0.1", 0));
  httplib::Client c("127.0.0.1", port);
  auto live = c.Get("/liveness");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  EXPECT_NE(live->body.find("InternalDataplaneMainLoop"), std::string::npos) << live->body;
  h.SetTimeoutOverrides({{kHealthDataplane, seconds(40)}});
  EXPECT_EQ(c.Get("/liveness")->status, 503);
  EXPECT_EQ(c.Get("/readiness")->status, 503);
  h.SetTimeoutOverrides({{kHealthDataplane, seconds(50)}});
  EXPECT_EQ(c.Get("/liveness")->status, 200);
  http.Stop();
}

class NullPolicy : public PolicyProgrammer {
 public:
  Status ApplyFull(const nft_model::NftRuleset&) override { return OkStatus(); }
  Status ApplyIncremental(const nft_model::NftRuleset&, const nft_model::NftRuleset&) override {
    return OkStatus();
  }
  Result<bool> Matches() override { return true; }
};

class NullRoutes : public RouteProgrammer {
 public:
  Result<RouteSyncStats> Sync(const std::set<OwnedRoute>&) override { return RouteSyncStats{}; }
  Status ConfigureInterface(const std::string&, bool, bool) override { return OkStatus(); }
};

// The agent registers Felix's CalculationGraph and InternalDataplaneMainLoop reporters, reports
// after a sync, and applies healthTimeoutOverrides from a FelixConfiguration change while it runs.
TEST(AgentHealthTest, ReportersAndOverridesFromFelixConfiguration) {
  FakeClock clock;
  HealthAggregator h(clock);
  datastore::MemBackend store;
  datastore::Client client(store);
  NullPolicy policy;
  NullRoutes routes;
  Metrics metrics;
  AgentConfig cfg;
  cfg.node_name = "node1";
  cfg.health = &h;
  cfg.reload_settings = [](const model::Resource* g,
                           const model::Resource* n) -> Result<ReloadableSettings> {
    ASSIGN_OR_RETURN(FelixSettings s, LoadFelixSettings({}, "node1", g, n));
    return ReloadableSettings{.health_timeout_overrides = s.agent.health_timeout_overrides};
  };
  Agent agent(cfg, store, policy, routes, metrics);
  EXPECT_EQ(h.ReporterNames(),
            (std::vector<std::string>{kHealthCalculationGraph, kHealthDataplane}));
  EXPECT_FALSE(h.Summary().ready);
  ASSERT_TRUE(agent.FullSync());
  EXPECT_TRUE(h.Summary().ready);
  EXPECT_TRUE(h.Summary().live);
  // The calculation graph's 30 s: a loop stalled for 40 s is not live.
  clock.Advance(seconds(40));
  EXPECT_FALSE(h.Summary().live);
  ASSERT_TRUE(agent.FullSync());
  EXPECT_TRUE(h.Summary().live);
  // healthTimeoutOverrides in FelixConfiguration default, applied at the next batch.
  model::Resource fc("FelixConfiguration", "default");
  fc.spec() = model::Json{
      {"healthTimeoutOverrides",
       model::Json::array({{{"name", "CalculationGraph"}, {"timeout", "2m0s"}},
                           {{"name", "InternalDataplaneMainLoop"}, {"timeout", "2m0s"}}})}};
  ASSERT_TRUE(client.Create(fc));
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(agent.Step(std::chrono::milliseconds(20)));
  clock.Advance(seconds(100));
  EXPECT_TRUE(h.Summary().live) << h.Summary().detail;
  clock.Advance(seconds(21));
  EXPECT_FALSE(h.Summary().live) << h.Summary().detail;
}

}  // namespace
}  // namespace calico::agent
