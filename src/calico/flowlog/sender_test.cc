#include "calico/flowlog/sender.h"

#include <httplib.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace calico::flowlog {
namespace {

std::vector<FlowRecord> Batch(int n) {
  std::vector<FlowRecord> out(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    out[static_cast<std::size_t>(i)].key.dest_port = i;
  }
  return out;
}

std::string Encode(const std::vector<FlowRecord>& b) {
  return std::to_string(b.size());
}

TEST(ParseServerAddressTest, Forms) {
  EXPECT_EQ(*ParseServerAddress("127.0.0.1:7443"), std::make_pair(std::string("127.0.0.1"), 7443));
  EXPECT_EQ(*ParseServerAddress("http://flows:80/"), std::make_pair(std::string("flows"), 80));
  EXPECT_EQ(*ParseServerAddress("[::1]:9"), std::make_pair(std::string("::1"), 9));
  EXPECT_FALSE(ParseServerAddress("flows"));
  EXPECT_FALSE(ParseServerAddress("flows:0"));
  EXPECT_FALSE(ParseServerAddress("flows:http"));
}

TEST(FlowSenderTest, PostsBatchesToTheServer) {
  httplib::Server server;
  std::atomic<int> records{0};
  server.Post(R"(/api/v1/flows)", [&](const httplib::Request& req, httplib::Response& res) {
    records += std::stoi(req.body);
    res.status = 200;
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  {
    FlowSender sender(SenderOptions{.server = "127.0.0.1:" + std::to_string(port)}, Encode);
    sender.Send(Batch(3));
    sender.Send(Batch(2));
    sender.DrainForTest();
    EXPECT_EQ(sender.sent(), 5u);
    EXPECT_EQ(sender.dropped(), 0u);
  }
  server.stop();
  t.join();
  EXPECT_EQ(records, 5);
}

TEST(FlowSenderTest, DownServerDropsAndCounts) {
  // Nothing listens on this port (bound, then closed).
  httplib::Server probe;
  const int port = probe.bind_to_any_port("127.0.0.1");
  probe.stop();
  FlowSender sender(SenderOptions{.server = "127.0.0.1:" + std::to_string(port),
                                  .timeout = std::chrono::milliseconds(200)},
                    Encode);
  sender.Send(Batch(4));
  sender.DrainForTest();
  EXPECT_EQ(sender.dropped(), 4u);
  EXPECT_EQ(sender.sent(), 0u);
}

TEST(FlowSenderTest, FullQueueDropsInsteadOfGrowing) {
  // A server that holds every request until released: the queue fills up.
  httplib::Server server;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  server.Post(R"(/api/v1/flows)", [&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    res.status = 200;
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  {
    FlowSender sender(SenderOptions{.server = "127.0.0.1:" + std::to_string(port),
                                    .max_queued_batches = 2,
                                    .timeout = std::chrono::milliseconds(5000)},
                      Encode);
    // At most one batch in flight and two queued: of 10 batches, at least 7 are dropped.
    for (int i = 0; i < 10; ++i) {
      sender.Send(Batch(1));
    }
    EXPECT_GE(sender.dropped(), 7u);
    {
      std::lock_guard<std::mutex> lock(mu);
      release = true;
    }
    cv.notify_all();
    sender.DrainForTest();
    EXPECT_EQ(sender.dropped() + sender.sent(), 10u);
  }
  server.stop();
  t.join();
}

TEST(FlowSenderTest, ErrorStatusIsADrop) {
  httplib::Server server;
  server.Post(R"(/api/v1/flows)", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content("bad flows", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  {
    FlowSender sender(SenderOptions{.server = "127.0.0.1:" + std::to_string(port)}, Encode);
    sender.Send(Batch(2));
    sender.DrainForTest();
    EXPECT_EQ(sender.dropped(), 2u);
  }
  server.stop();
  t.join();
}

}  // namespace
}  // namespace calico::flowlog
