// calico-bench connect-rate. See connect_rate.h.
#include "connect_rate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "calico/dataplane/netns.h"

namespace calico::bench {

Result<double> MeasureConnectRate(const char* server_ns, const char* client_ns, const char* ip,
                                  int port, double seconds) {
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
      if (c >= 0) close(c);
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
      if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) ++done;
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
