// The results file of `make bench`: running a row again replaces it (issue 20: a second
// connect-rate run showed every connect-rate row twice in `calico-bench table`, because the peer's
// before/after figures were part of the params that name a row).
#include "stats.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "calico/base/testing/temp_dir.h"

namespace calico::bench {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

RowResult ConnectRate(double ours, double before, double after) {
  return RowResult{.row = "connect-rate",
                   .metric = "crr_per_s_1000_policies",
                   .ours = ours,
                   .peer = (before + after) / 2,
                   .unit = "conn/s",
                   .samples = 1,
                   .params = {{"policies", 1000}, {"seconds", 5}},
                   .details = {{"peer_before", before}, {"peer_after", after}}};
}

TEST(BenchResultsTest, ARowRunAgainReplacesItsFiguresAndDetails) {
  const auto dir = ::calico::testing::MakeTestDir("bench-results");
  const std::string path = (dir / "results.json").string();
  ASSERT_TRUE(MergeResults(path, {ConnectRate(9000, 10000, 10400)}));
  ASSERT_TRUE(MergeResults(path, {ConnectRate(9500, 10100, 10300)}));
  auto table = RenderTable(path);
  ASSERT_TRUE(table) << table.error().message();
  EXPECT_EQ(Count(*table, "crr_per_s_1000_policies"), 1u) << *table;
  EXPECT_NE(table->find("9500.000"), std::string::npos) << *table;
  EXPECT_NE(table->find("peer_before=10100"), std::string::npos) << *table;
  // Different params name a different row, even under the same metric.
  RowResult other = ConnectRate(8000, 10000, 10000);
  other.params["seconds"] = 10;
  ASSERT_TRUE(MergeResults(path, {other}));
  EXPECT_EQ(Count(*RenderTable(path), "crr_per_s_1000_policies"), 2u);
}

// A results file written before the details field: two connect-rate runs, each with its peer
// figures in params, are two rows; the next run replaces both with one.
TEST(BenchResultsTest, RowsOfAnOlderFileWithFiguresInParamsAreReplacedOnce) {
  const auto dir = ::calico::testing::MakeTestDir("bench-results-old");
  const std::string path = (dir / "results.json").string();
  {
    std::ofstream out(path);
    out << R"({"rows": [
      {"row": "connect-rate", "metric": "crr_per_s_1000_policies", "ours": 9000, "peer": 10000,
       "params": {"policies": 1000, "seconds": 5, "peer_before": 9900, "peer_after": 10100}},
      {"row": "flow-logs", "metric": "gbps_flow_logs_on", "ours": 9, "peer": 8, "params": {}},
      {"row": "connect-rate", "metric": "crr_per_s_1000_policies", "ours": 9100, "peer": 10000,
       "params": {"policies": 1000, "seconds": 5, "peer_before": 9950, "peer_after": 10050}}
    ]})";
  }
  EXPECT_EQ(Count(*RenderTable(path), "crr_per_s_1000_policies"), 2u);  // what was seen
  ASSERT_TRUE(MergeResults(path, {ConnectRate(9500, 10100, 10300)}));
  auto table = RenderTable(path);
  ASSERT_TRUE(table);
  EXPECT_EQ(Count(*table, "crr_per_s_1000_policies"), 1u) << *table;
  EXPECT_EQ(Count(*table, "gbps_flow_logs_on"), 1u) << *table;
  EXPECT_NE(table->find("9500.000"), std::string::npos) << *table;
}

}  // namespace
}  // namespace calico::bench
