// The IPIP overlay (pool ipipMode Always / CrossSubnet), as Felix's ipipManager
// (felix/dataplane/linux/ipip_mgr.go) programs it: tunl0 up with this node's IPIP tunnel address
// (spec.bgp.ipv4IPIPTunnelAddr, allocated by calico-node as node/pkg/allocateip does, see
// tunnel_addr.h) and its MTU (FelixConfiguration ipipMTU, else the parent interface's MTU - 20,
// int_dataplane.go ConfigureDefaultMTUs), and for every block of another node inside an IPIP pool
// a route `<block> via <node's address> dev tunl0 onlink` (CrossSubnet: nodes in the same subnet
// get a plain route via their address instead).
// On when an IPv4 pool uses IPIP, or when FelixConfiguration ipipEnabled says so (true: tunl0 is
// configured even without an IPIP pool; false: off whatever the pools say), as Felix's
// EncapsulationCalculator.IPIPEnabled. Inputs are the same as the VXLAN overlay's.
// This is the model (no kernel access); agent/linux/ipip_programmer.h programs it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calico/agent/vxlan_model.h"
#include "calico/base/result.h"

namespace calico::agent {

inline constexpr std::string_view kIpipDeviceName = "tunl0";
inline constexpr int kIpipOverhead = 20;  // int_dataplane.go ipipMTUOverhead

// FelixConfiguration ipipEnabled and ipipMTU.
struct IpipOptions {
  std::optional<bool> enabled{};  // unset: the pools decide
  int mtu = 0;                    // 0: the parent interface's MTU - 20
  bool operator==(const IpipOptions&) const = default;
};

struct IpipRoute {
  net::CIDR dst;
  net::IPAddr via;
  bool encap = true;  // false: CrossSubnet neighbour, plain route via the parent device
  auto operator<=>(const IpipRoute&) const = default;
};

struct IpipState {
  bool enabled = false;  // some pool has IPIP (or ipipEnabled: true)
  std::vector<IpipRoute> routes;
  std::vector<net::CIDR> pools;
  // tunl0's address (none until calico-node has allocated it) and this node's IPv4 address (its
  // interface's MTU gives tunl0's when options.mtu is 0).
  std::optional<net::IPAddr> tunnel_ip;
  std::optional<net::IPAddr> parent_ip;
  IpipOptions options;
  bool operator==(const IpipState&) const = default;
};

[[nodiscard]] IpipState ComputeIpipState(std::string_view node, const VxlanInputs& inputs,
                                         const IpipOptions& options = {});

}  // namespace calico::agent
