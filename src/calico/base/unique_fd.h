// UniqueFd: sole owner of a file descriptor, closed when the owner goes (std::unique_ptr for
// fds; Android's unique_fd). Move-only.
//
//   UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
//   if (!fd) return Unexpected(Error::FromErrno(errno, "open " + path));
//   ::read(fd.get(), ...);
//
// Thread-safety: like any value; one owner at a time.
#pragma once

#include <unistd.h>

#include <utility>

namespace calico {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return fd_ >= 0; }

  // Gives up ownership: the caller closes the returned fd.
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }
  // Closes the fd held (if any) and holds `fd` instead.
  void reset(int fd = -1) {
    const int old = std::exchange(fd_, fd);
    // close(2) releases the descriptor even when it reports an error (EINTR included on Linux),
    // so there is nothing to retry and nothing the owner could do about it.
    if (old >= 0) (void)::close(old);
  }

 private:
  int fd_ = -1;
};

}  // namespace calico
