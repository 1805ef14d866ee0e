// The flow records' way to calico-flows. See sender.h.
#include "calico/flowlog/sender.h"

#include <httplib.h>

#include <string>
#include <utility>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/base/numbers.h"

namespace calico::flowlog {

Result<std::pair<std::string, int>> ParseServerAddress(std::string_view server) {
  std::string_view s = server;
  if (s.substr(0, 7) == "http://") s.remove_prefix(7);
  while (!s.empty() && s.back() == '/')
    s.remove_suffix(1);
  const std::size_t colon = s.rfind(':');
  if (s.empty() || colon == std::string_view::npos || colon == 0) {
    return InvalidArgument(
        fmt::format("flowLogsGoldmaneServer \"{}\": want host:port or http://host:port", server));
  }
  std::string host(s.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto port = ParseInt<uint16_t>(s.substr(colon + 1));
  if (!port || *port == 0) {
    return InvalidArgument(fmt::format("flowLogsGoldmaneServer \"{}\": bad port", server));
  }
  return std::make_pair(host, static_cast<int>(*port));
}

FlowSender::FlowSender(SenderOptions options, Encoder encode)
    : options_(std::move(options)), encode_(std::move(encode)) {
  if (auto hp = ParseServerAddress(options_.server)) {
    host_ = hp->first;
    port_ = hp->second;
  }
  thread_ = std::thread([this] { Loop(); });
}

FlowSender::~FlowSender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FlowSender::Send(std::vector<FlowRecord> records) {
  if (records.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= options_.max_queued_batches) {
      dropped_ += records.size();
      return;
    }
    queue_.push_back(std::move(records));
  }
  cv_.notify_all();
}

void FlowSender::DrainForTest() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

Status FlowSender::Post(const std::string& body) {
  if (port_ == 0) return InvalidArgument("no valid flowLogsGoldmaneServer");
  httplib::Client client(host_, port_);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(options_.timeout);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(options_.timeout - secs);
  client.set_connection_timeout(secs.count(), usecs.count());
  client.set_read_timeout(secs.count(), usecs.count());
  client.set_write_timeout(secs.count(), usecs.count());
  auto res = client.Post(options_.path, body, "application/x-ndjson");
  if (!res) {
    return Unavailable(
        fmt::format("posting flows to {}:{}: {}", host_, port_, httplib::to_string(res.error())));
  }
  if (res->status / 100 != 2) {
    return Unavailable(
        fmt::format("posting flows to {}:{}: HTTP {} {}", host_, port_, res->status, res->body));
  }
  return OkStatus();
}

void FlowSender::Loop() {
  bool logged_failure = false;
  while (true) {
    std::vector<FlowRecord> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      busy_ = false;
      cv_.notify_all();
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      batch = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    Status st = Post(encode_(batch));
    if (st) {
      sent_ += batch.size();
      if (logged_failure) CALICO_LOG(info, "flowlog", "flow records reach calico-flows again");
      logged_failure = false;
    } else {
      dropped_ += batch.size();
      if (!logged_failure) {
        CALICO_LOG(warn, "flowlog", "dropping {} flow records: {}", batch.size(),
                   st.error().message());
      }
      logged_failure = true;
    }
  }
}

}  // namespace calico::flowlog
