// BirdReconciler: confd's loop in calico-node (confd/pkg/backends/calico + runit's bird service):
// after every change that concerns routing between hosts, render BIRD's configuration from the
// datastore and make the BIRD daemon run it.
//
//   datastore ──BirdInputFromDatastore──▶ BirdInput ──BuildBirdConfig──▶ text
//        text ──▶ BirdDaemon: first Start(text); later Reconfigure(text) (an unchanged text is a
//                 no-op in the daemon), after EnsureRunning() when the daemon died
//
// BirdDaemon is the seam over the process: BirdSupervisor is the real one; tests use a fake that
// records what it was asked. A failure (inputs, rendering, daemon) is returned and logged when it
// differs from the previous outcome (not at every batch), and the return to a working BIRD is
// logged; the running BIRD keeps its last good configuration meanwhile.
//
// Between batches (OnIdle) it restarts a BIRD that died (as runit does upstream), retries a failed
// attempt after kRetryInterval, and renders again when a password secret file it read changed
// (confd's secret_watcher.go).
//
// Thread-safety: one thread (the agent's); the daemon's own locking applies.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "calico/base/result.h"
#include "calico/bird/bird_daemon.h"
#include "calico/bird/bird_inputs.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/client.h"

namespace calico::bird {

class BirdReconciler {
 public:
  // `client`, `backend` and `daemon` must outlive the reconciler; `node` is this node's name.
  // `options`: the secrets directory and router id (calico-node's CALICO_SECRETS_DIR and
  // CALICO_ROUTER_ID). `now` is the clock (a fake in tests).
  BirdReconciler(
      datastore::Client& client, datastore::Backend& backend, std::string node, BirdDaemon& daemon,
      BirdInputOptions options = {},
      std::function<std::chrono::steady_clock::time_point()> now = [] {
        return std::chrono::steady_clock::now();
      });

  // How long after a failed Reconcile the next attempt is made (from OnIdle).
  static constexpr std::chrono::seconds kRetryInterval{5};

  // Renders the configuration and hands it to the daemon. Errors: BirdInputFromDatastore's,
  // BuildBirdConfig's and the daemon's (nothing is sent to the daemon when rendering fails).
  [[nodiscard]] Status Reconcile();

  // Between batches: EnsureRunning when BIRD died; Reconcile again when the last attempt failed
  // kRetryInterval ago or a secret file read for the configuration changed.
  void OnIdle();

  // The message of the last Reconcile's error; "" after a success.
  const std::string& last_error() const { return last_error_; }

 private:
  [[nodiscard]] Status Apply();

  datastore::Client& client_;
  datastore::Backend& backend_;
  const std::string node_;
  BirdDaemon& daemon_;
  BirdInputOptions options_;
  std::function<std::chrono::steady_clock::time_point()> now_;
  SecretFiles secrets_;
  std::string last_error_;
  std::string last_notes_;
  std::string last_restart_error_;
  std::chrono::steady_clock::time_point retry_at_ = std::chrono::steady_clock::time_point::max();
};

}  // namespace calico::bird
