// The kernel side of calico-node's IP autodetection (node/pkg/lifecycle/startup/autodetection:
// GetInterfaces over netlink, ReachDestination).
#include "calico/node/netlink_address_source.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/base/unique_fd.h"
#include "calico/dataplane/netns.h"

namespace calico::node {
namespace {

// Resolves `dest` (an address or a host name) to one socket address of `family`, port 80.
Result<sockaddr_storage> Resolve(std::string_view dest, int family, socklen_t* len) {
  addrinfo hints{};
  hints.ai_family = family == 6 ? AF_INET6 : AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  std::string host(dest);
  int rc = ::getaddrinfo(host.c_str(), "80", &hints, &res);
  if (rc != 0 || res == nullptr) {
    return NotFound(fmt::format("cannot resolve {} to an IPv{} address: {}", dest, family,
                                rc != 0 ? ::gai_strerror(rc) : "no address"));
  }
  sockaddr_storage out{};
  std::memcpy(&out, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  ::freeaddrinfo(res);
  return out;
}

Result<net::IPAddr> FromSockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    sockaddr_in sin{};
    std::memcpy(&sin, &ss, sizeof(sin));
    return net::IPAddr::V4(ntohl(sin.sin_addr.s_addr));
  }
  if (ss.ss_family == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &ss, sizeof(sin6));
    std::array<uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &sin6.sin6_addr, bytes.size());
    return net::IPAddr::V6(bytes);
  }
  return Internal(fmt::format("unexpected socket address family {}", ss.ss_family));
}

}  // namespace

Result<std::unique_ptr<NetlinkAddressSource>> NetlinkAddressSource::Open() {
  ASSIGN_OR_RETURN(auto nl, dataplane::NetlinkSocket::Open());
  return std::unique_ptr<NetlinkAddressSource>(new NetlinkAddressSource(std::move(nl)));
}

Result<std::vector<HostInterface>> NetlinkAddressSource::ListInterfaces() {
  ASSIGN_OR_RETURN(auto links, nl_->ListLinks());
  std::vector<HostInterface> out;
  std::map<int, size_t> by_index;
  for (const dataplane::LinkInfo& link : links) {
    by_index[link.index] = out.size();
    out.push_back(HostInterface{link.name, {}});
  }
  for (int family : {4, 6}) {
    ASSIGN_OR_RETURN(auto addrs, nl_->ListAddresses(family));
    for (const dataplane::AddrInfo& a : addrs) {
      auto it = by_index.find(a.index);
      if (it != by_index.end()) out[it->second].addrs.push_back(a.addr);
    }
  }
  return out;
}

Result<net::IPAddr> NetlinkAddressSource::SourceAddressFor(std::string_view dest, int family) {
  socklen_t len = 0;
  ASSIGN_OR_RETURN(sockaddr_storage remote, Resolve(dest, family, &len));
  UniqueFd sock(::socket(remote.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return Unexpected(Error::FromErrno(errno, "open UDP socket"));
  // connect() on a UDP socket only fixes the peer: the kernel picks a route and a source address
  // but no packet leaves the host.
  if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&remote), len) != 0) {
    int err = errno;
    Error e = Error::FromErrno(err, fmt::format("connect UDP socket to {}", dest));
    // ENETUNREACH and friends are environmental, not "not found".
    return Unexpected(Error(ErrorCode::kUnavailable, e.message()));
  }
  sockaddr_storage local{};
  socklen_t local_len = sizeof(local);
  if (::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
    return Unexpected(Error::FromErrno(errno, "getsockname"));
  }
  return FromSockaddr(local);
}

bool NetlinkAddressSource::SupportsIPv6() {
  if (::access("/proc/sys/net/ipv6", F_OK) != 0) return false;
  auto disabled = dataplane::ReadSysctl("net/ipv6/conf/all/disable_ipv6");
  return !disabled || StrTrim(*disabled) != "1";
}

}  // namespace calico::node
