// `calicoctl flows`: the flows calico-flows holds, as a table like calicoctl's others (Go
// tabwriter layout), or JSON; --follow streams new and changed flows as they come (Hubble's
// `hubble observe --follow`, Whisker's live view).
//
//   calicoctl flows [--denied] [--from X] [--to Y] [--policy P] [--namespace N] [--since 5m]
//                   [--follow] [--limit N] [-o wide|json] [--server URL]
//
// The server: --server, else $CALICO_FLOWS_SERVER, else the lab's (kLabFlowsServer).
//
// Thread-safety: RunFlows is used by one command at a time.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "calico/ctl/ctl.h"
#include "calico/flows/aggregator.h"

namespace calico::flows {

// Where calico-lab runs calico-flows: the fabric namespace's gateway address (reachable from
// every lab host and `calico-lab host ...`).
inline constexpr const char* kLabFlowsServer = "http://198.18.0.1:7443";

// The table (headings and one row per flow, in the given order) of `calicoctl flows`; wide adds
// the reporter, counters and the staged policies' verdict.
std::string RenderFlowsTable(const std::vector<StoredFlow>& flows, bool wide);
// One row's cells (for --follow, which prints rows as they come).
std::vector<std::string> FlowRow(const Flow& flow, bool wide);
std::vector<std::string> FlowHeadings(bool wide);

// "prod/default.web-only-frontend (tier default, end of tier)": the step that decided the
// verdict (the last enforced step that is not a Pass); "-" without a trace.
std::string DecidingPolicy(const Flow& flow);

// GET `target` from calico-flows at `server` ("host:port" as FelixConfiguration's
// flowLogsGoldmaneServer, or a URL): the body of a 200 answer; otherwise an error naming the server
// and the server's error (calicoctl's ctl::Context::flows_get: `get ... -o wide` HITS).
[[nodiscard]] Result<std::string> FlowsGet(std::string_view server, std::string_view target);

// calicoctl flows ... (args after "flows"). `env_server` is $CALICO_FLOWS_SERVER ("" = unset).
int RunFlowsCommand(std::span<const std::string> args, ctl::Context& ctx,
                    const std::string& env_server);

}  // namespace calico::flows
