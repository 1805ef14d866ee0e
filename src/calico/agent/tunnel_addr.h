// The VXLAN and IPIP tunnel addresses of a node (calico-node's allocateip, reference §4.12, IPv4
// only). IPIP is the same with ipipMode, the handle "ipip-tunnel-addr-<node>", the attribute type
// ipipTunnelAddress, the field spec.bgp.ipv4IPIPTunnelAddr and no MAC.
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
inline constexpr std::string_view kIpipTunnelHandlePrefix = "ipip-tunnel-addr-";
inline constexpr std::string_view kIpipTunnelAttrType = "ipipTunnelAddress";

std::string VxlanTunnelHandle(std::string_view node);
std::string IpipTunnelHandle(std::string_view node);

// Errors: kNotFound when the Node does not exist; IPAM and datastore errors otherwise.
[[nodiscard]] Status EnsureVxlanTunnelAddress(datastore::Client& client, ipam::IpamClient& ipam,
                                              std::string_view node);
[[nodiscard]] Status EnsureIpipTunnelAddress(datastore::Client& client, ipam::IpamClient& ipam,
                                             std::string_view node);

}  // namespace calico::agent
