// BirdInputFromDatastore: what Calico's confd does before rendering bird.cfg (reference §4.1,
// §4.3): it reads this node's Node resource, the BGPConfigurations, the other Nodes, the BGPPeers,
// the IPPools and this node's block affinities, resolves defaults, selectors and per-node
// overrides, and hands the renderer one resolved BirdInput.
//
//   Node <me>  ───────────────┐  ipv4/ipv6 (prefix dropped), asNumber, routeReflectorClusterID,
//   BGPConfiguration default ─┤  asNumber (64512), nodeToNodeMeshEnabled (true), listenPort (179),
//     node.<name> overrides ──┤  logSeverityScreen (Info); node.<n>: listenPort, logSeverityScreen
//   Nodes (all others) ───────┤  mesh candidates (nodes without a BGP address are skipped)
//   BGPPeers ─────────────────┤  global | node: <me> | nodeSelector ~ my labels;
//                             │  peerSelector ⇒ one peer per selected Node (and the reverse)
//   IPPools ──────────────────┤  cidr, ipipMode, vxlanMode, natOutgoing, disabled, disableBGPExport
//   /calico/ipam/v2/host/<me>/ipv{4,6}/block/* ─┘  confirmed affinities only
//        │
//        v
//   BirdInput (then BuildBirdConfig)
//
// Not resolved here: Secret references (BGPPeer password, nodeMeshPassword; no Kubernetes API is
// reachable), BGPFilters, communities, service IP advertisement, CALICO_ROUTER_ID.
//
// Thread-safety: a free function; safe if the Client and Backend are.
#pragma once

#include <string_view>

#include "calico/base/result.h"
#include "calico/bird/bird_config.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/client.h"

namespace calico::bird {

// Builds this node's BirdInput from the datastore.
// Errors: kNotFound when `node_name` has no Node resource; kInvalidArgument when the node has no
// IPv4 BGP address ("node X has no IPv4 BGP address: run calico-node startup (IP=autodetect)"),
// or when a resource read from the store is malformed (names it); the store's errors (kUnavailable)
// otherwise.
[[nodiscard]] Result<BirdInput> BirdInputFromDatastore(datastore::Client& client,
                                                       datastore::Backend& backend,
                                                       std::string_view node_name);

}  // namespace calico::bird
