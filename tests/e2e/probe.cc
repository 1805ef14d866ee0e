// calico-probe: a tiny TCP/UDP echo server and client for the policy e2e tests (busybox's nc has
// no UDP).
//   calico-probe serve tcp|udp PORT          echo every message back, until killed
//   calico-probe connect tcp|udp ADDR PORT [TIMEOUT_MS]
//                                            exit 0 when the echo comes back, 3 when the network
//                                            refused the connection (a TCP reset or an ICMP
//                                            unreachable: a Reject), 1 otherwise (no answer)
//   calico-probe hold ADDR PORT SECONDS      one TCP connection echoing every 100 ms; 0 if unbroken
//   calico-probe matrix TIMEOUT_MS ADDR:PORT...
//                                            TCP echo to every target at once; prints one line of
//                                            1 (reached) / 0 (not) per target, in order
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

bool Resolve(const char* addr, int port, sockaddr_storage* ss, socklen_t* len) {
  std::memset(ss, 0, sizeof(*ss));
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(*v4);
    return true;
  }
  if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(*v6);
    return true;
  }
  return false;
}

int Serve(bool tcp, int port) {
  int fd = ::socket(AF_INET6, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
  int zero = 0, one = 1;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(static_cast<uint16_t>(port));
  a.sin6_addr = in6addr_any;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    std::perror("bind");
    return 1;
  }
  char buf[2048];
  if (!tcp) {
    while (true) {
      sockaddr_storage from{};
      socklen_t flen = sizeof(from);
      ssize_t n = ::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &flen);
      if (n > 0)
        ::sendto(fd, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), flen);
    }
  }
  ::listen(fd, 64);
  while (true) {
    int c = ::accept(fd, nullptr, nullptr);
    if (c < 0) continue;
    std::thread([c] {
      char b[2048];
      ssize_t n;
      while ((n = ::read(c, b, sizeof(b))) > 0) {
        if (::write(c, b, static_cast<size_t>(n)) < 0) break;
      }
      ::close(c);
    }).detach();
  }
}

int Connect(bool tcp, const char* addr, int port, int timeout_ms) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (!Resolve(addr, port, &ss, &len)) {
    std::fprintf(stderr, "calico-probe: bad address %s\n", addr);
    return 2;
  }
  int fd = ::socket(ss.ss_family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ? 3 : 1;
  }
  const char msg[] = "calico-probe";
  for (int attempt = 0; attempt < (tcp ? 1 : 3);
       ++attempt) {  // UDP may lose the first packet (ARP)
    if (::send(fd, msg, sizeof(msg), 0) < 0) return 1;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, tcp ? timeout_ms : timeout_ms / 3) == 1) {
      char buf[64];
      if (::recv(fd, buf, sizeof(buf), 0) == static_cast<ssize_t>(sizeof(msg))) return 0;
    }
  }
  return 1;
}

// One TCP connection kept for `seconds`, an echo every 100 ms: exit 0 only if none was lost.
int Hold(const char* addr, int port, int seconds) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (!Resolve(addr, port, &ss, &len)) return 2;
  int fd = ::socket(ss.ss_family, SOCK_STREAM, 0);
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return 1;
  const char msg[] = "held";
  for (int i = 0; i < seconds * 10; ++i) {
    char buf[16];
    if (::send(fd, msg, sizeof(msg), 0) < 0) return 1;
    if (::recv(fd, buf, sizeof(buf), 0) != static_cast<ssize_t>(sizeof(msg))) {
      std::fprintf(stderr, "calico-probe: the held connection broke after %d ms\n", i * 100);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}

// Every target probed at once (a thread each), so a row of a policy truth table takes one
// timeout at most.
int Matrix(int timeout_ms, int argc, char** argv) {
  std::vector<int> results(static_cast<size_t>(argc), 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < argc; ++i) {
    threads.emplace_back([&, i] {
      std::string target = argv[i];
      auto colon = target.rfind(':');
      if (colon == std::string::npos) return;
      std::string addr = target.substr(0, colon);
      int port = std::atoi(target.c_str() + colon + 1);
      results[static_cast<size_t>(i)] = Connect(true, addr.c_str(), port, timeout_ms) == 0 ? 1 : 0;
    });
  }
  for (auto& t : threads)
    t.join();
  std::string line;
  for (int r : results)
    line += (line.empty() ? "" : " ") + std::to_string(r);
  std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "matrix") {
    return Matrix(std::atoi(argv[2]), argc - 3, argv + 3);
  }
  if (argc >= 5 && std::string(argv[1]) == "hold") {
    return Hold(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  }
  if (argc >= 4 && std::string(argv[1]) == "serve") {
    return Serve(std::string(argv[2]) == "tcp", std::atoi(argv[3]));
  }
  if (argc >= 5 && std::string(argv[1]) == "connect") {
    return Connect(std::string(argv[2]) == "tcp", argv[3], std::atoi(argv[4]),
                   argc > 5 ? std::atoi(argv[5]) : 1500);
  }
  std::fprintf(stderr,
               "usage: calico-probe serve tcp|udp PORT | connect tcp|udp ADDR PORT [TIMEOUT_MS]\n");
  return 2;
}
