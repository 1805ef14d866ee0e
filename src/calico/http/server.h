// A small HTTP/1.1 server for calico-node's health (:9099) and Prometheus metrics (:9091)
// endpoints and libnetwork's plugin socket: TCP (host:port) or a unix-domain socket, one thread
// per connection up to a cap, and deadlines on every read so that slow or silent clients cannot
// hold the server (Go's http.Server with ReadTimeout/IdleTimeout, which Felix's and the plugin's
// servers are):
//
//   accept ──> [connections < max_connections] ──> thread: read request (read_timeout from its
//          │                                        first byte, idle_timeout before it) ──>
//          │                                        handler ──> response (write_timeout) ──> next
//          └─> [at the cap] 503 "Connection: close" and close
//
// A handler may answer with a stream (Response::stream: Server-Sent Events for calico-flows):
// it writes on the connection's thread until it returns, the peer leaves or Stop() is called.
//
// Eight clients sending a byte a second therefore hold eight threads for at most read_timeout
// each, while /liveness is answered on another.
//
// Thread-safety: Start/Stop/Wait from any thread; the handler runs concurrently on the
// connection threads and must be thread-safe.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "calico/base/result.h"
#include "calico/http/message.h"

namespace calico::http {

struct ServerOptions {
  // Exactly one of: a unix socket path, or a TCP host ("" = every address, IPv6 and IPv4, as Go's
  // ":port"; a name such as "localhost" listens on one of its addresses, IPv4 first, as Go) and
  // port (0 = an ephemeral port, see Server::port()).
  std::string unix_path{};
  mode_t unix_mode = 0660;
  // An already listening stream socket to serve instead of binding (systemd socket activation:
  // calico-libnetwork.socket). The server takes ownership of the descriptor; the socket file (if
  // unix_path names it) belongs to whoever created it and is never removed.
  int listen_fd = -1;
  std::string host{};
  int port = 0;

  size_t max_connections = 64;
  // From the first byte of a request to its last.
  std::chrono::milliseconds read_timeout{10000};
  // Waiting for the next request on a kept-alive connection (or the first on a new one).
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds write_timeout{10000};
  Limits limits{};
  std::string name = "http";  // the logger: "health", "metrics", "libnetwork"
  // The answer to a request that cannot be parsed (status 400, 408, 413, 431, 501) or a
  // connection over the cap (503); default: text/plain with the reason.
  std::function<Response(int status, const std::string& error)> error_response{};
};

class Server {
 public:
  using Handler = std::function<Response(const Request&)>;

  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting on a thread of its own. A unix socket: its directory is created if
  // needed, a stale socket file replaced (a live server on it is an error), the mode set.
  // Errors: kUnavailable / kAlreadyExists / kInvalidArgument naming the address. With
  // options.listen_fd: accepts on that socket (kInvalidArgument when it is not a listening stream
  // socket).
  [[nodiscard]] Status Start();
  // Stops accepting, closes every connection, waits for the handlers; removes a unix socket file
  // it bound (not an inherited one).
  // Idempotent.
  void Stop();
  // Blocks until a Stop() (from another thread) has completed.
  void Wait();
  // The bound TCP port (after Start), e.g. when options.port was 0.
  int port() const { return bound_port_; }
  // Connections being served now (tests and metrics).
  size_t active_connections() const { return active_.load(); }

 private:
  struct Conn {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  [[nodiscard]] Result<int> ListenUnix();
  [[nodiscard]] Result<int> ListenTcp();
  [[nodiscard]] Result<int> TakeInherited();
  void AcceptLoop();
  void Serve(Conn& conn);
  void ServeStream(Conn& conn, const Response& resp);
  void ReapFinished();

  ServerOptions options_;
  Handler handler_;
  int listen_fd_ = -1;
  bool inherited_ = false;  // listen_fd_ came from options.listen_fd.
  int bound_port_ = 0;
  int wake_[2] = {-1, -1};
  std::thread accept_thread_;
  std::mutex mu_;
  std::condition_variable stopped_cv_;
  bool started_ = false;
  bool stopped_ = false;
  bool finished_ = false;
  std::atomic<size_t> active_{0};
  std::atomic<bool> stopping_{false};  // set first thing in Stop(): streams end
  std::list<std::unique_ptr<Conn>> conns_;
};

// Reads one message from `fd` into `buf` (bytes already received first) and parses it, waiting at
// most `first_byte` for the first byte and `rest` for the remainder. kNeedMore in the result
// means the peer closed before a whole message; status 408 means a deadline passed.
ParseResult ReadMessage(int fd, std::string& buf, const Limits& limits, bool is_response,
                        std::chrono::milliseconds first_byte, std::chrono::milliseconds rest);

// Writes all of `data`, waiting at most `timeout` in total. False on error or timeout.
bool WriteAll(int fd, std::string_view data, std::chrono::milliseconds timeout);

}  // namespace calico::http
