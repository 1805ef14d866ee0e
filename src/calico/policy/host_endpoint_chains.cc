// Host endpoint chains (felix/rules/endpoints.go and static.go for host endpoints, in nftables
// form): cali-fh-/cali-th-<iface> (normal policy), cali-fhfw-/cali-thfw-<iface> (applyOnForward),
// mangle-cali-fh-<iface> (preDNAT), raw-cali-fh-/raw-cali-th-<iface> (doNotTrack), their dispatch
// maps, the failsafe chains and the mangle/raw hooks. See renderer_internal.h.
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

bool Renderer::HasPolicies(const std::vector<TierRef>& tiers) {
  return std::any_of(tiers.begin(), tiers.end(),
                     [](const TierRef& t) { return !t.policies.empty(); });
}

Status Renderer::CheckHostEndpoint(const HostEndpoint& ep, std::size_t i,
                                   const std::set<std::string>& ifaces) const {
  const std::string field = fmt::format("hostEndpoints[{}].interfaceName", i);
  const std::string& iface = ep.interface_name;
  if (iface.empty()) {
    return InvalidArgument(field +
                           ": required (bind expectedIPs-only host endpoints to interfaces "
                           "with ResolveHostEndpoints first)");
  }
  if (iface.size() > 15) {
    return InvalidArgument(fmt::format("{}: \"{}\" is longer than 15 characters", field, iface));
  }
  if (iface != kAllInterfaces) {
    for (char c : iface) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '/' || c == '\\' || c == '*' || u <= 0x20 || u >= 0x7f) {
        return InvalidArgument(
            fmt::format("{}: invalid interface name \"{}\"", field, SanitizeComment(iface)));
      }
    }
  }
  if (ifaces.count(iface) != 0) {
    return InvalidArgument(
        fmt::format("{}: duplicate interface name \"{}\" (host endpoints {} and another)", field,
                    iface, ep.name));
  }
  return OkStatus();
}

Status Renderer::IndexHostEndpoints() {
  std::set<std::string> ifaces;
  for (std::size_t i = 0; i < model_.host_endpoints.size(); ++i) {
    const HostEndpoint& ep = model_.host_endpoints[i];
    const std::string& iface = ep.interface_name;
    // With a report, a host endpoint that cannot be bound is left out (the first one bound to an
    // interface keeps it, as Felix's endpoint manager keeps one host endpoint per interface).
    if (Status st = CheckHostEndpoint(ep, i, ifaces); !st) {
      RETURN_IF_ERROR(SkipInconsistent(std::move(st), "hostendpoint", ep.name,
                                       "not programmed: its interface gets no policy from it"));
      continue;
    }
    ifaces.insert(iface);
    host_endpoints_.push_back(&ep);
    pre_dnat_ = pre_dnat_ || HasPolicies(ep.pre_dnat_ingress_tiers);
    // Felix does not support untracked policy on the all-interfaces endpoint (it ignores it).
    if (iface != kAllInterfaces) {
      untracked_ = untracked_ || HasPolicies(ep.untracked_ingress_tiers) ||
                   HasPolicies(ep.untracked_egress_tiers);
    }
  }
  std::sort(host_endpoints_.begin(), host_endpoints_.end(),
            [](const HostEndpoint* a, const HostEndpoint* b) {
              return a->interface_name < b->interface_name;
            });
  return OkStatus();
}

// The policy jumps of `tiers` (Felix's endpointIptablesChain tier loop). `end_of_tier_drop`:
// filter chains drop at the end of a Deny tier; pre-DNAT and untracked chains never do (normal
// policy still follows). `notrack`: untracked chains exempt allowed packets from conntrack.
Status Renderer::AppendTierRules(Chain& chain, const std::string& who, std::string_view dir,
                                 const std::vector<TierRef>& tiers, bool ingress,
                                 bool end_of_tier_drop, bool notrack) {
  const MarkBits& m = options_.marks;
  for (std::size_t t = 0; t < tiers.size(); ++t) {
    const TierRef& tier = tiers[t];
    if (tier.policies.empty()) continue;
    if (tier.name.empty()) {
      return InvalidArgument(fmt::format("{}: {} tier {}: name required", who, dir, t));
    }
    chain.rules.push_back(fmt::format("meta mark set meta mark & {} {}", ClearMask(m.pass),
                                      Comment(fmt::format("Start of tier {}", tier.name))));
    for (const std::string& id : tier.policies) {
      auto it = policies_.find(id);
      if (it == policies_.end()) {
        return NotFound(fmt::format("{}: {} tier {} references unknown policy \"{}\"", who, dir,
                                    tier.name, id));
      }
      const Policy& p = *it->second;
      if (p.tier != tier.name) {
        return InvalidArgument(
            fmt::format("{}: {} tier {} lists policy \"{}\", which belongs to tier \"{}\"", who,
                        dir, tier.name, id, p.tier));
      }
      const std::string policy_chain = PolicyChain(p.tier, p.id, ingress);
      RETURN_IF_ERROR(EnsureRulesChain(policy_chain, &p, ingress));
      chain.rules.push_back(Lines().policy_jump_prefix + policy_chain);
      chain.rules.push_back(fmt::format("meta mark & {0} == {0} {1}return {2}", Hex(m.accept),
                                        notrack ? "notrack " : "",
                                        Comment("Return if policy accepted")));
    }
    if (end_of_tier_drop && tier.default_deny) {
      chain.rules.push_back(EndOfTierLine(ingress, tier.name));
    }
  }
  return OkStatus();
}

void Renderer::AppendConntrackRules(Chain& chain) {
  chain.rules.push_back("ct state established,related accept");
  if (options_.drop_invalid) chain.rules.push_back(Lines().ct_invalid);
}

Status Renderer::AddHostChain(const std::string& name, const HostEndpoint& ep, Chain chain) {
  chain.owner = fmt::format("host endpoint {}", ep.name);
  if (auto it = chains_.find(name); it != chains_.end()) {
    return InvalidArgument(fmt::format("{} and {} both map to the nftables chain {}",
                                       OwnerOf(it->second.owner), OwnerOf(chain.owner), name));
  }
  AddChain(name, std::move(chain));
  return OkStatus();
}

Status Renderer::RenderHostNormalChain(const HostEndpoint& ep, bool ingress) {
  const std::string who = fmt::format("host endpoint {}", ep.name);
  Chain chain;
  AppendConntrackRules(chain);
  chain.rules.push_back(fmt::format("jump {}", ingress ? kFailsafeIn : kFailsafeOut));
  chain.rules.push_back(ClearMarks());
  RETURN_IF_ERROR(AppendTierRules(chain, who, ingress ? "ingress" : "egress",
                                  ingress ? ep.ingress_tiers : ep.egress_tiers, ingress, true,
                                  false));
  for (const std::string& id : ep.profiles) {
    auto it = profiles_.find(id);
    if (it == profiles_.end()) {
      return NotFound(fmt::format("{}: references unknown profile \"{}\"", who, id));
    }
    const Profile& p = *it->second;
    const std::string profile_chain = ProfileChain(p.id, ingress);
    RETURN_IF_ERROR(EnsureRulesChain(profile_chain, &p, ingress));
    chain.rules.push_back("jump " + profile_chain);
    chain.rules.push_back(Lines().profile_accepted);
  }
  chain.rules.push_back(NoProfileLine(ingress));
  const std::string name =
      HostEndpointChain(ingress ? HostChainKind::kFrom : HostChainKind::kTo, ep.interface_name);
  RETURN_IF_ERROR(AddHostChain(name, ep, std::move(chain)));
  (ingress ? from_hep_ : to_hep_).emplace_back(ep.interface_name, name);
  return OkStatus();
}

// cali-fhfw-<iface> / cali-thfw-<iface>: applyOnForward policies only; forwarded traffic is
// allowed when the endpoint has none (in either direction).
Status Renderer::RenderHostForwardChain(const HostEndpoint& ep, bool ingress) {
  Chain chain;
  AppendConntrackRules(chain);
  chain.rules.push_back(ClearMarks());
  RETURN_IF_ERROR(AppendTierRules(chain, fmt::format("host endpoint {}", ep.name),
                                  ingress ? "forward ingress" : "forward egress",
                                  ingress ? ep.forward_ingress_tiers : ep.forward_egress_tiers,
                                  ingress, true, false));
  if (!HasPolicies(ep.forward_ingress_tiers) && !HasPolicies(ep.forward_egress_tiers)) {
    chain.rules.push_back(fmt::format("meta mark set meta mark | {} return {}",
                                      Hex(options_.marks.accept),
                                      Comment("Allow forwarded traffic by default")));
  }
  const std::string name = HostEndpointChain(
      ingress ? HostChainKind::kFromForward : HostChainKind::kToForward, ep.interface_name);
  RETURN_IF_ERROR(AddHostChain(name, ep, std::move(chain)));
  (ingress ? from_hep_fwd_ : to_hep_fwd_).emplace_back(ep.interface_name, name);
  return OkStatus();
}

// mangle-cali-fh-<iface>: preDNAT policies (ingress only); no end-of-tier drop, no profiles.
Status Renderer::RenderHostPreDnatChain(const HostEndpoint& ep) {
  Chain chain;
  AppendConntrackRules(chain);
  chain.rules.push_back(fmt::format("jump {}", kFailsafeIn));
  chain.rules.push_back(ClearMarks());
  RETURN_IF_ERROR(AppendTierRules(chain, fmt::format("host endpoint {}", ep.name),
                                  "pre-DNAT ingress", ep.pre_dnat_ingress_tiers, true, false,
                                  false));
  const std::string name = HostEndpointChain(HostChainKind::kPreDnatFrom, ep.interface_name);
  RETURN_IF_ERROR(AddHostChain(name, ep, std::move(chain)));
  pre_dnat_from_.emplace_back(ep.interface_name, name);
  return OkStatus();
}

// raw-cali-fh-<iface> / raw-cali-th-<iface>: doNotTrack policies, before conntrack.
Status Renderer::RenderHostUntrackedChain(const HostEndpoint& ep, bool ingress) {
  Chain chain;
  chain.rules.push_back(fmt::format("jump {}", ingress ? kRawFailsafeIn : kRawFailsafeOut));
  chain.rules.push_back(ClearMarks());
  RETURN_IF_ERROR(AppendTierRules(chain, fmt::format("host endpoint {}", ep.name),
                                  ingress ? "untracked ingress" : "untracked egress",
                                  ingress ? ep.untracked_ingress_tiers : ep.untracked_egress_tiers,
                                  ingress, false, true));
  const std::string name = HostEndpointChain(
      ingress ? HostChainKind::kRawFrom : HostChainKind::kRawTo, ep.interface_name);
  RETURN_IF_ERROR(AddHostChain(name, ep, std::move(chain)));
  (ingress ? raw_from_ : raw_to_).emplace_back(ep.interface_name, name);
  return OkStatus();
}

// Accept rules for `ports` matched on the destination port (`reply`: on the source port, for
// the return direction in the raw table). `inbound` puts a port's net on the source address.
std::vector<std::string> Renderer::FailsafeRules(const std::vector<FailsafePort>& ports,
                                                 bool inbound, bool reply) const {
  const std::string_view port_field = reply ? "sport" : "dport";
  const std::string_view addr_field = inbound ? "saddr" : "daddr";
  const std::string comment = Comment(fmt::format(
      "Failsafe {} host port{}", inbound != reply ? "inbound" : "outbound", reply ? " reply" : ""));
  std::vector<std::string> rules;
  for (const char* proto : {"tcp", "udp", "sctp"}) {
    std::set<uint16_t> plain;
    std::map<int, std::set<std::pair<net::CIDR, uint16_t>>> with_net;  // family -> elements
    for (const FailsafePort& p : ports) {
      if (p.protocol != proto) continue;
      if (p.net) {
        with_net[p.net->family()].emplace(p.net->Masked(), p.port);
      } else {
        plain.insert(p.port);
      }
    }
    if (!plain.empty()) {
      std::vector<std::string> items;
      for (uint16_t port : plain)
        items.push_back(std::to_string(port));
      const std::string set = items.size() == 1 ? items[0] : "{ " + StrJoin(items, ", ") + " }";
      rules.push_back(fmt::format("meta l4proto {} th {} {} counter accept {}", proto, port_field,
                                  set, comment));
    }
    for (const auto& [family, elements] : with_net) {
      std::vector<std::string> items;
      for (const auto& [net, port] : elements) {
        items.push_back(fmt::format("{} . {}", MemberText(net), port));
      }
      rules.push_back(fmt::format("meta l4proto {} {} {} . th {} {{ {} }} counter accept {}", proto,
                                  family == 6 ? "ip6" : "ip", addr_field, port_field,
                                  StrJoin(items, ", "), comment));
    }
  }
  return rules;
}

void Renderer::AddStaticChain(std::string_view name, std::string base,
                              std::vector<std::string> rules) {
  AddChain(std::string(name), Chain{.owner = std::string("static"),
                                    .base = std::move(base),
                                    .rules = nft_model::NftLines(std::move(rules))});
}

// A host endpoint whose tiers name an unknown policy (or one of another tier), or whose chains
// collide: what it added is taken back; its normal chains keep the failsafe ports and
// established connections and drop everything else, its forward chains drop, it has no pre-DNAT
// or untracked chains. Other endpoints are programmed as usual.
Status Renderer::IsolateHostEndpoint(const HostEndpoint& ep, Status st) {
  if (report_ == nullptr) return st;
  const ChainOwner owner = fmt::format("host endpoint {}", ep.name);
  std::erase_if(chains_, [&](const auto& c) { return c.second.owner == owner; });
  for (auto* entries : {&from_hep_, &to_hep_, &from_hep_fwd_, &to_hep_fwd_, &pre_dnat_from_,
                        &raw_from_, &raw_to_}) {
    std::erase_if(*entries, [&](const auto& e) { return e.first == ep.interface_name; });
  }
  if (wildcard_ == &ep) pre_dnat_wildcard_ = false;
  report_->skipped.push_back(RenderProblem{
      .kind = "hostendpoint",
      .name = ep.name,
      .message = st.error().message(),
      .effect = "not programmed: its traffic is dropped (failsafe ports still open)"});
  const std::string drop =
      fmt::format("counter drop {}",
                  Comment(fmt::format("host endpoint {} cannot be rendered: drop", ep.name)));
  struct Hook {
    HostChainKind kind;
    std::vector<std::pair<std::string, std::string>>* entries;
    std::string_view failsafe;
  };
  for (const Hook& h : {Hook{HostChainKind::kFrom, &from_hep_, kFailsafeIn},
                        Hook{HostChainKind::kTo, &to_hep_, kFailsafeOut},
                        Hook{HostChainKind::kFromForward, &from_hep_fwd_, ""},
                        Hook{HostChainKind::kToForward, &to_hep_fwd_, ""}}) {
    const std::string name = HostEndpointChain(h.kind, ep.interface_name);
    if (chains_.count(name) != 0) continue;  // Taken by another owner: left out of dispatch.
    Chain chain{.owner = owner};
    AppendConntrackRules(chain);
    if (!h.failsafe.empty()) chain.rules.push_back(fmt::format("jump {}", h.failsafe));
    chain.rules.push_back(drop);
    AddChain(name, std::move(chain));
    h.entries->emplace_back(ep.interface_name, name);
  }
  return OkStatus();
}

// Dispatch chain: `<key> vmap @<name>`, then the "*" endpoint's chain as the default target.
void Renderer::AddDispatchChain(std::string_view name, std::string_view key, HostChainKind kind,
                                bool skip_workloads) {
  std::vector<std::string> rules = {fmt::format("{} vmap @{}", key, name)};
  if (wildcard_ != nullptr) {
    if (skip_workloads) {
      for (const std::string& prefix : options_.interface_prefixes) {
        rules.push_back(
            fmt::format("oifname \"{}*\" return {}", prefix,
                        Comment("Skip egress WHEP policy for traffic to local workload")));
      }
    }
    rules.push_back(fmt::format("goto {}", HostEndpointChain(kind, kAllInterfaces)));
  }
  AddStaticChain(name, "", std::move(rules));
}

Status Renderer::RenderHostEndpoints() {
  const MarkBits& m = options_.marks;
  for (const HostEndpoint* ep : host_endpoints_) {
    const bool wildcard = ep->interface_name == kAllInterfaces;
    if (wildcard) wildcard_ = ep;
    Status st = RenderHostNormalChain(*ep, true);
    if (st) st = RenderHostNormalChain(*ep, false);
    if (st) st = RenderHostForwardChain(*ep, true);
    if (st) st = RenderHostForwardChain(*ep, false);
    if (st && HasPolicies(ep->pre_dnat_ingress_tiers)) {
      st = RenderHostPreDnatChain(*ep);
      if (st && wildcard) pre_dnat_wildcard_ = true;
    }
    if (st && !wildcard &&
        (HasPolicies(ep->untracked_ingress_tiers) || HasPolicies(ep->untracked_egress_tiers))) {
      st = RenderHostUntrackedChain(*ep, true);
      if (st) st = RenderHostUntrackedChain(*ep, false);
    }
    if (!st) RETURN_IF_ERROR(IsolateHostEndpoint(*ep, std::move(st)));
  }
  // The "*" endpoint is the default target, not a map element.
  for (auto* entries : {&from_hep_, &to_hep_, &from_hep_fwd_, &to_hep_fwd_, &pre_dnat_from_}) {
    std::erase_if(*entries, [](const auto& e) { return e.first == kAllInterfaces; });
  }
  AddDispatchChain(kFromHostEndpoint, "iifname", HostChainKind::kFrom, false);
  AddDispatchChain(kToHostEndpoint, "oifname", HostChainKind::kTo, false);
  AddDispatchChain(kFromHepForward, "iifname", HostChainKind::kFromForward, false);
  AddDispatchChain(kToHepForward, "oifname", HostChainKind::kToForward, false);
  AddStaticChain(kFailsafeIn, "", FailsafeRules(options_.failsafe_inbound, true, false));
  AddStaticChain(kFailsafeOut, "", FailsafeRules(options_.failsafe_outbound, false, false));

  const std::string clear = ClearMarks();
  const std::string accept_if_accepted =
      fmt::format("meta mark & {0} == {0} accept", Hex(m.accept));
  const std::string hep_accepted_return =
      fmt::format("meta mark & {0} == {0} return {1}", Hex(m.accept),
                  Comment("Host endpoint policy accepted packet."));
  // Egress policy for host traffic that was DNAT'd (Felix's mangle POSTROUTING); forwarded
  // packets carry the accept mark from cali-FORWARD and are left alone.
  std::vector<std::string> post = {fmt::format("meta mark & {0} == {0} return {1}", Hex(m.accept),
                                               Comment("Forwarded or already accepted")),
                                   clear};
  if (wildcard_ != nullptr) {
    for (const std::string& prefix : options_.interface_prefixes) {
      post.push_back(fmt::format("oifname \"{}*\" return {}", prefix,
                                 Comment("Skip egress WHEP policy for traffic to local workload")));
    }
  }
  post.push_back(fmt::format("ct status dnat jump {}", kToHostEndpoint));
  post.push_back(hep_accepted_return);
  AddStaticChain("mangle-cali-POSTROUTING",
                 "type filter hook postrouting priority mangle; policy accept;", std::move(post));

  if (untracked_) {
    std::vector<std::string> pre = {clear};
    // Untracked policy is for host endpoints only: workload packets get the reverse-path check
    // (RenderRpfChains), which returns to the hook.
    for (const std::string& prefix : options_.interface_prefixes) {
      pre.push_back(fmt::format("iifname \"{}*\" goto {}", prefix, kRpfCheck));
    }
    pre.push_back(fmt::format("jump {}", kRawFromHostEndpoint));
    pre.push_back(accept_if_accepted);
    AddStaticChain(kRawPrerouting, "type filter hook prerouting priority raw; policy accept;",
                   std::move(pre));
    AddStaticChain("raw-cali-OUTPUT", "type filter hook output priority raw; policy accept;",
                   {clear, fmt::format("jump {}", kRawToHostEndpoint), accept_if_accepted});
    AddStaticChain(kRawFromHostEndpoint, "",
                   {fmt::format("iifname vmap @{}", kRawFromHostEndpoint)});
    AddStaticChain(kRawToHostEndpoint, "", {fmt::format("oifname vmap @{}", kRawToHostEndpoint)});
    std::vector<std::string> in = FailsafeRules(options_.failsafe_inbound, true, false);
    for (std::string& r : FailsafeRules(options_.failsafe_outbound, true, true)) {
      in.push_back(std::move(r));
    }
    std::vector<std::string> out = FailsafeRules(options_.failsafe_outbound, false, false);
    for (std::string& r : FailsafeRules(options_.failsafe_inbound, false, true)) {
      out.push_back(std::move(r));
    }
    AddStaticChain(kRawFailsafeIn, "", std::move(in));
    AddStaticChain(kRawFailsafeOut, "", std::move(out));
  }
  if (pre_dnat_) {
    std::vector<std::string> pre;
    if (!untracked_) pre.push_back(clear);  // Else raw-cali-PREROUTING did (and may have accepted).
    pre.push_back("ct state established,related accept");
    pre.push_back(accept_if_accepted);
    pre.push_back(fmt::format("jump {}", kPreDnatFromHostEndpoint));
    pre.push_back(fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                              Comment("Host endpoint policy accepted packet.")));
    AddStaticChain("mangle-cali-PREROUTING",
                   "type filter hook prerouting priority mangle; policy accept;", std::move(pre));
    std::vector<std::string> dispatch = {fmt::format("iifname vmap @{}", kPreDnatFromHostEndpoint)};
    if (pre_dnat_wildcard_) {
      dispatch.push_back(
          fmt::format("goto {}", HostEndpointChain(HostChainKind::kPreDnatFrom, kAllInterfaces)));
    }
    AddStaticChain(kPreDnatFromHostEndpoint, "", std::move(dispatch));
  }
  return OkStatus();
}

}  // namespace calico::policy::internal
