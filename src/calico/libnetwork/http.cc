// HTTP/1.1 over AF_UNIX for the Docker plugin protocol (docker/go-plugins-helpers serves the same
// over net/http on /run/docker/plugins/<name>.sock).
#include "calico/libnetwork/http.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "calico/base/log.h"

namespace calico::libnetwork {
namespace {

constexpr size_t kMaxHeader = 64 * 1024;

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string_view::npos ? "" : std::string(s.substr(b, e - b + 1));
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

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads more bytes into `buf`; false on EOF or error.
bool ReadMore(int fd, std::string& buf) {
  char chunk[16384];
  for (;;) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

enum class ParseState { kOk, kClosed, kBad, kTooLarge };

struct Message {
  std::string start_line;
  std::map<std::string, std::string> headers;
  std::string body;
};

// Reads one message (request or response) from fd, `buf` holding bytes already read.
ParseState ReadMessage(int fd, std::string& buf, size_t max_body, Message& out) {
  size_t end = 0;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > kMaxHeader) return ParseState::kTooLarge;
    if (!ReadMore(fd, buf)) return buf.empty() ? ParseState::kClosed : ParseState::kBad;
  }
  std::string head = buf.substr(0, end);
  buf.erase(0, end + 4);
  size_t eol = head.find("\r\n");
  out.start_line = head.substr(0, eol);
  out.headers.clear();
  while (eol != std::string::npos) {
    size_t next = head.find("\r\n", eol + 2);
    std::string line =
        head.substr(eol + 2, next == std::string::npos ? std::string::npos : next - eol - 2);
    eol = next;
    size_t colon = line.find(':');
    if (colon == std::string::npos) return ParseState::kBad;
    out.headers[Lower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  out.body.clear();
  auto te = out.headers.find("transfer-encoding");
  if (te != out.headers.end() && Lower(te->second).find("chunked") != std::string::npos) {
    for (;;) {
      size_t le = 0;
      while ((le = buf.find("\r\n")) == std::string::npos) {
        if (buf.size() > kMaxHeader) return ParseState::kBad;
        if (!ReadMore(fd, buf)) return ParseState::kBad;
      }
      size_t size = 0;
      try {
        size = std::stoul(buf.substr(0, le), nullptr, 16);
      } catch (const std::exception&) {
        return ParseState::kBad;
      }
      buf.erase(0, le + 2);
      if (out.body.size() + size > max_body) return ParseState::kTooLarge;
      while (buf.size() < size + 2) {
        if (!ReadMore(fd, buf)) return ParseState::kBad;
      }
      if (size == 0) {
        // Trailers are not used by Docker; the terminating CRLF follows (or trailer lines).
        while (buf.find("\r\n") != 0) {
          size_t t = buf.find("\r\n");
          if (t == std::string::npos) {
            if (!ReadMore(fd, buf)) return ParseState::kBad;
            continue;
          }
          buf.erase(0, t + 2);
        }
        buf.erase(0, 2);
        return ParseState::kOk;
      }
      out.body.append(buf, 0, size);
      buf.erase(0, size + 2);
    }
  }
  size_t length = 0;
  auto cl = out.headers.find("content-length");
  if (cl != out.headers.end()) {
    try {
      size_t pos = 0;
      unsigned long long v = std::stoull(cl->second, &pos, 10);
      if (pos != cl->second.size()) return ParseState::kBad;
      if (v > max_body) return ParseState::kTooLarge;
      length = static_cast<size_t>(v);
    } catch (const std::exception&) {
      return ParseState::kBad;
    }
  }
  while (buf.size() < length) {
    if (!ReadMore(fd, buf)) return ParseState::kBad;
  }
  out.body = buf.substr(0, length);
  buf.erase(0, length);
  return ParseState::kOk;
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 500:
      return "Internal Server Error";
    default:
      return "Status";
  }
}

std::string Render(const HttpResponse& r, bool close) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", r.status, Reason(r.status));
  if (!r.content_type.empty()) out += "Content-Type: " + r.content_type + "\r\n";
  out += fmt::format("Content-Length: {}\r\n", r.body.size());
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  out += r.body;
  return out;
}

}  // namespace

UnixHttpServer::UnixHttpServer(Options options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

UnixHttpServer::~UnixHttpServer() {
  Stop();
}

Status UnixHttpServer::Start() {
  if (options_.listen_fd >= 0) return StartInherited();
  ASSIGN_OR_RETURN(sockaddr_un addr, UnixAddr(options_.socket_path));
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(options_.socket_path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  struct stat st {};
  if (::lstat(options_.socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return AlreadyExists(fmt::format("{} exists and is not a socket", options_.socket_path));
    }
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live =
        probe >= 0 && ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
    if (probe >= 0) ::close(probe);
    if (live) {
      return AlreadyExists(fmt::format("another server is listening on {}", options_.socket_path));
    }
    ::unlink(options_.socket_path.c_str());  // stale: left by a server that died
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
    return Unexpected(Error::FromErrno(bind_errno, "bind " + options_.socket_path));
  }
  if (::chmod(options_.socket_path.c_str(), options_.mode) != 0 || ::listen(fd, 64) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(options_.socket_path.c_str());
    return Unexpected(Error::FromErrno(err, "listen on " + options_.socket_path));
  }
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(options_.socket_path.c_str());
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
  CALICO_LOG(info, "libnetwork", "listening on {}", options_.socket_path);
  return OkStatus();
}

Status UnixHttpServer::StartInherited() {
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
  if (::pipe2(wake_, O_CLOEXEC) != 0) return Unexpected(Error::FromErrno(errno, "pipe"));
  listen_fd_ = fd;
  options_.listen_fd = -1;  // Owned by listen_fd_ now.
  inherited_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
    stopped_ = false;
    finished_ = false;
  }
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  CALICO_LOG(info, "libnetwork", "accepting on the inherited socket (fd {}) for {}", fd,
             options_.socket_path);
  return OkStatus();
}

void UnixHttpServer::AcceptLoop() {
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
    auto conn = std::make_unique<Conn>();
    conn->fd = cfd;
    Conn* raw = conn.get();
    conns_.push_back(std::move(conn));
    raw->thread = std::thread([this, raw] { Serve(*raw); });
  }
}

void UnixHttpServer::ReapFinished() {
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

void UnixHttpServer::Serve(Conn& conn) {
  std::string buf;
  Message msg;
  for (;;) {
    ParseState state = ReadMessage(conn.fd, buf, options_.max_body, msg);
    if (state == ParseState::kClosed) break;
    if (state != ParseState::kOk) {
      HttpResponse bad;
      bad.status = state == ParseState::kTooLarge ? 413 : 400;
      bad.content_type = "application/json";
      bad.body = state == ParseState::kTooLarge ? R"({"Err":"request too large"})"
                                                : R"({"Err":"malformed HTTP request"})";
      (void)WriteAll(conn.fd, Render(bad, true));
      break;
    }
    HttpRequest req;
    size_t sp1 = msg.start_line.find(' ');
    size_t sp2 = msg.start_line.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1) {
      HttpResponse bad{400, "application/json", R"({"Err":"malformed HTTP request line"})"};
      (void)WriteAll(conn.fd, Render(bad, true));
      break;
    }
    req.method = msg.start_line.substr(0, sp1);
    req.path = msg.start_line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string version = msg.start_line.substr(sp2 + 1);
    req.headers = std::move(msg.headers);
    req.body = std::move(msg.body);
    auto connection = req.headers.find("connection");
    std::string conn_hdr = connection == req.headers.end() ? "" : Lower(connection->second);
    bool close = conn_hdr == "close" || (version == "HTTP/1.0" && conn_hdr != "keep-alive");
    HttpResponse resp;
    try {
      resp = handler_(req);
    } catch (const std::exception& e) {
      resp = HttpResponse{500, "application/json", nlohmann::json{{"Err", e.what()}}.dump()};
    }
    if (!WriteAll(conn.fd, Render(resp, close)) || close) break;
  }
  ::shutdown(conn.fd, SHUT_RDWR);
  conn.done.store(true);
}

void UnixHttpServer::Stop() {
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
      ::shutdown(c->fd, SHUT_RDWR);  // wakes a blocked recv
  }
  for (auto& c : conns) {
    c->thread.join();
    ::close(c->fd);
  }
  ::close(listen_fd_);
  listen_fd_ = -1;
  if (!inherited_) ::unlink(options_.socket_path.c_str());
  for (int& fd : wake_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  CALICO_LOG(info, "libnetwork", "stopped listening on {}", options_.socket_path);
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  stopped_cv_.notify_all();
}

void UnixHttpServer::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  stopped_cv_.wait(lock, [this] { return finished_; });
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<UnixHttpClient>> UnixHttpClient::Connect(const std::string& socket_path) {
  ASSIGN_OR_RETURN(sockaddr_un addr, UnixAddr(socket_path));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unexpected(Error::FromErrno(errno, "socket"));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    ::close(fd);
    return Unexpected(Error::FromErrno(err, "connect " + socket_path));
  }
  return std::unique_ptr<UnixHttpClient>(new UnixHttpClient(fd));
}

UnixHttpClient::~UnixHttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

Result<HttpReply> UnixHttpClient::Post(const std::string& path, const std::string& body,
                                       const std::string& content_type) {
  std::string req = fmt::format("POST {} HTTP/1.1\r\nHost: plugin\r\n", path);
  if (!content_type.empty()) req += "Content-Type: " + content_type + "\r\n";
  req += fmt::format("Content-Length: {}\r\n\r\n", body.size());
  req += body;
  return Raw(req);
}

Result<HttpReply> UnixHttpClient::Raw(const std::string& bytes) {
  if (!WriteAll(fd_, bytes)) return Unavailable("write to the plugin socket failed");
  Message msg;
  ParseState st = ReadMessage(fd_, buf_, 64u << 20, msg);
  if (st != ParseState::kOk) return Unavailable("no valid HTTP response from the plugin socket");
  HttpReply reply;
  size_t sp = msg.start_line.find(' ');
  if (sp == std::string::npos) return Unavailable("malformed status line: " + msg.start_line);
  try {
    reply.status = std::stoi(msg.start_line.substr(sp + 1, 3));
  } catch (const std::exception&) {
    return Unavailable("malformed status line: " + msg.start_line);
  }
  reply.headers = std::move(msg.headers);
  reply.body = std::move(msg.body);
  return reply;
}

}  // namespace calico::libnetwork
