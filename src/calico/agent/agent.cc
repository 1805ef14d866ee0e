// The node agent, see agent.h. Size: over 700 lines because ingestion (DecodeValue .. Remove),
// programming (DesiredRoutes .. FullSync) and the resync/check loop share the Agent's key records
// and dirty state (ingestion vs programming is where it would split).
#include "calico/agent/agent.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "calico/agent/field_support.h"
#include "calico/agent/nat.h"
#include "calico/agent/overlay_filter.h"
#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/datastore/keys.h"
#include "calico/model/v3/stored_endpoint.h"
#include "calico/model/v3/stored_policy.h"
#include "calico/model/validate.h"
#include "calico/policy/host_endpoints.h"

namespace calico::agent {
namespace {

constexpr std::string_view kWatchPrefix = "/calico/";
constexpr std::string_view kWorkloadEndpointPrefix =
    "/calico/resources/v3/projectcalico.org/workloadendpoints/";
constexpr std::string_view kNetworkPolicyPrefix =
    "/calico/resources/v3/projectcalico.org/networkpolicies/";
constexpr std::string_view kGlobalNetworkPolicyPrefix =
    "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/";

// Keys whose changes matter to routing between hosts (BIRD's configuration, tunnel addresses).
bool RoutingKey(std::string_view key) {
  if (StartsWith(key, kWorkloadEndpointPrefix)) return false;  // Most keys: skip the parse.
  if (auto resource = datastore::ResourceKey::Parse(key)) {
    const std::string& kind = resource->kind->kind;
    return kind == "Node" || kind == "IPPool" || kind == "BGPConfiguration" || kind == "BGPPeer" ||
           kind == "BGPFilter";
  }
  auto affinity = datastore::BlockAffinityKey::Parse(key);
  return affinity && affinity->affinity_type == "host";
}

int64_t CountRules(const nft_model::NftLines& rules) {
  int64_t n = 0;
  for (const std::string& rule : rules) {
    if (StartsWith(rule, "counter") || rule.find(" counter") != std::string::npos) ++n;
  }
  return n;
}

int64_t CountRules(const nft_model::NftRuleset& ruleset) {
  int64_t n = 0;
  for (const auto& [name, chain] : ruleset.chains)
    n += CountRules(chain.rules);
  return n;
}

// CountRules(to) given CountRules(from) = `counted`: only the chains whose rules differ are
// counted again (after one change nearly every chain shares its rules with the applied ruleset).
int64_t CountRulesAfter(const nft_model::NftRuleset& from, int64_t counted,
                        const nft_model::NftRuleset& to) {
  auto a = from.chains.begin();
  auto b = to.chains.begin();
  while (a != from.chains.end() || b != to.chains.end()) {
    const int order = a == from.chains.end() ? 1
                      : b == to.chains.end() ? -1
                                             : a->first.compare(b->first);
    if (order < 0) {
      counted -= CountRules(a->second.rules);
      ++a;
    } else if (order == 0) {
      if (!(a->second.rules == b->second.rules)) {
        counted += CountRules(b->second.rules) - CountRules(a->second.rules);
      }
      ++a;
      ++b;
    } else {
      counted += CountRules(b->second.rules);
      ++b;
    }
  }
  return counted;
}

// A full sync frees what the listing and the first render needed (the whole datastore as
// key-values, parse trees); glibc keeps freed heap pages mapped until told otherwise.
void ReturnFreedMemory() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

}  // namespace

Agent::Agent(AgentConfig config, datastore::Backend& backend, PolicyProgrammer& policy,
             RouteProgrammer& routes, Metrics& metrics)
    : config_(std::move(config)),
      backend_(backend),
      policy_(policy),
      routes_(routes),
      metrics_(metrics),
      graph_(std::make_unique<calc::CalcGraph>(config_.node_name)) {
  if (config_.health != nullptr) {
    config_.health->RegisterReporter(kHealthCalculationGraph, {.live = true, .ready = true},
                                     kCalcGraphHealthTimeout);
    // felix/dataplane/linux/int_dataplane.go: the watchdog timeout, at least twice the 10 s
    // health interval.
    auto timeout =
        std::chrono::duration_cast<HealthAggregator::Duration>(config_.dataplane_watchdog_timeout);
    if (timeout < kDataplaneHealthTimeoutMin) {
      CALICO_LOG(warn, "agent", "dataplane watchdog timeout ({}) too low, defaulting to {}",
                 GoDurationString(timeout), GoDurationString(kDataplaneHealthTimeoutMin));
      timeout = kDataplaneHealthTimeoutMin;
    }
    config_.health->RegisterReporter(kHealthDataplane, {.live = true, .ready = true}, timeout);
    config_.health->SetTimeoutOverrides(config_.health_timeout_overrides);
  }
}

void Agent::ReportHealth() {
  if (config_.health == nullptr) return;
  // felix/calc/async_calc_graph.go reportHealth: ready once in sync; int_dataplane.go
  // reportHealth: ready once the first apply is done.
  config_.health->Report(kHealthCalculationGraph, {.live = true, .ready = in_sync_});
  config_.health->Report(kHealthDataplane, {.live = true, .ready = have_applied_});
}

Agent::DecodedValue Agent::DecodeValue(const datastore::KVPair& kv, bool typed_policies) {
  DecodedValue out;
  if (!StartsWith(kv.key, datastore::kResourcePrefix)) return out;
  if (StartsWith(kv.key, kWorkloadEndpointPrefix)) {
    // Most of what the agent reads at Felix's design point: one pass into the typed endpoint,
    // validated on the way; any other shape (or an invalid value) takes the path below.
    out.wep = model::v3::ReadValidStoredWorkloadEndpoint(kv.value, kv.mod_revision);
    if (out.wep) return out;
  } else if (typed_policies && StartsWith(kv.key, kGlobalNetworkPolicyPrefix)) {
    out.gnp = model::v3::ReadValidStoredGlobalNetworkPolicy(kv.value, kv.mod_revision);
    if (out.gnp) return out;
  } else if (typed_policies && StartsWith(kv.key, kNetworkPolicyPrefix)) {
    out.np = model::v3::ReadValidStoredNetworkPolicy(kv.value, kv.mod_revision);
    if (out.np) return out;
  }
  try {
    // As Felix's validation filter (felix/calc/validation_filter.go): a value that does not
    // decode or validate is treated as missing, and never stops the rest.
    auto r = datastore::DecodeStoredResource(kv.key, kv.value, kv.mod_revision);
    if (!r) {
      out.skip = r.error().message();
      return out;
    }
    if (Status valid = model::Validate(*r); !valid) {
      out.skip =
          fmt::format("{} \"{}\" is not valid: {}", r->kind(), r->name(), valid.error().message());
      return out;
    }
    out.resource = std::move(*r);
  } catch (const std::exception& e) {
    // A value of an unexpected shape that validation let through (a JSON type error).
    out.skip = e.what();
  }
  return out;
}

void Agent::Ingest(const datastore::KVPair& kv) {
  IngestDecoded(kv, DecodeValue(kv, !config_.on_resource));
}

void Agent::IngestDecoded(const datastore::KVPair& kv, DecodedValue decoded) {
  if (!decoded.skip.empty()) return SkipValue(kv.key, decoded.skip);
  try {
    IngestValue(kv, std::move(decoded));
  } catch (const std::exception& e) {
    // A value of an unexpected shape that validation let through (a JSON type error).
    SkipValue(kv.key, e.what());
  }
}

void Agent::SkipValue(const std::string& key, const std::string& why) {
  metrics_.AddSkippedDatastoreValue();
  CALICO_LOG(warn, "agent", "skipping the datastore value at {} (treated as deleted): {}", key,
             why);
  Remove(key);
}

void Agent::IngestValue(const datastore::KVPair& kv, DecodedValue decoded) {
  // Policies read straight into their typed form: the graph tells what they changed
  // (CalcGraph::TakeChanges). Anything else: the next program renders everything.
  if (!decoded.np && !decoded.gnp) full_program_ = true;
  if (RoutingKey(kv.key)) routing_dirty_ = true;
  std::optional<model::Resource> resource = std::move(decoded.resource);
  if ((config_.apply_vxlan || config_.apply_ipip) && vxlan_inputs_.Ingest(kv.key, kv.value)) {
    dirty_ = true;
    full_program_ = true;
  }
  if (decoded.wep) {
    static const std::string kWorkloadEndpoint = "WorkloadEndpoint";
    model::v3::WorkloadEndpoint& wep = *decoded.wep;
    KeyRecord& rec = NoteKey(kv.key, kWorkloadEndpoint, wep.metadata.namespace_, wep.metadata.name);
    NoteHost(rec, wep.spec.node);
    if (config_.on_workload_endpoint) config_.on_workload_endpoint(wep);
    const auto start = std::chrono::steady_clock::now();
    graph_->OnWorkloadEndpoint(std::move(wep));
    metrics_.ObserveCalcGraphUpdate(std::chrono::steady_clock::now() - start);
    dirty_ = true;
    return;
  }
  if (decoded.np || decoded.gnp) {
    static const std::string kNetworkPolicy = "NetworkPolicy";
    static const std::string kGlobalNetworkPolicy = "GlobalNetworkPolicy";
    const model::v3::ObjectMeta& meta = decoded.np ? decoded.np->metadata : decoded.gnp->metadata;
    KeyRecord& rec = NoteKey(kv.key, decoded.np ? kNetworkPolicy : kGlobalNetworkPolicy,
                             meta.namespace_, meta.name);
    NoteHost(rec, "");
    const auto start = std::chrono::steady_clock::now();
    if (decoded.np) {
      graph_->OnNetworkPolicy(std::move(*decoded.np));
    } else {
      graph_->OnGlobalNetworkPolicy(std::move(*decoded.gnp));
    }
    metrics_.ObserveCalcGraphUpdate(std::chrono::steady_clock::now() - start);
    dirty_ = true;
    return;
  }
  if (resource) {
    const model::Resource& r = *resource;
    KeyRecord& rec = NoteKey(kv.key, r.kind(), r.namespace_(), r.name());
    NoteHost(rec, HostOf(r));
    if (r.kind() == "FelixConfiguration") NoteFelixConfiguration(r.name(), &r);
    if (r.kind() == "Node" && r.name() == config_.node_name) {
      own_node_ = r;
      config_records_changed_ = true;
    }
    if (config_.on_resource) config_.on_resource(&r, r.kind(), r.namespace_(), r.name());
    const auto start = std::chrono::steady_clock::now();
    graph_->OnUpdate(r);
    metrics_.ObserveCalcGraphUpdate(std::chrono::steady_clock::now() - start);
    dirty_ = true;
    return;
  }
  if (auto affinity = datastore::BlockAffinityKey::Parse(kv.key);
      affinity && affinity->affinity_type == "host" && affinity->host == config_.node_name) {
    own_blocks_.insert(affinity->cidr);
    dirty_ = true;
  }
}

Agent::KeyRecord& Agent::NoteKey(const std::string& key, const std::string& kind,
                                 const std::string& ns, const std::string& name) {
  // Every resource key starts with kResourcePrefix (DecodeValue): the map holds the rest.
  auto parsed = datastore::RelativeResourceKey::Parse(key);
  CALICO_CHECK(parsed.has_value());
  const bool name_last = !name.empty() && parsed->LastSegment() == name;
  const bool ns_before = !ns.empty() && parsed->SegmentBeforeLast() == ns;
  KeyRecord& rec = resource_keys_[std::move(parsed->path)];
  if (rec.kind == nullptr || *rec.kind != kind) {
    if (rec.kind != nullptr && --kind_counts_[*rec.kind] <= 0) kind_counts_.erase(*rec.kind);
    auto counted = kind_counts_.try_emplace(kind, 0).first;
    ++counted->second;
    rec.kind = &counted->first;
  }
  if (name_last && ns.empty()) {
    rec.names = KeyRecord::Names::kLastSegment;
    rec.stored.reset();
  } else if (name_last && ns_before) {
    rec.names = KeyRecord::Names::kLastTwoSegments;
    rec.stored.reset();
  } else {
    rec.names = KeyRecord::Names::kStored;
    rec.stored = std::make_unique<std::pair<std::string, std::string>>(ns, name);
  }
  return rec;
}

std::pair<std::string, std::string> Agent::KeyNames(const datastore::RelativeResourceKey& key,
                                                    const KeyRecord& rec) {
  if (rec.names == KeyRecord::Names::kStored) return *rec.stored;
  std::string name(key.LastSegment());
  if (rec.names == KeyRecord::Names::kLastSegment) return {"", std::move(name)};
  return {std::string(key.SegmentBeforeLast()), std::move(name)};
}

// felix/calc/stats_collector.go: a host is counted while a Node, workload endpoint or host
// endpoint names it.
std::string Agent::HostOf(const model::Resource& r) {
  const std::string kind = r.kind();
  if (kind == "Node") return r.name();
  if (kind == "WorkloadEndpoint" || kind == "HostEndpoint") {
    auto it = r.spec().find("node");
    if (it != r.spec().end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

void Agent::NoteHost(KeyRecord& rec, std::string host) {
  if (rec.host != nullptr) {
    if (*rec.host == host) return;
    auto was = host_key_counts_.find(*rec.host);
    if (--was->second <= 0) host_key_counts_.erase(was);
    rec.host = nullptr;
  }
  if (host.empty()) return;
  auto counted = host_key_counts_.try_emplace(std::move(host), 0).first;
  ++counted->second;
  rec.host = &counted->first;
}

ClusterCounts Agent::CountCluster() const {
  auto count = [&](std::initializer_list<const char*> kinds) {
    int64_t n = 0;
    for (const char* k : kinds) {
      auto it = kind_counts_.find(k);
      if (it != kind_counts_.end()) n += it->second;
    }
    return n;
  };
  return ClusterCounts{
      .hosts = static_cast<int64_t>(host_key_counts_.size()),
      .workload_endpoints = count({"WorkloadEndpoint"}),
      .host_endpoints = count({"HostEndpoint"}),
      .tiers = count({"Tier"}),
      .policies = count({"NetworkPolicy", "GlobalNetworkPolicy", "StagedNetworkPolicy",
                         "StagedGlobalNetworkPolicy", "StagedKubernetesNetworkPolicy"}),
      .profiles = count({"Profile"}),
  };
}

void Agent::Remove(const std::string& key) {
  full_program_ = true;
  if (RoutingKey(key)) routing_dirty_ = true;
  if ((config_.apply_vxlan || config_.apply_ipip) && vxlan_inputs_.Remove(key)) dirty_ = true;
  auto relative = datastore::RelativeResourceKey::Parse(key);
  auto it = relative ? resource_keys_.find(relative->path) : resource_keys_.end();
  if (it != resource_keys_.end()) {
    NoteHost(it->second, "");
    const std::string kind = *it->second.kind;
    const auto [ns, name] = KeyNames(*relative, it->second);
    if (kind == "FelixConfiguration") NoteFelixConfiguration(name, nullptr);
    if (kind == "Node" && name == config_.node_name) {
      own_node_.reset();
      config_records_changed_ = true;
    }
    if (config_.on_resource) config_.on_resource(nullptr, kind, ns, name);
    const auto start = std::chrono::steady_clock::now();
    graph_->OnDelete(kind, ns, name);
    metrics_.ObserveCalcGraphUpdate(std::chrono::steady_clock::now() - start);
    if (--kind_counts_[kind] <= 0) kind_counts_.erase(kind);
    resource_keys_.erase(it);
    dirty_ = true;
    return;
  }
  if (auto affinity = datastore::BlockAffinityKey::Parse(key);
      affinity && affinity->affinity_type == "host" && affinity->host == config_.node_name) {
    own_blocks_.erase(affinity->cidr);
    dirty_ = true;
  }
}

std::set<OwnedRoute> Agent::DesiredRoutes() const {
  std::set<OwnedRoute> out;
  for (const auto& ep : model_.endpoints) {
    for (const auto& a : ep.addresses) {
      if (a.family() == 6 && !config_.routes.ipv6) continue;
      out.insert({net::CIDR(a.addr(), a.addr().bit_len()), ep.interface_name, false});
    }
  }
  for (const auto& b : own_blocks_) {
    if (b.family() == 6 && !config_.routes.ipv6) continue;
    out.insert({b, "", true});
  }
  return out;
}

VxlanState Agent::DesiredVxlan() const {
  if (config_.vxlan_enabled == false) {
    VxlanState off;
    off.options = config_.vxlan;
    return off;
  }
  return ComputeVxlanState(config_.node_name, vxlan_inputs_, config_.vxlan,
                           /*forced=*/config_.vxlan_enabled == true);
}

VxlanState Agent::DesiredVxlanV6() const {
  if (!config_.routes.ipv6) {
    VxlanState off;
    off.family = 6;
    off.options = config_.vxlan;
    return off;
  }
  return ComputeVxlanStateV6(config_.node_name, vxlan_inputs_, config_.vxlan);
}

void Agent::ConfigureInterfaces(bool all) {
  std::set<std::string> now;
  for (const auto& ep : model_.endpoints) {
    now.insert(ep.interface_name);
    if (!all && configured_interfaces_.count(ep.interface_name) > 0) continue;
    bool v4 = false, v6 = false;
    for (const auto& a : ep.addresses)
      (a.family() == 4 ? v4 : v6) = true;
    v6 = v6 && config_.routes.ipv6;  // ipv6Support: false leaves the IPv6 settings alone.
    Status st = routes_.ConfigureInterface(ep.interface_name, v4, v6);
    if (st) {
      configured_interfaces_.insert(ep.interface_name);
    } else if (st.error().code() != ErrorCode::kNotFound) {
      metrics_.AddDataplaneError();
      CALICO_LOG(warn, "agent", "cannot configure {}: {}", ep.interface_name, st.error().message());
    }
  }
  // rp_filter 0 where allowed source prefixes are honoured (the kernel's own reverse-path filter
  // would drop them), the default again where they went (Felix's endpoint_mgr).
  std::set<std::string> off;
  if (config_.render.workload_source_spoofing) {
    for (const auto& ep : model_.endpoints) {
      if (!ep.allowed_source_prefixes.empty()) off.insert(ep.interface_name);
    }
  }
  for (const std::string& ifname : off) {
    if (!all && rp_filter_off_.count(ifname) > 0) continue;
    Status st = routes_.SetRpFilter(ifname, true);
    if (st) {
      rp_filter_off_.insert(ifname);
    } else if (st.error().code() != ErrorCode::kNotFound) {
      metrics_.AddDataplaneError();
      CALICO_LOG(warn, "agent", "cannot set rp_filter on {}: {}", ifname, st.error().message());
    }
  }
  for (auto it = rp_filter_off_.begin(); it != rp_filter_off_.end();) {
    if (off.count(*it) > 0) {
      ++it;
      continue;
    }
    if (now.count(*it) > 0) {
      Status st = routes_.SetRpFilter(*it, false);
      if (!st && st.error().code() != ErrorCode::kNotFound) {
        metrics_.AddDataplaneError();
        CALICO_LOG(warn, "agent", "cannot reset rp_filter on {}: {}", *it, st.error().message());
        ++it;
        continue;
      }
    }
    it = rp_filter_off_.erase(it);
  }
  for (auto it = configured_interfaces_.begin(); it != configured_interfaces_.end();) {
    it = now.count(*it) > 0 ? std::next(it) : configured_interfaces_.erase(it);
  }
}

void Agent::BindHostEndpoints() {
  hep_by_address_ = false;
  if (model_.host_endpoints.empty()) return;
  std::map<std::string, std::vector<net::IPAddr>> ifaces;
  for (const policy::HostEndpoint& ep : model_.host_endpoints) {
    hep_by_address_ = hep_by_address_ || ep.interface_name.empty();
  }
  if (hep_by_address_ && !config_.host_interfaces) {
    CALICO_LOG(warn, "agent", "host endpoints without interfaceName are not enforced here");
  } else if (hep_by_address_) {
    auto listed = config_.host_interfaces();
    if (!listed) {
      metrics_.AddDataplaneError();
      CALICO_LOG(warn, "agent", "cannot list host interfaces for expectedIPs host endpoints: {}",
                 listed.error().message());
    } else {
      ifaces = std::move(*listed);
      // Workload interfaces are never host endpoints.
      std::erase_if(ifaces, [&](const auto& entry) {
        for (const std::string& prefix : config_.render.interface_prefixes) {
          if (StartsWith(entry.first, prefix)) return true;
        }
        return false;
      });
    }
  }
  model_.host_endpoints = policy::ResolveHostEndpoints(model_.host_endpoints, ifaces);
}

void Agent::NoteFelixConfiguration(const std::string& name, const model::Resource* r) {
  std::optional<model::Resource>* slot = nullptr;
  if (name == "default") slot = &felix_global_;
  if (name == "node." + config_.node_name) slot = &felix_node_;
  if (slot == nullptr) return;
  if (r == nullptr) {
    slot->reset();
  } else {
    *slot = *r;
  }
  felix_config_changed_ = true;
  config_records_changed_ = true;
}

void Agent::ReportNotActedOn() {
  if (!config_records_changed_) return;
  config_records_changed_ = false;
  int64_t total = 0;
  std::map<std::string, std::string> now;
  for (const std::optional<model::Resource>* r : {&felix_global_, &felix_node_, &own_node_}) {
    if (!r->has_value()) continue;
    const std::vector<std::string> fields = NotActedOn(**r);
    total += static_cast<int64_t>(fields.size());
    const std::string key = (*r)->kind() + "/" + (*r)->name();
    now[key] = NotActedOnLine(**r, fields);
    auto was = logged_not_acted_on_.find(key);
    if (!now[key].empty() && (was == logged_not_acted_on_.end() || was->second != now[key])) {
      CALICO_LOG(warn, "agent", "{}", now[key]);
    }
  }
  logged_not_acted_on_ = std::move(now);
  metrics_.SetConfigNotActedOn(total);
}

void Agent::NoteRenderReport(const policy::RenderReport& report) {
  std::map<std::string, std::string> unrenderable;
  std::vector<std::pair<std::string, std::string>> unrenderable_metric;
  for (const policy::RenderProblem& p : report.skipped) {
    const std::string key = p.kind + " " + p.name;
    unrenderable[key] = p.message;
    unrenderable_metric.emplace_back(p.kind, p.name);
    auto was = logged_unrenderable_.find(key);
    if (was == logged_unrenderable_.end() || was->second != p.message) {
      CALICO_LOG(error, "agent", "{} cannot be rendered ({}): {}", key, p.effect, p.message);
    }
  }
  for (const auto& [key, message] : logged_unrenderable_) {
    if (unrenderable.count(key) == 0) CALICO_LOG(info, "agent", "{} is rendered again", key);
  }
  logged_unrenderable_ = std::move(unrenderable);

  std::set<std::string> http;
  std::map<std::pair<std::string, std::string>, int> http_metric;
  for (const auto& [key, rules] : report.http_ignored) {
    http.insert(key);
    const std::size_t space = key.find(' ');
    http_metric[{key.substr(0, space), space == std::string::npos ? "" : key.substr(space + 1)}] =
        rules;
    if (logged_http_ignored_.count(key) == 0) {
      CALICO_LOG(warn, "agent",
                 "{}: HTTP match ignored in {} rule(s): only their L3/L4 part is enforced (no L7 "
                 "proxy in this build)",
                 key, rules);
    }
  }
  logged_http_ignored_ = std::move(http);
  AgentStatus status;
  for (const policy::RenderProblem& p : report.skipped) {
    status.unrenderable.push_back({p.kind, p.name, p.message, p.effect});
  }
  for (const auto& [key, rules] : http_metric) {
    status.http_ignored.push_back({key.first, key.second, rules});
  }
  metrics_.SetRenderProblems(std::move(unrenderable_metric), std::move(http_metric));
  if (!reported_status_ || *reported_status_ != status) {
    if (config_.on_status) config_.on_status(status);
    reported_status_ = std::move(status);
  }
}

void Agent::ReloadSettings() {
  if (!felix_config_changed_ || !config_.reload_settings) return;
  felix_config_changed_ = false;
  auto next = config_.reload_settings(felix_global_ ? &*felix_global_ : nullptr,
                                      felix_node_ ? &*felix_node_ : nullptr);
  if (!next) {
    metrics_.AddDataplaneError();
    CALICO_LOG(error, "agent", "FelixConfiguration not applied (keeping the running settings): {}",
               next.error().message());
    return;
  }
  config_.route_refresh_interval = next->route_refresh_interval;
  config_.policy_refresh_interval = next->policy_refresh_interval;
  config_.render = std::move(next->render);
  config_.routes = next->routes;
  config_.nat = next->nat;
  config_.vxlan = next->vxlan;
  config_.vxlan_enabled = next->vxlan_enabled;
  if (config_.health != nullptr &&
      next->health_timeout_overrides != config_.health_timeout_overrides) {
    config_.health->SetTimeoutOverrides(next->health_timeout_overrides);
  }
  config_.health_timeout_overrides = std::move(next->health_timeout_overrides);
  config_.ipip = next->ipip;
  render_cache_ = policy::RenderCache();  // Compiled with the old marks and prefixes.
  full_program_ = true;
  if (have_applied_) CALICO_LOG(info, "agent", "FelixConfiguration changed: settings applied");
}

Result<bool> Agent::ProgramPolicy() {
  const calc::CalcGraph::Changes changes = graph_->TakeChanges();
  // Felix's rule renderer re-renders only the chains its calculation graph marked dirty
  // (felix/rules, felix/calc policy_resolver.go): here a batch that changed some policies' rules
  // and nothing else. Anything the graph's changes do not cover (settings, overlays, host
  // endpoints, a resync, a delete, a problem in the last render) takes the full path.
  const bool incremental = !full_program_ && !changes.other && have_applied_ &&
                           model_.host_endpoints.empty() && logged_unrenderable_.empty() &&
                           logged_http_ignored_.empty();
  full_program_ = false;
  if (incremental && ProgramPolicyRules(changes)) return true;
  return ProgramPolicyFull();
}

bool Agent::ProgramPolicyRules(const calc::CalcGraph::Changes& changes) {
  std::optional<std::vector<std::string>> ids = graph_->PatchPolicyRules(model_, changes);
  if (!ids) return false;
  auto chains =
      policy::RenderPolicyRulesChains(model_, config_.render, render_cache_, *ids, applied_);
  if (!chains || !*chains) return false;
  std::map<std::string, nft_model::NftChain>& changed = **chains;
  std::erase_if(changed, [&](const auto& entry) {
    return applied_.chains.at(entry.first).rules == entry.second.rules;
  });
  if (changed.empty()) return true;
  if (Status st = policy_.ApplyChains(applied_, changed); !st) {
    CALICO_LOG(warn, "agent",
               "incremental nftables update of {} chain(s) failed ({}); rendering "
               "the whole ruleset",
               changed.size(), st.error().message());
    return false;
  }
  // applied_ patched in place: the other chains are not copied.
  for (auto& [name, chain] : changed) {
    nft_model::NftChain& was = applied_.chains.at(name);
    applied_rules_ += CountRules(chain.rules) - CountRules(was.rules);
    was.rules = std::move(chain.rules);
  }
  ++policy_applies_;
  return true;
}

Result<bool> Agent::ProgramPolicyFull() {
  full_program_ = true;  // Until this program succeeds: the next one starts from the whole model.
  model_ = graph_->Model();
  BindHostEndpoints();
  {
    // Felix's overlay filter follows the overlays this agent programs (overlay_filter.h).
    std::optional<VxlanState> v4, v6;
    std::optional<IpipState> ipip;
    if (config_.apply_vxlan) {
      v4 = DesiredVxlan();
      v6 = DesiredVxlanV6();
    }
    if (config_.apply_ipip) ipip = ComputeIpipState(config_.node_name, vxlan_inputs_, config_.ipip);
    config_.render.overlay = ComputeOverlayFilter(vxlan_inputs_, v4 ? &*v4 : nullptr,
                                                  v6 ? &*v6 : nullptr, ipip ? &*ipip : nullptr);
  }
  policy::RenderReport report;
  auto rendered = policy::RenderRulesetParts(model_, config_.render, &render_cache_, &report);
  if (rendered) NoteRenderReport(report);
  if (!rendered) {
    metrics_.AddDataplaneError();
    CALICO_LOG(error, "agent", "cannot render the policy ruleset (keeping the previous one): {}",
               rendered.error().message());
  } else if (!have_applied_ || *rendered != applied_) {
    Status st = have_applied_ ? policy_.ApplyIncremental(applied_, *rendered)
                              : policy_.ApplyFull(*rendered);
    if (!st && have_applied_) {
      CALICO_LOG(warn, "agent", "incremental nftables update failed ({}); replacing the table",
                 st.error().message());
      st = policy_.ApplyFull(*rendered);
    }
    if (!st) {
      have_applied_ = false;
      metrics_.AddDataplaneError();
      return Unexpected(st.error().Wrap("programming nftables"));
    }
    applied_rules_ = have_applied_ ? CountRulesAfter(applied_, applied_rules_, *rendered)
                                   : CountRules(*rendered);
    applied_ = std::move(*rendered);
    have_applied_ = true;
    ++policy_applies_;
  }
  full_program_ = !rendered.has_value();
  return rendered.has_value();
}

Status Agent::Program(std::chrono::steady_clock::time_point since) {
  dirty_ = false;
  ReloadSettings();
  ReportNotActedOn();
  ASSIGN_OR_RETURN(const bool rendered, ProgramPolicy());
  if (rendered && config_.on_policy_programmed) config_.on_policy_programmed(model_, *graph_);
  if (config_.program_routes) {
    routes_.SetOptions(config_.routes);
    auto synced = routes_.Sync(DesiredRoutes());
    if (!synced) {
      metrics_.AddDataplaneError();
      return Unexpected(synced.error().Wrap("programming routes"));
    }
    metrics_.AddRoutes(synced->added, synced->removed);
    ConfigureInterfaces(false);
  }
  if (config_.apply_vxlan) {
    for (auto [state, applied] : {std::pair{DesiredVxlan(), &vxlan_applied_},
                                  std::pair{DesiredVxlanV6(), &vxlan6_applied_}}) {
      if (*applied && **applied == state) continue;
      Status st = config_.apply_vxlan(state);
      if (!st) {
        metrics_.AddDataplaneError();
        applied->reset();
        CALICO_LOG(error, "agent", "programming {}: {}", VxlanDeviceName(state.family),
                   st.error().message());
      } else {
        *applied = std::move(state);
      }
    }
  }
  if (config_.apply_ipip) {
    IpipState state = ComputeIpipState(config_.node_name, vxlan_inputs_, config_.ipip);
    if (!ipip_applied_ || *ipip_applied_ != state) {
      Status st = config_.apply_ipip(state);
      if (!st) {
        metrics_.AddDataplaneError();
        CALICO_LOG(error, "agent", "programming IPIP: {}", st.error().message());
      }
      ipip_applied_ = state;  // retried at resync, not on every batch
    }
  }
  if (config_.apply_nat) {
    auto pools = graph_->IpPools();
    std::pair<std::string, std::string> nat{RenderNatRuleset(pools, 4, config_.nat),
                                            RenderNatRuleset(pools, 6, config_.nat)};
    if (!nat_applied_ || *nat_applied_ != nat) {
      Status st = config_.apply_nat(nat.first, nat.second);
      if (!st) {
        metrics_.AddDataplaneError();
        nat_applied_.reset();
        CALICO_LOG(error, "agent", "programming natOutgoing: {}", st.error().message());
      } else {
        nat_applied_ = nat;
      }
    }
  }
  if (config_.on_synced) config_.on_synced(routing_dirty_);
  routing_dirty_ = false;
  metrics_.SetCounts(static_cast<int64_t>(model_.endpoints.size()),
                     static_cast<int64_t>(model_.policies.size()),
                     static_cast<int64_t>(model_.profiles.size()),
                     static_cast<int64_t>(model_.ip_sets.size()), applied_rules_);
  metrics_.SetClusterCounts(CountCluster());
  metrics_.ObserveProgramming(std::chrono::steady_clock::now() - since);
  return OkStatus();
}

void Agent::IngestOnTwoThreads(const std::vector<datastore::KVPair>& kvs) {
  // Both cores: one worker decodes and validates the values batch by batch (DecodeValue touches
  // no agent state) while this thread feeds each decoded batch to the graph in order.
  constexpr size_t kBatch = 512;
  const bool typed_policies = !config_.on_resource;
  std::mutex mu;
  std::condition_variable ready_cv;
  std::deque<std::vector<DecodedValue>> ready;
  std::thread worker([&] {
    for (size_t begin = 0; begin < kvs.size(); begin += kBatch) {
      const size_t end = std::min(kvs.size(), begin + kBatch);
      std::vector<DecodedValue> batch;
      batch.reserve(end - begin);
      for (size_t i = begin; i < end; ++i)
        batch.push_back(DecodeValue(kvs[i], typed_policies));
      {
        std::lock_guard<std::mutex> lock(mu);
        ready.push_back(std::move(batch));
      }
      ready_cv.notify_one();
    }
  });
  for (size_t begin = 0; begin < kvs.size(); begin += kBatch) {
    std::vector<DecodedValue> batch;
    {
      std::unique_lock<std::mutex> lock(mu);
      ready_cv.wait(lock, [&] { return !ready.empty(); });
      batch = std::move(ready.front());
      ready.pop_front();
    }
    for (size_t i = 0; i < batch.size(); ++i)
      IngestDecoded(kvs[begin + i], std::move(batch[i]));
  }
  worker.join();
}

Status Agent::FullSync() {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(auto list, backend_.List(kWatchPrefix));
  const auto listed = Clock::now();
  metrics_.AddResyncStarted();
  graph_ = std::make_unique<calc::CalcGraph>(config_.node_name);
  full_program_ = true;
  if (config_.on_resync) config_.on_resync();
  resource_keys_.clear();
  kind_counts_.clear();
  host_key_counts_.clear();
  own_node_.reset();
  config_records_changed_ = true;
  own_blocks_.clear();
  vxlan_inputs_ = VxlanInputs{};
  vxlan_applied_.reset();
  vxlan6_applied_.reset();
  ipip_applied_.reset();
  nat_applied_.reset();
  // The per-key tables sized once for what was listed, instead of rehashing as they grow (at 100k
  // endpoints the rehashes were about a tenth of the sync).
  size_t resources = 0;
  size_t workloads = 0;
  for (const auto& kv : list.kvs) {
    if (!StartsWith(kv.key, datastore::kResourcePrefix)) continue;
    ++resources;
    if (StartsWith(kv.key, kWorkloadEndpointPrefix)) ++workloads;
  }
  resource_keys_.reserve(resources);
  graph_->ReserveEndpoints(workloads);
  if (config_.decode_thread) {
    IngestOnTwoThreads(list.kvs);
  } else {
    for (const auto& kv : list.kvs)
      Ingest(kv);
  }
  revision_ = list.revision;
  watch_errors_at_revision_ = 0;
  list = {};
  const auto ingested = Clock::now();
  if (watch_) watch_->Close();
  ASSIGN_OR_RETURN(watch_, backend_.Watch(kWatchPrefix, revision_ + 1));
  RETURN_IF_ERROR(Program(start));
  in_sync_ = true;
  ReportHealth();
  ReturnFreedMemory();
  CALICO_LOG(info, "agent",
             "in sync at revision {}: {} local endpoints, {} policies (list {:.0f} ms, calculate "
             "{:.0f} ms, program {:.0f} ms)",
             revision_, model_.endpoints.size(), model_.policies.size(), ms(listed - start),
             ms(ingested - listed), ms(Clock::now() - ingested));
  return OkStatus();
}

Status Agent::Step(std::chrono::milliseconds wait) {
  if (!watch_) return FullSync();
  auto events = watch_->Next(wait);
  if (!events) {
    if (events.error().code() == ErrorCode::kConflict) {
      CALICO_LOG(info, "agent", "watch revision compacted; listing again");
      return FullSync();
    }
    // The stream failed (the store went away, or sent what the client refused): as libcalico-go's
    // watcher cache (watchersyncer/watchercache.go), log it, resume from the last revision seen
    // (the backend fails over), at most once per MinResyncInterval, and after
    // MaxErrorsPerRevision failures without progress list everything again instead.
    watch_.reset();
    ++watch_errors_at_revision_;
    CALICO_LOG(warn, "agent", "datastore watch failed at revision {} ({} without progress): {}",
               revision_, watch_errors_at_revision_, events.error().message());
    const auto since = std::chrono::steady_clock::now() - last_watch_restart_;
    if (since < kMinWatchRestartInterval)
      std::this_thread::sleep_for(kMinWatchRestartInterval - since);
    last_watch_restart_ = std::chrono::steady_clock::now();
    if (watch_errors_at_revision_ >= kMaxWatchErrorsPerRevision) {
      CALICO_LOG(warn, "agent", "watch repeatedly failed without making progress; listing again");
      return FullSync();
    }
    auto again = backend_.Watch(kWatchPrefix, revision_ + 1);
    if (!again) return Unexpected(events.error().Wrap("datastore watch"));
    watch_ = std::move(*again);
    return OkStatus();
  }
  if (events->empty()) return OkStatus();
  watch_errors_at_revision_ = 0;
  auto start = std::chrono::steady_clock::now();
  // Take whatever else is already queued, so a burst becomes one transaction.
  std::vector<datastore::WatchEvent> batch = std::move(*events);
  for (int i = 0; i < 64; ++i) {
    auto more = watch_->Next(std::chrono::milliseconds(0));
    if (!more || more->empty()) break;
    batch.insert(batch.end(), more->begin(), more->end());
  }
  for (const auto& ev : batch) {
    revision_ = std::max(revision_, ev.kv.mod_revision);
    if (ev.type == datastore::WatchEventType::kPut) {
      Ingest(ev.kv);
    } else {
      Remove(ev.kv.key);
    }
  }
  if (!dirty_) return OkStatus();
  return Program(start);
}

Result<bool> Agent::Resync() {
  ASSIGN_OR_RETURN(bool policy, CheckPolicy());
  ASSIGN_OR_RETURN(bool routes, CheckRoutes());
  metrics_.AddResync(policy || routes);
  ReturnFreedMemory();
  return policy || routes;
}

Result<bool> Agent::ResyncPolicy() {
  ASSIGN_OR_RETURN(bool repaired, CheckPolicy());
  metrics_.AddResync(repaired);
  return repaired;
}

Result<bool> Agent::ResyncRoutes() {
  ASSIGN_OR_RETURN(bool repaired, CheckRoutes());
  metrics_.AddResync(repaired);
  ReturnFreedMemory();
  return repaired;
}

Result<bool> Agent::CheckPolicy() {
  bool repaired = false;
  if (hep_by_address_) {
    full_program_ = true;
    // Interface addresses are not watched: re-bind expectedIPs host endpoints now.
    RETURN_IF_ERROR(Program(std::chrono::steady_clock::now()));
  }
  if (have_applied_) {
    ASSIGN_OR_RETURN(bool same, policy_.Matches());
    if (!same) {
      CALICO_LOG(warn, "agent", "the calico nftables table drifted from the datastore; repairing");
      RETURN_IF_ERROR(policy_.ApplyFull(applied_));
      repaired = true;
    }
  }
  return repaired;
}

Result<bool> Agent::CheckRoutes() {
  bool repaired = false;
  if (config_.program_routes) {
    routes_.SetOptions(config_.routes);
    const auto listing = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(auto synced, routes_.Sync(DesiredRoutes()));
    metrics_.ObserveRouteTableList(std::chrono::steady_clock::now() - listing);
    metrics_.AddRoutes(synced.added, synced.removed);
    ConfigureInterfaces(true);
    repaired = repaired || synced.added > 0 || synced.removed > 0;
  }
  if (config_.apply_vxlan) {
    for (const VxlanState& state : {DesiredVxlan(), DesiredVxlanV6()}) {
      Status st = config_.apply_vxlan(state);
      if (!st) {
        CALICO_LOG(error, "agent", "resync {}: {}", VxlanDeviceName(state.family),
                   st.error().message());
      }
    }
  }
  if (config_.apply_ipip) {
    Status st =
        config_.apply_ipip(ComputeIpipState(config_.node_name, vxlan_inputs_, config_.ipip));
    if (!st) CALICO_LOG(error, "agent", "resync IPIP: {}", st.error().message());
  }
  if (config_.on_synced) config_.on_synced(true);
  return repaired;
}

// Retries against an unreachable datastore back off up to 1 s, as libcalico-go's watcher cache
// retries a failed list every second (watchersyncer/watchercache.go ListRetryInterval): the
// agent sees a datastore that comes back within a second, not after a 10 s back-off.
constexpr std::chrono::milliseconds kMaxRetryBackoff{1000};

Status Agent::Run(const std::atomic<bool>& stop) {
  auto backoff = std::chrono::milliseconds(200);
  auto sleep = [&](std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (!stop && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  while (!stop) {
    Status st = FullSync();
    ReportHealth();  // The loop is alive (not ready) while the datastore cannot be listed.
    if (st) break;
    CALICO_LOG(error, "agent", "initial sync failed (retrying in {} ms): {}", backoff.count(),
               st.error().message());
    sleep(backoff);
    backoff = std::min(backoff * 2, kMaxRetryBackoff);
  }
  using Clock = std::chrono::steady_clock;
  // The next refresh of each kind after `from` (never while its interval is 0).
  auto next = [](Clock::time_point from, std::chrono::milliseconds interval) {
    return interval.count() > 0 ? from + interval : Clock::time_point::max();
  };
  auto next_policy = next(Clock::now(), config_.policy_refresh_interval);
  auto next_routes = next(Clock::now(), config_.route_refresh_interval);
  auto intervals = std::pair(config_.policy_refresh_interval, config_.route_refresh_interval);
  while (!stop) {
    Status st = Step(std::chrono::milliseconds(500));
    ReportHealth();
    if (config_.on_idle) config_.on_idle();
    if (!st) {
      CALICO_LOG(error, "agent", "{}", st.error().message());
      sleep(backoff);
      backoff = std::min(backoff * 2, kMaxRetryBackoff);
      continue;
    }
    backoff = std::chrono::milliseconds(200);
    if (intervals != std::pair(config_.policy_refresh_interval, config_.route_refresh_interval)) {
      // A FelixConfiguration change: the new intervals count from now.
      intervals = {config_.policy_refresh_interval, config_.route_refresh_interval};
      next_policy = next(Clock::now(), config_.policy_refresh_interval);
      next_routes = next(Clock::now(), config_.route_refresh_interval);
    }
    if (Clock::now() >= next_policy) {
      auto r = ResyncPolicy();
      if (!r) CALICO_LOG(error, "agent", "nftables refresh: {}", r.error().message());
      next_policy = next(Clock::now(), config_.policy_refresh_interval);
    }
    if (Clock::now() >= next_routes) {
      auto r = ResyncRoutes();
      if (!r) CALICO_LOG(error, "agent", "route refresh: {}", r.error().message());
      next_routes = next(Clock::now(), config_.route_refresh_interval);
    }
  }
  if (watch_) watch_->Close();
  return OkStatus();
}

}  // namespace calico::agent
