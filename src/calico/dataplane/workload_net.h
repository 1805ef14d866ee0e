// A workload's network plumbing as Calico's CNI plugin builds it (reference 1.8): a veth pair with
// the container end named CNI_IFNAME holding the workload's /32 and /128 addresses and a default
// route via 169.254.1.1 (IPv6: the host end's link-local), and the host end `cali...` with MAC
// ee:ee:ee:ee:ee:ee, proxy ARP / NDP, forwarding, and a host route per address.
//
// Thread-safety: functions; each call opens its own netlink sockets.
#pragma once

#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/net/ip.h"

namespace calico::dataplane {

inline constexpr const char* kHostVethMac = "ee:ee:ee:ee:ee:ee";
inline constexpr const char* kGatewayV4 = "169.254.1.1";

struct WorkloadNetSpec {
  std::string netns_path;  // CNI_NETNS
  std::string container_ifname = "eth0";
  std::string host_ifname;  // cali + 11 characters
  std::vector<net::IPAddr> addresses;
  int mtu = 0;  // 0: kernel default
  int num_queues = 1;
  bool allow_ip_forwarding = false;
};

struct WorkloadNet {
  std::string host_ifname;
  std::string container_mac;
  int container_mtu = 0;
};

// The host veth name for a plain CNI container: "cali" + the container ID's first 11 characters.
std::string HostVethNameForContainer(std::string_view container_id,
                                     std::string_view prefix = "cali");

// Builds everything; on failure removes what it made (the veth pair and with it its routes) and
// returns the error naming the step ("failed to add route inside the container: ...").
[[nodiscard]] Result<WorkloadNet> SetUpWorkload(const WorkloadNetSpec& spec);

// The host end's sysctls as Calico sets them (proxy ARP/NDP, forwarding, route_localnet, no RA);
// the agent re-applies them to every local workload interface. kNotFound when the interface is
// gone.
[[nodiscard]] Status ConfigureHostInterface(const std::string& ifname, bool v4, bool v6);

// Deletes the container interface (and so its host end and host routes). A missing namespace or
// interface is success.
[[nodiscard]] Status TearDownWorkload(const std::string& netns_path, const std::string& ifname);

// Deletes a host-side veth by name if it exists (retry safety, and rollback when the namespace is
// already gone). Absent is success.
[[nodiscard]] Status DeleteHostVeth(const std::string& host_ifname);

}  // namespace calico::dataplane
