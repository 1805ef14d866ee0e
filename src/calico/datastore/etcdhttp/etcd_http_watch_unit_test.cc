// The JSON-gateway watch stream against a hostile or broken peer on the etcd port: a stateful fake
// gateway on loopback answers each POST /v3/watch with the next scripted answer (an endless head,
// an endless chunk-size line, a huge chunk, a line that never ends, missing CRLFs, a stream that
// ends). Each watch must fail with kUnavailable naming what was wrong (and the limit), without
// buffering the endless input and without hanging; the next watch on the same backend, answered
// properly, delivers its events (the consumer re-establishes a failed watch: agent/agent.cc).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/cleanup.h"
#include "calico/datastore/etcdhttp/etcd_http_backend.h"
#include "calico/http/message.h"

namespace calico::datastore::etcdhttp {
namespace {

using ::testing::HasSubstr;

constexpr char kChunkedHead[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string Chunk(std::string_view data) {
  return fmt::format("{:x}\r\n{}\r\n", data.size(), data);
}

// One answer to a watch: `prefix`, then `repeat` sent again and again until the client goes away
// (when not empty), then the connection is held open until the client closes it.
struct WatchAnswer {
  std::string prefix;
  std::string repeat;
};

// A fake etcd JSON gateway: /v3/kv/range answers revision 5 and no keys; the n-th /v3/watch gets
// answers[n], and the watches after the last one the well-formed `good` answer.
class FakeGateway {
 public:
  FakeGateway(std::vector<WatchAnswer> answers, WatchAnswer good)
      : answers_(std::move(answers)), good_(std::move(good)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CALICO_CHECK(listen_fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CALICO_CHECK(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    CALICO_CHECK(::listen(listen_fd_, 16) == 0);
    socklen_t len = sizeof(addr);
    CALICO_CHECK(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~FakeGateway() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const int fd : fds_)
        ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads)
      t.join();
    for (const int fd : fds_)
      ::close(fd);
    ::close(listen_fd_);
  }
  FakeGateway(const FakeGateway&) = delete;
  FakeGateway& operator=(const FakeGateway&) = delete;

  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  int watches() const { return watches_.load(); }

 private:
  void Accept() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      fds_.push_back(fd);
      threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  static bool Send(int fd, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Requests on one connection until it closes (the destructor closes the fd).
  void Serve(int fd) {
    std::string buf;
    char bytes[4096];
    for (;;) {
      const http::ParseResult r = http::ParseMessage(buf, http::Limits{});
      if (r.state == http::ParseState::kBad) break;
      if (r.state == http::ParseState::kNeedMore) {
        const ssize_t n = ::recv(fd, bytes, sizeof(bytes), 0);
        if (n <= 0) break;
        buf.append(bytes, static_cast<size_t>(n));
        continue;
      }
      buf.erase(0, r.consumed);
      if (r.request.path == "/v3/kv/range") {
        const std::string body = R"({"header":{"revision":"5"}})";
        if (!Send(fd, fmt::format("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                  "Content-Length: {}\r\n\r\n{}",
                                  body.size(), body))) {
          break;
        }
        continue;
      }
      if (r.request.path != "/v3/watch") break;
      const size_t n = static_cast<size_t>(watches_++);
      const WatchAnswer& answer = n < answers_.size() ? answers_[n] : good_;
      if (!Send(fd, answer.prefix)) break;
      while (!answer.repeat.empty() && !stopping_ && Send(fd, answer.repeat)) {
      }
      // Hold the connection until the client closes it.
      while (!stopping_ && ::recv(fd, bytes, sizeof(bytes), 0) > 0) {
      }
      break;
    }
    ::shutdown(fd, SHUT_RDWR);
  }

  const std::vector<WatchAnswer> answers_;
  const WatchAnswer good_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> watches_{0};
  std::mutex mu_;
  std::vector<int> fds_;  // closed once their threads are joined
  std::vector<std::thread> threads_;
  std::thread acceptor_;  // Last: starts after the members it uses exist.
};

struct Hostile {
  const char* name;
  WatchAnswer answer;
  const char* error;  // a part of the error message
};

TEST(EtcdHttpWatchTest, HostileStreamsFailNamingTheLimitAndTheNextWatchWorks) {
  constexpr size_t kLimit = 64 << 10;
  SetMaxWatchResponseBytesForTest(kLimit);
  Cleanup restore([] { SetMaxWatchResponseBytesForTest(kMaxWatchResponseBytes); });
  const std::string head = kChunkedHead;
  const std::vector<Hostile> cases = {
      {"head that never ends",
       {"HTTP/1.1 200 OK\r\nX-Pad: ", std::string(4096, 'a')},
       "request line and headers exceed the max HTTP header size of 65536 bytes"},
      {"answer that is not chunked",
       {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", ""},
       "the watch answer is not a chunked stream"},
      {"error status",
       {"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", ""},
       "HTTP/1.1 503 Service Unavailable"},
      {"chunk-size line that never ends",
       {head + "1", std::string(4096, '0')},
       "chunk size line longer than the max chunk line size of 4096 bytes"},
      {"chunk size beyond 16 hex digits",
       {head + "10000000000000000\r\n", ""},
       "has more than 16 hex digits"},
      {"huge chunk",
       {head + "7fffffffffffffff\r\n", std::string(4096, 'x')},
       "chunk of 9223372036854775807 bytes exceeds the max watch response size of 65536 bytes"},
      {"chunk data without CRLF",
       {head + Chunk("{}").substr(0, 5) + "XY", ""},
       "chunk data not followed by CRLF"},
      {"size line ended by a bare LF", {head + "2\n{}\r\n", ""}, "chunked line ends with bare LF"},
      {"JSON line that never ends",
       {head, Chunk(std::string(4096, ' ') + "x")},
       "a watch response longer than the max watch response size of 65536 bytes"},
      {"last chunk, connection held open", {head + "0\r\n", ""}, "stream ended by the server"},
      {"not JSON", {head + Chunk("<html>\n"), ""}, "sent malformed JSON"},
  };
  std::vector<WatchAnswer> answers;
  for (const auto& c : cases)
    answers.push_back(c.answer);
  // The good answer: the "created" response, then one event whose line is split over two chunks.
  const std::string event = fmt::format(
      R"({{"result":{{"header":{{"revision":"6"}},"events":[{{"kv":{{"key":"{}",)"
      R"("value":"{}","mod_revision":"6","create_revision":"6","version":"1"}}}}]}}}})"
      "\n",
      gateway::Base64("/calico/resources/v3/projectcalico.org/x"), gateway::Base64("value"));
  WatchAnswer good{head +
                       Chunk(R"({"result":{"header":{"revision":"5"},"created":true}})"
                             "\n") +
                       Chunk(event.substr(0, 20)) + Chunk(event.substr(20)),
                   ""};
  FakeGateway gw(answers, good);
  EtcdConfig cfg;
  cfg.endpoints = {gw.url()};
  auto backend = OpenEtcdHttpBackend(cfg);
  ASSERT_TRUE(backend) << backend.error().message();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto watch = (*backend)->Watch("/calico/", 0);
    ASSERT_TRUE(watch) << watch.error().message();
    // A generous wait: a stream that never fails shows as an empty answer, not a hung test.
    auto events = (*watch)->Next(std::chrono::seconds(60));
    ASSERT_FALSE(events) << "the watch gave " << events->size() << " events instead of failing";
    EXPECT_EQ(events.error().code(), ErrorCode::kUnavailable);
    EXPECT_THAT(events.error().message(), HasSubstr(c.error));
    EXPECT_THAT(events.error().message(), HasSubstr("watch /calico/: etcd at " + gw.url()));
  }
  EXPECT_EQ(gw.watches(), static_cast<int>(cases.size()));
  // The same backend, watching again: the events arrive.
  auto watch = (*backend)->Watch("/calico/", 0);
  ASSERT_TRUE(watch) << watch.error().message();
  auto events = (*watch)->Next(std::chrono::seconds(60));
  ASSERT_TRUE(events) << events.error().message();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kv.key, "/calico/resources/v3/projectcalico.org/x");
  EXPECT_EQ((*events)[0].kv.value, "value");
  EXPECT_EQ((*events)[0].kv.mod_revision, 6);
}

}  // namespace
}  // namespace calico::datastore::etcdhttp
