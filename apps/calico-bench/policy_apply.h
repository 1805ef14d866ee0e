// The policy-apply row: the agent programming a host with E endpoints (L local) and P policies:
// full program (list -> calc -> render -> one nftables transaction) and one-change incremental
// p50/p99, against `nft -f` loading the same ruleset (the limit), and calico-node's RSS.
#pragma once

#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/datastore/client.h"
#include "calico/model/resource.h"

#include "stats.h"

namespace calico::bench {

struct PolicyApplyOptions {
  int endpoints = 10000;
  int local = 100;
  std::vector<int> policies = {100, 1000};
  int changes = 50;  // one-change samples
  std::string bin;   // for calico-node (RSS)
  // Full programs per side (medians reported); 3 in `make bench`.
  int full_repeats = 3;
  // Non-empty: the loaded ruleset (<policies>-ruleset.nft) and each change's transaction
  // (<policies>-change-<n>.nft) are kept in this directory, to replay or profile `nft -f`.
  std::string keep_dir;
};

// The bench's data, shared with the calc row: endpoint i (the first `local` on node "bench", the
// rest spread over 50 other nodes; labels app-(i%100) and tier), policy i (selects app-(i%100),
// allows TCP to one port from app-(i+1%100), denies 192.0.2.0/24; `port_shift` moves the port),
// and a store holding a profile, the endpoints and the policies.
model::Resource BenchEndpoint(int i, int local);
model::Resource BenchPolicy(int i, int port_shift = 0);
[[nodiscard]] Status FillBenchStore(datastore::Client& client, int endpoints, int local,
                                    int policies);

[[nodiscard]] Result<std::vector<RowResult>> RunPolicyApply(const PolicyApplyOptions& options);

}  // namespace calico::bench
