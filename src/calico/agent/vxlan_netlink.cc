#include "calico/agent/vxlan_netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <type_traits>

#include "calico/dataplane/netlink_attrs.h"

namespace calico::agent {
namespace {

using dataplane::nlattr_util::AddrFromAttr;
using dataplane::nlattr_util::Attrs;
using dataplane::nlattr_util::CollectAttr;
using dataplane::nlattr_util::MacFromAttr;

}  // namespace

Result<std::unique_ptr<VxlanNetlink>> VxlanNetlink::Open() {
  ASSIGN_OR_RETURN(mnl_socket * sock, dataplane::nlattr_util::OpenRouteSocket());
  return std::unique_ptr<VxlanNetlink>(new VxlanNetlink(sock, mnl_socket_get_portid(sock)));
}

VxlanNetlink::~VxlanNetlink() {
  mnl_socket_close(sock_);
}

template <typename Fn>
Status VxlanNetlink::Dump(void* raw, std::string_view what, Fn&& on_message) {
  auto* nlh = static_cast<nlmsghdr*>(raw);
  nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = seq_++;
  if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0) {
    return Unexpected(Error::FromErrno(errno, what));
  }
  auto cb = [](const nlmsghdr* msg, void* data) -> int {
    (*static_cast<std::remove_reference_t<Fn>*>(data))(msg);
    return MNL_CB_OK;
  };
  std::vector<char> buf(32768);
  while (true) {
    ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
    if (n < 0) return Unexpected(Error::FromErrno(errno, what));
    int ret =
        mnl_cb_run(buf.data(), static_cast<size_t>(n), nlh->nlmsg_seq, port_, cb, &on_message);
    if (ret < 0) return Unexpected(Error::FromErrno(errno, what));
    if (ret == MNL_CB_STOP) return OkStatus();
  }
}

Result<VxlanLinkParams> VxlanNetlink::GetVxlanParams(int ifindex) {
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETLINK;
  static_cast<rtgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtgenmsg)))->rtgen_family =
      AF_UNSPEC;
  bool found = false;
  std::optional<VxlanLinkParams> params;
  RETURN_IF_ERROR(Dump(nlh, "list links", [&](const nlmsghdr* msg) {
    if (msg->nlmsg_type != RTM_NEWLINK) return;
    const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(msg));
    if (ifm->ifi_index != ifindex) return;
    found = true;
    Attrs a(IFLA_MAX);
    mnl_attr_parse(msg, sizeof(*ifm), CollectAttr, &a);
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

Result<std::vector<NeighEntry>> VxlanNetlink::ListNeighbors(int ifindex) {
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETNEIGH;
  auto* req = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  req->ndm_family = AF_INET;
  std::vector<NeighEntry> out;
  RETURN_IF_ERROR(Dump(nlh, "list neighbours", [&](const nlmsghdr* msg) {
    if (msg->nlmsg_type != RTM_NEWNEIGH) return;
    const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(msg));
    if (ndm->ndm_ifindex != ifindex || ndm->ndm_family != AF_INET) return;
    Attrs a(NDA_MAX);
    mnl_attr_parse(msg, sizeof(*ndm), CollectAttr, &a);
    auto ip = AddrFromAttr(a[NDA_DST]);
    if (!ip) return;
    out.push_back({ndm->ndm_ifindex, *ip, MacFromAttr(a[NDA_LLADDR]), ndm->ndm_state});
  }));
  return out;
}

Result<std::vector<FdbEntry>> VxlanNetlink::ListFdb(int ifindex) {
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETNEIGH;
  auto* req = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  req->ndm_family = AF_BRIDGE;
  std::vector<FdbEntry> out;
  RETURN_IF_ERROR(Dump(nlh, "list FDB", [&](const nlmsghdr* msg) {
    if (msg->nlmsg_type != RTM_NEWNEIGH) return;
    const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(msg));
    if (ndm->ndm_ifindex != ifindex || ndm->ndm_family != AF_BRIDGE) return;
    Attrs a(NDA_MAX);
    mnl_attr_parse(msg, sizeof(*ndm), CollectAttr, &a);
    auto mac = MacFromAttr(a[NDA_LLADDR]);
    if (!mac) return;
    out.push_back({ndm->ndm_ifindex, *mac, AddrFromAttr(a[NDA_DST]), ndm->ndm_state});
  }));
  return out;
}

}  // namespace calico::agent
