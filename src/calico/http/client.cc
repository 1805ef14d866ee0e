#include "calico/http/client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "calico/base/numbers.h"

namespace calico::http {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

// The reasons OpenSSL queued for the last failure, oldest first ("certificate verify failed").
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ::ERR_get_error()) {
    char buf[256];
    ::ERR_error_string_n(e, buf, sizeof(buf));
    const char* reason = ::ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason != nullptr ? reason : buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

// OpenSSL writes to the socket with write(2): a peer that has closed (etcd refusing a client
// without a certificate) would kill the process with SIGPIPE. The guard blocks SIGPIPE in this
// thread around an SSL call and swallows one it raised (the plain socket uses MSG_NOSIGNAL).
class ScopedNoSigpipe {
 public:
  ScopedNoSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~ScopedNoSigpipe() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      ::sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{};
        ::sigtimedwait(&pipe_, nullptr, &zero);
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  ScopedNoSigpipe(const ScopedNoSigpipe&) = delete;
  ScopedNoSigpipe& operator=(const ScopedNoSigpipe&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
};

bool IsIpLiteral(const std::string& host) {
  in6_addr a6{};
  in_addr a4{};
  return ::inet_pton(AF_INET, host.c_str(), &a4) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

}  // namespace

struct ClientConnection::Tls {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  ~Tls() {
    if (ssl != nullptr) ::SSL_free(ssl);
    if (ctx != nullptr) ::SSL_CTX_free(ctx);
  }
};

Result<Url> ParseUrl(std::string_view url) {
  Url out;
  std::string_view rest = url;
  if (rest.rfind("https://", 0) == 0) {
    out.tls = true;
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return InvalidArgument(fmt::format("URL \"{}\": use http:// or https://", url));
  }
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  if (!rest.empty() && rest.front() == '[') {  // [v6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgument(fmt::format("URL \"{}\": unclosed [", url));
    }
    out.host = std::string(rest.substr(1, close - 1));
    colon = rest.size() > close + 1 && rest[close + 1] == ':' ? close + 1 : std::string_view::npos;
  } else {
    out.host = std::string(rest.substr(0, colon));
  }
  if (out.host.empty()) return InvalidArgument(fmt::format("URL \"{}\": no host", url));
  if (colon == std::string_view::npos) {
    out.port = out.tls ? 443 : 80;
  } else {
    Result<int> port = ParseIntInRange<int>(rest.substr(colon + 1), 1, 65535);
    if (!port) {
      return InvalidArgument(fmt::format("URL \"{}\": port: {}", url, port.error().message()));
    }
    out.port = *port;
  }
  return out;
}

Result<UniqueFd> Dial(const std::string& host, int port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port_text = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
  if (rc != 0) return Unavailable(fmt::format("{}:{}: {}", host, port, ::gai_strerror(rc)));
  std::string last = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) continue;
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = std::strerror(errno);
      continue;
    }
    pollfd p{.fd = fd.get(), .events = POLLOUT, .revents = 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      last = "connection timed out";
      continue;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      last = std::strerror(err);
      continue;
    }
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::freeaddrinfo(res);
    return fd;
  }
  ::freeaddrinfo(res);
  return Unavailable(fmt::format("{}:{}: {}", host, port, last));
}

ClientConnection::~ClientConnection() = default;

Result<std::unique_ptr<ClientConnection>> ClientConnection::Open(
    const Url& url, const TlsFiles& files, std::chrono::milliseconds timeout) {
  std::unique_ptr<ClientConnection> c(new ClientConnection());
  const bool v6 = url.host.find(':') != std::string::npos;
  c->peer_ =
      v6 ? fmt::format("[{}]:{}", url.host, url.port) : fmt::format("{}:{}", url.host, url.port);
  c->host_header_ = c->peer_;
  // Certificates are read before connecting, so that a wrong path is an error about the path.
  std::unique_ptr<Tls> tls;
  if (url.tls) {
    tls = std::make_unique<Tls>();
    tls->ctx = ::SSL_CTX_new(::TLS_client_method());
    if (tls->ctx == nullptr) return Unavailable("TLS: " + OpenSslErrors());
    ::SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
    ::SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_PEER, nullptr);
    if (!files.ca_file.empty()) {
      if (::SSL_CTX_load_verify_locations(tls->ctx, files.ca_file.c_str(), nullptr) != 1) {
        return InvalidArgument(
            fmt::format("cannot read CA certificate {}: {}", files.ca_file, OpenSslErrors()));
      }
    } else {
      ::SSL_CTX_set_default_verify_paths(tls->ctx);
    }
    if (files.cert_file.empty() != files.key_file.empty()) {
      return InvalidArgument("a client certificate needs both a certificate and a key file");
    }
    if (!files.cert_file.empty()) {
      if (::SSL_CTX_use_certificate_chain_file(tls->ctx, files.cert_file.c_str()) != 1) {
        return InvalidArgument(
            fmt::format("cannot read certificate {}: {}", files.cert_file, OpenSslErrors()));
      }
      if (::SSL_CTX_use_PrivateKey_file(tls->ctx, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
          ::SSL_CTX_check_private_key(tls->ctx) != 1) {
        return InvalidArgument(
            fmt::format("cannot use key {}: {}", files.key_file, OpenSslErrors()));
      }
    }
  }
  ASSIGN_OR_RETURN(c->fd_, Dial(url.host, url.port, timeout));
  // Deadlines for blocking reads and writes (the TLS handshake included); Read() polls itself.
  timeval tv{.tv_sec = timeout.count() / 1000,
             .tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(c->fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(c->fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (tls) {
    tls->ssl = ::SSL_new(tls->ctx);
    if (tls->ssl == nullptr) return Unavailable("TLS: " + OpenSslErrors());
    X509_VERIFY_PARAM* param = ::SSL_get0_param(tls->ssl);
    if (IsIpLiteral(url.host)) {
      ::X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
    } else {
      ::X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
      ::SSL_set_tlsext_host_name(tls->ssl, url.host.c_str());
    }
    ::SSL_set_fd(tls->ssl, c->fd_.get());
    ::ERR_clear_error();
    ScopedNoSigpipe no_sigpipe;
    if (::SSL_connect(tls->ssl) != 1) {
      std::string why = OpenSslErrors();
      const long verify = ::SSL_get_verify_result(tls->ssl);
      if (verify != X509_V_OK) {
        why += fmt::format(" ({})", ::X509_verify_cert_error_string(verify));
      }
      return Unavailable(fmt::format("{}: TLS handshake failed: {}", c->peer_, why));
    }
    c->tls_ = std::move(tls);
  }
  return c;
}

Status ClientConnection::Write(std::string_view data, std::chrono::milliseconds timeout) {
  if (closed_) return Unavailable(peer_ + ": connection closed");
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!data.empty()) {
    ssize_t n;
    if (tls_) {
      ::ERR_clear_error();
      ScopedNoSigpipe no_sigpipe;
      n = ::SSL_write(tls_->ssl, data.data(), static_cast<int>(data.size()));
    } else {
      n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    }
    if (n <= 0) {
      if (!tls_ && n < 0 && errno == EINTR && RemainingMs(deadline) > 0) continue;
      const std::string why = tls_ ? OpenSslErrors() : std::string(std::strerror(errno));
      closed_ = true;
      return Unavailable(fmt::format("{}: sending failed: {}", peer_, why));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

Result<size_t> ClientConnection::Read(char* buf, size_t size, std::chrono::milliseconds timeout) {
  if (closed_) return Unavailable(peer_ + ": connection closed");
  const bool pending = tls_ && ::SSL_pending(tls_->ssl) > 0;
  if (!pending) {
    pollfd p{.fd = fd_.get(), .events = POLLIN, .revents = 0};
    int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n < 0 && errno == EINTR) return size_t{0};
    if (n == 0) return size_t{0};
    if (n < 0) {
      closed_ = true;
      return Unavailable(fmt::format("{}: {}", peer_, std::strerror(errno)));
    }
  }
  ssize_t got;
  if (tls_) {
    ::ERR_clear_error();
    ScopedNoSigpipe no_sigpipe;
    got = ::SSL_read(tls_->ssl, buf, static_cast<int>(size));
    if (got <= 0) {
      const int err = ::SSL_get_error(tls_->ssl, static_cast<int>(got));
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return size_t{0};
      closed_ = true;
      if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && got == 0)) {
        return Unavailable(peer_ + ": connection closed by the server");
      }
      return Unavailable(fmt::format("{}: TLS: {}", peer_, OpenSslErrors()));
    }
  } else {
    got = ::recv(fd_.get(), buf, size, 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return size_t{0};
    if (got <= 0) {
      closed_ = true;
      return Unavailable(got == 0 ? peer_ + ": connection closed by the server"
                                  : fmt::format("{}: {}", peer_, std::strerror(errno)));
    }
  }
  return static_cast<size_t>(got);
}

void ClientConnection::Shutdown() {
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
}

Result<ClientResponse> ClientConnection::RoundTrip(std::string_view method, std::string_view target,
                                                   std::string_view extra_headers,
                                                   std::string_view body,
                                                   std::chrono::milliseconds timeout, bool* sent) {
  if (sent != nullptr) *sent = false;
  timed_out_ = false;
  std::string req =
      fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\n{}", method, target, host_header_, extra_headers);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req += fmt::format("Content-Length: {}\r\n", body.size());
  }
  req += "\r\n";
  req += body;
  if (closed_) return Unavailable(peer_ + ": connection closed");
  if (sent != nullptr) *sent = true;
  RETURN_IF_ERROR(Write(req, timeout));
  Limits limits;
  limits.max_body_bytes = size_t{512} << 20;  // a page of etcd values, a window of flows
  const Clock::time_point deadline = Clock::now() + timeout;
  char chunk[16384];
  for (;;) {
    if (!buf_.empty()) {
      ParseResult r = ParseMessage(buf_, limits, /*is_response=*/true);
      if (r.state == ParseState::kComplete) {
        buf_.erase(0, r.consumed);
        ClientResponse out{.status = r.status,
                           .headers = std::move(r.request.headers),
                           .body = std::move(r.request.body)};
        auto conn = out.headers.find("connection");
        if (conn != out.headers.end() && conn->second.find("close") != std::string::npos) {
          closed_ = true;
        }
        return out;
      }
      if (r.state == ParseState::kBad) {
        closed_ = true;
        return Unavailable(fmt::format("{}: not an HTTP answer: {}", peer_, r.error));
      }
    }
    const int wait = RemainingMs(deadline);
    if (wait == 0) {
      closed_ = true;
      timed_out_ = true;
      return Unavailable(fmt::format("{}: no answer within {} ms", peer_, timeout.count()));
    }
    ASSIGN_OR_RETURN(size_t n, Read(chunk, sizeof(chunk), std::chrono::milliseconds(wait)));
    buf_.append(chunk, n);
  }
}

}  // namespace calico::http
