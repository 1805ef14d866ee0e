// The collector's thread: sources -> Collector -> sink, every flush interval. See runner.h.
#include "calico/flowlog/runner.h"

#include <poll.h>

#include <string>
#include <utility>

#include <fmt/format.h>

#include "calico/base/log.h"

namespace calico::flowlog {
namespace {

// A Prometheus label value: backslash, quote and newline escaped.
std::string LabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

FlowLogRunner::FlowLogRunner(RunnerOptions options, std::unique_ptr<NflogSource> nflog,
                             std::unique_ptr<ConntrackSource> conntrack, Sink sink,
                             DroppedBySink dropped_by_sink)
    : options_(options),
      nflog_(std::move(nflog)),
      conntrack_(std::move(conntrack)),
      sink_(std::move(sink)),
      dropped_by_sink_(std::move(dropped_by_sink)),
      collector_(options.collector) {}

FlowLogRunner::~FlowLogRunner() {
  Stop();
}

void FlowLogRunner::SetContext(std::shared_ptr<const FlowContext> context) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_context_ = std::move(context);
  context_changed_ = true;
}

void FlowLogRunner::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void FlowLogRunner::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void FlowLogRunner::PollOnce(Clock::time_point now) {
  std::vector<NflogPacket> packets;
  std::vector<ConntrackEntry> events;
  uint64_t lost = 0;
  if (nflog_ != nullptr) {
    auto r = nflog_->Read(options_.read_batch, &lost);
    if (r) {
      packets = std::move(*r);
    } else {
      ++source_errors_;
      CALICO_LOG(warn, "flowlog", "reading NFLOG: {}", r.error().message());
    }
  }
  if (conntrack_ != nullptr) {
    auto r = conntrack_->ReadEvents(options_.read_batch, &lost);
    if (r) {
      events = std::move(*r);
    } else {
      ++source_errors_;
      CALICO_LOG(warn, "flowlog", "reading conntrack events: {}", r.error().message());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (context_changed_) {
    collector_.SetContext(pending_context_);
    context_changed_ = false;
  }
  collector_.stats().dropped_kernel += lost;
  for (const NflogPacket& p : packets) {
    collector_.OnNflog(p, now);
  }
  for (const ConntrackEntry& e : events) {
    collector_.OnConntrack(e, now);
  }
}

void FlowLogRunner::FlushNow(Clock::time_point now) {
  PollOnce(now);
  std::vector<ConntrackEntry> table;
  if (conntrack_ != nullptr) {
    auto dump = conntrack_->Dump();
    if (dump) {
      table = std::move(*dump);
    } else {
      ++source_errors_;
      CALICO_LOG(warn, "flowlog", "listing conntrack: {}", dump.error().message());
    }
  }
  std::vector<FlowRecord> records;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const ConntrackEntry& e : table) {
      collector_.OnConntrack(e, now);
    }
    records = collector_.Flush(now);
    records_ += records.size();
  }
  if (!records.empty() && sink_) sink_(std::move(records));
}

void FlowLogRunner::Loop() {
  auto next_flush = Clock::now() + options_.flush_interval;
  while (!stop_) {
    std::vector<pollfd> fds;
    for (int fd :
         {nflog_ != nullptr ? nflog_->fd() : -1, conntrack_ != nullptr ? conntrack_->fd() : -1}) {
      if (fd >= 0) fds.push_back(pollfd{.fd = fd, .events = POLLIN, .revents = 0});
    }
    // Wake at least every 100 ms (Stop, the flush) even when the sources are idle.
    const auto wait = std::clamp<int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(next_flush - Clock::now()).count(), 0,
        100);
    ::poll(fds.data(), fds.size(), static_cast<int>(wait));
    const Clock::time_point now = Clock::now();
    if (now >= next_flush) {
      FlushNow(now);
      next_flush = now + options_.flush_interval;
    } else {
      PollOnce(now);
    }
  }
}

std::string FlowLogRunner::MetricsText() const {
  std::lock_guard<std::mutex> lock(mu_);
  const CollectorStats& s = collector_.stats();
  const uint64_t send = dropped_by_sink_ ? dropped_by_sink_() : 0;
  std::string out;
  out +=
      "# HELP calico_node_flow_logs_dropped_total Flow-log input or records dropped, by reason.\n"
      "# TYPE calico_node_flow_logs_dropped_total counter\n";
  for (const auto& [reason, n] :
       {std::pair<const char*, uint64_t>{"rate_limited", s.dropped_rate_limited},
        {"flow_limit", s.dropped_flow_limit},
        {"unknown_prefix", s.dropped_unknown_prefix},
        {"incomplete", s.dropped_incomplete},
        {"kernel", s.dropped_kernel},
        {"send", send}}) {
    out += fmt::format("calico_node_flow_logs_dropped_total{{reason=\"{}\"}} {}\n", reason, n);
  }
  out += fmt::format(
      "# HELP calico_node_flow_logs_records_total Flow records produced.\n"
      "# TYPE calico_node_flow_logs_records_total counter\n"
      "calico_node_flow_logs_records_total {}\n"
      "# HELP calico_node_flow_logs_nflog_messages_total NFLOG messages read.\n"
      "# TYPE calico_node_flow_logs_nflog_messages_total counter\n"
      "calico_node_flow_logs_nflog_messages_total {}\n"
      "# HELP calico_node_flow_logs_live_flows Connections tracked by the flow-log collector.\n"
      "# TYPE calico_node_flow_logs_live_flows gauge\n"
      "calico_node_flow_logs_live_flows {}\n",
      records_, s.nflog_messages, s.live_flows);
  const auto& counts = collector_.policy_counts();
  for (const char* what : {"flows", "packets", "bytes"}) {
    out += fmt::format(
        "# HELP calico_node_policy_{0}_total {0} decided by each policy or profile rule, "
        "end-of-tier or no-profile drop.\n# TYPE calico_node_policy_{0}_total counter\n",
        what);
    for (const auto& [key, c] : counts) {
      // key: "<kind>|<tier>|<name>|<rule>|<action>"
      std::vector<std::string> f;
      std::size_t pos = 0;
      for (int i = 0; i < 4; ++i) {
        const std::size_t bar = key.find('|', pos);
        f.push_back(key.substr(pos, bar - pos));
        pos = bar + 1;
      }
      f.push_back(key.substr(pos));
      const int64_t v = what[0] == 'f' ? c.flows : what[0] == 'p' ? c.packets : c.bytes;
      out += fmt::format(
          "calico_node_policy_{}_total{{kind=\"{}\",tier=\"{}\",policy=\"{}\",rule=\"{}\","
          "action=\"{}\"}} {}\n",
          what, LabelValue(f[0]), LabelValue(f[1]), LabelValue(f[2]), LabelValue(f[3]),
          LabelValue(f[4]), v);
    }
  }
  return out;
}

}  // namespace calico::flowlog
