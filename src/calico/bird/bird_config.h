// BIRD 2.x configuration renderer for calico-node: what confd's bird.cfg, bird6.cfg,
// bird_ipam.cfg, bird6_ipam.cfg and bird_aggr.cfg templates produce for Calico's BIRD 1.6 fork,
// translated into one file for a single upstream BIRD 2 daemon that carries IPv4 and IPv6.
//
//   BirdInput (this node's view of the datastore, resolved by the caller)
//        |
//        v
//   ValidateBirdInput ---> Error (kInvalidArgument) for anything BIRD could not parse
//        |
//        v
//   RenderBirdConfig ---> router id, device, direct, kernel v4/v6, static blocks (bird_aggr),
//                         filters (bird_ipam), one `protocol bgp` per peer, sorted by name
//
// Differences from Calico's templates, forced by upstream BIRD 2:
//  * One daemon and one file for both families. The filters and functions keep Calico's names
//    (calico_aggr, calico_export_to_bgp_peers, calico_kernel_programming) and serve both
//    families: `net ~ <prefix>` never matches a prefix of the other family.
//  * Upstream BIRD has no `krt_tunnel` (a Calico-fork extension), and setting `ifname`/`gw` in a
//    kernel export filter cannot produce `via <peer> dev tunl0 onlink`. So routes in IPIP pools
//    are left to Felix, as with Calico's default programClusterRoutes, and the kernel filter
//    rejects them. VXLAN pools are always Felix's. Only no-encapsulation pools are programmed
//    by BIRD.
//  * There is no global `listen bgp`; a non-default listen port is set on every session with
//    `local ... port <p>`.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "calico/base/result.h"

namespace calico::bird {

inline constexpr uint32_t kDefaultASNumber = 64512;
inline constexpr uint16_t kDefaultBgpPort = 179;

// IPPool.spec.ipipMode / vxlanMode.
enum class EncapMode { kNever, kAlways, kCrossSubnet };

struct IPPool {
  std::string cidr{};  // "192.168.0.0/16" or "fd00:10::/48", host bits zero.
  EncapMode ipip_mode = EncapMode::kNever;
  EncapMode vxlan_mode = EncapMode::kNever;
  // Felix's concern (SNAT); shown in the rendered pool comment only.
  bool nat_outgoing = false;
  // A disabled pool gets no new allocations, but addresses already in it still need routes, so
  // it is routed like any other pool (as in Calico, whose templates ignore the flag).
  bool disabled = false;
  // IPPool.spec.disableBGPExport: never advertise routes in this pool.
  bool disable_bgp_export = false;

  bool operator==(const IPPool&) const = default;
};

// Another calico node, a candidate for the node-to-node mesh.
struct PeerNode {
  std::string name{};
  std::string ipv4{};                     // BGP IPv4 address without prefix length; empty if none.
  std::string ipv6{};                     // BGP IPv6 address without prefix length; empty if none.
  uint32_t as_number = kDefaultASNumber;  // The node's AS, or the global AS.
  uint16_t listen_port = kDefaultBgpPort;
  std::string rr_cluster_id{};  // Non-empty: that node is a route reflector (no mesh to it).

  bool operator==(const PeerNode&) const = default;
};

// A BGPPeer applying to this node. Global peers (no node, no nodeSelector) are named
// Global_<ip>, node-specific ones Node_<ip>; a peer selected through peerSelector is one entry per
// matching node with calico_node set and that node's rr_cluster_id.
enum class PeerScope { kGlobal, kNode };
// BGPPeer.spec.sourceAddress.
enum class SourceAddress { kUseNodeIP, kNone };

struct BgpPeer {
  PeerScope scope = PeerScope::kGlobal;
  std::string peer_ip{};
  uint16_t port = kDefaultBgpPort;
  uint32_t as_number = kDefaultASNumber;
  // Legacy keepOriginalNextHop: `next hop keep`, only meaningful (and only emitted) for eBGP.
  bool keep_original_next_hop = false;
  std::string password{};  // TCP MD5 key; empty for none.
  SourceAddress source_address = SourceAddress::kUseNodeIP;
  // The remote is a calico node (peerSelector): the session is made unidirectional like the mesh.
  bool calico_node = false;
  std::string rr_cluster_id{};  // The remote node's cluster ID, when calico_node.

  bool operator==(const BgpPeer&) const = default;
};

struct BirdInput {
  std::string node_name{};
  std::string router_id{};  // Dotted quad; usually the node's IPv4 address.
  std::string ipv4{};       // This node's BGP addresses, without prefix length.
  std::string ipv6{};
  uint32_t as_number = kDefaultASNumber;
  uint16_t listen_port = kDefaultBgpPort;
  bool node_to_node_mesh = true;
  std::string mesh_password{};    // BGPConfiguration nodeMeshPassword; empty for none.
  std::vector<PeerNode> nodes{};  // Other calico nodes (this node may appear; it is skipped).
  std::vector<BgpPeer> peers{};
  // Non-empty: this node is a route reflector. It then gets no mesh, and every iBGP peer whose
  // own cluster ID differs is its `rr client`.
  std::string rr_cluster_id{};
  std::vector<IPPool> pools{};
  // CIDRs of this node's confirmed affine blocks (pending ones excluded by the caller).
  std::vector<std::string> blocks{};
  // `bfd on` for every session (with a `protocol bfd`); BIRD needs a source address for it, so
  // sessions without one (sourceAddress None) get none.
  bool bfd = false;
  // BGPConfiguration logSeverityScreen (node.<name> overriding default), case-insensitive:
  // "Debug" gives `debug all` on the BGP sessions, "None" `debug off`, anything else (the default
  // "Info") `debug { states, routes, filters, events }` as Calico's template does.
  std::string log_severity{};

  bool operator==(const BirdInput&) const = default;
};

// Checks everything RenderBirdConfig writes into the file: addresses and CIDRs parse, the router ID
// is IPv4, at least one of ipv4/ipv6 is set, AS numbers are non-zero, passwords are at most 80
// bytes of printable ASCII without '"' or '\' (BIRD 2 strings have no escapes), and cluster IDs
// are dotted quads. Names only reach comments and are sanitised there.
// Errors: kInvalidArgument naming the offending field.
[[nodiscard]] Status ValidateBirdInput(const BirdInput& input);

// Renders the whole BIRD 2 configuration. Deterministic: pools, blocks and peers are sorted, so
// permuting the input vectors gives the same text.
// Precondition: ValidateBirdInput(input) succeeded; otherwise entries that do not parse are
// skipped with a comment, and the text may not load.
std::string RenderBirdConfig(const BirdInput& input);

// ValidateBirdInput, then RenderBirdConfig.
[[nodiscard]] Result<std::string> BuildBirdConfig(const BirdInput& input);

}  // namespace calico::bird
