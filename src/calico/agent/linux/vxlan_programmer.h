// VxlanProgrammer: makes the kernel of the calling thread's network namespace match a
// VxlanState (Felix's vxlanManager + VXLAN FDB, reference §3.7).
//
//   enabled:  vxlan.calico  (VNI, local = parent IP, dev = interface holding the parent IP,
//                            dstport, nolearning, MAC, MTU = parent MTU - 50 unless configured)
//             address  <tunnel IP>/32, link up
//             per remote VTEP: neigh  <tunnel IP> lladdr <MAC> nud permanent
//                              fdb    <MAC> dst <parent IP> self permanent
//             per route: <block> via <tunnel IP> dev vxlan.calico onlink proto 80
//                        <block> via <parent IP> dev <parent> onlink proto 80 (CrossSubnet)
//                        <tunnel IP>/32 dev vxlan.calico scope link proto 80
//   disabled: vxlan.calico deleted (its routes, neighbours and FDB go with it) and the
//             unencapsulated routes it owned removed.
//
// Ownership: everything on vxlan.calico (routes of the route protocol, neighbours, FDB entries,
// addresses); on the parent device only routes of the route protocol with a gateway whose
// destination lies inside one of state.pools (or the pools of the previous Apply). A device with
// wrong fixed parameters (VNI, local, parent, port, learning) is deleted and recreated; MAC, MTU
// and addresses are corrected in place. Every Apply reads the kernel first and writes only the
// differences, so a second Apply with the same state writes nothing (see last_writes()).
//
// NOTE for the wiring: agent::NetlinkRouteProgrammer removes every route of its protocol (80) that
// it does not want, whatever the device; these routes must be excluded from its sweep (or be run
// with a different protocol) or the two programmers will fight.
//
// Thread-safety: one instance per agent thread; Apply acts in the caller's namespace.
#pragma once

#include <vector>

#include "calico/agent/vxlan_model.h"
#include "calico/base/result.h"
#include "calico/dataplane/netlink.h"
#include "calico/net/ip.h"

namespace calico::agent {

class VxlanProgrammer {
 public:
  explicit VxlanProgrammer(int route_protocol = dataplane::kCalicoRouteProtocol)
      : proto_(route_protocol) {}

  [[nodiscard]] Status Apply(const VxlanState& state);

  // Kernel writes made by the last Apply (0 when the kernel already matched).
  int last_writes() const { return writes_; }

 private:
  [[nodiscard]] Status Disable();

  int proto_;
  int writes_ = 0;
  std::vector<net::CIDR> owned_pools_;  // state.pools of the last enabled Apply
};

}  // namespace calico::agent
