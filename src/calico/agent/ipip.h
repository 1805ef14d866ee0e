// The IPIP overlay (pool ipipMode Always / CrossSubnet), as Felix programs it when BIRD does not:
// tunl0 up, and for every block of another node inside an IPIP pool a route
// `<block> via <node's address> dev tunl0 onlink` (CrossSubnet: nodes in the same subnet get a
// plain route via their address instead). Inputs are the same as the VXLAN overlay's.
// This is the model (no kernel access); agent/linux/ipip_programmer.h programs it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calico/agent/vxlan_model.h"
#include "calico/base/result.h"

namespace calico::agent {

struct IpipRoute {
  net::CIDR dst;
  net::IPAddr via;
  bool encap = true;  // false: CrossSubnet neighbour, plain route via the parent device
  auto operator<=>(const IpipRoute&) const = default;
};

struct IpipState {
  bool enabled = false;  // some pool has IPIP
  std::vector<IpipRoute> routes;
  std::vector<net::CIDR> pools;
  bool operator==(const IpipState&) const = default;
};

[[nodiscard]] IpipState ComputeIpipState(std::string_view node, const VxlanInputs& inputs);

}  // namespace calico::agent
