// The ipam row: Calico IPAM allocations per second from 1 and 4 concurrent clients, each with its
// own connection to the store as CNI processes have, on the embedded store and on etcd (a private
// etcd on loopback, when installed), and the duplicate count (must be 0).
//
// Each client allocates for its own host, as CNI processes on different nodes do: a host's
// addresses come from its affine blocks, so clients on different hosts rarely write the same
// block. Clients on one host take the host-wide IPAM lock (host_lock.h) as the CNI plugin does:
// `allocs_per_s_4_clients_one_host` is that case, which the lock serialises by design.
#pragma once

#include <vector>

#include "calico/base/result.h"

#include "stats.h"

namespace calico::bench {

struct IpamBenchOptions {
  int per_client = 200;  // allocations per client
  bool etcd = true;      // also measure on etcd (when the etcd binary is installed)
};

[[nodiscard]] Result<std::vector<RowResult>> RunIpamBench(const IpamBenchOptions& options);

}  // namespace calico::bench
