// Failsafe port lists and host endpoint -> interface binding (felix/config PortListParam,
// felix/dataplane/linux/endpoint_mgr.go resolveHostEndpoints).
#include "calico/policy/host_endpoints.h"

#include <algorithm>

#include <fmt/format.h>

#include "calico/base/numbers.h"
#include "calico/base/strings.h"

namespace calico::policy {
namespace {

std::vector<FailsafePort> Ports(std::initializer_list<std::pair<const char*, uint16_t>> list) {
  std::vector<FailsafePort> out;
  for (const auto& [proto, port] : list) {
    out.push_back(FailsafePort{.protocol = proto, .port = port});
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

Result<FailsafePort> ParseEntry(std::string_view entry) {
  const std::string quoted = fmt::format("\"{}\"", entry);
  FailsafePort out;
  std::string rest(entry);
  std::string net_text;
  // An IPv6 network is written in brackets: "tcp:[fd00::/64]:22".
  if (auto open = rest.find('['); open != std::string::npos) {
    const auto close = rest.find("]:", open);
    if (close == std::string::npos) {
      return InvalidArgument(fmt::format("{}: unbalanced [ in IPv6 network", quoted));
    }
    net_text = rest.substr(open + 1, close - open - 1);
    rest = rest.substr(0, open) + rest.substr(close + 2);
  }
  std::vector<std::string> parts = StrSplit(rest, ':', false);
  std::string port_text;
  if (parts.size() == 1) {
    port_text = parts[0];
  } else if (parts.size() == 2) {
    out.protocol = AsciiLower(parts[0]);
    port_text = parts[1];
  } else if (parts.size() == 3 && net_text.empty()) {
    out.protocol = AsciiLower(parts[0]);
    net_text = parts[1];
    port_text = parts[2];
  } else {
    return InvalidArgument(
        fmt::format("{}: must be <protocol>:<port>, <protocol>:<net>:<port> or <port>", quoted));
  }
  if (out.protocol.empty()) out.protocol = "tcp";
  if (out.protocol != "tcp" && out.protocol != "udp" && out.protocol != "sctp") {
    return InvalidArgument(
        fmt::format("{}: unknown protocol \"{}\" (tcp, udp or sctp)", quoted, out.protocol));
  }
  Result<uint16_t> port = ParseInt<uint16_t>(port_text);
  if (!port) return InvalidArgument(fmt::format("{}: port must be a number 0-65535", quoted));
  out.port = *port;
  if (!net_text.empty()) {
    auto net = net::CIDR::ParseNet(net_text);
    if (!net)
      return InvalidArgument(fmt::format("{}: invalid CIDR or IP \"{}\"", quoted, net_text));
    out.net = net->Masked();
  }
  return out;
}

}  // namespace

std::vector<FailsafePort> DefaultFailsafeInbound() {
  return Ports({{"tcp", 22},
                {"udp", 68},
                {"tcp", 179},
                {"tcp", 2379},
                {"tcp", 2380},
                {"tcp", 5473},
                {"tcp", 6443},
                {"tcp", 6666},
                {"tcp", 6667}});
}

std::vector<FailsafePort> DefaultFailsafeOutbound() {
  return Ports({{"udp", 53},
                {"udp", 67},
                {"tcp", 179},
                {"tcp", 2379},
                {"tcp", 2380},
                {"tcp", 5473},
                {"tcp", 6443},
                {"tcp", 6666},
                {"tcp", 6667}});
}

Result<std::vector<FailsafePort>> ParseFailsafePorts(std::string_view text) {
  std::vector<FailsafePort> out;
  if (AsciiLower(std::string(Trim(text))) == "none") return out;
  for (const std::string& raw : StrSplit(std::string(text), ',', false)) {
    const std::string_view entry = Trim(raw);
    if (entry.empty()) continue;
    ASSIGN_OR_RETURN(FailsafePort port, ParseEntry(entry));
    out.push_back(std::move(port));
  }
  return out;
}

std::string FormatFailsafePorts(const std::vector<FailsafePort>& ports) {
  if (ports.empty()) return "none";
  std::vector<std::string> items;
  for (const FailsafePort& p : ports) {
    if (!p.net) {
      items.push_back(fmt::format("{}:{}", p.protocol, p.port));
    } else if (p.net->family() == 6) {
      items.push_back(fmt::format("{}:[{}]:{}", p.protocol, p.net->String(), p.port));
    } else {
      items.push_back(fmt::format("{}:{}:{}", p.protocol, p.net->String(), p.port));
    }
  }
  return StrJoin(items, ",");
}

std::vector<HostEndpoint> ResolveHostEndpoints(
    const std::vector<HostEndpoint>& endpoints,
    const std::map<std::string, std::vector<net::IPAddr>>& host_interfaces) {
  std::map<std::string, const HostEndpoint*> best;  // Interface -> governing endpoint.
  auto consider = [&](const std::string& iface, const HostEndpoint& ep) {
    const HostEndpoint*& cur = best[iface];
    if (cur == nullptr || ep.name < cur->name) cur = &ep;
  };
  for (const HostEndpoint& ep : endpoints) {
    if (!ep.interface_name.empty()) {
      consider(ep.interface_name, ep);
      continue;
    }
    for (const auto& [iface, addrs] : host_interfaces) {
      const bool match = std::any_of(addrs.begin(), addrs.end(), [&](const net::IPAddr& a) {
        return std::any_of(ep.expected_ips.begin(), ep.expected_ips.end(),
                           [&](const net::CIDR& want) { return want.addr() == a; });
      });
      if (match) consider(iface, ep);
    }
  }
  // A named endpoint beats an address match only by name order, as in Felix; both kinds were
  // offered for the same interface above.
  std::vector<HostEndpoint> out;
  out.reserve(best.size());
  for (const auto& [iface, ep] : best) {
    HostEndpoint bound = *ep;
    bound.interface_name = iface;
    out.push_back(std::move(bound));
  }
  return out;
}

}  // namespace calico::policy
