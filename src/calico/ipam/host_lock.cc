// The host-wide IPAM lock (cni-plugin/pkg/ipamplugin/ipam_plugin.go); see host_lock.h.
#include "calico/ipam/host_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <utility>

#include "calico/base/unique_fd.h"

namespace calico::ipam {

Result<HostLock> HostLock::Acquire(const std::string& path) {
  auto fail = [&](int err) {
    return Unexpected(Error::FromErrno(err, "cannot take the host-wide IPAM lock " + path));
  };
  if (path.empty()) return InvalidArgument("the host-wide IPAM lock file name is empty");
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(parent, ec)) {
      std::filesystem::create_directories(parent, ec);
      if (ec) return fail(ec.value());
      ::chmod(parent.c_str(), 0755);  // not the umask's choice
    }
  }
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return fail(errno);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    return fail(errno);
  }
  return HostLock(fd.release(), path);
}

HostLock::HostLock(HostLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

HostLock& HostLock::operator=(HostLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

HostLock::~HostLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace calico::ipam
