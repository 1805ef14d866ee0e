// IPv4/IPv6 addresses, CIDRs and MACs (libcalico-go/lib/net). Parsing follows Go's net package:
// ParseIP accepts dotted quads and RFC 4291 text (IPv4-mapped IPv6 is treated as IPv6 text);
// ParseCIDR requires "addr/len"; ParseNet also accepts a bare address as /32 or /128.
// String() forms are canonical (RFC 5952 for IPv6: lower case, longest zero run compressed).
//
// Thread-safety: values.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace calico::net {

class IPAddr {
 public:
  IPAddr() = default;
  static IPAddr V4(uint32_t host_order);
  static IPAddr V6(const std::array<uint8_t, 16>& bytes);
  static std::optional<IPAddr> Parse(std::string_view text);

  int family() const { return v6_ ? 6 : 4; }
  bool is_v4() const { return !v6_; }
  bool is_v6() const { return v6_; }
  // Network-order bytes: 4 used for IPv4, 16 for IPv6.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  int bit_len() const { return v6_ ? 128 : 32; }
  uint32_t v4_host_order() const;  // Precondition: is_v4().
  std::string String() const;

  // addr + n (wrapping within the family); used to walk blocks.
  [[nodiscard]] IPAddr Add(uint64_t n) const;
  // this - other as an unsigned offset (low 64 bits).
  uint64_t Sub(const IPAddr& other) const;

  auto operator<=>(const IPAddr&) const = default;

 private:
  bool v6_ = false;
  std::array<uint8_t, 16> bytes_{};
};

class CIDR {
 public:
  CIDR() = default;
  CIDR(IPAddr addr, int prefix_len) : addr_(addr), prefix_len_(prefix_len) {}
  // "addr/len" only.
  static std::optional<CIDR> Parse(std::string_view text);
  // "addr/len" or a bare address (as /32 or /128).
  static std::optional<CIDR> ParseNet(std::string_view text);

  const IPAddr& addr() const { return addr_; }
  int prefix_len() const { return prefix_len_; }
  int family() const { return addr_.family(); }
  // Host bits zero.
  bool IsStrictlyMasked() const;
  // The same prefix with host bits cleared.
  [[nodiscard]] CIDR Masked() const;
  bool Contains(const IPAddr& ip) const;
  bool Contains(const CIDR& other) const;
  bool Overlaps(const CIDR& other) const;
  // Number of addresses (saturates at 2^64-1 for big IPv6 prefixes).
  uint64_t Size() const;
  // "10.0.0.0/8" in canonical form (address as given, not masked).
  std::string String() const;

  auto operator<=>(const CIDR&) const = default;

 private:
  IPAddr addr_;
  int prefix_len_ = 0;
};

class MAC {
 public:
  MAC() = default;
  explicit MAC(const std::array<uint8_t, 6>& b) : bytes_(b) {}
  // Accepts "aa:bb:cc:dd:ee:ff" and "aa-bb-cc-dd-ee-ff" (Go's net.ParseMAC for 48-bit).
  static std::optional<MAC> Parse(std::string_view text);
  const std::array<uint8_t, 6>& bytes() const { return bytes_; }
  std::string String() const;  // lower-case, colon separated.
  auto operator<=>(const MAC&) const = default;

 private:
  std::array<uint8_t, 6> bytes_{};
};

}  // namespace calico::net
