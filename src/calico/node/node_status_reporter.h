// CalicoNodeStatus reporter (node/pkg/status/nodestatus.go, reporter.go and populators/): for each
// CalicoNodeStatus whose spec.node is this node, calico-node fills in status with the classes
// spec.classes asks for, from its BIRD 2 daemon:
//   Agent  -> status.agent.birdV4 / birdV6 {state Ready|NotReady, version, routerID,
//             lastBootTime, lastReconfigurationTime}        (birdc show status)
//   BGP    -> status.bgp {numberEstablishedV4/V6, numberNotEstablishedV4/V6, peersV4/V6[]
//             {peerIP, type, state, since}}                 (birdc show protocols)
//   Routes -> status.routes.routesV4/V6[] {type FIB|RIB, destination, gateway, interface,
//             learnedFrom {sourceType, peerIP}}             (birdc show route)
// and status.lastUpdated. A resource is reported when it is first seen or its spec changed, then
// every spec.updatePeriodSeconds (0 or unset: only then, as upstream's ticker is off). Nothing is
// written when the status did not change (upstream's DeepEqual). The write is a compare-and-swap
// on the revision it read: on a conflict (the user changed the spec meanwhile) it re-reads the
// resource and reports again for the new spec, up to three times, so a concurrent spec change is
// never overwritten.
//
// One BIRD 2 daemon carries both families, so birdV4 and birdV6 describe the same daemon (upstream
// runs bird and bird6); peers and routes are split by address family. A BIRD that does not answer
// gives state NotReady and empty bgp/routes, as upstream's populators do for a socket that does not
// connect. A route learned from a protocol that is neither kernel*, static*, direct* nor a
// Calico peer (Mesh_/Node_/Global_) is left out, where upstream fails the whole Routes class.
//
// Thread-safety: one thread calls Tick/Run; the Client is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "calico/base/clock.h"
#include "calico/base/result.h"
#include "calico/bird/bird_status.h"
#include "calico/datastore/client.h"
#include "calico/model/resource.h"
#include "calico/model/v3/node.h"

namespace calico::node {

// The seam over BIRD's control socket. Errors: kUnavailable when BIRD does not answer.
class BirdStatusSource {
 public:
  virtual ~BirdStatusSource() = default;
  [[nodiscard]] virtual Result<bird::BirdDaemonStatus> DaemonStatus() = 0;
  [[nodiscard]] virtual Result<std::vector<bird::BgpPeerStatus>> Peers() = 0;
  [[nodiscard]] virtual Result<std::vector<bird::BirdRoute>> Routes() = 0;
};

// BIRD through `birdc -s <socket>` (what `calicoctl node status` uses).
class BirdcStatusSource final : public BirdStatusSource {
 public:
  explicit BirdcStatusSource(std::string socket_path, std::string birdc = "birdc")
      : socket_path_(std::move(socket_path)), birdc_(std::move(birdc)) {}
  [[nodiscard]] Result<bird::BirdDaemonStatus> DaemonStatus() override {
    return bird::ShowBirdStatus(socket_path_, birdc_);
  }
  [[nodiscard]] Result<std::vector<bird::BgpPeerStatus>> Peers() override {
    return bird::ShowBirdPeers(socket_path_, birdc_);
  }
  [[nodiscard]] Result<std::vector<bird::BirdRoute>> Routes() override {
    return bird::ShowBirdRoutes(socket_path_, birdc_);
  }

 private:
  std::string socket_path_;
  std::string birdc_;
};

// The status object for `spec` (its classes), without lastUpdated. Errors: the source's, other
// than kUnavailable (which gives the "not running" values).
[[nodiscard]] Result<model::Json> BuildCalicoNodeStatus(const model::v3::CalicoNodeStatusSpec& spec,
                                                        BirdStatusSource& bird);

class CalicoNodeStatusReporter {
 public:
  CalicoNodeStatusReporter(datastore::Client& client, const Clock& clock, std::string node,
                           BirdStatusSource& bird);
  // Reports every resource of this node that is due; returns how many were written.
  // Errors: listing the resources failed (a resource that cannot be reported is logged).
  [[nodiscard]] Result<int> Tick();
  // Tick every second until `stop`.
  void Run(const std::atomic<bool>& stop);

 private:
  struct Tracked {
    std::string resource_version;  // The last one read or written by this reporter.
    std::chrono::steady_clock::time_point next{};
  };
  // Reports `r` (CAS, re-read and retry on conflict); true when it wrote.
  [[nodiscard]] Result<bool> Report(model::Resource r, Tracked& tracked);

  datastore::Client& client_;
  const Clock& clock_;
  std::string node_;
  BirdStatusSource& bird_;
  std::map<std::string, Tracked> tracked_;
};

}  // namespace calico::node
