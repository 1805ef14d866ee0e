// The VXLAN (IPv4 and IPv6) and IPIP tunnel addresses of a node (calico-node's
// node/pkg/allocateip reconcileTunnelAddrs). Described for IPv4 VXLAN; the others differ in:
//   IPv6 VXLAN: IPv6 pools with vxlanMode, the handle "vxlan-v6-tunnel-addr-<node>", the attribute
//               type vxlanV6TunnelAddress, the field spec.ipv6VXLANTunnelAddr and the MAC field
//               spec.vxlanTunnelMACAddrV6 (DeriveVtepMac(node + "-v6"), Felix's v6 VTEP MAC).
//   IPIP:       IPv4 pools with ipipMode, the handle "ipip-tunnel-addr-<node>", the attribute type
//               ipipTunnelAddress, the field spec.bgp.ipv4IPIPTunnelAddr and no MAC.
//
//   eligible pools = IPv4 IPPools: enabled, not being deleted, vxlanMode Always/CrossSubnet,
//                    nodeSelector matches the Node's labels, allowedUses contains Tunnel
//   eligible:  keep Node.spec.ipv4VXLANTunnelAddr if it is allocated to the handle
//              "vxlan-tunnel-addr-<node>" and lies in an eligible pool; otherwise release the
//              handle and AutoAssign(1, handle, {node, type: vxlanTunnelAddress}, Tunnel,
//              eligible pools) and store the address in the Node. Set spec.vxlanTunnelMACAddr
//              when empty (to DeriveVtepMac(node), the MAC Felix would use anyway).
//   none:      release the handle and clear spec.ipv4VXLANTunnelAddr.
// A failed Node update releases the address assigned in that pass (rollback); the Node write is
// compare-and-swap, retried on conflict.
//
// Thread-safety: as the datastore Client and IpamClient.
#pragma once

#include <string>
#include <string_view>

#include "calico/base/result.h"
#include "calico/datastore/client.h"
#include "calico/ipam/ipam.h"

namespace calico::agent {

inline constexpr std::string_view kVxlanTunnelHandlePrefix = "vxlan-tunnel-addr-";
inline constexpr std::string_view kVxlanTunnelAttrType = "vxlanTunnelAddress";
inline constexpr std::string_view kVxlanV6TunnelHandlePrefix = "vxlan-v6-tunnel-addr-";
inline constexpr std::string_view kVxlanV6TunnelAttrType = "vxlanV6TunnelAddress";
inline constexpr std::string_view kIpipTunnelHandlePrefix = "ipip-tunnel-addr-";
inline constexpr std::string_view kIpipTunnelAttrType = "ipipTunnelAddress";

std::string VxlanTunnelHandle(std::string_view node);
std::string VxlanV6TunnelHandle(std::string_view node);
std::string IpipTunnelHandle(std::string_view node);

// Errors: kNotFound when the Node does not exist; IPAM and datastore errors otherwise.
[[nodiscard]] Status EnsureVxlanTunnelAddress(datastore::Client& client, ipam::IpamClient& ipam,
                                              std::string_view node);
[[nodiscard]] Status EnsureVxlanV6TunnelAddress(datastore::Client& client, ipam::IpamClient& ipam,
                                                std::string_view node);
[[nodiscard]] Status EnsureIpipTunnelAddress(datastore::Client& client, ipam::IpamClient& ipam,
                                             std::string_view node);
// All three, as one reconcileTunnelAddrs pass (IPIP, VXLAN, IPv6 VXLAN): a kind that fails is
// logged and does not stop the others; the first error is returned.
[[nodiscard]] Status EnsureTunnelAddresses(datastore::Client& client, ipam::IpamClient& ipam,
                                           std::string_view node);

}  // namespace calico::agent
