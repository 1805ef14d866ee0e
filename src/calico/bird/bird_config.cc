// Reproduces confd's BIRD templates (node/filesystem/etc/calico/confd/templates: bird.cfg,
// bird_ipam.cfg, bird_aggr.cfg and their bird6 twins) and what confd computes for them in Go
// (confd/pkg/backends/calico/bgp_processor.go GetBirdBGPConfig, buildImportFilter,
// buildExportFilter; confd/pkg/resource/template/template_funcs.go BGPFilterBIRDFuncs) for
// upstream BIRD 2; see bird_config.h for where the output differs and why.
// Size: over 700 lines because it renders the whole of confd's bird.cfg/bird_ipam.cfg/bird_aggr.cfg
// (v4 and v6) in template order, so that a diff against upstream's templates reads top to bottom.
#include "calico/bird/bird_config.h"

#include <algorithm>
#include <cctype>
#include <compare>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "calico/base/numbers.h"
#include "calico/net/ip.h"
#include "calico/selector/unique_id.h"

namespace calico::bird {
namespace {

using model::v3::BGPFilter;
using model::v3::BGPFilterAction;
using model::v3::BGPFilterMatchOperator;
using model::v3::BGPFilterPeerType;
using model::v3::BGPFilterRule;

// TCP_MD5SIG_MAXKEYLEN.
constexpr size_t kMaxPasswordLength = 80;
// Metric and LOCAL_PREF are mirrored around INT32_MAX (template_funcs.go BirdIntMaxValue).
constexpr uint32_t kMaxMetric = 2147483647;
// `preference` of an imported route that must beat a local workload route (bgp_processor.go
// birdOverridePreference).
constexpr int kOverridePreference = 200;
// BIRD's symbol length limit, and the 16 hex digits of SHA-256 a long filter name keeps
// (confd/pkg/resource/template/util.go TruncateAndHashName).
constexpr size_t kMaxBirdSymbol = 64;
constexpr size_t kHashChars = 16;

std::optional<net::IPAddr> ParseFamily(std::string_view text, int family) {
  auto ip = net::IPAddr::Parse(text);
  if (!ip || ip->family() != family) return std::nullopt;
  return ip;
}

std::optional<net::CIDR> ParseMaskedCIDR(std::string_view text) {
  auto cidr = net::CIDR::Parse(text);
  if (!cidr || !cidr->IsStrictlyMasked()) return std::nullopt;
  return cidr;
}

// Comments carry names from the datastore: keep them on one line.
std::string SafeComment(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

Status CheckPassword(std::string_view password, std::string_view field) {
  if (password.size() > kMaxPasswordLength) {
    return InvalidArgument(fmt::format("{}: longer than {} bytes", field, kMaxPasswordLength));
  }
  for (char c : password) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      return InvalidArgument(
          fmt::format("{}: only printable ASCII without '\"' and '\\' can be written", field));
    }
  }
  return OkStatus();
}

Status CheckAddress(std::string_view text, int family, std::string_view field) {
  if (!ParseFamily(text, family)) {
    return InvalidArgument(
        fmt::format("{}: \"{}\" is not an IPv{} address", field, SafeComment(text), family));
  }
  return OkStatus();
}

// An interface pattern written inside "..." (ignoredInterfaces, BGPFilter interface): the
// validator's [a-zA-Z0-9_.*-] characters only.
Status CheckInterfacePattern(std::string_view pattern, std::string_view field) {
  if (pattern.empty() || pattern.size() > 15) {
    return InvalidArgument(
        fmt::format("{}: \"{}\" is not an interface name pattern (1-15 characters)", field,
                    SafeComment(pattern)));
  }
  for (char c : pattern) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '*' &&
        c != '-') {
      return InvalidArgument(fmt::format("{}: \"{}\" may only contain letters, digits and _.*-",
                                         field, SafeComment(pattern)));
    }
  }
  return OkStatus();
}

// "65000:100" -> {"65000", "100"}; "1:2:3" -> three parts; anything else -> empty.
std::vector<std::string> CommunityParts(std::string_view value) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : value) {
    if (c == ':') {
      parts.push_back(cur);
      cur.clear();
    } else if (c >= '0' && c <= '9' && cur.size() < 10) {
      cur += c;
    } else {
      return {};
    }
  }
  parts.push_back(cur);
  if (parts.size() != 2 && parts.size() != 3) return {};
  const uint64_t max = parts.size() == 2 ? 0xffff : 0xffffffffULL;
  for (const std::string& p : parts) {
    const Result<uint64_t> v = ParseInt<uint64_t>(p);
    if (!v || *v > max) return {};
  }
  return parts;
}

Status CheckCommunity(std::string_view value, std::string_view field) {
  if (CommunityParts(value).empty()) {
    return InvalidArgument(fmt::format(
        "{}: \"{}\" is not a community (aa:nn with 16-bit parts, or aa:nn:mm with 32-bit parts)",
        field, SafeComment(value)));
  }
  return OkStatus();
}

// bgp_community.add((a, b)); or bgp_large_community.add((a, b, c));
std::string CommunityAdd(std::string_view value) {
  const auto parts = CommunityParts(value);
  if (parts.size() == 2) return fmt::format("bgp_community.add(({}, {}));", parts[0], parts[1]);
  return fmt::format("bgp_large_community.add(({}, {}, {}));", parts[0], parts[1], parts[2]);
}

// "10.192.0.3" -> "10_192_0_3", "fd00::3" -> "fd00__3" (Calico's protocol names).
std::string IPToName(const net::IPAddr& ip) {
  std::string name = ip.String();
  std::replace(name.begin(), name.end(), '.', '_');
  std::replace(name.begin(), name.end(), ':', '_');
  return name;
}

std::string PeerName(std::string_view prefix, const net::IPAddr& ip, uint16_t port) {
  std::string name = fmt::format("{}_{}", prefix, IPToName(ip));
  if (port != kDefaultBgpPort) name += fmt::format("_port_{}", port);
  return name;
}

bool ValidFilterName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

// 'bgp_<name>_importFilterV4', the name shortened to fit BIRD's 64-character symbols as confd does
// (TruncateAndHashName: a prefix of the name, "_", 16 upper-case hex digits of its SHA-256).
std::string FilterFunctionName(std::string_view filter, std::string_view direction, int family) {
  const std::string suffix = fmt::format("_{}FilterV{}", direction, family);
  const size_t room = kMaxBirdSymbol - std::string_view("bgp_").size() - suffix.size();
  std::string name(filter);
  if (name.size() > room) {
    const auto digest = selector::Sha256(filter);
    std::string hex;
    for (uint8_t b : digest)
      hex += fmt::format("{:02X}", b);
    name = name.substr(0, room - kHashChars - 1) + "_" + hex.substr(0, kHashChars);
  }
  return fmt::format("'bgp_{}{}'", name, suffix);
}

const std::vector<BGPFilterRule>& FilterRules(const BGPFilter& filter, std::string_view direction,
                                              int family) {
  if (direction == "import") return family == 4 ? filter.spec.import_v4 : filter.spec.import_v6;
  return family == 4 ? filter.spec.export_v4 : filter.spec.export_v6;
}

bool HasPeerType(const std::vector<BGPFilterRule>& rules) {
  return std::any_of(rules.begin(), rules.end(),
                     [](const BGPFilterRule& r) { return r.peer_type.has_value(); });
}

std::string_view OperatorText(BGPFilterMatchOperator op) {
  switch (op) {
    case BGPFilterMatchOperator::kEqual:
      return "=";
    case BGPFilterMatchOperator::kNotEqual:
      return "!=";
    case BGPFilterMatchOperator::kIn:
      return "~";
    case BGPFilterMatchOperator::kNotIn:
      return "!~";
  }
  return "~";
}

// template_funcs.go filterStatement: the rule's conditions joined with &&, then its operations and
// action; wrapped in the peer-type guard when it has one.
std::string FilterStatement(const BGPFilterRule& rule, int family) {
  std::vector<std::string> conditions;
  if (!rule.cidr.empty() && rule.match_operator) {
    std::string target = rule.cidr;
    if (rule.prefix_length) {
      auto cidr = net::CIDR::Parse(rule.cidr);
      int min = cidr ? cidr->prefix_len() : 0;
      int max = family == 4 ? 32 : 128;
      if (rule.prefix_length->min) min = std::max(min, *rule.prefix_length->min);
      if (rule.prefix_length->max) max = std::min(max, *rule.prefix_length->max);
      target = fmt::format("[ {}{{{},{}}} ]", rule.cidr, min, max);
    }
    conditions.push_back(fmt::format("(net {} {})", OperatorText(*rule.match_operator), target));
  }
  if (rule.source_remote_peers) {
    conditions.emplace_back("((defined(source))&&(source ~ [ RTS_BGP ]))");
  }
  if (!rule.interface.empty()) {
    conditions.push_back(fmt::format("((defined(ifname))&&(ifname ~ \"{}\"))", rule.interface));
  }
  if (!rule.communities.empty()) {
    const auto parts = CommunityParts(rule.communities.front());
    if (parts.size() == 2) {
      conditions.push_back(fmt::format("(({}, {}) ~ bgp_community)", parts[0], parts[1]));
    } else {
      conditions.push_back(
          fmt::format("(({}, {}, {}) ~ bgp_large_community)", parts[0], parts[1], parts[2]));
    }
  }
  if (!rule.as_path_prefix.empty()) {
    std::string path;
    for (uint32_t asn : rule.as_path_prefix)
      path += fmt::format("{} ", asn);
    conditions.push_back(fmt::format("(bgp_path ~ [= {}* =])", path));
  }
  if (rule.priority) {
    conditions.push_back(fmt::format("(defined(bgp_local_pref)&&(bgp_local_pref = {}))",
                                     kMaxMetric - static_cast<uint32_t>(*rule.priority)));
  }
  std::vector<std::string> body;
  for (const auto& op : rule.operations) {
    if (op.add_community) {
      body.push_back(CommunityAdd(*op.add_community));
    } else if (!op.prepend_as_path.empty()) {
      // BIRD prepends one AS at a time, so the last one prepended ends up first.
      for (auto it = op.prepend_as_path.rbegin(); it != op.prepend_as_path.rend(); ++it) {
        body.push_back(fmt::format("bgp_path.prepend({});", *it));
      }
    } else if (op.set_priority) {
      body.push_back(fmt::format("bgp_local_pref = {};",
                                 kMaxMetric - static_cast<uint32_t>(*op.set_priority)));
    }
  }
  body.emplace_back(rule.action == BGPFilterAction::kAccept ? "accept;" : "reject;");
  std::string joined_body;
  for (const auto& b : body)
    joined_body += (joined_body.empty() ? "" : " ") + b;
  std::string statement = joined_body;
  if (!conditions.empty()) {
    std::string joined;
    for (const auto& c : conditions)
      joined += (joined.empty() ? "" : "&&") + c;
    statement = fmt::format("if ({}) then {{ {} }}", joined, joined_body);
  }
  if (rule.peer_type == BGPFilterPeerType::kIBGP) {
    statement = fmt::format("if (is_same_as) then {{ {} }}", statement);
  } else if (rule.peer_type == BGPFilterPeerType::kEBGP) {
    statement = fmt::format("if (!is_same_as) then {{ {} }}", statement);
  }
  return statement;
}

// One `protocol bgp`, or a comment explaining why a candidate peering is not configured.
struct Session {
  std::string name;
  std::string skip_reason;  // Non-empty: rendered as a comment only.
  std::string comment;
  int family = 4;
  std::string local_ip;  // Empty: no source address.
  uint16_t local_port = kDefaultBgpPort;
  uint32_t local_as = kDefaultASNumber;
  std::string neighbor_ip;
  uint16_t neighbor_port = kDefaultBgpPort;
  uint32_t neighbor_as = kDefaultASNumber;
  bool passive = false;
  std::string password;
  std::string rr_cluster_id;  // Non-empty: the neighbor is our route-reflector client.
  bool next_hop_self = false;
  bool next_hop_keep = false;
  bool bfd = false;
  std::optional<uint32_t> restart_time;
  std::optional<uint32_t> keepalive_time;
  uint8_t ttl_security = 0;
  uint32_t allow_local_as = 0;
  std::vector<std::string> filters;

  // Name first, so sorting gives Calico's order; the rest only breaks ties between duplicates.
  // (clang-tidy 14 misreads the defaulted <=> as a literal 0 compared to a pointer.)
  auto operator<=>(const Session&) const = default;  // NOLINT(modernize-use-nullptr)
};

struct LocalAddresses {
  std::optional<net::IPAddr> v4;
  std::optional<net::IPAddr> v6;

  const std::optional<net::IPAddr>& For(int family) const { return family == 4 ? v4 : v6; }
};

// Exactly one side of a peering between two calico nodes initiates: the one with the smaller
// address, compared as strings as Calico does.
bool IsPassive(const net::IPAddr& local, const net::IPAddr& remote) {
  return remote.String() > local.String();
}

void AddMeshSessions(const BirdInput& input, const LocalAddresses& local,
                     std::vector<Session>& sessions) {
  for (const PeerNode& node : input.nodes) {
    for (int family : {4, 6}) {
      const std::string& text = family == 4 ? node.ipv4 : node.ipv6;
      const auto& own = local.For(family);
      if (text.empty() || !own) continue;
      auto ip = ParseFamily(text, family);
      Session s;
      s.family = family;
      s.comment = fmt::format("Node {}", SafeComment(node.name));
      if (!ip) {
        s.name = fmt::format("Mesh_{}", SafeComment(text));
        s.skip_reason = "address does not parse";
        sessions.push_back(std::move(s));
        continue;
      }
      s.name = PeerName("Mesh", *ip, kDefaultBgpPort);
      if (*ip == *own || node.name == input.node_name) {
        s.skip_reason = "this node";
      } else if (!node.rr_cluster_id.empty()) {
        s.skip_reason = "route reflector, not part of the mesh";
      }
      s.local_ip = own->String();
      s.local_port = input.listen_port;
      s.local_as = input.as_number;
      s.neighbor_ip = ip->String();
      s.neighbor_port = node.listen_port;
      s.neighbor_as = node.as_number;
      s.passive = IsPassive(*own, *ip);
      s.password = input.mesh_password;
      s.restart_time = input.mesh_restart_time;
      s.bfd = input.bfd;
      sessions.push_back(std::move(s));
    }
  }
}

std::string_view ScopePrefix(PeerScope scope) {
  switch (scope) {
    case PeerScope::kGlobal:
      return "Global";
    case PeerScope::kNode:
      return "Node";
    case PeerScope::kLocalWorkload:
      return "Local_Workload";
  }
  return "Node";
}

void AddExplicitSessions(const BirdInput& input, const LocalAddresses& local,
                         std::vector<Session>& sessions) {
  for (const BgpPeer& peer : input.peers) {
    const std::string_view prefix = ScopePrefix(peer.scope);
    auto ip = net::IPAddr::Parse(peer.peer_ip);
    Session s;
    s.comment = peer.origin.empty() ? fmt::format("{} BGPPeer", prefix) : SafeComment(peer.origin);
    if (!ip) {
      s.name = fmt::format("{}_{}", prefix, SafeComment(peer.peer_ip));
      s.skip_reason = "address does not parse";
      sessions.push_back(std::move(s));
      continue;
    }
    s.family = ip->family();
    s.name = PeerName(prefix, *ip, peer.port);
    const auto& own = local.For(s.family);
    if (!own) {
      s.skip_reason = fmt::format("this node has no IPv{} address", s.family);
      sessions.push_back(std::move(s));
      continue;
    }
    if (*ip == *own) s.skip_reason = "this node";
    if (peer.source_address == SourceAddress::kUseNodeIP) s.local_ip = own->String();
    s.local_port = input.listen_port;
    s.local_as = peer.local_as_number.value_or(input.as_number);
    s.neighbor_ip = ip->String();
    s.neighbor_port = peer.port;
    s.neighbor_as = peer.as_number;
    s.passive = peer.passive || (peer.calico_node && IsPassive(*own, *ip));
    s.password = peer.password;
    // bgp_processor.go buildPeerFromData: iBGP is decided against the AS this node presents.
    const bool ibgp = peer.as_number == s.local_as;
    if (!input.rr_cluster_id.empty() && ibgp && peer.rr_cluster_id != input.rr_cluster_id) {
      s.rr_cluster_id = input.rr_cluster_id;
    }
    if (peer.next_hop_mode == NextHopMode::kSelf) s.next_hop_self = true;
    if (peer.next_hop_mode == NextHopMode::kKeep) s.next_hop_keep = true;
    if (!peer.next_hop_mode && peer.keep_original_next_hop && !ibgp) s.next_hop_keep = true;
    s.restart_time = peer.restart_time;
    s.keepalive_time = peer.keepalive_time;
    s.ttl_security = peer.ttl_security;
    s.allow_local_as = peer.num_allow_local_as;
    s.filters = peer.filters;
    s.bfd = input.bfd;
    sessions.push_back(std::move(s));
  }
}

// Sorted by name; a node-specific peering that a global one already covers becomes a comment.
// (Two peerings with the same name are refused by ValidateBirdInput.)
std::vector<Session> BuildSessions(const BirdInput& input, const LocalAddresses& local) {
  std::vector<Session> sessions;
  if (input.node_to_node_mesh && input.rr_cluster_id.empty()) {
    AddMeshSessions(input, local, sessions);
  }
  AddExplicitSessions(input, local, sessions);
  std::sort(sessions.begin(), sessions.end());

  std::set<std::string> configured;
  for (const Session& s : sessions) {
    if (s.skip_reason.empty()) configured.insert(s.name);
  }
  for (Session& s : sessions) {
    if (!s.skip_reason.empty()) continue;
    if (s.name.starts_with("Node_") &&
        configured.contains("Global_" + s.name.substr(std::string_view("Node_").size()))) {
      s.skip_reason = "duplicates a global peering";
    }
  }
  return sessions;
}

struct ParsedPool {
  net::CIDR cidr;
  const IPPool* pool = nullptr;

  bool operator<(const ParsedPool& other) const { return cidr < other.cidr; }
};

std::string_view EncapName(EncapMode mode) {
  switch (mode) {
    case EncapMode::kNever:
      return "Never";
    case EncapMode::kAlways:
      return "Always";
    case EncapMode::kCrossSubnet:
      return "CrossSubnet";
  }
  return "Never";
}

std::vector<net::CIDR> SortedCIDRs(const std::vector<std::string>& texts) {
  std::set<net::CIDR> set;
  for (const std::string& text : texts) {
    if (auto cidr = ParseMaskedCIDR(text)) set.insert(*cidr);
  }
  return {set.begin(), set.end()};
}

class Renderer {
 public:
  explicit Renderer(const BirdInput& input) : input_(input) {
    if (!input.ipv4.empty()) local_.v4 = ParseFamily(input.ipv4, 4);
    if (!input.ipv6.empty()) local_.v6 = ParseFamily(input.ipv6, 6);
    for (const IPPool& pool : input.pools) {
      if (auto cidr = ParseMaskedCIDR(pool.cidr)) pools_.push_back({*cidr, &pool});
    }
    std::sort(pools_.begin(), pools_.end());
    blocks_ = SortedCIDRs(input.blocks);
    static_routes_ = SortedCIDRs(input.static_routes);
    reject_cidrs_ = SortedCIDRs(input.reject_cidrs);
    for (const auto& filter : input.filters) {
      if (ValidFilterName(filter.name)) filters_.emplace(filter.name, &filter);
    }
    std::string severity = input.log_severity;
    for (char& c : severity)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // confd's getLogSeverityKVPair + GetBirdBGPConfig: debug and info are kept, anything else
    // means no debug output.
    if (severity == "debug") {
      debug_ = "all";
      peer_debug_ = "debug all;";
    } else if (severity.empty() || severity == "info") {
      debug_ = "{ states }";
      peer_debug_ = "debug { states, routes, filters, events };";
    }
  }

  std::string Render() {
    Line("# BIRD 2 configuration for calico node {}, generated by calico-node.",
         SafeComment(input_.node_name));
    Line("# Rewritten on every datastore change: do not edit.");
    for (const std::string& note : input_.notes) {
      Line("# Note: {}", SafeComment(note));
    }
    Line("");
    if (auto id = ParseFamily(input_.router_id, 4)) {
      Line("router id {};", id->String());
    } else {
      Line("# Router ID \"{}\" is not an IPv4 address.", SafeComment(input_.router_id));
    }
    Line("");
    RenderAggr();
    RenderCommunities();
    RenderIpamFilters();
    RenderBaseProtocols();
    RenderBgpFilters();
    RenderBgp();
    return std::move(out_);
  }

 private:
  template <typename... Args>
  void Line(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(std::back_inserter(out_), format, std::forward<Args>(args)...);
    out_ += '\n';
  }

  bool HasFamily(int family) const { return local_.For(family).has_value(); }
  // IPv4 tables always exist (Calico always runs the IPv4 daemon); IPv6 ones with an IPv6 address.
  std::vector<int> Families() const {
    if (HasFamily(6)) return {4, 6};
    return {4};
  }
  uint32_t Priority(int family) const {
    return family == 4 ? input_.normal_route_priority_v4 : input_.normal_route_priority_v6;
  }

  // bird_aggr.cfg: a blackhole for each owned block, so the block is in the table to be advertised
  // (and the kernel drops traffic to its unallocated addresses); the service ranges this node
  // advertises; a /32 (/128) route to each peer with reachableBy; and calico_aggr, which
  // advertises each block as exactly that aggregate.
  void RenderAggr() {
    Line("# ---- Own IPAM blocks, service ranges and peer routes (bird_aggr) ----");
    for (int family : Families()) {
      std::vector<std::string> blocks;
      for (const net::CIDR& block : blocks_) {
        if (block.family() == family && block.prefix_len() != block.addr().bit_len()) {
          blocks.push_back(block.String());
        }
      }
      std::vector<std::string> services;
      for (const net::CIDR& cidr : static_routes_) {
        if (cidr.family() == family) services.push_back(cidr.String());
      }
      std::set<std::pair<std::string, std::string>> reach;
      for (const BgpPeer& peer : input_.peers) {
        auto ip = ParseFamily(peer.peer_ip, family);
        auto gw = ParseFamily(peer.reachable_by, family);
        if (ip && gw) reach.emplace(ip->String(), gw->String());
      }
      if (blocks.empty() && services.empty() && reach.empty()) continue;
      Line("protocol static static_v{} {{", family);
      Line("  ipv{};", family);
      if (!blocks.empty()) Line("  # IP blocks for this host.");
      for (const std::string& block : blocks)
        Line("  route {} blackhole;", block);
      if (!services.empty()) Line("  # Service address ranges advertised from this host.");
      for (const std::string& cidr : services)
        Line("  route {} blackhole;", cidr);
      if (!reach.empty()) Line("  # Static routes needed for BGP peers (reachableBy).");
      for (const auto& [ip, gw] : reach) {
        Line("  route {}/{} via {};", ip, family == 4 ? 32 : 128, gw);
      }
      Line("}}");
      Line("");
    }
    Line("function calico_aggr() {{");
    for (const net::CIDR& block : blocks_) {
      const std::string cidr = block.String();
      Line("  # Block {}: the aggregate, and single addresses only at elevated priority.", cidr);
      Line("  if ( net = {} ) then {{ accept; }}", cidr);
      Line("  if ( net ~ {} && defined(krt_metric) && krt_metric < {} ) then {{ accept; }}", cidr,
           Priority(block.family()));
      Line("  if ( net ~ {} ) then {{ reject; }}", cidr);
    }
    Line("}}");
    Line("");
  }

  // bird.cfg apply_communities: BGPConfiguration prefixAdvertisements.
  void RenderCommunities() {
    Line("# ---- Communities (prefixAdvertisements) ----");
    Line("function apply_communities() {{");
    for (const CommunityRule& rule : input_.communities) {
      auto cidr = ParseMaskedCIDR(rule.cidr);
      if (!cidr || rule.communities.empty()) continue;
      Line("  if ( net ~ {} ) then {{", cidr->String());
      for (const std::string& value : rule.communities) {
        Line("    {}", CommunityAdd(value));
      }
      Line("  }}");
    }
    Line("}}");
    Line("");
  }

  // bgp_processor.go clusterRoutePolicy: does BIRD program this pool's routes into the kernel?
  // (Upstream BIRD 2 cannot program IPIP routes, so IPIP pools are Felix's whatever it says.)
  bool BirdProgramsNoEncap() const {
    return input_.program_cluster_routes == ProgramClusterRoutes::kEnabled ||
           input_.program_cluster_routes == ProgramClusterRoutes::kEnabledNoEncapOnly;
  }

  // bird_ipam.cfg: what goes to BGP peers and what goes into the kernel.
  void RenderIpamFilters() {
    Line("# ---- IP pools (bird_ipam) ----");
    for (const ParsedPool& p : pools_) {
      Line("# Pool {}: ipipMode={} vxlanMode={} natOutgoing={}{}{}", p.cidr.String(),
           EncapName(p.pool->ipip_mode), EncapName(p.pool->vxlan_mode), p.pool->nat_outgoing,
           p.pool->disabled ? " disabled" : "",
           p.pool->disable_bgp_export ? " disableBGPExport" : "");
    }
    Line("function reject_local_routes() {{");
    Line("  if (defined(ifname)) then {{ if (ifname ~ \"bpf*.cali\") then reject; }}");
    Line("}}");
    Line("");

    Line("function calico_export_to_bgp_peers(bool internal_peer) {{");
    for (const ParsedPool& p : pools_) {
      if (p.pool->disable_bgp_export) {
        Line("  if ( net ~ {} ) then {{ reject; }} # BGP export is disabled.", p.cidr.String());
      }
    }
    // Routes through Calico's own devices (vxlan.calico, wireguard.cali and tunl0, all
    // programmed by Felix here) are kernel copies of other nodes' routes, learned back by the
    // kernel protocol; iBGP peers learn those from their origin. Workload routes (cali*) stay
    // exportable: borrowed addresses are advertised as /32s.
    Line("  if (internal_peer) then {{");
    Line("    if (defined(ifname)) then {{");
    Line(
        R"(      if ((ifname ~ "*.cali") || (ifname ~ "*.calico") || (ifname ~ "tunl0")) then {{ reject; }})");
    Line("    }}");
    Line("  }}");
    Line("  reject_local_routes();");
    Line("  apply_communities();");
    Line("  calico_aggr();");
    if (!static_routes_.empty()) Line("  # Service address ranges advertised from this host.");
    for (const net::CIDR& cidr : static_routes_) {
      Line("  if ( net ~ {} ) then {{ accept; }}", cidr.String());
    }
    if (!input_.rr_cluster_id.empty()) {
      for (const auto& [what, list] : {std::pair<const char*, const std::vector<std::string>*>{
                                           "LoadBalancer", &input_.service_load_balancer_ips},
                                       {"external", &input_.service_external_ips}}) {
        std::vector<net::CIDR> cidrs = SortedCIDRs(*list);
        if (cidrs.empty()) continue;
        Line("  # A route reflector: accept routes within the {} service IP ranges.", what);
        for (const net::CIDR& cidr : cidrs) {
          Line("  if ( net ~ {} ) then {{ accept; }}", cidr.String());
        }
      }
    }
    for (const ParsedPool& p : pools_) {
      if (!p.pool->disable_bgp_export) {
        Line("  if ( net ~ {} ) then {{ accept; }}", p.cidr.String());
      }
    }
    Line("}}");
    Line("");

    for (int family : Families()) {
      Line("filter {} {{", KernelFilterName(family));
      bool any_reject = false;
      for (const net::CIDR& cidr : reject_cidrs_) {
        if (cidr.family() != family) continue;
        if (!any_reject) Line("  # Service address ranges are never programmed into the kernel.");
        any_reject = true;
        Line("  if ( net ~ {} ) then {{ reject; }}", cidr.String());
      }
      Line("  if (defined(source) && (source = RTS_BGP) && !defined(krt_metric)) then {{");
      Line("    krt_metric = {};", Priority(family));
      Line("    if (defined(bgp_local_pref)) then {{ krt_metric = {} - bgp_local_pref; }}",
           kMaxMetric);
      Line("    if (krt_metric < {}) then {{ preference = {}; }}", Priority(family),
           kOverridePreference);
      Line("  }}");
      for (const ParsedPool& p : pools_) {
        if (p.cidr.family() != family) continue;
        const std::string cidr = p.cidr.String();
        if (p.pool->vxlan_mode != EncapMode::kNever) {
          Line("  if ( net ~ {} ) then {{ reject; }} # VXLAN routes are handled by Felix.", cidr);
        } else if (p.pool->ipip_mode != EncapMode::kNever) {
          Line("  if ( net ~ {} ) then {{ reject; }} # IPIP routes are handled by Felix.", cidr);
        } else if (!BirdProgramsNoEncap()) {
          Line("  if ( net ~ {} ) then {{ reject; }} # Cluster routes are handled by Felix.", cidr);
        } else {
          Line("  if ( net ~ {} ) then {{ accept; }}", cidr);
        }
      }
      Line("  accept;");
      Line("}}");
      Line("");
    }
  }

  static std::string KernelFilterName(int family) {
    return family == 4 ? "calico_kernel_programming" : "calico_kernel_programming_v6";
  }

  void RenderBaseProtocols() {
    Line("# ---- Interfaces and kernel ----");
    Line("protocol device {{");
    if (!debug_.empty()) Line("  debug {};", debug_);
    Line("  scan time 2;");
    Line("}}");
    Line("");
    Line("protocol direct {{");
    if (!debug_.empty()) Line("  debug {};", debug_);
    for (int family : Families()) {
      Line("  ipv{};", family);
    }
    std::string patterns;
    for (const std::string& iface : input_.ignored_interfaces) {
      patterns += fmt::format("-\"{}\", ", iface);
    }
    Line(R"(  interface {}-"cali*", -"kube-ipvs*", "*";)", patterns);
    Line("}}");
    Line("");
    for (int family : Families()) {
      Line("protocol kernel kernel_v{} {{", family);
      Line("  learn;");
      Line("  persist;");
      Line("  scan time 2;");
      Line("  merge paths on;");
      Line("  graceful restart;");
      Line("  ipv{} {{", family);
      Line("    import all;");
      Line("    export filter {};", KernelFilterName(family));
      Line("  }};");
      Line("}}");
      Line("");
    }
  }

  // template_funcs.go BGPFilterBIRDFuncs: one function per filter, direction and family with
  // rules, the rules in order.
  void RenderBgpFilters() {
    Line("# ---- BGP filters (BGPFilter) ----");
    bool any = false;
    for (int family : Families()) {
      for (const auto& [name, filter] : filters_) {
        bool header = false;
        for (std::string_view direction : {"import", "export"}) {
          const auto& rules = FilterRules(*filter, direction, family);
          if (rules.empty()) continue;
          if (!header) Line("# v{} BGPFilter {}", family, name);
          header = true;
          any = true;
          Line("function {}({}) {{", FilterFunctionName(name, direction, family),
               HasPeerType(rules) ? "bool is_same_as" : "");
          for (const BGPFilterRule& rule : rules) {
            Line("  {}", FilterStatement(rule, family));
          }
          Line("}}");
        }
      }
    }
    if (!any) Line("# No BGPFilters with rules.");
    Line("");
  }

  // The calls a session's filter makes for its BGPFilters (bgp_processor.go buildImportFilter,
  // buildExportFilter): filters that do not exist or have no rules here are left out.
  std::vector<std::string> FilterCalls(const Session& s, std::string_view direction,
                                       bool same_as) const {
    std::vector<std::string> calls;
    for (const std::string& name : s.filters) {
      auto it = filters_.find(name);
      if (it == filters_.end()) continue;
      const auto& rules = FilterRules(*it->second, direction, s.family);
      if (rules.empty()) continue;
      calls.push_back(fmt::format("{}({});", FilterFunctionName(name, direction, s.family),
                                  HasPeerType(rules) ? (same_as ? "true" : "false") : ""));
    }
    return calls;
  }

  void RenderBgp() {
    const std::vector<Session> sessions = BuildSessions(input_, local_);
    Line("# ---- BGP ----");
    if (input_.bfd) {
      Line("protocol bfd calico_bfd {{");
      Line("}}");
      Line("");
    }
    Line("template bgp bgp_template {{");
    if (!peer_debug_.empty()) Line("  {}", peer_debug_);
    Line("  description \"Connection to BGP peer\";");
    Line("  local as {};", input_.as_number);
    Line("  graceful restart;");
    Line("  connect delay time 2;");
    Line("  connect retry time 5;");
    Line("  error wait time 5,30;");
    Line("}}");
    Line("");

    if (!input_.rr_cluster_id.empty()) {
      Line("# Node-to-node mesh: off, this node is a route reflector (cluster {}).",
           SafeComment(input_.rr_cluster_id));
    } else if (!input_.node_to_node_mesh) {
      Line("# Node-to-node mesh: disabled.");
    }
    // bindMode NodeIP: BIRD 2 binds each session's listening socket to its local address
    // (`strict bind`), and a bound socket and an unbound one on the same port collide ("bind:
    // Address already in use"), so a family is bound only when all its sessions have an address.
    strict_bind_.clear();
    if (input_.bind_node_ip) {
      for (int family : Families()) {
        bool all = true;
        for (const Session& s : sessions) {
          if (s.skip_reason.empty() && s.family == family && s.local_ip.empty()) all = false;
        }
        if (all) {
          strict_bind_.insert(family);
        } else {
          Line(
              "# bindMode NodeIP: IPv{} sessions not bound to the node's address, as one has no "
              "source address (sourceAddress None).",
              family);
        }
      }
    }
    if (sessions.empty()) Line("# No BGP peers.");
    for (const Session& s : sessions) {
      RenderSession(s);
    }
  }

  void RenderSession(const Session& s) {
    if (!s.skip_reason.empty()) {
      Line("# {} ({}): skipped, {}.", s.name, s.comment, s.skip_reason);
      Line("");
      return;
    }
    const std::string port =
        s.neighbor_port == kDefaultBgpPort ? "" : fmt::format(" port {}", s.neighbor_port);
    const std::string local_port =
        s.local_port == kDefaultBgpPort ? "" : fmt::format(" port {}", s.local_port);
    const std::string local_ip = s.local_ip.empty() ? "" : " " + s.local_ip;
    const bool same_as = s.local_as == s.neighbor_as;
    const uint32_t priority = Priority(s.family);
    Line("# {}", s.comment);
    Line("protocol bgp {} from bgp_template {{", s.name);
    Line("  local{}{} as {};", local_ip, local_port, s.local_as);
    Line("  neighbor {}{} as {};", s.neighbor_ip, port, s.neighbor_as);
    if (strict_bind_.contains(s.family)) Line("  strict bind on;  # bindMode NodeIP");
    if (s.ttl_security > 0) {
      Line("  ttl security on;");
      Line("  multihop {};", s.ttl_security);
    } else {
      Line("  ttl security off;");
      Line("  multihop;");
    }
    if (s.passive) Line("  passive on;");
    if (s.restart_time) Line("  graceful restart time {};", *s.restart_time);
    if (s.keepalive_time) Line("  keepalive time {};", *s.keepalive_time);
    if (!s.rr_cluster_id.empty()) {
      Line("  rr client;");
      Line("  rr cluster id {};", s.rr_cluster_id);
    }
    if (!s.password.empty()) Line("  password \"{}\";", s.password);
    if (s.allow_local_as > 0) Line("  allow local as {};", s.allow_local_as);
    if (s.bfd && !s.local_ip.empty()) {
      Line("  bfd on;");
    } else if (s.bfd) {
      // BIRD: "Multihop BGP with BFD requires specified local address".
      Line("  # No BFD: it needs a source address (sourceAddress is None).");
    }
    Line("  ipv{} {{", s.family);
    Line("    gateway recursive;");
    Line("    add paths on;");
    if (s.next_hop_keep) Line("    next hop keep;");
    if (s.next_hop_self) Line("    next hop self;");
    Line("    import filter {{");
    for (const std::string& call : FilterCalls(s, "import", same_as))
      Line("      {}", call);
    // A learned route whose LOCAL_PREF maps to an elevated kernel priority beats local routes.
    Line("      if (defined(bgp_local_pref) && (bgp_local_pref > {})) then preference = {};",
         kMaxMetric - priority, kOverridePreference);
    Line("      accept;");
    Line("    }};");
    Line("    export filter {{");
    // Kernel metric and LOCAL_PREF carry the same priority to every peer.
    Line("      if (defined(source) && (source = RTS_BGP) && defined(bgp_local_pref)) then {{");
    Line("        krt_metric = {} - bgp_local_pref;", kMaxMetric);
    Line("      }} else {{");
    Line("        if (!defined(krt_metric)) then {{ krt_metric = {}; }}", priority);
    Line("        bgp_local_pref = {} - krt_metric;", kMaxMetric);
    Line("      }}");
    for (const std::string& call : FilterCalls(s, "export", same_as))
      Line("      {}", call);
    Line("      calico_export_to_bgp_peers({});", same_as);
    Line("      reject;");
    Line("    }};");
    Line("  }};");
    Line("}}");
    Line("");
  }

  const BirdInput& input_;
  LocalAddresses local_;
  std::vector<ParsedPool> pools_;
  std::vector<net::CIDR> blocks_;
  std::vector<net::CIDR> static_routes_;
  std::vector<net::CIDR> reject_cidrs_;
  std::map<std::string, const BGPFilter*> filters_;
  std::set<int> strict_bind_;  // Families whose sessions are bound (bindMode NodeIP).
  std::string debug_;          // device/direct: "all", "{ states }" or "" (none).
  std::string peer_debug_;     // the BGP template's debug line, or "".
  std::string out_;
};

Status ValidateFilter(const BGPFilter& filter) {
  const std::string field = fmt::format("BGPFilter {}", SafeComment(filter.name));
  if (!ValidFilterName(filter.name)) {
    return InvalidArgument(field + ": the name may only contain letters, digits and -._");
  }
  struct List {
    const char* key;
    int family;
    const std::vector<BGPFilterRule>* rules;
  };
  for (const List& list :
       {List{"exportV4", 4, &filter.spec.export_v4}, List{"importV4", 4, &filter.spec.import_v4},
        List{"exportV6", 6, &filter.spec.export_v6}, List{"importV6", 6, &filter.spec.import_v6}}) {
    for (size_t i = 0; i < list.rules->size(); ++i) {
      const BGPFilterRule& rule = (*list.rules)[i];
      const std::string where = fmt::format("{}: {}[{}]", field, list.key, i);
      if (rule.cidr.empty() != !rule.match_operator.has_value()) {
        return InvalidArgument(where +
                               ": cidr and matchOperator must both be set or both be empty");
      }
      if (!rule.cidr.empty()) {
        auto cidr = ParseMaskedCIDR(rule.cidr);
        if (!cidr || cidr->family() != list.family) {
          return InvalidArgument(
              fmt::format("{}: cidr \"{}\" is not an IPv{} CIDR with host bits zero", where,
                          SafeComment(rule.cidr), list.family));
        }
        if (rule.prefix_length) {
          int min = cidr->prefix_len();
          int max = list.family == 4 ? 32 : 128;
          if (rule.prefix_length->min) min = std::max(min, *rule.prefix_length->min);
          if (rule.prefix_length->max) max = std::min(max, *rule.prefix_length->max);
          if (min > max) {
            return InvalidArgument(
                fmt::format("{}: prefixLength allows no prefix length ({} to {}) within {}", where,
                            min, max, rule.cidr));
          }
        }
      } else if (rule.prefix_length) {
        return InvalidArgument(where + ": cidr is required when prefixLength is set");
      }
      if (!rule.interface.empty()) {
        RETURN_IF_ERROR(CheckInterfacePattern(rule.interface, where + ": interface"));
      }
      for (const std::string& value : rule.communities) {
        RETURN_IF_ERROR(CheckCommunity(value, where + ": communities"));
      }
      if (!rule.operations.empty() && rule.action != BGPFilterAction::kAccept) {
        return InvalidArgument(where + ": operations may only be used with action Accept");
      }
      for (const auto& op : rule.operations) {
        if (op.add_community) {
          RETURN_IF_ERROR(CheckCommunity(*op.add_community, where + ": addCommunity"));
        }
        if (op.set_priority && (*op.set_priority < 1 || *op.set_priority > 2147483646)) {
          return InvalidArgument(where + ": setPriority must be from 1 to 2147483646");
        }
      }
      if (rule.priority && (*rule.priority < 1 || *rule.priority > 2147483646)) {
        return InvalidArgument(where + ": priority must be from 1 to 2147483646");
      }
    }
  }
  return OkStatus();
}

}  // namespace

Status ValidateBirdInput(const BirdInput& input) {
  if (!ParseFamily(input.router_id, 4)) {
    return InvalidArgument(
        fmt::format("router_id: \"{}\" is not an IPv4 address", SafeComment(input.router_id)));
  }
  if (input.ipv4.empty() && input.ipv6.empty()) {
    return InvalidArgument("node has neither an IPv4 nor an IPv6 address");
  }
  if (!input.ipv4.empty()) RETURN_IF_ERROR(CheckAddress(input.ipv4, 4, "ipv4"));
  if (!input.ipv6.empty()) RETURN_IF_ERROR(CheckAddress(input.ipv6, 6, "ipv6"));
  if (input.as_number == 0) return InvalidArgument("as_number: must not be 0");
  if (input.listen_port == 0) return InvalidArgument("listen_port: must not be 0");
  RETURN_IF_ERROR(CheckPassword(input.mesh_password, "mesh_password"));
  if (!input.rr_cluster_id.empty() && !ParseFamily(input.rr_cluster_id, 4)) {
    return InvalidArgument(fmt::format("rr_cluster_id: \"{}\" is not a dotted quad",
                                       SafeComment(input.rr_cluster_id)));
  }
  for (uint32_t priority : {input.normal_route_priority_v4, input.normal_route_priority_v6}) {
    if (priority < 1 || priority > 2147483646) {
      return InvalidArgument(
          fmt::format("normal route priority {}: must be from 1 to 2147483646", priority));
    }
  }
  // Two nodes with the same address would give two protocols of one name, which BIRD refuses
  // ("Symbol 'Mesh_...' already defined") as it does for Calico; name both nodes instead.
  std::map<std::string, std::string> mesh_owner;
  for (const PeerNode& node : input.nodes) {
    const std::string field = fmt::format("node {}", SafeComment(node.name));
    if (!node.ipv4.empty()) RETURN_IF_ERROR(CheckAddress(node.ipv4, 4, field + " ipv4"));
    if (!node.ipv6.empty()) RETURN_IF_ERROR(CheckAddress(node.ipv6, 6, field + " ipv6"));
    if (node.as_number == 0) return InvalidArgument(field + ": as_number must not be 0");
    if (node.listen_port == 0) return InvalidArgument(field + ": listen_port must not be 0");
    if (node.name == input.node_name || !node.rr_cluster_id.empty()) continue;
    for (const std::string& text : {node.ipv4, node.ipv6}) {
      if (text.empty()) continue;
      const std::string ip = net::IPAddr::Parse(text)->String();
      if (ip == input.ipv4 || ip == input.ipv6) continue;  // This node's address: skipped.
      auto [it, inserted] = mesh_owner.emplace(ip, node.name);
      if (!inserted && input.node_to_node_mesh && input.rr_cluster_id.empty() &&
          node.rr_cluster_id.empty()) {
        return InvalidArgument(fmt::format(
            "nodes {} and {} have the same BGP address {}: their peerings collide (BIRD: Symbol "
            "'{}' already defined)",
            SafeComment(it->second), SafeComment(node.name), ip,
            PeerName("Mesh", *net::IPAddr::Parse(ip), kDefaultBgpPort)));
      }
    }
  }
  std::map<std::string, std::string> peer_names;
  for (const BgpPeer& peer : input.peers) {
    const std::string field = fmt::format("peer {}", SafeComment(peer.peer_ip));
    auto ip = net::IPAddr::Parse(peer.peer_ip);
    if (!ip) return InvalidArgument(field + ": not an IP address");
    if (peer.as_number == 0) return InvalidArgument(field + ": as_number must not be 0");
    if (peer.local_as_number && *peer.local_as_number == 0) {
      return InvalidArgument(field + ": local_as_number must not be 0");
    }
    if (peer.port == 0) return InvalidArgument(field + ": port must not be 0");
    RETURN_IF_ERROR(CheckPassword(peer.password, field + " password"));
    if (peer.keepalive_time && (*peer.keepalive_time < 1 || *peer.keepalive_time > 65535)) {
      return InvalidArgument(fmt::format("{}: keepalive time {} s: BIRD needs 1 to 65535", field,
                                         *peer.keepalive_time));
    }
    if (!peer.reachable_by.empty()) {
      RETURN_IF_ERROR(CheckAddress(peer.reachable_by, ip->family(), field + " reachable_by"));
    }
    const std::string name = PeerName(ScopePrefix(peer.scope), *ip, peer.port);
    auto [it, inserted] = peer_names.emplace(name, peer.origin);
    if (!inserted) {
      return InvalidArgument(fmt::format(
          "{} and {} both configure the peering {}: they collide (BIRD: Symbol '{}' already "
          "defined)",
          it->second.empty() ? "a peer" : SafeComment(it->second),
          peer.origin.empty() ? "another" : SafeComment(peer.origin), name, name));
    }
  }
  for (const IPPool& pool : input.pools) {
    const std::string field = fmt::format("pool {}", SafeComment(pool.cidr));
    auto cidr = ParseMaskedCIDR(pool.cidr);
    if (!cidr) return InvalidArgument(field + ": not a CIDR with host bits zero");
    if (pool.ipip_mode != EncapMode::kNever && pool.vxlan_mode != EncapMode::kNever) {
      return InvalidArgument(field + ": IPIP and VXLAN cannot both be enabled");
    }
    if (cidr->family() == 6 && pool.ipip_mode != EncapMode::kNever) {
      return InvalidArgument(field + ": IPIP is not supported on an IPv6 pool");
    }
  }
  for (const auto& [what, list] :
       {std::pair<const char*, const std::vector<std::string>*>{"block", &input.blocks},
        {"static route", &input.static_routes},
        {"reject cidr", &input.reject_cidrs},
        {"serviceLoadBalancerIPs", &input.service_load_balancer_ips},
        {"serviceExternalIPs", &input.service_external_ips}}) {
    for (const std::string& text : *list) {
      if (!ParseMaskedCIDR(text)) {
        return InvalidArgument(
            fmt::format("{} {}: not a CIDR with host bits zero", what, SafeComment(text)));
      }
    }
  }
  for (const CommunityRule& rule : input.communities) {
    const std::string field = fmt::format("prefixAdvertisement {}", SafeComment(rule.cidr));
    if (!ParseMaskedCIDR(rule.cidr)) {
      return InvalidArgument(field + ": not a CIDR with host bits zero");
    }
    for (const std::string& value : rule.communities) {
      RETURN_IF_ERROR(CheckCommunity(value, field));
    }
  }
  for (const std::string& iface : input.ignored_interfaces) {
    RETURN_IF_ERROR(CheckInterfacePattern(iface, "ignoredInterfaces"));
    if (iface == "*")
      return InvalidArgument("ignoredInterfaces: \"*\" would ignore every interface");
  }
  for (const BGPFilter& filter : input.filters) {
    RETURN_IF_ERROR(ValidateFilter(filter));
  }
  return OkStatus();
}

std::string RenderBirdConfig(const BirdInput& input) {
  return Renderer(input).Render();
}

Result<std::string> BuildBirdConfig(const BirdInput& input) {
  RETURN_IF_ERROR(ValidateBirdInput(input));
  return RenderBirdConfig(input);
}

}  // namespace calico::bird
