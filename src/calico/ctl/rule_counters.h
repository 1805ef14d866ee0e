// `calicoctl node counters` (an addition; Felix shows the same through iptables -L -v): which
// rule of this host's policy matched how many packets, "which rule dropped this", from the
// per-rule counters of the calico nftables table.
//
//   PACKETS   BYTES   CHAIN            RULE
//   12        1008    cali-pi-_abc     policy default/deny-ping ingress #0
//
// Rows by packets (most first; ties keep the table's order); the RULE column is the rule's
// comment, else "(handle N)". Rules that never matched are left out unless `all`.
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <vector>

#include "calico/nft_model/ruleset.h"

namespace calico::ctl {

std::string RenderRuleCounters(std::vector<nft_model::RuleCounter> counters, bool all);

}  // namespace calico::ctl
