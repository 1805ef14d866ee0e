// `calicoctl node run|stop|status|checksystem|diags` (calicoctl/calicoctl/commands/node). Calico
// runs calico/node as a container; here calico-node (and calico-libnetwork) are processes this
// command starts in the background, logging to --log-dir, with PID files in --run-dir.
#pragma once

#include <span>
#include <string>

#include "calico/ctl/ctl.h"

namespace calico::ctl {

int RunNode(std::span<const std::string> args, Context& ctx);

// Hook for `node status` (set by the binary when the BIRD status reader is linked): prints the
// BGP part for the control socket `socket`; returns the exit code.
using NodeStatusFn = int (*)(const std::string& socket, Context& ctx);
void SetNodeStatusHandler(NodeStatusFn fn);

// Hook for `node counters` (set by the binary, which links the nftables layer): prints the
// per-rule packet counters of this host's calico table; `all` includes rules that never matched.
using NodeCountersFn = int (*)(bool all, Context& ctx);
void SetNodeCountersHandler(NodeCountersFn fn);

}  // namespace calico::ctl
