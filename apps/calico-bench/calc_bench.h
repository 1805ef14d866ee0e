// The calc row: the agent's start-up without the kernel, at E endpoints (L local) and P policies,
// split into its phases (list, decode + validate, calculation graph, model, render) and the memory
// the agent keeps per remote endpoint. No root needed: this is the row to iterate on (the
// policy-apply row adds the kernel and measures the whole program against `nft -f`).
#pragma once

#include <vector>

#include "calico/base/result.h"

#include "stats.h"

namespace calico::bench {

struct CalcBenchOptions {
  int endpoints = 100000;
  int local = 100;
  int policies = 2000;
  int repeats = 3;  // medians reported
};

[[nodiscard]] Result<std::vector<RowResult>> RunCalcBench(const CalcBenchOptions& options);

}  // namespace calico::bench
