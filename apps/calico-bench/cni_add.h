// The cni-add row: ADD+DEL latency of calico + calico-ipam (embedded store, and etcd when
// installed) against Debian's ptp + host-local, in the same host namespace, interleaved.
#pragma once

#include <string>
#include <vector>

#include "calico/base/result.h"

#include "stats.h"

namespace calico::bench {

struct CniAddOptions {
  int samples = 100;  // sequential ADD+DEL pairs per side
  int parallel = 20;  // concurrent ADD+DEL pairs per round
  int rounds = 3;     // parallel rounds per side
  std::string bin;    // directory with calico, calico-ipam
  bool etcd = true;   // also measure with etcd (when the etcd binary is installed)
};

[[nodiscard]] Result<std::vector<RowResult>> RunCniAdd(const CniAddOptions& options);

}  // namespace calico::bench
