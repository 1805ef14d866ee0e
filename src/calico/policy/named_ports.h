// Named ports in policy rules (felix/calc/rule_scanner.go, felix/labelindex/named_port_index.go;
// reference 3.1 and 3.5): the ids and contents of Felix's named-port IP sets, shared by the
// calculation graph (which computes the sets) and the rule compiler (which matches on them).
//
// A rule may name ports (`destination: {ports: ["http"]}`); a name refers to the `spec.ports`
// entries ({name, protocol, port}) of WorkloadEndpoints and HostEndpoints. Each (selector,
// protocol, port name) a rule uses becomes one IP set whose members are (address, protocol, port)
// for every endpoint matching the selector that has a port of that name and protocol:
//  * protocol: the rule's protocol when it is UDP or SCTP, otherwise TCP (also when the rule has
//    no protocol, which Calico allows for named ports);
//  * selector: the rule side's selector with its notSelector folded in, "(<s>) && (!(<n>))"
//    (Felix's combineMatchesIfPossible), or all() when the side has no selector. notPorts names
//    use the same (positive) selector;
//  * id: "n:" + base64url(SHA-224("n:" + <selector UniqueId> + "," + <tcp|udp|sctp> + "," +
//    <name>)), so the nftables set is "cali40n-..." / "cali60n-...".
// Positive `ports` are an OR of the numeric ports and each named port: a rule renders once for the
// numeric ports and once per named port. The named-port alternatives do not match the side's
// selector/notSelector sets again (the named-port set is already filtered by them), so those
// selector sets are only needed when the side has numeric ports or no named ports (and the
// notSelector set also when the side has no selector), as in Felix.
//
//   auto sel = NamedPortSelector("app == 'db'", "");
//   NamedPortSetId(*sel, kProtoTcp, "http");   // "n:..."
//   ScanRuleIpSets(parsed_rule);               // selector + named-port sets a rule needs
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/policy/parsed_rule.h"
#include "calico/selector/selector.h"

namespace calico::policy {

inline constexpr uint8_t kNamedPortTcp = 6;
inline constexpr uint8_t kNamedPortUdp = 17;
inline constexpr uint8_t kNamedPortSctp = 132;

// True if `text` is a port name: ^[a-zA-Z0-9_.-]{1,128}$ and not a number or a "a:b" range.
bool IsPortName(std::string_view text);

// The protocol of a rule's named-port sets: 17 (UDP) or 132 (SCTP) when the rule's protocol says
// so, otherwise 6 (TCP).
uint8_t NamedPortProtocol(std::optional<uint8_t> rule_protocol);

// "tcp", "udp", "sctp"; other numbers as decimal text.
std::string NamedPortProtocolName(uint8_t protocol);

// 6 / 17 / 132 for "tcp" / "udp" / "sctp" in any case; nullopt otherwise.
std::optional<uint8_t> ParseNamedPortProtocol(std::string_view text);

// The selector of a rule side's named-port sets (see above). Blank texts count as absent.
// Errors: a selector that does not parse (kInvalidArgument).
[[nodiscard]] Result<selector::Selector> NamedPortSelector(std::string_view selector,
                                                           std::string_view not_selector);

// Felix's named-port IP set id.
std::string NamedPortSetId(const selector::Selector& sel, uint8_t protocol,
                           std::string_view port_name);

// One named-port IP set a rule refers to.
struct NamedPortSetDef {
  std::string id{};
  selector::Selector selector = selector::Selector::All();
  uint8_t protocol = kNamedPortTcp;
  std::string port{};  // The port name.
};

// The IP sets one parsed rule needs once rendered (Felix's RuleScanner): the selector texts (as
// written, for selector sets keyed by their UniqueId) and the named-port sets, each once.
struct RuleIpSets {
  std::vector<std::string> selectors{};
  std::vector<NamedPortSetDef> named_ports{};
};
RuleIpSets ScanRuleIpSets(const ParsedRule& rule);

}  // namespace calico::policy
