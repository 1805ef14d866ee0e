// Host IP autodetection for calico-node start-up (node/pkg/lifecycle/startup/autodetection).
//
// AddressSource is the seam to the host: its interfaces with their addresses, and the source
// address the kernel would pick to reach a destination. NetlinkAddressSource
// (netlink_address_source.h) reads the kernel; testing/fake_address_source.h is the unit-test fake.
// AutodetectAddress() implements Calico's IP_AUTODETECTION_METHOD / IP6_AUTODETECTION_METHOD
// values on top of it:
//
//   first-found                 first global unicast address, default exclusions applied
//   interface=REGEX[,REGEX]     first global unicast address on an interface matching any REGEX
//   skip-interface=REGEX[,...]  first-found with extra exclusions
//   can-reach=IP|HOSTNAME       the interface address the kernel uses as source towards the target
//   cidr=CIDR[,CIDR]            first global unicast address inside one of the CIDRs
//   kubernetes-internal-ip      not applicable here (no Kubernetes API): kUnsupported
//
// Interfaces and addresses are walked in kernel order. Regexes are unanchored searches (Go's
// regexp.MatchString); the default exclusions anchor themselves with '^'.
//
// Thread-safety: the free functions are thread-safe as long as the AddressSource passed in is;
// AddressSource implementations are not required to be.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/net/ip.h"

namespace calico::node {

// One host interface and its addresses (both families, with prefix lengths), in kernel order.
struct HostInterface {
  std::string name;
  std::vector<net::CIDR> addrs;
  bool operator==(const HostInterface&) const = default;
};

class AddressSource {
 public:
  virtual ~AddressSource() = default;

  // Every interface in kernel (ifindex) order. Errors: kUnavailable (kernel query failed).
  [[nodiscard]] virtual Result<std::vector<HostInterface>> ListInterfaces() = 0;

  // The source address the kernel would use for a UDP packet to `dest` port 80 in `family` (4 or
  // 6); `dest` is an IP address or a host name (resolved in that family). Sends nothing.
  // Errors: kNotFound (name does not resolve in that family), kUnavailable (no route, ...).
  [[nodiscard]] virtual Result<net::IPAddr> SourceAddressFor(std::string_view dest, int family) = 0;

  // Whether the host has IPv6 enabled (Calico creates a default IPv6 pool only then).
  virtual bool SupportsIPv6() = 0;
};

// Calico's DEFAULT_INTERFACES_TO_EXCLUDE (regexes).
const std::vector<std::string>& DefaultInterfaceExcludes();

// Whether `name` matches one of DefaultInterfaceExcludes().
bool IsDefaultExcludedInterface(const std::string& name);

// Go's IP.IsGlobalUnicast: not unspecified, loopback, multicast, link-local or limited broadcast.
bool IsGlobalUnicast(const net::IPAddr& ip);

struct DetectedAddress {
  std::string interface;  // where the address was found
  net::CIDR cidr;         // the address with the interface's prefix length: 10.0.0.5/24
  bool operator==(const DetectedAddress&) const = default;
};

// Checks the syntax of a method (known keyword, regexes compile, CIDRs parse, can-reach target
// present) without touching the host. "" means first-found.
// Errors: kInvalidArgument ("Invalid IP autodetection method: ..."), kUnsupported
// (kubernetes-internal-ip).
[[nodiscard]] Status ValidateAutodetectionMethod(std::string_view method, int family);

// Runs `method` ("" = first-found) for `family` (4 or 6).
// Errors: those of ValidateAutodetectionMethod; kNotFound when nothing matches (the message says
// what was searched); the AddressSource's errors, wrapped.
[[nodiscard]] Result<DetectedAddress> AutodetectAddress(AddressSource& source,
                                                        std::string_view method, int family);

// The interface holding exactly `ip`, if any (used to complete an explicit IP with its prefix).
[[nodiscard]] Result<std::optional<DetectedAddress>> FindLocalAddress(AddressSource& source,
                                                                      const net::IPAddr& ip);

}  // namespace calico::node
