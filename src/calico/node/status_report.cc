// See status_report.h.
#include "calico/node/status_report.h"

#include <algorithm>
#include <thread>

#include "calico/base/log.h"
#include "calico/datastore/keys.h"

namespace calico::node {

StatusReporter::StatusReporter(datastore::Backend& backend, const Clock& clock, std::string node,
                               StatusReportSettings settings)
    : backend_(backend),
      clock_(clock),
      node_(std::move(node)),
      settings_(settings),
      started_(clock.Now()),
      next_due_(started_ + kFirstStatusReportDelay) {
  if (settings_.interval.count() <= 0) {
    CALICO_LOG(info, "node", "process status reports disabled (reportingInterval 0)");
  }
}

void StatusReporter::SetSettings(StatusReportSettings settings) {
  std::lock_guard lock(mu_);
  if (settings == settings_) return;
  if (settings.interval != settings_.interval) {
    next_due_ = std::max(clock_.Now(), started_ + kFirstStatusReportDelay);
    CALICO_LOG(info, "node", "process status reports {}",
               settings.interval.count() > 0
                   ? "every " + std::to_string(settings.interval.count()) + " ms"
                   : std::string("disabled (reportingInterval 0)"));
  }
  settings_ = settings;
}

StatusReportSettings StatusReporter::settings() const {
  std::lock_guard lock(mu_);
  return settings_;
}

Status StatusReporter::ReportOnce() {
  const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(settings().ttl);
  const double uptime = std::chrono::duration<double>(clock_.Now() - started_).count();
  const std::string value =
      datastore::FelixStatusReport{
          .time = FormatRfc3339(clock_.WallNow()), .uptime = uptime, .first_update = first_}
          .Format();
  RETURN_IF_ERROR(backend_.Put(datastore::FelixStatusKey(node_), value, ttl));
  first_ = false;  // daemon.go: firstStatusReportSent after the live key was written.
  RETURN_IF_ERROR(backend_.Put(datastore::FelixLastStatusKey(node_), value));
  return OkStatus();
}

bool StatusReporter::Tick() {
  {
    std::lock_guard lock(mu_);
    const auto now = clock_.Now();
    if (settings_.interval.count() <= 0 || now < next_due_) return false;
    next_due_ = now + settings_.interval;
  }
  Status st = ReportOnce();
  if (!st)
    CALICO_LOG(warn, "node", "failed to write status to datastore: {}", st.error().message());
  return true;
}

void StatusReporter::Run(const std::atomic<bool>& stop) {
  while (!stop) {
    Tick();  // Whether it reported is for tests.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace calico::node
