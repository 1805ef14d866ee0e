// IP address, CIDR and MAC parsing/formatting with Go net package semantics (libcalico-go/lib/net).
#include "calico/net/ip.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace calico::net {
namespace {

bool ParseV4(std::string_view s, std::array<uint8_t, 16>& out) {
  // Go's parseIPv4: exactly four decimal fields 0..255, no leading zeros beyond a single "0"
  // (Go >= 1.17 rejects leading zeros), no empty fields.
  int field = 0;
  size_t i = 0;
  while (field < 4) {
    if (i >= s.size()) return false;
    if (field > 0) {
      if (s[i] != '.') return false;
      ++i;
    }
    size_t start = i;
    unsigned value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      if (value > 255) return false;
      ++i;
    }
    size_t len = i - start;
    if (len == 0 || len > 3) return false;
    if (len > 1 && s[start] == '0') return false;
    out[static_cast<size_t>(field)] = static_cast<uint8_t>(value);
    ++field;
  }
  return i == s.size();
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseV6(std::string_view s, std::array<uint8_t, 16>& out) {
  out.fill(0);
  int ellipsis = -1;  // Byte index of "::".
  size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    ellipsis = 0;
    i = 2;
    if (i == s.size()) return true;
  }
  size_t j = 0;  // Bytes filled.
  while (j < 16) {
    // Hex field.
    size_t start = i;
    unsigned n = 0;
    while (i < s.size() && HexVal(s[i]) >= 0 && i - start < 4) {
      n = n * 16 + static_cast<unsigned>(HexVal(s[i]));
      ++i;
    }
    if (i == start) return false;
    if (i < s.size() && HexVal(s[i]) >= 0) return false;  // More than 4 hex digits.
    // Embedded IPv4 tail.
    if (i < s.size() && s[i] == '.') {
      if (ellipsis < 0 && j != 12) return false;
      if (j + 4 > 16) return false;
      std::array<uint8_t, 16> v4{};
      if (!ParseV4(s.substr(start), v4)) return false;
      for (size_t k = 0; k < 4; ++k)
        out[j + k] = v4[k];
      j += 4;
      i = s.size();
      break;
    }
    out[j] = static_cast<uint8_t>(n >> 8);
    out[j + 1] = static_cast<uint8_t>(n & 0xff);
    j += 2;
    if (i == s.size()) break;
    if (s[i] != ':' || i + 1 == s.size()) return false;
    ++i;
    if (s[i] == ':') {
      if (ellipsis >= 0) return false;
      ellipsis = static_cast<int>(j);
      ++i;
      if (i == s.size()) break;
    }
  }
  if (i != s.size()) return false;
  if (j < 16) {
    if (ellipsis < 0) return false;
    size_t n = 16 - j;
    for (size_t k = j; k-- > static_cast<size_t>(ellipsis);)
      out[k + n] = out[k];
    for (size_t k = static_cast<size_t>(ellipsis); k < static_cast<size_t>(ellipsis) + n; ++k) {
      out[k] = 0;
    }
  } else if (ellipsis >= 0) {
    return false;  // "::" must stand for at least one group.
  }
  return true;
}

}  // namespace

IPAddr IPAddr::V4(uint32_t host_order) {
  IPAddr ip;
  ip.bytes_[0] = static_cast<uint8_t>(host_order >> 24);
  ip.bytes_[1] = static_cast<uint8_t>(host_order >> 16);
  ip.bytes_[2] = static_cast<uint8_t>(host_order >> 8);
  ip.bytes_[3] = static_cast<uint8_t>(host_order);
  return ip;
}

IPAddr IPAddr::V6(const std::array<uint8_t, 16>& bytes) {
  IPAddr ip;
  ip.v6_ = true;
  ip.bytes_ = bytes;
  return ip;
}

std::optional<IPAddr> IPAddr::Parse(std::string_view text) {
  std::array<uint8_t, 16> b{};
  if (text.find(':') != std::string_view::npos) {
    if (!ParseV6(text, b)) return std::nullopt;
    // IPv4-mapped (::ffff:a.b.c.d) is an IPv4 address in Go (To4() != nil).
    static constexpr std::array<uint8_t, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b.data(), kMapped.data(), kMapped.size()) == 0) {
      IPAddr ip;
      for (size_t k = 0; k < 4; ++k)
        ip.bytes_[k] = b[12 + k];
      return ip;
    }
    return V6(b);
  }
  if (!ParseV4(text, b)) return std::nullopt;
  IPAddr ip;
  ip.bytes_ = b;
  return ip;
}

uint32_t IPAddr::v4_host_order() const {
  return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
         uint32_t{bytes_[3]};
}

std::string IPAddr::String() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!v6_) {
    std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u", bytes_[0], bytes_[1], bytes_[2], bytes_[3]);
    return buf;
  }
  // RFC 5952: longest run (>= 2 groups) of zero groups becomes "::", first one on ties.
  uint16_t g[8];
  for (size_t k = 0; k < 8; ++k) {
    g[k] = static_cast<uint16_t>((bytes_[2 * k] << 8) | bytes_[2 * k + 1]);
  }
  int best = -1;
  int best_len = 0;
  for (int k = 0; k < 8;) {
    if (g[k] != 0) {
      ++k;
      continue;
    }
    int e = k;
    while (e < 8 && g[e] == 0)
      ++e;
    if (e - k > best_len && e - k >= 2) {
      best = k;
      best_len = e - k;
    }
    k = e;
  }
  std::string out;
  for (int k = 0; k < 8; ++k) {
    if (k == best) {
      out += "::";
      k += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    char h[8];
    std::snprintf(h, sizeof(h), "%x", g[k]);
    out += h;
  }
  return out;
}

IPAddr IPAddr::Add(uint64_t n) const {
  IPAddr r = *this;
  size_t len = v6_ ? 16 : 4;
  uint64_t carry = n;
  for (size_t k = len; k-- > 0 && carry != 0;) {
    uint64_t sum = uint64_t{r.bytes_[k]} + (carry & 0xff);
    r.bytes_[k] = static_cast<uint8_t>(sum & 0xff);
    carry = (carry >> 8) + (sum >> 8);
  }
  return r;
}

uint64_t IPAddr::Sub(const IPAddr& other) const {
  size_t len = v6_ ? 16 : 4;
  uint64_t a = 0;
  uint64_t b = 0;
  for (size_t k = (len > 8 ? len - 8 : 0); k < len; ++k) {
    a = (a << 8) | bytes_[k];
    b = (b << 8) | other.bytes_[k];
  }
  return a - b;
}

std::optional<CIDR> CIDR::Parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = IPAddr::Parse(text.substr(0, slash));
  if (!ip) return std::nullopt;
  std::string_view len_text = text.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 3) return std::nullopt;
  int len = 0;
  for (char c : len_text) {
    if (c < '0' || c > '9') return std::nullopt;
    len = len * 10 + (c - '0');
  }
  if (len_text.size() > 1 && len_text[0] == '0') return std::nullopt;
  // "::ffff:1.2.3.4/120" style: Go keeps the 128-bit length for mapped addresses given in v6
  // text; we only accept lengths valid for the resulting family.
  if (len > ip->bit_len()) return std::nullopt;
  return CIDR(*ip, len);
}

std::optional<CIDR> CIDR::ParseNet(std::string_view text) {
  if (text.find('/') != std::string_view::npos) return Parse(text);
  auto ip = IPAddr::Parse(text);
  if (!ip) return std::nullopt;
  return CIDR(*ip, ip->bit_len());
}

CIDR CIDR::Masked() const {
  std::array<uint8_t, 16> b = addr_.bytes();
  size_t len = addr_.is_v6() ? 16 : 4;
  for (size_t k = 0; k < len; ++k) {
    int bits = prefix_len_ - static_cast<int>(k) * 8;
    if (bits >= 8) continue;
    if (bits <= 0) {
      b[k] = 0;
    } else {
      b[k] = static_cast<uint8_t>(b[k] & (0xff << (8 - bits)));
    }
  }
  IPAddr a = addr_.is_v6() ? IPAddr::V6(b)
                           : IPAddr::V4((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) |
                                        (uint32_t{b[2]} << 8) | uint32_t{b[3]});
  return CIDR(a, prefix_len_);
}

bool CIDR::IsStrictlyMasked() const {
  return Masked().addr_ == addr_;
}

bool CIDR::Contains(const IPAddr& ip) const {
  if (ip.family() != family()) return false;
  return CIDR(ip, prefix_len_).Masked().addr_ == Masked().addr_;
}

bool CIDR::Contains(const CIDR& other) const {
  return other.family() == family() && other.prefix_len_ >= prefix_len_ && Contains(other.addr_);
}

bool CIDR::Overlaps(const CIDR& other) const {
  return Contains(other) || other.Contains(*this);
}

uint64_t CIDR::Size() const {
  int host_bits = addr_.bit_len() - prefix_len_;
  if (host_bits >= 64) return UINT64_MAX;
  return uint64_t{1} << host_bits;
}

std::string CIDR::String() const {
  return addr_.String() + "/" + std::to_string(prefix_len_);
}

std::optional<MAC> MAC::Parse(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  char sep = text[2];
  if (sep != ':' && sep != '-') return std::nullopt;
  std::array<uint8_t, 6> b{};
  for (size_t k = 0; k < 6; ++k) {
    size_t pos = k * 3;
    int hi = HexVal(text[pos]);
    int lo = HexVal(text[pos + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (k < 5 && text[pos + 2] != sep) return std::nullopt;
    b[k] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return MAC(b);
}

std::string MAC::String() const {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", bytes_[0], bytes_[1], bytes_[2],
                bytes_[3], bytes_[4], bytes_[5]);
  return buf;
}

}  // namespace calico::net
