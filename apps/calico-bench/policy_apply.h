// The policy-apply row: the agent programming a host with E endpoints (L local) and P policies:
// full program (list -> calc -> render -> one nftables transaction) and one-change incremental
// p50/p99, against `nft -f` loading the same ruleset (the limit), and calico-node's RSS.
#pragma once

#include <string>
#include <vector>

#include "calico/base/result.h"

#include "stats.h"

namespace calico::bench {

struct PolicyApplyOptions {
  int endpoints = 10000;
  int local = 100;
  std::vector<int> policies = {100, 1000};
  int changes = 50;  // one-change samples
  std::string bin;   // for calico-node (RSS)
};

[[nodiscard]] Result<std::vector<RowResult>> RunPolicyApply(const PolicyApplyOptions& options);

}  // namespace calico::bench
