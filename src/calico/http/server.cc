// The connection handling of server.h: Go http.Server's ReadTimeout / IdleTimeout / WriteTimeout
// as deadlines on poll(2), a cap on connections, a thread per connection.
#include "calico/http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "calico/base/log.h"

namespace calico::http {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

Result<sockaddr_un> UnixAddr(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument(fmt::format("invalid unix socket path \"{}\" (at most {} bytes)", path,
                                       sizeof(addr.sun_path) - 1));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

std::string HostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

}  // namespace

ParseResult ReadMessage(int fd, std::string& buf, const Limits& limits, bool is_response,
                        std::chrono::milliseconds first_byte, std::chrono::milliseconds rest) {
  bool started = !buf.empty();
  Clock::time_point deadline = Clock::now() + (started ? rest : first_byte);
  size_t search_from = 0;  // where to look for the end of the headers next time
  bool head_found = false;
  for (;;) {
    if (!buf.empty()) {
      if (!head_found) {
        const size_t end = buf.find("\r\n\r\n", search_from);
        head_found = end != std::string::npos;
        search_from = buf.size() >= 3 ? buf.size() - 3 : 0;
      }
      if (head_found || buf.size() > limits.max_header_bytes) {
        ParseResult r = ParseMessage(buf, limits, is_response);
        if (r.state == ParseState::kComplete) {
          buf.erase(0, r.consumed);
          return r;
        }
        if (r.state == ParseState::kBad) return r;
      }
    }
    const int wait_ms = RemainingMs(deadline);
    if (wait_ms == 0) {
      ParseResult r;
      r.status = 408;
      r.error = "timed out reading the request";
      // Idle (nothing of a request yet): close quietly. Part of one: 408.
      r.state = started ? ParseState::kBad : ParseState::kNeedMore;
      return r;
    }
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ParseResult{};
    if (n == 0) continue;  // the deadline check above ends it
    char chunk[16384];
    const ssize_t got = ::recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
    if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (got <= 0) return ParseResult{};  // closed (kNeedMore, status 0)
    buf.append(chunk, static_cast<size_t>(got));
    if (!started) {
      started = true;
      deadline = Clock::now() + rest;
    }
  }
}

bool WriteAll(int fd, std::string_view data, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    const int wait_ms = RemainingMs(deadline);
    if (wait_ms == 0) return false;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, wait_ms) < 0 && errno != EINTR) return false;
  }
  return true;
}

Server::Server(ServerOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

Server::~Server() {
  Stop();
}

Result<int> Server::ListenUnix() {
  const std::string& path = options_.unix_path;
  ASSIGN_OR_RETURN(sockaddr_un addr, UnixAddr(path));
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return AlreadyExists(fmt::format("{} exists and is not a socket", path));
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live =
        probe >= 0 && ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
    if (probe >= 0) ::close(probe);
    if (live) return AlreadyExists(fmt::format("another server is listening on {}", path));
    ::unlink(path.c_str());  // stale: left by a server that died
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unexpected(Error::FromErrno(errno, "socket"));
  // Bind under a restrictive umask so the socket is never reachable with wider permissions.
  mode_t old_mask = ::umask(0177);
  int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int bind_errno = errno;
  ::umask(old_mask);
  if (rc != 0) {
    ::close(fd);
    return Unexpected(Error::FromErrno(bind_errno, "bind " + path));
  }
  if (::chmod(path.c_str(), options_.unix_mode) != 0 || ::listen(fd, 128) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return Unexpected(Error::FromErrno(err, "listen on " + path));
  }
  return fd;
}

Result<int> Server::ListenTcp() {
  struct Candidate {
    int family;
    sockaddr_storage addr;
    socklen_t len;
  };
  std::vector<Candidate> candidates;
  const std::string& host = options_.host;
  if (host.empty()) {
    // Every address: IPv6 with IPv4-mapped addresses (Go's ":port"), else IPv4 only.
    Candidate v6{AF_INET6, {}, sizeof(sockaddr_in6)};
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&v6.addr);
    a6->sin6_family = AF_INET6;
    a6->sin6_addr = in6addr_any;
    a6->sin6_port = htons(static_cast<uint16_t>(options_.port));
    candidates.push_back(v6);
    Candidate v4{AF_INET, {}, sizeof(sockaddr_in)};
    auto* a4 = reinterpret_cast<sockaddr_in*>(&v4.addr);
    a4->sin_family = AF_INET;
    a4->sin_addr.s_addr = htonl(INADDR_ANY);
    a4->sin_port = htons(static_cast<uint16_t>(options_.port));
    candidates.push_back(v4);
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(options_.port);
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
      return Unavailable(fmt::format("cannot listen on {}: {}", HostPort(host, options_.port),
                                     ::gai_strerror(rc)));
    }
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      Candidate c{ai->ai_family, {}, ai->ai_addrlen};
      std::memcpy(&c.addr, ai->ai_addr, ai->ai_addrlen);
      candidates.push_back(c);
    }
    ::freeaddrinfo(res);
    // One address of the name, IPv4 first (Go's Listen on a host name).
    std::stable_sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
      return a.family == AF_INET && b.family != AF_INET;
    });
  }
  int last_errno = EADDRNOTAVAIL;
  for (const Candidate& c : candidates) {
    int fd = ::socket(c.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    int one = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (c.family == AF_INET6 && host.empty()) {
      int zero = 0;
      (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    }
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&c.addr), c.len) != 0 ||
        ::listen(fd, 128) != 0) {
      last_errno = errno;
      ::close(fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
      bound_port_ =
          ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    }
    return fd;
  }
  return Unexpected(
      Error::FromErrno(last_errno, "cannot listen on " + HostPort(host, options_.port)));
}

// An inherited listening socket (sd_listen_fds(3)): checked, then owned.
Result<int> Server::TakeInherited() {
  const int fd = options_.listen_fd;
  int type = 0;
  int listening = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
    return InvalidArgument(fmt::format("inherited descriptor {} is not a stream socket", fd));
  }
  len = sizeof(listening);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0) {
    return InvalidArgument(fmt::format("inherited socket {} is not listening", fd));
  }
  (void)::fcntl(fd, F_SETFD, FD_CLOEXEC);
  options_.listen_fd = -1;  // Owned by listen_fd_ from now on.
  inherited_ = true;
  return fd;
}

Status Server::Start() {
  ASSIGN_OR_RETURN(int fd, options_.listen_fd >= 0      ? TakeInherited()
                           : options_.unix_path.empty() ? ListenTcp()
                                                        : ListenUnix());
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(fd);
    if (!options_.unix_path.empty() && !inherited_) ::unlink(options_.unix_path.c_str());
    return Unexpected(Error::FromErrno(err, "pipe"));
  }
  listen_fd_ = fd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
    stopped_ = false;
    finished_ = false;
  }
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  CALICO_LOG(info, options_.name, "listening on {}{}",
             options_.unix_path.empty() ? HostPort(options_.host, bound_port_) : options_.unix_path,
             inherited_ ? fmt::format(" (inherited socket, fd {})", fd) : "");
  return OkStatus();
}

void Server::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (fds[1].revents & (POLLIN | POLLHUP)) != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int cfd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (cfd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) {
      ::close(cfd);
      return;
    }
    ReapFinished();
    if (conns_.size() >= options_.max_connections) {
      // At the cap: say so at once rather than queue behind slow clients.
      Response busy{503, "text/plain", "too many connections\n"};
      if (options_.error_response) busy = options_.error_response(503, "too many connections");
      // The connection is closed next either way; a client that is gone gets no answer.
      (void)WriteAll(cfd, RenderResponse(busy, true), std::chrono::milliseconds(100));
      ::close(cfd);
      continue;
    }
    auto conn = std::make_unique<Conn>();
    conn->fd = cfd;
    Conn* raw = conn.get();
    conns_.push_back(std::move(conn));
    ++active_;
    raw->thread = std::thread([this, raw] { Serve(*raw); });
  }
}

void Server::ReapFinished() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if ((*it)->done.load()) {
      (*it)->thread.join();
      ::close((*it)->fd);
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

void Server::Serve(Conn& conn) {
  std::string buf;
  for (;;) {
    ParseResult r = ReadMessage(conn.fd, buf, options_.limits, /*is_response=*/false,
                                options_.idle_timeout, options_.read_timeout);
    if (r.state == ParseState::kNeedMore) break;  // closed, or idle too long
    if (r.state == ParseState::kBad) {
      Response bad{r.status, "text/plain", r.error + "\n"};
      if (options_.error_response) bad = options_.error_response(r.status, r.error);
      // As above: the connection closes next either way.
      (void)WriteAll(conn.fd, RenderResponse(bad, true), options_.write_timeout);
      break;
    }
    Response resp;
    try {
      resp = handler_(r.request);
    } catch (const std::exception& e) {
      resp = Response{500, "text/plain", std::string(e.what()) + "\n"};
    }
    if (resp.stream) {
      ServeStream(conn, resp);
      break;
    }
    const bool close = WantsClose(r.request);
    if (!WriteAll(conn.fd, RenderResponse(resp, close), options_.write_timeout) || close) break;
  }
  ::shutdown(conn.fd, SHUT_RDWR);
  --active_;
  conn.done.store(true);
}

namespace {

class ConnWriter final : public StreamWriter {
 public:
  ConnWriter(int fd, std::chrono::milliseconds timeout, const std::atomic<bool>& stopping)
      : fd_(fd), timeout_(timeout), stopping_(stopping) {}
  bool Write(std::string_view data) override {
    if (!Open()) return false;
    ok_ = WriteAll(fd_, data, timeout_);
    return ok_;
  }
  bool Open() override {
    if (!ok_ || stopping_.load()) return false;
    pollfd p{.fd = fd_, .events = POLLIN | POLLRDHUP, .revents = 0};
    if (::poll(&p, 1, 0) > 0) {
      // Anything from the peer (it sends nothing more on a stream) or a hang-up ends it.
      char c = 0;
      if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0 || ::recv(fd_, &c, 1, MSG_PEEK) <= 0) {
        ok_ = false;
      }
    }
    return ok_;
  }

 private:
  int fd_;
  std::chrono::milliseconds timeout_;
  const std::atomic<bool>& stopping_;
  bool ok_ = true;
};

}  // namespace

void Server::ServeStream(Conn& conn, const Response& resp) {
  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", resp.status, ReasonPhrase(resp.status));
  if (!resp.content_type.empty()) head += fmt::format("Content-Type: {}\r\n", resp.content_type);
  head += "Cache-Control: no-cache\r\nConnection: close\r\n\r\n";
  if (!WriteAll(conn.fd, head, options_.write_timeout)) return;
  ConnWriter writer(conn.fd, options_.write_timeout, stopping_);
  try {
    resp.stream(writer);
  } catch (const std::exception& e) {
    CALICO_LOG(warn, options_.name, "stream ended: {}", e.what());
  }
}

void Server::Stop() {
  stopping_.store(true);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopped_) {
      if (!started_) finished_ = true;
      stopped_ = true;
      stopped_cv_.notify_all();
      return;
    }
    stopped_ = true;
    if (wake_[1] >= 0) (void)!::write(wake_[1], "x", 1);
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  std::list<std::unique_ptr<Conn>> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    conns.swap(conns_);
    for (auto& c : conns)
      ::shutdown(c->fd, SHUT_RDWR);  // wakes a blocked poll
  }
  for (auto& c : conns) {
    c->thread.join();
    ::close(c->fd);
  }
  ::close(listen_fd_);
  listen_fd_ = -1;
  if (!options_.unix_path.empty() && !inherited_) ::unlink(options_.unix_path.c_str());
  for (int& fd : wake_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  CALICO_LOG(info, options_.name, "stopped listening");
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  stopped_cv_.notify_all();
}

void Server::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  stopped_cv_.wait(lock, [this] { return finished_; });
}

}  // namespace calico::http
