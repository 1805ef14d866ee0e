#include "calico/agent/linux/dataplane.h"

#include "calico/node/netlink_address_source.h"

namespace calico::agent {

LinuxDataplane::LinuxDataplane(std::vector<std::string> interface_prefixes, int route_protocol)
    : routes_(route_protocol, std::move(interface_prefixes)),
      vxlan_(route_protocol, 4),
      vxlan6_(route_protocol, 6),
      ipip_(route_protocol) {}

void LinuxDataplane::Wire(AgentConfig& config) {
  config.apply_vxlan = [this](const VxlanState& state) {
    return (state.family == 6 ? vxlan6_ : vxlan_).Apply(state);
  };
  config.apply_ipip = [this](const IpipState& state) { return ipip_.Apply(state); };
  config.apply_nat = [this](const std::string& v4, const std::string& v6) -> Status {
    RETURN_IF_ERROR(nat4_.ApplyFull(v4));
    return nat6_.ApplyFull(v6);
  };
  config.host_interfaces = ListHostInterfaceAddresses;
}

Result<std::map<std::string, std::vector<net::IPAddr>>> ListHostInterfaceAddresses() {
  ASSIGN_OR_RETURN(auto source, node::NetlinkAddressSource::Open());
  ASSIGN_OR_RETURN(auto listed, source->ListInterfaces());
  std::map<std::string, std::vector<net::IPAddr>> out;
  for (const auto& iface : listed) {
    auto& addrs = out[iface.name];
    for (const auto& a : iface.addrs)
      addrs.push_back(a.addr());
  }
  return out;
}

}  // namespace calico::agent
