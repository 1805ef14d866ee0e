// The transport of Docker's remote plugin protocol (POST /<Method>, JSON bodies, persistent
// connections) on a unix-domain socket: http::Server (concurrent connections up to a cap, read
// and idle deadlines, the request parser with the decoder limits of model/decode_limits.h) with
// the plugin's error answers, and a small client for tests and tools. Docker's plugin client
// sends bodies with Content-Length (chunked bodies are accepted too) and often no Content-Type.
//
// Thread-safety: UnixHttpServer: Start/Stop/Wait from any thread; the handler runs on one thread
// per connection, concurrently. UnixHttpClient: one thread at a time.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "calico/base/result.h"
#include "calico/base/unique_fd.h"
#include "calico/http/server.h"

namespace calico::libnetwork {

using HttpRequest = http::Request;
using HttpResponse = http::Response;

class UnixHttpServer {
 public:
  using Handler = http::Server::Handler;
  struct Options {
    std::string socket_path;
    mode_t mode = 0660;
    size_t max_body = model::kMaxHttpBodyBytes;
    size_t max_connections = 64;
    // An already listening unix socket to serve instead of binding socket_path (systemd socket
    // activation: calico-libnetwork.socket). The server takes ownership of the descriptor; the
    // socket file belongs to whoever created it and is never removed.
    int listen_fd = -1;
  };

  UnixHttpServer(Options options, Handler handler);
  // Creates the socket's directory if needed, replaces a stale socket file (refuses when a live
  // server answers on it), binds, sets the mode and starts accepting on a thread of its own.
  // With options.listen_fd: accepts on that socket (kInvalidArgument when it is not a listening
  // stream socket).
  [[nodiscard]] Status Start() { return server_.Start(); }
  // Stops accepting, closes every connection, waits for the handlers and removes the socket file
  // (not an inherited one).
  // Idempotent.
  void Stop() { server_.Stop(); }
  // Blocks until a Stop() (from another thread) has completed.
  void Wait() { server_.Wait(); }

 private:
  http::Server server_;
};

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// A persistent client connection (tests and tools).
class UnixHttpClient {
 public:
  [[nodiscard]] static Result<std::unique_ptr<UnixHttpClient>> Connect(
      const std::string& socket_path);
  UnixHttpClient(const UnixHttpClient&) = delete;
  UnixHttpClient& operator=(const UnixHttpClient&) = delete;
  // `content_type` "" sends none, as Docker does.
  [[nodiscard]] Result<HttpReply> Post(const std::string& path, const std::string& body,
                                       const std::string& content_type = "");
  // Sends raw bytes and reads one response (malformed-request tests).
  [[nodiscard]] Result<HttpReply> Raw(const std::string& bytes);

 private:
  explicit UnixHttpClient(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  std::string buf_;
};

}  // namespace calico::libnetwork
