// Starting, running and stopping lab processes; see process.h.
#include "calico/lab/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <thread>

#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/base/subprocess.h"
#include "calico/base/unique_fd.h"

namespace calico::lab {
namespace fs = std::filesystem;
namespace {

// The lab's spawn options as the base runner's spec; the namespace is opened here and held by
// `netns` while the runner uses it.
Result<SubprocessSpec> ToSpec(const SpawnOptions& spawn, UniqueFd& netns) {
  SubprocessSpec spec{.argv = spawn.argv, .env = spawn.env, .cwd = spawn.cwd};
  if (!spawn.netns_path.empty()) {
    netns.reset(::open(spawn.netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) return Unexpected(Error::FromErrno(errno, "open " + spawn.netns_path));
    spec.netns_fd = netns.get();
  }
  return spec;
}

// Fields after "(comm)" in /proc/PID/stat: [0] state (field 3), [19] starttime (field 22).
Result<std::vector<std::string>> StatFields(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return NotFound("no process " + std::to_string(pid));
  char buf[1024];
  ssize_t n = ::read(fd.get(), buf, sizeof(buf) - 1);
  fd.reset();
  if (n <= 0) return NotFound("no process " + std::to_string(pid));
  std::string_view text(buf, static_cast<size_t>(n));
  size_t close_paren = text.rfind(')');
  if (close_paren == std::string_view::npos) return Internal("unreadable " + path);
  std::vector<std::string> fields = StrSplit(text.substr(close_paren + 1), ' ', true);
  if (fields.size() < 20) return Internal("unreadable " + path);
  return fields;
}

// Reaps `pid` if it is a child of ours that has exited (so it stops being a zombie).
void ReapIfChild(int pid) {
  int ignored = 0;
  ::waitpid(pid, &ignored, WNOHANG);
}

}  // namespace

Result<ProcessRef> StartDetached(const SpawnOptions& spawn, const std::string& log_path) {
  UniqueFd netns;
  ASSIGN_OR_RETURN(SubprocessSpec spec, ToSpec(spawn, netns));
  ASSIGN_OR_RETURN(pid_t pid, SpawnSubprocess(spec, {.log_path = log_path, .new_session = true}));
  ProcessRef ref{.pid = pid, .start_time = 0};
  if (auto st = ProcessStartTime(pid); st) ref.start_time = *st;
  return ref;
}

Result<Completed> RunCaptured(const SpawnOptions& spawn, std::string_view input,
                              std::chrono::milliseconds timeout) {
  UniqueFd netns;
  ASSIGN_OR_RETURN(SubprocessSpec spec, ToSpec(spawn, netns));
  ASSIGN_OR_RETURN(SubprocessOutput out, RunSubprocess(spec, {.input = input, .timeout = timeout}));
  return Completed{.status = out.exit_code, .out = std::move(out.out), .err = std::move(out.err)};
}

Status ExecReplace(const SpawnOptions& spawn) {
  UniqueFd netns;
  ASSIGN_OR_RETURN(SubprocessSpec spec, ToSpec(spawn, netns));
  return ExecSubprocess(spec);
}

Result<uint64_t> ProcessStartTime(int pid) {
  ASSIGN_OR_RETURN(std::vector<std::string> fields, StatFields(pid));
  return ParseInt<uint64_t>(fields[19]);
}

bool IsRunning(const ProcessRef& ref) {
  if (ref.pid <= 1) return false;
  auto fields = StatFields(ref.pid);
  if (!fields) return false;
  if ((*fields)[0] == "Z" || (*fields)[0] == "X") return false;
  if (ref.start_time == 0) return true;
  Result<uint64_t> start_time = ParseInt<uint64_t>((*fields)[19]);
  return start_time && *start_time == ref.start_time;
}

std::string ProcessCommandLine(int pid) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!text) return "";
  std::string s = *text;
  while (!s.empty() && s.back() == '\0') {
    s.pop_back();
  }
  std::replace(s.begin(), s.end(), '\0', ' ');
  return s;
}

Status Terminate(const ProcessRef& ref, std::chrono::milliseconds grace) {
  using std::chrono::steady_clock;
  if (!IsRunning(ref)) {
    ReapIfChild(ref.pid);
    return OkStatus();
  }
  ::kill(ref.pid, SIGTERM);
  for (int sig : {SIGTERM, SIGKILL}) {
    if (sig == SIGKILL) ::kill(ref.pid, SIGKILL);
    auto until = steady_clock::now() + (sig == SIGTERM ? grace : std::chrono::milliseconds(5000));
    while (steady_clock::now() < until) {
      ReapIfChild(ref.pid);
      if (!IsRunning(ref)) return OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return Unavailable("process " + std::to_string(ref.pid) + " did not stop after SIGKILL");
}

Status KillNow(const ProcessRef& ref) {
  if (IsRunning(ref)) ::kill(ref.pid, SIGKILL);
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(5000);
  while (std::chrono::steady_clock::now() < until) {
    ReapIfChild(ref.pid);
    if (!IsRunning(ref)) return OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Unavailable("process " + std::to_string(ref.pid) + " did not stop after SIGKILL");
}

std::vector<int> PidsInNetns(const std::string& netns_path) {
  std::vector<int> pids;
  struct stat want {};
  if (::stat(netns_path.c_str(), &want) != 0) return pids;
  std::error_code ec;
  int self = ::getpid();
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    Result<int> pid = ParseInt<int>(name);  // the other entries of /proc are not numbers
    if (!pid || *pid == self) continue;
    struct stat got {};
    if (::stat(("/proc/" + name + "/ns/net").c_str(), &got) != 0) continue;
    if (got.st_dev == want.st_dev && got.st_ino == want.st_ino) pids.push_back(*pid);
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

std::vector<std::string> ListNetns(std::string_view prefix) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(std::string(kNetnsDir), ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with(prefix)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace calico::lab
