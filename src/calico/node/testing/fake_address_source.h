// FakeAddressSource: an in-memory host for unit tests of IP autodetection and start-up: a list of
// interfaces with addresses, a table of can-reach answers, IPv6 support and failure injection.
//
// Thread-safety: not thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "calico/node/autodetect.h"

namespace calico::node::testing {

class FakeAddressSource final : public AddressSource {
 public:
  // Adds an interface (kernel order = call order) with "addr/len" addresses.
  FakeAddressSource& AddInterface(std::string name, const std::vector<std::string>& addrs) {
    HostInterface iface{std::move(name), {}};
    for (const std::string& a : addrs) {
      iface.addrs.push_back(*net::CIDR::Parse(a));
    }
    ifaces_.push_back(std::move(iface));
    return *this;
  }
  // can-reach=`dest` in `family` answers with source address `src`.
  FakeAddressSource& SetRoute(const std::string& dest, int family, const std::string& src) {
    routes_[{dest, family}] = *net::IPAddr::Parse(src);
    return *this;
  }
  void set_supports_ipv6(bool v) { supports_ipv6_ = v; }
  // The next ListInterfaces call fails with `error`.
  void FailNextList(Error error) { fail_next_list_ = std::move(error); }

  [[nodiscard]] Result<std::vector<HostInterface>> ListInterfaces() override {
    ++list_calls_;
    if (fail_next_list_) {
      Error e = std::move(*fail_next_list_);
      fail_next_list_.reset();
      return Unexpected(std::move(e));
    }
    return ifaces_;
  }
  [[nodiscard]] Result<net::IPAddr> SourceAddressFor(std::string_view dest, int family) override {
    auto it = routes_.find({std::string(dest), family});
    if (it == routes_.end()) {
      return Unavailable("connect to " + std::string(dest) + ": Network is unreachable");
    }
    return it->second;
  }
  bool SupportsIPv6() override { return supports_ipv6_; }

  int list_calls() const { return list_calls_; }

 private:
  std::vector<HostInterface> ifaces_;
  std::map<std::pair<std::string, int>, net::IPAddr> routes_;
  bool supports_ipv6_ = false;
  std::optional<Error> fail_next_list_;
  int list_calls_ = 0;
};

}  // namespace calico::node::testing
