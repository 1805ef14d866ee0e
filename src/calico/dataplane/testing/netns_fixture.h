// Test helpers for privileged tests: network namespaces this test creates (and always deletes)
// and commands run inside them. Never touches the root namespace. Target calico::dataplane_testing
// (tests and calico-bench only).
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "calico/base/numbers.h"
#include "calico/base/subprocess.h"

namespace calico::dataplane::testing {

// Runs a shell command line (test scripts are shell by design; they still go through the one
// runner); returns its exit status (128 + signal when killed, -1 when sh cannot run) and fills
// `out` with stdout and stderr.
inline int Sh(const std::string& cmd, std::string* out = nullptr) {
  auto ran = RunSubprocess({.argv = {"sh", "-c", cmd}}, {.merge_stderr = true});
  if (out != nullptr) *out = ran ? ran->out : ran.error().message();
  return ran ? ran->exit_code : -1;
}

inline std::string ShOut(const std::string& cmd) {
  std::string out;
  Sh(cmd, &out);
  return out;
}

// `ip netns add <prefix>-<pid>-<n>`; deleted (with everything in it) on destruction.
class ScopedNetns {
 public:
  explicit ScopedNetns(const std::string& prefix) {
    RemoveStale(prefix);
    static int counter = 0;
    name_ = prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    ok_ = Sh("ip netns add " + name_) == 0;
    if (ok_) Sh("ip -n " + name_ + " link set lo up");
  }
  ~ScopedNetns() {
    if (ok_) Sh("ip netns del " + name_);
  }
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  std::string path() const { return "/var/run/netns/" + name_; }
  // Runs a command inside the namespace.
  int Exec(const std::string& cmd, std::string* out = nullptr) const {
    return Sh("ip netns exec " + name_ + " " + cmd, out);
  }
  std::string ExecOut(const std::string& cmd) const {
    std::string out;
    Exec(cmd, &out);
    return out;
  }

  // Namespaces "<prefix>-<pid>-<n>" of test processes that died without cleaning up (a crash
  // skips destructors): removed so they do not pile up.
  static void RemoveStale(const std::string& prefix) {
    std::string list = [] {
      std::string out;
      Sh("ip netns list", &out);
      return out;
    }();
    size_t pos = 0;
    while ((pos = list.find(prefix + "-", pos)) != std::string::npos) {
      size_t end = list.find_first_of(" \n", pos);
      std::string name = list.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      pos += name.size();
      std::string rest = name.substr(prefix.size() + 1);
      size_t dash = rest.find('-');
      if (dash == std::string::npos) continue;
      Result<pid_t> pid = ParseInt<pid_t>(rest.substr(0, dash));
      if (!pid) continue;
      if (::kill(*pid, 0) != 0 && errno == ESRCH) Sh("ip netns del " + name);
    }
  }

 private:
  std::string name_;
  bool ok_ = false;
};

// A namespace playing a Calico host: forwarding on, an uplink (a veth; no dummy module here) with
// the host's address and a default route through it (proxy ARP answers only for destinations the
// host has a route to).
inline bool MakeHost(const ScopedNetns& host, const std::string& host_ip = "10.99.0.1") {
  return host.Exec("sysctl -qw net.ipv4.ip_forward=1") == 0 &&
         host.Exec("sysctl -qw net.ipv6.conf.all.forwarding=1") == 0 &&
         host.Exec("ip link add uplink0 type veth peer name uplink1") == 0 &&
         host.Exec("ip link set uplink1 up") == 0 && host.Exec("ip link set uplink0 up") == 0 &&
         host.Exec("ip addr add " + host_ip + "/32 dev uplink0") == 0 &&
         host.Exec("ip route add default dev uplink0") == 0 &&
         host.Exec("ip -6 route add default dev uplink0") == 0;
}

}  // namespace calico::dataplane::testing
