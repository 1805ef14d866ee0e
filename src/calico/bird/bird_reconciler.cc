// What calico-node's confd does for BIRD (confd/pkg/backends/calico, the bird service's reload):
// render from the datastore, start or reconfigure the daemon.
#include "calico/bird/bird_reconciler.h"

#include "calico/base/log.h"
#include "calico/bird/bird_config.h"
#include "calico/bird/bird_inputs.h"

namespace calico::bird {

BirdReconciler::BirdReconciler(datastore::Client& client, datastore::Backend& backend,
                               std::string node, BirdDaemon& daemon)
    : client_(client), backend_(backend), node_(std::move(node)), daemon_(daemon) {}

Status BirdReconciler::Apply() {
  ASSIGN_OR_RETURN(BirdInput input, BirdInputFromDatastore(client_, backend_, node_));
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
  return st;
}

}  // namespace calico::bird
