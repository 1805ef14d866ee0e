// The flow record every node sends to calico-flows, and its JSON form: Goldmane's Flow
// (goldmane/proto/api.proto: Flow, FlowKey, PolicyTrace, PolicyHit and the enums Action,
// PolicyKind, EndpointType, Reporter), field for field, with two additions (sourceIp, destIp).
//
// JSON is protojson's (google.golang.org/protobuf/encoding/protojson), which is what Goldmane's
// Go clients read and write:
//   * field names are the proto json_name (lowerCamelCase: "startTime", "destNamespace",
//     "enforcedPolicies"); Flow's key field is declared `FlowKey Key = 1`, so its name is "Key".
//     Decoding also accepts the proto field names ("start_time"), as protojson does, and "key";
//   * enums are their value names ("Deny", "WorkloadEndpoint", "Src"); decoding also accepts
//     their numbers;
//   * zero values (0, "", empty lists, Unspecified enums, a missing trace) are left out;
//   * int64 fields: protojson writes them as JSON strings ("42"); we write JSON numbers, which
//     protojson reads, and read both;
//   * an unknown field is an error, as protojson's default (DiscardUnknown = false).
// Times are Unix seconds, as Goldmane's.
//
// The additions: FlowKey.sourceIp / destIp (one address, or empty), because Goldmane aggregates
// workload names only and `calicoctl flows --from IP` and the explain view need the addresses.
// They are part of the key, so two flows of one workload pair but different addresses stay
// apart; a sender that leaves them out aggregates exactly as Goldmane does.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"

namespace calico::flows {

// goldmane/proto/api.proto: enum Action.
enum class Action { kUnspecified = 0, kAllow = 1, kDeny = 2, kPass = 3 };

// enum PolicyKind (7 and 8 are reserved upstream).
enum class PolicyKind {
  kUnspecified = 0,
  kCalicoNetworkPolicy = 1,
  kGlobalNetworkPolicy = 2,
  kStagedNetworkPolicy = 3,
  kStagedGlobalNetworkPolicy = 4,
  kStagedKubernetesNetworkPolicy = 5,
  kNetworkPolicy = 6,  // a Kubernetes NetworkPolicy
  kProfile = 9,
  kEndOfTier = 10,
  kClusterNetworkPolicy = 11,
};

// enum EndpointType.
enum class EndpointType {
  kUnspecified = 0,
  kWorkloadEndpoint = 1,
  kHostEndpoint = 2,
  kNetworkSet = 3,
  kNetwork = 4,
};

// enum Reporter: which end's node saw the flow.
enum class Reporter { kUnspecified = 0, kSrc = 1, kDst = 2 };

// The protojson names ("Deny", "GlobalNetworkPolicy", "WorkloadEndpoint", "Src"), and back
// (names or decimal numbers; kInvalidArgument naming the value otherwise).
std::string_view ActionName(Action action);
std::string_view PolicyKindName(PolicyKind kind);
std::string_view EndpointTypeName(EndpointType type);
std::string_view ReporterName(Reporter reporter);
[[nodiscard]] Result<Action> ParseAction(std::string_view text);
[[nodiscard]] Result<PolicyKind> ParsePolicyKind(std::string_view text);
[[nodiscard]] Result<EndpointType> ParseEndpointType(std::string_view text);
[[nodiscard]] Result<Reporter> ParseReporter(std::string_view text);

// message PolicyHit: one step of a trace. For an end-of-tier drop, kind is kEndOfTier, tier the
// tier and rule_index -1; for a Pass, action is kPass; `trigger` is the policy whose end of tier
// (or Pass) led here, as upstream.
struct PolicyHit {
  PolicyKind kind = PolicyKind::kUnspecified;
  std::string ns{};  // "namespace"
  std::string name{};
  std::string tier{};
  Action action = Action::kUnspecified;
  int64_t policy_index = 0;
  int64_t rule_index = 0;
  std::shared_ptr<const PolicyHit> trigger{};  // null: none

  bool operator==(const PolicyHit& other) const;
};

// message PolicyTrace: the enforced steps, and what the staged policies would have done.
struct PolicyTrace {
  std::vector<PolicyHit> enforced_policies{};
  std::vector<PolicyHit> pending_policies{};

  bool operator==(const PolicyTrace& other) const = default;
};

// message FlowKey, plus source_ip / dest_ip (see the top of this file).
struct FlowKey {
  std::string source_name{};
  std::string source_namespace{};
  EndpointType source_type = EndpointType::kUnspecified;
  std::string dest_name{};
  std::string dest_namespace{};
  EndpointType dest_type = EndpointType::kUnspecified;
  int64_t dest_port = 0;
  std::string dest_service_name{};
  std::string dest_service_namespace{};
  std::string dest_service_port_name{};
  int64_t dest_service_port = 0;
  std::string proto{};  // "tcp", "udp", "icmp", or a number
  Reporter reporter = Reporter::kUnspecified;
  Action action = Action::kUnspecified;
  PolicyTrace policies{};
  std::string source_ip{};  // addition
  std::string dest_ip{};    // addition

  bool operator==(const FlowKey& other) const = default;
};

// message Flow.
struct Flow {
  FlowKey key{};
  int64_t start_time = 0;  // Unix seconds
  int64_t end_time = 0;
  std::vector<std::string> source_labels{};  // "key=value"
  std::vector<std::string> dest_labels{};
  int64_t packets_in = 0;
  int64_t packets_out = 0;
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  int64_t num_connections_started = 0;
  int64_t num_connections_completed = 0;
  int64_t num_connections_live = 0;

  bool operator==(const Flow& other) const = default;
};

// One compact JSON object, no newline.
std::string EncodeFlow(const Flow& flow);
std::string EncodePolicyHit(const PolicyHit& hit);
// The key alone (compact JSON): equal keys give equal text, so it serves as a map key.
std::string EncodeFlowKey(const FlowKey& key);

// One flow from one JSON object. kInvalidArgument naming the field: "startTime: must be an
// integer", "Key.action: unknown Action \"Block\"", "unknown field \"bogus\"", negative counters
// or times, endTime before startTime.
[[nodiscard]] Result<Flow> DecodeFlow(std::string_view json);

// Newline-delimited flows (the ingest body): blank lines are skipped; an error names the line
// ("line 3: Key.destPort: must be an integer") and no flow is returned; more than `max_records`
// records is an error too.
[[nodiscard]] Result<std::vector<Flow>> DecodeFlowLines(std::string_view body, size_t max_records);

}  // namespace calico::flows
