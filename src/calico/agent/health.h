// Felix's health aggregator (libcalico-go/lib/health/health.go HealthAggregator): components
// register as reporters of liveness and/or readiness with a timeout, report as they run, and
// /liveness and /readiness (http.h) answer with the aggregate: live (ready) when every reporter
// of liveness (readiness) said so in its latest report and that report is not older than its
// timeout (0 = reports never expire).
//
// calico-node's reporters carry Felix's names and timeouts:
//   FelixStartup               live+ready, no timeout        felix/daemon/daemon.go
//   CalculationGraph           live+ready, 30 s              felix/calc/async_calc_graph.go
//   InternalDataplaneMainLoop  live+ready, 90 s (dataplaneWatchdogTimeout, at least 20 s)
//                                                            felix/dataplane/linux/int_dataplane.go
// FelixConfiguration healthTimeoutOverrides ([{name, timeout}]; FELIX_HEALTHTIMEOUTOVERRIDES
// "name=duration,...") replaces a reporter's timeout by name (health.SetGlobalTimeoutOverrides),
// at start-up and whenever the configuration changes. An override naming no reporter of this
// build is logged (upstream ignores it silently).
//
// Summary's detail is upstream's table (COMPONENT, TIMEOUT, LIVENESS, READINESS, DETAIL; an
// overridden timeout marked "(override)"), the body of the HTTP answers.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "calico/base/clock.h"

namespace calico::agent {

inline constexpr const char* kHealthFelixStartup = "FelixStartup";
inline constexpr const char* kHealthCalculationGraph = "CalculationGraph";
inline constexpr const char* kHealthDataplane = "InternalDataplaneMainLoop";
// felix/calc/async_calc_graph.go healthTimeout; int_dataplane.go's minimum (healthInterval * 2)
// and felix/config/config_params.go DataplaneWatchdogTimeout's default.
inline constexpr std::chrono::seconds kCalcGraphHealthTimeout{30};
inline constexpr std::chrono::seconds kDataplaneHealthTimeoutMin{20};
inline constexpr std::chrono::seconds kDataplaneHealthTimeoutDefault{90};

struct HealthReport {
  bool live = false;
  bool ready = false;
  std::string detail{};
  bool operator==(const HealthReport&) const = default;
};

class HealthAggregator {
 public:
  using Duration = std::chrono::nanoseconds;

  explicit HealthAggregator(const Clock& clock);

  // `reports` says which kinds of health the reporter reports; timeout 0 = never expires. The
  // reporter starts live (upstream's RegisterReporter: latest {Live: true}, timestamp now).
  void RegisterReporter(const std::string& name, HealthReport reports, Duration timeout);
  // A report from a registered reporter (unknown names are logged and ignored).
  void Report(const std::string& name, const HealthReport& report);
  // Replaces all overrides (name -> timeout; 0 = never expires). Logs names no reporter has.
  void SetTimeoutOverrides(std::map<std::string, Duration> overrides);

  // The aggregate now: live, ready, and upstream's table as detail.
  HealthReport Summary() const;
  std::vector<std::string> ReporterNames() const;

 private:
  struct Reporter {
    HealthReport reports{};
    Duration timeout{};
    HealthReport latest{};
    std::chrono::steady_clock::time_point timestamp{};
  };
  Duration TimeoutOf(const std::string& name, const Reporter& r, bool* overridden) const;

  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Reporter> reporters_;
  std::map<std::string, Duration> overrides_;
  mutable std::optional<std::pair<bool, bool>> last_logged_;
};

// Go's time.Duration.String() ("1m30s", "250ms", "0s"), for the detail table and logs.
std::string GoDurationString(std::chrono::nanoseconds d);

}  // namespace calico::agent
