// The flow-collector row: the memory calico-node's flow-log collector (flowlog/collector.h) takes
// to hold N live connections (allowed ones, waiting for conntrack's end), measured in process as
// the growth of this process's VmRSS while they are fed (an NFLOG verdict and a conntrack update
// each, as the kernel reports them): rss_mb (held between flushes), rss_mb_at_flush (plus the
// interval's records and their NDJSON), bytes_per_flow (held). Peer: the records of those flows
// as the NDJSON calico-node sends (the same peer as the flows row's calico-flows RSS).
#pragma once

#include <vector>

#include "calico/base/result.h"

#include "stats.h"

namespace calico::bench {

struct FlowCollectorBenchOptions {
  int flows = 100000;
};

[[nodiscard]] Result<std::vector<RowResult>> RunFlowCollectorBench(
    const FlowCollectorBenchOptions& options);

}  // namespace calico::bench
