// A small HTTP/1.1 server and client over a unix-domain socket: the transport of Docker's remote
// plugin protocol (POST /<Method>, JSON bodies, persistent connections). Docker's plugin client
// sends bodies with Content-Length (chunked bodies are accepted too) and often no Content-Type.
//
// cpp-httplib 0.11.4 (Debian 12) cannot listen on a unix socket, hence this; it only does what the
// plugin protocol needs: one handler for every request, Content-Length responses, keep-alive.
//
// Thread-safety: UnixHttpServer: Start/Stop/Wait from any thread; the handler runs on one thread
// per connection, concurrently. UnixHttpClient: one thread at a time.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "calico/base/result.h"

namespace calico::libnetwork {

struct HttpRequest {
  std::string method;                          // "POST"
  std::string path;                            // "/Plugin.Activate"
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
};

class UnixHttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  struct Options {
    std::string socket_path;
    mode_t mode = 0660;
    size_t max_body = 16u << 20;
    // An already listening unix socket to serve instead of binding socket_path (systemd socket
    // activation: calico-libnetwork.socket). The server takes ownership of the descriptor; the
    // socket file belongs to whoever created it and is never removed.
    int listen_fd = -1;
  };

  UnixHttpServer(Options options, Handler handler);
  ~UnixHttpServer();
  UnixHttpServer(const UnixHttpServer&) = delete;
  UnixHttpServer& operator=(const UnixHttpServer&) = delete;

  // Creates the socket's directory if needed, replaces a stale socket file (refuses when a live
  // server answers on it), binds, sets the mode and starts accepting on a thread of its own.
  // With options.listen_fd: accepts on that socket (kInvalidArgument when it is not a listening
  // stream socket).
  [[nodiscard]] Status Start();
  // Stops accepting, closes every connection, waits for the handlers and removes the socket file
  // (not an inherited one). Idempotent.
  void Stop();
  // Blocks until a Stop() (from another thread) has completed.
  void Wait();

 private:
  struct Conn {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  [[nodiscard]] Status StartInherited();
  void AcceptLoop();
  void Serve(Conn& conn);
  void ReapFinished();

  Options options_;
  Handler handler_;
  int listen_fd_ = -1;
  bool inherited_ = false;  // listen_fd_ came from options.listen_fd.
  int wake_[2] = {-1, -1};
  std::thread accept_thread_;
  std::mutex mu_;
  std::condition_variable stopped_cv_;
  bool stopped_ = false;
  bool started_ = false;
  bool finished_ = false;  // Stop() has completed
  std::list<std::unique_ptr<Conn>> conns_;
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
  ~UnixHttpClient();
  UnixHttpClient(const UnixHttpClient&) = delete;
  UnixHttpClient& operator=(const UnixHttpClient&) = delete;
  // `content_type` "" sends none, as Docker does.
  [[nodiscard]] Result<HttpReply> Post(const std::string& path, const std::string& body,
                                       const std::string& content_type = "");
  // Sends raw bytes and reads one response (malformed-request tests).
  [[nodiscard]] Result<HttpReply> Raw(const std::string& bytes);

 private:
  explicit UnixHttpClient(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::string buf_;
};

}  // namespace calico::libnetwork
