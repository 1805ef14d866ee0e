#include "calico/dataplane/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>

namespace calico::dataplane {

Result<NetnsFd> NetnsFd::Open(std::string_view path) {
  std::string p(path);
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Unexpected(Error::FromErrno(errno, "open network namespace " + p));
  struct statfs st {};
  if (::fstatfs(fd.get(), &st) != 0 ||
      (st.f_type != static_cast<decltype(st.f_type)>(NSFS_MAGIC) &&
       st.f_type != static_cast<decltype(st.f_type)>(PROC_SUPER_MAGIC))) {
    return InvalidArgument(p + " is not a network namespace");
  }
  return NetnsFd(std::move(fd));
}

Result<NetnsFd> NetnsFd::Current() {
  // /proc/thread-self: the namespace of this thread, which may differ from the process's.
  return Open("/proc/thread-self/ns/net");
}

Status RunInNetns(const NetnsFd& ns, const std::function<Status()>& fn) {
  Status result = OkStatus();
  std::thread worker([&] {
    if (::setns(ns.fd(), CLONE_NEWNET) != 0) {
      result = Unexpected(Error::FromErrno(errno, "enter network namespace"));
      return;
    }
    result = fn();
  });
  worker.join();
  return result;
}

std::string InterfaceSysctl(std::string_view family_dir, std::string_view ifname,
                            std::string_view key) {
  std::string out = "net/";
  out += family_dir;
  out += "/conf/";
  out += ifname;
  out += "/";
  out += key;
  return out;
}

namespace {
std::string SysctlPath(std::string_view name) {
  std::string path = "/proc/sys/";
  // Dotted form (net.ipv4.ip_forward) becomes a path; a path form is kept as it is.
  if (name.find('/') == std::string_view::npos) {
    for (char c : name)
      path.push_back(c == '.' ? '/' : c);
  } else {
    path += name;
  }
  return path;
}
}  // namespace

Status WriteSysctl(std::string_view name, std::string_view value) {
  std::string path = SysctlPath(name);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return Unexpected(Error::FromErrno(errno, "sysctl " + path));
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  int err = errno;
  fd.reset();
  if (n < 0) return Unexpected(Error::FromErrno(err, "sysctl " + path + "=" + std::string(value)));
  return OkStatus();
}

Result<std::string> ReadSysctl(std::string_view name) {
  std::string path = SysctlPath(name);
  std::ifstream in(path);
  if (!in) return NotFound("sysctl " + path + " not found");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string v = ss.str();
  while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
    v.pop_back();
  return v;
}

}  // namespace calico::dataplane
