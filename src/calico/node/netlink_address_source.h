// NetlinkAddressSource: the kernel-backed AddressSource for calico-node start-up. Interfaces and
// addresses come from rtnetlink (dataplane::NetlinkSocket); the can-reach source address comes
// from connect(2) on an unbound UDP socket followed by getsockname(2), which asks the kernel's
// routing decision and sends nothing (Calico's net.Dial("udp4", dest:80)).
//
// Everything runs in the network namespace of the thread that called Open() (the netlink socket)
// and, for SourceAddressFor, of the calling thread (the UDP socket is opened per call).
//
// Thread-safety: one instance per thread.
#pragma once

#include <memory>

#include "calico/dataplane/netlink.h"
#include "calico/node/autodetect.h"

namespace calico::node {

class NetlinkAddressSource final : public AddressSource {
 public:
  // Errors: those of dataplane::NetlinkSocket::Open.
  [[nodiscard]] static Result<std::unique_ptr<NetlinkAddressSource>> Open();

  [[nodiscard]] Result<std::vector<HostInterface>> ListInterfaces() override;
  [[nodiscard]] Result<net::IPAddr> SourceAddressFor(std::string_view dest, int family) override;
  // /proc/sys/net/ipv6 exists and net.ipv6.conf.all.disable_ipv6 is not 1.
  bool SupportsIPv6() override;

 private:
  explicit NetlinkAddressSource(std::unique_ptr<dataplane::NetlinkSocket> nl)
      : nl_(std::move(nl)) {}
  std::unique_ptr<dataplane::NetlinkSocket> nl_;
};

}  // namespace calico::node
