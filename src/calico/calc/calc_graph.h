// CalcGraph: Felix's calculation graph for one node (felix/calc), producing the policy::Model
// that the nftables renderer consumes. Its parts follow Felix's layout:
//
//   OnUpdate(Resource) ──decoding.h──▶ records (once per update; no JSON kept: parsed addresses,
//     │                                ports, labels, namespace-scoped parsed rules)
//     │ endpoints: effective labels = own labels (+ projectcalico.org/namespace) over profiles'
//     │            labelsToApply (calc_graph.cc, Felix's label inheritance)
//     ├─▶ active_rules.h   policy selectors × LOCAL endpoints ⇒ active policies; profiles listed
//     │                    by local endpoints ⇒ active profiles; active ⇒ their rules' IP sets
//     │                    are referenced
//     └─▶ ipset_index.h    referenced IP sets × ALL endpoints and network sets ⇒ members
//   Model() ──policy_resolver.h──▶ local endpoints with their tiers/policies per direction,
//                                  active policies/profiles (parsed rules shared, not copied);
//                                  + IpSetIndex::Sets() (members re-collected only when dirty)
//
//   CalcGraph graph("node-1");
//   graph.OnUpdate(wep);            // model::Resource of kind WorkloadEndpoint
//   graph.OnUpdate(policy);
//   policy::Model m = graph.Model();
//
// Semantics (reference 3.1/3.2 and Part 1.3-1.8):
//  * Kinds: WorkloadEndpoint, Profile, NetworkPolicy, GlobalNetworkPolicy, Tier, NetworkSet,
//    GlobalNetworkSet, HostEndpoint, IPPool. Staged policies (StagedNetworkPolicy,
//    StagedGlobalNetworkPolicy, StagedKubernetesNetworkPolicy) are accepted and ignored by
//    OnUpdate: they never affect traffic (the pending view adds them with OnStagedPolicy). Other
//    kinds are ignored.
//  * Local endpoints are the WorkloadEndpoints and HostEndpoints with spec.node == the node name;
//    endpoints of other nodes and (Global)NetworkSets (nets) only contribute IP set members (host
//    endpoints their expectedIPs).
//  * Host endpoints (Model::host_endpoints, by name): interfaceName as given ("*" = all host
//    interfaces; empty for expectedIPs-only ones, bound later by policy::ResolveHostEndpoints).
//    (Global)NetworkPolicies select them like workloads (a NetworkPolicy's namespace scope never
//    matches them). Per endpoint: normal policies -> ingress/egress tiers, applyOnForward ones also
//    -> forward tiers, preDNAT ones -> pre-DNAT ingress tiers, doNotTrack ones -> untracked tiers;
//    the last two with default action Pass (Felix's tierInfoToProtoTierInfo). doNotTrack and
//    preDNAT policies never apply to workloads and are active only while they match a local host
//    endpoint.
//  * Tiers: ordered by spec.order (absent = last), then name; a policy whose tier has no Tier
//    resource sorts after all known tiers. The built-in tiers exist implicitly with their fixed
//    values until a Tier resource says otherwise: kube-admin (1000, Pass), default (1000000, Deny),
//    kube-baseline (10000000, Pass). defaultAction "Pass" ⇒ TierRef::default_deny = false.
//  * Policies in a tier: spec.order (absent = last), then name, namespace, kind. `types` picks the
//    directions; when absent Calico's defaulting applies (no egress rules ⇒ Ingress; egress rules
//    only ⇒ Egress; both ⇒ both). Only the rules of the policy's directions are emitted.
//  * Ids: policies "<name>" (global) and "<namespace>/<name>" (namespaced); profiles "<name>";
//    endpoints are named "<namespace>/<name>"; IP sets by selector UniqueId().
//  * Named ports (policy/named_ports.h): every (selector, protocol, port name) an active rule uses
//    is a named-port IP set (id NamedPortSetId) whose members are (address, protocol, port) of
//    each endpoint (WEP or HEP, any node; not network sets) that matches the selector and has a
//    spec.ports entry of that name and protocol. Which selector sets a rule needs follows the
//    renderer (policy::ScanRuleIpSets): a side with only named ports needs none.
//  * A profile referenced by a local endpoint but not known is emitted without rules (it allows
//    nothing), except projectcalico-default-allow which is Calico's synthetic allow-all.
//  * A resource that does not decode (model/v3) is logged and treated as deleted (Felix's
//    validation filter). A policy rule that does not parse is logged when the policy arrives and
//    kept in the policy's ParsedRules: rendering fails on it while the policy applies here.
//
// Thread-safety: none; drive it from one thread (as Felix's calc graph goroutine does).
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"
#include "calico/model/v3/endpoint.h"
#include "calico/model/v3/ipam.h"
#include "calico/model/v3/policy.h"
#include "calico/policy/policy_model.h"

namespace calico::datastore {
class Client;
}  // namespace calico::datastore

namespace calico::calc {

struct PolicyRec;  // decoding.h

// The synthetic profile Calico's etcd mode always has (allow everything both ways).
inline constexpr std::string_view kDefaultAllowProfile = "projectcalico-default-allow";

// A workload or host endpoint of any node as the graph sees it (flow logs name the endpoints of a
// flow's addresses with it: felix/calc's endpoint lookups cache).
struct EndpointSummary {
  bool is_workload = true;
  bool local = false;
  std::string ns{};    // Workloads only.
  std::string name{};  // Workload: the WorkloadEndpoint name; host endpoint: its name.
  std::vector<net::CIDR> addresses{};
  std::map<std::string, std::string> labels{};  // Effective labels (profiles' labelsToApply).

  bool operator==(const EndpointSummary&) const = default;
};

class CalcGraph {
 public:
  explicit CalcGraph(std::string node_name);
  ~CalcGraph();
  CalcGraph(const CalcGraph&) = delete;
  CalcGraph& operator=(const CalcGraph&) = delete;
  CalcGraph(CalcGraph&&) noexcept;
  CalcGraph& operator=(CalcGraph&&) noexcept;

  // Adds or replaces a resource (keyed by kind, namespace, name).
  void OnUpdate(const model::Resource& resource);
  // Adds or replaces a WorkloadEndpoint already decoded and validated (the agent reads most of
  // them straight into the typed form, model/v3/stored_endpoint.h): as OnUpdate of its resource.
  void OnWorkloadEndpoint(model::v3::WorkloadEndpoint&& wep);
  // The same for policies already decoded and validated (model/v3/stored_policy.h): as OnUpdate
  // of their resources.
  void OnNetworkPolicy(model::v3::NetworkPolicy&& np);
  void OnGlobalNetworkPolicy(model::v3::GlobalNetworkPolicy&& gnp);
  // Room for `n` endpoints without rehashing the graph's per-endpoint tables (the agent's full
  // sync knows how many it lists: at 100k endpoints, growing them one rehash at a time was about
  // a tenth of the sync). A hint only: any number of endpoints may follow.
  void ReserveEndpoints(size_t n);
  // Removes a resource; unknown resources are ignored.
  void OnDelete(std::string_view kind, std::string_view ns, std::string_view name);

  // Staged policies, for the pending view only (explain/pending.h; the agent's graph never gets
  // them): `enforced` is the staged policy `staged_kind` `ns`/`name` in its enforced form (a
  // GlobalNetworkPolicy or NetworkPolicy resource, as libcalico-go's staged*processor.go converts
  // it before sending it to Felix). It is kept under the staged policy's own key, beside the
  // enforced policies (Felix's model.PolicyKey carries the kind): sorted by order, then
  // "<name>/<namespace>/<kind>" (felix/calc/policy_sorter.go PolKVLess, so after an enforced policy
  // of the same name and order), with id StagedPolicyId() and Policy::kind `staged_kind`. A value
  // that does not decode is logged and treated as deleted.
  void OnStagedPolicy(std::string_view staged_kind, std::string_view ns, std::string_view name,
                      const model::Resource& enforced);
  void OnStagedPolicyDelete(std::string_view staged_kind, std::string_view ns,
                            std::string_view name);

  // The model for this node's workload endpoints. Deterministic: endpoints sorted by interface
  // name (then name), policies/profiles/IP sets by id, IP set members sorted and unique.
  policy::Model Model() const;

  // What the updates since the last TakeChanges() touched, for a consumer that recomputes only
  // that (the agent re-renders only the chains of these policies, as Felix's calculation graph
  // marks dirty policies and its rule renderer re-renders only their chains: felix/calc
  // policy_resolver.go, felix/rules).
  struct Changes {
    // Keys of policies whose rules alone changed: the policy existed before and its selector,
    // tier, order, sort name, id, kind, types, host options and the IP sets its rules use are as
    // they were, so no endpoint's tier lists, no active set and no IP set moved.
    std::vector<std::string> policy_rules{};
    // Anything else happened (an endpoint, profile, tier, network set, host endpoint or IP pool
    // update or delete, a policy added, deleted or otherwise changed, a staged policy): the
    // whole model has to be computed again (Model()).
    bool other = false;
    bool empty() const { return policy_rules.empty() && !other; }
  };
  // The changes since the last call (or since construction, which counts as `other`), and a
  // fresh record.
  Changes TakeChanges();
  // Puts the current rules of the policies in `changes.policy_rules` into `m`, a Model() of this
  // graph taken before those changes with nothing but policy_rules changes since (policies that
  // are not active are in neither). Returns the ids patched, or nullopt when `m` lacks an active
  // one (then compute Model() again).
  std::optional<std::vector<std::string>> PatchPolicyRules(policy::Model& m,
                                                           const Changes& changes) const;

  const std::string& node_name() const;
  // Stored resources the model does not use yet (for other consumers), sorted by name.
  std::vector<model::v3::IPPool> IpPools() const;
  std::vector<model::v3::HostEndpoint> HostEndpoints() const;  // Every node's.
  // Every workload and host endpoint (local and remote), sorted by namespace, then name.
  std::vector<EndpointSummary> Endpoints() const;
  // Changes whenever what Endpoints() returns may have changed (an endpoint added, replaced,
  // relabelled by a profile or removed); unique in the process, so a new graph never repeats an
  // older one's value. Lets a consumer of Endpoints() (the flow logs' FlowContextSource) keep what
  // it built from it while no endpoint changed.
  uint64_t EndpointsVersion() const;

 private:
  struct State;
  // A decoded policy under its key: its rules' errors logged, then into the active rules.
  void SetPolicy(std::string key, PolicyRec rec);
  std::unique_ptr<State> state_;
};

// The model id of a staged policy whose enforced form is named `enforced_name`: "staged:<name>"
// (global) or "<namespace>/staged:<name>", upstream's v1 names for staged policies
// (libcalico-go/lib/backend/model/policy.go parseLegacyPolicyName: staged:<name>,
// staged:knp.default.<name>). Enforced policy names cannot contain ':', so it never collides.
std::string StagedPolicyId(std::string_view ns, std::string_view enforced_name);

// Every kind the graph consumes, referents first (as Felix's syncer orders them), though the
// graph accepts any order.
inline constexpr std::array<std::string_view, 9> kGraphKinds = {
    "Tier",
    "Profile",
    "GlobalNetworkSet",
    "NetworkSet",
    "IPPool",
    "HostEndpoint",
    "GlobalNetworkPolicy",
    "NetworkPolicy",
    "WorkloadEndpoint",
};

// Lists each of `kinds` through `client`, in order, and hands every resource to `each`. Errors:
// the first failing List, wrapped "list <kind>".
[[nodiscard]] Status ListKinds(datastore::Client& client, std::span<const std::string_view> kinds,
                               const std::function<void(model::Resource&)>& each);

// Lists every kind the graph consumes through `client` and returns the model for `node` (the
// agent's full resync). Errors: the first failing List, wrapped with the kind.
[[nodiscard]] Result<policy::Model> ModelFromDatastore(datastore::Client& client,
                                                       std::string_view node);

}  // namespace calico::calc
