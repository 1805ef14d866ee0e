// The policy and namespace controllers (kube-controllers/pkg/controllers/networkpolicy and
// namespace, with kube-controllers/pkg/converter): the Kubernetes objects calicoctl stored under
// /calico/kubernetes/ are converted (convert.h) and the Calico resources they own are made equal
// to the conversion, through the resource client as kube-controllers writes them:
//
//   NetworkPolicy.networking.k8s.io ns/x  ─▶ NetworkPolicy ns/knp.default.x
//   Namespace x                            ─▶ Profile kns.x
//   AdminNetworkPolicy x                   ─▶ GlobalNetworkPolicy kanp.kube-admin.x
//   BaselineAdminNetworkPolicy default     ─▶ GlobalNetworkPolicy kbanp.kube-baseline.default
//
// Each Sync* lists both sides, creates what is missing, updates what differs (the spec, after the
// client's defaults), and deletes owned resources (by their name prefix) whose source is gone.
// Edits made to an owned resource are undone at the next pass, as upstream's resource cache does.
//
// Thread-safety: drive from one thread.
#pragma once

#include <functional>

#include "calico/base/result.h"
#include "calico/controllers/metrics.h"
#include "calico/datastore/client.h"

namespace calico::controllers {

// Called before every write; false stops the pass (the leader lease is no longer certain).
using MayAct = std::function<bool()>;

struct SyncResult {
  int created = 0;
  int updated = 0;
  int deleted = 0;
  int writes() const { return created + updated + deleted; }
};

class PolicySync {
 public:
  PolicySync(datastore::Client& client, ControllerMetrics& metrics)
      : client_(client), metrics_(metrics) {}

  // Errors: kUnavailable (store, or may_act said stop); the next pass retries.
  [[nodiscard]] Result<SyncResult> SyncNetworkPolicies(const MayAct& may_act);
  [[nodiscard]] Result<SyncResult> SyncNamespaces(const MayAct& may_act);
  [[nodiscard]] Result<SyncResult> SyncAdminPolicies(const MayAct& may_act);

 private:
  datastore::Client& client_;
  ControllerMetrics& metrics_;
};

}  // namespace calico::controllers
