// calico-bench connect-rate. See connect_rate.h.
#include "connect_rate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "calico/dataplane/netns.h"

namespace calico::bench {

namespace {

// The request and the response of a request/response connection (netperf TCP_CRR sends one byte
// each way by default; these are the size of a small HTTP exchange).
constexpr size_t kRequestBytes = 64;
constexpr size_t kResponseBytes = 128;

// Reads exactly `n` bytes (false on EOF or error).
bool ReadFull(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

bool WriteFull(int fd, const char* buf, size_t n) {
  size_t put = 0;
  while (put < n) {
    const ssize_t w = write(fd, buf + put, n - put);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    put += static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Result<double> MeasureConnectRate(const char* server_ns, const char* client_ns, const char* ip,
                                  int port, double seconds, bool request) {
  ASSIGN_OR_RETURN(dataplane::NetnsFd server, dataplane::NetnsFd::Open(server_ns));
  ASSIGN_OR_RETURN(dataplane::NetnsFd client, dataplane::NetnsFd::Open(client_ns));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, ip, &addr.sin_addr) != 1) {
    return InvalidArgument(fmt::format("not an IPv4 address: \"{}\"", ip));
  }
  int listener = -1;
  RETURN_IF_ERROR(dataplane::RunInNetns(server, [&]() -> Status {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) return Unavailable(fmt::format("socket: {}", std::strerror(errno)));
    const int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(listener, reinterpret_cast<const sockaddr*>(&any), sizeof(any)) != 0 ||
        listen(listener, 4096) != 0) {
      return Unavailable(fmt::format("listen on :{}: {}", port, std::strerror(errno)));
    }
    return OkStatus();
  }));
  std::atomic<bool> stop{false};
  std::thread acceptor([&] {
    while (!stop) {
      pollfd p{.fd = listener, .events = POLLIN, .revents = 0};
      if (poll(&p, 1, 100) != 1) continue;
      const int c = accept(listener, nullptr, nullptr);
      if (c < 0) continue;
      if (request) {
        // Answer the request, then wait for the client to close (it resets: no TIME_WAIT on
        // either side).
        std::array<char, kResponseBytes> buf{};
        if (ReadFull(c, buf.data(), kRequestBytes) && WriteFull(c, buf.data(), kResponseBytes)) {
          // 0 or ECONNRESET: the client is done either way.
          const ssize_t end = read(c, buf.data(), 1);
          static_cast<void>(end);
        }
      }
      close(c);
    }
  });
  uint64_t done = 0;
  double elapsed = 0;
  Status ran = dataplane::RunInNetns(client, [&]() -> Status {
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return Unavailable(fmt::format("socket: {}", std::strerror(errno)));
      const linger lg{.l_onoff = 1, .l_linger = 0};  // Close with a reset: no TIME_WAIT.
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
        std::array<char, kResponseBytes> buf{};
        if (!request || (WriteFull(fd, buf.data(), kRequestBytes) &&
                         ReadFull(fd, buf.data(), kResponseBytes))) {
          ++done;
        }
      }
      close(fd);
    }
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return OkStatus();
  });
  stop = true;
  acceptor.join();
  close(listener);
  RETURN_IF_ERROR(std::move(ran));
  if (done == 0) return Unavailable(fmt::format("no connection to {}:{} completed", ip, port));
  return static_cast<double>(done) / elapsed;
}

}  // namespace calico::bench
