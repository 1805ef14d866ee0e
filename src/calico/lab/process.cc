// Starting, running and stopping lab processes; see process.h.
#include "calico/lab/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "calico/base/strings.h"

extern char** environ;

namespace calico::lab {
namespace fs = std::filesystem;
namespace {

// Everything the child needs, prepared before fork (the child only makes async-signal-safe calls).
struct Prepared {
  std::string program;
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  int netns_fd = -1;
  std::string cwd;

  Prepared() = default;
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;
  ~Prepared() {
    if (netns_fd >= 0) ::close(netns_fd);
  }
};

Status Prepare(const SpawnOptions& spawn, Prepared& p) {
  if (spawn.argv.empty()) return InvalidArgument("empty command");
  std::string path = spawn.env.contains("PATH") ? spawn.env.at("PATH") : "/usr/bin:/bin";
  p.program = FindProgram(spawn.argv[0], path);
  if (p.program.empty() || !IsExecutable(p.program)) {
    return NotFound(spawn.argv[0] + ": command not found" +
                    (spawn.argv[0].find('/') == std::string::npos ? " (PATH " + path + ")" : ""));
  }
  p.argv_storage = spawn.argv;
  p.env_storage = EnvStrings(spawn.env);
  for (std::string& s : p.argv_storage) {
    p.argv.push_back(s.data());
  }
  p.argv.push_back(nullptr);
  for (std::string& s : p.env_storage) {
    p.envp.push_back(s.data());
  }
  p.envp.push_back(nullptr);
  if (!spawn.netns_path.empty()) {
    p.netns_fd = ::open(spawn.netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (p.netns_fd < 0) return Unexpected(Error::FromErrno(errno, "open " + spawn.netns_path));
  }
  p.cwd = spawn.cwd;
  return OkStatus();
}

void ResetSignals() {
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD}) {
    ::signal(sig, SIG_DFL);
  }
}

// Marks every descriptor from 3 up close-on-exec.
void CloexecFrom3() {
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  for (int fd = 3; fd < 4096; ++fd) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
}

// In the child: enter the namespace and directory, exec. On failure the errno goes to `err_fd`.
[[noreturn]] void ChildExec(const Prepared& p, int err_fd) {
  int err = 0;
  if (p.netns_fd >= 0 && ::setns(p.netns_fd, CLONE_NEWNET) != 0) {
    err = errno;
  } else if (!p.cwd.empty() && ::chdir(p.cwd.c_str()) != 0) {
    err = errno;
  } else {
    CloexecFrom3();
    ::execve(p.program.c_str(), p.argv.data(), p.envp.data());
    err = errno;
  }
  ssize_t ignored = ::write(err_fd, &err, sizeof(err));
  (void)ignored;
  ::_exit(127);
}

// Reads the child's exec report: 0 when it exec'd, else its errno.
int ReadExecReport(int fd) {
  int err = 0;
  ssize_t n;
  do {
    n = ::read(fd, &err, sizeof(err));
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  return n == static_cast<ssize_t>(sizeof(err)) ? err : 0;
}

Error ExecError(int err, const SpawnOptions& spawn) {
  return Error::FromErrno(
      err, "start " + spawn.argv[0] + (spawn.netns_path.empty() ? "" : " in " + spawn.netns_path));
}

int ExitStatus(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 255;
}

// Fields after "(comm)" in /proc/PID/stat: [0] state (field 3), [19] starttime (field 22).
Result<std::vector<std::string>> StatFields(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NotFound("no process " + std::to_string(pid));
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
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
  Prepared p;
  RETURN_IF_ERROR(Prepare(spawn, p));
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Unexpected(Error::FromErrno(errno, "open " + log_path));
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2];
  if (null_fd < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return Unexpected(Error::FromErrno(err, "pipe"));
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    ResetSignals();
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ChildExec(p, report[1]);
  }
  int fork_err = errno;
  ::close(log_fd);
  ::close(null_fd);
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    return Unexpected(Error::FromErrno(fork_err, "fork"));
  }
  int err = ReadExecReport(report[0]);
  if (err != 0) {
    int ignored = 0;
    ::waitpid(pid, &ignored, 0);
    return Unexpected(ExecError(err, spawn));
  }
  ProcessRef ref{.pid = pid, .start_time = 0};
  if (auto st = ProcessStartTime(pid); st) ref.start_time = *st;
  return ref;
}

Result<Completed> RunCaptured(const SpawnOptions& spawn, std::string_view input,
                              std::chrono::milliseconds timeout) {
  Prepared p;
  RETURN_IF_ERROR(Prepare(spawn, p));
  int in[2], out[2], err[2], report[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(report, O_CLOEXEC) != 0) {
    return Unexpected(Error::FromErrno(errno, "pipe"));
  }
  // A child that exits without reading its stdin must not kill us with SIGPIPE.
  struct sigaction ignore_pipe {
  }, old_pipe{};
  ignore_pipe.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore_pipe, &old_pipe);
  pid_t pid = ::fork();
  if (pid == 0) {
    ResetSignals();
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ChildExec(p, report[1]);
  }
  int fork_err = errno;
  for (int fd : {in[0], out[1], err[1], report[1]}) {
    ::close(fd);
  }
  if (pid < 0) {
    for (int fd : {in[1], out[0], err[0], report[0]}) {
      ::close(fd);
    }
    ::sigaction(SIGPIPE, &old_pipe, nullptr);
    return Unexpected(Error::FromErrno(fork_err, "fork"));
  }
  int exec_err = ReadExecReport(report[0]);
  Completed done;
  int in_fd = in[1];
  if (exec_err == 0) {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
    size_t written = 0;
    if (input.empty()) {
      ::close(in_fd);
      in_fd = -1;
    }
    int out_fd = out[0], err_fd = err[0];
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    while (out_fd >= 0 || err_fd >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        timed_out = true;
        break;
      }
      pollfd fds[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
      int r = ::poll(fds, 3, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
      if (r < 0 && errno != EINTR) break;
      char buf[8192];
      for (int i = 0; i < 2; ++i) {
        int& fd = i == 0 ? out_fd : err_fd;
        if (fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n > 0) {
          (i == 0 ? done.out : done.err).append(buf, static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          ::close(fd);
          fd = -1;
        }
      }
      if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
        ssize_t n = ::write(in_fd, input.data() + written, input.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
      }
    }
    for (int fd : {in_fd, out_fd, err_fd}) {
      if (fd >= 0) ::close(fd);
    }
    if (timed_out) {
      ::kill(pid, SIGKILL);
      int ignored = 0;
      ::waitpid(pid, &ignored, 0);
      ::sigaction(SIGPIPE, &old_pipe, nullptr);
      return Unavailable(spawn.argv[0] + " timed out after " +
                         std::to_string(timeout.count() / 1000) + " s");
    }
  } else {
    for (int fd : {in[1], out[0], err[0]}) {
      ::close(fd);
    }
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  if (exec_err != 0) return Unexpected(ExecError(exec_err, spawn));
  done.status = ExitStatus(wstatus);
  return done;
}

Status ExecReplace(const SpawnOptions& spawn) {
  Prepared p;
  RETURN_IF_ERROR(Prepare(spawn, p));
  if (p.netns_fd >= 0 && ::setns(p.netns_fd, CLONE_NEWNET) != 0) {
    return Unexpected(Error::FromErrno(errno, "enter " + spawn.netns_path));
  }
  if (!p.cwd.empty() && ::chdir(p.cwd.c_str()) != 0) {
    return Unexpected(Error::FromErrno(errno, "chdir " + p.cwd));
  }
  ResetSignals();
  ::execve(p.program.c_str(), p.argv.data(), p.envp.data());
  return Unexpected(ExecError(errno, spawn));
}

Result<uint64_t> ProcessStartTime(int pid) {
  ASSIGN_OR_RETURN(std::vector<std::string> fields, StatFields(pid));
  return std::stoull(fields[19]);
}

bool IsRunning(const ProcessRef& ref) {
  if (ref.pid <= 1) return false;
  auto fields = StatFields(ref.pid);
  if (!fields) return false;
  if ((*fields)[0] == "Z" || (*fields)[0] == "X") return false;
  return ref.start_time == 0 || std::stoull((*fields)[19]) == ref.start_time;
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
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    int pid = std::stoi(name);
    if (pid == self) continue;
    struct stat got {};
    if (::stat(("/proc/" + name + "/ns/net").c_str(), &got) != 0) continue;
    if (got.st_dev == want.st_dev && got.st_ino == want.st_ino) pids.push_back(pid);
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

EnvMap CurrentEnv() {
  EnvMap env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos) {
      env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
  }
  return env;
}

}  // namespace calico::lab
