// The input of the nftables policy renderer: a plain, already-resolved view of what Felix's
// calculation graph hands to its rule renderer (felix/calc -> felix/rules): local workload
// endpoints and local host endpoints with the tiers/policies that apply to them per direction,
// the policies and profiles themselves (their rules parsed once, parsed_rule.h) and the IP sets
// that selector matches refer to, with their members already computed by the caller.
//
//   Model m;
//   m.endpoints.push_back({.name = "ns1/pod-a", .interface_name = "cali1234567890a",
//                          .profiles = {"kns.ns1"},
//                          .ingress_tiers = {{.name = "default", .policies = {"allow-dns"}}}});
//   m.policies.push_back({.id = "allow-dns", .tier = "default", .ingress = parsed_rules});
//
// Staged policies are never rendered (Felix), so callers leave them out; a tier whose only
// matching policies are staged is left out as well (it passes).
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "calico/base/result.h"
#include "calico/net/ip.h"
#include "calico/policy/parsed_rule.h"

namespace calico::policy {

using Json = nlohmann::json;

// One tier as it applies to one endpoint in one direction: the policies of that tier whose
// selector matches the endpoint, in evaluation order (already sorted by order, then name).
struct TierRef {
  std::string name{};
  std::vector<std::string> policies{};  // Policy ids.
  // Tier defaultAction: true = Deny (Calico's default: drop at the end of the tier if no policy
  // allowed or passed), false = Pass (continue with the next tier).
  bool default_deny = true;

  bool operator==(const TierRef&) const = default;
};

struct Endpoint {
  std::string name{};                  // e.g. "ns1/pod-a" (only used in comments and errors).
  std::string interface_name{};        // Host side of the veth, e.g. "cali1234567890a".
  std::vector<net::CIDR> addresses{};  // IPv4 and IPv6 addresses (/32, /128) of the workload.
  std::map<std::string, std::string> labels{};
  std::vector<std::string> profiles{};   // Profile ids, in evaluation order.
  std::vector<TierRef> ingress_tiers{};  // To the workload (cali-tw-<iface>).
  std::vector<TierRef> egress_tiers{};   // From the workload (cali-fw-<iface>).
  // Source prefixes the workload may send from besides its own addresses (WorkloadEndpoint
  // spec.allowSpoofedSourcePrefixes, from the pod annotation
  // cni.projectcalico.org/allowedSourcePrefixes): exempt from the reverse-path check. Rendered only
  // with RenderOptions::workload_source_spoofing; without it the endpoint is refused.
  std::vector<net::CIDR> allowed_source_prefixes{};

  bool operator==(const Endpoint&) const = default;
};

// A host endpoint (HostEndpoint resource of this node) bound to one host interface, or to all of
// them ("*"). Directions are from the host's point of view (Felix): ingress = packets arriving
// from the interface (cali-fh-<iface>), egress = packets leaving through it (cali-th-<iface>).
// The calculation graph also emits host endpoints with only expectedIPs (interface_name empty);
// ResolveHostEndpoints() binds those to the interfaces carrying the addresses before rendering.
struct HostEndpoint {
  std::string name{};            // HostEndpoint resource name (comments and errors).
  std::string interface_name{};  // "eth0", "*" = every host interface, "" = by expected_ips.
  std::vector<net::CIDR> expected_ips{};  // spec.expectedIPs as /32 or /128.
  std::map<std::string, std::string> labels{};
  std::vector<std::string> profiles{};
  // Normal policies (filter hooks input/output): cali-fh-<iface> / cali-th-<iface>.
  std::vector<TierRef> ingress_tiers{};
  std::vector<TierRef> egress_tiers{};
  // applyOnForward policies, for forwarded traffic: cali-fhfw-<iface> / cali-thfw-<iface>.
  std::vector<TierRef> forward_ingress_tiers{};
  std::vector<TierRef> forward_egress_tiers{};
  // preDNAT policies (ingress only; prerouting at mangle priority, before DNAT).
  std::vector<TierRef> pre_dnat_ingress_tiers{};
  // doNotTrack policies (prerouting/output at raw priority; allowed packets are not tracked).
  std::vector<TierRef> untracked_ingress_tiers{};
  std::vector<TierRef> untracked_egress_tiers{};

  bool operator==(const HostEndpoint&) const = default;
};

// The pseudo interface name of a host endpoint for all host interfaces.
inline constexpr std::string_view kAllInterfaces = "*";

struct Policy {
  std::string id{};       // Unique; e.g. "default.allow-dns" or "ns1/knp.default.allow".
  std::string tier{};     // The tier the policy belongs to.
  ParsedRules ingress{};  // Parsed once, shared by every copy of the model (parsed_rule.h).
  ParsedRules egress{};
  // The v3 kind ("GlobalNetworkPolicy", "NetworkPolicy", ...); only flow-log prefixes use it
  // (flow_log_prefix.h). Empty: derived from the id.
  std::string kind{};

  bool operator==(const Policy&) const = default;
};

struct Profile {
  std::string id{};  // e.g. "kns.ns1", "projectcalico-default-allow".
  ParsedRules ingress{};
  ParsedRules egress{};

  bool operator==(const Profile&) const = default;
};

// One member of a named-port IP set: an endpoint address with one of its ports.
struct IpPortMember {
  net::IPAddr addr{};
  uint8_t protocol = 6;  // 6 (TCP), 17 (UDP) or 132 (SCTP).
  uint16_t port = 0;

  auto operator<=>(const IpPortMember&) const = default;
};

// A set of addresses that a selector (or anything else the caller names) stands for. Members of
// both families may be mixed; the renderer emits one nftables set per family.
//
// A named-port set (named_port non-empty; Felix's IP_AND_PORT sets, named_ports.h) holds
// (address, protocol, port) members in `port_members` instead and renders as an nftables set of
// type `ipv4_addr . inet_proto . inet_service` (ipv6_addr for v6).
struct IpSet {
  // Calico's set id: for selector sets "s:" + base64url(SHA-224("s:" + canonical selector)), i.e.
  // selector::Selector::UniqueId(); for named-port sets NamedPortSetId(). May be left empty when
  // `selector` is given (or, for a named-port set, to mean all()).
  std::string id{};
  std::string selector{};  // Optional: the selector the members were computed for.
  std::vector<net::CIDR> members{};
  std::string named_port{};                  // The port name; empty for address sets.
  uint8_t named_port_protocol = 6;           // 6, 17 or 132 (named-port sets only).
  std::vector<IpPortMember> port_members{};  // Named-port sets only.

  bool is_named_port() const { return !named_port.empty(); }
  bool operator==(const IpSet&) const = default;
};

struct Model {
  std::vector<Endpoint> endpoints{};
  std::vector<HostEndpoint> host_endpoints{};
  std::vector<Policy> policies{};
  std::vector<Profile> profiles{};
  std::vector<IpSet> ip_sets{};

  bool operator==(const Model&) const = default;
};

// What the INPUT hook does with workload-to-host traffic after the workload's egress policy
// allowed it (FelixConfiguration defaultEndpointToHostAction).
enum class EndpointToHostAction { kDrop, kAccept, kReturn };

// Calico's mark bits (reference 3.3; defaults for mark mask 0xffff0000).
struct MarkBits {
  uint32_t accept = 0x10000;
  uint32_t pass = 0x20000;

  bool operator==(const MarkBits&) const = default;
};

// Returns the nftables set name for a selector match (`field` is e.g. "source.selector", used in
// errors; `family` is 4 or 6). The renderer's default looks the selector's UniqueId() up in
// Model::ip_sets.
using SetResolver = std::function<Result<std::string>(std::string_view field,
                                                      std::string_view selector, int family)>;

// Returns the nftables set name for a named-port match (`field` is e.g. "destination.ports";
// `set_id` the named-port set's id, NamedPortSetId(); `family` 4 or 6). The renderer's default
// looks the id up in Model::ip_sets.
using NamedPortSetResolver =
    std::function<Result<std::string>(std::string_view field, std::string_view set_id, int family)>;

}  // namespace calico::policy
