// The HTTP server on loopback TCP: concurrency under slow clients (issue 19: eight connections
// sending a byte a second made /liveness time out), the read and idle deadlines, the connection
// cap, keep-alive and where it binds. No test asserts a duration: the deadlines are the server's,
// and a client-side guard only turns a hang into a failure.
#include "calico/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace calico::http {
namespace {

using std::chrono::milliseconds;

// A hang guard, not a timing assertion: long enough for any machine.
constexpr milliseconds kGuard{60000};

int Connect(int port, int family = AF_INET) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int rc = -1;
  if (family == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  } else {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(port));
    a.sin6_addr = in6addr_loopback;
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
  if (rc != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` and reads one response; status 0 when the server closed without one.
int RoundTrip(int fd, const std::string& request, std::string* body = nullptr) {
  if (!request.empty() && !WriteAll(fd, request, kGuard)) return -1;
  std::string buf;
  ParseResult r = ReadMessage(fd, buf, Limits{}, /*is_response=*/true, kGuard, kGuard);
  if (r.state != ParseState::kComplete) return 0;
  if (body != nullptr) *body = r.request.body;
  return r.status;
}

// True once the server closed the connection (recv returns 0 or an error).
bool ClosedByServer(int fd) {
  char c;
  for (;;) {
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n <= 0) return true;
  }
}

Server::Handler Probe(std::atomic<int>* served) {
  return [served](const Request& req) {
    if (served != nullptr) ++*served;
    if (req.path == "/liveness") return Response{204, "", ""};
    return Response{200, "text/plain", "path " + req.path};
  };
}

TEST(HttpServerTest, LivenessIsAnsweredWhileEightClientsTrickleBytes) {
  // Slow clients get a long read deadline here, so they are still connected when /liveness is
  // asked: a server serving one connection at a time could not answer.
  ServerOptions opts{.host = "127.0.0.1", .port = 0, .read_timeout = milliseconds(600000)};
  Server server(opts, Probe(nullptr));
  ASSERT_TRUE(server.Start());
  std::vector<int> slow;
  for (int i = 0; i < 8; ++i) {
    int fd = Connect(server.port());
    ASSERT_GE(fd, 0);
    slow.push_back(fd);
  }
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    const std::string request = "GET /liveness HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    for (size_t i = 0; !stop.load(); ++i) {
      for (int fd : slow)
        (void)::send(fd, &request[i % request.size()], 1, MSG_NOSIGNAL);
      std::this_thread::sleep_for(milliseconds(200));
    }
  });
  while (server.active_connections() < 8)
    std::this_thread::sleep_for(milliseconds(5));
  int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  EXPECT_EQ(RoundTrip(fd, "GET /liveness HTTP/1.1\r\nHost: x\r\n\r\n"), 204);
  EXPECT_EQ(server.active_connections(), 9u) << "the slow clients are still being served";
  ::close(fd);
  stop = true;
  trickle.join();
  for (int s : slow)
    ::close(s);
  server.Stop();
}

TEST(HttpServerTest, ReadDeadlineEndsASlowRequest) {
  Server server(ServerOptions{.host = "127.0.0.1", .read_timeout = milliseconds(200)},
                Probe(nullptr));
  ASSERT_TRUE(server.Start());
  int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  // Part of a request, then nothing: 408 and the connection closes.
  EXPECT_EQ(RoundTrip(fd, "GET /liveness HTTP/1.1\r\nHo"), 408);
  EXPECT_TRUE(ClosedByServer(fd));
  ::close(fd);
  server.Stop();
}

TEST(HttpServerTest, IdleConnectionsAreClosed) {
  Server server(ServerOptions{.host = "127.0.0.1", .idle_timeout = milliseconds(200)},
                Probe(nullptr));
  ASSERT_TRUE(server.Start());
  int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  EXPECT_EQ(RoundTrip(fd, "GET /a HTTP/1.1\r\n\r\n"), 200);
  // Nothing more: closed without an answer.
  EXPECT_EQ(RoundTrip(fd, ""), 0);
  ::close(fd);
  server.Stop();
}

TEST(HttpServerTest, ConnectionsOverTheCapGet503) {
  Server server(ServerOptions{.host = "127.0.0.1", .max_connections = 2}, Probe(nullptr));
  ASSERT_TRUE(server.Start());
  int a = Connect(server.port());
  int b = Connect(server.port());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  while (server.active_connections() < 2)
    std::this_thread::sleep_for(milliseconds(5));
  int c = Connect(server.port());
  ASSERT_GE(c, 0);
  EXPECT_EQ(RoundTrip(c, "GET /liveness HTTP/1.1\r\n\r\n"), 503);
  ::close(c);
  // The two within the cap are served.
  EXPECT_EQ(RoundTrip(a, "GET /liveness HTTP/1.1\r\n\r\n"), 204);
  EXPECT_EQ(RoundTrip(b, "GET /liveness HTTP/1.1\r\n\r\n"), 204);
  ::close(a);
  ::close(b);
  server.Stop();
}

TEST(HttpServerTest, KeepAliveBadRequestsAndHandlerErrors) {
  Server server(ServerOptions{.host = "127.0.0.1"}, [](const Request& req) -> Response {
    if (req.path == "/throw") throw std::runtime_error("boom");
    return Response{200, "text/plain", req.body};
  });
  ASSERT_TRUE(server.Start());
  int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  std::string body;
  EXPECT_EQ(RoundTrip(fd, "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\none", &body), 200);
  EXPECT_EQ(body, "one");
  EXPECT_EQ(RoundTrip(fd, "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\ntwo", &body), 200);
  EXPECT_EQ(body, "two");
  EXPECT_EQ(RoundTrip(fd, "GET /throw HTTP/1.1\r\n\r\n", &body), 500);
  EXPECT_EQ(RoundTrip(fd, "POST /a HTTP/1.1\r\nContent-Length: -5\r\n\r\n"), 400);
  EXPECT_TRUE(ClosedByServer(fd));
  ::close(fd);
  server.Stop();
}

TEST(HttpServerTest, BindsWhereItIsTold) {
  // "" is every address (IPv6 and IPv4 on one socket, as Go's ":port").
  Server all(ServerOptions{.host = "", .port = 0}, Probe(nullptr));
  ASSERT_TRUE(all.Start());
  int v4 = Connect(all.port(), AF_INET);
  ASSERT_GE(v4, 0);
  EXPECT_EQ(RoundTrip(v4, "GET /liveness HTTP/1.1\r\n\r\n"), 204);
  ::close(v4);
  int v6 = Connect(all.port(), AF_INET6);
  if (v6 >= 0) {  // no ::1 on hosts without IPv6
    EXPECT_EQ(RoundTrip(v6, "GET /liveness HTTP/1.1\r\n\r\n"), 204);
    ::close(v6);
  }
  all.Stop();
  // "localhost": one of its addresses, IPv4 first (Felix's healthHost default).
  Server local(ServerOptions{.host = "localhost", .port = 0}, Probe(nullptr));
  ASSERT_TRUE(local.Start());
  int fd = Connect(local.port(), AF_INET);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(RoundTrip(fd, "GET /liveness HTTP/1.1\r\n\r\n"), 204);
  ::close(fd);
  local.Stop();
  // An address that is not ours: a clear error naming it.
  Server bad(ServerOptions{.host = "192.0.2.1", .port = 9099}, Probe(nullptr));
  auto st = bad.Start();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("192.0.2.1:9099"), std::string::npos) << st.error().message();
}

// A streamed response (calico-flows' Server-Sent Events): the head without Content-Length, the
// body as written; the stream learns when the client leaves, and Stop() ends a running stream.
TEST(HttpServerTest, StreamsUntilTheClientLeavesOrTheServerStops) {
  std::atomic<int> ended{0};
  Server server(ServerOptions{.host = "127.0.0.1", .port = 0}, [&](const Request&) {
    Response r{200, "text/event-stream", ""};
    r.stream = [&](StreamWriter& w) {
      if (w.Write("data: one\n\n")) {
        while (w.Open())
          std::this_thread::sleep_for(milliseconds(10));
      }
      ++ended;
    };
    return r;
  });
  ASSERT_TRUE(server.Start());
  // The client leaves: the stream sees it.
  int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, "GET /stream HTTP/1.1\r\n\r\n", kGuard));
  std::string got;
  char buf[256];
  while (got.find("data: one\n\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n", 0), 0u) << got;
  EXPECT_EQ(got.find("Content-Length"), std::string::npos);
  ::close(fd);
  for (int i = 0; i < 6000 && ended.load() == 0; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(ended.load(), 1);
  // The server stops with a client still listening: Stop() returns and the stream ended.
  fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, "GET /stream HTTP/1.1\r\n\r\n", kGuard));
  ASSERT_GT(::recv(fd, buf, sizeof(buf), 0), 0);
  server.Stop();
  EXPECT_EQ(ended.load(), 2);
  EXPECT_TRUE(ClosedByServer(fd));
  ::close(fd);
}

}  // namespace
}  // namespace calico::http
