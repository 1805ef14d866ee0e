// IP set elements as nf_tables stores them, and the nfnetlink batch that adds them (the kernel
// side of felix/ipsets' member programming, for the agent's nftables table).
#include "calico/dataplane/nft_set_elements.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/net/ip.h"

namespace calico::dataplane::nft_internal {

namespace {

using Key = std::array<uint8_t, 16>;

// One member as the inclusive range [first, last] of `len`-byte keys.
struct Range {
  Key first{};
  Key last{};
};

bool Less(const Key& a, const Key& b, std::size_t len) {
  return std::memcmp(a.data(), b.data(), len) < 0;
}

bool IsMax(const Key& k, std::size_t len) {
  return std::all_of(k.begin(), k.begin() + static_cast<std::ptrdiff_t>(len),
                     [](uint8_t b) { return b == 0xff; });
}

bool IsZero(const Key& k, std::size_t len) {
  return std::all_of(k.begin(), k.begin() + static_cast<std::ptrdiff_t>(len),
                     [](uint8_t b) { return b == 0; });
}

// k + 1 (k is not the last address).
Key Next(Key k, std::size_t len) {
  for (std::size_t i = len; i-- > 0;) {
    if (++k[i] != 0) break;
  }
  return k;
}

// NFTNL_UDATA_SET_ELEM_FLAGS (1), length 4, NFTNL_SET_ELEM_F_INTERVAL_OPEN (1) in host order:
// libnftnl's udata TLV as nft writes it (nftnl_udata_put_u32).
constexpr uint8_t kUdataSetElemFlags = 1;
constexpr uint32_t kSetElemFIntervalOpen = 1;

std::string_view Trimmed(const std::string& s) {
  return StrTrim(s);
}

ErrorCode CodeForErrno(int err) {
  switch (err) {
    case ENOENT:
      return ErrorCode::kNotFound;
    case EEXIST:
      return ErrorCode::kAlreadyExists;
    case EPERM:
    case EACCES:
      return ErrorCode::kPermissionDenied;
    case EBUSY:
      return ErrorCode::kConflict;
    default:
      return ErrorCode::kUnavailable;
  }
}

std::optional<uint8_t> NfProto(std::string_view family) {
  if (family == "inet") return NFPROTO_INET;
  if (family == "ip") return NFPROTO_IPV4;
  if (family == "ip6") return NFPROTO_IPV6;
  if (family == "bridge") return NFPROTO_BRIDGE;
  if (family == "netdev") return NFPROTO_NETDEV;
  if (family == "arp") return NFPROTO_ARP;
  return std::nullopt;
}

// A batch being built: the messages back to back in one buffer (sent with one sendmsg, which is
// what makes it one transaction).
class Batch {
 public:
  // Sequence numbers go on across batches, so that a late reply to an earlier batch on the same
  // socket is never taken for one of this batch.
  Batch() : seq_(NextSeqBase()) {}

  nlmsghdr* Put(uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id) {
    // Room for the largest message the caller builds (see kMaxNest) before every message.
    const std::size_t offset = used_;
    buf_.resize(offset + kMessageRoom);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf_.data() + offset);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    nlh->nlmsg_seq = ++seq_;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = family;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons(res_id);
    current_ = offset;
    return nlh;
  }
  // Closes the message opened last.
  void Done() {
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf_.data() + current_);
    used_ = current_ + NLMSG_ALIGN(nlh->nlmsg_len);
    buf_.resize(used_);
  }
  nlmsghdr* Current() { return reinterpret_cast<nlmsghdr*>(buf_.data() + current_); }
  uint32_t seq() const { return seq_; }
  const std::vector<char>& bytes() const { return buf_; }

  // Elements per message are bounded so that the element list (a nested attribute, 16-bit
  // length) stays under 64 KiB.
  static constexpr std::size_t kMaxNest = 60000;
  static constexpr std::size_t kMessageRoom = kMaxNest + 4096;

 private:
  static uint32_t NextSeqBase() {
    static std::atomic<uint32_t> base{static_cast<uint32_t>(::time(nullptr))};
    return base.fetch_add(1U << 20);
  }

  std::vector<char> buf_;
  std::size_t used_ = 0;
  std::size_t current_ = 0;
  uint32_t seq_;
};

}  // namespace

std::optional<int> PlainIntervalSetFamily(const nft_model::NftSet& set) {
  if (set.is_map) return std::nullopt;
  std::optional<int> family;
  bool interval = false;
  for (const std::string& line : set.header) {
    const std::string_view h = Trimmed(line);
    if (h == "type ipv4_addr" && !family) {
      family = 4;
    } else if (h == "type ipv6_addr" && !family) {
      family = 6;
    } else if (h == "flags interval" && !interval) {
      interval = true;
    } else if (!h.starts_with("comment ")) {
      return std::nullopt;
    }
  }
  if (!interval) return std::nullopt;
  return family;
}

std::optional<std::vector<KernelElement>> IntervalSetElements(const nft_model::NftLines& members,
                                                              int family) {
  const std::size_t len = family == 6 ? 16 : 4;
  std::vector<Range> ranges;
  ranges.reserve(members.size());
  for (const std::string& text : members) {
    const std::optional<net::CIDR> cidr = net::CIDR::ParseNet(Trimmed(text));
    if (!cidr || cidr->family() != family || !cidr->IsStrictlyMasked()) return std::nullopt;
    Range r;
    r.first = cidr->addr().bytes();
    r.last = r.first;
    const int host_bits = static_cast<int>(len) * 8 - cidr->prefix_len();
    for (int bit = 0; bit < host_bits; ++bit) {
      const std::size_t byte = len - 1 - static_cast<std::size_t>(bit / 8);
      r.last[byte] = static_cast<uint8_t>(r.last[byte] | (1U << (bit % 8)));
    }
    ranges.push_back(r);
  }
  std::sort(ranges.begin(), ranges.end(),
            [len](const Range& a, const Range& b) { return Less(a.first, b.first, len); });
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    // Overlap (or a duplicate): libnftables reports it ("conflicting intervals specified").
    if (!Less(ranges[i - 1].last, ranges[i].first, len)) return std::nullopt;
  }
  std::vector<KernelElement> out;
  out.reserve(ranges.size() * 2 + 1);
  if (!ranges.empty() && !IsZero(ranges.front().first, len)) {
    out.push_back(KernelElement{.key = Key{}, .end = true});
  }
  for (const Range& r : ranges) {
    const bool open = IsMax(r.last, len);
    out.push_back(KernelElement{.key = r.first, .end = false, .open = open});
    if (!open) out.push_back(KernelElement{.key = Next(r.last, len), .end = true});
  }
  return out;
}

Status SendSetElements(mnl_socket* sock, const std::string& family_name, const std::string& table,
                       const std::vector<SetElements>& sets) {
  const std::optional<uint8_t> nfproto = NfProto(family_name);
  if (!nfproto) return InvalidArgument(fmt::format("unknown nftables family {}", family_name));
  Batch batch;
  batch.Put(NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  batch.Done();
  const uint32_t first_seq = batch.seq();
  std::vector<std::pair<uint32_t, const std::string*>> set_of_seq;  // Message seq -> set name.
  uint32_t last_seq = 0;
  for (const SetElements& s : sets) {
    const std::size_t len = s.family == 6 ? 16 : 4;
    // Per element at most: list element nest, key nest, value, flags, user data.
    const std::size_t per_element = 4 + 4 + 4 + NLMSG_ALIGN(len) + 8 + 12;
    const std::size_t per_message = Batch::kMaxNest / per_element;
    for (std::size_t at = 0; at < s.elements.size(); at += per_message) {
      const std::size_t end = std::min(s.elements.size(), at + per_message);
      nlmsghdr* nlh =
          batch.Put(static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM),
                    NLM_F_CREATE, *nfproto, 0);
      mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
      mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, s.set.c_str());
      nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
      for (std::size_t i = at; i < end; ++i) {
        const KernelElement& e = s.elements[i];
        nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
        nlattr* key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
        mnl_attr_put(nlh, NFTA_DATA_VALUE, len, e.key.data());
        mnl_attr_nest_end(nlh, key);
        if (e.end) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
        if (e.open) {
          std::array<uint8_t, 6> udata{kUdataSetElemFlags, 4, 0, 0, 0, 0};
          std::memcpy(udata.data() + 2, &kSetElemFIntervalOpen, 4);
          mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, udata.size(), udata.data());
        }
        mnl_attr_nest_end(nlh, elem);
      }
      mnl_attr_nest_end(nlh, list);
      set_of_seq.emplace_back(nlh->nlmsg_seq, &s.set);
      last_seq = nlh->nlmsg_seq;
      batch.Done();
    }
  }
  if (last_seq == 0) return OkStatus();  // No elements.
  // Only the last message asks for an acknowledgement: the kernel reports every failed message
  // (and then aborts the whole batch) and acknowledges the last one after the commit or abort,
  // so its reply is the end of the answer.
  for (std::size_t off = 0; off < batch.bytes().size();) {
    auto* nlh = reinterpret_cast<nlmsghdr*>(const_cast<char*>(batch.bytes().data()) + off);
    if (nlh->nlmsg_seq == last_seq) nlh->nlmsg_flags |= NLM_F_ACK;
    off += NLMSG_ALIGN(nlh->nlmsg_len);
  }
  batch.Put(NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  batch.Done();

  const std::vector<char>& bytes = batch.bytes();
  // The batch goes in one sendmsg, so the socket's send buffer must hold all of it (nft does the
  // same: SO_SNDBUFFORCE needs CAP_NET_ADMIN, which programming nftables needs anyway).
  const int fd = mnl_socket_get_fd(sock);
  const int want = static_cast<int>(std::min<std::size_t>(bytes.size() + 65536, 1U << 30));
  int have = 0;
  socklen_t have_len = sizeof(have);
  if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, &have_len) != 0 || have < want) {
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) != 0 &&
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want)) != 0) {
      return Unexpected(Error::FromErrno(errno, "set the netfilter socket's send buffer"));
    }
  }
  const int on = 1;
  // Errors quote only the failed message's header, not its (large) element list.
  ::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
  // The kernel answers once the transaction is committed or aborted; a generous bound so that a
  // lost answer becomes an error instead of a hung agent.
  const timeval timeout{.tv_sec = 60, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));

  const ssize_t sent = mnl_socket_sendto(sock, bytes.data(), bytes.size());
  if (sent < 0) return Unexpected(Error::FromErrno(errno, "send the set elements' batch"));

  const auto seq_set = [&](uint32_t seq) -> std::string {
    auto it = std::lower_bound(
        set_of_seq.begin(), set_of_seq.end(), seq,
        [](const std::pair<uint32_t, const std::string*>& p, uint32_t s) { return p.first < s; });
    return it != set_of_seq.end() && it->first == seq ? *it->second : std::string("(batch)");
  };
  std::optional<Error> failed;
  std::vector<char> buf(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE) * 4);
  const uint32_t portid = mnl_socket_get_portid(sock);
  for (bool done = false; !done;) {
    const ssize_t n = mnl_socket_recvfrom(sock, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return Unavailable("no answer from the kernel to the set elements' batch in 60 s");
      }
      return Unexpected(Error::FromErrno(errno, "read the set elements' batch acknowledgement"));
    }
    int left = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_pid != portid || nlh->nlmsg_type != NLMSG_ERROR) continue;
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      const uint32_t seq = err->msg.nlmsg_seq;
      // Not ours (an older request); unsigned differences, so a wrapped counter still compares.
      if (seq - first_seq > last_seq + 1 - first_seq) continue;
      if (err->error != 0 && !failed) {
        const int code = -err->error;
        // strerrordesc_np: strerror's text without its static buffer (this runs on a thread).
        const char* text = ::strerrordesc_np(code);
        failed = Error(CodeForErrno(code),
                       fmt::format("add elements to set {}: {}", seq_set(seq),
                                   text != nullptr ? text : fmt::format("errno {}", code)));
      }
      // The last message's reply ends the answer; an error about the batch itself (its begin or
      // end message) means nothing else follows.
      if (seq == last_seq || seq == first_seq || seq == last_seq + 1) done = true;
    }
  }
  if (failed) return Unexpected(*failed);
  return OkStatus();
}

}  // namespace calico::dataplane::nft_internal
