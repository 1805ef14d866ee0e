// natOutgoing (Felix's cali-nat-outgoing): traffic from a pool with natOutgoing to anywhere
// outside every pool is masqueraded. One small nftables table per family, replaced whole when the
// pools change: `table ip calico-nat` / `table ip6 calico-nat`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calico/model/v3/ipam.h"
#include "calico/net/ip.h"

namespace calico::agent {

// FelixConfiguration natOutgoingAddress / natPortRange (felix/rules/nat.go).
struct NatOptions {
  // SNAT to this IPv4 address instead of masquerading to the outgoing interface's address.
  std::optional<net::IPAddr> address{};
  // Source ports for TCP and UDP (min, max); other protocols keep the default rule.
  std::optional<std::pair<int, int>> port_range{};
  bool operator==(const NatOptions&) const = default;
};

// The ruleset text for `family` (4 or 6) from the IPPool resources (disabled pools still count
// as pools, as in Felix; they are not masqueraded unless natOutgoing is set).
// With `options`: TCP and UDP get the port range, then every protocol gets `snat to <address>`
// (IPv4 only: natOutgoingAddress is an IPv4 address, as in Felix) or `masquerade`.
std::string RenderNatRuleset(const std::vector<model::v3::IPPool>& pools, int family,
                             const NatOptions& options = {});

}  // namespace calico::agent
