// Felix's status reports (felix/daemon/daemon.go handleProcessStatusUpdate): every
// reportingInterval (30 s) calico-node writes {"time", "uptime", "first_update"} to
// /calico/felix/v2/no-region/host/<node>/status with a TTL of reportingTTL (90 s) and to
// .../last_reported_status without one. calico-controllers reads them to tell a node that ran
// calico-node from one that never did, and (opt-in) to remove nodes that went silent.
// FELIX_REPORTINGINTERVALSECS and FELIX_REPORTINGTTLSECS override the defaults; an interval of 0
// turns reporting off, as in Felix.
//
// Thread-safety: Run on one thread; the Backend is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <string>

#include "calico/base/clock.h"
#include "calico/base/result.h"
#include "calico/datastore/backend.h"

namespace calico::node {

struct StatusReportSettings {
  std::chrono::seconds interval{30};
  std::chrono::seconds ttl{90};
};

// Reads FELIX_REPORTINGINTERVALSECS / FELIX_REPORTINGTTLSECS. Errors name the variable.
[[nodiscard]] Result<StatusReportSettings> StatusReportSettingsFromEnv(
    const std::map<std::string, std::string>& env);

class StatusReporter {
 public:
  StatusReporter(datastore::Backend& backend, const Clock& clock, std::string node,
                 StatusReportSettings settings);
  // Writes both keys once.
  [[nodiscard]] Status ReportOnce();
  // Reports every interval until `stop` (failures are logged and retried at the next interval).
  void Run(const std::atomic<bool>& stop);

 private:
  datastore::Backend& backend_;
  const Clock& clock_;
  std::string node_;
  StatusReportSettings settings_;
  std::chrono::steady_clock::time_point started_;
  bool first_ = true;
};

}  // namespace calico::node
