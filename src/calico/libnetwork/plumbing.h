// The veth pair of a libnetwork Join (libnetwork-plugin driver Join): unlike the CNI plugin, both
// ends are made in the HOST namespace. Docker then moves the temporary end into the container's
// sandbox, renames it <DstPrefix><n>, sets its MAC and addresses and installs the gateway and
// static routes the driver returned. The host end `cali<EID[:11]>` gets what Felix and Calico's CNI
// plugin give a workload interface: proxy ARP (so the container's 169.254.1.1 gateway is
// answered), forwarding, route_localnet, proxy NDP for IPv6, and a host route per address.
//
//   host ns:  cali1234567890a  <-- veth -->  temp1234567890a ──(Docker)──> sandbox: eth0
//             proxy_arp=1, route 10.65.0.5/32 dev cali1234567890a scope link
//
// Plumber is the seam the Driver uses; unit tests fake it. NewHostPlumber() is the real one.
//
// Thread-safety: HostPlumber is thread-safe (each call opens its own netlink socket).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/net/ip.h"

namespace calico::libnetwork {

struct VethPairSpec {
  std::string host_ifname;             // cali + EndpointID[:11]
  std::string temp_ifname;             // temp + EndpointID[:11]; Docker moves and renames it
  std::string container_mac;           // set on the temporary end ("" keeps the kernel's)
  int mtu = 0;                         // 0: kernel default
  std::vector<net::IPAddr> addresses;  // the endpoint's addresses: host routes
};

struct PlumbedVeth {
  // The host end's IPv6 link-local address (the container's IPv6 gateway) when the endpoint has
  // IPv6 addresses.
  std::optional<net::IPAddr> host_link_local;
};

class Plumber {
 public:
  virtual ~Plumber() = default;
  // Creates the pair (replacing a leftover host end of the same name) and configures the host end.
  // On failure nothing is left behind.
  [[nodiscard]] virtual Result<PlumbedVeth> CreatePair(const VethPairSpec& spec) = 0;
  // Deletes the host end (and with it the peer, wherever it is, and the host routes). Absent is
  // success.
  [[nodiscard]] virtual Status DeletePair(const std::string& host_ifname) = 0;
};

// The IPv6 link-local address the kernel derives from a MAC (EUI-64, RFC 4291 appendix A).
net::IPAddr Eui64LinkLocal(const net::MAC& mac);

// Works in the network namespace at `netns_path`; "" = the namespace of the calling thread (the
// driver runs in the host namespace).
std::unique_ptr<Plumber> NewHostPlumber(std::string netns_path = "");

}  // namespace calico::libnetwork
