// Felix's calculation graph for one node (felix/calc/calc_graph.go): the dispatcher and the label
// inheritance of endpoints from their profiles; decoding, active rules, the IP set index and the
// policy resolver live in their own files (see calc_graph.h).
#include "calico/calc/calc_graph.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "calico/base/log.h"
#include "calico/calc/active_rules.h"
#include "calico/calc/decoding.h"
#include "calico/calc/interned_labels.h"
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

// CalcGraph::EndpointsVersion's values: one counter for every graph of the process.
uint64_t NextEndpointsVersion() {
  static std::atomic<uint64_t> last{0};
  return ++last;
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
  // An endpoint's effective labels: `own` itself when its profiles add none (the common case,
  // no copy), else `own` merged over the profiles' labels into `merged`.
  template <typename Profiles>
  const LabelMap& Effective(const LabelMap& own, const Profiles& profiles, LabelMap& merged) const {
    bool adds = false;
    for (const auto& profile : profiles) {
      for (const auto& [k, v] : rules.ProfileLabels(profile)) {
        if (!own.contains(k)) {
          adds = true;
          break;
        }
      }
      if (adds) break;
    }
    if (!adds) return own;
    merged = own;
    for (const auto& profile : profiles) {
      for (const auto& [k, v] : rules.ProfileLabels(profile)) {
        merged.emplace(k, v);  // Own labels win.
      }
    }
    return merged;
  }

  // --- Endpoints ------------------------------------------------------------------------------
  // What the graph keeps of every endpoint (most of them remote at Felix's design point), for
  // label inheritance: its own labels and its profiles. Its effective labels and addresses live
  // in the IP set index only; local endpoints also keep their whole record in `store` for the
  // model. When the profiles add no labels (the common case) the own labels are the effective
  // labels the IP set index holds, and are not kept twice (`own_labels` null); the profile list
  // is interned (endpoints share a handful of lists).
  using ProfileList = std::vector<std::string>;
  struct StoredEndpoint {
    std::unique_ptr<CompactLabels> own_labels{};  // Interned in `names`; null: the effective ones.
    const ProfileList* profiles = nullptr;        // A key of `profile_lists`; unique, in order.
    bool local = false;
    bool is_workload = true;
  };

  const ProfileList* InternProfiles(const ProfileList& list) {
    auto it = profile_lists.try_emplace(list, 0).first;
    ++it->second;
    return &it->first;
  }
  void ReleaseProfiles(const ProfileList* list) {
    if (list == nullptr) return;
    auto it = profile_lists.find(*list);
    if (it != profile_lists.end() && --it->second == 0) profile_lists.erase(it);
  }
  // `own` as the endpoint keeps it: null when it is the effective label set (`effective`).
  std::unique_ptr<CompactLabels> OwnLabels(const LabelMap& own, const LabelMap& effective) {
    if (&own == &effective) return nullptr;
    return std::make_unique<CompactLabels>(CompactLabels::Make(own, names));
  }

  void UpdateEndpoint(const std::string& key, EndpointRec&& rec) {
    endpoints_version = NextEndpointsVersion();
    // Reference the new profiles before dropping the old ones, so that a profile both use stays
    // active.
    for (const std::string& p : rec.profiles) {
      if (rec.local) rules.RefProfile(p);
    }
    LabelMap merged;
    const LabelMap& effective = Effective(rec.own_labels, rec.profiles, merged);
    std::vector<EndpointPort> ports = std::exchange(rec.ports, {});
    std::vector<net::CIDR> addresses = rec.local ? rec.addresses : std::exchange(rec.addresses, {});
    // The IP set index holds the one copy of the key; `endpoints` points to it.
    const std::string* stored_key =
        ipsets.UpdateItem(key, effective, std::move(addresses), std::move(ports));
    auto [it, fresh] = endpoints.try_emplace(stored_key);
    StoredEndpoint& ep = it->second;
    const bool was_local = !fresh && ep.local;
    if (!fresh) ForgetProfiles(ep);
    // Intern the new strings before releasing the old ones: the ones both share stay put.
    StoredEndpoint old = std::move(ep);
    ep = StoredEndpoint{.own_labels = OwnLabels(rec.own_labels, effective),
                        .profiles = InternProfiles(rec.profiles),
                        .local = rec.local,
                        .is_workload = rec.is_workload};
    Release(old);
    rules.UpdateEndpoint(key, effective, ep.local, ep.is_workload);
    if (ep.local) {
      store.local.insert(key);
      rec.effective = effective;
      store.endpoints.insert_or_assign(key, std::move(rec));
    } else if (was_local) {  // Only local endpoints are in `store`.
      store.local.erase(key);
      store.endpoints.erase(key);
    }
  }
  // Re-labels an endpoint after a change to one of its profiles' labelsToApply.
  void RelabelEndpoint(const std::string& key, StoredEndpoint& ep) {
    endpoints_version = NextEndpointsVersion();
    const LabelMap own =
        ep.own_labels ? ep.own_labels->ToMap() : ipsets.FindItemLabels(key)->ToMap();
    LabelMap merged;
    const LabelMap& effective = Effective(own, *ep.profiles, merged);
    ipsets.UpdateItemLabels(key, effective);
    rules.UpdateEndpoint(key, effective, ep.local, ep.is_workload);
    std::unique_ptr<CompactLabels> old = std::exchange(ep.own_labels, OwnLabels(own, effective));
    if (old) old->Release(names);
    if (ep.local) store.endpoints.at(key).effective = effective;
  }
  // Drops a local endpoint's references on its profiles (which keep them active).
  void ForgetProfiles(const StoredEndpoint& ep) {
    if (!ep.local || ep.profiles == nullptr) return;
    for (const std::string& p : *ep.profiles) {
      rules.UnrefProfile(p);
    }
  }
  void Release(StoredEndpoint& ep) {
    if (ep.own_labels) ep.own_labels->Release(names);
    ep.own_labels.reset();
    ReleaseProfiles(std::exchange(ep.profiles, nullptr));
  }
  void DeleteEndpoint(const std::string& key) {
    auto it = endpoints.find(ipsets.FindItem(key));
    if (it == endpoints.end()) return;
    endpoints_version = NextEndpointsVersion();
    rules.DeleteEndpoint(key);
    store.local.erase(key);
    store.endpoints.erase(key);
    ForgetProfiles(it->second);
    Release(it->second);
    endpoints.erase(it);
    ipsets.DeleteItem(key);  // Last: it holds the key `endpoints` pointed to.
  }

  // --- Profiles -------------------------------------------------------------------------------
  void SetProfile(const std::string& name, std::optional<ProfileRec> rec) {
    if (!rules.UpdateProfile(name, std::move(rec))) return;
    // Only a change of labelsToApply gets here (rare): the endpoints that list the profile are
    // found by a walk, not kept in a per-profile set (40 bytes per endpoint at 100k endpoints).
    for (auto& [key, ep] : endpoints) {
      for (const std::string& p : *ep.profiles) {
        if (p != name) continue;
        RelabelEndpoint(*key, ep);
        break;
      }
    }
  }

  std::string node_name;
  IpSetIndex ipsets;
  ActiveRules rules;
  StringInterner names;  // Endpoints' own label names and values (when kept).
  std::map<ProfileList, uint32_t> profile_lists;  // Endpoints' profile lists -> references.
  // WEPs and HEPs by item key as the IP set index stores it (ipsets.FindItem).
  std::unordered_map<const std::string*, StoredEndpoint> endpoints;
  EndpointStore store;  // The local ones' whole records, for the model.
  uint64_t endpoints_version = NextEndpointsVersion();  // EndpointsVersion().
  std::map<std::string, TierRec> tiers;
  std::map<std::string, model::v3::IPPool> ip_pools;
  std::map<std::string, model::v3::HostEndpoint> host_endpoints;
  CalcGraph::Changes changes{.other = true};  // Since the last TakeChanges().
};

CalcGraph::CalcGraph(std::string node_name)
    : state_(std::make_unique<State>(std::move(node_name))) {}
CalcGraph::~CalcGraph() = default;
CalcGraph::CalcGraph(CalcGraph&&) noexcept = default;
CalcGraph& CalcGraph::operator=(CalcGraph&&) noexcept = default;

void CalcGraph::ReserveEndpoints(size_t n) {
  state_->endpoints.reserve(n);
  state_->ipsets.ReserveItems(n);
}

const std::string& CalcGraph::node_name() const {
  return state_->node_name;
}

void CalcGraph::OnUpdate(const model::Resource& resource) {
  State& s = *state_;
  const std::string_view kind = CanonicalKind(resource.kind());
  // Policies: SetPolicy tells a change of rules alone from the rest.
  if (kind != kNetworkPolicy && kind != kGlobalNetworkPolicy) s.changes.other = true;
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
    const std::string ns = kind == kNetworkPolicy ? resource.namespace_() : "";
    SetPolicy(PolicyKey(kind, ns, name), *std::move(rec));
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

void CalcGraph::OnWorkloadEndpoint(model::v3::WorkloadEndpoint&& wep) {
  State& s = *state_;
  s.changes.other = true;
  std::string key = WorkloadKey(wep.metadata.namespace_, wep.metadata.name);
  s.UpdateEndpoint(key, WorkloadEndpointRec(std::move(wep), s.node_name));
}

void CalcGraph::OnNetworkPolicy(model::v3::NetworkPolicy&& np) {
  std::string key = PolicyKey(kNetworkPolicy, np.metadata.namespace_, np.metadata.name);
  SetPolicy(std::move(key), NetworkPolicyRec(std::move(np)));
}

void CalcGraph::OnGlobalNetworkPolicy(model::v3::GlobalNetworkPolicy&& gnp) {
  std::string key = PolicyKey(kGlobalNetworkPolicy, "", gnp.metadata.name);
  SetPolicy(std::move(key), GlobalNetworkPolicyRec(std::move(gnp)));
}

namespace {

// Whether `b` differs from `a` in its rules alone (see CalcGraph::Changes::policy_rules).
bool OnlyRulesDiffer(const PolicyRec& a, const PolicyRec& b) {
  if (std::tie(a.kind, a.ns, a.name, a.id, a.tier, a.order, a.applies_ingress, a.applies_egress,
               a.sort_name, a.sel, a.apply_on_forward, a.pre_dnat, a.do_not_track) !=
      std::tie(b.kind, b.ns, b.name, b.id, b.tier, b.order, b.applies_ingress, b.applies_egress,
               b.sort_name, b.sel, b.apply_on_forward, b.pre_dnat, b.do_not_track)) {
    return false;
  }
  // An IP set id names its selector (and named port): the same ids are the same sets.
  return std::equal(a.rule_sets.begin(), a.rule_sets.end(), b.rule_sets.begin(), b.rule_sets.end(),
                    [](const auto& x, const auto& y) { return x.first == y.first; });
}

}  // namespace

void CalcGraph::SetPolicy(std::string key, PolicyRec rec) {
  State& s = *state_;
  const std::string what = "policy " + rec.tier + "/" + rec.id;
  ReportRuleErrors(what, rec.ingress, "ingress");
  ReportRuleErrors(what, rec.egress, "egress");
  auto was = s.rules.policies().find(key);
  if (was != s.rules.policies().end() && OnlyRulesDiffer(was->second.rec, rec)) {
    s.changes.policy_rules.push_back(key);
  } else {
    s.changes.other = true;
  }
  s.rules.UpdatePolicy(key, std::move(rec));
}

void CalcGraph::OnDelete(std::string_view kind_in, std::string_view ns, std::string_view name) {
  State& s = *state_;
  s.changes.other = true;
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

void CalcGraph::OnStagedPolicy(std::string_view staged_kind, std::string_view ns,
                               std::string_view name, const model::Resource& enforced) {
  State& s = *state_;
  s.changes.other = true;
  auto rec = DecodePolicyRec(enforced);
  if (!rec) {
    CALICO_LOG(error, "calc", "ignoring {} {} (treated as deleted): {}", staged_kind, name,
               rec.error().message());
    OnStagedPolicyDelete(staged_kind, ns, name);
    return;
  }
  // Felix's key is the staged policy's (kind, namespace, name); the sort uses the enforced form's
  // name, which for a StagedKubernetesNetworkPolicy is knp.default.<name> as for the Kubernetes
  // NetworkPolicies this graph gets from kube-controllers' conversion: the staged policy sorts
  // right after the enforced one it stages, as upstream's "<name>/<ns>/KubernetesNetworkPolicy" <
  // "<name>/<ns>/StagedKubernetesNetworkPolicy".
  rec->kind = std::string(staged_kind);
  rec->sort_name = rec->name + "/" + rec->ns + "/" + rec->kind;
  rec->id = StagedPolicyId(rec->ns, rec->name);
  rec->name = std::string(name);
  const std::string what = std::string(staged_kind) + " " + rec->tier + "/" + rec->id;
  ReportRuleErrors(what, rec->ingress, "ingress");
  ReportRuleErrors(what, rec->egress, "egress");
  s.rules.UpdatePolicy(PolicyKey(staged_kind, ns, name), *std::move(rec));
}

void CalcGraph::OnStagedPolicyDelete(std::string_view staged_kind, std::string_view ns,
                                     std::string_view name) {
  state_->changes.other = true;
  state_->rules.DeletePolicy(PolicyKey(staged_kind, ns, name));
}

std::string StagedPolicyId(std::string_view ns, std::string_view enforced_name) {
  std::string out;
  if (!ns.empty()) out = std::string(ns) + "/";
  return out + "staged:" + std::string(enforced_name);
}

policy::Model CalcGraph::Model() const {
  const State& s = *state_;
  policy::Model m = ResolvePolicies(s.store, s.rules, s.tiers);
  m.ip_sets = s.ipsets.Sets();
  return m;
}

CalcGraph::Changes CalcGraph::TakeChanges() {
  return std::exchange(state_->changes, Changes{});
}

std::optional<std::vector<std::string>> CalcGraph::PatchPolicyRules(policy::Model& m,
                                                                    const Changes& changes) const {
  std::vector<std::string> ids;
  for (const std::string& key : changes.policy_rules) {
    auto it = state_->rules.policies().find(key);
    if (it == state_->rules.policies().end()) return std::nullopt;
    if (!it->second.active) continue;
    const PolicyRec& rec = it->second.rec;
    // Model() sorts its policies by id.
    auto at =
        std::lower_bound(m.policies.begin(), m.policies.end(), rec.id,
                         [](const policy::Policy& p, const std::string& id) { return p.id < id; });
    if (at == m.policies.end() || at->id != rec.id || at->tier != rec.tier) return std::nullopt;
    at->ingress = rec.ingress;
    at->egress = rec.egress;
    ids.push_back(rec.id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
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

uint64_t CalcGraph::EndpointsVersion() const {
  return state_->endpoints_version;
}

std::vector<EndpointSummary> CalcGraph::Endpoints() const {
  const State& s = *state_;
  std::vector<EndpointSummary> out;
  out.reserve(s.endpoints.size());
  // Remote endpoints: their names from the key ("wep/<ns>/<name>", "hep/<name>"; a namespace has
  // no '/'), effective labels and addresses from the IP set index, which holds them.
  for (const auto& [key, ep] : s.endpoints) {
    if (ep.local) continue;
    EndpointSummary e{.is_workload = ep.is_workload, .local = false};
    std::string_view k = *key;
    k.remove_prefix(k.find('/') + 1);
    if (ep.is_workload) {
      const size_t slash = k.find('/');
      e.ns = std::string(k.substr(0, slash));
      k.remove_prefix(slash + 1);
    }
    e.name = std::string(k);
    if (const auto* members = s.ipsets.FindItemMembers(*key)) e.addresses = *members;
    if (const CompactLabels* labels = s.ipsets.FindItemLabels(*key)) e.labels = labels->ToMap();
    out.push_back(std::move(e));
  }
  for (const auto& [key, ep] : s.store.endpoints) {
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
