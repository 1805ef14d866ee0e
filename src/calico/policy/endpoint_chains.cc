// Workload endpoint chains (felix/rules/endpoints.go in nftables form): cali-tw-<iface> /
// cali-fw-<iface> with the endpoint's tiers, policy jumps and profiles. See renderer_internal.h.
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

const Renderer::EndpointLines& Renderer::Lines() {
  if (!lines_) {
    const MarkBits& m = options_.marks;
    lines_ = EndpointLines{
        .ct_invalid = fmt::format("ct state invalid counter {} {}", DenyVerdict(),
                                  Comment(fmt::format("{} if conntrack INVALID", DenyWord()))),
        .clear = fmt::format("meta mark set meta mark & {} {}", ClearMask(m.accept | m.pass),
                             Comment("Clear accept and pass marks")),
        .drop_vxlan = fmt::format(
            "meta l4proto 17 th dport {} counter {} {}", options_.vxlan_port, DenyVerdict(),
            Comment(fmt::format("{} VXLAN encapped packets originating in workloads", DenyWord()))),
        .drop_ipip =
            fmt::format("meta l4proto 4 counter {} {}", DenyVerdict(),
                        Comment(fmt::format("{} IPinIP encapped packets originating in workloads",
                                            DenyWord()))),
        .policy_jump_prefix = fmt::format("meta mark & {} == 0 jump ", Hex(m.pass)),
        .policy_accepted = fmt::format("meta mark & {0} == {0} return {1}", Hex(m.accept),
                                       Comment("Return if policy accepted")),
        .profile_accepted = fmt::format("meta mark & {0} == {0} return {1}", Hex(m.accept),
                                        Comment("Return if profile accepted")),
        .no_profile = fmt::format("counter {} {}", DenyVerdict(),
                                  Comment(fmt::format("{} if no profiles matched", DenyWord()))),
    };
  }
  return *lines_;
}

std::string Renderer::NoProfileLine(bool ingress) {
  if (!options_.flow_logs.enabled) return Lines().no_profile;
  return fmt::format("counter {}{} {}", NoProfileLog(ingress), DenyVerdict(),
                     Comment(fmt::format("{} if no profiles matched", DenyWord())));
}

std::string Renderer::EndOfTierLine(bool ingress, const std::string& tier) {
  return fmt::format(
      "meta mark & {} == 0 counter {}{} {}", Hex(options_.marks.pass), EndOfTierLog(ingress, tier),
      DenyVerdict(),
      Comment(fmt::format("End of tier {}. {} if no policies passed packet", tier, DenyWord())));
}

Status Renderer::RenderEndpoint(const Endpoint& ep, bool ingress) {
  const MarkBits& m = options_.marks;
  const std::string name =
      ingress ? ToWorkloadChain(ep.interface_name) : FromWorkloadChain(ep.interface_name);
  if (auto it = chains_.find(name); it != chains_.end()) {
    return InvalidArgument(fmt::format("{} and endpoint {} both map to the nftables chain {}",
                                       OwnerOf(it->second.owner), ep.name, name));
  }
  const std::string_view dir = ingress ? "ingress" : "egress";
  const EndpointLines& lines = Lines();
  Chain chain{.owner = fmt::format("endpoint {}", ep.name)};
  if (options_.drop_invalid) chain.rules.push_back(lines.ct_invalid);
  chain.rules.push_back(lines.clear);
  if (!ingress && options_.drop_vxlan_from_workloads) chain.rules.push_back(lines.drop_vxlan);
  if (!ingress && options_.drop_ipip_from_workloads) chain.rules.push_back(lines.drop_ipip);
  const std::vector<TierRef>& tiers = ingress ? ep.ingress_tiers : ep.egress_tiers;
  for (std::size_t t = 0; t < tiers.size(); ++t) {
    const TierRef& tier = tiers[t];
    if (tier.policies.empty()) continue;  // A tier with no applicable policies is skipped.
    if (tier.name.empty()) {
      return InvalidArgument(
          fmt::format("endpoint {}: {} tier {}: name required", ep.name, dir, t));
    }
    chain.rules.push_back(fmt::format("meta mark set meta mark & {} {}", ClearMask(m.pass),
                                      Comment(fmt::format("Start of tier {}", tier.name))));
    for (const std::string& id : tier.policies) {
      auto it = policies_.find(id);
      if (it == policies_.end()) {
        return NotFound(fmt::format("endpoint {}: {} tier {} references unknown policy \"{}\"",
                                    ep.name, dir, tier.name, id));
      }
      const Policy& p = *it->second;
      if (p.tier != tier.name) {
        return InvalidArgument(
            fmt::format("endpoint {}: {} tier {} lists policy \"{}\", which belongs to tier \"{}\"",
                        ep.name, dir, tier.name, id, p.tier));
      }
      const std::string policy_chain = PolicyChain(p.tier, p.id, ingress);
      RETURN_IF_ERROR(EnsureRulesChain(policy_chain, &p, ingress));
      chain.rules.push_back(lines.policy_jump_prefix + policy_chain);
      chain.rules.push_back(lines.policy_accepted);
    }
    if (tier.default_deny) {
      chain.rules.push_back(EndOfTierLine(ingress, tier.name));
    }
  }
  for (const std::string& id : ep.profiles) {
    auto it = profiles_.find(id);
    if (it == profiles_.end()) {
      return NotFound(fmt::format("endpoint {}: references unknown profile \"{}\"", ep.name, id));
    }
    const Profile& p = *it->second;
    const std::string profile_chain = ProfileChain(p.id, ingress);
    RETURN_IF_ERROR(EnsureRulesChain(profile_chain, &p, ingress));
    chain.rules.push_back("jump " + profile_chain);
    chain.rules.push_back(lines.profile_accepted);
  }
  chain.rules.push_back(NoProfileLine(ingress));
  AddChain(name, std::move(chain));
  (ingress ? to_wl_ : from_wl_).emplace_back(ep.interface_name, name);
  return OkStatus();
}

}  // namespace calico::policy::internal
