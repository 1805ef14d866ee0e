// Workload endpoint chains (felix/rules/endpoints.go in nftables form): cali-tw-<iface> /
// cali-fw-<iface> with the endpoint's tiers, policy jumps and profiles. See renderer_internal.h.
#include <algorithm>
#include <cstddef>
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
        .pass_guard = fmt::format("meta mark & {} == 0 ", Hex(m.pass)),
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
    RETURN_IF_ERROR(AppendWorkloadTier(chain, ep, tier, ingress));
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

const PolicyMergeInfo& Renderer::MergeInfo(const std::string& chain, const ParsedRules& rules) {
  if (cache_ != nullptr) {
    RenderCache::State::MergeInfo& entry = cache_->merge_info[chain];
    if (!entry.info || !(entry.rules.SameAs(rules) || entry.rules == rules)) {
      entry.rules = rules;
      entry.info = std::make_shared<const PolicyMergeInfo>(AnalysePolicyRules(rules));
    }
    entry.used = cache_->generation;
    return *entry.info;
  }
  auto& info = merge_info_[chain];
  if (!info) info = std::make_shared<const PolicyMergeInfo>(AnalysePolicyRules(rules));
  return *info;
}

// Felix's tier (felix/rules/endpoints.go): clear the pass mark, then each policy in order
// (jump unless an earlier policy passed; return if it accepted), then the end-of-tier drop. Here
// with the prunes and merged runs of policy_merge.h: a guard only after a policy that can Pass, a
// return only after one that can Allow, and runs of simple policies as one verdict-map lookup.
Status Renderer::AppendWorkloadTier(Chain& chain, const Endpoint& ep, const TierRef& tier,
                                    bool ingress) {
  const std::string_view dir = ingress ? "ingress" : "egress";
  std::string key = fmt::format("{}\n{}\n{}", dir, tier.default_deny, tier.name);
  for (const std::string& id : tier.policies) {
    key += '\n';
    key += id;
  }
  auto done = tier_lines_.find(key);
  if (done == tier_lines_.end()) {
    std::vector<std::string> chains;
    std::vector<const PolicyMergeInfo*> infos;
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
      chains.push_back(PolicyChain(p.tier, p.id, ingress));
      RETURN_IF_ERROR(EnsureRulesChain(chains.back(), &p, ingress));
      infos.push_back(&MergeInfo(chains.back(), ingress ? p.ingress : p.egress));
    }
    const EndpointLines& lines = Lines();
    std::vector<std::string> out;
    out.push_back(fmt::format("meta mark set meta mark & {} {}", ClearMask(options_.marks.pass),
                              Comment(fmt::format("Start of tier {}", tier.name))));
    bool pass_possible = false;  // An earlier policy of the tier can set the pass mark.
    for (const TierSegment& seg : PlanTier(infos, options_.merge_min_policies)) {
      const std::string guard = pass_possible ? lines.pass_guard : "";
      bool can_allow = false;
      bool can_pass = false;
      for (std::size_t i = seg.first; i < seg.last; ++i) {
        can_allow = can_allow || infos[i]->can_allow;
        can_pass = can_pass || infos[i]->can_pass;
      }
      if (!seg.merged) {
        out.push_back(guard + "jump " + chains[seg.first]);
      } else {
        const auto first = static_cast<std::ptrdiff_t>(seg.first);
        const auto last = static_cast<std::ptrdiff_t>(seg.last);
        const std::vector<const PolicyMergeInfo*> run(infos.begin() + first, infos.begin() + last);
        const std::vector<std::string> run_chains(chains.begin() + first, chains.begin() + last);
        const std::string comment =
            Comment(fmt::format("Policies {} to {} ({}): one lookup", tier.policies[seg.first],
                                tier.policies[seg.last - 1], seg.last - seg.first));
        for (MergedLookup& lookup : BuildLookups(run, run_chains)) {
          const std::string name = MergedMapName(dir, run_chains, lookup.family);
          if (merged_maps_.count(name) == 0) {
            nft_model::NftSet map{.is_map = true};
            map.header.push_back(fmt::format("type {} : verdict", lookup.type));
            map.header.push_back("flags interval");
            map.elements = nft_model::NftLines(std::move(lookup.elements));
            merged_maps_.emplace(name, std::move(map));
          }
          out.push_back(fmt::format("{}{} vmap @{} {}", guard, lookup.match, name, comment));
        }
      }
      if (can_allow) out.push_back(lines.policy_accepted);
      pass_possible = pass_possible || can_pass;
    }
    if (tier.default_deny) out.push_back(EndOfTierLine(ingress, tier.name));
    done = tier_lines_.emplace(std::move(key), std::move(out)).first;
  }
  for (const std::string& line : done->second) {
    chain.rules.push_back(line);
  }
  return OkStatus();
}

}  // namespace calico::policy::internal
