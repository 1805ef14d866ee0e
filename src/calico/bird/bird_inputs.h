// BirdInputFromDatastore: what Calico's confd does before rendering bird.cfg (reference §4.1,
// §4.3; confd/pkg/backends/calico/client.go updatePeersV1, updateBGPConfigCache, the service
// advertisement of updateGlobalRoutes, secret_watcher.go): it reads this node's Node resource,
// the BGPConfigurations, the other Nodes, the BGPPeers, the BGPFilters, the IPPools and this node's
// block affinities, resolves defaults, selectors, secrets and per-node overrides, and hands the
// renderer one resolved BirdInput.
//
//   Node <me>  ───────────────┐  ipv4/ipv6 (prefix dropped), asNumber, routeReflectorClusterID
//                             │  (or the projectcalico.org/RouteReflectorClusterID
//                             annotation/label)
//   BGPConfiguration default ─┤  asNumber (64512), nodeToNodeMeshEnabled (true), listenPort (179),
//     node.<name> overrides ──┤  logSeverityScreen (Info), nodeMeshPassword,
//     nodeMeshMaxRestartTime,
//                             │  bindMode, ignoredInterfaces, communities + prefixAdvertisements,
//                             │  service{Cluster,External,LoadBalancer}IPs, programClusterRoutes,
//                             │  ipv{4,6}NormalRoutePriority; node.<n>: listenPort,
//                             │  logSeverityScreen, prefixAdvertisements
//   Nodes (all others) ───────┤  mesh candidates (nodes without a BGP address are skipped)
//   BGPPeers ─────────────────┤  global | node: <me> | nodeSelector ~ my labels;
//                             │  peerSelector ⇒ one peer per selected Node; reverse peerings
//                             │  (reversePeering Auto) when this node is the selected remote
//   BGPFilters ───────────────┤  all of them (peers name theirs)
//   secrets dir ──────────────┤  <dir>/<secret name>/<key>: BGPPeer password, nodeMeshPassword
//   IPPools ──────────────────┤  cidr, ipipMode, vxlanMode, natOutgoing, disabled, disableBGPExport
//   /calico/ipam/v2/host/<me>/ipv{4,6}/block/* ─┘  confirmed affinities only
//        │
//        v
//   BirdInput (then BuildBirdConfig)
//
// Not resolved here: BGPPeer localWorkloadSelector (peering with local workloads needs Felix's
// local BGP peer dataplane, which calico-node does not have; such a BGPPeer is reported in the
// notes), per-service /32 advertisement of external and LoadBalancer IPs (it needs the Kubernetes
// Service API), CALICO_ADVERTISE_CLUSTER_IPS.
//
// Thread-safety: free functions; safe if the Client and Backend are.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/bird/bird_config.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/client.h"

namespace calico::bird {

inline constexpr std::string_view kDefaultSecretsDir = "/etc/calico/secrets";

struct BirdInputOptions {
  // Where BGP password secrets live: key <key> of secret <name> is the file <dir>/<name>/<key>,
  // the layout of a Kubernetes Secret mounted as a volume (Calico reads the Secret through the
  // Kubernetes API; there is none here). calico-node: CALICO_SECRETS_DIR.
  std::string secrets_dir = std::string(kDefaultSecretsDir);
  // CALICO_ROUTER_ID: "" = this node's IPv4 address, "hash" = derived from the node name
  // (RouterIDFromHash), anything else is used as given (and must be a dotted quad).
  std::string router_id{};
};

// The secret files a BirdInput was resolved from, and their state when they were read.
struct SecretFiles {
  std::vector<std::string> paths{};  // Sorted, each once; read or not.
  // FilesFingerprint(paths) as the files were when read: compare it with FilesFingerprint(paths)
  // now to know whether a secret changed since (a file replaced between reading it and a later
  // stat is not missed).
  std::string fingerprint{};
};

// Builds this node's BirdInput from the datastore.
//
// Passwords: a secretKeyRef is read from <secrets_dir>/<name>/<key> (at most 4 KiB, one trailing
// newline dropped). A secret that cannot be read leaves the peering without a password, as confd
// does, and adds a note naming the secret and the file (never its content). `secrets` (optional)
// receives the files consulted, so that the caller can re-render when one changes.
//
// Errors: kNotFound when `node_name` has no Node resource; kInvalidArgument when the node has no
// IPv4 BGP address ("node X has no IPv4 BGP address: run calico-node startup (IP=autodetect)"),
// or when a resource read from the store is malformed (names it); the store's errors (kUnavailable)
// otherwise.
[[nodiscard]] Result<BirdInput> BirdInputFromDatastore(datastore::Client& client,
                                                       datastore::Backend& backend,
                                                       std::string_view node_name,
                                                       const BirdInputOptions& options = {},
                                                       SecretFiles* secrets = nullptr);

// CALICO_ROUTER_ID=hash (confd/pkg/resource/template/util.go HashToIPv4): the first four bytes of
// SHA-256(node name) as a dotted quad, the first octet lowered by 32 when above 223.
std::string RouterIDFromHash(std::string_view node_name);

// A cheap fingerprint of files (device, inode, size, modification time; "-" for a missing file,
// in the order given): it changes when a secret is written, replaced (Kubernetes swaps a symlink)
// or removed.
std::string FilesFingerprint(const std::vector<std::string>& paths);

}  // namespace calico::bird
