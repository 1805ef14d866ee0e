// rtnetlink over libmnl: links (veth pairs, VXLAN devices and their parameters, MAC, MTU, up/down,
// delete), addresses, routes, neighbours and bridge FDB entries, in the network namespace the
// socket was opened in. The only netlink code of the tree: nothing outside dataplane/ includes
// libmnl or a <linux/*.h> header (tools/check_kernel_confinement.sh checks it). The CNI plugin and
// the agent program the kernel only through this (no `ip` command), as Calico does through
// vishvananda/netlink.
//
// A socket stays bound to the namespace of the thread that opened it, so a socket opened inside a
// container's namespace (see netns.h) can be used afterwards from any thread.
//
// Thread-safety: one NetlinkSocket per thread; distinct sockets are independent.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/net/ip.h"

struct mnl_socket;

namespace calico::dataplane {

// The kernel's values of the route and neighbour fields below, so that code outside dataplane/
// needs no kernel header (netlink.cc checks them against <linux/rtnetlink.h>).
inline constexpr int kRouteTypeUnicast = 1;        // RTN_UNICAST
inline constexpr int kRouteTypeBlackhole = 6;      // RTN_BLACKHOLE
inline constexpr int kScopeUniverse = 0;           // RT_SCOPE_UNIVERSE
inline constexpr int kScopeLink = 253;             // RT_SCOPE_LINK
inline constexpr uint16_t kNeighNoArp = 0x40;      // NUD_NOARP
inline constexpr uint16_t kNeighPermanent = 0x80;  // NUD_PERMANENT

struct LinkInfo {
  int index = 0;
  std::string name;
  net::MAC mac;
  int mtu = 0;
  bool up = false;   // IFF_UP
  std::string kind;  // "veth", "vxlan", ... (IFLA_INFO_KIND); empty for plain devices
};

struct AddrInfo {
  int index = 0;
  net::CIDR addr;  // address with its prefix length
  int scope = 0;   // RT_SCOPE_* (kScopeLink for link-local addresses)
};

// The rtnetlink protocol of the routes Calico's agent programs (workload /32s, blackholes, VXLAN
// and IPIP routes; `ip route` shows "proto 80"), so it can find and remove its own routes and
// leave everyone else's: felix/dataplane/linux/dataplanedefs DefaultRouteProto.
inline constexpr int kCalicoRouteProtocol = 80;

// A route in the main table unless `table` says otherwise.
struct RouteSpec {
  net::CIDR dst;
  int ifindex = 0;
  std::optional<net::IPAddr> gateway;
  int scope = kScopeUniverse;    // or kScopeLink
  int type = kRouteTypeUnicast;  // or kRouteTypeBlackhole, RTN_UNREACHABLE (7)
  int protocol = 3;      // RTPROT_BOOT (what `ip route add` uses); the agent: kCalicoRouteProtocol
  uint32_t table = 254;  // RT_TABLE_MAIN
  bool onlink = false;   // RTNH_F_ONLINK (next hop not on a connected subnet, VXLAN)
  std::optional<net::IPAddr> prefsrc;  // RTA_PREFSRC (`ip route ... src`)
};

struct NeighSpec {
  int ifindex = 0;
  net::IPAddr ip;
  net::MAC mac;
  bool permanent = true;
};

struct FdbSpec {
  int ifindex = 0;
  net::MAC mac;
  net::IPAddr dst;  // the remote VTEP
};

// A VXLAN device's fixed parameters (IFLA_INFO_DATA).
struct VxlanLinkParams {
  uint32_t vni = 0;
  std::optional<net::IPAddr> local;
  int parent_index = 0;  // IFLA_VXLAN_LINK; 0 = none
  uint16_t port = 0;     // host order
  bool learning = true;
};

// One entry of a device's neighbour table.
struct NeighEntry {
  int ifindex = 0;
  net::IPAddr ip;
  std::optional<net::MAC> mac;
  uint16_t state = 0;  // NUD_* (kNeighPermanent, kNeighNoArp, ...)
};

// One bridge FDB entry (AF_BRIDGE) of a device.
struct FdbEntry {
  int ifindex = 0;
  net::MAC mac;
  std::optional<net::IPAddr> dst;  // NDA_DST (the remote VTEP) for VXLAN entries
  uint16_t state = 0;
};

class NetlinkSocket {
 public:
  // Opens a NETLINK_ROUTE socket in the calling thread's network namespace.
  [[nodiscard]] static Result<std::unique_ptr<NetlinkSocket>> Open();
  ~NetlinkSocket();
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  // kNotFound when there is no such link.
  [[nodiscard]] Result<LinkInfo> GetLink(std::string_view name);
  [[nodiscard]] Result<LinkInfo> GetLink(int index);
  [[nodiscard]] Result<std::vector<LinkInfo>> ListLinks();

  // Creates a veth pair: `name` in this namespace, `peer_name` in the namespace `peer_netns_fd`
  // (-1: this namespace). `mtu` 0 leaves the kernel default.
  [[nodiscard]] Status CreateVeth(std::string_view name, std::string_view peer_name, int mtu,
                                  int peer_netns_fd, int num_queues = 1);
  // Creates a VXLAN device (Calico's vxlan.calico): VNI, local VTEP address, UDP port, learning
  // off.
  [[nodiscard]] Status CreateVxlan(std::string_view name, uint32_t vni, const net::IPAddr& local,
                                   int parent_index, uint16_t port, int mtu, const net::MAC& mac);
  [[nodiscard]] Status SetMac(int index, const net::MAC& mac);
  [[nodiscard]] Status SetMtu(int index, int mtu);
  [[nodiscard]] Status SetUp(int index, bool up);
  // kNotFound when the link is already gone.
  [[nodiscard]] Status DeleteLink(int index);

  [[nodiscard]] Status AddAddress(int index, const net::CIDR& addr);
  [[nodiscard]] Status DeleteAddress(int index, const net::CIDR& addr);
  // family 4 or 6; index 0 lists every link's addresses.
  [[nodiscard]] Result<std::vector<AddrInfo>> ListAddresses(int family, int index = 0);

  // kAlreadyExists when an equal destination exists (compare with ListRoutes to tell whether it is
  // the same route). `replace` overwrites instead.
  [[nodiscard]] Status AddRoute(const RouteSpec& route, bool replace = false);
  // kNotFound when absent.
  [[nodiscard]] Status DeleteRoute(const RouteSpec& route);
  // Routes of `family` in `table` (0: every table).
  [[nodiscard]] Result<std::vector<RouteSpec>> ListRoutes(int family, uint32_t table = 254);

  // The VXLAN parameters of the link `ifindex`; kInvalidArgument when it is not a VXLAN device,
  // kNotFound when there is no such link.
  [[nodiscard]] Result<VxlanLinkParams> GetVxlanParams(int ifindex);
  // Neighbour entries of `ifindex` of `family` (4: ARP, 6: NDP).
  [[nodiscard]] Result<std::vector<NeighEntry>> ListNeighbors(int ifindex, int family = 4);
  // Bridge FDB entries (AF_BRIDGE) of `ifindex`.
  [[nodiscard]] Result<std::vector<FdbEntry>> ListFdb(int ifindex);

  [[nodiscard]] Status ReplaceNeighbor(const NeighSpec& neigh);
  [[nodiscard]] Status DeleteNeighbor(const NeighSpec& neigh);
  [[nodiscard]] Status ReplaceFdb(const FdbSpec& fdb);
  [[nodiscard]] Status DeleteFdb(const FdbSpec& fdb);

 private:
  explicit NetlinkSocket(mnl_socket* sock, uint32_t port);
  struct Message;
  // Sends one request with NLM_F_ACK and waits for the kernel's answer.
  [[nodiscard]] Status Request(Message& msg, std::string_view what);
  // Sends a dump request and calls `on_message` for every answer message.
  template <typename Fn>
  [[nodiscard]] Status Dump(Message& msg, std::string_view what, Fn&& on_message);

  mnl_socket* sock_;
  uint32_t port_;
  uint32_t seq_ = 1;
};

}  // namespace calico::dataplane
