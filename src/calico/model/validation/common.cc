// Scalar validators (libcalico-go/lib/validator/v3 + api/pkg/lib/numorstring).
#include "calico/model/validation/common.h"

#include <regex>

#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/model/validation/meta.h"
#include "calico/net/ip.h"
#include "calico/selector/selector.h"

namespace calico::model::validation {
namespace {

std::optional<long long> ParseDecimal(std::string_view s) {
  if (s.size() > 18) return std::nullopt;
  Result<long long> v = ParseInt<long long>(s);
  if (!v) return std::nullopt;
  return *v;
}

}  // namespace

std::string CheckString(const Json& v) {
  return v.is_string() ? "" : "must be a string";
}
std::string CheckBool(const Json& v) {
  return v.is_boolean() ? "" : "must be a boolean";
}
std::string CheckNumber(const Json& v) {
  return v.is_number() ? "" : "must be a number";
}

std::string CheckInt(const Json& v, long long lo, long long hi) {
  if (!v.is_number_integer() &&
      !(v.is_number_float() &&
        v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>())))) {
    return "must be an integer";
  }
  long long n =
      v.is_number_integer() ? v.get<long long>() : static_cast<long long>(v.get<double>());
  if (n < lo || n > hi) {
    return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
  }
  return "";
}

std::string CheckStringList(const Json& v) {
  if (!v.is_array()) return "must be a list of strings";
  for (const Json& e : v) {
    if (!e.is_string()) return "must be a list of strings";
  }
  return "";
}

std::string CheckEnum(const Json& v, std::initializer_list<std::string_view> values) {
  if (!v.is_string()) return "must be a string";
  std::string s = v.get<std::string>();
  std::string list;
  for (std::string_view allowed : values) {
    if (s == allowed) return "";
    if (!list.empty()) list += ", ";
    list += "\"" + std::string(allowed) + "\"";
  }
  return "supported values: " + list;
}

std::optional<int> ProtocolNumber(const Json& v) {
  if (v.is_number_integer()) return v.get<int>();
  if (!v.is_string()) return std::nullopt;
  std::string s = v.get<std::string>();
  if (auto n = ParseDecimal(s); n && *n >= 0 && *n <= 255) return static_cast<int>(*n);
  std::string lower = AsciiLower(s);
  if (lower == "tcp") return 6;
  if (lower == "udp") return 17;
  if (lower == "icmp") return 1;
  if (lower == "icmpv6") return 58;
  if (lower == "sctp") return 132;
  if (lower == "udplite") return 136;
  return std::nullopt;
}

std::string CheckProtocol(const Json& v) {
  if (v.is_number_integer()) {
    long long n = v.get<long long>();
    if (n < 1 || n > 255) return "protocol number invalid (must be between 1 and 255)";
    return "";
  }
  if (!v.is_string()) return "protocol must be a string or a number";
  std::string s = v.get<std::string>();
  if (auto n = ParseDecimal(s); n && *n >= 0 && *n <= 255) {
    if (*n < 1) return "protocol number invalid (must be between 1 and 255)";
    return "";
  }
  for (const char* name : {"TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite"}) {
    if (s == name) return "";
  }
  return "protocol must be one of TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255";
}

bool ProtocolSupportsPorts(const Json& v) {
  if (v.is_number_integer()) {
    int n = v.get<int>();
    return n == 6 || n == 17 || n == 132;
  }
  if (!v.is_string()) return false;
  std::string s = v.get<std::string>();
  if (auto n = ParseDecimal(s)) return *n == 6 || *n == 17 || *n == 132;
  return s == "TCP" || s == "UDP" || s == "SCTP" || s == "tcp" || s == "udp" || s == "sctp";
}

bool IsValidPortName(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  bool letter = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') {
      letter = true;
    } else if (c == '-') {
      if (i == 0 || i + 1 == s.size() || s[i - 1] == '-') return false;
    } else if (!(c >= '0' && c <= '9')) {
      return false;
    }
  }
  return letter;
}

std::string CheckPort(const Json& v, PortInfo* info) {
  PortInfo local;
  PortInfo& pi = info ? *info : local;
  constexpr const char* kRange = "port range invalid, port number must be between 1 and 65535";
  if (v.is_number_integer()) {
    long long n = v.get<long long>();
    if (n < 1 || n > 65535) return kRange;
    pi.min = pi.max = static_cast<int>(n);
    return "";
  }
  if (!v.is_string()) return "port must be a number or a string";
  std::string s = v.get<std::string>();
  size_t colon = s.find(':');
  if (colon != std::string::npos) {
    auto lo = ParseDecimal(std::string_view(s).substr(0, colon));
    auto hi = ParseDecimal(std::string_view(s).substr(colon + 1));
    if (!lo || !hi) return "invalid port range \"" + s + "\"";
    if (*lo > *hi)
      return "minimum port number (" + std::to_string(*lo) +
             ") is greater than maximum port number (" + std::to_string(*hi) + ") in port range";
    if (*lo < 1 || *hi > 65535) return kRange;
    pi.min = static_cast<int>(*lo);
    pi.max = static_cast<int>(*hi);
    return "";
  }
  if (auto n = ParseDecimal(s)) {
    if (*n < 1 || *n > 65535) return kRange;
    pi.min = pi.max = static_cast<int>(*n);
    return "";
  }
  static const std::regex* named = new std::regex("^[a-zA-Z0-9_.-]{1,128}$");
  if (!std::regex_match(s, *named)) return "invalid port name \"" + s + "\"";
  if (!IsValidPortName(s)) return "invalid port name \"" + s + "\"";
  pi.named = true;
  pi.name = s;
  return "";
}

std::string CheckSelector(const Json& v, bool allow_global) {
  if (!v.is_string()) return "selector must be a string";
  std::string s = v.get<std::string>();
  if (s.size() > 1024) return "selector must be at most 1024 characters";
  auto sel = selector::Parse(s);
  if (!sel) return "invalid selector: " + sel.error().message();
  if (!allow_global && sel->UsesGlobal()) return "global() is not allowed in this selector";
  return "";
}

std::string CheckNet(const Json& v, NetKind kind, int family, int* family_out) {
  if (!v.is_string()) return "must be a string";
  std::string s = v.get<std::string>();
  std::optional<net::CIDR> cidr;
  switch (kind) {
    case NetKind::kIP: {
      auto ip = net::IPAddr::Parse(s);
      if (!ip) return "invalid IP address";
      cidr = net::CIDR(*ip, ip->bit_len());
      break;
    }
    case NetKind::kStrictCidr:
      cidr = net::CIDR::Parse(s);
      if (!cidr) return "invalid CIDR";
      if (!cidr->IsStrictlyMasked()) return "CIDR is not strictly masked";
      break;
    case NetKind::kNet:
      cidr = net::CIDR::ParseNet(s);
      if (!cidr) return "invalid CIDR or IP address";
      if (!cidr->IsStrictlyMasked()) return "network is not strictly masked";
      break;
    case NetKind::kCidr:
      cidr = net::CIDR::ParseNet(s);
      if (!cidr) return "invalid CIDR or IP address";
      break;
  }
  if (family != 0 && cidr->family() != family) {
    return family == 4 ? "must be an IPv4 address or CIDR" : "must be an IPv6 address or CIDR";
  }
  if (family_out) *family_out = cidr->family();
  return "";
}

std::string CheckDuration(const Json& v, bool allow_negative) {
  if (!v.is_string()) return "must be a duration string such as \"90s\"";
  std::string s = v.get<std::string>();
  static const std::regex* re = new std::regex(
      "^[-+]?((\\d+(\\.\\d*)?|\\.\\d+)(ns|us|\xC2\xB5s|\xCE\xBCs|ms|s|m|h))+$|^[-+]?0$");
  if (!std::regex_match(s, *re)) return "invalid duration \"" + s + "\"";
  if (!allow_negative && !s.empty() && s[0] == '-') return "duration must not be negative";
  return "";
}

std::string CheckASNumber(const Json& v) {
  if (v.is_number_integer()) {
    long long n = v.get<long long>();
    if (n < 0 || n > 4294967295LL) return "AS number must be between 0 and 4294967295";
    return "";
  }
  if (!v.is_string()) return "AS number must be a number or a string";
  std::string s = v.get<std::string>();
  size_t dot = s.find('.');
  if (dot == std::string::npos) {
    auto n = ParseDecimal(s);
    if (!n || *n < 0 || *n > 4294967295LL) return "invalid AS number \"" + s + "\"";
    return "";
  }
  auto hi = ParseDecimal(std::string_view(s).substr(0, dot));
  auto lo = ParseDecimal(std::string_view(s).substr(dot + 1));
  if (!hi || !lo || *hi < 0 || *hi > 65535 || *lo < 0 || *lo > 65535) {
    return "invalid AS number \"" + s + "\"";
  }
  return "";
}

bool IsValidInterfaceName(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace calico::model::validation
