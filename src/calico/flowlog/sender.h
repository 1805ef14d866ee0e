// Sends each interval's flow records to calico-flows (FelixConfiguration flowLogsGoldmaneServer,
// Goldmane's role) as an HTTP POST from its own thread. Send() never blocks: at most
// `max_queued_batches` intervals wait; a batch that finds the queue full, or that the server does
// not accept (down, slow, an error status), is dropped and its records counted (dropped()), never
// queued without bound.
//
// Thread-safety: Send and dropped may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "calico/base/result.h"
#include "calico/flowlog/collector.h"

namespace calico::flowlog {

struct SenderOptions {
  std::string server{};  // "host:port" or "http://host:port".
  std::string path = "/api/v1/flows";
  std::size_t max_queued_batches = 4;
  std::chrono::milliseconds timeout{2000};
};

class FlowSender {
 public:
  // Turns a batch into the request body (flows_codec.h: newline-delimited JSON).
  using Encoder = std::function<std::string(const std::vector<FlowRecord>&)>;

  FlowSender(SenderOptions options, Encoder encode);
  ~FlowSender();
  FlowSender(const FlowSender&) = delete;
  FlowSender& operator=(const FlowSender&) = delete;

  void Send(std::vector<FlowRecord> records);
  uint64_t dropped() const { return dropped_; }  // Records.
  uint64_t sent() const { return sent_; }        // Records.
  // Waits until the queue is empty (tests).
  void DrainForTest();

 private:
  void Loop();
  [[nodiscard]] Status Post(const std::string& body);

  SenderOptions options_;
  Encoder encode_;
  std::string host_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<FlowRecord>> queue_;
  bool busy_ = false;
  bool stop_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> sent_{0};
  std::thread thread_;
};

// "host:port" / "http://host:port" -> (host, port); an error names the problem.
[[nodiscard]] Result<std::pair<std::string, int>> ParseServerAddress(std::string_view server);

}  // namespace calico::flowlog
