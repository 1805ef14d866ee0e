// See health.h (libcalico-go/lib/health/health.go).
#include "calico/agent/health.h"

#include <algorithm>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/base/strings.h"

namespace calico::agent {
namespace {

// "1.500" -> "1.5", "2.000" -> "2".
std::string TrimFraction(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (!s.empty() && s.back() == '0')
    s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// go-pretty's default table style, as upstream's Summary renders it.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return "";
  std::vector<std::size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  }
  std::string rule = "+";
  for (std::size_t w : widths)
    rule += std::string(w + 2, '-') + "+";
  auto line = [&](const std::vector<std::string>& row) {
    std::string out = "|";
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += " " + row[i] + std::string(widths[i] - row[i].size(), ' ') + " |";
    }
    return out;
  };
  std::string out = rule + "\n" + line(rows[0]) + "\n" + rule + "\n";
  for (std::size_t r = 1; r < rows.size(); ++r)
    out += line(rows[r]) + "\n";
  return out + rule;
}

}  // namespace

std::string GoDurationString(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  const int64_t ns = d.count();
  if (ns == 0) return "0s";
  const bool neg = ns < 0;
  const uint64_t u = neg ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  std::string out;
  if (u < 1000) {
    out = fmt::format("{}ns", u);
  } else if (u < 1000000) {
    out = TrimFraction(fmt::format("{}.{:03}", u / 1000, u % 1000)) + "µs";
  } else if (u < 1000000000) {
    out = TrimFraction(fmt::format("{}.{:06}", u / 1000000, u % 1000000)) + "ms";
  } else {
    const uint64_t hours = u / 3600000000000ULL;
    const uint64_t minutes = (u / 60000000000ULL) % 60;
    const uint64_t secs = (u / 1000000000ULL) % 60;
    const uint64_t frac = u % 1000000000ULL;
    if (hours > 0) out += fmt::format("{}h", hours);
    if (hours > 0 || minutes > 0) out += fmt::format("{}m", minutes);
    out += TrimFraction(fmt::format("{}.{:09}", secs, frac)) + "s";
  }
  return neg ? "-" + out : out;
}

HealthAggregator::HealthAggregator(const Clock& clock) : clock_(clock) {}

void HealthAggregator::RegisterReporter(const std::string& name, HealthReport reports,
                                        Duration timeout) {
  std::lock_guard lock(mu_);
  reporters_[name] = Reporter{.reports = std::move(reports),
                              .timeout = timeout,
                              .latest = HealthReport{.live = true},
                              .timestamp = clock_.Now()};
}

void HealthAggregator::Report(const std::string& name, const HealthReport& report) {
  std::lock_guard lock(mu_);
  auto it = reporters_.find(name);
  if (it == reporters_.end()) {
    CALICO_LOG(error, "health", "health report from unregistered reporter {}", name);
    return;
  }
  Reporter& r = it->second;
  if (r.latest != report) {
    CALICO_LOG(info, "health", "health of component {} changed: {}{}", name,
               r.reports.live ? (report.live ? "live" : "non-live") : "",
               r.reports.ready ? (report.ready ? ",ready" : ",non-ready") : "");
    r.latest = report;
  }
  r.timestamp = clock_.Now();
}

void HealthAggregator::SetTimeoutOverrides(std::map<std::string, Duration> overrides) {
  std::lock_guard lock(mu_);
  if (overrides == overrides_) return;
  std::vector<std::string> unknown;
  for (const auto& [name, timeout] : overrides) {
    if (reporters_.count(name) == 0) unknown.push_back(name);
  }
  if (!unknown.empty()) {
    std::vector<std::string> known;
    for (const auto& [name, r] : reporters_)
      known.push_back(name);
    CALICO_LOG(warn, "health",
               "healthTimeoutOverrides: no health reporter named {} in this build (reporters: {}); "
               "the override has no effect",
               StrJoin(unknown, ", "), StrJoin(known, ", "));
  }
  for (const auto& [name, timeout] : overrides) {
    if (reporters_.count(name) != 0) {
      CALICO_LOG(info, "health", "health timeout of {} overridden: {}", name,
                 GoDurationString(timeout));
    }
  }
  overrides_ = std::move(overrides);
}

HealthAggregator::Duration HealthAggregator::TimeoutOf(const std::string& name, const Reporter& r,
                                                       bool* overridden) const {
  auto o = overrides_.find(name);
  if (overridden != nullptr) *overridden = o != overrides_.end();
  return o != overrides_.end() ? o->second : r.timeout;
}

HealthReport HealthAggregator::Summary() const {
  std::lock_guard lock(mu_);
  const auto now = clock_.Now();
  HealthReport summary{.live = true, .ready = true};
  std::vector<std::vector<std::string>> rows = {
      {"COMPONENT", "TIMEOUT", "LIVENESS", "READINESS", "DETAIL"}};
  for (const auto& [name, r] : reporters_) {
    bool overridden = false;
    const Duration timeout = TimeoutOf(name, r, &overridden);
    // reporterState.TimedOut: a timeout of 0 never expires.
    const bool timed_out = timeout.count() != 0 && now - r.timestamp > timeout;
    std::string liveness = "-", readiness = "-";
    if (r.reports.live) {
      const bool live = !timed_out && r.latest.live;
      liveness = timed_out ? "timed out" : (live ? "reporting live" : "reporting non-live");
      if (!live) summary.live = false;
    }
    if (r.reports.ready) {
      const bool ready = !timed_out && r.latest.ready;
      readiness = timed_out ? "timed out" : (ready ? "reporting ready" : "reporting non-ready");
      if (!ready) summary.ready = false;
    }
    std::string timeout_text = timeout.count() == 0 ? "-" : GoDurationString(timeout);
    if (overridden) timeout_text += " (override)";
    rows.push_back({name, timeout_text, liveness, readiness, r.latest.detail});
  }
  summary.detail = RenderTable(rows);
  const std::pair<bool, bool> state{summary.live, summary.ready};
  if (!last_logged_ || *last_logged_ != state) {
    CALICO_LOG(info, "health", "overall health status changed: live={} ready={}\n{}", summary.live,
               summary.ready, summary.detail);
    last_logged_ = state;
  }
  return summary;
}

std::vector<std::string> HealthAggregator::ReporterNames() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, r] : reporters_)
    out.push_back(name);
  return out;
}

}  // namespace calico::agent
