// What calico-node's confd does for BIRD (confd/pkg/backends/calico, the bird service's reload):
// render from the datastore, start or reconfigure the daemon.
#include "calico/bird/bird_reconciler.h"

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/bird/bird_config.h"
#include "calico/bird/bird_inputs.h"

namespace calico::bird {

BirdReconciler::BirdReconciler(datastore::Client& client, datastore::Backend& backend,
                               std::string node, BirdDaemon& daemon, BirdInputOptions options,
                               std::function<std::chrono::steady_clock::time_point()> now)
    : client_(client),
      backend_(backend),
      node_(std::move(node)),
      daemon_(daemon),
      options_(std::move(options)),
      now_(std::move(now)) {}

Status BirdReconciler::Apply() {
  ASSIGN_OR_RETURN(BirdInput input,
                   BirdInputFromDatastore(client_, backend_, node_, options_, &secrets_));
  // Resolution warnings (a secret that cannot be read, a missing BGPFilter): logged when they
  // change, never with a password in them.
  std::string notes = StrJoin(input.notes, "; ");
  if (notes != last_notes_ && !notes.empty()) {
    CALICO_LOG(warn, "node", "BGP configuration: {}", notes);
  }
  last_notes_ = notes;
  ASSIGN_OR_RETURN(std::string text, BuildBirdConfig(input));
  if (daemon_.current_config().empty()) return daemon_.Start(text);
  if (!daemon_.Running()) RETURN_IF_ERROR(daemon_.EnsureRunning());
  return daemon_.Reconfigure(text);
}

Status BirdReconciler::Reconcile() {
  Status st = Apply();
  const std::string err = st ? "" : st.error().message();
  if (err != last_error_) {
    if (err.empty()) {
      CALICO_LOG(info, "node", "BIRD running with the current configuration ({})",
                 daemon_.config_path());
    } else {
      CALICO_LOG(error, "node", "BIRD: {}", err);
    }
  }
  last_error_ = err;
  // A failed attempt (the datastore unreachable, BIRD refusing the file) is retried.
  retry_at_ = err.empty() ? std::chrono::steady_clock::time_point::max() : now_() + kRetryInterval;
  return st;
}

void BirdReconciler::OnIdle() {
  if (!daemon_.current_config().empty() && !daemon_.Running()) {
    Status st = daemon_.EnsureRunning();
    std::string err = st ? "" : st.error().message();
    if (err.empty()) {
      CALICO_LOG(warn, "node", "BIRD had exited; restarted it");
    } else if (err != last_restart_error_) {  // once per distinct failure
      CALICO_LOG(error, "node", "restarting BIRD: {}", err);
    }
    last_restart_error_ = err;
  }
  if (now_() >= retry_at_ ||
      (!secrets_.paths.empty() && FilesFingerprint(secrets_.paths) != secrets_.fingerprint)) {
    // A failure is logged by Reconcile; BIRD keeps its last good configuration.
    (void)Reconcile();
  }
}

}  // namespace calico::bird
