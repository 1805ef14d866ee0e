// The node agent (Felix's job): keeps this host's kernel equal to what the datastore says.
//
//   Backend ──List once, then Watch──▶ calc::CalcGraph ──Model()──▶ policy::RenderRulesetParts
//                                        │                      (RenderCache) │ NftRuleset
//                                        │ local endpoints, own blocks   ▼
//                                        └──────────────▶ RouteProgrammer   PolicyProgrammer
//                                                         (/32 routes,      (one nftables
//                                                          blackholes)       transaction per batch)
//
// Events are taken in batches; each batch that changes the rendered ruleset becomes one
// incremental nftables transaction (ApplyFull if that fails). The ruleset stays a model
// (nft_model::NftRuleset) all the way: no text is printed and parsed, the render cache recompiles
// only changed policies, and the diff against what was applied decides what the kernel gets. A
// periodic resync compares the kernel with what was applied and repairs drift. A compacted watch
// re-lists everything. Host endpoints of this node are bound to interfaces before rendering
// (expectedIPs-only ones through AgentConfig::host_interfaces, again at every resync).
//
// Fault isolation (as Felix): a datastore value that is not JSON or not a valid resource
// (model::Validate) is skipped, logged and counted, and treated as deleted (Felix's
// felix/calc/validation_filter.go); a policy, profile or endpoint the renderer cannot express is
// isolated by policy::RenderReport (its chain drops, everything else is programmed), logged once
// while it stays so, and shown in calico_node_unrenderable; HTTP matches are ignored (L3/L4 part
// enforced), logged once per policy and counted in calico_node_http_match_ignored. A model
// inconsistent as a whole (a tier naming an unknown policy, colliding chain names, an IP set that
// cannot be named) is isolated the same way, to the endpoints and policies it touches. Both are
// handed to AgentConfig::on_status (calicoctl node status).
//
// Accepted, not acted on: the fields of FelixConfiguration "default" / "node.<name>" and of this
// node's Node that validate but this build ignores (field_support.h) are logged at start-up and
// whenever they change ("accepted, not acted on by this build: ...") and counted in
// calico_node_config_fields_not_acted_on.
//
// Thread-safety: drive an Agent from one thread; Metrics may be read from others.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "calico/agent/health.h"
#include "calico/agent/ipip.h"
#include "calico/agent/metrics.h"
#include "calico/agent/nat.h"
#include "calico/agent/programmers.h"
#include "calico/agent/status_file.h"
#include "calico/agent/vxlan_model.h"
#include "calico/base/result.h"
#include "calico/calc/calc_graph.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/keys.h"
#include "calico/policy/ruleset_renderer.h"

namespace calico::agent {

// What a FelixConfiguration change may alter while the agent runs.
struct ReloadableSettings {
  std::chrono::milliseconds route_refresh_interval{90000};
  std::chrono::milliseconds policy_refresh_interval{180000};
  policy::RenderOptions render{};
  RouteOptions routes{};
  NatOptions nat{};
  VxlanOptions vxlan{};
  std::optional<bool> vxlan_enabled{};
  std::map<std::string, std::chrono::nanoseconds> health_timeout_overrides{};
  IpipOptions ipip{};
};

struct AgentConfig {
  std::string node_name;
  // A full sync decodes and validates the listed values on a second thread while this one feeds
  // the graph (Agent::IngestOnTwoThreads). Off by default: it did not win on this project's shared
  // 2-core machine (bench/README.md, "Policies read once").
  bool decode_thread = false;
  // Called on the agent's thread after every full sync, resync and batch of datastore changes;
  // `routing_changed` says whether the batch touched what routing between hosts is made of
  // (Nodes, IP pools, BGP configuration, peers and filters, block affinities): calico-node
  // re-renders BIRD's configuration and the tunnel address only then, not for every endpoint.
  std::function<void(bool routing_changed)> on_synced{};
  // Called on the agent's thread after every wait for datastore changes (at least every 500 ms
  // while running, also while the datastore is unreachable), for work that does not follow from
  // the datastore and must not wait for a change: calico-node restarts a dead BIRD at once (peers
  // withdraw the node's routes as soon as its sessions drop) and re-renders BIRD's configuration
  // when a password secret file changed.
  std::function<void()> on_idle{};
  // Programs the VXLAN overlay of the state's IP version (vxlan.calico or vxlan-v6.calico: device,
  // FDB, neighbours, remote block routes); unset = no VXLAN.
  std::function<Status(const VxlanState&)> apply_vxlan{};
  // Programs the IPIP overlay (tunl0 routes); unset = no IPIP.
  std::function<Status(const IpipState&)> apply_ipip{};
  // Programs the natOutgoing tables (RenderNatRuleset text for IPv4 and IPv6); unset = no NAT.
  std::function<Status(const std::string& v4, const std::string& v6)> apply_nat{};
  // The host's interfaces and their addresses, to bind host endpoints that name no interface
  // (only expectedIPs) to the interfaces carrying those addresses (policy::ResolveHostEndpoints);
  // consulted only while such endpoints exist, re-checked at every resync. Unset: they stay
  // unenforced (logged).
  std::function<Result<std::map<std::string, std::vector<net::IPAddr>>>()> host_interfaces{};
  // Called when the FelixConfiguration "default" or "node.<node_name>" changes (either may be
  // absent = null): the settings they give now. Felix restarts itself on such changes; this agent
  // applies them in place at the next programming. An error (a bad value) is logged and counted and
  // the running settings stay. Unset: FelixConfiguration is read at start only.
  std::function<Result<ReloadableSettings>(const model::Resource* global,
                                           const model::Resource* per_node)>
      reload_settings{};
  // Called on the agent's thread with what the render isolated or ignored (status_file.h), once
  // after the first render and then whenever that list changes; calico-node writes it to the
  // agent status file that `calicoctl node status` prints.
  std::function<void(const AgentStatus&)> on_status{};
  // Called on the agent's thread after each ruleset it rendered and programmed, with the model
  // and the calculation graph it came from (the flow-log collector's lookups follow them).
  std::function<void(const policy::Model&, const calc::CalcGraph&)> on_policy_programmed{};
  // Called on the agent's thread with every resource the calculation graph is given (`resource`)
  // or loses (nullptr; kind, namespace and name say which), staged policies included; and
  // on_resync when a full resync starts again from nothing. The flow logs' pending view of staged
  // policies (explain/pending.h) follows the graph with them. WorkloadEndpoints read on the typed
  // path (model/v3/stored_endpoint.h) go to on_workload_endpoint instead of on_resource (their
  // deletions to on_resource). Policies take the typed path (model/v3/stored_policy.h) only
  // without on_resource: with it they reach it as resources.
  std::function<void(const model::Resource* resource, std::string_view kind, std::string_view ns,
                     std::string_view name)>
      on_resource{};
  std::function<void(const model::v3::WorkloadEndpoint&)> on_workload_endpoint{};
  std::function<void()> on_resync{};
  // Felix's RouteRefreshInterval: how often routes (and the overlays' devices, routes and
  // neighbours) are checked against the kernel and repaired; 0 = never.
  std::chrono::milliseconds route_refresh_interval{90000};
  // Felix's NftablesRefreshInterval (IptablesRefreshInterval when only that is set): how often
  // the calico nftables table is compared with what was applied and repaired; 0 = never.
  std::chrono::milliseconds policy_refresh_interval{180000};
  policy::RenderOptions render{};
  RouteOptions routes{};
  NatOptions nat{};
  // vxlanVNI, vxlanPort, vxlanMTU (vxlan.calico) and vxlanMTUV6 (vxlan-v6.calico).
  VxlanOptions vxlan{};
  // vxlanEnabled: false keeps VXLAN off whatever the pools say; true forces it on; unset: the
  // pools decide.
  std::optional<bool> vxlan_enabled{};
  // ipipEnabled and ipipMTU for tunl0 (ipip.h).
  IpipOptions ipip{};
  bool program_routes = true;
  // Felix's health reporters (health.h): the agent registers CalculationGraph (ready once in sync)
  // and InternalDataplaneMainLoop (ready once the ruleset was first applied), and reports both
  // after every wait for datastore changes (at least every 500 ms while it runs) and every sync.
  // A loop stuck longer than a reporter's timeout makes /liveness fail. Unset: no reports.
  HealthAggregator* health = nullptr;
  // dataplaneWatchdogTimeout: InternalDataplaneMainLoop's timeout (at least 20 s, as Felix).
  std::chrono::milliseconds dataplane_watchdog_timeout{kDataplaneHealthTimeoutDefault};
  // healthTimeoutOverrides, set on `health` at construction and again when a FelixConfiguration
  // change gives others (Felix's DataplaneConnector.ApplyNoRestartConfig).
  std::map<std::string, std::chrono::nanoseconds> health_timeout_overrides{};
};

class Agent {
 public:
  Agent(AgentConfig config, datastore::Backend& backend, PolicyProgrammer& policy,
        RouteProgrammer& routes, Metrics& metrics);

  // Lists the datastore, programs everything and starts watching after the listed revision.
  [[nodiscard]] Status FullSync();
  // Waits up to `wait` for datastore events and applies them (one transaction per batch).
  [[nodiscard]] Status Step(std::chrono::milliseconds wait);
  // Verifies the kernel against what was applied; repairs drift. Returns whether it repaired.
  // Resync does both halves: the nftables table (ResyncPolicy) and the routes, interfaces and
  // overlays (ResyncRoutes); Run calls each at its own interval.
  [[nodiscard]] Result<bool> Resync();
  [[nodiscard]] Result<bool> ResyncPolicy();
  [[nodiscard]] Result<bool> ResyncRoutes();
  // FullSync, then Step until `stop`, with ResyncPolicy every policy_refresh_interval and
  // ResyncRoutes every route_refresh_interval. Datastore outages are retried with back-off; the
  // kernel keeps its last state meanwhile.
  [[nodiscard]] Status Run(const std::atomic<bool>& stop);

  // The ruleset last applied (empty before the first apply) and how many times a changed
  // ruleset was applied.
  const nft_model::NftRuleset& applied() const { return applied_; }
  uint64_t policy_applies() const { return policy_applies_; }
  const policy::Model& model() const { return model_; }

 private:
  // What the agent keeps per resource key (resource_keys_): one small record, as at 100k
  // endpoints this is a large part of what it holds per endpoint.
  // The resource's namespace and name are the key's last segments ("<ns>/<name>", or "<name>"
  // with no namespace) for nearly every key; they are stored only when not.
  struct KeyRecord {
    enum class Names : uint8_t { kStored, kLastSegment, kLastTwoSegments };
    const std::string* kind = nullptr;  // A key of kind_counts_ (alive while counted).
    const std::string* host = nullptr;  // A key of host_key_counts_; null: names no host.
    Names names = Names::kStored;
    std::unique_ptr<std::pair<std::string, std::string>> stored{};  // kStored: (ns, name).
  };
  // The namespace and name `rec` holds for `key`.
  static std::pair<std::string, std::string> KeyNames(const datastore::RelativeResourceKey& key,
                                                      const KeyRecord& rec);
  // A value read as a validated resource (`resource` unset for keys that are not resources), or
  // why it is skipped. Touches no agent state (AgentConfig::decode_thread runs it on a second
  // thread).
  // WorkloadEndpoints in the shape Calico writes are read straight into `wep`
  // (model/v3/stored_endpoint.h), and with `typed_policies` (Global)NetworkPolicies into `np` /
  // `gnp` (model/v3/stored_policy.h); every other value into `resource`.
  struct DecodedValue {
    std::optional<model::Resource> resource{};
    std::optional<model::v3::WorkloadEndpoint> wep{};
    std::optional<model::v3::NetworkPolicy> np{};
    std::optional<model::v3::GlobalNetworkPolicy> gnp{};
    std::string skip{};  // Non-empty: skip the value, for this reason.
  };
  static DecodedValue DecodeValue(const datastore::KVPair& kv, bool typed_policies);
  void Ingest(const datastore::KVPair& kv);
  void IngestDecoded(const datastore::KVPair& kv, DecodedValue decoded);
  // FullSync with AgentConfig::decode_thread: the values decoded on a worker thread.
  void IngestOnTwoThreads(const std::vector<datastore::KVPair>& kvs);
  void IngestValue(const datastore::KVPair& kv, DecodedValue decoded);
  // A value that is not JSON or not a valid resource: logged, counted, treated as deleted.
  void SkipValue(const std::string& key, const std::string& why);
  // Logs what a render isolated or ignored when it changes, and sets the metrics.
  void NoteRenderReport(const policy::RenderReport& report);
  // Logs the fields of the node's configuration resources that are not acted on, when changed.
  void ReportNotActedOn();
  void Remove(const std::string& key);
  // Files the resource at `key` under its kind, namespace and name; returns its record.
  KeyRecord& NoteKey(const std::string& key, const std::string& kind, const std::string& ns,
                     const std::string& name);
  // Tracks which host the resource at `key` names, for felix_cluster_num_hosts: `host` (empty:
  // none, or deleted) counted in host_key_counts_ for `rec`.
  void NoteHost(KeyRecord& rec, std::string host);
  // The host a resource names (Node: itself; endpoints: spec.node), or "".
  static std::string HostOf(const model::Resource& r);
  ClusterCounts CountCluster() const;
  // The two halves of Resync, without the metrics: whether they repaired anything.
  [[nodiscard]] Result<bool> CheckPolicy();
  [[nodiscard]] Result<bool> CheckRoutes();
  [[nodiscard]] Status Program(std::chrono::steady_clock::time_point since);
  // The policy half of Program: the whole ruleset rendered and diffed (ProgramPolicyFull), or,
  // after a batch that changed some policies' rules and nothing else, only their chains
  // (ProgramPolicyRules; false: it cannot, take the full path). Whether a ruleset was rendered.
  [[nodiscard]] Result<bool> ProgramPolicy();
  [[nodiscard]] Result<bool> ProgramPolicyFull();
  [[nodiscard]] bool ProgramPolicyRules(const calc::CalcGraph::Changes& changes);
  std::set<OwnedRoute> DesiredRoutes() const;
  // The VXLAN overlay the pools, nodes and blocks ask for, with the configured options: IPv4, and
  // IPv6 (off when ipv6Support is false, as Felix has no IPv6 dataplane then).
  VxlanState DesiredVxlan() const;
  VxlanState DesiredVxlanV6() const;
  // Applies the host-interface sysctls to local endpoints not configured yet (all when `all`).
  void ConfigureInterfaces(bool all);
  // Tracks the FelixConfiguration resources of this node (`r` null = deleted).
  void NoteFelixConfiguration(const std::string& name, const model::Resource* r);
  // Applies changed FelixConfiguration settings through config_.reload_settings.
  void ReloadSettings();
  // Binds model_'s host endpoints to interfaces (one endpoint per interface, "*" the default).
  void BindHostEndpoints();
  // Reports CalculationGraph and InternalDataplaneMainLoop to config_.health.
  void ReportHealth();

  AgentConfig config_;
  datastore::Backend& backend_;
  PolicyProgrammer& policy_;
  RouteProgrammer& routes_;
  Metrics& metrics_;
  std::unique_ptr<calc::CalcGraph> graph_;
  // Every resource fed to the graph, by key without kResourcePrefix (deletes carry no value);
  // KeyRecord above.
  std::unordered_map<std::string, KeyRecord> resource_keys_;
  // Cluster-wide counts for Felix's felix_cluster_num_* gauges: resources per kind, and per host
  // the keys naming it.
  std::map<std::string, int64_t> kind_counts_;
  std::map<std::string, int64_t> host_key_counts_;
  std::set<net::CIDR> own_blocks_;
  std::unique_ptr<datastore::WatchStream> watch_;
  int64_t revision_ = 0;
  // Watch failures since the last event or list, and when the watch was last re-created (Step).
  // libcalico-go/lib/backend/watchersyncer/watchercache.go: MaxErrorsPerRevision,
  // MinResyncInterval.
  static constexpr int kMaxWatchErrorsPerRevision = 5;
  static constexpr std::chrono::milliseconds kMinWatchRestartInterval{500};
  int watch_errors_at_revision_ = 0;
  std::chrono::steady_clock::time_point last_watch_restart_{};
  nft_model::NftRuleset applied_;
  bool have_applied_ = false;
  int64_t applied_rules_ = 0;  // Rules with a counter in applied_ (a metric).
  uint64_t policy_applies_ = 0;
  policy::RenderCache render_cache_;
  policy::Model model_;
  bool dirty_ = false;
  // Something besides the graph's policy changes moved since the last Program (settings, the
  // overlay inputs, a delete, a resync, a failure...): the next Program renders everything.
  bool full_program_ = true;
  bool routing_dirty_ = false;
  bool in_sync_ = false;  // A full sync completed (CalculationGraph's readiness).
  // Some host endpoint names no interface: re-bind it (host addresses may change) at resync.
  bool hep_by_address_ = false;
  std::set<std::string> configured_interfaces_;
  // Interfaces whose rp_filter the agent set to 0 (endpoints with honoured allowed source
  // prefixes); restored to the default when the prefixes go.
  std::set<std::string> rp_filter_off_;
  VxlanInputs vxlan_inputs_;
  std::optional<VxlanState> vxlan_applied_;
  std::optional<VxlanState> vxlan6_applied_;
  std::optional<IpipState> ipip_applied_;
  std::optional<std::pair<std::string, std::string>> nat_applied_;
  // The FelixConfiguration resources this node reads, as last seen, and whether they changed.
  std::optional<model::Resource> felix_global_;
  std::optional<model::Resource> felix_node_;
  bool felix_config_changed_ = false;
  // This node's Node resource, for the fields not acted on.
  std::optional<model::Resource> own_node_;
  bool config_records_changed_ = true;
  // What was last logged: "<kind> <name>" -> problem; HTTP-ignoring policies; not-acted-on lines
  // per resource. Each is logged again only when it changes.
  std::map<std::string, std::string> logged_unrenderable_;
  std::set<std::string> logged_http_ignored_;
  std::map<std::string, std::string> logged_not_acted_on_;
  // The status last given to on_status.
  std::optional<AgentStatus> reported_status_;
};

}  // namespace calico::agent
