// LinuxDataplane: everything calico-node's agent programs in this host's kernel, built in one
// place and handed to the agent (Felix's InternalDataplane,
// felix/dataplane/linux/int_dataplane.go):
//
//   PolicyProgrammer   NftPolicyProgrammer     table inet calico (libnftables)
//   RouteProgrammer    NetlinkRouteProgrammer  workload routes, block blackholes (rtnetlink)
//   apply_vxlan        VxlanProgrammer ×2      vxlan.calico and vxlan-v6.calico, their
//                                              neighbours, FDB and routes
//   apply_ipip         IpipProgrammer          tunl0 routes
//   apply_nat          two NftablesTables      table ip/ip6 calico-nat (natOutgoing)
//   host_interfaces    netlink                 interface addresses, for host endpoints that
//                                              give only expectedIPs
//
// Everything acts in the network namespace of the thread that constructs the LinuxDataplane.
//
// Thread-safety: one agent thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "calico/agent/agent.h"
#include "calico/agent/linux/ipip_programmer.h"
#include "calico/agent/linux/programmers.h"
#include "calico/agent/linux/vxlan_programmer.h"
#include "calico/base/result.h"
#include "calico/dataplane/netlink.h"
#include "calico/dataplane/nft.h"
#include "calico/net/ip.h"

namespace calico::agent {

class LinuxDataplane {
 public:
  // `interface_prefixes`: the workload interface prefixes (FelixConfiguration
  // interfacePrefix); the agent's routes carry `route_protocol` (dataplane::kCalicoRouteProtocol by
  // default).
  explicit LinuxDataplane(std::vector<std::string> interface_prefixes,
                          int route_protocol = dataplane::kCalicoRouteProtocol);

  // Points `config`'s apply_vxlan, apply_ipip, apply_nat and host_interfaces at this dataplane,
  // which must outlive the agent that uses `config`.
  void Wire(AgentConfig& config);

  PolicyProgrammer& policy() { return policy_; }
  RouteProgrammer& routes() { return routes_; }

 private:
  NftPolicyProgrammer policy_;
  NetlinkRouteProgrammer routes_;
  VxlanProgrammer vxlan_;
  VxlanProgrammer vxlan6_;
  IpipProgrammer ipip_;
  dataplane::NftablesTable nat4_{"ip", "calico-nat"};
  dataplane::NftablesTable nat6_{"ip6", "calico-nat"};
};

// This host's interfaces and their addresses (rtnetlink), by interface name.
[[nodiscard]] Result<std::map<std::string, std::vector<net::IPAddr>>> ListHostInterfaceAddresses();

}  // namespace calico::agent
