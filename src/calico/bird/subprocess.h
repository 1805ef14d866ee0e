// Running the BIRD tools (`bird -p`, `birdc`) as short-lived children, as confd and calicoctl
// exec them: argv only (no shell), stdout and stderr captured together, a deadline after which
// the child (only that PID) is killed.
//
// Thread-safety: RunCommand may be called from any thread. It waits for its own child by PID, so
// it never reaps children that other code started.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "calico/base/result.h"

namespace calico::bird {

struct CommandResult {
  int exit_code = -1;  // Exit status, or 128 + signal number when killed by a signal.
  std::string output;  // stdout and stderr interleaved.
};

// Runs argv[0] (looked up in PATH) with stdin from /dev/null.
// Errors: kInvalidArgument for an empty argv; kNotFound when the program cannot be executed
// ("bird is not installed: ..."); kUnavailable when the deadline passes (the child is killed).
[[nodiscard]] Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                               std::chrono::milliseconds timeout);

}  // namespace calico::bird
