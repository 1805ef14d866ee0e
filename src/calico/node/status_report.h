// Felix's status reports (felix/daemon/daemon.go handleProcessStatusUpdate, fed by
// felix/dataplane/linux/int_dataplane.go loopReportingStatus): every reportingInterval calico-node
// writes {"time", "uptime", "first_update"} (libcalico-go model.StatusReport) to
// /calico/felix/v2/no-region/host/<node>/status with a TTL of reportingTTL (an etcd lease; an
// expiring row in the embedded store) and to .../last_reported_status without one. The first
// report waits 10 s after start-up, as Felix's ("so that we don't check in if we're in a tight
// cyclic restart"). reportingInterval 0 turns reporting off (calico-node's start-up writes 0s into
// the default FelixConfiguration, as upstream's: no reports unless a user sets an interval).
// Settings come from FelixConfiguration / FELIX_REPORTINGINTERVALSECS / FELIX_REPORTINGTTLSECS
// (agent/config.h) and may change while running (SetSettings). calico-controllers reads the
// reports to tell a node that ran calico-node from one that never did, and (opt-in) to remove
// nodes that went silent.
//
// Thread-safety: Tick/Run on one thread; SetSettings from any; the Backend is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "calico/base/clock.h"
#include "calico/base/result.h"
#include "calico/datastore/backend.h"

namespace calico::node {

struct StatusReportSettings {
  std::chrono::milliseconds interval{30000};  // 0 = no reports.
  std::chrono::milliseconds ttl{90000};       // Of the live key; whole seconds (etcd leases).
  bool operator==(const StatusReportSettings&) const = default;
};

// felix/dataplane/linux/int_dataplane.go loopReportingStatus: the first report's delay.
inline constexpr std::chrono::seconds kFirstStatusReportDelay{10};

class StatusReporter {
 public:
  StatusReporter(datastore::Backend& backend, const Clock& clock, std::string node,
                 StatusReportSettings settings);
  // New settings (a FelixConfiguration change): a changed interval counts from now (the first
  // report still not before kFirstStatusReportDelay after start-up).
  void SetSettings(StatusReportSettings settings);
  StatusReportSettings settings() const;
  // Writes both keys once.
  [[nodiscard]] Status ReportOnce();
  // Reports if one is due (failures are logged and retried at the next interval); returns
  // whether it wrote a report.
  bool Tick();
  // Tick about every 100 ms until `stop`.
  void Run(const std::atomic<bool>& stop);

 private:
  datastore::Backend& backend_;
  const Clock& clock_;
  std::string node_;
  mutable std::mutex mu_;
  StatusReportSettings settings_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point next_due_;
  bool first_ = true;
};

}  // namespace calico::node
