// IP autodetection methods (node/pkg/lifecycle/startup/autodetection: filtered enumeration,
// reachability and CIDR matching).
#include "calico/node/autodetect.h"

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "calico/base/strings.h"

namespace calico::node {
namespace {

constexpr std::string_view kFirstFoundMethod = "first-found";
constexpr std::string_view kInterfacePrefix = "interface=";
constexpr std::string_view kSkipInterfacePrefix = "skip-interface=";
constexpr std::string_view kCanReachPrefix = "can-reach=";
constexpr std::string_view kCidrPrefix = "cidr=";
constexpr std::string_view kKubernetesInternalIp = "kubernetes-internal-ip";

struct Pattern {
  std::string text;
  std::regex re;
};

struct Method {
  enum class Kind { kFirstFound, kInterface, kSkipInterface, kCanReach, kCidr };
  Kind kind = Kind::kFirstFound;
  std::vector<Pattern> includes;
  std::vector<Pattern> excludes;
  std::vector<net::CIDR> cidrs;
  std::string dest;
};

tl::unexpected<Error> InvalidMethod(std::string_view method, std::string_view why) {
  return InvalidArgument(fmt::format("Invalid IP autodetection method: {} ({})", method, why));
}

// Compiles a regex without letting std::regex_error escape.
std::optional<std::regex> Compile(const std::string& text) {
  try {
    return std::regex(text, std::regex::ECMAScript);
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
}

// Splits "a, b ,c" the way Calico does (regexp `\s*,\s*`).
std::vector<std::string> SplitList(std::string_view list) {
  std::vector<std::string> out;
  for (const std::string& part : StrSplit(list, ',')) {
    out.emplace_back(StrTrim(part));
  }
  return out;
}

Result<std::vector<Pattern>> CompileList(std::string_view method, std::string_view list) {
  std::vector<Pattern> out;
  for (const std::string& text : SplitList(list)) {
    if (text.empty()) return InvalidMethod(method, "empty interface regex");
    auto re = Compile(text);
    if (!re) return InvalidMethod(method, fmt::format("invalid regex '{}'", text));
    out.push_back(Pattern{text, std::move(*re)});
  }
  return out;
}

const std::vector<Pattern>& DefaultExcludePatterns() {
  static const auto* patterns = [] {
    auto* out = new std::vector<Pattern>();
    for (const std::string& text : DefaultInterfaceExcludes()) {
      out->push_back(Pattern{text, std::regex(text, std::regex::ECMAScript)});
    }
    return out;
  }();
  return *patterns;
}

bool MatchesAny(const std::vector<Pattern>& patterns, const std::string& name) {
  for (const Pattern& p : patterns) {
    if (std::regex_search(name, p.re)) return true;
  }
  return false;
}

Result<Method> ParseMethod(std::string_view method, int family) {
  Method m;
  if (method.empty() || method == kFirstFoundMethod) {
    m.excludes = DefaultExcludePatterns();
    return m;
  }
  if (method == kKubernetesInternalIp) {
    return MakeError(ErrorCode::kUnsupported,
                     fmt::format("IP autodetection method {} needs the Kubernetes API, which this "
                                 "calico-node does not use; choose another method or set IP{}",
                                 method, family == 6 ? "6" : ""));
  }
  if (StartsWith(method, kSkipInterfacePrefix)) {
    m.kind = Method::Kind::kSkipInterface;
    ASSIGN_OR_RETURN(m.excludes, CompileList(method, method.substr(kSkipInterfacePrefix.size())));
    for (const Pattern& p : DefaultExcludePatterns()) {
      m.excludes.push_back(p);
    }
    return m;
  }
  if (StartsWith(method, kInterfacePrefix)) {
    m.kind = Method::Kind::kInterface;
    ASSIGN_OR_RETURN(m.includes, CompileList(method, method.substr(kInterfacePrefix.size())));
    return m;
  }
  if (StartsWith(method, kCanReachPrefix)) {
    m.kind = Method::Kind::kCanReach;
    m.dest = std::string(StrTrim(method.substr(kCanReachPrefix.size())));
    if (m.dest.empty()) return InvalidMethod(method, "no destination");
    if (auto ip = net::IPAddr::Parse(m.dest); ip && ip->family() != family) {
      return InvalidMethod(method, fmt::format("{} is not an IPv{} address", m.dest, family));
    }
    return m;
  }
  if (StartsWith(method, kCidrPrefix)) {
    m.kind = Method::Kind::kCidr;
    for (const std::string& text : SplitList(method.substr(kCidrPrefix.size()))) {
      auto cidr = net::CIDR::Parse(text);
      if (!cidr) return InvalidMethod(method, fmt::format("invalid CIDR '{}'", text));
      m.cidrs.push_back(cidr->Masked());
    }
    return m;
  }
  return InvalidArgument(fmt::format("Invalid IP autodetection method: {}", method));
}

// Calico's FilteredEnumeration: the first global unicast address of `family` on an interface that
// passes the include/exclude lists and lies in one of `cidrs` (any, when empty).
std::optional<DetectedAddress> FilteredEnumeration(const std::vector<HostInterface>& ifaces,
                                                   const Method& m, int family) {
  for (const HostInterface& iface : ifaces) {
    if (!m.includes.empty() && !MatchesAny(m.includes, iface.name)) continue;
    if (MatchesAny(m.excludes, iface.name)) continue;
    for (const net::CIDR& addr : iface.addrs) {
      if (addr.family() != family || !IsGlobalUnicast(addr.addr())) continue;
      bool in_cidrs = m.cidrs.empty();
      for (const net::CIDR& c : m.cidrs) {
        in_cidrs = in_cidrs || c.Contains(addr.addr());
      }
      if (in_cidrs) return DetectedAddress{iface.name, addr};
    }
  }
  return std::nullopt;
}

std::string DescribeSearch(const Method& m) {
  std::vector<std::string> parts;
  switch (m.kind) {
    case Method::Kind::kFirstFound:
      return "on the host interfaces";
    case Method::Kind::kSkipInterface:
      return "on the host interfaces not matching the skip list";
    case Method::Kind::kInterface:
      for (const Pattern& p : m.includes) {
        parts.push_back(p.text);
      }
      return fmt::format("on interfaces matching {}", StrJoin(parts, ","));
    case Method::Kind::kCidr:
      for (const net::CIDR& c : m.cidrs) {
        parts.push_back(c.String());
      }
      return fmt::format("inside {}", StrJoin(parts, ","));
    case Method::Kind::kCanReach:
      break;
  }
  return "";
}

}  // namespace

const std::vector<std::string>& DefaultInterfaceExcludes() {
  static const std::vector<std::string> excludes = {
      "^docker.*",
      "^cbr.*",
      "^dummy.*",
      "^podman.*",
      "^virbr.*",
      "^lxcbr.*",
      "^veth.*",
      "^lo",
      "^br-.*",
      "^cali.*",
      "^tunl.*",
      "^flannel.*",
      "^kube-ipvs.*",
      "^cni.*",
      "^vxlan\\.calico.*",
      "^vxlan-v6\\.calico.*",
      "^wireguard\\.cali.*",
      "^wg-v6\\.cali.*",
      "^nodelocaldns.*",
  };
  return excludes;
}

bool IsDefaultExcludedInterface(const std::string& name) {
  return MatchesAny(DefaultExcludePatterns(), name);
}

bool IsGlobalUnicast(const net::IPAddr& ip) {
  const auto& b = ip.bytes();
  if (ip.is_v4()) {
    uint32_t v = ip.v4_host_order();
    if (v == 0 || v == 0xffffffffu) return false;  // unspecified, limited broadcast
    if (b[0] == 127) return false;                 // loopback
    if (b[0] >= 224 && b[0] <= 239) return false;  // multicast
    if (b[0] == 169 && b[1] == 254) return false;  // link-local
    return true;
  }
  bool all_zero = true;
  for (size_t i = 0; i < 15; ++i) {
    all_zero = all_zero && b[i] == 0;
  }
  if (all_zero && (b[15] == 0 || b[15] == 1)) return false;  // :: and ::1
  if (b[0] == 0xff) return false;                            // multicast
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;   // fe80::/10
  return true;
}

Status ValidateAutodetectionMethod(std::string_view method, int family) {
  RETURN_IF_ERROR(ParseMethod(method, family));
  return OkStatus();
}

Result<DetectedAddress> AutodetectAddress(AddressSource& source, std::string_view method,
                                          int family) {
  ASSIGN_OR_RETURN(Method m, ParseMethod(method, family));
  if (m.kind == Method::Kind::kCanReach) {
    auto src = source.SourceAddressFor(m.dest, family);
    if (!src) {
      return Unexpected(std::move(src).error().Wrap(fmt::format(
          "Unable to auto-detect an IPv{} address by connecting to {}", family, m.dest)));
    }
    ASSIGN_OR_RETURN(auto local, FindLocalAddress(source, *src));
    if (!local) {
      return NotFound(fmt::format(
          "Unable to auto-detect an IPv{} address by connecting to {}: no interface holds the "
          "source address {}",
          family, m.dest, src->String()));
    }
    return *local;
  }
  auto ifaces = source.ListInterfaces();
  if (!ifaces) return Unexpected(std::move(ifaces).error().Wrap("list host interfaces"));
  if (auto found = FilteredEnumeration(*ifaces, m, family)) return *found;
  return NotFound(fmt::format("No valid IPv{} addresses found {}", family, DescribeSearch(m)));
}

Result<std::optional<DetectedAddress>> FindLocalAddress(AddressSource& source,
                                                        const net::IPAddr& ip) {
  auto ifaces = source.ListInterfaces();
  if (!ifaces) return Unexpected(std::move(ifaces).error().Wrap("list host interfaces"));
  for (const HostInterface& iface : *ifaces) {
    for (const net::CIDR& addr : iface.addrs) {
      if (addr.addr() == ip) return DetectedAddress{iface.name, addr};
    }
  }
  return std::optional<DetectedAddress>();
}

}  // namespace calico::node
