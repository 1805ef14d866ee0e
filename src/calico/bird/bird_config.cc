// Reproduces confd's BIRD templates (node/filesystem/etc/calico/confd/templates: bird.cfg,
// bird_ipam.cfg, bird_aggr.cfg and their bird6 twins) for upstream BIRD 2; see bird_config.h for
// where the output differs and why.
#include "calico/bird/bird_config.h"

#include <algorithm>
#include <cctype>
#include <compare>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "calico/net/ip.h"

namespace calico::bird {
namespace {

// TCP_MD5SIG_MAXKEYLEN.
constexpr size_t kMaxPasswordLength = 80;
// Routes with a kernel metric below this are "elevated priority" (BGPConfiguration
// NormalRoutePriority, 1024); metric and LOCAL_PREF are mirrored around INT32_MAX.
constexpr uint32_t kNormalRoutePriority = 1024;
constexpr uint32_t kMaxMetric = 2147483647;

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
  bool next_hop_keep = false;
  bool bfd = false;

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
      s.bfd = input.bfd;
      sessions.push_back(std::move(s));
    }
  }
}

void AddExplicitSessions(const BirdInput& input, const LocalAddresses& local,
                         std::vector<Session>& sessions) {
  for (const BgpPeer& peer : input.peers) {
    const std::string_view prefix = peer.scope == PeerScope::kGlobal ? "Global" : "Node";
    auto ip = net::IPAddr::Parse(peer.peer_ip);
    Session s;
    s.comment = fmt::format("{} BGPPeer", prefix);
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
    s.local_as = input.as_number;
    s.neighbor_ip = ip->String();
    s.neighbor_port = peer.port;
    s.neighbor_as = peer.as_number;
    s.passive = peer.calico_node && IsPassive(*own, *ip);
    s.password = peer.password;
    const bool ibgp = peer.as_number == input.as_number;
    if (!input.rr_cluster_id.empty() && ibgp && peer.rr_cluster_id != input.rr_cluster_id) {
      s.rr_cluster_id = input.rr_cluster_id;
    }
    s.next_hop_keep = peer.keep_original_next_hop && !ibgp;
    s.bfd = input.bfd;
    sessions.push_back(std::move(s));
  }
}

// Sorted by name; a repeated name, or a node-specific peering that a global one already covers,
// becomes a comment.
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
  std::set<std::string> seen;
  for (Session& s : sessions) {
    if (!s.skip_reason.empty()) continue;
    if (!seen.insert(s.name).second) {
      s.skip_reason = "duplicate peering";
    } else if (s.name.starts_with("Node_") &&
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

class Renderer {
 public:
  explicit Renderer(const BirdInput& input) : input_(input) {
    if (!input.ipv4.empty()) local_.v4 = ParseFamily(input.ipv4, 4);
    if (!input.ipv6.empty()) local_.v6 = ParseFamily(input.ipv6, 6);
    for (const IPPool& pool : input.pools) {
      if (auto cidr = ParseMaskedCIDR(pool.cidr)) pools_.push_back({*cidr, &pool});
    }
    std::sort(pools_.begin(), pools_.end());
    std::set<net::CIDR> blocks;
    for (const std::string& block : input.blocks) {
      if (auto cidr = ParseMaskedCIDR(block)) blocks.insert(*cidr);
    }
    blocks_.assign(blocks.begin(), blocks.end());
  }

  std::string Render() {
    Line("# BIRD 2 configuration for calico node {}, generated by calico-node.",
         SafeComment(input_.node_name));
    Line("# Rewritten on every datastore change: do not edit.");
    Line("");
    if (auto id = ParseFamily(input_.router_id, 4)) {
      Line("router id {};", id->String());
    } else {
      Line("# Router ID \"{}\" is not an IPv4 address.", SafeComment(input_.router_id));
    }
    Line("");
    RenderAggr();
    RenderIpamFilters();
    RenderBaseProtocols();
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

  // bird_aggr.cfg: a blackhole for each owned block, so the block is in the table to be advertised
  // (and the kernel drops traffic to its unallocated addresses), and calico_aggr, which advertises
  // each block as exactly that aggregate.
  void RenderAggr() {
    Line("# ---- Own IPAM blocks (bird_aggr) ----");
    for (int family : Families()) {
      std::vector<net::CIDR> routed;
      for (const net::CIDR& block : blocks_) {
        if (block.family() == family && block.prefix_len() != block.addr().bit_len()) {
          routed.push_back(block);
        }
      }
      if (routed.empty()) continue;
      Line("protocol static static_blocks_v{} {{", family);
      Line("  ipv{};", family);
      for (const net::CIDR& block : routed) {
        Line("  route {} blackhole;", block.String());
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
           kNormalRoutePriority);
      Line("  if ( net ~ {} ) then {{ reject; }}", cidr);
    }
    Line("}}");
    Line("");
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

    const bool felix_ipip = std::any_of(pools_.begin(), pools_.end(), [](const ParsedPool& p) {
      return p.pool->ipip_mode != EncapMode::kNever && p.pool->vxlan_mode == EncapMode::kNever;
    });
    Line("function calico_export_to_bgp_peers(bool internal_peer) {{");
    for (const ParsedPool& p : pools_) {
      if (p.pool->disable_bgp_export) {
        Line("  if ( net ~ {} ) then {{ reject; }} # BGP export is disabled.", p.cidr.String());
      }
    }
    // Routes through Calico's own devices (vxlan.calico, wireguard.cali and, while Felix
    // programs IPIP routes, tunl0) are kernel copies of other nodes' routes, learned back by the
    // kernel protocol; iBGP peers learn those from their origin. Workload routes (cali*) stay
    // exportable: borrowed addresses are advertised as /32s.
    Line("  if (internal_peer) then {{");
    Line("    if (defined(ifname)) then {{");
    Line(R"(      if ((ifname ~ "*.cali") || (ifname ~ "*.calico"){}) then {{ reject; }})",
         felix_ipip ? R"( || (ifname ~ "tunl0"))" : "");
    Line("    }}");
    Line("  }}");
    Line("  reject_local_routes();");
    Line("  calico_aggr();");
    for (const ParsedPool& p : pools_) {
      if (!p.pool->disable_bgp_export) {
        Line("  if ( net ~ {} ) then {{ accept; }}", p.cidr.String());
      }
    }
    Line("}}");
    Line("");

    Line("filter calico_kernel_programming {{");
    Line("  if (defined(source) && (source = RTS_BGP) && !defined(krt_metric)) then {{");
    Line("    krt_metric = {};", kNormalRoutePriority);
    Line("    if (defined(bgp_local_pref)) then {{ krt_metric = {} - bgp_local_pref; }}",
         kMaxMetric);
    Line("    if (krt_metric < {}) then {{ preference = 200; }}", kNormalRoutePriority);
    Line("  }}");
    for (const ParsedPool& p : pools_) {
      const std::string cidr = p.cidr.String();
      if (p.pool->vxlan_mode != EncapMode::kNever) {
        Line("  if ( net ~ {} ) then {{ reject; }} # VXLAN routes are handled by Felix.", cidr);
      } else if (p.pool->ipip_mode != EncapMode::kNever) {
        Line("  if ( net ~ {} ) then {{ reject; }} # IPIP routes are handled by Felix.", cidr);
      } else {
        Line("  if ( net ~ {} ) then {{ accept; }}", cidr);
      }
    }
    Line("  accept;");
    Line("}}");
    Line("");
  }

  void RenderBaseProtocols() {
    Line("# ---- Interfaces and kernel ----");
    Line("protocol device {{");
    Line("  scan time 2;");
    Line("}}");
    Line("");
    Line("protocol direct {{");
    for (int family : Families()) {
      Line("  ipv{};", family);
    }
    Line(R"(  interface -"cali*", -"kube-ipvs*", "*";)");
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
      Line("    export filter calico_kernel_programming;");
      Line("  }};");
      Line("}}");
      Line("");
    }
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
    std::string severity = input_.log_severity;
    for (char& c : severity)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (severity == "debug") {
      Line("  debug all;");
    } else if (severity == "none") {
      Line("  debug off;");
    } else {
      Line("  debug {{ states, routes, filters, events }};");
    }
    Line("  description \"Connection to BGP peer\";");
    Line("  local as {};", input_.as_number);
    Line("  graceful restart;");
    Line("  connect delay time 2;");
    Line("  connect retry time 5;");
    Line("  error wait time 5,30;");
    Line("}}");
    Line("");
    // A learned route whose LOCAL_PREF maps to an elevated kernel priority beats local routes.
    Line("filter calico_import_from_bgp_peers {{");
    Line("  if (defined(bgp_local_pref) && (bgp_local_pref > {})) then preference = 200;",
         kMaxMetric - kNormalRoutePriority);
    Line("  accept;");
    Line("}}");
    Line("");
    // Kernel metric and LOCAL_PREF carry the same priority to every peer.
    Line("function calico_export_metric() {{");
    Line("  if (defined(source) && (source = RTS_BGP) && defined(bgp_local_pref)) then {{");
    Line("    krt_metric = {} - bgp_local_pref;", kMaxMetric);
    Line("  }} else {{");
    Line("    if (!defined(krt_metric)) then {{ krt_metric = {}; }}", kNormalRoutePriority);
    Line("    bgp_local_pref = {} - krt_metric;", kMaxMetric);
    Line("  }}");
    Line("}}");
    Line("");

    if (!input_.rr_cluster_id.empty()) {
      Line("# Node-to-node mesh: off, this node is a route reflector (cluster {}).",
           SafeComment(input_.rr_cluster_id));
    } else if (!input_.node_to_node_mesh) {
      Line("# Node-to-node mesh: disabled.");
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
    const bool internal = s.local_as == s.neighbor_as;
    Line("# {}", s.comment);
    Line("protocol bgp {} from bgp_template {{", s.name);
    Line("  local{}{} as {};", local_ip, local_port, s.local_as);
    Line("  neighbor {}{} as {};", s.neighbor_ip, port, s.neighbor_as);
    Line("  multihop;");
    if (s.passive) Line("  passive on;");
    if (!s.password.empty()) Line("  password \"{}\";", s.password);
    if (!s.rr_cluster_id.empty()) {
      Line("  rr client;");
      Line("  rr cluster id {};", s.rr_cluster_id);
    }
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
    Line("    import filter calico_import_from_bgp_peers;");
    Line("    export filter {{ calico_export_metric(); calico_export_to_bgp_peers({}); reject; }};",
         internal);
    Line("  }};");
    Line("}}");
    Line("");
  }

  const BirdInput& input_;
  LocalAddresses local_;
  std::vector<ParsedPool> pools_;
  std::vector<net::CIDR> blocks_;
  std::string out_;
};

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
  for (const PeerNode& node : input.nodes) {
    const std::string field = fmt::format("node {}", SafeComment(node.name));
    if (!node.ipv4.empty()) RETURN_IF_ERROR(CheckAddress(node.ipv4, 4, field + " ipv4"));
    if (!node.ipv6.empty()) RETURN_IF_ERROR(CheckAddress(node.ipv6, 6, field + " ipv6"));
    if (node.as_number == 0) return InvalidArgument(field + ": as_number must not be 0");
    if (node.listen_port == 0) return InvalidArgument(field + ": listen_port must not be 0");
  }
  for (const BgpPeer& peer : input.peers) {
    const std::string field = fmt::format("peer {}", SafeComment(peer.peer_ip));
    if (!net::IPAddr::Parse(peer.peer_ip)) {
      return InvalidArgument(field + ": not an IP address");
    }
    if (peer.as_number == 0) return InvalidArgument(field + ": as_number must not be 0");
    if (peer.port == 0) return InvalidArgument(field + ": port must not be 0");
    RETURN_IF_ERROR(CheckPassword(peer.password, field + " password"));
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
  for (const std::string& block : input.blocks) {
    if (!ParseMaskedCIDR(block)) {
      return InvalidArgument(
          fmt::format("block {}: not a CIDR with host bits zero", SafeComment(block)));
    }
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
