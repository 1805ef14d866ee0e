// Stateful fakes of the collector's kernel seams (sources.h): tests queue NFLOG messages and
// conntrack events and keep a conntrack table that Dump() returns.
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <vector>

#include "calico/dataplane/flow_sources.h"

namespace calico::flowlog::testing {

using dataplane::ConntrackEntry;
using dataplane::ConntrackSource;
using dataplane::FiveTuple;
using dataplane::NflogPacket;
using dataplane::NflogSource;

class FakeNflogSource : public NflogSource {
 public:
  void Push(NflogPacket p) { queue_.push_back(std::move(p)); }
  void Lose(uint64_t n) { lost_ += n; }
  int fd() const override { return -1; }
  Result<std::vector<NflogPacket>> Read(std::size_t max, uint64_t* lost) override {
    if (fail_) return Unavailable("fake nflog: read failed");
    std::vector<NflogPacket> out;
    while (!queue_.empty() && out.size() < max) {
      out.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    *lost += lost_;
    lost_ = 0;
    return out;
  }
  void set_fail(bool f) { fail_ = f; }
  std::size_t queued() const { return queue_.size(); }

 private:
  std::deque<NflogPacket> queue_;
  uint64_t lost_ = 0;
  bool fail_ = false;
};

// A conntrack table: Add/Count/Destroy change it and queue the events the kernel would send.
class FakeConntrackSource : public ConntrackSource {
 public:
  void Add(const FiveTuple& t) {
    table_[t] = ConntrackEntry{.type = ConntrackEntry::Type::kDump, .orig = t};
    Event(ConntrackEntry::Type::kNew, table_[t]);
  }
  // Traffic on a tracked connection (counters only: no event, as the kernel).
  void Count(const FiveTuple& t, uint64_t orig_packets, uint64_t orig_bytes, uint64_t reply_packets,
             uint64_t reply_bytes) {
    ConntrackEntry& e = table_[t];
    e.orig = t;
    e.orig_packets += orig_packets;
    e.orig_bytes += orig_bytes;
    e.reply_packets += reply_packets;
    e.reply_bytes += reply_bytes;
  }
  void Destroy(const FiveTuple& t) {
    auto it = table_.find(t);
    if (it == table_.end()) return;
    Event(ConntrackEntry::Type::kDestroy, it->second);
    table_.erase(it);
  }
  int fd() const override { return -1; }
  Result<std::vector<ConntrackEntry>> ReadEvents(std::size_t max, uint64_t* /*lost*/) override {
    std::vector<ConntrackEntry> out;
    while (!events_.empty() && out.size() < max) {
      out.push_back(events_.front());
      events_.pop_front();
    }
    return out;
  }
  Result<std::vector<ConntrackEntry>> Dump() override {
    std::vector<ConntrackEntry> out;
    for (const auto& [t, e] : table_) {
      out.push_back(e);
    }
    return out;
  }

 private:
  void Event(ConntrackEntry::Type type, ConntrackEntry e) {
    e.type = type;
    events_.push_back(e);
  }
  std::map<FiveTuple, ConntrackEntry> table_;
  std::deque<ConntrackEntry> events_;
};

}  // namespace calico::flowlog::testing
