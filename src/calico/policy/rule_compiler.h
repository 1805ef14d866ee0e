// Compiles one projectcalico.org/v3 Rule into nftables rule statements (felix/rules/policy.go
// and the nftables match builder of felix/nftables, for an `inet` table).
//
// Two steps, both usable on their own:
//   ParseRule:  Rule JSON -> RuleIR, with the checks Calico's validator makes on the fields the
//               renderer relies on. Errors are kInvalidArgument (kUnsupported for fields this
//               renderer cannot express yet: namespaceSelector, serviceAccounts, services)
//               and always start with the field, e.g.
//               "destination.ports[1]: port range invalid, port number must be between 1 and
//               65535".
//   RenderRule: RuleIR -> one nft rule per IP family the rule needs, e.g.
//     meta nfproto ipv4 meta l4proto 6 ip saddr @cali40s-abc th dport { 80, 8000-8080 } counter
//       meta mark set meta mark | 0x10000 return comment "policy default/p ingress #0"
//
// IP family: a rule is restricted to one family by ipVersion, by its CIDRs or by protocol
// ICMP (4) / ICMPv6 (6); conflicting sources are an error. A rule that is not restricted but
// matches selectors or named ports (IP sets are per family) renders twice, IPv4 first, like Felix
// renders the rule into both its v4 and v6 chains. Otherwise one family-agnostic rule is produced.
//
// Named ports (named_ports.h): positive `ports` are an OR of the numeric ports and each named
// port, so a side with named ports renders one rule for its numeric ports (if any) and one per
// named port, matching the named-port set instead of the side's selectors:
//     meta nfproto ipv4 meta l4proto 6 ip daddr . meta l4proto . th dport @cali40n-xyz counter ...
// (both sides with named ports: every combination). notPorts names are ANDed negations in each
// rule: `ip daddr . meta l4proto . th dport != @cali40n-...`. A rule with only named ports needs
// no protocol (its sets are TCP ones then, Calico's default).
//
// Actions (Calico semantics, reference 3.2/3.4): Allow sets the accept mark and returns to the
// endpoint chain; Pass sets the pass mark and returns; Deny drops; Log logs and continues.
//
// Thread-safety: pure functions (the SetResolver is called on the calling thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/net/ip.h"
#include "calico/policy/policy_model.h"

namespace calico::policy {

enum class Action { kAllow, kDeny, kPass, kLog };

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
  bool operator==(const PortRange&) const = default;
};

struct IcmpMatch {
  int type = 0;
  std::optional<int> code{};
  bool operator==(const IcmpMatch&) const = default;
};

// A port name with the id of its named-port IP set (NamedPortSetId).
struct NamedPortMatch {
  std::string name{};
  std::string set_id{};
  bool operator==(const NamedPortMatch&) const = default;
};

struct EntityMatch {
  std::vector<net::CIDR> nets{};
  std::vector<net::CIDR> not_nets{};
  std::string selector{};                         // As written (validated); empty = absent.
  std::string not_selector{};                     // As written (validated); empty = absent.
  std::vector<PortRange> ports{};                 // Sorted, overlapping/adjacent ranges merged.
  std::vector<PortRange> not_ports{};             // Same.
  std::vector<NamedPortMatch> named_ports{};      // Names in `ports`, as written, unique.
  std::vector<NamedPortMatch> not_named_ports{};  // Names in `notPorts`, as written, unique.
  bool operator==(const EntityMatch&) const = default;
};

struct RuleIR {
  Action action = Action::kAllow;
  std::optional<int> ip_version{};        // From ipVersion only.
  std::optional<uint8_t> protocol{};      // Protocol number.
  std::optional<uint8_t> not_protocol{};  // Protocol number.
  std::optional<IcmpMatch> icmp{};
  std::optional<IcmpMatch> not_icmp{};
  EntityMatch source{};
  EntityMatch destination{};
  // The single family the rule is restricted to (ipVersion, CIDRs, ICMP/ICMPv6), or nullopt.
  std::optional<int> family{};
  // The rule has an `http` match, which is not enforced: as Felix without an L7 proxy, only the
  // rule's L3/L4 part is rendered (an Allow with an HTTP match allows every request to the port).
  bool http_match_ignored = false;
  bool operator==(const RuleIR&) const = default;
};

// Protocol number for a Calico Protocol value: a number 1..255, a numeric string, or one of the
// names TCP UDP ICMP ICMPv6 SCTP UDPLite (any case).
[[nodiscard]] Result<uint8_t> ParseProtocol(const Json& value);

[[nodiscard]] Result<RuleIR> ParseRule(const Json& rule);

struct RenderContext {
  // Comment attached to every produced rule, e.g. "policy default/allow-dns ingress #0".
  std::string comment{};
  // Resolves selector/notSelector matches to set names; required when the rule uses selectors.
  SetResolver resolve_set{};
  // Resolves named-port set ids to set names; required when the rule uses named ports.
  NamedPortSetResolver resolve_named_port_set{};
  MarkBits marks{};
  std::string log_prefix = "calico-packet";
};

// The rule bodies (what follows "add rule inet calico <chain> "), one per family needed.
[[nodiscard]] Result<std::vector<std::string>> RenderRule(const RuleIR& rule,
                                                          const RenderContext& ctx);

// ParseRule + RenderRule.
[[nodiscard]] Result<std::vector<std::string>> CompileRule(const Json& rule,
                                                           const RenderContext& ctx);

}  // namespace calico::policy
