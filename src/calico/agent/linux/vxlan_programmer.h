// VxlanProgrammer: makes the kernel of the calling thread's network namespace match a
// VxlanState of its IP version (Felix's vxlanManager + vxlanfdb, one per IP version):
// vxlan.calico for IPv4, vxlan-v6.calico for IPv6 (brackets below).
//
//   enabled:  vxlan.calico  (VNI, local = parent IP, dev = interface holding the parent IP,
//                            dstport, nolearning, MAC, MTU = parent MTU - 50 [70] unless
//                            configured: vxlanMTU [vxlanMTUV6])
//             address  <tunnel IP>/32 [/128], link up (IPv6: the link-local address stays)
//             per remote VTEP: neigh  <tunnel IP> lladdr <MAC> nud permanent
//                              fdb    <MAC> dst <parent IP> self permanent
//             per route: <block> via <tunnel IP> dev vxlan.calico onlink proto 80
//                        <block> via <parent IP> dev <parent> onlink proto 80 (CrossSubnet)
//                        <tunnel IP>/32 dev vxlan.calico scope link proto 80 [/128, no scope]
//   disabled: vxlan.calico deleted (its routes, neighbours and FDB go with it) and the
//             unencapsulated routes it owned removed.
//
// Ownership: everything on the device (routes of the route protocol, permanent neighbours with a
// MAC, FDB entries, addresses but IPv6 link-local ones); on the parent device only routes of the
// route protocol with a gateway whose destination lies inside one of state.pools (or the pools of
// the previous Apply). A device with wrong fixed parameters (VNI, local, parent, port, learning) is
// deleted and recreated; MAC, MTU and addresses are corrected in place. Every Apply reads the
// kernel first and writes only the differences, so a second Apply with the same state writes
// nothing (see last_writes()).
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
  // `family` 4 (vxlan.calico) or 6 (vxlan-v6.calico).
  explicit VxlanProgrammer(int route_protocol = dataplane::kCalicoRouteProtocol, int family = 4)
      : proto_(route_protocol), family_(family) {}

  // Errors: kInvalidArgument for a state of the other IP version; kNotFound when no interface
  // holds the local parent address; netlink errors.
  [[nodiscard]] Status Apply(const VxlanState& state);

  // Kernel writes made by the last Apply (0 when the kernel already matched).
  int last_writes() const { return writes_; }

 private:
  [[nodiscard]] Status Disable();

  int proto_;
  int family_;
  int writes_ = 0;
  std::vector<net::CIDR> owned_pools_;  // state.pools of the last enabled Apply
};

}  // namespace calico::agent
