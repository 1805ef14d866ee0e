// calico::explain: "why is this connection allowed or denied, and by which policy?" answered
// from the datastore with the agent's own code (calicoctl policy explain, calico-flows'
// GET /api/v1/explain).
//
//   explain::Snapshot snap = *explain::SnapshotFromClient(client);        // the datastore
//   snap = explain::Overlay(std::move(snap), resources_from_file);        // -f: what if
//   explain::Query q{.from = "ns1/pod-a", .to = "10.0.0.7", .protocol = "TCP", .port = 80};
//   Result<explain::Explanation> e = explain::Explain(snap, q);
//   std::cout << explain::RenderText(*e);   // or explain::ToJson(*e).dump(2)
//
// How (the same calculation and rule code as calico-node, no second implementation):
//  * Each side (--from, --to) is a WorkloadEndpoint (by "<namespace>/<name>", by name in the
//    default namespace, or by one of its addresses) or a plain address (not a Calico endpoint:
//    no policy applies on that side).
//  * For a local Calico endpoint, a calc::CalcGraph for the endpoint's node is fed the snapshot and
//    its policy::Model gives the endpoint's tiers, policies (in order) and profiles per direction,
//    their policy::ParsedRules (what the renderer compiles to nftables) and the IP set members
//    (selectors, namespaceSelectors, named ports) the rules match against.
//  * The rules are evaluated in user space in the order the nftables chains run them
//    (policy/endpoint_chains.cc, rule_compiler.cc): egress of the source (cali-fw-), then
//    ingress of the destination (cali-tw-). Per tier: policies in order; a rule's Allow/Deny
//    decides, Pass leaves the tier, Log goes on; no policy decided => end-of-tier drop (tier
//    defaultAction Deny) or the next tier (Pass). After the tiers (or when every tier passed):
//    the profiles in order; no profile allowed => drop ("no profile matched").
//  * A policy whose rules did not parse is isolated by the agent (its chain drops): so here.
//  * Staged policies (StagedNetworkPolicy, StagedGlobalNetworkPolicy,
//    StagedKubernetesNetworkPolicy) never decide: the direction is evaluated a second time with
//    them beside the enforced policies, as upstream's Felix evaluates the pending trace
//    (pending.h: own ids "staged:<name>", the tier's normal order, stagedAction Delete without
//    effect), and that evaluation's steps from the first staged policy on are listed as
//    "pending" with its verdict. That evaluation is the checker's (evaluate.h Scope::kPending): a
//    profile rule's Pass denies there, while packets go on to the next profile.
//
// Thread-safety: Explain is a pure function of its arguments.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::datastore {
class Client;
}  // namespace calico::datastore

namespace calico::explain {

using Json = nlohmann::json;

// The resources Explain reads (every kind the calculation graph consumes, staged policies too).
struct Snapshot {
  std::vector<model::Resource> resources{};
};

// Lists the snapshot's kinds through `client`. Errors: the first failing List, naming the kind.
[[nodiscard]] Result<Snapshot> SnapshotFromClient(datastore::Client& client);
// `base` with `overlay` applied: a resource of the same kind, namespace and name is replaced,
// others are added (calicoctl policy explain -f: nothing is written).
Snapshot Overlay(Snapshot base, const std::vector<model::Resource>& overlay);

struct Query {
  std::string from{};  // "<namespace>/<name>" or "<name>" of a WorkloadEndpoint, or an IP.
  std::string to{};
  std::string protocol = "TCP";      // A Calico protocol name (TCP, UDP, ICMP, ...) or a number.
  std::optional<int> port{};         // Destination port (TCP/UDP/SCTP/UDPLite); required for those.
  std::optional<int> source_port{};  // Unknown when absent: a rule matching on source ports
                                     // (ports or notPorts) then does not match (it says so).
  std::optional<int> icmp_type{};    // ICMP/ICMPv6; default echo request (8 / 128).
  std::optional<int> icmp_code{};    // Default 0.

  bool operator==(const Query&) const = default;
};

// Query from JSON ({"from","to","protocol","port","sourcePort","icmpType","icmpCode"}) and
// back: the API's request form. Errors name the field.
[[nodiscard]] Result<Query> QueryFromJson(const Json& j);
Json QueryToJson(const Query& q);

enum class Verdict { kAllow, kDeny };

// One step of a direction's evaluation, in the order the dataplane runs it.
struct Step {
  enum class Kind {
    kRule,           // A policy/profile rule: matched (decides or Pass/Log) or not.
    kNoRuleMatched,  // A policy/profile none of whose rules matched: on to the next one.
    kIsolated,       // A policy/profile whose rules did not parse: the agent drops there.
    kEndOfTier,      // No policy of the tier decided: drop (defaultAction Deny) or go on (Pass).
    kNoProfile,      // No profile allowed: drop (the endpoint chain's last rule).
  };
  Kind kind = Kind::kRule;
  std::string tier{};         // Empty for profiles.
  std::string policy{};       // Policy id ("default.allow-dns", "ns1/allow") or profile id.
  bool profile = false;       // `policy` names a profile.
  std::optional<int> rule{};  // Rule index (kRule).
  bool matched = false;       // kRule: the rule matched the packet.
  std::string action{};       // "Allow", "Deny", "Pass", "Log" (kRule); "Deny"/"Pass" (kEndOfTier).
  std::string reason{};       // Why (the first field that did not match, or what matched).
  bool pending = false;       // A staged policy's step: shown, never decides.

  bool operator==(const Step&) const = default;
};

// One side of the packet as it was resolved.
struct Peer {
  std::string input{};     // As given.
  std::string ip{};        // The address used.
  std::string endpoint{};  // "<namespace>/<name>" of the WorkloadEndpoint; empty = not Calico.
  std::string node{};      // The endpoint's node.

  bool operator==(const Peer&) const = default;
};

struct DirectionExplanation {
  std::string direction{};  // "egress" (of the source) or "ingress" (of the destination).
  std::string endpoint{};   // "<namespace>/<name>".
  std::string node{};
  std::vector<Step> steps{};
  Verdict verdict = Verdict::kDeny;
  // With staged policies present for this endpoint: what the direction would do if they were
  // enforced.
  std::optional<Verdict> pending_verdict{};

  bool operator==(const DirectionExplanation&) const = default;
};

struct Explanation {
  Query query{};
  Peer from{};
  Peer to{};
  std::vector<DirectionExplanation> directions{};  // Egress first (when the source is Calico's).
  Verdict verdict = Verdict::kAllow;  // Allow when every direction allows (none: allow).
  std::optional<Verdict> pending_verdict{};

  bool operator==(const Explanation&) const = default;
};

// Errors: kInvalidArgument for a bad query (an endpoint name that is not found, an unparsable
// address, a port without a port protocol, ...), naming the field.
[[nodiscard]] Result<Explanation> Explain(const Snapshot& snapshot, const Query& query);

// The JSON form (calicoctl policy explain -o json; GET /api/v1/explain):
// {"query":{...},"from":{"input","ip","endpoint","node"},"to":{...},"verdict":"Allow"|"Deny",
//  "pendingVerdict"?:..., "directions":[{"direction","endpoint","node","verdict","pendingVerdict"?,
//  "steps":[{"kind":"rule"|"no-rule-matched"|"isolated"|"end-of-tier"|"no-profile","tier"?,
//  "policy"?,"profile"?:true,"rule"?,"matched","action"?,"reason","pending"?:true}]}]}
Json ToJson(const Explanation& e);
// The human-readable form (calicoctl policy explain's default output).
std::string RenderText(const Explanation& e);
std::string VerdictName(Verdict v);  // "Allow" / "Deny"

}  // namespace calico::explain
