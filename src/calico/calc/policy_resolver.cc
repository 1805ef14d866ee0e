// Tiers and policies per local endpoint (felix/calc/policy_resolver.go, policy_sorter.go), see
// policy_resolver.h.
#include "calico/calc/policy_resolver.h"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "calico/calc/calc_graph.h"

namespace calico::calc {
namespace {

struct BuiltinTier {
  std::string_view name;
  double order;
  bool default_deny;
};
// Created by clientv3 EnsureInitialized; CEL pins these values (reference 1.4).
constexpr std::array<BuiltinTier, 3> kBuiltinTiers = {{
    {"kube-admin", 1000, false},
    {"default", 1000000, true},
    {"kube-baseline", 10000000, false},
}};

// Tier/policy ordering key: order ascending with "absent" last.
double OrderKey(const std::optional<double>& order) {
  return order.value_or(std::numeric_limits<double>::infinity());
}

struct TierInfo {
  bool known = false;
  double order = 0;
  bool default_deny = true;
};

// Projectcalico-default-allow's rules, shared by every Model (so the render cache sees them as
// unchanged by pointer).
const policy::ParsedRules& AllowAll() {
  static const policy::ParsedRules* rules =
      new policy::ParsedRules(std::vector<policy::ParsedRule>{policy::ParsedRule{}});
  return *rules;
}

}  // namespace

policy::Model ResolvePolicies(const EndpointStore& store, const ActiveRules& rules,
                              const std::map<std::string, TierRec>& tiers) {
  policy::Model m;

  // Tier order (PolicySorter): known tiers (Tier resources and the built-ins) by order, absent
  // order last, then name; tiers only named by policies after them, by name.
  std::map<std::string, TierInfo> tier_info;
  for (const BuiltinTier& b : kBuiltinTiers) {
    tier_info[std::string(b.name)] = {
        .known = true, .order = b.order, .default_deny = b.default_deny};
  }
  for (const auto& [name, t] : tiers) {
    TierInfo& info = tier_info[name];
    // A built-in tier keeps its fixed order when the resource does not give one.
    if (t.order || !info.known) info.order = OrderKey(t.order);
    info.known = true;
    info.default_deny = t.default_deny;
  }

  // Active policies in evaluation order; rank = position.
  // Each policy's tier looked up once, not in every comparison of the sort (this runs for every
  // change: at 10000 policies the lookups were most of it).
  struct Sorted {
    const std::string* key;
    const PolicyRec* rec;
    const TierInfo* tier;
    double order;
  };
  std::vector<Sorted> sorted;
  sorted.reserve(rules.policies().size());
  for (const auto& [key, p] : rules.policies()) {
    if (!p.active) continue;
    auto tier = tier_info.try_emplace(p.rec.tier, TierInfo{.known = false}).first;
    sorted.push_back(
        Sorted{.key = &key, .rec = &p.rec, .tier = &tier->second, .order = OrderKey(p.rec.order)});
  }
  std::sort(sorted.begin(), sorted.end(), [](const Sorted& x, const Sorted& y) {
    const TierInfo& ta = *x.tier;
    const TierInfo& tb = *y.tier;
    if (ta.known != tb.known) return ta.known;
    if (ta.order != tb.order) return ta.order < tb.order;
    if (x.rec->tier != y.rec->tier) return x.rec->tier < y.rec->tier;
    if (x.order != y.order) return x.order < y.order;
    return x.rec->sort_name < y.rec->sort_name;
  });
  std::vector<std::pair<const std::string*, const PolicyRec*>> active;
  active.reserve(sorted.size());
  for (const Sorted& e : sorted)
    active.emplace_back(e.key, e.rec);
  std::unordered_map<std::string_view, std::size_t> rank;
  rank.reserve(active.size());
  for (std::size_t i = 0; i < active.size(); ++i) {
    rank.emplace(*active[i].first, i);
  }

  // Local endpoints (PolicyResolver).
  std::vector<std::pair<const std::string*, const EndpointRec*>> locals;
  std::vector<std::pair<const std::string*, const EndpointRec*>> local_heps;
  locals.reserve(store.local.size());
  for (const std::string& key : store.local) {
    const EndpointRec& ep = store.endpoints.at(key);
    (ep.is_workload ? locals : local_heps).emplace_back(&key, &ep);
  }
  std::sort(locals.begin(), locals.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second->interface_name, a.second->ns, a.second->name) <
           std::tie(b.second->interface_name, b.second->ns, b.second->name);
  });
  m.endpoints.reserve(locals.size());
  std::vector<std::size_t> ranks;
  for (const auto& [key, ep] : locals) {
    policy::Endpoint out{.name = ep->ns + "/" + ep->name,
                         .interface_name = ep->interface_name,
                         .addresses = ep->addresses,
                         .labels = ep->effective,
                         .profiles = ep->profiles,
                         .allowed_source_prefixes = ep->allowed_source_prefixes};
    ranks.clear();
    for (const std::string* pkey : rules.PoliciesMatching(*key)) {
      ranks.push_back(rank.at(*pkey));
    }
    std::sort(ranks.begin(), ranks.end());
    for (std::size_t r : ranks) {
      const PolicyRec& p = *active[r].second;
      for (auto [applies, out_tiers] : {std::pair{p.applies_ingress, &out.ingress_tiers},
                                        std::pair{p.applies_egress, &out.egress_tiers}}) {
        if (!applies) continue;
        if (out_tiers->empty() || out_tiers->back().name != p.tier) {
          out_tiers->push_back({.name = p.tier, .default_deny = tier_info.at(p.tier).default_deny});
        }
        out_tiers->back().policies.push_back(p.id);
      }
    }
    m.endpoints.push_back(std::move(out));
  }

  // Local host endpoints: normal policies, applyOnForward ones again for forwarded traffic,
  // preDNAT (ingress only) and doNotTrack ones apart, those two with tier default Pass (Felix's
  // tierInfoToProtoTierInfo: normal policy still follows them).
  std::sort(local_heps.begin(), local_heps.end(),
            [](const auto& a, const auto& b) { return a.second->name < b.second->name; });
  auto add = [&](std::vector<policy::TierRef>& out_tiers, const PolicyRec& p, bool pass) {
    if (out_tiers.empty() || out_tiers.back().name != p.tier) {
      out_tiers.push_back(
          {.name = p.tier, .default_deny = !pass && tier_info.at(p.tier).default_deny});
    }
    out_tiers.back().policies.push_back(p.id);
  };
  m.host_endpoints.reserve(local_heps.size());
  for (const auto& [key, ep] : local_heps) {
    policy::HostEndpoint out{.name = ep->name,
                             .interface_name = ep->interface_name,
                             .expected_ips = ep->addresses,
                             .labels = ep->effective,
                             .profiles = ep->profiles};
    ranks.clear();
    for (const auto* matching :
         {&rules.PoliciesMatching(*key), &rules.HostPoliciesMatching(*key)}) {
      for (const std::string* pkey : *matching) {
        ranks.push_back(rank.at(*pkey));
      }
    }
    std::sort(ranks.begin(), ranks.end());
    for (std::size_t r : ranks) {
      const PolicyRec& p = *active[r].second;
      if (p.do_not_track) {
        if (p.applies_ingress) add(out.untracked_ingress_tiers, p, true);
        if (p.applies_egress) add(out.untracked_egress_tiers, p, true);
      } else if (p.pre_dnat) {
        if (p.applies_ingress) add(out.pre_dnat_ingress_tiers, p, true);
      } else {
        if (p.applies_ingress) add(out.ingress_tiers, p, false);
        if (p.applies_egress) add(out.egress_tiers, p, false);
        if (p.apply_on_forward && p.applies_ingress) add(out.forward_ingress_tiers, p, false);
        if (p.apply_on_forward && p.applies_egress) add(out.forward_egress_tiers, p, false);
      }
    }
    m.host_endpoints.push_back(std::move(out));
  }

  // Active policies and profiles.
  m.policies.reserve(active.size());
  for (const auto& [key, p] : active) {
    // Only staged policies (the pending view's, CalcGraph::OnStagedPolicy) carry their kind: the
    // enforced kinds follow from the id.
    const bool staged = p->kind.starts_with("Staged");
    m.policies.push_back({.id = p->id,
                          .tier = p->tier,
                          .ingress = p->ingress,
                          .egress = p->egress,
                          .kind = staged ? p->kind : std::string()});
  }
  std::sort(m.policies.begin(), m.policies.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  for (const auto& [name, refs] : rules.profile_refs()) {
    policy::Profile out{.id = name};
    if (const ProfileRec* profile = rules.FindProfile(name)) {
      out.ingress = profile->ingress;
      out.egress = profile->egress;
    } else if (name == kDefaultAllowProfile) {
      out.ingress = AllowAll();
      out.egress = AllowAll();
    }
    m.profiles.push_back(std::move(out));
  }
  std::sort(m.profiles.begin(), m.profiles.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return m;
}

}  // namespace calico::calc
