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
// Thread-safety: one thread (the agent's); the daemon's own locking applies.
#pragma once

#include <string>

#include "calico/base/result.h"
#include "calico/bird/bird_daemon.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/client.h"

namespace calico::bird {

class BirdReconciler {
 public:
  // `client`, `backend` and `daemon` must outlive the reconciler; `node` is this node's name.
  BirdReconciler(datastore::Client& client, datastore::Backend& backend, std::string node,
                 BirdDaemon& daemon);

  // Renders the configuration and hands it to the daemon. Errors: BirdInputFromDatastore's,
  // BuildBirdConfig's and the daemon's (nothing is sent to the daemon when rendering fails).
  [[nodiscard]] Status Reconcile();

  // The message of the last Reconcile's error; "" after a success.
  const std::string& last_error() const { return last_error_; }

 private:
  [[nodiscard]] Status Apply();

  datastore::Client& client_;
  datastore::Backend& backend_;
  const std::string node_;
  BirdDaemon& daemon_;
  std::string last_error_;
};

}  // namespace calico::bird
