// Felix's calculation graph for one node (felix/calc): active rules, rule scanner, IP set member
// index and policy resolver/sorter, see calc_graph.h.
#include "calico/calc/calc_graph.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "calico/calc/label_index.h"
#include "calico/calc/policy_conversion.h"
#include "calico/net/ip.h"
#include "calico/policy/named_ports.h"
#include "calico/selector/selector.h"

namespace calico::calc {
namespace {

using selector::LabelMap;

constexpr std::string_view kWorkloadEndpoint = "WorkloadEndpoint";
constexpr std::string_view kHostEndpoint = "HostEndpoint";
constexpr std::string_view kProfile = "Profile";
constexpr std::string_view kNetworkPolicy = "NetworkPolicy";
constexpr std::string_view kGlobalNetworkPolicy = "GlobalNetworkPolicy";
constexpr std::string_view kTier = "Tier";
constexpr std::string_view kNetworkSet = "NetworkSet";
constexpr std::string_view kGlobalNetworkSet = "GlobalNetworkSet";
constexpr std::string_view kIPPool = "IPPool";
constexpr std::string_view kDefaultTier = "default";

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

LabelMap StringMap(const Json& obj) {
  LabelMap out;
  if (!obj.is_object()) return out;
  for (const auto& [k, v] : obj.items()) {
    if (v.is_string()) out.emplace(k, v.get<std::string>());
  }
  return out;
}

std::string StringField(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

bool BoolField(const Json& obj, const char* key) {
  if (!obj.is_object()) return false;
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

std::vector<std::string> StringList(const Json& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.is_object()) return out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return out;
  for (const Json& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::optional<double> OrderField(const Json& spec) {
  if (!spec.is_object()) return std::nullopt;
  auto it = spec.find("order");
  if (it == spec.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

// Addresses as host routes (/32, /128): workload ipNetworks and host endpoint expectedIPs.
std::vector<net::CIDR> HostAddresses(const std::vector<std::string>& texts) {
  std::vector<net::CIDR> out;
  for (const std::string& t : texts) {
    auto cidr = net::CIDR::ParseNet(t);
    if (!cidr) continue;
    out.emplace_back(cidr->addr(), cidr->addr().bit_len());
  }
  return out;
}

// Network set nets: host bits allowed and bare addresses (reference 1.8); members are masked.
std::vector<net::CIDR> Networks(const std::vector<std::string>& texts) {
  std::vector<net::CIDR> out;
  for (const std::string& t : texts) {
    if (auto cidr = net::CIDR::ParseNet(t)) out.push_back(cidr->Masked());
  }
  return out;
}

// What an IP set stands for: a selector, or the named port `named_port` of the endpoints it
// selects (named_ports.h).
struct IpSetDef {
  selector::Selector sel{};
  std::string named_port{};  // Empty for selector sets.
  uint8_t protocol = 0;      // Named-port sets: 6, 17 or 132.
};
using SelectorMap = std::map<std::string, IpSetDef>;  // IP set id -> definition.

// The IP sets the rendered rules will match on (policy::ScanRuleIpSets): selector sets by
// UniqueId, named-port sets by NamedPortSetId.
void CollectRuleSelectors(const Json& rules, SelectorMap& out) {
  if (!rules.is_array()) return;
  for (const Json& rule : rules) {
    policy::RuleIpSets sets = policy::ScanRuleIpSets(rule);
    for (const std::string& text : sets.selectors) {
      if (auto sel = selector::Parse(text)) out.emplace(sel->UniqueId(), IpSetDef{.sel = *sel});
    }
    for (policy::NamedPortSetDef& np : sets.named_ports) {
      out.emplace(std::move(np.id), IpSetDef{.sel = std::move(np.selector),
                                             .named_port = std::move(np.port),
                                             .protocol = np.protocol});
    }
  }
}

// One spec.ports entry of a WorkloadEndpoint / HostEndpoint.
struct EndpointPort {
  std::string name{};
  uint8_t protocol = 0;  // 6, 17, 132 for TCP/UDP/SCTP names (any case), else the number; 0 = none.
  uint16_t port = 0;
};

// spec.ports: entries without a name or a valid port number are skipped (libcalico-go passes only
// named ports to Felix).
std::vector<EndpointPort> EndpointPorts(const Json& spec) {
  std::vector<EndpointPort> out;
  if (!spec.is_object()) return out;
  auto it = spec.find("ports");
  if (it == spec.end() || !it->is_array()) return out;
  for (const Json& p : *it) {
    EndpointPort port{.name = StringField(p, "name")};
    if (port.name.empty() || !p.contains("port") || !p["port"].is_number_integer()) continue;
    const auto number = p["port"].get<long long>();
    if (number < 1 || number > 65535) continue;
    port.port = static_cast<uint16_t>(number);
    if (auto proto = p.find("protocol"); proto != p.end()) {
      if (proto->is_string()) {
        port.protocol = policy::ParseNamedPortProtocol(proto->get<std::string>()).value_or(0);
      } else if (proto->is_number_integer() && proto->get<long long>() > 0 &&
                 proto->get<long long>() < 256) {
        port.protocol = static_cast<uint8_t>(proto->get<long long>());
      }
    }
    out.push_back(std::move(port));
  }
  return out;
}

// Tier/policy ordering key: order ascending with "absent" last.
double OrderKey(const std::optional<double>& order) {
  return order.value_or(std::numeric_limits<double>::infinity());
}

}  // namespace

struct CalcGraph::State {
  // A WorkloadEndpoint or HostEndpoint.
  struct EndpointRec {
    bool is_workload = true;
    std::string ns{};
    std::string name{};
    bool local = false;
    std::string interface_name{};  // HEPs: "*" = all host interfaces, "" = by expectedIPs.
    std::vector<net::CIDR> addresses{};
    std::vector<EndpointPort> ports{};  // Named ports (for named-port IP sets).
    LabelMap own_labels{};
    std::vector<std::string> profiles{};  // Unique, in order.
    LabelMap effective{};
  };
  struct ProfileRec {
    LabelMap labels_to_apply{};
    policy::SharedJson ingress{};  // Shared with every Model built from it.
    policy::SharedJson egress{};
    SelectorMap rule_selectors{};
  };
  struct PolicyRec {
    std::string kind{};
    std::string ns{};
    std::string name{};
    std::string id{};
    std::string tier{};
    std::optional<double> order{};
    bool applies_ingress = true;
    bool applies_egress = false;
    policy::SharedJson ingress{};  // Shared with every Model built from it.
    policy::SharedJson egress{};
    SelectorMap rule_selectors{};
    // PolicySorter's tie-break within an order: "<name>/<namespace>/<kind>".
    std::string sort_name{};
    // The endpoint selector; nullopt when it does not parse (the policy selects nothing).
    std::optional<selector::Selector> sel{};
    // GlobalNetworkPolicy host endpoint options. doNotTrack / preDNAT policies only ever apply to
    // host endpoints (they are filed in host_policy_index); applyOnForward ones also govern
    // forwarded traffic through host endpoints.
    bool apply_on_forward = false;
    bool pre_dnat = false;
    bool do_not_track = false;
    bool host_only() const { return pre_dnat || do_not_track; }
    // Active = matches at least one local endpoint; then `acquired` holds the IP set selectors
    // this policy holds a reference on.
    bool active = false;
    std::vector<std::string> acquired{};
  };
  struct TierRec {
    std::optional<double> order{};
    bool default_deny = true;
  };

  explicit State(std::string node)
      : node_name(std::move(node)),
        // A policy is active while it matches a local endpoint in either index (it is filed in
        // one of them, but moves when its doNotTrack/preDNAT options change).
        policy_index(
            [this](const std::string& policy, const std::string&) {
              if (policy_index.ItemsMatching(policy).size() == 1) ActivatePolicy(policy);
            },
            [this](const std::string& policy, const std::string&) {
              if (!MatchesLocalEndpoint(policy)) DeactivatePolicy(policy);
            }),
        host_policy_index(
            [this](const std::string& policy, const std::string&) {
              if (host_policy_index.ItemsMatching(policy).size() == 1) ActivatePolicy(policy);
            },
            [this](const std::string& policy, const std::string&) {
              if (!MatchesLocalEndpoint(policy)) DeactivatePolicy(policy);
            }),
        ipset_index(
            [this](const std::string& set, const std::string&) { dirty_sets.insert(set); },
            [this](const std::string& set, const std::string&) { dirty_sets.insert(set); }) {}

  // --- IP set references (RuleScanner) -------------------------------------------------------
  std::vector<std::string> Acquire(const SelectorMap& sels) {
    std::vector<std::string> ids;
    for (const auto& [id, sel] : sels) {
      auto& ref = ipset_refs[id];
      if (ref.first++ == 0) {
        ref.second = sel;
        ipset_index.UpdateSelector(id, sel.sel);
      }
      ids.push_back(id);
    }
    return ids;
  }
  void Release(const std::vector<std::string>& ids) {
    for (const std::string& id : ids) {
      auto it = ipset_refs.find(id);
      if (it == ipset_refs.end()) continue;
      if (--it->second.first == 0) {
        ipset_refs.erase(it);
        ipset_index.DeleteSelector(id);
      }
    }
  }

  // --- Active rules ---------------------------------------------------------------------------
  bool MatchesLocalEndpoint(const std::string& policy) const {
    return !policy_index.ItemsMatching(policy).empty() ||
           !host_policy_index.ItemsMatching(policy).empty();
  }
  void ActivatePolicy(const std::string& key) {
    PolicyRec& p = policies.at(key);
    if (p.active) return;
    p.active = true;
    p.acquired = Acquire(p.rule_selectors);
  }
  void DeactivatePolicy(const std::string& key) {
    PolicyRec& p = policies.at(key);
    if (!p.active) return;
    p.active = false;
    Release(p.acquired);
    p.acquired.clear();
  }
  const SelectorMap& ProfileSelectors(const std::string& name) const {
    static const SelectorMap none;
    auto it = profiles.find(name);
    return it == profiles.end() ? none : it->second.rule_selectors;
  }
  void RefProfile(const std::string& name) {
    if (profile_local_refs[name]++ == 0) profile_acquired[name] = Acquire(ProfileSelectors(name));
  }
  void UnrefProfile(const std::string& name) {
    auto it = profile_local_refs.find(name);
    if (it == profile_local_refs.end()) return;
    if (--it->second > 0) return;
    profile_local_refs.erase(it);
    Release(profile_acquired[name]);
    profile_acquired.erase(name);
  }

  // --- Labels ---------------------------------------------------------------------------------
  const LabelMap& ProfileLabels(const std::string& name) const {
    static const LabelMap none;
    auto it = profiles.find(name);
    return it == profiles.end() ? none : it->second.labels_to_apply;
  }
  LabelMap Effective(const EndpointRec& ep) const {
    LabelMap out = ep.own_labels;
    for (const std::string& profile : ep.profiles) {
      for (const auto& [k, v] : ProfileLabels(profile)) {
        out.emplace(k, v);  // Own labels win.
      }
    }
    return out;
  }
  // Pushes an endpoint's current labels and addresses into the indexes.
  void IndexEndpoint(const std::string& key, EndpointRec& ep) {
    ep.effective = Effective(ep);
    SetItemMembers(key, ep.addresses);
    ipset_index.UpdateItem(key, ep.effective);
    if (ep.local) {
      policy_index.UpdateItem(key, ep.effective);
    } else {
      policy_index.DeleteItem(key);
    }
    if (ep.local && !ep.is_workload) {
      host_policy_index.UpdateItem(key, ep.effective);
    } else {
      host_policy_index.DeleteItem(key);
    }
  }

  // An IP set index item's addresses; the sets it is in now have other members. (Sets it joins or
  // leaves are marked by the index's callbacks.)
  void SetItemMembers(const std::string& key, std::vector<net::CIDR> members) {
    std::vector<net::CIDR>& have = item_members[key];
    if (have == members) return;
    have = std::move(members);
    for (const std::string& set : ipset_index.SelectorsMatching(key)) {
      dirty_sets.insert(set);
    }
  }

  // --- Endpoints ------------------------------------------------------------------------------
  void UpdateEndpoint(const std::string& key, EndpointRec&& rec) {
    // Reference the new profiles before dropping the old ones, so that a profile both use stays
    // active.
    for (const std::string& p : rec.profiles) {
      profile_users[p].insert(key);
      if (rec.local) RefProfile(p);
    }
    if (rec.local) {
      local_endpoints.insert(key);
    } else {
      local_endpoints.erase(key);
    }
    if (auto it = endpoints.find(key); it != endpoints.end()) {
      ForgetProfiles(key, it->second, rec.profiles);
      it->second = std::move(rec);
      IndexEndpoint(key, it->second);
    } else {
      IndexEndpoint(key, endpoints.emplace(key, std::move(rec)).first->second);
    }
  }
  // Drops `ep`'s profile references (the ones not in `keep` from profile_users).
  void ForgetProfiles(const std::string& key, const EndpointRec& ep,
                      const std::vector<std::string>& keep) {
    for (const std::string& p : ep.profiles) {
      if (ep.local) UnrefProfile(p);
      if (std::find(keep.begin(), keep.end(), p) != keep.end()) continue;
      auto it = profile_users.find(p);
      if (it == profile_users.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) profile_users.erase(it);
    }
  }
  void DeleteEndpoint(const std::string& key) {
    auto it = endpoints.find(key);
    if (it == endpoints.end()) return;
    policy_index.DeleteItem(key);
    host_policy_index.DeleteItem(key);
    ipset_index.DeleteItem(key);
    item_members.erase(key);
    local_endpoints.erase(key);
    ForgetProfiles(key, it->second, {});
    endpoints.erase(it);
  }

  EndpointRec ParseEndpoint(const model::Resource& r, bool is_workload) const {
    const Json& spec = r.spec();
    EndpointRec ep;
    ep.is_workload = is_workload;
    ep.name = r.name();
    ep.own_labels = StringMap(r.metadata().value("labels", Json::object()));
    if (is_workload) {
      ep.ns = r.namespace_();
      ep.local = StringField(spec, "node") == node_name;
      ep.interface_name = StringField(spec, "interfaceName");
      ep.addresses = HostAddresses(StringList(spec, "ipNetworks"));
      if (!ep.ns.empty()) ep.own_labels.emplace(kNamespaceLabel, ep.ns);
    } else {
      // A host endpoint of this node is enforced on its interface ("*" = all of them) or, with
      // expectedIPs only, on the interfaces carrying those addresses
      // (policy::ResolveHostEndpoints).
      ep.local = StringField(spec, "node") == node_name;
      ep.interface_name = StringField(spec, "interfaceName");
      ep.addresses = HostAddresses(StringList(spec, "expectedIPs"));
    }
    ep.ports = EndpointPorts(spec);
    for (std::string& p : StringList(spec, "profiles")) {
      if (std::find(ep.profiles.begin(), ep.profiles.end(), p) == ep.profiles.end()) {
        ep.profiles.push_back(std::move(p));
      }
    }
    return ep;
  }

  // --- Profiles -------------------------------------------------------------------------------
  void SetProfile(const std::string& name, std::optional<ProfileRec> rec) {
    const bool labels_changed = ProfileLabels(name) != (rec ? rec->labels_to_apply : LabelMap{});
    const bool active = profile_local_refs.contains(name);
    std::vector<std::string> old_acquired;
    if (active) old_acquired = std::move(profile_acquired[name]);
    if (rec) {
      profiles[name] = *std::move(rec);
    } else {
      profiles.erase(name);
    }
    if (active) {
      profile_acquired[name] = Acquire(ProfileSelectors(name));
      Release(old_acquired);
    }
    if (!labels_changed) return;
    auto it = profile_users.find(name);
    if (it == profile_users.end()) return;
    const std::vector<std::string> users(it->second.begin(), it->second.end());
    for (const std::string& key : users) {
      IndexEndpoint(key, endpoints.at(key));
    }
  }

  // --- Policies -------------------------------------------------------------------------------
  PolicyRec ParsePolicy(const model::Resource& r, std::string_view kind) const {
    const Json& spec = r.spec();
    PolicyRec p;
    p.kind = std::string(kind);
    p.name = r.name();
    if (kind == kNetworkPolicy) p.ns = r.namespace_();
    p.id = p.ns.empty() ? p.name : p.ns + "/" + p.name;
    p.tier = StringField(spec, "tier");
    if (p.tier.empty()) p.tier = std::string(kDefaultTier);
    p.order = OrderField(spec);
    const Json empty = Json::array();
    const Json& ingress = spec.contains("ingress") ? spec["ingress"] : empty;
    const Json& egress = spec.contains("egress") ? spec["egress"] : empty;
    const std::vector<std::string> types = StringList(spec, "types");
    if (types.empty()) {
      // api/pkg/defaults: no egress rules -> [Ingress]; egress only -> [Egress]; both -> both.
      const bool has_egress = egress.is_array() && !egress.empty();
      const bool has_ingress = ingress.is_array() && !ingress.empty();
      p.applies_ingress = has_ingress || !has_egress;
      p.applies_egress = has_egress;
    } else {
      p.applies_ingress = std::find(types.begin(), types.end(), "Ingress") != types.end();
      p.applies_egress = std::find(types.begin(), types.end(), "Egress") != types.end();
    }
    if (p.applies_ingress) p.ingress = ScopeRules(ingress, p.ns);
    if (p.applies_egress) p.egress = ScopeRules(egress, p.ns);
    CollectRuleSelectors(p.ingress, p.rule_selectors);
    CollectRuleSelectors(p.egress, p.rule_selectors);
    p.sort_name = p.name + "/" + p.ns + "/" + p.kind;
    // Untracked and pre-DNAT policies only ever apply to host endpoints (reference 3.2); the
    // options exist on GlobalNetworkPolicy only.
    if (kind == kGlobalNetworkPolicy) {
      p.apply_on_forward = BoolField(spec, "applyOnForward");
      p.pre_dnat = BoolField(spec, "preDNAT");
      p.do_not_track = BoolField(spec, "doNotTrack");
    }
    p.sel = PolicyEndpointSelector(spec, p.ns);
    return p;
  }

  void UpdatePolicy(const std::string& key, PolicyRec&& rec) {
    auto it = policies.find(key);
    if (it != policies.end() && it->second.active) {
      rec.active = true;
      rec.acquired = Acquire(rec.rule_selectors);
      Release(it->second.acquired);
    }
    std::optional<selector::Selector> sel = rec.sel;
    const bool host_only = rec.host_only();
    if (it != policies.end()) {
      it->second = std::move(rec);
    } else {
      policies.emplace(key, std::move(rec));
    }
    // File the selector in its index first, then drop it from the other one (a policy that
    // changes kind stays active throughout if it keeps matching).
    LabelIndex& index = host_only ? host_policy_index : policy_index;
    LabelIndex& other = host_only ? policy_index : host_policy_index;
    if (sel) {
      index.UpdateSelector(key, *sel);
    } else {
      index.DeleteSelector(key);
    }
    other.DeleteSelector(key);
  }
  void DeletePolicy(const std::string& key) {
    if (!policies.contains(key)) return;
    policy_index.DeleteSelector(key);
    host_policy_index.DeleteSelector(key);
    DeactivatePolicy(key);
    policies.erase(key);
  }

  // --- Network sets ---------------------------------------------------------------------------
  void UpdateNetworkSet(const std::string& key, const model::Resource& r, bool namespaced) {
    LabelMap labels = StringMap(r.metadata().value("labels", Json::object()));
    if (namespaced) labels[std::string(kNamespaceLabel)] = r.namespace_();
    SetItemMembers(key, Networks(StringList(r.spec(), "nets")));
    ipset_index.UpdateItem(key, labels);
  }
  void DeleteNetworkSet(const std::string& key) {
    ipset_index.DeleteItem(key);
    item_members.erase(key);
  }

  std::string node_name;
  std::unordered_map<std::string, EndpointRec> endpoints;  // WEPs and HEPs by item key.
  std::unordered_set<std::string> local_endpoints;         // Keys of the local ones.
  std::unordered_map<std::string, ProfileRec> profiles;
  std::unordered_map<std::string, PolicyRec> policies;  // By policy key.
  std::map<std::string, TierRec> tiers;
  std::map<std::string, model::Resource> ip_pools;
  std::map<std::string, model::Resource> host_endpoints;

  // Profile name -> endpoints (any node, WEPs and HEPs) that list it, for labelsToApply changes.
  std::unordered_map<std::string, std::unordered_set<std::string>> profile_users;
  // Profile name -> number of local endpoints that list it (active iff > 0).
  std::unordered_map<std::string, int> profile_local_refs;
  std::unordered_map<std::string, std::vector<std::string>> profile_acquired;
  // IP set id (selector UniqueId, NamedPortSetId) -> (references from active policies/profiles,
  // definition).
  std::unordered_map<std::string, std::pair<int, IpSetDef>> ipset_refs;
  // IP set index item -> the addresses/nets it contributes.
  std::unordered_map<std::string, std::vector<net::CIDR>> item_members;
  // Model()'s IP sets as last computed (selector text, sorted members), and the sets whose members
  // may have changed since: a change re-collects only the sets it touched.
  struct SetCache {
    std::string selector{};
    std::vector<net::CIDR> members{};
  };
  mutable std::unordered_map<std::string, SetCache> set_cache;
  mutable std::unordered_set<std::string> dirty_sets;

  LabelIndex policy_index;       // Normal policy keys x local workload and host endpoints.
  LabelIndex host_policy_index;  // doNotTrack / preDNAT policy keys x local host endpoints.
  LabelIndex ipset_index;        // Active rule selectors x all endpoints and network sets.
};

namespace {

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

}  // namespace

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
  if (kind == kWorkloadEndpoint) {
    s.UpdateEndpoint(WorkloadKey(resource.namespace_(), name), s.ParseEndpoint(resource, true));
  } else if (kind == kHostEndpoint) {
    s.host_endpoints[name] = resource;
    s.UpdateEndpoint(HostEndpointKey(name), s.ParseEndpoint(resource, false));
  } else if (kind == kProfile) {
    State::ProfileRec rec;
    const Json& spec = resource.spec();
    rec.labels_to_apply = StringMap(spec.value("labelsToApply", Json::object()));
    rec.ingress = ScopeRules(spec.value("ingress", Json::array()), "");
    rec.egress = ScopeRules(spec.value("egress", Json::array()), "");
    CollectRuleSelectors(rec.ingress, rec.rule_selectors);
    CollectRuleSelectors(rec.egress, rec.rule_selectors);
    s.SetProfile(name, std::move(rec));
  } else if (kind == kNetworkPolicy || kind == kGlobalNetworkPolicy) {
    const std::string ns = kind == kNetworkPolicy ? resource.namespace_() : "";
    s.UpdatePolicy(PolicyKey(kind, ns, name), s.ParsePolicy(resource, kind));
  } else if (kind == kTier) {
    const Json& spec = resource.spec();
    s.tiers[name] = State::TierRec{.order = OrderField(spec),
                                   .default_deny = StringField(spec, "defaultAction") != "Pass"};
  } else if (kind == kNetworkSet) {
    s.UpdateNetworkSet(NetworkSetKey(resource.namespace_(), name), resource, true);
  } else if (kind == kGlobalNetworkSet) {
    s.UpdateNetworkSet(GlobalNetworkSetKey(name), resource, false);
  } else if (kind == kIPPool) {
    s.ip_pools[name] = resource;
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
    if (s.profiles.contains(n)) s.SetProfile(n, std::nullopt);
  } else if (kind == kNetworkPolicy) {
    s.DeletePolicy(PolicyKey(kind, ns, name));
  } else if (kind == kGlobalNetworkPolicy) {
    s.DeletePolicy(PolicyKey(kind, "", name));
  } else if (kind == kTier) {
    s.tiers.erase(n);
  } else if (kind == kNetworkSet) {
    s.DeleteNetworkSet(NetworkSetKey(ns, name));
  } else if (kind == kGlobalNetworkSet) {
    s.DeleteNetworkSet(GlobalNetworkSetKey(name));
  } else if (kind == kIPPool) {
    s.ip_pools.erase(n);
  }
}

policy::Model CalcGraph::Model() const {
  const State& s = *state_;
  policy::Model m;

  // Tier order (PolicySorter): known tiers (Tier resources and the built-ins) by order, absent
  // order last, then name; tiers only named by policies after them, by name.
  struct TierInfo {
    bool known = false;
    double order = 0;
    bool default_deny = true;
  };
  std::map<std::string, TierInfo> tier_info;
  for (const BuiltinTier& b : kBuiltinTiers) {
    tier_info[std::string(b.name)] = {
        .known = true, .order = b.order, .default_deny = b.default_deny};
  }
  for (const auto& [name, t] : s.tiers) {
    TierInfo& info = tier_info[name];
    // A built-in tier keeps its fixed order when the resource does not give one.
    if (t.order || !info.known) info.order = OrderKey(t.order);
    info.known = true;
    info.default_deny = t.default_deny;
  }

  // Active policies in evaluation order; rank = position.
  std::vector<const State::PolicyRec*> active;
  for (const auto& [key, p] : s.policies) {
    if (!p.active) continue;
    active.push_back(&p);
    if (!tier_info.contains(p.tier)) tier_info[p.tier] = {.known = false};
  }
  std::sort(active.begin(), active.end(), [&](const auto* a, const auto* b) {
    const TierInfo& ta = tier_info.at(a->tier);
    const TierInfo& tb = tier_info.at(b->tier);
    if (ta.known != tb.known) return ta.known;
    if (ta.order != tb.order) return ta.order < tb.order;
    if (a->tier != b->tier) return a->tier < b->tier;
    const double oa = OrderKey(a->order);
    const double ob = OrderKey(b->order);
    if (oa != ob) return oa < ob;
    return a->sort_name < b->sort_name;
  });
  std::unordered_map<std::string, std::size_t> rank;
  rank.reserve(active.size());
  for (std::size_t i = 0; i < active.size(); ++i) {
    rank.emplace(PolicyKey(active[i]->kind, active[i]->ns, active[i]->name), i);
  }

  // Local endpoints (PolicyResolver).
  std::vector<std::pair<const std::string*, const State::EndpointRec*>> locals;
  std::vector<std::pair<const std::string*, const State::EndpointRec*>> local_heps;
  locals.reserve(s.local_endpoints.size());
  for (const std::string& key : s.local_endpoints) {
    const State::EndpointRec& ep = s.endpoints.at(key);
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
                         .profiles = ep->profiles};
    ranks.clear();
    for (const std::string& pkey : s.policy_index.SelectorsMatching(*key)) {
      ranks.push_back(rank.at(pkey));
    }
    std::sort(ranks.begin(), ranks.end());
    for (std::size_t r : ranks) {
      const State::PolicyRec& p = *active[r];
      for (auto [applies, tiers] : {std::pair{p.applies_ingress, &out.ingress_tiers},
                                    std::pair{p.applies_egress, &out.egress_tiers}}) {
        if (!applies) continue;
        if (tiers->empty() || tiers->back().name != p.tier) {
          tiers->push_back({.name = p.tier, .default_deny = tier_info.at(p.tier).default_deny});
        }
        tiers->back().policies.push_back(p.id);
      }
    }
    m.endpoints.push_back(std::move(out));
  }

  // Local host endpoints: normal policies, applyOnForward ones again for forwarded traffic,
  // preDNAT (ingress only) and doNotTrack ones apart, those two with tier default Pass (Felix's
  // tierInfoToProtoTierInfo: normal policy still follows them).
  std::sort(local_heps.begin(), local_heps.end(),
            [](const auto& a, const auto& b) { return a.second->name < b.second->name; });
  auto add = [&](std::vector<policy::TierRef>& tiers, const State::PolicyRec& p, bool pass) {
    if (tiers.empty() || tiers.back().name != p.tier) {
      tiers.push_back({.name = p.tier, .default_deny = !pass && tier_info.at(p.tier).default_deny});
    }
    tiers.back().policies.push_back(p.id);
  };
  m.host_endpoints.reserve(local_heps.size());
  for (const auto& [key, ep] : local_heps) {
    policy::HostEndpoint out{.name = ep->name,
                             .interface_name = ep->interface_name,
                             .expected_ips = ep->addresses,
                             .labels = ep->effective,
                             .profiles = ep->profiles};
    ranks.clear();
    for (const LabelIndex* index : {&s.policy_index, &s.host_policy_index}) {
      for (const std::string& pkey : index->SelectorsMatching(*key)) {
        ranks.push_back(rank.at(pkey));
      }
    }
    std::sort(ranks.begin(), ranks.end());
    for (std::size_t r : ranks) {
      const State::PolicyRec& p = *active[r];
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
  for (const State::PolicyRec* p : active) {
    m.policies.push_back(
        {.id = p->id, .tier = p->tier, .ingress = p->ingress, .egress = p->egress});
  }
  std::sort(m.policies.begin(), m.policies.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  for (const auto& [name, refs] : s.profile_local_refs) {
    policy::Profile out{.id = name};
    if (auto it = s.profiles.find(name); it != s.profiles.end()) {
      out.ingress = it->second.ingress;
      out.egress = it->second.egress;
    } else if (name == kDefaultAllowProfile) {
      out.ingress = Json::array({{{"action", "Allow"}}});
      out.egress = Json::array({{{"action", "Allow"}}});
    }
    m.profiles.push_back(std::move(out));
  }
  std::sort(m.profiles.begin(), m.profiles.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });

  // IP sets (RuleScanner + member index). Selector sets' members are re-collected only for sets
  // marked dirty; named-port sets (few, and their members also follow spec.ports) every time.
  for (auto it = s.set_cache.begin(); it != s.set_cache.end();) {
    it = s.ipset_refs.contains(it->first) ? std::next(it) : s.set_cache.erase(it);
  }
  m.ip_sets.reserve(s.ipset_refs.size());
  for (const auto& [id, ref] : s.ipset_refs) {
    if (!ref.second.named_port.empty()) {
      // Named-port set: (address, protocol, port) of the matching endpoints' ports of that name.
      policy::IpSet set{.id = id, .selector = ref.second.sel.String()};
      set.named_port = ref.second.named_port;
      set.named_port_protocol = ref.second.protocol;
      for (const std::string& item : s.ipset_index.ItemsMatching(id)) {
        auto it = s.endpoints.find(item);
        if (it == s.endpoints.end()) continue;  // Network sets have no ports.
        for (const EndpointPort& p : it->second.ports) {
          if (p.name != set.named_port || p.protocol != set.named_port_protocol) continue;
          for (const net::CIDR& addr : it->second.addresses) {
            set.port_members.push_back(
                {.addr = addr.addr(), .protocol = p.protocol, .port = p.port});
          }
        }
      }
      std::sort(set.port_members.begin(), set.port_members.end());
      set.port_members.erase(std::unique(set.port_members.begin(), set.port_members.end()),
                             set.port_members.end());
      m.ip_sets.push_back(std::move(set));
      continue;
    }
    auto [cached, fresh] = s.set_cache.try_emplace(id);
    if (fresh || s.dirty_sets.contains(id)) {
      State::SetCache& c = cached->second;
      if (fresh) c.selector = ref.second.sel.String();
      c.members.clear();
      for (const std::string& item : s.ipset_index.ItemsMatching(id)) {
        auto it = s.item_members.find(item);
        if (it == s.item_members.end()) continue;
        c.members.insert(c.members.end(), it->second.begin(), it->second.end());
      }
      std::sort(c.members.begin(), c.members.end());
      c.members.erase(std::unique(c.members.begin(), c.members.end()), c.members.end());
    }
    m.ip_sets.push_back(
        {.id = id, .selector = cached->second.selector, .members = cached->second.members});
  }
  s.dirty_sets.clear();
  std::sort(m.ip_sets.begin(), m.ip_sets.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return m;
}

std::vector<model::Resource> CalcGraph::IpPools() const {
  std::vector<model::Resource> out;
  for (const auto& [name, r] : state_->ip_pools) {
    out.push_back(r);
  }
  return out;
}

std::vector<model::Resource> CalcGraph::HostEndpoints() const {
  std::vector<model::Resource> out;
  for (const auto& [name, r] : state_->host_endpoints) {
    out.push_back(r);
  }
  return out;
}

}  // namespace calico::calc
