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

// The endpoint chain (cali-tw-/cali-fw-) of `ep` for `packet`.
DirectionResult EvaluateDirection(const policy::Model& model, const policy::Endpoint& ep,
                                  bool ingress, const Packet& packet);

}  // namespace calico::explain
