// natOutgoing (Felix's cali-nat-outgoing): traffic from a pool with natOutgoing to anywhere
// outside every pool is masqueraded. One small nftables table per family, replaced whole when the
// pools change: `table ip calico-nat` / `table ip6 calico-nat`.
#pragma once

#include <string>
#include <vector>

#include "calico/model/v3/ipam.h"

namespace calico::agent {

// The ruleset text for `family` (4 or 6) from the IPPool resources (disabled pools still count
// as pools, as in Felix; they are not masqueraded unless natOutgoing is set).
std::string RenderNatRuleset(const std::vector<model::v3::IPPool>& pools, int family);

}  // namespace calico::agent
