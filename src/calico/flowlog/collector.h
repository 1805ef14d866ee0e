// The flow-log collector of calico-node (Felix's felix/collector): turns the NFLOG messages of the
// ruleset's flow-log statements (one per verdict point a new connection's first packet meets:
// policy/flow_log_prefix.h) and conntrack's counters into flow records aggregated per interval,
// in Goldmane's shape (goldmane/proto/api.proto Flow/FlowKey/PolicyTrace/PolicyHit).
//
//   NflogPacket ─prefix─▶ FlowContext::lookup (policy::PolicyLookup) ─▶ RuleHit
//     per (5-tuple, direction): hits in order (Pass, ..., then the Allow/Deny that decided)
//   ConntrackEntry (orig 5-tuple) ─▶ packets/bytes both ways; kDestroy ends the connection
//   Flush(now) ─▶ FlowRecords, one per FlowKey (endpoints by IP from the FlowContext, dest port,
//     protocol, reporter, action, the enforced and pending traces): connections started,
//     completed and live in the interval, packets and bytes in it
//
// Reporter (Felix): an ingress verdict (to a local endpoint, NFLOG group 1) is reported by the
// destination, an egress verdict (group 2) by the source; traffic between two local endpoints
// gives one record of each.
//
// Bounds: at most `max_live_flows` connections are tracked (new ones beyond are dropped and
// counted), NFLOG messages are rate limited (a token bucket; excess dropped and counted), a
// connection whose trace never completes is dropped after an interval (counted), an allowed
// connection with no conntrack news for `idle_timeout` is ended. Denied connections end at once
// (the kernel never confirms their conntrack entry).
//
// Thread-safety: none; the runner (runner.h) drives it from its thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "calico/calc/calc_graph.h"
#include "calico/dataplane/flow_sources.h"
#include "calico/policy/flow_log_prefix.h"

namespace calico::flowlog {

using dataplane::ConntrackEntry;
using dataplane::ConntrackSource;
using dataplane::FiveTuple;
using dataplane::NflogPacket;
using dataplane::NflogSource;

using Clock = std::chrono::system_clock;

enum class EndpointType { kWorkload, kHost, kNetwork };
std::string_view EndpointTypeName(EndpointType t);  // "wep", "hep", "net" (Goldmane's JSON).

// What a flow's address is: a workload or host endpoint of any node, or a network ("pvt" for
// RFC 1918 / ULA / link-local ranges, "pub" otherwise, as Felix names unknown addresses).
struct EndpointInfo {
  EndpointType type = EndpointType::kNetwork;
  std::string ns{};
  std::string name{};
  std::map<std::string, std::string> labels{};
  bool local = false;
};

// What the would-be verdict of the staged policies is for a connection (pending trace), given
// the reporter's endpoint and direction; nullopt = no staged policy changes anything (the pending
// trace is then the enforced one, as upstream).
using StagedEvaluator = std::function<std::optional<std::vector<policy::RuleHit>>(
    const FiveTuple& tuple, bool ingress, const EndpointInfo& reporter)>;

// Workload and host endpoints by address, as FlowContext::Find looks them up: a local endpoint wins
// over a remote one claiming the same address, else the first in `endpoints`' order.
using EndpointTable = std::map<net::IPAddr, EndpointInfo>;
// Takes `endpoints` by value: an endpoint's names and labels move into its last address's entry
// (most endpoints have one address) instead of being copied.
EndpointTable BuildEndpointTable(std::vector<calc::EndpointSummary> endpoints);

// What the collector maps prefixes and addresses with; the agent makes a new one with each model
// it programs (felix/calc's lookups caches).
class FlowContext {
 public:
  FlowContext(policy::PolicyLookup lookup, const std::vector<calc::EndpointSummary>& endpoints,
              StagedEvaluator staged = nullptr);
  // With an endpoint table shared with other contexts (FlowContextSource).
  FlowContext(policy::PolicyLookup lookup, std::shared_ptr<const EndpointTable> endpoints,
              StagedEvaluator staged = nullptr);
  const policy::PolicyLookup& lookup() const { return lookup_; }
  EndpointInfo Find(const net::IPAddr& addr) const;
  const StagedEvaluator& staged() const { return staged_; }

 private:
  policy::PolicyLookup lookup_;
  std::shared_ptr<const EndpointTable> by_addr_;  // Never null.
  StagedEvaluator staged_;
};

// The FlowContext of each programmed model (flowlog/linux/node_flow_logs.cc): the endpoint table
// is rebuilt only when the graph's endpoints changed since the previous context
// (CalcGraph::EndpointsVersion), and shared otherwise. At 100k endpoints building it costs
// several times the model itself (bench/README.md, "flow_context_ms"), so a policy change no
// longer pays for it; an endpoint change still does. One thread.
class FlowContextSource {
 public:
  std::shared_ptr<const FlowContext> Make(const policy::Model& model, const calc::CalcGraph& graph,
                                          StagedEvaluator staged = nullptr);
  // Whether the last Make built the endpoint table anew.
  bool rebuilt() const { return rebuilt_; }

 private:
  uint64_t version_ = 0;
  std::shared_ptr<const EndpointTable> table_;
  bool rebuilt_ = false;
};

// Goldmane's PolicyHit.trigger of an end-of-tier hit: the policy's kind, namespace, name and tier
// (goldmane/proto/methods.go HitFromString; policy::RuleHit::Trigger says which policy).
struct FlowPolicyTrigger {
  std::string kind{};  // "GlobalNetworkPolicy", "CalicoNetworkPolicy", ...
  std::string ns{};
  std::string name{};
  std::string tier{};

  auto operator<=>(const FlowPolicyTrigger&) const = default;
};

// Goldmane's PolicyHit (goldmane/proto/api.proto).
struct FlowPolicyHit {
  std::string kind{};  // "GlobalNetworkPolicy", "CalicoNetworkPolicy", "Profile", "EndOfTier", ...
  std::string ns{};
  std::string name{};
  std::string tier{};
  std::string action{};      // "Allow", "Deny", "Pass".
  int64_t policy_index = 0;  // Position in the trace.
  int64_t rule_index = -1;
  std::optional<FlowPolicyTrigger> trigger{};  // EndOfTier only.

  auto operator<=>(const FlowPolicyHit&) const = default;
};

struct FlowKeyData {
  std::string source_name, source_namespace, source_type;
  std::string dest_name, dest_namespace, dest_type;
  int64_t dest_port = 0;
  std::string source_ip, dest_ip;  // calico-flows' additions to Goldmane's key (flows/flow.h).
  std::string proto;               // "tcp", "udp", "icmp", ... or the number.
  std::string reporter;            // "Src" / "Dst".
  std::string action;              // "Allow" / "Deny".
  std::vector<FlowPolicyHit> enforced{};
  std::vector<FlowPolicyHit> pending{};

  auto operator<=>(const FlowKeyData&) const = default;
};

struct FlowRecord {
  FlowKeyData key{};
  int64_t start_time = 0;  // Unix seconds: the interval.
  int64_t end_time = 0;
  std::map<std::string, std::string> source_labels{}, dest_labels{};
  int64_t packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
  int64_t num_connections_started = 0, num_connections_completed = 0, num_connections_live = 0;

  bool operator==(const FlowRecord&) const = default;
};

// Per-policy/rule counts for calico_node_policy_* (metrics.h of this library).
struct PolicyRuleCounts {
  int64_t flows = 0, packets = 0, bytes = 0;
};

struct CollectorOptions {
  std::size_t max_live_flows = 100000;
  double nflog_per_second = 20000;  // Token bucket rate; the burst is one second's worth.
  std::chrono::seconds idle_timeout{600};
};

struct CollectorStats {
  uint64_t nflog_messages = 0;
  uint64_t dropped_rate_limited = 0;    // NFLOG messages over the rate.
  uint64_t dropped_flow_limit = 0;      // New connections over max_live_flows.
  uint64_t dropped_unknown_prefix = 0;  // Prefixes the lookup does not know (stale model).
  uint64_t dropped_incomplete = 0;      // Traces with no final verdict after an interval.
  uint64_t dropped_kernel = 0;          // Reported by the sources (socket overruns).
  uint64_t dropped_send = 0;            // Records the sender could not deliver (sender.h).
  uint64_t live_flows = 0;
};

class Collector {
 public:
  explicit Collector(CollectorOptions options = {});
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;
  // The context for prefixes and addresses (null: messages are counted as unknown).
  void SetContext(std::shared_ptr<const FlowContext> context);
  void OnNflog(const NflogPacket& packet, Clock::time_point now);
  void OnConntrack(const ConntrackEntry& entry, Clock::time_point now);
  // The interval's records (sorted by key), ending it.
  std::vector<FlowRecord> Flush(Clock::time_point now);
  CollectorStats& stats() { return stats_; }
  const CollectorStats& stats() const { return stats_; }
  // Totals since start per (kind, namespace/name or tier, rule index, action) of the deciding
  // hit, for the policy metrics: "<kind>|<tier>|<name>|<rule>|<allow|deny>".
  const std::map<std::string, PolicyRuleCounts>& policy_counts() const { return policy_counts_; }

 private:
  struct Conn;
  struct ConnKey {
    FiveTuple tuple{};
    bool ingress = true;
    auto operator<=>(const ConnKey&) const = default;
  };
  bool TakeToken(Clock::time_point now);
  void Complete(const ConnKey& key, Conn& conn);
  void CountPolicy(const Conn& conn, int64_t flows, int64_t packets, int64_t bytes);

  CollectorOptions options_;
  std::shared_ptr<const FlowContext> context_;
  std::map<ConnKey, std::unique_ptr<Conn>> conns_;
  CollectorStats stats_{};
  std::map<std::string, PolicyRuleCounts> policy_counts_;
  double tokens_ = 0;
  Clock::time_point last_refill_{};
  Clock::time_point interval_start_{};
};

}  // namespace calico::flowlog
