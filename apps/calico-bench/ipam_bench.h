// The ipam row: Calico IPAM allocations per second from 1 and 4 concurrent clients (each its own
// connection to one embedded store, as CNI processes are), and the duplicate count (must be 0).
#pragma once

#include <vector>

#include "calico/base/result.h"

#include "stats.h"

namespace calico::bench {

[[nodiscard]] Result<std::vector<RowResult>> RunIpamBench(int allocations_per_client);

}  // namespace calico::bench
