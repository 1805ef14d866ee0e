// Test helper: real etcd members on loopback (free ports, a fresh data directory, stderr to a log
// beside it), killed by PID on destruction and never outliving the test process (PDEATHSIG).
// Used by the etcd clients' tests and by tests that drive whole binaries against etcd.
//
//   calico::testing::EtcdMember etcd(dir, "m0");      // one member, a cluster of its own
//   etcd.WaitUntilServing();                           // polls the client port
//   std::string url = etcd.client_url();               // http://127.0.0.1:NNNNN
//
// Thread-safety: one owner thread.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "calico/base/numbers.h"
#include "calico/base/subprocess.h"

namespace calico::testing {

// A TCP port on 127.0.0.1 that was free a moment ago.
inline int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// etcdctl (API v3) against `url` with `args` (argv, no shell), killed after 30 s: its exit code
// and output.
[[nodiscard]] inline Result<SubprocessOutput> RunEtcdctl(const std::string& url,
                                                         const std::vector<std::string>& args) {
  SubprocessSpec spec{.argv = {"etcdctl", "--endpoints=" + url}};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  Environment env = CurrentEnvironment();
  env["ETCDCTL_API"] = "3";
  spec.env = std::move(env);
  return RunSubprocess(spec, {.timeout = std::chrono::seconds(30)});
}

inline bool EtcdInstalled() {
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): tests set no env
  return !FindProgram("etcd", path == nullptr ? "" : path).empty();
}

class EtcdMember {
 public:
  // Starts member `name` of a one-member cluster with `extra_flags` appended (TLS flags, or
  // listen URLs that override the defaults when given: pass client_url to use its scheme).
  EtcdMember(std::filesystem::path dir, std::string name, std::vector<std::string> extra_flags = {},
             std::string scheme = "http")
      : dir_(std::move(dir)), name_(std::move(name)) {
    std::filesystem::create_directories(dir_);
    client_url_ = scheme + "://127.0.0.1:" + std::to_string(FreeLoopbackPort());
    std::string peer = "http://127.0.0.1:" + std::to_string(FreeLoopbackPort());
    std::vector<std::string> argv = {"etcd",
                                     "--name",
                                     name_,
                                     "--data-dir",
                                     (dir_ / (name_ + ".data")).string(),
                                     "--listen-client-urls",
                                     client_url_,
                                     "--advertise-client-urls",
                                     client_url_,
                                     "--listen-peer-urls",
                                     peer,
                                     "--initial-advertise-peer-urls",
                                     peer,
                                     "--initial-cluster",
                                     name_ + "=" + peer};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    log_ = (dir_ / (name_ + ".log")).string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
      if (std::freopen(log_.c_str(), "w", stderr) == nullptr) ::_exit(126);
      std::vector<char*> cargv;
      for (std::string& a : argv)
        cargv.push_back(a.data());
      cargv.push_back(nullptr);
      ::execvp("etcd", cargv.data());
      ::_exit(127);
    }
  }
  ~EtcdMember() { Kill(); }
  EtcdMember(const EtcdMember&) = delete;
  EtcdMember& operator=(const EtcdMember&) = delete;

  // True once the client port accepts connections (up to `timeout`), false if etcd exited.
  bool WaitUntilServing(std::chrono::milliseconds timeout = std::chrono::milliseconds(20000)) {
    Result<uint16_t> port = ParseInt<uint16_t>(client_url_.substr(client_url_.rfind(':') + 1));
    if (!port) return false;
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (pid_ <= 0 || ::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(*port);
      bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
      ::close(fd);
      if (ok) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  const std::string& client_url() const { return client_url_; }
  const std::string& log_path() const { return log_; }

 private:
  std::filesystem::path dir_;
  std::string name_;
  std::string client_url_;
  std::string log_;
  pid_t pid_ = -1;
};

}  // namespace calico::testing
