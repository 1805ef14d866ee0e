// Host endpoint support for the policy renderer: failsafe ports (FelixConfiguration
// failsafeInboundHostPorts / failsafeOutboundHostPorts, Felix's string form "tcp:22,udp:68") and
// the binding of HostEndpoints to host interfaces (felix/dataplane/linux/endpoint_mgr.go
// resolveHostEndpoints).
//
//   auto ports = ParseFailsafePorts("tcp:22,udp:68,tcp:10.0.0.0/8:2379");
//   std::vector<HostEndpoint> bound = ResolveHostEndpoints(model.host_endpoints, iface_addrs);
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/net/ip.h"
#include "calico/policy/policy_model.h"

namespace calico::policy {

// One failsafe port (FelixConfiguration failsafeInboundHostPorts / failsafeOutboundHostPorts):
// always allowed to (inbound) or from (outbound) the host through host endpoints, whatever the
// policy says, so that a host endpoint cannot cut off SSH, DHCP, BGP, etcd or the API server.
// `net` restricts the remote side (inbound: source, outbound: destination).
struct FailsafePort {
  std::string protocol = "tcp";  // "tcp", "udp" or "sctp".
  uint16_t port = 0;
  std::optional<net::CIDR> net{};

  bool operator==(const FailsafePort&) const = default;
};

// Calico's defaults: inbound tcp:22, udp:68, tcp:179, tcp:2379, tcp:2380, tcp:5473, tcp:6443,
// tcp:6666, tcp:6667; outbound udp:53, udp:67 and the same TCP ports but 22.
std::vector<FailsafePort> DefaultFailsafeInbound();
std::vector<FailsafePort> DefaultFailsafeOutbound();

// Parses Felix's string form "tcp:22,udp:68,tcp:10.0.0.0/8:22,tcp:[fd00::/8]:22,22" (protocol
// defaults to tcp; "none" or "" = no ports). Errors name the entry.
[[nodiscard]] Result<std::vector<FailsafePort>> ParseFailsafePorts(std::string_view text);
// The string form of `ports` ("none" when empty); ParseFailsafePorts(Format(x)) == x.
std::string FormatFailsafePorts(const std::vector<FailsafePort>& ports);

// Binds host endpoints to interfaces the way Felix's endpoint manager does
// (resolveHostEndpoints): each host interface is governed by at most one host endpoint, the one
// with the alphabetically first name among those that name the interface or, when they name no
// interface, expect one of its addresses; among "*" endpoints the first name wins. A named
// endpoint applies whether or not the interface exists (dispatch is by name); an expectedIPs-only
// endpoint applies to every interface in `host_interfaces` (name -> addresses) that carries one of
// its addresses, and to none when the map is empty. The result is sorted by interface name, every
// entry with interface_name set.
std::vector<HostEndpoint> ResolveHostEndpoints(
    const std::vector<HostEndpoint>& endpoints,
    const std::map<std::string, std::vector<net::IPAddr>>& host_interfaces);

}  // namespace calico::policy
