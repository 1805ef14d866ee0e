// The one summary the resource commands print over common.ExecuteConfigCommand's results
// (calicoctl/calicoctl/commands/crud_commands.go: createOrApplyOrValidate, reportReplaceResults,
// the delete and patch commands), with upstream's exit codes:
//
//   all handled     Successfully <applied> N 'Kind' resource(s)                      exit 0
//   some handled    Partial success: <applied> the first N out of M 'Kind' resources:
//                   hit error: [<errors>]                                              exit 1
//   none handled    failed to <apply> 'Kind' resource: [<errors>]
//                   (M > 1: failed to <apply> any 'Kind' resources / any resources)    exit 1
//   bad -f input    failed to execute command: <error>                                 exit 1
//   nothing named   No resources specified                                            exit 0
//
// Upstream's variants are kept: create/apply/validate collect one error per resource and report
// partial success only when more resources were handled than failed; replace stops at the first
// error; delete prints its success line and then one "Failed to delete 'Kind' resource: <error>"
// line per failure; patch handles one resource ("Successfully patched 1 'Kind' resource").
// 'Kind' is left out when the resources are of several kinds.
//
// Thread-safety: writes to the Context's streams.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "calico/ctl/ctl.h"
#include "calico/ctl/resource_actions.h"
#include "calico/ctl/resource_command.h"

namespace calico::ctl {

// Prints the summary of `action` (create, apply, validate, update = replace, delete, patch) over
// `results` to ctx.out / ctx.err; returns the exit code. kGetOrList is reported by the get and
// label commands themselves.
int ReportResults(Action action, const CommandResults& results, Context& ctx);

// The command word of `action` ("apply") and its past tense ("applied").
std::string_view ActionVerb(Action action);
std::string_view ActionPastTense(Action action);

// Go's %v of an error slice: "[e1 e2]".
std::string GoErrList(const std::vector<std::string>& errs);

}  // namespace calico::ctl
