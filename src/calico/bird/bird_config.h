// BIRD 2.x configuration renderer for calico-node: what confd's bird.cfg, bird6.cfg,
// bird_ipam.cfg, bird6_ipam.cfg and bird_aggr.cfg templates (with confd's Go processing in
// confd/pkg/backends/calico/bgp_processor.go and the BGPFilter functions of
// confd/pkg/resource/template/template_funcs.go) produce for Calico's BIRD 1.6 fork, translated
// into one file for a single upstream BIRD 2 daemon that carries IPv4 and IPv6.
//
//   BirdInput (this node's view of the datastore, resolved by the caller)
//        |
//        v
//   ValidateBirdInput ---> Error (kInvalidArgument) for anything BIRD could not parse
//        |
//        v
//   RenderBirdConfig ---> router id
//                         static_v4/v6: own blocks, service ranges, reachableBy routes (bird_aggr)
//                         calico_aggr, apply_communities (prefixAdvertisements)
//                         calico_export_to_bgp_peers, calico_kernel_programming[_v6] (bird_ipam)
//                         device, direct (ignoredInterfaces), kernel_v4 [, kernel_v6]
//                         'bgp_<filter>_{import,export}FilterV{4,6}' (BGPFilter)
//                         bgp_template, one `protocol bgp` per peer, sorted by name, each with
//                         its inline import/export filter calling its BGPFilters in order
//
// Differences from Calico's templates, forced by upstream BIRD 2:
//  * One daemon and one file for both families. The export function keeps Calico's names
//    (calico_aggr, calico_export_to_bgp_peers) and serves both families: `net ~ <prefix>` never
//    matches a prefix of the other family. The kernel filters are per family
//    (calico_kernel_programming for IPv4, calico_kernel_programming_v6), as the two daemons' were.
//  * Upstream BIRD has no `krt_tunnel` (a Calico-fork extension), and setting `ifname`/`gw` in a
//    kernel export filter cannot produce `via <peer> dev tunl0 onlink`. So routes in IPIP pools
//    are left to Felix, as with Calico's default programClusterRoutes, and the kernel filter
//    rejects them whatever programClusterRoutes says. VXLAN pools are always Felix's.
//    No-encapsulation pools are BIRD's unless programClusterRoutes is Disabled or
//    EnabledIPIPOnly.
//  * There is no global `listen bgp`; a non-default listen port is set on every session with
//    `local ... port <p>`. bindMode NodeIP becomes `strict bind on` (BIRD 2 binds each
//    session's listening socket to its local address) on the sessions of a family when all of
//    them have a source address: a bound and an unbound socket on one port collide.
//  * Password, TTL security, keepalive and restart times, `allow local as` and `rr client` are
//    protocol options; next hop self/keep and the filters sit in the ipv4/ipv6 channel.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/v3/bgp.h"

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
// Global_<ip>, node-specific ones (and automatic reverse peerings) Node_<ip>, peerings with local
// workloads (localWorkloadSelector) Local_Workload_<ip>.
enum class PeerScope { kGlobal, kNode, kLocalWorkload };
using model::v3::NextHopMode;
using model::v3::SourceAddress;

struct BgpPeer {
  PeerScope scope = PeerScope::kGlobal;
  std::string peer_ip{};
  uint16_t port = kDefaultBgpPort;
  uint32_t as_number = kDefaultASNumber;
  // BGPPeer.localASNumber: the AS this node presents on this session (`local ... as <n>`); it
  // also decides whether the session is iBGP.
  std::optional<uint32_t> local_as_number{};
  // Legacy keepOriginalNextHop: `next hop keep`, only for eBGP (ignored when next_hop_mode is set).
  bool keep_original_next_hop = false;
  // BGPPeer.nextHopMode: Self gives `next hop self`, Keep `next hop keep`, Auto BIRD's default.
  std::optional<NextHopMode> next_hop_mode{};
  std::string password{};  // TCP MD5 key (resolved from the secret); empty for none.
  SourceAddress source_address = SourceAddress::kUseNodeIP;
  // The remote is a calico node: the session is made unidirectional like the mesh.
  bool calico_node = false;
  std::string rr_cluster_id{};               // The remote node's cluster ID, when calico_node.
  std::optional<uint32_t> restart_time{};    // maxRestartTime, seconds: `graceful restart time`.
  std::optional<uint32_t> keepalive_time{};  // keepaliveTime, seconds: `keepalive time`.
  uint8_t ttl_security = 0;                  // GTSM hops; 0: `ttl security off`.
  uint32_t num_allow_local_as = 0;           // numAllowedLocalASNumbers: `allow local as <n>`.
  std::string reachable_by{};                // Gateway: a static <peer>/32 route via it.
  std::vector<std::string> filters{};        // BGPFilter names, applied in this order.
  bool passive = false;                      // Always `passive on` (local workload peers).
  std::string origin{};                      // "BGPPeer <name>", for the rendered comment.

  bool operator==(const BgpPeer&) const = default;
};

// BGPConfiguration prefixAdvertisements, resolved: community values to add to routes in `cidr`
// ("aa:nn" standard, "aa:nn:mm" large).
struct CommunityRule {
  std::string cidr{};
  std::vector<std::string> communities{};

  bool operator==(const CommunityRule&) const = default;
};

using model::v3::ProgramClusterRoutes;

struct BirdInput {
  std::string node_name{};
  std::string router_id{};  // Dotted quad; usually the node's IPv4 address.
  std::string ipv4{};       // This node's BGP addresses, without prefix length.
  std::string ipv6{};
  uint32_t as_number = kDefaultASNumber;
  uint16_t listen_port = kDefaultBgpPort;
  bool node_to_node_mesh = true;
  std::string mesh_password{};  // BGPConfiguration nodeMeshPassword (resolved); empty for none.
  std::optional<uint32_t> mesh_restart_time{};  // nodeMeshMaxRestartTime, seconds.
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
  // BGPConfiguration logSeverityScreen (node.<name> overriding default), case-insensitive, as
  // confd maps it: "Debug" gives `debug all`, "" and "Info" `debug { states }` on device and
  // direct and `debug { states, routes, filters, events }` on BGP sessions, anything else no
  // debug output.
  std::string log_severity{};
  // bindMode NodeIP: BGP sockets bound to the node's address (`strict bind`), per family when
  // every session of the family has a source address.
  bool bind_node_ip = false;
  // ignoredInterfaces: excluded from the direct protocol (before cali* and kube-ipvs*).
  std::vector<std::string> ignored_interfaces{};
  std::vector<CommunityRule> communities{};
  // Service address ranges this node originates (a blackhole route, advertised to every peer).
  std::vector<std::string> static_routes{};
  // Service address ranges never programmed into the kernel from BGP.
  std::vector<std::string> reject_cidrs{};
  // serviceLoadBalancerIPs / serviceExternalIPs: a route reflector re-advertises routes inside.
  std::vector<std::string> service_load_balancer_ips{};
  std::vector<std::string> service_external_ips{};
  // Every BGPFilter; peers refer to them by name.
  std::vector<model::v3::BGPFilter> filters{};
  // ipv4/ipv6NormalRoutePriority: the kernel metric of ordinary routes (Felix's workload routes).
  uint32_t normal_route_priority_v4 = 1024;
  uint32_t normal_route_priority_v6 = 1024;
  // Which pools' routes BIRD programs into the kernel (upstream BIRD 2 cannot program IPIP
  // routes: those stay Felix's whatever this says; see bird_config.h's header comment).
  ProgramClusterRoutes program_cluster_routes = ProgramClusterRoutes::kEnabledNoEncapOnly;
  // Things the caller resolved with a warning (a secret it could not read, a filter that does not
  // exist): rendered as comments; the caller logs them. Never contains a password.
  std::vector<std::string> notes{};

  bool operator==(const BirdInput&) const = default;
};

// Checks everything RenderBirdConfig writes into the file: addresses and CIDRs parse, the router ID
// is IPv4, at least one of ipv4/ipv6 is set, AS numbers are non-zero, passwords are at most 80
// bytes of printable ASCII without '"' or '\' (BIRD 2 strings have no escapes), cluster IDs are
// dotted quads, communities are aa:nn or aa:nn:mm, interface patterns use [a-zA-Z0-9_.*-] only,
// BGPFilter rules are complete (cidr with matchOperator, a prefixLength range that allows some
// length), and no two peerings get the same protocol name: two nodes with one BGP address, or two
// peers with the same scope, address and port (BIRD would refuse the file with "Symbol ...
// already defined"; the error names both sides). Names only reach comments and are sanitised there.
// Errors: kInvalidArgument naming the offending field.
[[nodiscard]] Status ValidateBirdInput(const BirdInput& input);

// Renders the whole BIRD 2 configuration. Deterministic: pools, blocks, filters and peers are
// sorted, so permuting the input vectors gives the same text.
// Precondition: ValidateBirdInput(input) succeeded; otherwise entries that do not parse are
// skipped with a comment, and the text may not load.
std::string RenderBirdConfig(const BirdInput& input);

// ValidateBirdInput, then RenderBirdConfig.
[[nodiscard]] Result<std::string> BuildBirdConfig(const BirdInput& input);

}  // namespace calico::bird
