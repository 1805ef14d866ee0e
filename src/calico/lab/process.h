// Processes and namespaces the lab starts and stops. A process is started in a network namespace
// the way `nsenter --net=/run/netns/NS CMD` does (setns(2) then execve in the child, never
// `ip netns exec`, which remounts /sys), through the base subprocess runner
// (calico/base/subprocess.h), and is later identified by PID *and* start time, so a PID the
// kernel has reused is never signalled.
//
// Thread-safety: functions; they fork, so call them from a thread that holds no locks a child
// would need (the lab is single-threaded while it spawns).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/lab/layout.h"
#include "calico/lab/state.h"

namespace calico::lab {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0]: a path, or a name looked up in env's PATH
  EnvMap env;                     // the complete environment
  std::string netns_path;         // empty: the caller's namespace
  std::string cwd;                // empty: the caller's directory
};

struct Completed {
  int status = 0;  // the exit code, or 128+signal
  std::string out;
  std::string err;
};

// Starts a process in its own session with stdin from /dev/null and stdout/stderr appended to
// `log_path`; returns once it has exec'd. Errors: kNotFound for a missing program, the exec or
// setns errno otherwise.
[[nodiscard]] Result<ProcessRef> StartDetached(const SpawnOptions& spawn,
                                               const std::string& log_path);

// Runs a process to completion, feeding it `input` and collecting its output. A process still
// running after `timeout` is killed (kUnavailable "... timed out after N s").
[[nodiscard]] Result<Completed> RunCaptured(const SpawnOptions& spawn, std::string_view input,
                                            std::chrono::milliseconds timeout);

// Replaces the calling process with the program (stdio and the exit code pass straight through).
// Returns only on error.
[[nodiscard]] Status ExecReplace(const SpawnOptions& spawn);

// The start time of `pid` (kNotFound when there is no such process).
[[nodiscard]] Result<uint64_t> ProcessStartTime(int pid);
// True when the process exists, is not a zombie, and (when ref.start_time is set) started then.
bool IsRunning(const ProcessRef& ref);
// /proc/PID/cmdline with blanks between the words ("" when gone).
std::string ProcessCommandLine(int pid);
// SIGTERM, up to `grace` for it to go, then SIGKILL. Ok when the process is (already) gone.
[[nodiscard]] Status Terminate(const ProcessRef& ref, std::chrono::milliseconds grace);
// SIGKILL at once (a crash, for fault tests); Ok once the process is gone.
[[nodiscard]] Status KillNow(const ProcessRef& ref);

// The PIDs of processes whose network namespace is the one mounted at `netns_path`.
std::vector<int> PidsInNetns(const std::string& netns_path);
// Names under /run/netns starting with `prefix`, sorted.
std::vector<std::string> ListNetns(std::string_view prefix);

}  // namespace calico::lab
