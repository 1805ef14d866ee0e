// The subprocess runner; see subprocess.h. Everything the child needs is prepared before fork:
// between fork and exec the child only makes async-signal-safe calls (dup2, setsid, prctl, umask,
// setns, chdir, sigaction, execve, write, _exit), because the parent may have other threads holding
// locks.
#include "calico/base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "calico/base/strings.h"
#include "calico/base/unique_fd.h"

namespace calico {
namespace {

constexpr std::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin";
// What the child reports through the exec-report pipe when a step fails.
enum class ChildStage : int { kNone = 0, kSetns, kChdir, kExec };

struct Prepared {
  std::string program;
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  char** envp_ptr = nullptr;
  int netns_fd = -1;
  std::string cwd;
  int umask = -1;
};

Status Prepare(const SubprocessSpec& spec, Prepared& p) {
  if (spec.argv.empty()) return InvalidArgument("empty command");
  std::string path(kDefaultPath);
  if (spec.env) {
    if (auto it = spec.env->find("PATH"); it != spec.env->end()) path = it->second;
  } else {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): the product sets no environment variables on threads.
    const char* env_path = std::getenv("PATH");
    if (env_path != nullptr) path = env_path;
  }
  p.program = FindProgram(spec.argv[0], path);
  if (p.program.empty() || !IsExecutable(p.program)) {
    return NotFound(spec.argv[0] + ": command not found" +
                    (spec.argv[0].find('/') == std::string::npos ? " (PATH " + path + ")" : ""));
  }
  p.argv_storage = spec.argv;
  for (std::string& s : p.argv_storage) {
    p.argv.push_back(s.data());
  }
  p.argv.push_back(nullptr);
  if (spec.env) {
    for (const auto& [k, v] : *spec.env) {
      std::string entry = k;
      entry += '=';
      entry += v;
      p.env_storage.push_back(std::move(entry));
    }
    for (std::string& s : p.env_storage) {
      p.envp.push_back(s.data());
    }
    p.envp.push_back(nullptr);
    p.envp_ptr = p.envp.data();
  } else {
    p.envp_ptr = environ;
  }
  p.netns_fd = spec.netns_fd;
  p.cwd = spec.cwd;
  p.umask = spec.umask;
  return OkStatus();
}

// Dispositions a parent may have set to SIG_IGN survive exec; the child starts clean.
void ResetSignals() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // NOLINT(concurrency-mt-unsafe): in the child only
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD}) {
    ::sigaction(sig, &dfl, nullptr);
  }
}

// Makes `from` the child's descriptor `to` (without close-on-exec).
void MoveFd(int from, int to) {
  if (from == to) {
    ::fcntl(to, F_SETFD, 0);
  } else {
    ::dup2(from, to);
  }
}

// Marks every descriptor from 3 up close-on-exec, so the program inherits only stdio.
void CloexecFrom3() {
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  for (int fd = 3; fd < 4096; ++fd) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
}

struct ChildReport {
  int stage = 0;
  int err = 0;
};

// In the child after stdio is in place: enter the namespace and directory, exec. A failure goes
// to `report_fd` (close-on-exec, so a successful exec closes it with nothing written).
[[noreturn]] void ChildExec(const Prepared& p, int report_fd) {
  ChildReport report;
  if (p.umask >= 0) ::umask(static_cast<mode_t>(p.umask));
  if (p.netns_fd >= 0 && ::setns(p.netns_fd, CLONE_NEWNET) != 0) {
    report = {static_cast<int>(ChildStage::kSetns), errno};
  } else if (!p.cwd.empty() && ::chdir(p.cwd.c_str()) != 0) {
    report = {static_cast<int>(ChildStage::kChdir), errno};
  } else {
    CloexecFrom3();
    ::execve(p.program.c_str(), p.argv.data(), p.envp_ptr);
    report = {static_cast<int>(ChildStage::kExec), errno};
  }
  [[maybe_unused]] ssize_t written = ::write(report_fd, &report, sizeof(report));
  ::_exit(127);
}

// Reads the child's report: stage kNone when it exec'd.
ChildReport ReadReport(UniqueFd fd) {
  ChildReport report;
  ssize_t n = 0;
  do {
    n = ::read(fd.get(), &report, sizeof(report));
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof(report))) return {};
  return report;
}

Error ReportError(const ChildReport& report, const SubprocessSpec& spec) {
  std::string what = "start " + spec.argv[0];
  switch (static_cast<ChildStage>(report.stage)) {
    case ChildStage::kSetns:
      what += ": enter the network namespace";
      break;
    case ChildStage::kChdir:
      what += ": chdir " + spec.cwd;
      break;
    default:
      break;
  }
  return Error::FromErrno(report.err, what);
}

void WaitBlocking(pid_t pid, int* wait_status) {
  while (::waitpid(pid, wait_status, 0) < 0 && errno == EINTR) {
  }
}

// After fork(2) (`pid`, and errno right after it): the fork's error, or the error the child
// reported on `report_read` before exec (the child is reaped then); ok once the program runs.
Status CheckStarted(pid_t pid, int fork_errno, UniqueFd report_read, const SubprocessSpec& spec) {
  if (pid < 0) return Unexpected(Error::FromErrno(fork_errno, "fork for " + spec.argv[0]));
  const ChildReport report = ReadReport(std::move(report_read));
  if (report.stage != 0) {
    int ignored = 0;
    WaitBlocking(pid, &ignored);
    return Unexpected(ReportError(report, spec));
  }
  return OkStatus();
}

std::string FormatTimeout(std::chrono::milliseconds t) {
  if (t.count() % 1000 == 0) return std::to_string(t.count() / 1000) + " s";
  return std::to_string(t.count()) + " ms";
}

// Pipes with both ends close-on-exec; [0] reads, [1] writes.
Status MakePipe(UniqueFd& read_end, UniqueFd& write_end) {
  std::array<int, 2> fds{-1, -1};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) return Unexpected(Error::FromErrno(errno, "pipe"));
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return OkStatus();
}

Result<UniqueFd> OpenDevNull(int flags) {
  UniqueFd fd(::open("/dev/null", flags | O_CLOEXEC));
  if (!fd) return Unexpected(Error::FromErrno(errno, "open /dev/null"));
  return fd;
}

// Blocks SIGPIPE on this thread while it writes to a child's stdin (a child that exits without
// reading must not kill the caller), then drops a SIGPIPE that became pending and restores the
// thread's mask. Process-wide dispositions are left alone, so other threads are unaffected.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old_);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock(ScopedSigpipeBlock&&) = delete;
  ScopedSigpipeBlock& operator=(ScopedSigpipeBlock&&) = delete;
  ~ScopedSigpipeBlock() {
    sigset_t pending;
    sigemptyset(&pending);
    if (::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1 &&
        sigismember(&old_, SIGPIPE) == 0) {
      sigset_t pipe_only;
      sigemptyset(&pipe_only);
      sigaddset(&pipe_only, SIGPIPE);
      const timespec zero{0, 0};
      while (::sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_{};
};

}  // namespace

Result<SubprocessOutput> RunSubprocess(const SubprocessSpec& spec, const RunOptions& options) {
  Prepared p;
  RETURN_IF_ERROR(Prepare(spec, p));
  UniqueFd in_read, in_write, out_read, out_write, err_read, err_write, report_read, report_write;
  if (options.input.empty()) {
    ASSIGN_OR_RETURN(in_read, OpenDevNull(O_RDONLY));
  } else {
    RETURN_IF_ERROR(MakePipe(in_read, in_write));
  }
  RETURN_IF_ERROR(MakePipe(out_read, out_write));
  if (!options.merge_stderr) RETURN_IF_ERROR(MakePipe(err_read, err_write));
  RETURN_IF_ERROR(MakePipe(report_read, report_write));

  std::optional<ScopedSigpipeBlock> sigpipe_block;
  if (!options.input.empty()) sigpipe_block.emplace();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ResetSignals();
    MoveFd(in_read.get(), STDIN_FILENO);
    MoveFd(out_write.get(), STDOUT_FILENO);
    MoveFd(options.merge_stderr ? out_write.get() : err_write.get(), STDERR_FILENO);
    ChildExec(p, report_write.get());
  }
  const int fork_errno = errno;
  in_read.reset();
  out_write.reset();
  err_write.reset();
  report_write.reset();
  RETURN_IF_ERROR(CheckStarted(pid, fork_errno, std::move(report_read), spec));

  SubprocessOutput result;
  const bool has_deadline = options.timeout.count() > 0;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  auto left_ms = [&]() -> int {
    if (!has_deadline) return -1;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1000));
  };
  bool timed_out = false;
  size_t written = 0;
  if (in_write) ::fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
  std::array<char, 8192> buf{};
  while (out_read || err_read) {
    if (has_deadline && std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      break;
    }
    std::array<pollfd, 3> fds = {pollfd{out_read.get(), POLLIN, 0},
                                 pollfd{err_read.get(), POLLIN, 0},
                                 pollfd{in_write.get(), POLLOUT, 0}};
    const int ready = ::poll(fds.data(), fds.size(), left_ms());
    if (ready < 0 && errno != EINTR) return Unexpected(Error::FromErrno(errno, "poll"));
    if (ready <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      UniqueFd& fd = i == 0 ? out_read : err_read;
      if (!fd || (fds[static_cast<size_t>(i)].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buf.data(), static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fd.reset();  // EOF: the child (and anything it started) closed its end.
      }
    }
    if (in_write && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t n =
          ::write(in_write.get(), options.input.data() + written, options.input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == options.input.size()) {
        in_write.reset();
      }
    }
  }
  in_write.reset();
  out_read.reset();
  err_read.reset();

  int wait_status = 0;
  if (!timed_out && has_deadline) {
    // The output is closed; the child may still be on its way out.
    for (;;) {
      const pid_t r = ::waitpid(pid, &wait_status, WNOHANG);
      if (r == pid || (r < 0 && errno != EINTR)) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        timed_out = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
    int ignored = 0;
    WaitBlocking(pid, &ignored);
    std::string so_far = result.out + result.err;
    if (so_far.size() > 1000) so_far = "..." + so_far.substr(so_far.size() - 1000);
    return Unavailable(spec.argv[0] + " timed out after " + FormatTimeout(options.timeout) +
                       (so_far.empty() ? "" : ": " + std::string(StrTrim(so_far))));
  }
  if (!has_deadline) WaitBlocking(pid, &wait_status);
  result.exit_code = ExitCodeFromWaitStatus(wait_status);
  return result;
}

Result<pid_t> SpawnSubprocess(const SubprocessSpec& spec, const SpawnOptions& options) {
  Prepared p;
  RETURN_IF_ERROR(Prepare(spec, p));
  UniqueFd log;
  if (options.log_path.empty()) {
    ASSIGN_OR_RETURN(log, OpenDevNull(O_WRONLY));
  } else {
    log.reset(::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                     options.log_mode));
    if (!log) return Unexpected(Error::FromErrno(errno, "open " + options.log_path));
  }
  ASSIGN_OR_RETURN(UniqueFd null_in, OpenDevNull(O_RDONLY));
  UniqueFd report_read, report_write;
  RETURN_IF_ERROR(MakePipe(report_read, report_write));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (options.new_session) ::setsid();
    // A parent that died before the prctl would leave an orphan nobody asked for: do not start.
    if (options.die_with_parent &&
        (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent)) {
      ::_exit(127);
    }
    ResetSignals();
    MoveFd(null_in.get(), STDIN_FILENO);
    MoveFd(log.get(), STDOUT_FILENO);
    MoveFd(log.get(), STDERR_FILENO);
    ChildExec(p, report_write.get());
  }
  const int fork_errno = errno;
  report_write.reset();
  RETURN_IF_ERROR(CheckStarted(pid, fork_errno, std::move(report_read), spec));
  return pid;
}

Status ExecSubprocess(const SubprocessSpec& spec) {
  Prepared p;
  RETURN_IF_ERROR(Prepare(spec, p));
  if (p.netns_fd >= 0 && ::setns(p.netns_fd, CLONE_NEWNET) != 0) {
    return Unexpected(
        Error::FromErrno(errno, "start " + spec.argv[0] + ": enter the network namespace"));
  }
  if (!p.cwd.empty() && ::chdir(p.cwd.c_str()) != 0) {
    return Unexpected(Error::FromErrno(errno, "start " + spec.argv[0] + ": chdir " + p.cwd));
  }
  if (p.umask >= 0) ::umask(static_cast<mode_t>(p.umask));
  ResetSignals();
  ::execve(p.program.c_str(), p.argv.data(), p.envp_ptr);
  return Unexpected(Error::FromErrno(errno, "start " + spec.argv[0]));
}

bool IsExecutable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string FindProgram(std::string_view name, std::string_view path) {
  if (name.find('/') != std::string_view::npos) return std::string(name);
  for (const std::string& dir : StrSplit(path, ':', true)) {
    std::string candidate = dir + "/" + std::string(name);
    if (IsExecutable(candidate)) return candidate;
  }
  return "";
}

Environment CurrentEnvironment() {
  Environment env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    const size_t eq = kv.find('=');
    if (eq != std::string_view::npos) {
      env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  return env;
}

int ExitCodeFromWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

}  // namespace calico
