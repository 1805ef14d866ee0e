// The one way product code runs another program: argv only (never a shell), the program looked
// up in PATH, an optional complete environment, working directory, umask and network namespace
// (by fd, entered with setns(2) in the child, as `nsenter --net` does), then either
//   RunSubprocess:   run to completion: stdin from `input`, stdout and stderr captured (apart or
//                    interleaved), a timeout after which the child (only that PID) is killed;
//   SpawnSubprocess: start and return its PID (stdin /dev/null, stdout and stderr appended to a
//                    log file, optionally in a session of its own), the caller reaps it;
//   ExecSubprocess:  replace the calling process.
//
//   ASSIGN_OR_RETURN(SubprocessOutput out,
//                    RunSubprocess({.argv = {"birdc", "-s", socket, "show", "protocols"}},
//                                  {.timeout = std::chrono::seconds(5), .merge_stderr = true}));
//   if (out.exit_code != 0) ...
//
// Errors: kInvalidArgument for an empty argv; kNotFound "<prog>: command not found" when the
// program is not found or not executable; the errno of a failed fork, setns, chdir or exec;
// kUnavailable "<prog> timed out after <t>" (the child is killed; output so far appended).
// A program that runs and exits non-zero is not an error: see exit_code.
//
// Thread-safety: all functions may be called from any thread. The child makes only
// async-signal-safe calls between fork and exec; each call waits for its own child by PID, so it
// never reaps children that other code started. SIGPIPE from a child that stops reading its
// stdin is blocked on the calling thread only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"

namespace calico {

using Environment = std::map<std::string, std::string>;

// Every member has an initializer, so designated initializers may name only what they set
// (g++ 12's -Wmissing-field-initializers asks for the others otherwise).
struct SubprocessSpec {
  std::vector<std::string> argv{};   // argv[0]: a path, or a name looked up in PATH
  std::optional<Environment> env{};  // the complete environment; nullopt: the caller's
  std::string cwd{};                 // empty: the caller's directory
  int netns_fd = -1;                 // >= 0: the network namespace to run in (not owned)
  int umask = -1;  // >= 0: the program's umask(2), e.g. 077 for files only the owner may read
};

struct RunOptions {
  std::string_view input{};              // written to stdin, then stdin is closed
  std::chrono::milliseconds timeout{0};  // 0: wait as long as it takes
  bool merge_stderr = false;             // stderr into `out` too, interleaved as written
};

struct SubprocessOutput {
  int exit_code = -1;  // the exit status, or 128 + the signal number that ended it
  std::string out{};
  std::string err{};  // empty when merge_stderr
};

struct SpawnOptions {
  std::string log_path{};    // stdout and stderr appended here; empty: /dev/null
  mode_t log_mode = 0644;    // the log's mode when it is created
  bool new_session = false;  // setsid(2): no controlling terminal, its own process group
  // PR_SET_PDEATHSIG(SIGKILL): the child is killed when the thread that spawned it ends (the
  // kernel ties it to the forking thread, so spawn from a thread that lives as long as the
  // process); when the parent is already gone at that point, the program is not started.
  bool die_with_parent = false;
};

[[nodiscard]] Result<SubprocessOutput> RunSubprocess(const SubprocessSpec& spec,
                                                     const RunOptions& options = {});

// Returns once the program has been exec'd (an exec failure is an error, not a dead child).
[[nodiscard]] Result<pid_t> SpawnSubprocess(const SubprocessSpec& spec,
                                            const SpawnOptions& options = {});

// Returns only on error.
[[nodiscard]] Status ExecSubprocess(const SubprocessSpec& spec);

// `name` if it has a slash, else the first executable `dir/name` over the ':'-separated `path`;
// "" when there is none.
std::string FindProgram(std::string_view name, std::string_view path);
bool IsExecutable(const std::string& path);

// The calling process's environment as a map.
Environment CurrentEnvironment();

// The exit code of a waitpid(2) status: the exit status, or 128 + signal.
int ExitCodeFromWaitStatus(int wait_status);

}  // namespace calico
