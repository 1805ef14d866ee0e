// calicoctl policy explain (beyond upstream calicoctl; issue 18): which tiers, policies, rules and
// profiles decide a connection, and the verdict, per direction. The evaluation is the explain
// library's (calico/explain/explain.h: the agent's calculation graph and parsed rules); this
// command only parses flags, reads the datastore (and -f), and prints.
//
//   calicoctl policy explain --from ENDPOINT|IP --to ENDPOINT|IP [--protocol TCP] [--port 80]
//                            [--source-port N] [--icmp-type T] [--icmp-code C]
//                            [-f new-policy.yaml] [-o text|json] [-c config]
//
// Exit code 0 with the explanation (whatever the verdict; -o json's "verdict" is for scripts), 1
// with a message naming the problem for a bad flag, query, file or datastore.
#pragma once

#include <span>
#include <string>

#include "calico/ctl/ctl.h"

namespace calico::ctl {

int RunPolicyExplain(std::span<const std::string> args, Context& ctx);

}  // namespace calico::ctl
