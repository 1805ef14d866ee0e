// IpipProgrammer: makes the kernel of the calling thread's network namespace match an IpipState
// (agent/ipip.h): tunl0 up with exactly the node's IPIP tunnel address (/32) and the MTU
// (ipipMTU, else the parent interface's MTU - 20), `<block> via <node address> dev tunl0 onlink`
// for remote blocks in IPIP pools (CrossSubnet neighbours: a plain route via their address), and
// the removal of the routes of the route protocol it no longer wants. Disabled: its routes and
// tunl0's addresses go (Felix's cleanUpIPIPAddrs); tunl0 itself stays (the module's).
//
// The kernel's ipip module provides tunl0; where it is missing Apply fails with kUnsupported and
// a message saying so (these machines have no ipip module: the tests skip there).
//
// Thread-safety: one instance per agent thread; Apply acts in the caller's namespace.
#pragma once

#include "calico/agent/ipip.h"
#include "calico/base/result.h"
#include "calico/dataplane/netlink.h"

namespace calico::agent {

class IpipProgrammer {
 public:
  explicit IpipProgrammer(int route_protocol = dataplane::kCalicoRouteProtocol)
      : proto_(route_protocol) {}
  // Errors: kUnsupported when the kernel has no IPIP (no tunl0 and it cannot be made).
  [[nodiscard]] Status Apply(const IpipState& state);

  // Kernel writes made by the last Apply (0 when the kernel already matched).
  int last_writes() const { return writes_; }

 private:
  int proto_;
  int writes_ = 0;
};

}  // namespace calico::agent
