// Test helpers for the libnetwork driver: a recording fake Plumber with failure injection.
// Test-only (target calico::libnetwork_testing).
#pragma once

#include <string>
#include <vector>

#include "calico/libnetwork/plumbing.h"

namespace calico::libnetwork::testing {

class FakePlumber final : public Plumber {
 public:
  [[nodiscard]] Result<PlumbedVeth> CreatePair(const VethPairSpec& spec) override {
    created.push_back(spec);
    if (fail_create) return Unavailable("injected: cannot create veth");
    PlumbedVeth out;
    for (const auto& ip : spec.addresses) {
      if (ip.is_v6()) out.host_link_local = *net::IPAddr::Parse("fe80::1234:56ff:fe78:9abc");
    }
    return out;
  }
  [[nodiscard]] Status DeletePair(const std::string& host_ifname) override {
    deleted.push_back(host_ifname);
    if (fail_delete) return Unavailable("injected: cannot delete veth");
    return OkStatus();
  }

  std::vector<VethPairSpec> created;
  std::vector<std::string> deleted;
  bool fail_create = false;
  bool fail_delete = false;
};

}  // namespace calico::libnetwork::testing
