// HostLock: the host-wide IPAM lock of Calico's CNI plugin (cni-plugin/pkg/ipamplugin/
// ipam_plugin.go acquireIPAMLockBestEffort, ipam_lock_linux.go: /var/run/calico/ipam.lock).
// Every IPAM client of one host (the calico-ipam plugin, the calico plugin's in-process IPAM,
// calico-libnetwork) holds it around an assignment or a release, so that one host's requests
// reach the datastore one at a time: the block count checked against maxBlocksPerHost cannot
// change under a request (libcalico-go lib/ipam/ipam.go autoAssign counts the host's blocks once,
// then claims), and concurrent ADDs do not all claim a new block at once.
//
// The lock is flock(2) on the file: released by the kernel when the holder exits, however it
// exits (kill -9 included), and exclusive between threads of one process too (each Acquire opens
// the file anew). Unlike upstream, failing to take it is an error rather than a warning: without
// it the block cap does not hold.
//
// Thread-safety: a HostLock is owned by one thread; Acquire may be called from any thread.
#pragma once

#include <string>

#include "calico/base/result.h"

namespace calico::ipam {

inline constexpr const char* kDefaultIpamLockFile = "/var/run/calico/ipam.lock";

class HostLock {
 public:
  // Blocks until the lock at `path` is held. A missing parent directory is created (0755), a
  // missing file is created 0600 whatever the umask.
  // Errors: kPermissionDenied / kNotFound / kInternal naming the path ("cannot take the host-wide
  // IPAM lock /var/run/calico/ipam.lock: Permission denied").
  [[nodiscard]] static Result<HostLock> Acquire(const std::string& path);

  HostLock(HostLock&& other) noexcept;
  HostLock& operator=(HostLock&& other) noexcept;
  HostLock(const HostLock&) = delete;
  HostLock& operator=(const HostLock&) = delete;
  ~HostLock();  // Releases the lock.

  const std::string& path() const { return path_; }

 private:
  HostLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace calico::ipam
