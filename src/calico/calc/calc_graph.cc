// Felix's calculation graph for one node (felix/calc/calc_graph.go): the dispatcher and the label
// inheritance of endpoints from their profiles; decoding, active rules, the IP set index and the
// policy resolver live in their own files (see calc_graph.h).
#include "calico/calc/calc_graph.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "calico/base/log.h"
#include "calico/calc/active_rules.h"
#include "calico/calc/decoding.h"
#include "calico/calc/ipset_index.h"
#include "calico/calc/policy_resolver.h"

namespace calico::calc {
namespace {

constexpr std::string_view kWorkloadEndpoint = "WorkloadEndpoint";
constexpr std::string_view kHostEndpoint = "HostEndpoint";
constexpr std::string_view kProfile = "Profile";
constexpr std::string_view kNetworkPolicy = "NetworkPolicy";
constexpr std::string_view kGlobalNetworkPolicy = "GlobalNetworkPolicy";
constexpr std::string_view kTier = "Tier";
constexpr std::string_view kNetworkSet = "NetworkSet";
constexpr std::string_view kGlobalNetworkSet = "GlobalNetworkSet";
constexpr std::string_view kIPPool = "IPPool";

std::string WorkloadKey(std::string_view ns, std::string_view name) {
  return "wep/" + std::string(ns) + "/" + std::string(name);
}
std::string HostEndpointKey(std::string_view name) {
  return "hep/" + std::string(name);
}
std::string NetworkSetKey(std::string_view ns, std::string_view name) {
  return "netset/" + std::string(ns) + "/" + std::string(name);
}
std::string GlobalNetworkSetKey(std::string_view name) {
  return "gnetset/" + std::string(name);
}
std::string PolicyKey(std::string_view kind, std::string_view ns, std::string_view name) {
  return std::string(kind) + "/" + std::string(ns) + "/" + std::string(name);
}

// Canonical kind name, or "" for kinds the graph does not know.
std::string_view CanonicalKind(std::string_view kind) {
  const model::KindInfo* info = model::LookupKind(kind);
  if (info == nullptr) return {};
  return info->kind;
}

// A rule that does not parse makes its policy's (profile's) chain unrenderable: say so when the
// policy arrives. The renderer isolates it (policy::RenderReport: the chain drops, every other
// policy is programmed) and the agent reports it while it applies to an endpoint of this node.
void ReportRuleErrors(std::string_view what, const policy::ParsedRules& rules,
                      std::string_view direction) {
  if (rules.ok()) return;
  CALICO_LOG(error, "calc",
             "{} {} rule {}: {} (the endpoints of this node it applies to drop their traffic at "
             "its place; the other policies are programmed)",
             what, direction, rules.size(), rules.error()->message());
}

}  // namespace

struct CalcGraph::State {
  explicit State(std::string node) : node_name(std::move(node)), rules(ipsets) {}

  // --- Labels (Felix's label inheritance index) -----------------------------------------------
  LabelMap Effective(const EndpointRec& ep) const {
    LabelMap out = ep.own_labels;
    for (const std::string& profile : ep.profiles) {
      for (const auto& [k, v] : rules.ProfileLabels(profile)) {
        out.emplace(k, v);  // Own labels win.
      }
    }
    return out;
  }

  // --- Endpoints ------------------------------------------------------------------------------
  void UpdateEndpoint(const std::string& key, EndpointRec&& rec) {
    // Reference the new profiles before dropping the old ones, so that a profile both use stays
    // active.
    for (const std::string& p : rec.profiles) {
      profile_users[p].insert(key);
      if (rec.local) rules.RefProfile(p);
    }
    if (rec.local) {
      store.local.insert(key);
    } else {
      store.local.erase(key);
    }
    rec.effective = Effective(rec);
    std::vector<EndpointPort> ports = std::move(rec.ports);
    rec.ports.clear();
    EndpointRec* ep = nullptr;
    if (auto it = store.endpoints.find(key); it != store.endpoints.end()) {
      ForgetProfiles(key, it->second, rec.profiles);
      it->second = std::move(rec);
      ep = &it->second;
    } else {
      ep = &store.endpoints.emplace(key, std::move(rec)).first->second;
    }
    ipsets.UpdateItem(key, ep->effective, ep->addresses, std::move(ports));
    rules.UpdateEndpoint(key, ep->effective, ep->local, ep->is_workload);
  }
  // Re-labels an endpoint after a change to one of its profiles' labelsToApply.
  void RelabelEndpoint(const std::string& key, EndpointRec& ep) {
    ep.effective = Effective(ep);
    ipsets.UpdateItemLabels(key, ep.effective);
    rules.UpdateEndpoint(key, ep.effective, ep.local, ep.is_workload);
  }
  // Drops `ep`'s profile references (the ones not in `keep` from profile_users).
  void ForgetProfiles(const std::string& key, const EndpointRec& ep,
                      const std::vector<std::string>& keep) {
    for (const std::string& p : ep.profiles) {
      if (ep.local) rules.UnrefProfile(p);
      if (std::find(keep.begin(), keep.end(), p) != keep.end()) continue;
      auto it = profile_users.find(p);
      if (it == profile_users.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) profile_users.erase(it);
    }
  }
  void DeleteEndpoint(const std::string& key) {
    auto it = store.endpoints.find(key);
    if (it == store.endpoints.end()) return;
    rules.DeleteEndpoint(key);
    ipsets.DeleteItem(key);
    store.local.erase(key);
    ForgetProfiles(key, it->second, {});
    store.endpoints.erase(it);
  }

  // --- Profiles -------------------------------------------------------------------------------
  void SetProfile(const std::string& name, std::optional<ProfileRec> rec) {
    if (!rules.UpdateProfile(name, std::move(rec))) return;
    auto it = profile_users.find(name);
    if (it == profile_users.end()) return;
    const std::vector<std::string> users(it->second.begin(), it->second.end());
    for (const std::string& key : users) {
      RelabelEndpoint(key, store.endpoints.at(key));
    }
  }

  std::string node_name;
  IpSetIndex ipsets;
  ActiveRules rules;
  EndpointStore store;  // WEPs and HEPs by item key.
  // Profile name -> endpoints (any node, WEPs and HEPs) that list it, for labelsToApply changes.
  std::unordered_map<std::string, std::unordered_set<std::string>> profile_users;
  std::map<std::string, TierRec> tiers;
  std::map<std::string, model::v3::IPPool> ip_pools;
  std::map<std::string, model::v3::HostEndpoint> host_endpoints;
};

CalcGraph::CalcGraph(std::string node_name)
    : state_(std::make_unique<State>(std::move(node_name))) {}
CalcGraph::~CalcGraph() = default;
CalcGraph::CalcGraph(CalcGraph&&) noexcept = default;
CalcGraph& CalcGraph::operator=(CalcGraph&&) noexcept = default;

const std::string& CalcGraph::node_name() const {
  return state_->node_name;
}

void CalcGraph::OnUpdate(const model::Resource& resource) {
  State& s = *state_;
  const std::string_view kind = CanonicalKind(resource.kind());
  const std::string name = resource.name();
  // A resource that does not decode is treated as absent (Felix's validation filter).
  auto invalid = [&](const Error& err) {
    CALICO_LOG(error, "calc", "ignoring {} (treated as deleted): {}", resource.kind(),
               err.message());
    OnDelete(kind, resource.namespace_(), name);
  };
  if (kind == kWorkloadEndpoint) {
    auto rec = DecodeWorkloadEndpointRec(resource, s.node_name);
    if (!rec) return invalid(rec.error());
    s.UpdateEndpoint(WorkloadKey(resource.namespace_(), name), *std::move(rec));
  } else if (kind == kHostEndpoint) {
    auto hep = model::v3::DecodeHostEndpoint(resource);
    if (!hep) return invalid(hep.error());
    EndpointRec rec = HostEndpointRec(*hep, s.node_name);
    s.host_endpoints[name] = *std::move(hep);
    s.UpdateEndpoint(HostEndpointKey(name), std::move(rec));
  } else if (kind == kProfile) {
    auto rec = DecodeProfileRec(resource);
    if (!rec) return invalid(rec.error());
    ReportRuleErrors("profile " + name, rec->ingress, "ingress");
    ReportRuleErrors("profile " + name, rec->egress, "egress");
    s.SetProfile(name, *std::move(rec));
  } else if (kind == kNetworkPolicy || kind == kGlobalNetworkPolicy) {
    auto rec = DecodePolicyRec(resource);
    if (!rec) return invalid(rec.error());
    const std::string what = "policy " + rec->tier + "/" + rec->id;
    ReportRuleErrors(what, rec->ingress, "ingress");
    ReportRuleErrors(what, rec->egress, "egress");
    const std::string ns = kind == kNetworkPolicy ? resource.namespace_() : "";
    s.rules.UpdatePolicy(PolicyKey(kind, ns, name), *std::move(rec));
  } else if (kind == kTier) {
    auto rec = DecodeTierRec(resource);
    if (!rec) return invalid(rec.error());
    s.tiers[name] = *rec;
  } else if (kind == kNetworkSet || kind == kGlobalNetworkSet) {
    auto rec = DecodeNetworkSetRec(resource);
    if (!rec) return invalid(rec.error());
    s.ipsets.UpdateItem(kind == kNetworkSet ? NetworkSetKey(resource.namespace_(), name)
                                            : GlobalNetworkSetKey(name),
                        rec->labels, std::move(rec->members));
  } else if (kind == kIPPool) {
    auto pool = model::v3::DecodeIPPool(resource);
    if (!pool) return invalid(pool.error());
    s.ip_pools[name] = *std::move(pool);
  }
  // Staged policies and every other kind: never enforced, ignored.
}

void CalcGraph::OnDelete(std::string_view kind_in, std::string_view ns, std::string_view name) {
  State& s = *state_;
  const std::string_view kind = CanonicalKind(kind_in);
  const std::string n(name);
  if (kind == kWorkloadEndpoint) {
    s.DeleteEndpoint(WorkloadKey(ns, name));
  } else if (kind == kHostEndpoint) {
    s.host_endpoints.erase(n);
    s.DeleteEndpoint(HostEndpointKey(name));
  } else if (kind == kProfile) {
    if (s.rules.HasProfile(n)) s.SetProfile(n, std::nullopt);
  } else if (kind == kNetworkPolicy) {
    s.rules.DeletePolicy(PolicyKey(kind, ns, name));
  } else if (kind == kGlobalNetworkPolicy) {
    s.rules.DeletePolicy(PolicyKey(kind, "", name));
  } else if (kind == kTier) {
    s.tiers.erase(n);
  } else if (kind == kNetworkSet) {
    s.ipsets.DeleteItem(NetworkSetKey(ns, name));
  } else if (kind == kGlobalNetworkSet) {
    s.ipsets.DeleteItem(GlobalNetworkSetKey(name));
  } else if (kind == kIPPool) {
    s.ip_pools.erase(n);
  }
}

policy::Model CalcGraph::Model() const {
  const State& s = *state_;
  policy::Model m = ResolvePolicies(s.store, s.rules, s.tiers);
  m.ip_sets = s.ipsets.Sets();
  return m;
}

std::vector<model::v3::IPPool> CalcGraph::IpPools() const {
  std::vector<model::v3::IPPool> out;
  out.reserve(state_->ip_pools.size());
  for (const auto& [name, pool] : state_->ip_pools) {
    out.push_back(pool);
  }
  return out;
}

std::vector<model::v3::HostEndpoint> CalcGraph::HostEndpoints() const {
  std::vector<model::v3::HostEndpoint> out;
  out.reserve(state_->host_endpoints.size());
  for (const auto& [name, hep] : state_->host_endpoints) {
    out.push_back(hep);
  }
  return out;
}

std::vector<EndpointSummary> CalcGraph::Endpoints() const {
  std::vector<EndpointSummary> out;
  out.reserve(state_->store.endpoints.size());
  for (const auto& [key, ep] : state_->store.endpoints) {
    out.push_back(EndpointSummary{.is_workload = ep.is_workload,
                                  .local = ep.local,
                                  .ns = ep.ns,
                                  .name = ep.name,
                                  .addresses = ep.addresses,
                                  .labels = ep.effective});
  }
  std::sort(out.begin(), out.end(), [](const EndpointSummary& a, const EndpointSummary& b) {
    return std::tie(a.ns, a.name, a.is_workload) < std::tie(b.ns, b.name, b.is_workload);
  });
  return out;
}

}  // namespace calico::calc
