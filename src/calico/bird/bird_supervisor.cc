// The bird service of calico-node (runit's bird run script plus confd's check-and-reload,
// reference §4.1): one BIRD 2 daemon per node, owned by PID.
#include "calico/bird/bird_supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/base/subprocess.h"
#include "calico/base/unique_fd.h"

namespace calico::bird {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::milliseconds kPollInterval{20};

std::string JoinPath(const std::string& dir, const char* file) {
  return (fs::path(dir) / file).string();
}

// Writes `text` to `path`, readable by root only: bird.conf holds the BGP passwords.
Status WritePrivateFile(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return Unexpected(Error::FromErrno(errno, "open " + path));
  // An existing file keeps its mode through O_TRUNC: tighten it.
  if (::fchmod(fd.get(), 0600) != 0) return Unexpected(Error::FromErrno(errno, "chmod " + path));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unexpected(Error::FromErrno(errno, "write " + path));
    done += static_cast<size_t>(n);
  }
  // close(2) reports a failed delayed write (NFS, a full disk): check it here.
  if (::close(fd.release()) != 0) return Unexpected(Error::FromErrno(errno, "close " + path));
  return OkStatus();
}

// Writes `text` to `path` through `path`.tmp and rename(2), so readers see the old or the new file.
Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  RETURN_IF_ERROR(WritePrivateFile(tmp, text));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Unexpected(Error::FromErrno(err, "rename " + tmp + " to " + path));
  }
  return OkStatus();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
    s.pop_back();
  return s;
}

// birdc's reply without its "BIRD 2.0.12 ready." banner and "Reading configuration" line.
std::string ReplyBody(const std::string& reply) {
  std::istringstream in(reply);
  std::string line;
  std::string out;
  while (std::getline(in, line)) {
    if (line.rfind("BIRD ", 0) == 0 && line.find(" ready.") != std::string::npos) continue;
    if (line.rfind("Reading configuration from ", 0) == 0) continue;
    if (!out.empty()) out += '\n';
    out += line;
  }
  return Trim(out);
}

// The argv of process `pid` ({} when it is gone).
std::vector<std::string> ProcessArgv(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> argv;
  for (std::string arg; std::getline(in, arg, '\0');)
    argv.push_back(arg);
  return argv;
}

// Gone, or a zombie nobody has reaped yet (it holds no socket, routes or sessions any more).
bool ProcessGone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return true;
  return stat[paren + 2] == 'Z' || stat[paren + 2] == 'X';
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

bool BirdSocketAnswers(const std::string& socket_path, std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return false;
  const int fd = sock.get();
  bool ok = false;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::array<char, 256> buf{};
    while (line.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd pfd{.fd = fd, .events = POLLIN, .revents = 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) break;
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n <= 0) break;
      line.append(buf.data(), static_cast<size_t>(n));
    }
    ok = line.rfind("0001 ", 0) == 0;
  }
  return ok;
}

BirdSupervisor::BirdSupervisor(BirdSupervisorOptions options)
    : options_(std::move(options)),
      config_path_(JoinPath(options_.run_dir, "bird.conf")),
      candidate_path_(JoinPath(options_.run_dir, "bird.conf.new")),
      socket_path_(JoinPath(options_.run_dir, "bird.ctl")),
      pid_path_(JoinPath(options_.run_dir, "bird.pid")),
      log_path_(JoinPath(options_.run_dir, "bird.log")),
      restart_marker_path_(JoinPath(options_.run_dir, "bird.restart")) {}

BirdSupervisor::~BirdSupervisor() {
  std::lock_guard lock(mu_);
  if (Status st = StopLocked(); !st) {
    CALICO_LOG(error, "bird", "stopping bird: {}", st.error().message());
  }
}

Status BirdSupervisor::Start(const std::string& config_text) {
  std::lock_guard lock(mu_);
  if (RunningLocked()) {
    return AlreadyExists("bird is already running (pid " + std::to_string(pid_) + ")");
  }
  if (options_.run_dir.empty()) return InvalidArgument("BirdSupervisor: run_dir is empty");
  if (socket_path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return InvalidArgument("control socket path too long for a unix socket: " + socket_path_);
  }
  std::error_code ec;
  if (!fs::exists(options_.run_dir, ec)) {
    fs::create_directories(options_.run_dir, ec);
    if (ec) return Internal("cannot create " + options_.run_dir + ": " + ec.message());
    // Not the umask's choice: others must not replace bird.conf or bird.pid in it.
    ::chmod(options_.run_dir.c_str(), 0755);
  }
  RETURN_IF_ERROR(KillStaleLocked());
  if (BirdSocketAnswers(socket_path_, std::chrono::milliseconds(200))) {
    return AlreadyExists("another bird already answers on " + socket_path_);
  }
  RETURN_IF_ERROR(CheckCandidate(config_text));
  RETURN_IF_ERROR(CommitCandidate());
  RETURN_IF_ERROR(StartLocked(config_text, /*recovery=*/false));
  return OkStatus();
}

Status BirdSupervisor::StartLocked(const std::string& config_text, bool recovery) {
  UniqueFd netns_fd;
  if (!options_.netns_path.empty()) {
    netns_fd.reset(::open(options_.netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns_fd) {
      const int err = errno;
      if (err == ENOENT)
        return NotFound("network namespace " + options_.netns_path + " does not exist");
      return Unexpected(Error::FromErrno(err, "open " + options_.netns_path));
    }
  }
  // The previous bird did not end with a full Stop (crash, SIGKILL with its supervisor, graceful
  // restart): its routes are still in the kernel and at the peers, so recover instead of
  // withdrawing them at the first kernel scan.
  std::error_code ec;
  // EnsureRunning (a bird that died under us) always recovers, as calico-node's runit script
  // runs `bird -R`.
  const bool recover =
      recovery || fs::exists(pid_path_, ec) || fs::exists(restart_marker_path_, ec);
  std::vector<std::string> argv = {options_.bird_binary, "-f", "-c",     config_path_, "-s",
                                   socket_path_,         "-P", pid_path_};
  if (recover) argv.emplace_back("-R");

  ::unlink(pid_path_.c_str());
  ::unlink(socket_path_.c_str());  // Nobody answers on it (checked by Start / reaped child).
  // bird dies with its supervisor (with SIGKILL, so that its peers keep our routes for the
  // restart), and is not started if the supervisor is already gone. bird creates its control
  // socket with the umask: anyone who can connect can reconfigure or stop BGP, so the socket is
  // root-only whatever umask calico-node was started with.
  ASSIGN_OR_RETURN(
      const pid_t pid,
      SpawnSubprocess({.argv = std::move(argv), .netns_fd = netns_fd.get(), .umask = 077},
                      {.log_path = log_path_, .die_with_parent = true}));
  pid_ = pid;
  recovering_ = recover;
  ::unlink(restart_marker_path_.c_str());
  CALICO_LOG(info, "bird", "started bird pid={} config={} socket={}{}", pid, config_path_,
             socket_path_, recover ? " with graceful restart recovery (-R)" : "");

  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!RunningLocked()) {
      return Unavailable("bird exited during start (" + last_exit_ + "): " + LogTail());
    }
    if (BirdSocketAnswers(socket_path_, std::chrono::milliseconds(500))) {
      good_config_ = config_text;
      return OkStatus();
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  const std::string tail = LogTail();
  RETURN_IF_ERROR(StopLocked());
  return Unavailable("bird did not answer on " + socket_path_ + " within " +
                     std::to_string(options_.start_timeout.count()) + " ms: " + tail);
}

Status BirdSupervisor::Reconfigure(const std::string& config_text) {
  std::lock_guard lock(mu_);
  if (!RunningLocked()) return Unavailable("bird is not running");
  if (good_config_ && *good_config_ == config_text) return OkStatus();
  RETURN_IF_ERROR(CheckCandidate(config_text));
  RETURN_IF_ERROR(CommitCandidate());
  auto restore = [&]() -> Status {
    if (good_config_) return WriteFileAtomically(config_path_, *good_config_);
    return OkStatus();
  };
  auto reply = RunSubprocess({.argv = {options_.birdc_binary, "-s", socket_path_, "configure"}},
                             {.timeout = options_.command_timeout, .merge_stderr = true});
  if (!reply || reply->exit_code != 0) {
    if (Status restored = restore(); !restored) {
      CALICO_LOG(error, "bird", "cannot restore the running configuration file: {}",
                 restored.error().message());
    }
    const std::string why = reply ? Trim(reply->out) : reply.error().message();
    return Unavailable("birdc configure failed: " + why);
  }
  const std::string& out = reply->out;
  const bool accepted =
      out.find("Reconfigured") != std::string::npos ||
      out.find("Reconfiguration in progress") != std::string::npos ||
      out.find("Reconfiguration already in progress, queueing") != std::string::npos;
  if (!accepted) {
    // bird keeps running with its previous configuration; keep the file in step with it.
    RETURN_IF_ERROR(restore());
    return InvalidArgument("bird rejected the configuration: " + ReplyBody(out));
  }
  good_config_ = config_text;
  CALICO_LOG(info, "bird", "reconfigured bird pid={}", pid_);
  return OkStatus();
}

Status BirdSupervisor::CheckCandidate(const std::string& text) {
  RETURN_IF_ERROR(WritePrivateFile(candidate_path_, text));
  auto result = RunSubprocess({.argv = {options_.bird_binary, "-p", "-c", candidate_path_}},
                              {.timeout = options_.command_timeout, .merge_stderr = true});
  if (!result) {
    ::unlink(candidate_path_.c_str());
    return Unexpected(result.error());
  }
  if (result->exit_code != 0) {
    ::unlink(candidate_path_.c_str());
    std::string message = Trim(result->out);
    if (message.rfind("bird: ", 0) == 0) message = message.substr(6);
    return InvalidArgument("bird rejected the configuration: " + message);
  }
  return OkStatus();
}

Status BirdSupervisor::CommitCandidate() {
  if (::rename(candidate_path_.c_str(), config_path_.c_str()) != 0) {
    return Unexpected(Error::FromErrno(errno, "rename " + candidate_path_ + " to " + config_path_));
  }
  return OkStatus();
}

Status BirdSupervisor::Stop() {
  std::lock_guard lock(mu_);
  return StopLocked();
}

Status BirdSupervisor::StopForRestart() {
  std::lock_guard lock(mu_);
  if (!RunningLocked()) return OkStatus();
  {
    std::ofstream marker(restart_marker_path_, std::ios::trunc);
    marker << "bird pid " << pid_ << " stopped for a graceful restart\n";
    if (!marker) return Internal("cannot write " + restart_marker_path_);
  }
  auto reply =
      RunSubprocess({.argv = {options_.birdc_binary, "-s", socket_path_, "graceful restart"}},
                    {.timeout = options_.command_timeout, .merge_stderr = true});
  if (!reply || reply->exit_code != 0) {
    CALICO_LOG(warn, "bird", "birdc graceful restart failed ({}): killing bird pid={}",
               reply ? Trim(reply->out) : reply.error().message(), pid_);
    ::kill(pid_, SIGKILL);
  }
  AwaitExitOrKillLocked(
      fmt::format("still runs {} ms after graceful restart", options_.stop_timeout.count()));
  ::unlink(socket_path_.c_str());
  CALICO_LOG(info, "bird", "bird stopped for a graceful restart ({})", last_exit_);
  return OkStatus();
}

void BirdSupervisor::AwaitExitOrKillLocked(std::string_view why_kill) {
  const auto deadline = std::chrono::steady_clock::now() + options_.stop_timeout;
  while (RunningLocked() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kPollInterval);
  }
  if (pid_ == 0) return;
  CALICO_LOG(warn, "bird", "bird pid={} {}: SIGKILL", pid_, why_kill);
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  last_exit_ = DescribeWaitStatus(status);
  pid_ = 0;
}

Status BirdSupervisor::KillStaleLocked() {
  std::ifstream in(pid_path_);
  std::string text;
  if (!std::getline(in, text)) return OkStatus();
  const Result<pid_t> recorded = ParseInt<pid_t>(StrTrim(text));
  if (!recorded || *recorded <= 0 || *recorded == pid_) return OkStatus();
  const pid_t stale = *recorded;
  const std::vector<std::string> argv = ProcessArgv(stale);
  if (argv.empty() || ProcessGone(stale)) return OkStatus();
  if (fs::path(argv[0]).filename().string().rfind("bird", 0) != 0) return OkStatus();
  bool serves_our_socket = false;
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == "-s" && argv[i + 1] == socket_path_) serves_our_socket = true;
  }
  if (!serves_our_socket) return OkStatus();  // Another bird's pid (reused): not ours to signal.
  CALICO_LOG(warn, "bird",
             "bird pid={} was left running on {} by an earlier calico-node: killing it (its peers "
             "keep the routes for the graceful restart)",
             stale, socket_path_);
  if (::kill(stale, SIGKILL) != 0 && errno != ESRCH) {
    return Unexpected(Error::FromErrno(errno, "SIGKILL stale bird pid " + std::to_string(stale)));
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.stop_timeout;
  while (!ProcessGone(stale)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Internal("stale bird pid " + std::to_string(stale) + " did not exit after SIGKILL");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  killed_stale_pid_ = stale;
  return OkStatus();
}

bool BirdSupervisor::recovering() {
  std::lock_guard lock(mu_);
  return recovering_;
}

pid_t BirdSupervisor::killed_stale_pid() {
  std::lock_guard lock(mu_);
  return killed_stale_pid_;
}

Status BirdSupervisor::StopLocked() {
  if (pid_ == 0) return OkStatus();
  if (RunningLocked()) {
    if (::kill(pid_, SIGTERM) != 0 && errno != ESRCH) {
      return Unexpected(Error::FromErrno(errno, "SIGTERM bird pid " + std::to_string(pid_)));
    }
    AwaitExitOrKillLocked(fmt::format("ignored SIGTERM for {} ms", options_.stop_timeout.count()));
  }
  ::unlink(socket_path_.c_str());
  ::unlink(pid_path_.c_str());
  ::unlink(restart_marker_path_.c_str());  // Withdrawn: nothing to recover.
  CALICO_LOG(info, "bird", "bird stopped ({})", last_exit_);
  return OkStatus();
}

bool BirdSupervisor::Running() {
  std::lock_guard lock(mu_);
  return RunningLocked();
}

bool BirdSupervisor::RunningLocked() {
  if (pid_ == 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    last_exit_ = DescribeWaitStatus(status);
  } else {
    last_exit_ = "reaped elsewhere";  // ECHILD: a SIGCHLD handler collected it.
  }
  pid_ = 0;
  return false;
}

Status BirdSupervisor::EnsureRunning() {
  std::lock_guard lock(mu_);
  if (RunningLocked()) return OkStatus();
  if (!good_config_) return InvalidArgument("bird was never started: nothing to restart");
  CALICO_LOG(warn, "bird", "bird is not running ({}): restarting it", last_exit_);
  ::unlink(socket_path_.c_str());
  RETURN_IF_ERROR(WriteFileAtomically(config_path_, *good_config_));
  const std::string text = *good_config_;
  return StartLocked(text, /*recovery=*/true);
}

pid_t BirdSupervisor::pid() {
  std::lock_guard lock(mu_);
  RunningLocked();
  return pid_;
}

std::string BirdSupervisor::current_config() {
  std::lock_guard lock(mu_);
  return good_config_.value_or("");
}

std::string BirdSupervisor::LogTail() const {
  std::ifstream in(log_path_, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr size_t kMax = 2000;
  if (text.size() > kMax) text = "..." + text.substr(text.size() - kMax);
  text = Trim(text);
  return text.empty() ? "(" + log_path_ + " is empty)" : text;
}

}  // namespace calico::bird
