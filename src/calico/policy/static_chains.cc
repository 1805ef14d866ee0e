// The static part of the ruleset (felix/rules/static.go, dispatch.go in nftables form):
// cali-FORWARD, cali-INPUT, cali-OUTPUT with their host endpoint hooks, cali-wl-to-host
// (defaultEndpointToHostAction) and the workload dispatch chains. See renderer_internal.h.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/policy/names.h"
#include "calico/policy/renderer_internal.h"

namespace calico::policy::internal {

void Renderer::RenderStaticChains() {
  const MarkBits& m = options_.marks;
  const std::string clear =
      fmt::format("meta mark set meta mark & {} {}", ClearMask(m.accept | m.pass),
                  Comment("Clear accept and pass marks"));
  const std::string accepted = fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                           Comment("Policy explicitly accepted packet."));

  const bool heps = !host_endpoints_.empty();
  // With pre-DNAT or untracked policy the accept mark may carry their verdict from prerouting
  // (whose first chain clears the marks), so only pass is cleared here.
  const bool early_verdict = heps && (pre_dnat_ || untracked_);
  Chain fwd{.owner = std::string("static"),
            .base = "type filter hook forward priority filter; policy accept;"};
  fwd.rules.push_back("ct state established,related accept");
  if (early_verdict) {
    fwd.rules.push_back(fmt::format("meta mark set meta mark & {} {}", ClearMask(m.pass),
                                    Comment("Clear pass mark")));
    fwd.rules.push_back(fmt::format("meta mark & {} == 0 jump {}", Hex(m.accept), kFromHepForward));
  } else {
    fwd.rules.push_back(clear);
    if (heps) fwd.rules.push_back(fmt::format("jump {}", kFromHepForward));
  }
  for (const std::string& prefix : options_.interface_prefixes) {
    fwd.rules.push_back(fmt::format("iifname \"{}*\" jump {}", prefix, kFromWlDispatch));
  }
  for (const std::string& prefix : options_.interface_prefixes) {
    fwd.rules.push_back(fmt::format("oifname \"{}*\" jump {}", prefix, kToWlDispatch));
  }
  if (heps) fwd.rules.push_back(fmt::format("jump {}", kToHepForward));
  fwd.rules.push_back(accepted);
  if (heps) {
    // Tells mangle-cali-POSTROUTING that the packet was forwarded, not sent by the host.
    fwd.rules.push_back(fmt::format("meta mark set meta mark | {} {}", Hex(m.accept),
                                    Comment("Mark forwarded traffic")));
  }
  AddChain("cali-FORWARD", std::move(fwd));

  const std::string hep_accepted = fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                               Comment("Host endpoint policy accepted packet."));
  Chain input{.owner = std::string("static"),
              .base = "type filter hook input priority filter; policy accept;"};
  AppendOverlayInputRules(input.rules);
  for (const std::string& prefix : options_.interface_prefixes) {
    input.rules.push_back(fmt::format("iifname \"{}*\" goto {}", prefix, kWlToHost));
  }
  if (heps) {
    if (early_verdict) {
      input.rules.push_back(fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                        Comment("Accepted by pre-DNAT or untracked policy")));
    }
    input.rules.push_back(clear);
    input.rules.push_back(fmt::format("jump {}", kFromHostEndpoint));
    input.rules.push_back(hep_accepted);
  }
  AddChain("cali-INPUT", std::move(input));

  Chain output{.owner = std::string("static"),
               .base = "type filter hook output priority filter; policy accept;"};
  if (heps && untracked_) {
    output.rules.push_back(fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                       Comment("Accepted by untracked policy")));
  }
  for (const std::string& prefix : options_.interface_prefixes) {
    output.rules.push_back(fmt::format("oifname \"{}*\" return {}", prefix,
                                       Comment("Host to workload traffic is not policed")));
  }
  AppendOverlayOutputRules(output.rules);
  if (heps) {
    // DNAT'd host traffic gets its egress policy in mangle-cali-POSTROUTING instead, once the
    // output interface is the one of the new destination.
    output.rules.push_back(clear);
    output.rules.push_back(fmt::format("ct status != dnat jump {}", kToHostEndpoint));
    output.rules.push_back(hep_accepted);
  }
  AddChain("cali-OUTPUT", std::move(output));

  Chain to_host{.owner = std::string("static")};
  to_host.rules.push_back(
      fmt::format("meta nfproto ipv6 meta l4proto 58 icmpv6 type {{ 130, 131, 132, 133, 135, 136 "
                  "}} accept {}",
                  Comment("Allow IPv6 multicast listener and neighbour discovery")));
  to_host.rules.push_back("ct state established,related accept");
  to_host.rules.push_back(clear);
  to_host.rules.push_back(fmt::format("jump {}", kFromWlDispatch));
  const std::string action_comment = Comment("Configured DefaultEndpointToHostAction");
  switch (options_.endpoint_to_host_action) {
    case EndpointToHostAction::kDrop:
      to_host.rules.push_back(fmt::format("counter drop {}", action_comment));
      break;
    case EndpointToHostAction::kAccept:
      to_host.rules.push_back(fmt::format("counter accept {}", action_comment));
      break;
    case EndpointToHostAction::kReturn:
      to_host.rules.push_back(fmt::format("counter return {}", action_comment));
      break;
  }
  AddChain(std::string(kWlToHost), std::move(to_host));

  for (const auto& [chain, key] :
       {std::pair{kFromWlDispatch, "iifname"}, {kToWlDispatch, "oifname"}}) {
    Chain dispatch{.owner = std::string("static")};
    dispatch.rules.push_back(fmt::format("{} vmap @{}", key, chain));
    dispatch.rules.push_back(
        fmt::format("counter {} {}", DenyVerdict(), Comment("Unknown interface")));
    AddChain(std::string(chain), std::move(dispatch));
  }
}

// felix/rules/static.go filterInputChain: overlay packets to a local address are accepted from
// the known hosts and dropped from anyone else, before workload and host endpoint dispatch. The
// IPv4 VXLAN drop is always `drop` (upstream's r.Drop()); IPIP and IPv6 VXLAN use the deny action.
void Renderer::AppendOverlayInputRules(nft_model::NftLines& rules) const {
  const RenderOptions::OverlayFilter& o = options_.overlay;
  if (o.ipip) {
    rules.push_back(fmt::format(
        "meta nfproto ipv4 meta l4proto 4 ip saddr @{} fib daddr type local counter accept {}",
        SetName(kAllHostNets, 4), Comment("Allow IPIP packets from Calico hosts")));
    rules.push_back(
        fmt::format("meta nfproto ipv4 meta l4proto 4 counter {} {}", DenyVerdict(),
                    Comment(fmt::format("{} IPIP packets from non-Calico hosts", DenyWord()))));
  }
  for (int family : {4, 6}) {
    if (!(family == 4 ? o.vxlan : o.vxlan_v6)) continue;
    const char* ip = family == 4 ? "ip" : "ip6";
    const std::string udp =
        fmt::format("meta nfproto ipv{} meta l4proto 17 th dport {}", family, options_.vxlan_port);
    rules.push_back(
        fmt::format("{} {} saddr @{} fib daddr type local counter accept {}", udp, ip,
                    SetName(kAllVxlanNets, family),
                    Comment(fmt::format("Allow IPv{} VXLAN packets from allowed hosts", family))));
    const char* verdict = family == 4 ? "drop" : DenyVerdict();
    const char* word = family == 4 ? "Drop" : DenyWord();
    rules.push_back(fmt::format(
        "{} fib daddr type local counter {} {}", udp, verdict,
        Comment(fmt::format("{} IPv{} VXLAN packets from non-allowed hosts", word, family))));
  }
}

// felix/rules/static.go filterOutputChain: the host's own overlay packets to the other hosts are
// accepted before host endpoint policy ("it's too easy to make a host policy that blocks IPIP
// traffic, resulting in very confusing connectivity problems").
void Renderer::AppendOverlayOutputRules(nft_model::NftLines& rules) const {
  const RenderOptions::OverlayFilter& o = options_.overlay;
  if (o.ipip) {
    rules.push_back(fmt::format(
        "meta nfproto ipv4 meta l4proto 4 ip daddr @{} fib saddr type local counter accept {}",
        SetName(kAllHostNets, 4), Comment("Allow IPIP packets to other Calico hosts")));
  }
  for (int family : {4, 6}) {
    if (!(family == 4 ? o.vxlan : o.vxlan_v6)) continue;
    rules.push_back(fmt::format(
        "meta nfproto ipv{0} meta l4proto 17 th dport {1} fib saddr type local {2} daddr @{3} "
        "counter accept {4}",
        family, options_.vxlan_port, family == 4 ? "ip" : "ip6", SetName(kAllVxlanNets, family),
        Comment(fmt::format("Allow IPv{} VXLAN packets to other allowed hosts", family))));
  }
}

// Felix's anti-spoofing in its nftables form (felix/rules/static.go StaticRawPreroutingChain and
// RPFilter, felix/nftables/match_builder.go RPFCheckFailed; the rpf-skip chain of
// felix/dataplane/linux/endpoint_mgr.go updateRPFSkipChain). Felix checks both families this way
// (for IPv4 it also leaves the interface's rp_filter sysctl at the host's default, 0 for an
// endpoint with exemptions). The check is the kernel's route lookup, not a list of the endpoint's
// addresses: a source passes when the route back to it leaves through the interface the packet
// came in on, which for a workload is its /32 (/128) route, so exactly its own addresses; it runs
// at raw priority, before conntrack, so a spoofed packet neither creates nor matches a conntrack
// entry. Exempt prefixes accept in the raw hook only: policy still applies to them.
void Renderer::RenderRpfChains() {
  std::vector<const Endpoint*> exempt;
  for (const Endpoint& ep : model_.endpoints) {
    if (!ep.allowed_source_prefixes.empty() && skipped_endpoints_.count(&ep) == 0) {
      exempt.push_back(&ep);
    }
  }
  std::sort(exempt.begin(), exempt.end(), [](const Endpoint* a, const Endpoint* b) {
    return a->interface_name < b->interface_name;
  });
  Chain check{.owner = std::string("static")};
  if (!exempt.empty()) check.rules.push_back(fmt::format("iifname vmap @{}", kRpfSkip));
  check.rules.push_back(fmt::format(
      "fib saddr . mark . iif oif 0 counter {} {}", DenyVerdict(),
      Comment(fmt::format("{} packets from workloads with a source not routed through their "
                          "interface (reverse-path check)",
                          DenyWord()))));
  AddChain(std::string(kRpfCheck), std::move(check));
  for (const Endpoint* ep : exempt) {
    const std::string name = fmt::format("{}-{}", kRpfSkip, ep->interface_name);
    Chain skip{.owner = fmt::format("endpoint {}", ep->name)};
    std::vector<net::CIDR> prefixes = ep->allowed_source_prefixes;
    for (net::CIDR& c : prefixes) {
      c = c.Masked();
    }
    std::sort(prefixes.begin(), prefixes.end());
    prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
    for (const net::CIDR& c : prefixes) {
      skip.rules.push_back(
          fmt::format("{} saddr {} accept {}", c.family() == 6 ? "ip6" : "ip", MemberText(c),
                      Comment(fmt::format("Allowed source prefix of {}", ep->name))));
    }
    AddChain(name, std::move(skip));
    rpf_skip_.emplace_back(ep->interface_name, name);
  }
  if (chains_.count(std::string(kRawPrerouting)) != 0) return;  // The untracked hooks' chain.
  std::vector<std::string> pre;
  for (const std::string& prefix : options_.interface_prefixes) {
    pre.push_back(fmt::format("iifname \"{}*\" goto {}", prefix, kRpfCheck));
  }
  AddStaticChain(kRawPrerouting, "type filter hook prerouting priority raw; policy accept;",
                 std::move(pre));
}

}  // namespace calico::policy::internal
