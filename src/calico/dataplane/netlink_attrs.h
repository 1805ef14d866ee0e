// rtnetlink helpers over libmnl, shared by the netlink code of dataplane and agent: opening a
// socket, collecting a message's attributes by type, and reading addresses and MACs from them.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "calico/base/result.h"
#include "calico/net/ip.h"

namespace calico::dataplane::nlattr_util {

// An rtnetlink socket bound with an automatic port id; nothing is left open on failure.
[[nodiscard]] inline Result<mnl_socket*> OpenRouteSocket() {
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
inline int CollectAttr(const nlattr* attr, void* data) {
  auto* attrs = static_cast<Attrs*>(data);
  int type = mnl_attr_get_type(attr);
  if (type >= 0 && static_cast<size_t>(type) < attrs->tb.size()) {
    attrs->tb[static_cast<size_t>(type)] = attr;
  }
  return MNL_CB_OK;
}

inline std::optional<net::IPAddr> AddrFromAttr(const nlattr* attr) {
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

inline std::optional<net::MAC> MacFromAttr(const nlattr* attr) {
  if (attr == nullptr || mnl_attr_get_payload_len(attr) != 6) return std::nullopt;
  std::array<uint8_t, 6> mac{};
  std::memcpy(mac.data(), mnl_attr_get_payload(attr), 6);
  return net::MAC(mac);
}

}  // namespace calico::dataplane::nlattr_util
