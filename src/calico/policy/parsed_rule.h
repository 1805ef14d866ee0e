// A policy rule parsed once (Felix's ParsedRule: felix/calc/rule_convert.go, felix/proto Rule):
// every field checked and in the form the renderer matches on, so that rendering does no parsing
// and an invalid rule is reported when its policy arrives, naming the rule.
//
//   model::v3::Rule ──ParseRule──▶ ParsedRule ──(rule_compiler.h) RenderRule──▶ nft rule(s)
//
// ParseRule makes the checks Calico's validator makes on the fields the renderer relies on.
// Errors are kInvalidArgument (kUnsupported for fields this renderer cannot express yet:
// namespaceSelector, serviceAccounts, services; the calculation graph folds the first two into
// selectors before parsing) and always start with the field, e.g.
// "destination.ports[1]: port range invalid, port number must be between 1 and 65535".
// An `http` match is not an error: as Felix without an L7 proxy, it is ignored and the rule's
// L3/L4 part is enforced (ParsedRule::http_match_ignored says so, for the report).
//
// IP family: a rule is restricted to one family by ipVersion, by its CIDRs or by protocol
// ICMP (4) / ICMPv6 (6); conflicting sources are an error.
//
// ParsedRules holds the rules of one policy or profile direction behind a shared pointer: copies
// (every Model the calculation graph builds) share them, and the render cache recognises
// unchanged rules by pointer. A rule that failed to parse is kept as an error after the rules
// before it, so that rendering reports it where it always did (the policy's chain), while the
// calculation graph reports it as soon as the policy arrives.
//
// Thread-safety: values (ParsedRules' shared data is immutable).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "calico/base/result.h"
#include "calico/model/v3/policy.h"
#include "calico/net/ip.h"

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
  std::string selector_id{};                      // Its IP set id (selector::Selector::UniqueId()).
  std::string not_selector{};                     // As written (validated); empty = absent.
  std::string not_selector_id{};                  // Its IP set id.
  std::vector<PortRange> ports{};                 // Sorted, overlapping/adjacent ranges merged.
  std::vector<PortRange> not_ports{};             // Same.
  std::vector<NamedPortMatch> named_ports{};      // Names in `ports`, as written, unique.
  std::vector<NamedPortMatch> not_named_ports{};  // Names in `notPorts`, as written, unique.
  bool operator==(const EntityMatch&) const = default;
};

struct ParsedRule {
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
  bool operator==(const ParsedRule&) const = default;
};

// Protocol number for a Calico Protocol value: a number 1..255, a numeric string, or one of the
// names TCP UDP ICMP ICMPv6 SCTP UDPLite (any case).
[[nodiscard]] Result<uint8_t> ParseProtocol(const model::v3::Protocol& value);

[[nodiscard]] Result<ParsedRule> ParseRule(const model::v3::Rule& rule);
// model::v3::DecodeRule, then ParseRule (tests and tools that hold rules as JSON).
[[nodiscard]] Result<ParsedRule> ParseRule(const nlohmann::json& rule);

// The rules of one policy/profile direction, shared between copies (see above).
class ParsedRules {
 public:
  ParsedRules();
  // The rules as parsed; `error` (if any) is the parse error of rule number rules.size().
  explicit ParsedRules(std::vector<ParsedRule> rules, std::optional<Error> error = std::nullopt);
  // Tests and tools: [Rule] JSON, parsed rule by rule (a parse failure is kept, as above; a value
  // that is not a list is an error at index 0). NOLINTs: the model's JSON form reads like JSON.
  ParsedRules(const nlohmann::json& rules);              // NOLINT(google-explicit-constructor)
  ParsedRules(nlohmann::json::initializer_list_t init);  // NOLINT(google-explicit-constructor)

  // Parses every rule of `rules` (the calculation graph's path).
  static ParsedRules Parse(const std::vector<model::v3::Rule>& rules);

  const std::vector<ParsedRule>& rules() const { return data_->rules; }
  // The parse error of the rule after the last one in rules(), if one failed.
  const std::optional<Error>& error() const { return data_->error; }
  bool ok() const { return !data_->error.has_value(); }
  std::size_t size() const { return data_->rules.size(); }
  bool empty() const { return data_->rules.empty() && ok(); }
  const ParsedRule& operator[](std::size_t i) const { return data_->rules[i]; }
  std::vector<ParsedRule>::const_iterator begin() const { return data_->rules.begin(); }
  std::vector<ParsedRule>::const_iterator end() const { return data_->rules.end(); }

  // Same rules: the same shared data (the render cache's fast path), or equal contents.
  bool SameAs(const ParsedRules& other) const { return data_ == other.data_; }
  bool operator==(const ParsedRules& other) const {
    return data_ == other.data_ || *data_ == *other.data_;
  }

 private:
  struct Data {
    std::vector<ParsedRule> rules{};
    std::optional<Error> error{};
    bool operator==(const Data&) const = default;
  };
  std::shared_ptr<const Data> data_;
};

}  // namespace calico::policy
