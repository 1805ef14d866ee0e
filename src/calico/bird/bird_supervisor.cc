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

#include "calico/base/log.h"
#include "calico/bird/subprocess.h"

namespace calico::bird {
namespace {

namespace fs = std::filesystem;

constexpr int kSetnsFailed = 126;
constexpr std::chrono::milliseconds kPollInterval{20};

std::string JoinPath(const std::string& dir, const char* file) {
  return (fs::path(dir) / file).string();
}

// Writes `text` to `path` through `path`.tmp and rename(2), so readers see the old or the new file.
// BIRD's configuration may hold BGP passwords: owner-only whatever the umask.
Status WriteOwnerOnly(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Unexpected(Error::FromErrno(errno, "cannot write " + path));
  ::fchmod(fd, 0600);  // an existing file keeps its mode through O_CREAT
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return Unexpected(Error::FromErrno(err, "cannot write " + path));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Unexpected(Error::FromErrno(errno, "cannot write " + path));
  return OkStatus();
}

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  RETURN_IF_ERROR(WriteOwnerOnly(tmp, text));
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
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
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
  ::close(fd);
  return ok;
}

BirdSupervisor::BirdSupervisor(BirdSupervisorOptions options)
    : options_(std::move(options)),
      config_path_(JoinPath(options_.run_dir, "bird.conf")),
      candidate_path_(JoinPath(options_.run_dir, "bird.conf.new")),
      socket_path_(JoinPath(options_.run_dir, "bird.ctl")),
      pid_path_(JoinPath(options_.run_dir, "bird.pid")),
      log_path_(JoinPath(options_.run_dir, "bird.log")) {}

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
  if (BirdSocketAnswers(socket_path_, std::chrono::milliseconds(200))) {
    // A bird of this run directory outlives a calico-node killed with SIGKILL (it is not our
    // child any more, and keeps its sessions and routes). Adopt it rather than failing: the
    // restarted node reconfigures it and traffic through its routes never stops (Calico's runit
    // restarts felix without touching bird).
    const pid_t left = AdoptablePid();
    if (left == 0) return AlreadyExists("another bird already answers on " + socket_path_);
    pid_ = left;
    adopted_ = true;
    CALICO_LOG(warn, "bird", "adopting bird pid={} left running by an earlier calico-node ({})",
               left, socket_path_);
    Status st = ReconfigureLocked(config_text);
    if (!st) {
      // It runs with a configuration we did not give it and refuses ours: replace it.
      CALICO_LOG(warn, "bird", "adopted bird pid={} refused the configuration ({}): restarting it",
                 left, st.error().message());
      RETURN_IF_ERROR(StopLocked());
      RETURN_IF_ERROR(CheckCandidate(config_text));
      RETURN_IF_ERROR(CommitCandidate());
      return StartLocked(config_text);
    }
    return OkStatus();
  }
  RETURN_IF_ERROR(CheckCandidate(config_text));
  RETURN_IF_ERROR(CommitCandidate());
  RETURN_IF_ERROR(StartLocked(config_text));
  return OkStatus();
}

pid_t BirdSupervisor::AdoptablePid() const {
  std::ifstream in(pid_path_);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return 0;
  const std::string proc = "/proc/" + std::to_string(pid);
  std::ifstream comm_in(proc + "/comm");
  std::string comm;
  std::getline(comm_in, comm);
  if (comm != fs::path(options_.bird_binary).filename().string().substr(0, 15)) return 0;
  // In the namespace we run bird in (a reused PID elsewhere is not ours).
  struct stat want {};
  struct stat got {};
  const std::string ns = options_.netns_path.empty() ? "/proc/self/ns/net" : options_.netns_path;
  if (::stat(ns.c_str(), &want) != 0 || ::stat((proc + "/ns/net").c_str(), &got) != 0) return 0;
  if (want.st_ino != got.st_ino || want.st_dev != got.st_dev) return 0;
  return static_cast<pid_t>(pid);
}

Status BirdSupervisor::StartLocked(const std::string& config_text) {
  int netns_fd = -1;
  if (!options_.netns_path.empty()) {
    netns_fd = ::open(options_.netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0) {
      const int err = errno;
      if (err == ENOENT)
        return NotFound("network namespace " + options_.netns_path + " does not exist");
      return Unexpected(Error::FromErrno(err, "open " + options_.netns_path));
    }
  }
  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    const int err = errno;
    if (netns_fd >= 0) ::close(netns_fd);
    return Unexpected(Error::FromErrno(err, "open " + log_path_));
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  const std::vector<std::string> argv = {options_.bird_binary, "-f", "-c",     config_path_, "-s",
                                         socket_path_,         "-P", pid_path_};
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  static constexpr std::string_view kSetnsMessage = "calico: cannot enter the network namespace\n";

  ::unlink(pid_path_.c_str());
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) {
      [[maybe_unused]] ssize_t w = ::write(log_fd, kSetnsMessage.data(), kSetnsMessage.size());
      ::_exit(kSetnsFailed);
    }
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
    // bird creates its control socket with the umask: anyone who can connect can reconfigure or
    // stop BGP, so the socket is root-only whatever umask calico-node was started with.
    ::umask(077);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  const int fork_errno = errno;
  if (netns_fd >= 0) ::close(netns_fd);
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) return Unexpected(Error::FromErrno(fork_errno, "fork for bird"));
  pid_ = pid;
  CALICO_LOG(info, "bird", "started bird pid={} config={} socket={}", pid, config_path_,
             socket_path_);

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
  return ReconfigureLocked(config_text);
}

Status BirdSupervisor::ReconfigureLocked(const std::string& config_text) {
  RETURN_IF_ERROR(CheckCandidate(config_text));
  RETURN_IF_ERROR(CommitCandidate());
  auto restore = [&]() -> Status {
    if (good_config_) return WriteFileAtomically(config_path_, *good_config_);
    return OkStatus();
  };
  auto reply = RunCommand({options_.birdc_binary, "-s", socket_path_, "configure"},
                          options_.command_timeout);
  if (!reply || reply->exit_code != 0) {
    (void)restore();
    const std::string why = reply ? Trim(reply->output) : reply.error().message();
    return Unavailable("birdc configure failed: " + why);
  }
  const std::string& out = reply->output;
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
  RETURN_IF_ERROR(WriteOwnerOnly(candidate_path_, text));
  auto result =
      RunCommand({options_.bird_binary, "-p", "-c", candidate_path_}, options_.command_timeout);
  if (!result) {
    ::unlink(candidate_path_.c_str());
    return Unexpected(result.error());
  }
  if (result->exit_code != 0) {
    ::unlink(candidate_path_.c_str());
    std::string message = Trim(result->output);
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

Status BirdSupervisor::StopLocked() {
  if (pid_ == 0) return OkStatus();
  if (RunningLocked()) {
    if (::kill(pid_, SIGTERM) != 0 && errno != ESRCH) {
      return Unexpected(Error::FromErrno(errno, "SIGTERM bird pid " + std::to_string(pid_)));
    }
    const auto deadline = std::chrono::steady_clock::now() + options_.stop_timeout;
    while (RunningLocked() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(kPollInterval);
    }
    if (pid_ != 0) {
      CALICO_LOG(warn, "bird", "bird pid={} ignored SIGTERM for {} ms: SIGKILL", pid_,
                 options_.stop_timeout.count());
      ::kill(pid_, SIGKILL);
      if (adopted_) {  // not our child: wait for it to disappear
        const auto kill_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (RunningLocked() && std::chrono::steady_clock::now() < kill_deadline) {
          std::this_thread::sleep_for(kPollInterval);
        }
      } else {
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        last_exit_ = DescribeWaitStatus(status);
      }
      pid_ = 0;
      adopted_ = false;
    }
  }
  ::unlink(socket_path_.c_str());
  ::unlink(pid_path_.c_str());
  CALICO_LOG(info, "bird", "bird stopped ({})", last_exit_);
  return OkStatus();
}

bool BirdSupervisor::Running() {
  std::lock_guard lock(mu_);
  return RunningLocked();
}

bool BirdSupervisor::RunningLocked() {
  if (pid_ == 0) return false;
  if (adopted_) {
    // Alive, not a zombie, and still bird (its parent, not us, reaps it).
    std::ifstream stat_in("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat_line;
    std::getline(stat_in, stat_line);
    const size_t paren = stat_line.rfind(')');
    const char state =
        paren != std::string::npos && paren + 2 < stat_line.size() ? stat_line[paren + 2] : 'X';
    if (state != 'Z' && state != 'X' && ::kill(pid_, 0) == 0) return true;
    last_exit_ = "adopted bird exited";
    pid_ = 0;
    adopted_ = false;
    return false;
  }
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
  return StartLocked(text);
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
