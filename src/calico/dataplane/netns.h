// Network namespaces: run a piece of work inside the namespace at a path (/var/run/netns/x,
// /proc/PID/ns/net) without moving the calling thread. setns(2) on a network namespace changes
// only the calling thread, so the work runs on a short-lived thread of its own (Calico's
// ns.WithNetNSPath with a locked OS thread).
//
// Thread-safety: RunInNetns may be called from any thread; `fn` runs on another thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "calico/base/result.h"
#include "calico/base/unique_fd.h"

namespace calico::dataplane {

// An open namespace file; closes it on destruction.
class NetnsFd {
 public:
  // kNotFound when the path does not exist; kInvalidArgument when it is not a network namespace.
  [[nodiscard]] static Result<NetnsFd> Open(std::string_view path);
  // The calling thread's own network namespace.
  [[nodiscard]] static Result<NetnsFd> Current();
  int fd() const { return fd_.get(); }

 private:
  explicit NetnsFd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// Runs `fn` on a new thread that has entered `ns`; returns fn's status (or the setns error).
[[nodiscard]] Status RunInNetns(const NetnsFd& ns, const std::function<Status()>& fn);

// Writes a sysctl in the calling thread's network namespace: "net.ipv4.conf.cali1.proxy_arp".
// The path keeps the interface name whole (names may contain dots).
[[nodiscard]] Status WriteSysctl(std::string_view path_under_proc_sys, std::string_view value);
[[nodiscard]] Result<std::string> ReadSysctl(std::string_view path_under_proc_sys);
// "net/ipv4/conf/<ifname>/<key>"
std::string InterfaceSysctl(std::string_view family_dir, std::string_view ifname,
                            std::string_view key);

}  // namespace calico::dataplane
