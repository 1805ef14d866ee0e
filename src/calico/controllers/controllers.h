// calico-controllers: the datastore-only duties of Calico's kube-controllers in one process,
// leader-elected through the datastore.
//
//   every lease/4: LeaderElector::Tick ──▶ standby ──(won)──▶ leader:
//     KubeControllersConfiguration "default" (created with upstream's defaults when missing;
//     status.runningConfig written back) ─▶ RunConfig
//     watch /calico/ ─▶ Kubernetes objects changed ─▶ PolicySync (policy, namespace) at once
//                    ─▶ KubeControllersConfiguration changed ─▶ RunConfig reloaded
//                    ─▶ Node / WorkloadEndpoint deleted ─▶ GarbageCollector soon
//     and on timers: each sync every reconcilerPeriod, the GarbageCollector every
//     max(1s, min(leakGracePeriod/2, 5m)) (kube-controllers syncs IPAM every leakGracePeriod/2)
//   lost the lease (or cannot renew it in time) ─▶ stops before its next write, forgets its
//   candidates, stands by.
//
// Thread-safety: Run/Step from one thread; Stop-flag from any.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "calico/base/clock.h"
#include "calico/base/result.h"
#include "calico/controllers/config.h"
#include "calico/controllers/gc.h"
#include "calico/controllers/leader.h"
#include "calico/controllers/metrics.h"
#include "calico/controllers/node_inspector.h"
#include "calico/controllers/policy_sync.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/client.h"

namespace calico::controllers {

struct ControllersOptions {
  std::string identity;  // names this instance in the leader lease
  std::chrono::seconds lease = kDefaultLeaseDuration;
  Duration node_report_timeout{0};         // opt-in clean-up of nodes whose calico-node went silent
  std::map<std::string, std::string> env;  // ENABLED_CONTROLLERS, RECONCILER_PERIOD, LOG_LEVEL...
};

class Controllers {
 public:
  Controllers(datastore::Backend& backend, NodeInspector& inspector, const Clock& clock,
              ControllerMetrics& metrics, ControllersOptions options);
  ~Controllers();
  Controllers(const Controllers&) = delete;
  Controllers& operator=(const Controllers&) = delete;

  // Step until `stop`, then gives the lease up.
  [[nodiscard]] Status Run(const std::atomic<bool>& stop);
  // One iteration: renew or take the lease when due; as leader, wait up to `wait` for datastore
  // events and run what is dirty or due. Errors are logged, counted and retried; only an
  // unusable configuration is returned.
  [[nodiscard]] Status Step(std::chrono::milliseconds wait);
  // Gives the lease up (a standby takes over without waiting for it to expire).
  void Release();

  bool leading() const { return leading_; }
  const RunConfig& config() const { return config_; }
  const GcSettings& gc_settings() const { return gc_settings_; }

 private:
  [[nodiscard]] Status BecomeLeader();
  void StandBy();
  [[nodiscard]] Status LoadConfig();
  void ApplyConfig(const RunConfig& config);
  void Ingest(const datastore::WatchEvent& ev);
  [[nodiscard]] Status RunDue();
  bool MayAct() const { return elector_.IsLeader(); }

  datastore::Backend& backend_;
  datastore::Client client_;
  const Clock& clock_;
  ControllerMetrics& metrics_;
  ControllersOptions options_;
  LeaderElector elector_;
  PolicySync policy_;
  GarbageCollector gc_;
  RunConfig config_;
  GcSettings gc_settings_;
  bool leading_ = false;
  std::unique_ptr<datastore::WatchStream> watch_;
  int64_t revision_ = 0;
  // When the watch was last re-created after a failure (Step).
  static constexpr std::chrono::milliseconds kMinWatchRestartInterval{500};
  std::chrono::steady_clock::time_point last_watch_restart_{};
  std::chrono::steady_clock::time_point next_tick_{};
  // Dirty flags and next due times per duty.
  struct Duty {
    bool dirty = true;
    std::chrono::steady_clock::time_point due{};
  };
  Duty policy_duty_, namespace_duty_, gc_duty_;
};

}  // namespace calico::controllers
