#include "stats.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace calico::bench {

double Percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(samples.size())));
  if (rank == 0) rank = 1;
  return samples[std::min(rank, samples.size()) - 1];
}

Status MergeResults(const std::string& path, const std::vector<RowResult>& rows) {
  Json doc = {{"rows", Json::array()}};
  if (std::ifstream in(path); in) {
    Json old = Json::parse(in, nullptr, false);
    if (old.is_object() && old.contains("rows") && old["rows"].is_array()) doc = old;
  }
  for (const RowResult& r : rows) {
    Json row = {{"row", r.row},       {"metric", r.metric},
                {"ours", r.ours},     {"peer", r.peer},
                {"unit", r.unit},     {"samples", r.samples},
                {"params", r.params}, {"ratio", r.peer > 0 ? r.ours / r.peer : 0.0}};
    if (!r.details.empty()) row["details"] = r.details;
    auto same_name = [&](const Json& o) {
      if (o.value("row", "") != r.row || o.value("metric", "") != r.metric) return false;
      Json params = o.value("params", Json::object());
      if (!params.is_object()) return false;
      for (const auto& [k, v] : r.details.items())
        params.erase(k);
      return params == r.params;
    };
    auto& list = doc["rows"];
    auto same = std::find_if(list.begin(), list.end(), same_name);
    if (same != list.end()) {
      *same = row;
      // Any further row of the same name (two runs of an older format) goes.
      auto rest = std::remove_if(std::next(same), list.end(), same_name);
      list.erase(rest, list.end());
    } else {
      list.push_back(row);
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::ofstream out(path);
  if (!out) return Unavailable("cannot write " + path);
  out << doc.dump(2) << "\n";
  return OkStatus();
}

Result<std::string> RenderTable(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("no results at " + path + " (run make bench)");
  Json doc = Json::parse(in, nullptr, false);
  if (!doc.is_object() || !doc.contains("rows"))
    return InvalidArgument(path + " is not a results file");
  std::ostringstream out;
  out << fmt::format("{:<14} {:<8} {:<28} {:>10} {:>10} {:>7} {:>8}\n", "ROW", "METRIC", "PARAMS",
                     "OURS", "PEER", "RATIO", "SAMPLES");
  for (const Json& r : doc["rows"]) {
    std::string params;
    for (const char* field : {"params", "details"}) {
      const Json values = r.value(field, Json::object());
      for (const auto& [k, v] : values.items()) {
        if (!params.empty()) params += ",";
        params += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
      }
    }
    out << fmt::format("{:<14} {:<8} {:<28} {:>10.3f} {:>10.3f} {:>7.2f} {:>8}\n",
                       r.value("row", ""), r.value("metric", ""), params, r.value("ours", 0.0),
                       r.value("peer", 0.0), r.value("ratio", 0.0), r.value("samples", 0));
  }
  return out.str();
}

}  // namespace calico::bench
