// Samples, percentiles and the results file of `make bench` (build/bench/results.json):
// {"rows": [{"row", "metric", "ours", "peer", "ratio", "unit", "samples", "params", "details"}]}.
// A row is named by row + metric + params (what was measured and how); details are figures
// measured alongside (the peer before and after, drop counts) and do not name it, so running a
// row again replaces it instead of adding a second one.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "calico/base/result.h"

namespace calico::bench {

using Json = nlohmann::json;

// Nearest-rank percentile (p in 0..100) of unsorted samples; 0 when empty.
double Percentile(std::vector<double> samples, double p);

struct RowResult {
  std::string row;     // "cni-add"
  std::string metric;  // "p50_ms"
  double ours = 0;
  double peer = 0;  // or the limit
  std::string unit;
  int samples = 0;
  Json params = Json::object();
  Json details = Json::object();  // measured alongside; not part of the row's name
};

// Replaces the rows named like the new ones (same row + metric + params) and writes the file. A
// row written before its figures moved to details (params that held them) is replaced too: an old
// row matches when its params without the new row's detail keys equal the new params.
[[nodiscard]] Status MergeResults(const std::string& path, const std::vector<RowResult>& rows);
// The results file as a table: row, metric, params, ours, peer, ratio, samples.
[[nodiscard]] Result<std::string> RenderTable(const std::string& path);

}  // namespace calico::bench
