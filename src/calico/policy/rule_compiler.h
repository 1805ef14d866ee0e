// Compiles one parsed policy rule (parsed_rule.h) into nftables rule statements
// (felix/rules/policy.go and the nftables match builder of felix/nftables, for an `inet` table):
//
//   RenderRule: ParsedRule -> one nft rule per IP family the rule needs, e.g.
//     meta nfproto ipv4 meta l4proto 6 ip saddr @cali40s-abc th dport { 80, 8000-8080 } counter
//       meta mark set meta mark | 0x10000 return comment "policy default/p ingress #0"
//
// IP family: a rule restricted to one family (ParsedRule::family) renders once for it. A rule
// that is not restricted but matches selectors or named ports (IP sets are per family) renders
// twice, IPv4 first, like Felix renders the rule into both its v4 and v6 chains. Otherwise one
// family-agnostic rule is produced.
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
// Thread-safety: pure functions (the resolvers are called on the calling thread).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/net/ip.h"
#include "calico/policy/parsed_rule.h"
#include "calico/policy/policy_model.h"

namespace calico::policy {

// Returns the nftables set name for a selector match (`field` e.g. "source.selector", `selector`
// the selector as written, `set_id` its IP set id, `family` 4 or 6).
using RuleSetResolver = std::function<Result<std::string>(
    std::string_view field, std::string_view selector, std::string_view set_id, int family)>;

struct RenderContext {
  // Comment attached to every produced rule, e.g. "policy default/allow-dns ingress #0".
  std::string comment{};
  // Resolves selector/notSelector matches to set names; required when the rule uses selectors.
  RuleSetResolver resolve_set{};
  // Resolves named-port set ids to set names; required when the rule uses named ports.
  NamedPortSetResolver resolve_named_port_set{};
  MarkBits marks{};
  std::string log_prefix = "calico-packet";
  // The verdict of Deny rules: "drop" or "reject" (RenderOptions::deny_action).
  std::string deny_verdict = "drop";
  // Flow logs (RenderOptions::flow_logs): the `log group N prefix "..."` statement put between
  // the counter and the verdict of an Allow, Deny or Pass rule; empty = none. Prefixes come from
  // flow_log_prefix.h: the caller gives the one for each action.
  std::string nflog_group{};  // e.g. "log group 1 prefix"; the prefix is made per action.
  std::function<std::string(Action)> nflog_prefix{};
};

// The rule bodies (what follows "add rule inet calico <chain> "), one per family needed.
[[nodiscard]] Result<std::vector<std::string>> RenderRule(const ParsedRule& rule,
                                                          const RenderContext& ctx);

// ParseRule + RenderRule, for tests and tools holding rules as JSON.
[[nodiscard]] Result<std::vector<std::string>> CompileRule(const Json& rule,
                                                           const RenderContext& ctx);

}  // namespace calico::policy
