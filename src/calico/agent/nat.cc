#include "calico/agent/nat.h"

#include <set>

#include <fmt/format.h>

#include "calico/net/ip.h"

namespace calico::agent {

std::string RenderNatRuleset(const std::vector<model::v3::IPPool>& pools, int family,
                             const NatOptions& options) {
  std::set<net::CIDR> masq;
  std::set<net::CIDR> all;
  for (const model::v3::IPPool& p : pools) {
    auto cidr = net::CIDR::ParseNet(p.spec.cidr);
    if (!cidr || cidr->family() != family) continue;
    all.insert(*cidr);
    if (p.spec.nat_outgoing) masq.insert(*cidr);
  }
  const std::string fam = family == 4 ? "ip" : "ip6";
  const std::string type = family == 4 ? "ipv4_addr" : "ipv6_addr";
  auto set = [&](const std::string& name, const std::set<net::CIDR>& members) {
    std::string out = "  set " + name + " {\n    type " + type + "\n    flags interval\n";
    if (!members.empty()) {
      out += "    elements = { ";
      bool first = true;
      for (const auto& m : members) {
        out += (first ? "" : ", ") + m.String();
        first = false;
      }
      out += " }\n";
    }
    return out + "  }\n";
  };
  std::string out = "table " + fam + " calico-nat {\n";
  out += set("masq-ipam-pools", masq);
  out += set("all-ipam-pools", all);
  out +=
      "  chain nat-outgoing {\n"
      "    type nat hook postrouting priority srcnat; policy accept;\n";
  const std::string match =
      "    " + fam + " saddr @masq-ipam-pools " + fam + " daddr != @all-ipam-pools ";
  // natOutgoingAddress: SNAT to it; otherwise masquerade (felix/rules/nat.go). Both IPv4 only.
  const bool snat = family == 4 && options.address && options.address->family() == 4;
  auto action = [&](const std::string& ports) {
    if (snat) return "snat to " + options.address->String() + ports;
    return "masquerade" + (ports.empty() ? std::string() : " to " + ports);
  };
  if (options.port_range) {
    const std::string ports =
        fmt::format(":{}-{}", options.port_range->first, options.port_range->second);
    for (const char* proto : {"tcp", "udp"}) {
      out += match + "meta l4proto " + proto + " counter " + action(ports) +
             " fully-random comment \"calico natOutgoing port range\"\n";
    }
  }
  out += match + "counter " + action("") + " fully-random comment \"calico natOutgoing\"\n";
  out += "  }\n}\n";
  return out;
}

}  // namespace calico::agent
