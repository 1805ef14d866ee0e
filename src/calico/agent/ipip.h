// The IPIP overlay (pool ipipMode Always / CrossSubnet), as Felix programs it when BIRD does not:
// tunl0 up, and for every block of another node inside an IPIP pool a route
// `<block> via <node's address> dev tunl0 onlink` (CrossSubnet: nodes in the same subnet get a
// plain route via their address instead). Inputs are the same as the VXLAN overlay's.
//
// The kernel's ipip module provides tunl0; where it is missing Apply fails with kUnsupported and
// a message saying so (these machines have no ipip module: the tests skip there).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calico/agent/vxlan_model.h"
#include "calico/base/result.h"
#include "calico/dataplane/netlink.h"

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

class IpipProgrammer {
 public:
  explicit IpipProgrammer(int route_protocol = dataplane::kCalicoRouteProtocol)
      : proto_(route_protocol) {}
  // Errors: kUnsupported when the kernel has no IPIP (no tunl0 and it cannot be made).
  [[nodiscard]] Status Apply(const IpipState& state);

 private:
  int proto_;
};

}  // namespace calico::agent
