// NFLOG and conntrack sources over libnetfilter-log / libnetfilter-conntrack (Felix's
// felix/collector nfnetlink readers). See netfilter_sources.h.
#include "calico/dataplane/netfilter_sources.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_log/libnetfilter_log.h>

namespace calico::dataplane {

std::optional<FiveTuple> ParsePacketTuple(const uint8_t* data, std::size_t len) {
  if (len < 1) return std::nullopt;
  FiveTuple t;
  std::size_t l4 = 0;
  const int version = data[0] >> 4;
  if (version == 4) {
    if (len < 20) return std::nullopt;
    const std::size_t ihl = static_cast<std::size_t>(data[0] & 0x0f) * 4;
    uint32_t s = 0, d = 0;
    std::memcpy(&s, data + 12, 4);
    std::memcpy(&d, data + 16, 4);
    t.src = net::IPAddr::V4(ntohl(s));
    t.dst = net::IPAddr::V4(ntohl(d));
    t.proto = data[9];
    l4 = ihl;
  } else if (version == 6) {
    if (len < 40) return std::nullopt;
    std::array<uint8_t, 16> s{}, d{};
    std::memcpy(s.data(), data + 8, 16);
    std::memcpy(d.data(), data + 24, 16);
    t.src = net::IPAddr::V6(s);
    t.dst = net::IPAddr::V6(d);
    t.proto = data[6];  // Extension headers are not followed: their ports stay 0.
    l4 = 40;
  } else {
    return std::nullopt;
  }
  if ((t.proto == 6 || t.proto == 17 || t.proto == 132) && len >= l4 + 4) {
    t.src_port = static_cast<uint16_t>((data[l4] << 8) | data[l4 + 1]);
    t.dst_port = static_cast<uint16_t>((data[l4 + 2] << 8) | data[l4 + 3]);
  }
  return t;
}

namespace {

class NetfilterNflogSource : public NflogSource {
 public:
  ~NetfilterNflogSource() override {
    for (nflog_g_handle* g : groups_) {
      nflog_unbind_group(g);
    }
    if (h_ != nullptr) nflog_close(h_);
  }

  Status Open(const std::vector<int>& groups, int rcvbuf) {
    h_ = nflog_open();
    if (h_ == nullptr) return Unavailable(fmt::format("nflog_open: {}", std::strerror(errno)));
    // Old kernels need the families bound; newer ones ignore this (errors are not fatal).
    for (uint16_t pf : {static_cast<uint16_t>(AF_INET), static_cast<uint16_t>(AF_INET6)}) {
      (void)nflog_bind_pf(h_, pf);
    }
    for (int group : groups) {
      nflog_g_handle* g = nflog_bind_group(h_, static_cast<uint16_t>(group));
      if (g == nullptr) {
        return Unavailable(fmt::format("binding NFLOG group {}: {} (another collector bound it?)",
                                       group, std::strerror(errno)));
      }
      groups_.push_back(g);
      contexts_.push_back(std::make_unique<GroupContext>(GroupContext{group, this}));
      // The network and transport headers are all the collector reads.
      if (nflog_set_mode(g, NFULNL_COPY_PACKET, 128) < 0) {
        return Unavailable(
            fmt::format("NFLOG group {} copy mode: {}", group, std::strerror(errno)));
      }
      // Deliver within 100 ms (the kernel batches up to the threshold or the timeout).
      (void)nflog_set_timeout(g, 10);
      (void)nflog_set_qthresh(g, 64);
      nflog_callback_register(g, &NetfilterNflogSource::OnPacket, contexts_.back().get());
    }
    fd_ = nflog_fd(h_);
    (void)setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    const int flags = fcntl(fd_, F_GETFL);
    if (flags < 0 || fcntl(fd_, F_SETFL, flags | O_NONBLOCK) < 0) {
      return Unavailable(fmt::format("NFLOG socket: {}", std::strerror(errno)));
    }
    return OkStatus();
  }

  int fd() const override { return fd_; }

  Result<std::vector<NflogPacket>> Read(std::size_t max, uint64_t* lost) override {
    std::vector<NflogPacket> out;
    out_ = &out;
    std::array<char, 65536> buf{};
    while (out.size() < max) {
      const ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == ENOBUFS) {  // The kernel dropped messages: the buffer overran.
          ++*lost;
          continue;
        }
        if (errno == EINTR) continue;
        out_ = nullptr;
        return Unavailable(fmt::format("reading NFLOG: {}", std::strerror(errno)));
      }
      nflog_handle_packet(h_, buf.data(), static_cast<int>(n));
    }
    out_ = nullptr;
    return out;
  }

 private:
  static int OnPacket(nflog_g_handle* /*gh*/, nfgenmsg* /*msg*/, nflog_data* nfa, void* data) {
    const auto* ctx = static_cast<const GroupContext*>(data);
    NetfilterNflogSource* self = ctx->self;
    if (self->out_ == nullptr) return 0;
    char* payload = nullptr;
    const int len = nflog_get_payload(nfa, &payload);
    if (len <= 0) return 0;
    auto tuple =
        ParsePacketTuple(reinterpret_cast<const uint8_t*>(payload), static_cast<std::size_t>(len));
    if (!tuple) return 0;
    const char* prefix = nflog_get_prefix(nfa);
    uint32_t bytes = static_cast<uint32_t>(len);
    // The packet's real length is in the IP header (the copy is cut to 128 bytes).
    const auto* p = reinterpret_cast<const uint8_t*>(payload);
    if ((p[0] >> 4) == 4 && len >= 4) bytes = static_cast<uint32_t>((p[2] << 8) | p[3]);
    if ((p[0] >> 4) == 6 && len >= 6) bytes = 40u + static_cast<uint32_t>((p[4] << 8) | p[5]);
    self->out_->push_back(NflogPacket{.group = ctx->group,
                                      .prefix = prefix != nullptr ? prefix : "",
                                      .tuple = *tuple,
                                      .bytes = bytes});
    return 0;
  }

  struct GroupContext {
    int group;
    NetfilterNflogSource* self;
  };
  nflog_handle* h_ = nullptr;
  std::vector<nflog_g_handle*> groups_;
  std::vector<std::unique_ptr<GroupContext>> contexts_;  // The callbacks' data (stable).
  int fd_ = -1;
  std::vector<NflogPacket>* out_ = nullptr;
};

// Reads a conntrack entry's tuple and counters.
ConntrackEntry ToEntry(nf_conntrack_msg_type type, const nf_conntrack* ct) {
  ConntrackEntry e;
  e.type = type == NFCT_T_NEW       ? ConntrackEntry::Type::kNew
           : type == NFCT_T_DESTROY ? ConntrackEntry::Type::kDestroy
           : type == NFCT_T_UPDATE  ? ConntrackEntry::Type::kUpdate
                                    : ConntrackEntry::Type::kDump;
  const uint8_t l3 = nfct_get_attr_u8(ct, ATTR_L3PROTO);
  if (l3 == AF_INET) {
    e.orig.src = net::IPAddr::V4(ntohl(nfct_get_attr_u32(ct, ATTR_IPV4_SRC)));
    e.orig.dst = net::IPAddr::V4(ntohl(nfct_get_attr_u32(ct, ATTR_IPV4_DST)));
  } else {
    std::array<uint8_t, 16> s{}, d{};
    std::memcpy(s.data(), nfct_get_attr(ct, ATTR_IPV6_SRC), 16);
    std::memcpy(d.data(), nfct_get_attr(ct, ATTR_IPV6_DST), 16);
    e.orig.src = net::IPAddr::V6(s);
    e.orig.dst = net::IPAddr::V6(d);
  }
  e.orig.proto = nfct_get_attr_u8(ct, ATTR_L4PROTO);
  if (e.orig.proto == 6 || e.orig.proto == 17 || e.orig.proto == 132) {
    e.orig.src_port = ntohs(nfct_get_attr_u16(ct, ATTR_PORT_SRC));
    e.orig.dst_port = ntohs(nfct_get_attr_u16(ct, ATTR_PORT_DST));
  }
  e.orig_packets = nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_PACKETS);
  e.orig_bytes = nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_BYTES);
  e.reply_packets = nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_PACKETS);
  e.reply_bytes = nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_BYTES);
  return e;
}

class NetfilterConntrackSource : public ConntrackSource {
 public:
  ~NetfilterConntrackSource() override {
    if (events_ != nullptr) nfct_close(events_);
    if (dump_ != nullptr) nfct_close(dump_);
  }

  Status Open() {
    events_ = nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_DESTROY);
    if (events_ == nullptr) {
      return Unavailable(fmt::format("conntrack events: {}", std::strerror(errno)));
    }
    dump_ = nfct_open(CONNTRACK, 0);
    if (dump_ == nullptr) return Unavailable(fmt::format("conntrack: {}", std::strerror(errno)));
    nfct_callback_register(events_, NFCT_T_ALL, &NetfilterConntrackSource::OnEntry, this);
    nfct_callback_register(dump_, NFCT_T_ALL, &NetfilterConntrackSource::OnEntry, this);
    const int fd = nfct_fd(events_);
    const int rcvbuf = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
      return Unavailable(fmt::format("conntrack socket: {}", std::strerror(errno)));
    }
    return OkStatus();
  }

  int fd() const override { return nfct_fd(events_); }

  Result<std::vector<ConntrackEntry>> ReadEvents(std::size_t max, uint64_t* lost) override {
    std::vector<ConntrackEntry> out;
    out_ = &out;
    max_ = max;
    // nfct_catch reads until the (non-blocking) socket is empty: -1 with EAGAIN then.
    const int r = nfct_catch(events_);
    out_ = nullptr;
    if (r < 0 && errno == ENOBUFS) ++*lost;
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR) {
      return Unavailable(fmt::format("reading conntrack events: {}", std::strerror(errno)));
    }
    return out;
  }

  Result<std::vector<ConntrackEntry>> Dump() override {
    std::vector<ConntrackEntry> out;
    out_ = &out;
    max_ = SIZE_MAX;
    for (uint32_t family : {static_cast<uint32_t>(AF_INET), static_cast<uint32_t>(AF_INET6)}) {
      if (nfct_query(dump_, NFCT_Q_DUMP, &family) < 0) {
        out_ = nullptr;
        return Unavailable(fmt::format("listing conntrack: {}", std::strerror(errno)));
      }
    }
    out_ = nullptr;
    return out;
  }

 private:
  static int OnEntry(nf_conntrack_msg_type type, nf_conntrack* ct, void* data) {
    auto* self = static_cast<NetfilterConntrackSource*>(data);
    if (self->out_ == nullptr) return NFCT_CB_CONTINUE;
    self->out_->push_back(ToEntry(type, ct));
    return self->out_->size() >= self->max_ ? NFCT_CB_STOP : NFCT_CB_CONTINUE;
  }

  nfct_handle* events_ = nullptr;
  nfct_handle* dump_ = nullptr;
  std::vector<ConntrackEntry>* out_ = nullptr;
  std::size_t max_ = 0;
};

}  // namespace

Result<std::unique_ptr<NflogSource>> OpenNflogSource(const std::vector<int>& groups, int rcvbuf) {
  auto src = std::make_unique<NetfilterNflogSource>();
  RETURN_IF_ERROR(src->Open(groups, rcvbuf));
  return std::unique_ptr<NflogSource>(std::move(src));
}

Result<std::unique_ptr<ConntrackSource>> OpenConntrackSource() {
  auto src = std::make_unique<NetfilterConntrackSource>();
  RETURN_IF_ERROR(src->Open());
  return std::unique_ptr<ConntrackSource>(std::move(src));
}

Status EnableConntrackAccounting() {
  std::ofstream f("/proc/sys/net/netfilter/nf_conntrack_acct");
  if (!f) return Unavailable("cannot open /proc/sys/net/netfilter/nf_conntrack_acct");
  f << "1\n";
  f.flush();
  if (!f) return Unavailable("cannot write /proc/sys/net/netfilter/nf_conntrack_acct");
  return OkStatus();
}

}  // namespace calico::dataplane
