// What the VXLAN overlay of this node should look like (Felix's VXLANResolver + vxlanManager
// route computation, reference §3.7): the local VTEP, every remote VTEP and the routes to remote
// IPAM blocks inside VXLAN pools. Pure computation; VxlanProgrammer makes the kernel say so.
//
//   Node resources ─┐
//   IP pools ───────┼─▶ VxlanInputs ──ComputeVxlanState(node)──▶ VxlanState
//   IPAM blocks ────┘    (Ingest/Remove of datastore KVs)         {local, remotes, routes}
//
// Rules, for IPv4 (Felix's vxlan.calico); IPv6 (vxlan-v6.calico, ComputeVxlanStateV6) is the same
// with the IPv6 fields named in brackets, as Felix's second vxlanManager (ipVersion 6):
// * A VTEP is complete when the Node has spec.bgp.ipv4Address [ipv6Address] (the parent/underlay
//   IP) and spec.ipv4VXLANTunnelAddr [ipv6VXLANTunnelAddr]. Its MAC is spec.vxlanTunnelMACAddr
//   [vxlanTunnelMACAddrV6], else DeriveVtepMac(node) [DeriveVtepMac(node + "-v6")].
// * enabled = some IPv4 [IPv6] pool has vxlanMode Always/CrossSubnet and the local VTEP is
//   complete. (IPv4 only: FelixConfiguration vxlanEnabled forces it; Felix has no such switch for
//   IPv6, whose VXLANEnabledV6 follows the pools alone.)
// * remotes: every other node with a complete VTEP (sorted by node name).
// * routes: every block inside a VXLAN pool, affine to another node whose VTEP is complete:
//   `<block> via <remote tunnel IP> dev vxlan.calico onlink`; for a CrossSubnet pool and a remote
//   parent IP inside this node's parent subnet: `<block> via <remote parent IP> dev <parent>
//   onlink` (no encapsulation). A remote tunnel IP that no non-/32 [/128] block of its node covers
//   (borrowed address, /32 blocks) gets a direct `<tunnel IP>/32 [/128] dev vxlan.calico` route.
//   Disabled pools still route (disabled only stops new allocations). Sorted by destination.
//
// Thread-safety: values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/net/ip.h"

namespace calico::agent {

inline constexpr std::string_view kVxlanDeviceName = "vxlan.calico";
inline constexpr std::string_view kVxlanV6DeviceName = "vxlan-v6.calico";  // dataplanedefs
inline constexpr uint32_t kVxlanDefaultVni = 4096;
inline constexpr uint16_t kVxlanDefaultPort = 4789;
inline constexpr int kVxlanOverhead = 50;  // IPv4 VXLAN header overhead (Felix's VXLANMTU default)
inline constexpr int kVxlanV6Overhead = 70;  // IPv6 (int_dataplane.go vxlanV6MTUOverhead)

enum class EncapMode { kNever, kAlways, kCrossSubnet };
// "Always", "CrossSubnet"; anything else (including "" and "Never") is kNever.
EncapMode ParseEncapMode(std::string_view text);

// The VXLAN-relevant part of a Node resource.
struct VxlanNodeInfo {
  std::optional<net::CIDR> parent;              // spec.bgp.ipv4Address "ip/prefix" (bare ip = /32)
  std::optional<net::IPAddr> tunnel_ip;         // spec.ipv4VXLANTunnelAddr
  std::optional<net::MAC> mac;                  // spec.vxlanTunnelMACAddr
  std::optional<net::CIDR> parent6{};           // spec.bgp.ipv6Address
  std::optional<net::IPAddr> tunnel_ip6{};      // spec.ipv6VXLANTunnelAddr
  std::optional<net::MAC> mac6{};               // spec.vxlanTunnelMACAddrV6
  std::optional<net::IPAddr> ipip_tunnel_ip{};  // spec.bgp.ipv4IPIPTunnelAddr (tunl0, ipip.h)
  bool operator==(const VxlanNodeInfo&) const = default;
};

struct VxlanPoolInfo {
  net::CIDR cidr;
  EncapMode vxlan_mode = EncapMode::kNever;
  EncapMode ipip_mode = EncapMode::kNever;  // for the IPIP overlay (ipip.h)
  bool operator==(const VxlanPoolInfo&) const = default;
};

// Felix's inputs, keyed as the datastore keys them.
struct VxlanInputs {
  std::map<std::string, VxlanNodeInfo> nodes;       // node name ->
  std::map<std::string, VxlanPoolInfo> pools;       // pool name ->
  std::map<net::CIDR, std::string> block_owner;     // block CIDR -> node, from block JSON
  std::map<net::CIDR, std::string> affinity_owner;  // block CIDR -> node, from affinity keys

  // Feeds one datastore KV: Node and IPPool resources
  // (/calico/resources/v3/projectcalico.org/{nodes,ippools}/<name>), IPAM blocks
  // (/calico/ipam/v2/assignment/ipv{4,6}/block/<cidr>, "affinity": "host:<node>") and affinities
  // (/calico/ipam/v2/host/<node>/ipv{4,6}/block/<cidr>). Returns whether the key is one of these
  // (then the inputs changed or were re-confirmed). Unparsable or deleted values remove the entry.
  bool Ingest(std::string_view key, std::string_view value);
  // The key was deleted. Returns whether it was one of ours.
  bool Remove(std::string_view key);

  // The node owning a block: the block's own affinity when the block is known, else an affinity
  // key. "" when unknown or not affine to a host.
  std::string OwnerOf(const net::CIDR& block) const;
};

struct LocalVtep {
  net::IPAddr parent_ip;  // local address of the VXLAN device (the node IP)
  net::IPAddr tunnel_ip;  // assigned to the device as /32 (/128)
  net::MAC mac;
  bool operator==(const LocalVtep&) const = default;
};

struct RemoteVtep {
  std::string node;
  net::IPAddr parent_ip;  // FDB destination
  net::IPAddr tunnel_ip;  // neighbour entry IP
  net::MAC mac;
  bool operator==(const RemoteVtep&) const = default;
};

struct RemoteRoute {
  net::CIDR dst;     // a remote block (or a remote tunnel IP /32)
  std::string node;  // the owning node
  // The next hop: the remote tunnel IP (encap), the remote parent IP (!encap); none = direct on
  // vxlan.calico (scope link).
  std::optional<net::IPAddr> via;
  bool encap = true;  // false: CrossSubnet, same subnet: via the parent device, unencapsulated
  bool operator==(const RemoteRoute&) const = default;
};

struct VxlanOptions {
  uint32_t vni = kVxlanDefaultVni;    // Felix VXLANVNI
  uint16_t port = kVxlanDefaultPort;  // Felix VXLANPort
  int mtu = 0;                        // Felix VXLANMTU; 0 = parent MTU - 50
  int mtu_v6 = 0;                     // Felix VXLANMTUV6 (vxlan-v6.calico); 0 = parent MTU - 70
  bool operator==(const VxlanOptions&) const = default;
};

struct VxlanState {
  int family = 4;  // 4: vxlan.calico, 6: vxlan-v6.calico
  bool enabled = false;
  LocalVtep local;
  std::vector<RemoteVtep> remotes;
  std::vector<RemoteRoute> routes;
  // CIDRs of the VXLAN pools: unencapsulated (CrossSubnet) routes on the parent device are owned
  // by the programmer only inside these.
  std::vector<net::CIDR> pools;
  VxlanOptions options;
  bool operator==(const VxlanState&) const = default;
};

// `forced` (FelixConfiguration vxlanEnabled: true): VXLAN is on even without a VXLAN pool, as
// Felix's VXLANEnabled: the device and the remote VTEPs (FDB, ARP, routes to their tunnel
// addresses) once this node has a VTEP (parent and tunnel address); block routes still only for
// blocks of VXLAN pools. Otherwise VXLAN is on when a pool uses it (Felix's auto-detection).
[[nodiscard]] VxlanState ComputeVxlanState(std::string_view node, const VxlanInputs& inputs,
                                           const VxlanOptions& options = {}, bool forced = false);
// The IPv6 overlay (vxlan-v6.calico): family 6, on when an IPv6 pool uses VXLAN and this node has
// an IPv6 VTEP (spec.bgp.ipv6Address and spec.ipv6VXLANTunnelAddr).
[[nodiscard]] VxlanState ComputeVxlanStateV6(std::string_view node, const VxlanInputs& inputs,
                                             const VxlanOptions& options = {});
// The device a state is for: vxlan.calico or vxlan-v6.calico.
[[nodiscard]] std::string_view VxlanDeviceName(int family);

// Felix's VTEP MAC for a node without spec.vxlanTunnelMACAddr: 0x66 ('f', locally administered
// unicast) followed by the first 5 bytes of SHA-1(node name).
[[nodiscard]] net::MAC DeriveVtepMac(std::string_view node);

// SHA-1 (FIPS 180-4) of `data`; here so the agent needs no crypto library.
[[nodiscard]] std::array<uint8_t, 20> Sha1(std::string_view data);

}  // namespace calico::agent
