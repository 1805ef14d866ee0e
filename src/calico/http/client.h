// The project's HTTP/1.1 client: one kept-alive connection over plain TCP or TLS (OpenSSL, with
// client certificates), requests and responses parsed with message.h. Used by the calico-flows
// client (flows/api.cc) and by the etcd JSON-gateway backend (datastore/etcd/etcd_http_backend.h),
// whose short-lived callers (the CNI plugins, calicoctl) must not load gRPC.
//
// Thread-safety: a ClientConnection is used from one thread at a time, except Shutdown(), which
// may be called from any thread to wake a blocked Read().
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "calico/base/result.h"
#include "calico/base/unique_fd.h"
#include "calico/http/message.h"

namespace calico::http {

// "http://host:port" or "https://host:port" ("[v6]:port" too); a path is ignored. No port: 80 or
// 443. kInvalidArgument naming the URL otherwise.
struct Url {
  bool tls = false;
  std::string host;
  int port = 0;
};
[[nodiscard]] Result<Url> ParseUrl(std::string_view url);

// A TCP connection to host:port (every address getaddrinfo gives, in order) within `timeout`
// per address; the socket is blocking, close-on-exec. kUnavailable naming host:port and the last
// error.
[[nodiscard]] Result<UniqueFd> Dial(const std::string& host, int port,
                                    std::chrono::milliseconds timeout);

// PEM files for TLS: the CA that signs the server (empty: the system's default CAs), and the
// client certificate and key (both or neither).
struct TlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class ClientConnection {
 public:
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Connects (and for https:// completes the TLS handshake, verifying the server's certificate
  // against tls.ca_file and its name or IP address against url.host) within `timeout`.
  // Errors: kUnavailable (unreachable, handshake refused: the message names the TLS reason),
  // kInvalidArgument (unreadable certificate files).
  [[nodiscard]] static Result<std::unique_ptr<ClientConnection>> Open(
      const Url& url, const TlsFiles& tls, std::chrono::milliseconds timeout);

  // Sends one request ("Host", "Content-Length" and `extra_headers`, each "Name: value\r\n") and
  // reads the whole response. The connection stays open for the next request unless the server
  // said "Connection: close". Errors: kUnavailable (write or read failed, timed out, or the
  // answer is not HTTP); `sent` (if given) tells whether any byte of the request was written, so
  // the caller knows whether retrying could repeat it.
  [[nodiscard]] Result<ClientResponse> RoundTrip(std::string_view method, std::string_view target,
                                                 std::string_view extra_headers,
                                                 std::string_view body,
                                                 std::chrono::milliseconds timeout,
                                                 bool* sent = nullptr);

  // Raw access for a streamed response (etcd's watch): writes all of `data`; reads what is
  // available (waiting at most `timeout`: 0 bytes = timed out). kUnavailable once closed.
  [[nodiscard]] Status Write(std::string_view data, std::chrono::milliseconds timeout);
  [[nodiscard]] Result<size_t> Read(char* buf, size_t size, std::chrono::milliseconds timeout);

  // Ends the connection: a blocked Read() in another thread returns kUnavailable.
  void Shutdown();

  bool open() const { return !closed_; }
  // Whether the last RoundTrip failed because its timeout passed without a whole answer (the
  // server took the request and did not answer, as opposed to a broken connection).
  bool timed_out() const { return timed_out_; }
  const std::string& peer() const { return peer_; }  // "host:port"

 private:
  ClientConnection() = default;
  struct Tls;

  UniqueFd fd_;
  std::unique_ptr<Tls> tls_;
  std::string host_header_;
  std::string peer_;
  std::string buf_;  // bytes received after the last response
  bool closed_ = false;
  bool timed_out_ = false;
};

}  // namespace calico::http
