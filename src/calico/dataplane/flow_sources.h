// The flow-log collector's kernel seams (contracts; no kernel headers): the NFLOG messages the
// ruleset's flow-log statements emit (policy/flow_log_prefix.h) and conntrack's events and
// counters. The Linux implementations (libnetfilter-log, libnetfilter-conntrack) are in
// netfilter_sources.h; stateful fakes in flowlog/testing/fake_sources.h.
//
// Thread-safety: a source is used from one thread (the collector's).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/net/ip.h"

namespace calico::dataplane {

// A connection's original-direction 5-tuple (ports 0 for protocols without them).
struct FiveTuple {
  net::IPAddr src{};
  net::IPAddr dst{};
  uint8_t proto = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;

  auto operator<=>(const FiveTuple&) const = default;
};

// One NFLOG message: a packet that met a `log group N prefix "..."` statement.
struct NflogPacket {
  int group = 0;       // 1 = ingress verdict, 2 = egress (policy::kNflogIngressGroup, ...).
  std::string prefix;  // As the rule carries it ("API0|gnp/allow-web").
  FiveTuple tuple{};
  uint32_t bytes = 0;  // The packet's length.
};

class NflogSource {
 public:
  virtual ~NflogSource() = default;
  // A descriptor that becomes readable when messages are waiting (-1: poll by time only).
  virtual int fd() const = 0;
  // Up to `max` messages that are waiting, without blocking; kernel-side losses (socket buffer
  // overruns) are added to *lost.
  [[nodiscard]] virtual Result<std::vector<NflogPacket>> Read(std::size_t max, uint64_t* lost) = 0;
};

// A conntrack entry or event, with its accounting counters (zero when nf_conntrack_acct is off).
struct ConntrackEntry {
  enum class Type { kNew, kUpdate, kDestroy, kDump };
  Type type = Type::kDump;
  FiveTuple orig{};
  uint64_t orig_packets = 0, orig_bytes = 0;    // Originator -> responder.
  uint64_t reply_packets = 0, reply_bytes = 0;  // Responder -> originator.
};

class ConntrackSource {
 public:
  virtual ~ConntrackSource() = default;
  virtual int fd() const = 0;  // Readable when events wait (-1: none).
  // Events waiting (new, destroyed connections with their final counters), without blocking.
  [[nodiscard]] virtual Result<std::vector<ConntrackEntry>> ReadEvents(std::size_t max,
                                                                       uint64_t* lost) = 0;
  // Every tracked connection with its counters now (the periodic counter poll).
  [[nodiscard]] virtual Result<std::vector<ConntrackEntry>> Dump() = 0;
};

}  // namespace calico::dataplane
