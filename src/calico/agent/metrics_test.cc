// The agent's own metrics (calico_node_*) beside Felix's.
#include "calico/agent/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"

namespace calico::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, RenderProblemsSkippedValuesAndFieldsNotActedOn) {
  Metrics m;
  std::string text = m.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE calico_node_unrenderable gauge\n"));
  EXPECT_THAT(text, Not(HasSubstr("calico_node_unrenderable{")));
  EXPECT_THAT(text, HasSubstr("calico_node_datastore_values_skipped_total 0\n"));
  EXPECT_THAT(text, HasSubstr("calico_node_config_fields_not_acted_on 0\n"));

  m.SetRenderProblems({{"policy", "default/a\"b\\c"}, {"endpoint", "ns/wep"}},
                      {{{"policy", "default/web"}, 2}});
  m.AddSkippedDatastoreValue();
  m.AddSkippedDatastoreValue();
  m.SetConfigNotActedOn(3);
  text = m.Render();
  // Label values are escaped as the exposition format requires.
  EXPECT_THAT(
      text,
      HasSubstr("calico_node_unrenderable{kind=\"policy\",name=\"default/a\\\"b\\\\c\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("calico_node_unrenderable{kind=\"endpoint\",name=\"ns/wep\"} 1\n"));
  EXPECT_THAT(
      text, HasSubstr("calico_node_http_match_ignored{kind=\"policy\",name=\"default/web\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("calico_node_datastore_values_skipped_total 2\n"));
  EXPECT_THAT(text, HasSubstr("calico_node_config_fields_not_acted_on 3\n"));

  m.SetRenderProblems({}, {});
  EXPECT_THAT(m.Render(), Not(HasSubstr("calico_node_unrenderable{")));
}

// The whole /metrics page for a known state, against testdata/metrics.golden
// (CALICO_UPDATE_GOLDENS=1 rewrites it): Felix's names, types, HELP and labels as upstream's
// dashboard reads them.
TEST(MetricsTest, GoldenPage) {
  std::chrono::steady_clock::time_point now{};
  Metrics m([&] { return now; });
  for (double v : {0.004, 0.001, 0.002, 0.010})
    m.ObserveProgramming(std::chrono::duration<double>(v));
  m.ObserveCalcGraphUpdate(std::chrono::duration<double>(0.00025));
  m.AddResyncStarted();
  m.AddDataplaneError();
  m.SetClusterCounts(ClusterCounts{.hosts = 3,
                                   .workload_endpoints = 12,
                                   .host_endpoints = 1,
                                   .tiers = 3,
                                   .policies = 7,
                                   .profiles = 2});
  m.SetCounts(4, 2, 1, 5, 40);
  m.AddResync(true);
  m.AddRoutes(4, 1);
  m.SetRenderProblems({{"policy", "default/default.bad"}}, {{{"policy", "default/web"}, 1}});
  m.SetConfigNotActedOn(2);
  calico::testing::ExpectGolden("src/calico/agent/testdata/metrics.golden", m.Render());

  // Summaries forget observations older than ten minutes (client_golang's MaxAge): the quantiles
  // become NaN, _sum and _count keep counting.
  now += std::chrono::minutes(11);
  const std::string later = m.Render();
  EXPECT_THAT(later, HasSubstr("felix_int_dataplane_apply_time_seconds{quantile=\"0.5\"} NaN\n"));
  EXPECT_THAT(later, HasSubstr("felix_int_dataplane_apply_time_seconds_count 4\n"));
}

TEST(MetricsTest, SummaryQuantilesAreRanks) {
  Summary s;
  const std::chrono::steady_clock::time_point t{};
  for (int i = 1; i <= 100; ++i)
    s.Observe(i, t);
  const std::string text = s.Render("x", "help", t);
  EXPECT_THAT(text, HasSubstr("x{quantile=\"0.5\"} 50\n"));
  EXPECT_THAT(text, HasSubstr("x{quantile=\"0.9\"} 90\n"));
  EXPECT_THAT(text, HasSubstr("x{quantile=\"0.99\"} 99\n"));
  EXPECT_THAT(text, HasSubstr("x_sum 5050\nx_count 100\n"));
}

}  // namespace
}  // namespace calico::agent
