// `calicoctl node run|stop|status|checksystem|diags` (calicoctl/calicoctl/commands/node). Calico
// runs calico/node as a container; here calico-node (and calico-libnetwork) are processes this
// command starts in the background, logging to --log-dir, with PID files in --run-dir.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/ctl/ctl.h"
#include "calico/nft_model/ruleset.h"

namespace calico::ctl {

// What `node status` and `node counters` read from this host. The binary injects the real readers
// (BIRD's control socket, the nftables table); tests inject fakes. An unset reader makes its
// subcommand say that it is not available in this build.
struct NodeCommandDeps {
  // The BGP part of `node status` for the BIRD control socket `socket`
  // (bird::NodeStatusBgpSection). An error is printed and the command exits 1.
  std::function<Result<std::string>(const std::string& socket)> bgp_status{};
  // The per-rule counters of this host's calico nftables table
  // (dataplane::NftablesTable::Counters); kNotFound when there is no such table.
  std::function<Result<std::vector<nft_model::RuleCounter>>()> rule_counters{};
};

// The `node` command with `deps` (apps/calicoctl registers it as "node").
Handler NodeCommand(NodeCommandDeps deps);

// The `node` command without status and counter readers.
int RunNode(std::span<const std::string> args, Context& ctx);

}  // namespace calico::ctl
