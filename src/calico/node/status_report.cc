// See status_report.h.
#include "calico/node/status_report.h"

#include <charconv>
#include <thread>

#include <nlohmann/json.hpp>

#include "calico/base/log.h"
#include "calico/datastore/keys.h"

namespace calico::node {
namespace {

Result<std::chrono::seconds> Seconds(const std::map<std::string, std::string>& env,
                                     const char* name, std::chrono::seconds fallback) {
  auto it = env.find(name);
  if (it == env.end() || it->second.empty()) return fallback;
  int64_t v = -1;
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) {
    return InvalidArgument(std::string(name) + ": not a number of seconds: \"" + s + "\"");
  }
  return std::chrono::seconds(v);
}

}  // namespace

Result<StatusReportSettings> StatusReportSettingsFromEnv(
    const std::map<std::string, std::string>& env) {
  StatusReportSettings s;
  ASSIGN_OR_RETURN(s.interval, Seconds(env, "FELIX_REPORTINGINTERVALSECS", s.interval));
  ASSIGN_OR_RETURN(s.ttl, Seconds(env, "FELIX_REPORTINGTTLSECS", s.ttl));
  return s;
}

StatusReporter::StatusReporter(datastore::Backend& backend, const Clock& clock, std::string node,
                               StatusReportSettings settings)
    : backend_(backend),
      clock_(clock),
      node_(std::move(node)),
      settings_(settings),
      started_(clock.Now()) {}

Status StatusReporter::ReportOnce() {
  double uptime = std::chrono::duration<double>(clock_.Now() - started_).count();
  std::string value = nlohmann::json{
      {"time", FormatRfc3339(clock_.WallNow())},
      {"uptime", uptime},
      {"first_update",
       first_}}.dump();
  RETURN_IF_ERROR(backend_.Put(datastore::FelixStatusKey(node_), value, settings_.ttl));
  RETURN_IF_ERROR(backend_.Put(datastore::FelixLastStatusKey(node_), value));
  first_ = false;
  return OkStatus();
}

void StatusReporter::Run(const std::atomic<bool>& stop) {
  if (settings_.interval.count() == 0) return;
  while (!stop) {
    Status st = ReportOnce();
    if (!st) CALICO_LOG(warn, "node", "status report: {}", st.error().message());
    auto until = std::chrono::steady_clock::now() + settings_.interval;
    while (!stop && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace calico::node
