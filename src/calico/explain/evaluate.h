// The user-space evaluation of one endpoint direction (explain.h): a packet against the
// policy::Model the calculation graph gives, in the order the renderer's nftables chains run
// (policy/endpoint_chains.cc for the endpoint chain, policy/rule_compiler.cc for each rule).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "calico/explain/explain.h"
#include "calico/net/ip.h"
#include "calico/policy/policy_model.h"

namespace calico::explain {

struct Packet {
  net::IPAddr src{};
  net::IPAddr dst{};
  uint8_t protocol = 6;
  std::optional<int> source_port{};
  std::optional<int> dest_port{};  // Set for port protocols.
  int icmp_type = 8;               // ICMP/ICMPv6 only.
  int icmp_code = 0;
};

// Whether `rule` matches `packet` (rule_compiler.cc's statements, evaluated); `why` gets the
// first part that did not match, or a summary of what matched.
bool RuleMatches(const policy::ParsedRule& rule, const Packet& packet, const policy::Model& model,
                 std::string& why);

struct DirectionResult {
  std::vector<Step> steps{};
  Verdict verdict = Verdict::kDeny;
};

// Which evaluation: the dataplane's (the endpoint chain as rendered, what packets meet) or the
// pending one of the staged policies (app-policy/checker/check.go checkTiers with the
// StagedAsEnforced scope, which Felix's collector runs for the pending trace). They differ in one
// point: a profile rule's Pass returns from the profile chain without the accept mark in the
// dataplane (felix/rules/endpoints.go: on to the next profile), while the checker records it as
// a Deny of that profile rule and stops (`case DENY, PASS:`).
enum class Scope { kDataplane, kPending };

// The endpoint chain (cali-tw-/cali-fw-) of `ep` for `packet`.
DirectionResult EvaluateDirection(const policy::Model& model, const policy::Endpoint& ep,
                                  bool ingress, const Packet& packet,
                                  Scope scope = Scope::kDataplane);

}  // namespace calico::explain
