// The rtnetlink reads the VXLAN programmer needs and dataplane::NetlinkSocket does not offer yet:
// a VXLAN device's parameters (IFLA_INFO_DATA), the neighbour table of one device and the FDB of
// one device. Same conventions as NetlinkSocket (libmnl, the calling thread's namespace).
// TODO(dataplane owners): these belong in dataplane/netlink.h (GetVxlan, ListNeighbors, ListFdb);
// they live here only because this change may not touch the dataplane library.
//
// Thread-safety: one instance per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/net/ip.h"

struct mnl_socket;

namespace calico::agent {

struct VxlanLinkParams {
  uint32_t vni = 0;
  std::optional<net::IPAddr> local;
  int parent_index = 0;  // IFLA_VXLAN_LINK; 0 = none
  uint16_t port = 0;     // host order
  bool learning = true;
};

struct NeighEntry {
  int ifindex = 0;
  net::IPAddr ip;
  std::optional<net::MAC> mac;
  uint16_t state = 0;  // NUD_*
};

struct FdbEntry {
  int ifindex = 0;
  net::MAC mac;
  std::optional<net::IPAddr> dst;  // NDA_DST (the remote VTEP) for VXLAN entries
  uint16_t state = 0;
};

class VxlanNetlink {
 public:
  [[nodiscard]] static Result<std::unique_ptr<VxlanNetlink>> Open();
  ~VxlanNetlink();
  VxlanNetlink(const VxlanNetlink&) = delete;
  VxlanNetlink& operator=(const VxlanNetlink&) = delete;
  VxlanNetlink(VxlanNetlink&&) = delete;
  VxlanNetlink& operator=(VxlanNetlink&&) = delete;

  // The VXLAN parameters of the link `ifindex`; kInvalidArgument when it is not a VXLAN device,
  // kNotFound when there is no such link.
  [[nodiscard]] Result<VxlanLinkParams> GetVxlanParams(int ifindex);
  // IPv4 neighbour entries of `ifindex`.
  [[nodiscard]] Result<std::vector<NeighEntry>> ListNeighbors(int ifindex);
  // Bridge FDB entries (AF_BRIDGE) of `ifindex`.
  [[nodiscard]] Result<std::vector<FdbEntry>> ListFdb(int ifindex);

 private:
  VxlanNetlink(mnl_socket* sock, uint32_t port) : sock_(sock), port_(port) {}
  template <typename Fn>
  [[nodiscard]] Status Dump(void* nlh, std::string_view what, Fn&& on_message);

  mnl_socket* sock_;
  uint32_t port_;
  uint32_t seq_ = 1;
};

}  // namespace calico::agent
