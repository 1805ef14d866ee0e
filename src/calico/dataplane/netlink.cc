#include "calico/dataplane/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

namespace calico::dataplane {

static_assert(kRouteTypeUnicast == RTN_UNICAST && kRouteTypeBlackhole == RTN_BLACKHOLE);
static_assert(kScopeUniverse == RT_SCOPE_UNIVERSE && kScopeLink == RT_SCOPE_LINK);
static_assert(kNeighNoArp == NUD_NOARP && kNeighPermanent == NUD_PERMANENT);

namespace {

// An rtnetlink socket bound with an automatic port id; nothing is left open on failure.
[[nodiscard]] Result<mnl_socket*> OpenRouteSocket() {
  mnl_socket* sock = mnl_socket_open(NETLINK_ROUTE);
  if (sock == nullptr) return Unexpected(Error::FromErrno(errno, "netlink socket"));
  if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    mnl_socket_close(sock);
    return Unexpected(Error::FromErrno(err, "netlink bind"));
  }
  return sock;
}

// The attributes of one message (or nest), indexed by type; absent ones are nullptr.
struct Attrs {
  std::vector<const nlattr*> tb;
  explicit Attrs(int max) : tb(static_cast<size_t>(max) + 1, nullptr) {}
  const nlattr* operator[](int type) const {
    return type >= 0 && static_cast<size_t>(type) < tb.size() ? tb[static_cast<size_t>(type)]
                                                              : nullptr;
  }
};

// mnl_attr_parse callback filling an Attrs.
int CollectAttr(const nlattr* attr, void* data) {
  auto* attrs = static_cast<Attrs*>(data);
  int type = mnl_attr_get_type(attr);
  if (type >= 0 && static_cast<size_t>(type) < attrs->tb.size()) {
    attrs->tb[static_cast<size_t>(type)] = attr;
  }
  return MNL_CB_OK;
}

std::optional<net::IPAddr> AddrFromAttr(const nlattr* attr) {
  if (attr == nullptr) return std::nullopt;
  uint16_t len = mnl_attr_get_payload_len(attr);
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
  if (len == 4) {
    uint32_t v = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    return net::IPAddr::V4(v);
  }
  if (len == 16) {
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), p, 16);
    return net::IPAddr::V6(b);
  }
  return std::nullopt;
}

std::optional<net::MAC> MacFromAttr(const nlattr* attr) {
  if (attr == nullptr || mnl_attr_get_payload_len(attr) != 6) return std::nullopt;
  std::array<uint8_t, 6> mac{};
  std::memcpy(mac.data(), mnl_attr_get_payload(attr), 6);
  return net::MAC(mac);
}

}  // namespace

struct NetlinkSocket::Message {
  std::vector<char> buf = std::vector<char>(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  nlmsghdr* nlh;

  Message(uint16_t type, uint16_t flags) {
    nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  }
  template <typename T>
  T* Header() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh, sizeof(T)));
  }
  void PutAddr(uint16_t type, const net::IPAddr& ip) {
    if (ip.is_v4()) {
      mnl_attr_put(nlh, type, 4, ip.bytes().data());  // v4 in the first 4 bytes
    } else {
      mnl_attr_put(nlh, type, 16, ip.bytes().data());
    }
  }
};

namespace {

int Family(int version) {
  return version == 6 ? AF_INET6 : AF_INET;
}

LinkInfo ParseLink(const nlmsghdr* nlh) {
  const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  Attrs a(IFLA_MAX);
  mnl_attr_parse(nlh, sizeof(*ifm), CollectAttr, &a);
  LinkInfo link;
  link.index = ifm->ifi_index;
  link.up = (ifm->ifi_flags & IFF_UP) != 0;
  if (a[IFLA_IFNAME] != nullptr) link.name = mnl_attr_get_str(a[IFLA_IFNAME]);
  if (a[IFLA_MTU] != nullptr) link.mtu = static_cast<int>(mnl_attr_get_u32(a[IFLA_MTU]));
  if (a[IFLA_ADDRESS] != nullptr && mnl_attr_get_payload_len(a[IFLA_ADDRESS]) == 6) {
    std::array<uint8_t, 6> mac{};
    std::memcpy(mac.data(), mnl_attr_get_payload(a[IFLA_ADDRESS]), 6);
    link.mac = net::MAC(mac);
  }
  if (a[IFLA_LINKINFO] != nullptr) {
    Attrs info(IFLA_INFO_MAX);
    mnl_attr_parse_nested(a[IFLA_LINKINFO], CollectAttr, &info);
    if (info[IFLA_INFO_KIND] != nullptr) link.kind = mnl_attr_get_str(info[IFLA_INFO_KIND]);
  }
  return link;
}

}  // namespace

NetlinkSocket::NetlinkSocket(mnl_socket* sock, uint32_t port) : sock_(sock), port_(port) {}

NetlinkSocket::~NetlinkSocket() {
  mnl_socket_close(sock_);
}

Result<std::unique_ptr<NetlinkSocket>> NetlinkSocket::Open() {
  ASSIGN_OR_RETURN(mnl_socket * sock, OpenRouteSocket());
  // Extended acks: the kernel explains EINVAL and friends in the error message.
  int one = 1;
  setsockopt(mnl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  return std::unique_ptr<NetlinkSocket>(new NetlinkSocket(sock, mnl_socket_get_portid(sock)));
}

Status NetlinkSocket::Request(Message& msg, std::string_view what) {
  msg.nlh->nlmsg_flags |= NLM_F_ACK;
  msg.nlh->nlmsg_seq = seq_++;
  if (mnl_socket_sendto(sock_, msg.nlh, msg.nlh->nlmsg_len) < 0) {
    return Unexpected(Error::FromErrno(errno, what));
  }
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  while (true) {
    ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
    if (n < 0) return Unexpected(Error::FromErrno(errno, what));
    int ret =
        mnl_cb_run(buf.data(), static_cast<size_t>(n), msg.nlh->nlmsg_seq, port_, nullptr, nullptr);
    if (ret < 0) return Unexpected(Error::FromErrno(errno, what));
    if (ret == MNL_CB_STOP) return OkStatus();
  }
}

template <typename Fn>
Status NetlinkSocket::Dump(Message& msg, std::string_view what, Fn&& on_message) {
  msg.nlh->nlmsg_flags |= NLM_F_DUMP;
  msg.nlh->nlmsg_seq = seq_++;
  if (mnl_socket_sendto(sock_, msg.nlh, msg.nlh->nlmsg_len) < 0) {
    return Unexpected(Error::FromErrno(errno, what));
  }
  auto cb = [](const nlmsghdr* nlh, void* data) -> int {
    (*static_cast<std::remove_reference_t<Fn>*>(data))(nlh);
    return MNL_CB_OK;
  };
  std::vector<char> buf(32768);  // big enough for one dump datagram
  while (true) {
    ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
    if (n < 0) return Unexpected(Error::FromErrno(errno, what));
    int ret =
        mnl_cb_run(buf.data(), static_cast<size_t>(n), msg.nlh->nlmsg_seq, port_, cb, &on_message);
    if (ret < 0) return Unexpected(Error::FromErrno(errno, what));
    if (ret == MNL_CB_STOP) return OkStatus();
  }
}

Result<LinkInfo> NetlinkSocket::GetLink(std::string_view name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return InvalidArgument("invalid interface name \"" + std::string(name) + "\"");
  }
  Message msg(RTM_GETLINK, 0);
  msg.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(msg.nlh, IFLA_IFNAME, std::string(name).c_str());
  msg.nlh->nlmsg_seq = seq_++;
  if (mnl_socket_sendto(sock_, msg.nlh, msg.nlh->nlmsg_len) < 0) {
    return Unexpected(Error::FromErrno(errno, "get link"));
  }
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
  if (n < 0) return Unexpected(Error::FromErrno(errno, "get link"));
  std::optional<LinkInfo> found;
  auto cb = [](const nlmsghdr* nlh, void* data) -> int {
    if (nlh->nlmsg_type == RTM_NEWLINK)
      *static_cast<std::optional<LinkInfo>*>(data) = ParseLink(nlh);
    return MNL_CB_OK;
  };
  int ret = mnl_cb_run(buf.data(), static_cast<size_t>(n), msg.nlh->nlmsg_seq, port_, cb, &found);
  if (ret < 0 && errno != ENODEV) {
    return Unexpected(Error::FromErrno(errno, "get link " + std::string(name)));
  }
  if (!found) return NotFound("link " + std::string(name) + " not found");
  return *found;
}

Result<LinkInfo> NetlinkSocket::GetLink(int index) {
  ASSIGN_OR_RETURN(auto links, ListLinks());
  for (LinkInfo& l : links) {
    if (l.index == index) return l;
  }
  return NotFound("link index " + std::to_string(index) + " not found");
}

Result<std::vector<LinkInfo>> NetlinkSocket::ListLinks() {
  Message msg(RTM_GETLINK, 0);
  msg.Header<rtgenmsg>()->rtgen_family = AF_UNSPEC;
  std::vector<LinkInfo> out;
  RETURN_IF_ERROR(Dump(msg, "list links", [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type == RTM_NEWLINK) out.push_back(ParseLink(nlh));
  }));
  return out;
}

Status NetlinkSocket::CreateVeth(std::string_view name, std::string_view peer_name, int mtu,
                                 int peer_netns_fd, int num_queues) {
  if (name.size() >= IFNAMSIZ || peer_name.size() >= IFNAMSIZ) {
    return InvalidArgument("interface name longer than 15 characters");
  }
  Message msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  msg.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(msg.nlh, IFLA_IFNAME, std::string(name).c_str());
  if (mtu > 0) mnl_attr_put_u32(msg.nlh, IFLA_MTU, static_cast<uint32_t>(mtu));
  auto queues = static_cast<uint32_t>(num_queues > 0 ? num_queues : 1);
  mnl_attr_put_u32(msg.nlh, IFLA_NUM_TX_QUEUES, queues);
  mnl_attr_put_u32(msg.nlh, IFLA_NUM_RX_QUEUES, queues);
  nlattr* linkinfo = mnl_attr_nest_start(msg.nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(msg.nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(msg.nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(msg.nlh, VETH_INFO_PEER);
  msg.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(msg.nlh, IFLA_IFNAME, std::string(peer_name).c_str());
  if (mtu > 0) mnl_attr_put_u32(msg.nlh, IFLA_MTU, static_cast<uint32_t>(mtu));
  mnl_attr_put_u32(msg.nlh, IFLA_NUM_TX_QUEUES, queues);
  mnl_attr_put_u32(msg.nlh, IFLA_NUM_RX_QUEUES, queues);
  if (peer_netns_fd >= 0) {
    mnl_attr_put_u32(msg.nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
  }
  mnl_attr_nest_end(msg.nlh, peer);
  mnl_attr_nest_end(msg.nlh, data);
  mnl_attr_nest_end(msg.nlh, linkinfo);
  return Request(msg, "create veth " + std::string(name) + "/" + std::string(peer_name));
}

Status NetlinkSocket::CreateVxlan(std::string_view name, uint32_t vni, const net::IPAddr& local,
                                  int parent_index, uint16_t port, int mtu, const net::MAC& mac) {
  Message msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  msg.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(msg.nlh, IFLA_IFNAME, std::string(name).c_str());
  if (mtu > 0) mnl_attr_put_u32(msg.nlh, IFLA_MTU, static_cast<uint32_t>(mtu));
  mnl_attr_put(msg.nlh, IFLA_ADDRESS, 6, mac.bytes().data());
  nlattr* linkinfo = mnl_attr_nest_start(msg.nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(msg.nlh, IFLA_INFO_KIND, "vxlan");
  nlattr* data = mnl_attr_nest_start(msg.nlh, IFLA_INFO_DATA);
  mnl_attr_put_u32(msg.nlh, IFLA_VXLAN_ID, vni);
  msg.PutAddr(local.is_v4() ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, local);
  if (parent_index > 0)
    mnl_attr_put_u32(msg.nlh, IFLA_VXLAN_LINK, static_cast<uint32_t>(parent_index));
  mnl_attr_put_u16(msg.nlh, IFLA_VXLAN_PORT, htons(port));
  mnl_attr_put_u8(msg.nlh, IFLA_VXLAN_LEARNING, 0);
  mnl_attr_nest_end(msg.nlh, data);
  mnl_attr_nest_end(msg.nlh, linkinfo);
  return Request(msg, "create vxlan " + std::string(name));
}

Status NetlinkSocket::SetMac(int index, const net::MAC& mac) {
  Message msg(RTM_NEWLINK, 0);
  auto* ifm = msg.Header<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  mnl_attr_put(msg.nlh, IFLA_ADDRESS, 6, mac.bytes().data());
  return Request(msg, "set MAC " + mac.String());
}

Status NetlinkSocket::SetMtu(int index, int mtu) {
  Message msg(RTM_NEWLINK, 0);
  auto* ifm = msg.Header<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  mnl_attr_put_u32(msg.nlh, IFLA_MTU, static_cast<uint32_t>(mtu));
  return Request(msg, "set MTU " + std::to_string(mtu));
}

Status NetlinkSocket::SetUp(int index, bool up) {
  Message msg(RTM_NEWLINK, 0);
  auto* ifm = msg.Header<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  ifm->ifi_change = IFF_UP;
  ifm->ifi_flags = up ? IFF_UP : 0;
  return Request(msg, up ? "set link up" : "set link down");
}

Status NetlinkSocket::DeleteLink(int index) {
  Message msg(RTM_DELLINK, 0);
  auto* ifm = msg.Header<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  return Request(msg, "delete link");
}

namespace {
void FillAddr(ifaddrmsg* ifa, int index, const net::CIDR& addr) {
  ifa->ifa_family = static_cast<uint8_t>(Family(addr.family()));
  ifa->ifa_prefixlen = static_cast<uint8_t>(addr.prefix_len());
  ifa->ifa_index = static_cast<uint32_t>(index);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
}
}  // namespace

Status NetlinkSocket::AddAddress(int index, const net::CIDR& addr) {
  Message msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  FillAddr(msg.Header<ifaddrmsg>(), index, addr);
  msg.PutAddr(IFA_LOCAL, addr.addr());
  msg.PutAddr(IFA_ADDRESS, addr.addr());
  return Request(msg, "add address " + addr.String());
}

Status NetlinkSocket::DeleteAddress(int index, const net::CIDR& addr) {
  Message msg(RTM_DELADDR, 0);
  FillAddr(msg.Header<ifaddrmsg>(), index, addr);
  msg.PutAddr(IFA_LOCAL, addr.addr());
  return Request(msg, "delete address " + addr.String());
}

Result<std::vector<AddrInfo>> NetlinkSocket::ListAddresses(int family, int index) {
  Message msg(RTM_GETADDR, 0);
  msg.Header<ifaddrmsg>()->ifa_family = static_cast<uint8_t>(Family(family));
  std::vector<AddrInfo> out;
  RETURN_IF_ERROR(Dump(msg, "list addresses", [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWADDR) return;
    const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
    if (index != 0 && static_cast<int>(ifa->ifa_index) != index) return;
    Attrs a(IFA_MAX);
    mnl_attr_parse(nlh, sizeof(*ifa), CollectAttr, &a);
    const nlattr* attr = a[IFA_LOCAL] != nullptr ? a[IFA_LOCAL] : a[IFA_ADDRESS];
    if (attr == nullptr) return;
    auto ip = AddrFromAttr(attr);
    if (!ip) return;
    out.push_back(
        {static_cast<int>(ifa->ifa_index), net::CIDR(*ip, ifa->ifa_prefixlen), ifa->ifa_scope});
  }));
  return out;
}

Status NetlinkSocket::AddRoute(const RouteSpec& route, bool replace) {
  Message msg(RTM_NEWROUTE, replace ? (NLM_F_CREATE | NLM_F_REPLACE) : (NLM_F_CREATE | NLM_F_EXCL));
  auto* rtm = msg.Header<rtmsg>();
  rtm->rtm_family = static_cast<uint8_t>(Family(route.dst.family()));
  rtm->rtm_dst_len = static_cast<uint8_t>(route.dst.prefix_len());
  rtm->rtm_table =
      static_cast<uint8_t>(route.table < 256 ? route.table : uint32_t{RT_TABLE_UNSPEC});
  rtm->rtm_protocol = static_cast<uint8_t>(route.protocol);
  rtm->rtm_scope = static_cast<uint8_t>(route.scope);
  rtm->rtm_type = static_cast<uint8_t>(route.type);
  if (route.onlink) rtm->rtm_flags |= RTNH_F_ONLINK;
  mnl_attr_put_u32(msg.nlh, RTA_TABLE, route.table);
  msg.PutAddr(RTA_DST, route.dst.addr());
  if (route.ifindex > 0) mnl_attr_put_u32(msg.nlh, RTA_OIF, static_cast<uint32_t>(route.ifindex));
  if (route.gateway) msg.PutAddr(RTA_GATEWAY, *route.gateway);
  if (route.prefsrc) msg.PutAddr(RTA_PREFSRC, *route.prefsrc);
  return Request(msg, "add route " + route.dst.String());
}

Status NetlinkSocket::DeleteRoute(const RouteSpec& route) {
  Message msg(RTM_DELROUTE, 0);
  auto* rtm = msg.Header<rtmsg>();
  rtm->rtm_family = static_cast<uint8_t>(Family(route.dst.family()));
  rtm->rtm_dst_len = static_cast<uint8_t>(route.dst.prefix_len());
  rtm->rtm_table =
      static_cast<uint8_t>(route.table < 256 ? route.table : uint32_t{RT_TABLE_UNSPEC});
  rtm->rtm_scope = RT_SCOPE_NOWHERE;
  mnl_attr_put_u32(msg.nlh, RTA_TABLE, route.table);
  msg.PutAddr(RTA_DST, route.dst.addr());
  if (route.ifindex > 0) mnl_attr_put_u32(msg.nlh, RTA_OIF, static_cast<uint32_t>(route.ifindex));
  return Request(msg, "delete route " + route.dst.String());
}

Result<std::vector<RouteSpec>> NetlinkSocket::ListRoutes(int family, uint32_t table) {
  Message msg(RTM_GETROUTE, 0);
  msg.Header<rtmsg>()->rtm_family = static_cast<uint8_t>(Family(family));
  std::vector<RouteSpec> out;
  RETURN_IF_ERROR(Dump(msg, "list routes", [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWROUTE) return;
    const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
    Attrs a(RTA_MAX);
    mnl_attr_parse(nlh, sizeof(*rtm), CollectAttr, &a);
    RouteSpec r;
    r.table = a[RTA_TABLE] != nullptr ? mnl_attr_get_u32(a[RTA_TABLE]) : rtm->rtm_table;
    if (table != 0 && r.table != table) return;
    std::optional<net::IPAddr> dst;
    if (a[RTA_DST] != nullptr) dst = AddrFromAttr(a[RTA_DST]);
    if (!dst) {
      dst = family == 6 ? net::IPAddr::V6({}) : net::IPAddr::V4(0);
    }
    r.dst = net::CIDR(*dst, rtm->rtm_dst_len);
    if (a[RTA_OIF] != nullptr) r.ifindex = static_cast<int>(mnl_attr_get_u32(a[RTA_OIF]));
    if (a[RTA_GATEWAY] != nullptr) r.gateway = AddrFromAttr(a[RTA_GATEWAY]);
    if (a[RTA_PREFSRC] != nullptr) r.prefsrc = AddrFromAttr(a[RTA_PREFSRC]);
    r.scope = rtm->rtm_scope;
    r.type = rtm->rtm_type;
    r.protocol = rtm->rtm_protocol;
    r.onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
    out.push_back(std::move(r));
  }));
  return out;
}

Result<VxlanLinkParams> NetlinkSocket::GetVxlanParams(int ifindex) {
  Message msg(RTM_GETLINK, 0);
  msg.Header<rtgenmsg>()->rtgen_family = AF_UNSPEC;
  bool found = false;
  std::optional<VxlanLinkParams> params;
  RETURN_IF_ERROR(Dump(msg, "list links", [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWLINK) return;
    const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    if (ifm->ifi_index != ifindex) return;
    found = true;
    Attrs a(IFLA_MAX);
    mnl_attr_parse(nlh, sizeof(*ifm), CollectAttr, &a);
    if (a[IFLA_LINKINFO] == nullptr) return;
    Attrs info(IFLA_INFO_MAX);
    mnl_attr_parse_nested(a[IFLA_LINKINFO], CollectAttr, &info);
    if (info[IFLA_INFO_KIND] == nullptr ||
        std::strcmp(mnl_attr_get_str(info[IFLA_INFO_KIND]), "vxlan") != 0 ||
        info[IFLA_INFO_DATA] == nullptr) {
      return;
    }
    Attrs data(IFLA_VXLAN_MAX);
    mnl_attr_parse_nested(info[IFLA_INFO_DATA], CollectAttr, &data);
    VxlanLinkParams p;
    if (data[IFLA_VXLAN_ID] != nullptr) p.vni = mnl_attr_get_u32(data[IFLA_VXLAN_ID]);
    p.local = AddrFromAttr(data[IFLA_VXLAN_LOCAL]);
    if (!p.local) p.local = AddrFromAttr(data[IFLA_VXLAN_LOCAL6]);
    if (data[IFLA_VXLAN_LINK] != nullptr) {
      p.parent_index = static_cast<int>(mnl_attr_get_u32(data[IFLA_VXLAN_LINK]));
    }
    if (data[IFLA_VXLAN_PORT] != nullptr) p.port = ntohs(mnl_attr_get_u16(data[IFLA_VXLAN_PORT]));
    if (data[IFLA_VXLAN_LEARNING] != nullptr) {
      p.learning = mnl_attr_get_u8(data[IFLA_VXLAN_LEARNING]) != 0;
    }
    params = p;
  }));
  if (!found) return NotFound("link index " + std::to_string(ifindex) + " not found");
  if (!params) return InvalidArgument("link index " + std::to_string(ifindex) + " is not VXLAN");
  return *params;
}

Result<std::vector<NeighEntry>> NetlinkSocket::ListNeighbors(int ifindex, int family) {
  Message msg(RTM_GETNEIGH, 0);
  const int af = Family(family);
  msg.Header<ndmsg>()->ndm_family = static_cast<uint8_t>(af);
  std::vector<NeighEntry> out;
  RETURN_IF_ERROR(Dump(msg, "list neighbours", [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWNEIGH) return;
    const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
    if (ndm->ndm_ifindex != ifindex || ndm->ndm_family != af) return;
    Attrs a(NDA_MAX);
    mnl_attr_parse(nlh, sizeof(*ndm), CollectAttr, &a);
    auto ip = AddrFromAttr(a[NDA_DST]);
    if (!ip) return;
    out.push_back({ndm->ndm_ifindex, *ip, MacFromAttr(a[NDA_LLADDR]), ndm->ndm_state});
  }));
  return out;
}

Result<std::vector<FdbEntry>> NetlinkSocket::ListFdb(int ifindex) {
  Message msg(RTM_GETNEIGH, 0);
  msg.Header<ndmsg>()->ndm_family = AF_BRIDGE;
  std::vector<FdbEntry> out;
  RETURN_IF_ERROR(Dump(msg, "list FDB", [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWNEIGH) return;
    const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
    if (ndm->ndm_ifindex != ifindex || ndm->ndm_family != AF_BRIDGE) return;
    Attrs a(NDA_MAX);
    mnl_attr_parse(nlh, sizeof(*ndm), CollectAttr, &a);
    auto mac = MacFromAttr(a[NDA_LLADDR]);
    if (!mac) return;
    out.push_back({ndm->ndm_ifindex, *mac, AddrFromAttr(a[NDA_DST]), ndm->ndm_state});
  }));
  return out;
}

namespace {
void FillNeigh(ndmsg* ndm, int family, int index, bool permanent) {
  ndm->ndm_family = static_cast<uint8_t>(family);
  ndm->ndm_ifindex = index;
  ndm->ndm_state = permanent ? NUD_PERMANENT : NUD_REACHABLE;
}
}  // namespace

Status NetlinkSocket::ReplaceNeighbor(const NeighSpec& neigh) {
  Message msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
  FillNeigh(msg.Header<ndmsg>(), Family(neigh.ip.family()), neigh.ifindex, neigh.permanent);
  msg.PutAddr(NDA_DST, neigh.ip);
  mnl_attr_put(msg.nlh, NDA_LLADDR, 6, neigh.mac.bytes().data());
  return Request(msg, "set neighbour " + neigh.ip.String());
}

Status NetlinkSocket::DeleteNeighbor(const NeighSpec& neigh) {
  Message msg(RTM_DELNEIGH, 0);
  FillNeigh(msg.Header<ndmsg>(), Family(neigh.ip.family()), neigh.ifindex, neigh.permanent);
  msg.PutAddr(NDA_DST, neigh.ip);
  return Request(msg, "delete neighbour " + neigh.ip.String());
}

Status NetlinkSocket::ReplaceFdb(const FdbSpec& fdb) {
  Message msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
  auto* ndm = msg.Header<ndmsg>();
  FillNeigh(ndm, AF_BRIDGE, fdb.ifindex, true);
  ndm->ndm_flags = NTF_SELF;
  mnl_attr_put(msg.nlh, NDA_LLADDR, 6, fdb.mac.bytes().data());
  msg.PutAddr(NDA_DST, fdb.dst);
  return Request(msg, "set FDB entry " + fdb.mac.String());
}

Status NetlinkSocket::DeleteFdb(const FdbSpec& fdb) {
  Message msg(RTM_DELNEIGH, 0);
  auto* ndm = msg.Header<ndmsg>();
  FillNeigh(ndm, AF_BRIDGE, fdb.ifindex, true);
  ndm->ndm_flags = NTF_SELF;
  mnl_attr_put(msg.nlh, NDA_LLADDR, 6, fdb.mac.bytes().data());
  msg.PutAddr(NDA_DST, fdb.dst);
  return Request(msg, "delete FDB entry " + fdb.mac.String());
}

}  // namespace calico::dataplane
