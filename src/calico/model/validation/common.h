// Scalar validators shared by the policy and infra families (numorstring.Protocol/Port, ASNumber,
// metav1.Duration, net/cidr tags, selectors, interface and port names) as Calico's validator
// applies them. Each Check* returns an empty string when the value is valid, otherwise the reason.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "calico/model/resource.h"

namespace calico::model::validation {

// Protocol: number 1..255 (or a string holding one), or exactly TCP UDP ICMP ICMPv6 SCTP UDPLite.
std::string CheckProtocol(const Json& v);
// TCP/UDP/SCTP (any case for the legacy lower-case names) or 6/17/132.
bool ProtocolSupportsPorts(const Json& v);
// Numeric protocol value if any (names mapped: TCP 6, UDP 17, ICMP 1, ICMPv6 58, SCTP 132,
// UDPLite 136).
std::optional<int> ProtocolNumber(const Json& v);

struct PortInfo {
  bool named = false;
  int min = 0;
  int max = 0;
  std::string name;
};
// Port: number, "80", "1000:2000", or a named port. Returns the reason on failure.
std::string CheckPort(const Json& v, PortInfo* info = nullptr);
// Kubernetes IsValidPortName: 1-15 chars of [a-z0-9-], at least one letter, no leading, trailing
// or double '-'.
bool IsValidPortName(std::string_view s);

// Selector text: parses with calico::selector; global() only when allow_global; <= 1024 chars.
std::string CheckSelector(const Json& v, bool allow_global = false);

enum class NetKind {
  kNet,         // strictly masked CIDR or bare IP
  kCidr,        // any CIDR or bare IP, host bits allowed
  kStrictCidr,  // "addr/len" required and strictly masked (rule nets)
  kIP,          // bare address
};
// family: 0 any, 4 or 6. On success *family_out (if given) is the address family.
std::string CheckNet(const Json& v, NetKind kind, int family = 0, int* family_out = nullptr);

// Go duration string ("90s", "1m30s", "5m0s", "100ms"). Negative allowed only if allow_negative.
std::string CheckDuration(const Json& v, bool allow_negative = false);
// uint32 number, decimal string, or AS-dot "1.10".
std::string CheckASNumber(const Json& v);
// ^[a-zA-Z0-9_.-]{1,15}$
bool IsValidInterfaceName(std::string_view s);

// JSON type helpers.
std::string CheckString(const Json& v);
std::string CheckBool(const Json& v);
// Integer within [lo, hi].
std::string CheckInt(const Json& v, long long lo, long long hi);
std::string CheckNumber(const Json& v);
std::string CheckStringList(const Json& v);
// One of the given values (case-sensitive).
std::string CheckEnum(const Json& v, std::initializer_list<std::string_view> values);

}  // namespace calico::model::validation
