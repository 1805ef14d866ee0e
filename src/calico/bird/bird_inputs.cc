// confd's BGP view (confd/pkg/backends/calico/client.go: updatePeersV1 and its helpers
// nodesWithIPPortAndAS / nodeAsBGPPeers / setPeerConfigFieldsFromV3Resource, updateBGPConfigCache,
// getPrefixAdvertisementsKVPair, updateGlobalRoutes; secret_watcher.go; reference §4.1/§4.3):
// datastore resources, secrets and IPAM affinities resolved into one BirdInput for this node.
// Size: one file because it is one walk of confd's client.go over the datastore; splitting it
// would separate helpers that only make sense together (peers need nodes, filters and secrets).
#include "calico/bird/bird_inputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "calico/base/numbers.h"
#include "calico/base/unique_fd.h"
#include "calico/datastore/keys.h"
#include "calico/model/json_codec.h"
#include "calico/model/resource.h"
#include "calico/model/v3/bgp.h"
#include "calico/net/ip.h"
#include "calico/selector/selector.h"
#include "calico/selector/unique_id.h"

namespace calico::bird {
namespace {

namespace v3 = model::v3;
using model::Json;

// The largest secret value read (a TCP-MD5 key is at most 80 bytes).
constexpr size_t kMaxSecretBytes = 4096;
// Upstream's label that keeps a node from advertising service ranges (client.go
// ExcludeServiceAdvertisement).
constexpr std::string_view kExcludeServiceLabel =
    "node.kubernetes.io/exclude-from-external-load-balancers";

// One Node, reduced to what peering needs.
struct NodeView {
  std::string name;
  selector::LabelMap labels;
  std::string ipv4;  // Without prefix length; "" if none.
  std::string ipv6;
  std::optional<uint32_t> as_number;
  std::string rr_cluster_id;
};

// "10.0.0.5/24" or "10.0.0.5" → "10.0.0.5" in canonical form.
Result<std::string> NodeAddress(const std::string& text, int family, const std::string& node,
                                const char* field) {
  if (text.empty()) return std::string();
  auto cidr = net::CIDR::ParseNet(text);
  if (!cidr || cidr->family() != family) {
    return InvalidArgument(fmt::format("Node {}: spec.bgp.{}: \"{}\" is not an IPv{} address", node,
                                       field, text, family));
  }
  return cidr->addr().String();
}

Result<NodeView> ParseNode(const model::Resource& r) {
  ASSIGN_OR_RETURN(v3::NodeBGP decoded, v3::DecodeNodeBGP(r));
  NodeView node;
  node.name = decoded.name;
  node.labels = selector::LabelMap(decoded.labels.begin(), decoded.labels.end());
  if (decoded.bgp) {
    ASSIGN_OR_RETURN(node.ipv4,
                     NodeAddress(decoded.bgp->ipv4_address, 4, node.name, "ipv4Address"));
    ASSIGN_OR_RETURN(node.ipv6,
                     NodeAddress(decoded.bgp->ipv6_address, 6, node.name, "ipv6Address"));
    node.as_number = decoded.bgp->as_number;
    node.rr_cluster_id = decoded.bgp->route_reflector_cluster_id;
  }
  return node;
}

std::string NodeAddressOf(const NodeView& node, int family) {
  return family == 4 ? node.ipv4 : node.ipv6;
}

EncapMode ParseEncap(const std::string& mode) {
  if (mode == "Always") return EncapMode::kAlways;
  if (mode == "CrossSubnet") return EncapMode::kCrossSubnet;
  return EncapMode::kNever;
}

// BGPPeer.spec.peerIP: "10.0.0.1", "10.0.0.1:1179", "fd00::1", "[fd00::1]:1179" → canonical IP
// and the port (0 when none), as client.go parseIPPort.
Result<std::pair<net::IPAddr, uint16_t>> ParsePeerIP(const std::string& text,
                                                     std::string_view what) {
  auto bad = [&] {
    return InvalidArgument(
        fmt::format("{}: spec.peerIP: \"{}\" is not an IP address with an "
                    "optional port",
                    what, text));
  };
  std::string host = text;
  std::optional<std::string> port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) return bad();
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return bad();
      port_text = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  uint16_t port = 0;
  if (port_text) {
    Result<uint16_t> p = ParseIntInRange<uint16_t>(*port_text, 1, 65535);
    if (!p) return bad();
    port = *p;
  }
  auto ip = net::IPAddr::Parse(host);
  if (!ip) return bad();
  return std::make_pair(*ip, port);
}

// client.go setPeerConfigFieldsFromV3Resource: durations in whole seconds, rounded.
std::optional<uint32_t> Seconds(const std::optional<std::chrono::nanoseconds>& d) {
  if (!d) return std::nullopt;
  const double seconds = std::round(std::chrono::duration<double>(*d).count());
  if (seconds > 4294967295.0) return 4294967295U;
  return static_cast<uint32_t>(seconds);
}

// A secret name or key that is one path component (Kubernetes names and keys are).
bool SafePathPart(const std::string& part) {
  if (part.empty() || part == "." || part == ".." || part.size() > 253) return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string FingerprintLine(const std::string& path, const struct stat& st) {
  return fmt::format("{} {} {} {} {}.{}\n", path, st.st_dev, st.st_ino, st.st_size,
                     st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

class Resolver {
 public:
  Resolver(datastore::Client& client, datastore::Backend& backend, std::string_view node_name,
           const BirdInputOptions& options, SecretFiles* secrets)
      : client_(client),
        backend_(backend),
        node_name_(node_name),
        options_(options),
        secrets_(secrets) {}

  Result<BirdInput> Run() {
    RETURN_IF_ERROR(LoadNodes());
    auto me_it = nodes_.find(node_name_);
    if (me_it == nodes_.end()) {
      return NotFound(
          "node " + node_name_ +
          " has no Node resource in the datastore: run calico-node startup on it first");
    }
    const NodeView& me = me_it->second;
    if (me.ipv4.empty()) {
      return InvalidArgument("node " + node_name_ +
                             " has no IPv4 BGP address: run calico-node startup (IP=autodetect)");
    }
    RETURN_IF_ERROR(LoadBgpConfigs());
    const v3::BGPConfigurationSpec& global = global_.spec;

    BirdInput in;
    in.node_name = node_name_;
    in.router_id = me.ipv4;
    if (options_.router_id == "hash") {
      in.router_id = RouterIDFromHash(node_name_);
    } else if (!options_.router_id.empty()) {
      in.router_id = options_.router_id;
    }
    in.ipv4 = me.ipv4;
    in.ipv6 = me.ipv6;
    in.as_number = NodeAs(me);
    in.listen_port = NodePort(me.name);
    in.node_to_node_mesh = global.node_to_node_mesh_enabled.value_or(true);
    in.rr_cluster_id = me.rr_cluster_id;
    in.log_severity = global.log_severity_screen.empty() ? "Info" : global.log_severity_screen;
    const v3::BGPConfigurationSpec* mine = PerNode(node_name_);
    if (mine != nullptr && !mine->log_severity_screen.empty()) {
      in.log_severity = mine->log_severity_screen;
    }
    if (global.node_mesh_password && global.node_mesh_password->secret_key_ref) {
      in.mesh_password = Secret(*global.node_mesh_password->secret_key_ref,
                                "BGPConfiguration default nodeMeshPassword");
    }
    in.mesh_restart_time = Seconds(global.node_mesh_max_restart_time);
    in.bind_node_ip = global.bind_mode == v3::BindMode::kNodeIP;
    in.ignored_interfaces = global.ignored_interfaces;
    in.normal_route_priority_v4 =
        static_cast<uint32_t>(global.ipv4_normal_route_priority.value_or(1024));
    in.normal_route_priority_v6 =
        static_cast<uint32_t>(global.ipv6_normal_route_priority.value_or(1024));
    in.program_cluster_routes =
        global.program_cluster_routes.value_or(v3::ProgramClusterRoutes::kEnabledNoEncapOnly);
    in.communities =
        Communities(mine != nullptr && !mine->prefix_advertisements.empty() ? *mine : global);
    ResolveServiceRanges(me, global, in);
    if (!global.local_workload_peering_ipv4.empty() ||
        !global.local_workload_peering_ipv6.empty()) {
      notes_.emplace_back(
          "BGPConfiguration default: localWorkloadPeeringIPV4/IPV6 are not supported, as "
          "localWorkloadSelector peerings are not (docs/COMPATIBILITY.md)");
    }
    for (const auto& [name, node] : nodes_) {
      if (name == node_name_ || (node.ipv4.empty() && node.ipv6.empty())) continue;
      in.nodes.push_back(PeerNode{.name = name,
                                  .ipv4 = node.ipv4,
                                  .ipv6 = node.ipv6,
                                  .as_number = NodeAs(node),
                                  .listen_port = NodePort(name),
                                  .rr_cluster_id = node.rr_cluster_id});
    }
    ASSIGN_OR_RETURN(in.filters, LoadFilters());
    ASSIGN_OR_RETURN(in.peers, ResolvePeers(me));
    ASSIGN_OR_RETURN(in.pools, LoadPools());
    ASSIGN_OR_RETURN(in.blocks, LoadBlocks());
    // The same note can come from several passes over one BGPPeer: keep the first of each.
    std::set<std::string> seen;
    for (std::string& note : notes_) {
      if (seen.insert(note).second) in.notes.push_back(std::move(note));
    }
    if (secrets_ != nullptr) {
      *secrets_ = SecretFiles{};
      for (const auto& [path, state] : read_state_) {
        secrets_->paths.push_back(path);
        secrets_->fingerprint += state;
      }
    }
    return in;
  }

 private:
  Status LoadNodes() {
    ASSIGN_OR_RETURN(auto list, client_.List("Node"));
    for (const auto& r : list) {
      ASSIGN_OR_RETURN(NodeView node, ParseNode(r));
      nodes_.emplace(node.name, std::move(node));
    }
    return OkStatus();
  }

  Status LoadBgpConfigs() {
    ASSIGN_OR_RETURN(auto list, client_.List("BGPConfiguration"));
    for (const auto& r : list) {
      ASSIGN_OR_RETURN(v3::BGPConfiguration config, v3::DecodeBGPConfiguration(r));
      if (config.name == "default") {
        global_ = std::move(config);
      } else if (config.name.starts_with("node.")) {
        per_node_.emplace(config.name.substr(5), std::move(config));
      }
    }
    return OkStatus();
  }

  const v3::BGPConfigurationSpec* PerNode(const std::string& name) const {
    auto it = per_node_.find(name);
    return it == per_node_.end() ? nullptr : &it->second.spec;
  }

  uint32_t GlobalAs() const { return global_.spec.as_number.value_or(kDefaultASNumber); }
  uint32_t NodeAs(const NodeView& node) const { return node.as_number.value_or(GlobalAs()); }
  // A node's listen port: node.<name>'s, else the global one; 0 when neither sets one.
  uint16_t ConfiguredPort(const std::string& name) const {
    if (const auto* spec = PerNode(name); spec != nullptr && spec->listen_port) {
      return *spec->listen_port;
    }
    return global_.spec.listen_port.value_or(0);
  }
  uint16_t NodePort(const std::string& name) const {
    const uint16_t port = ConfiguredPort(name);
    return port == 0 ? kDefaultBgpPort : port;
  }

  // The password of a secretKeyRef, "" (with a note) when the file cannot be read.
  std::string Secret(const v3::SecretKeySelector& ref, const std::string& what) {
    if (!SafePathPart(ref.name) || !SafePathPart(ref.key)) {
      notes_.push_back(fmt::format(
          "{}: secret name \"{}\" and key \"{}\" must be plain names; configured without a "
          "password",
          what, ref.name.substr(0, 64), ref.key.substr(0, 64)));
      return "";
    }
    const std::string path = options_.secrets_dir + "/" + ref.name + "/" + ref.key;
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) {
      const int err = errno;
      read_state_[path] = FilesFingerprint({path});
      notes_.push_back(fmt::format(
          "{}: secret {}/{} cannot be read ({}: {}): configured without a password, as Calico does",
          what, ref.name, ref.key, path, std::strerror(err)));
      return "";
    }
    read_state_[path] = FingerprintLine(path, st);
    std::string value(kMaxSecretBytes + 1, '\0');
    size_t got = 0;
    while (got < value.size()) {
      const ssize_t n = ::read(fd.get(), value.data() + got, value.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    value.resize(got);
    if (value.size() > kMaxSecretBytes) {
      notes_.push_back(
          fmt::format("{}: secret {}/{} ({}) is larger than {} bytes: configured "
                      "without a password",
                      what, ref.name, ref.key, path, kMaxSecretBytes));
      return "";
    }
    // A file written with `echo` ends with a newline that is not part of the password.
    if (!value.empty() && value.back() == '\n') value.pop_back();
    if (!value.empty() && value.back() == '\r') value.pop_back();
    return value;
  }

  // getPrefixAdvertisementsKVPair: each prefix with its community values (names resolved against
  // the same configuration's communities, unknown names dropped), deduplicated and sorted.
  std::vector<CommunityRule> Communities(const v3::BGPConfigurationSpec& spec) {
    std::vector<CommunityRule> out;
    for (const auto& adv : spec.prefix_advertisements) {
      if (adv.cidr.empty()) continue;
      std::set<std::string> values;
      for (const std::string& c : adv.communities) {
        bool literal = !c.empty() && std::all_of(c.begin(), c.end(), [](char ch) {
          return (ch >= '0' && ch <= '9') || ch == ':';
        });
        if (literal) {
          values.insert(c);
          continue;
        }
        for (const auto& named : spec.communities) {
          if (named.name == c) {
            values.insert(named.value);
            break;
          }
        }
      }
      if (values.empty()) continue;
      auto cidr = net::CIDR::ParseNet(adv.cidr);
      out.push_back(CommunityRule{.cidr = cidr ? cidr->Masked().String() : adv.cidr,
                                  .communities = {values.begin(), values.end()}});
    }
    return out;
  }

  // client.go onClusterIPsUpdate / onExternalIPsUpdate / onLoadBalancerIPsUpdate +
  // updateGlobalRoutes: cluster IP ranges, external IP ranges and (with aggregation, the default)
  // LoadBalancer IP ranges are originated by every node; single addresses (/32, /128) are left to
  // per-Service advertisement. A node labelled exclude-from-external-load-balancers originates
  // none, but every node keeps the ranges out of its kernel.
  void ResolveServiceRanges(const NodeView& me, const v3::BGPConfigurationSpec& global,
                            BirdInput& in) {
    auto not_single = [](const std::vector<std::string>& cidrs) {
      std::vector<std::string> out;
      for (const std::string& text : cidrs) {
        auto cidr = net::CIDR::ParseNet(text);
        if (cidr && cidr->prefix_len() != cidr->addr().bit_len()) out.push_back(text);
      }
      return out;
    };
    std::vector<std::string> ranges = global.service_cluster_ips;
    for (const std::string& c : not_single(global.service_external_ips))
      ranges.push_back(c);
    if (global.service_load_balancer_aggregation.value_or(
            v3::ServiceLoadBalancerAggregation::kEnabled) ==
        v3::ServiceLoadBalancerAggregation::kEnabled) {
      for (const std::string& c : not_single(global.service_load_balancer_ips)) {
        ranges.push_back(c);
      }
    }
    std::set<std::string> unique;
    for (const std::string& text : ranges) {
      if (auto cidr = net::CIDR::ParseNet(text)) unique.insert(cidr->Masked().String());
    }
    in.reject_cidrs.assign(unique.begin(), unique.end());
    auto label = me.labels.find(std::string(kExcludeServiceLabel));
    if (label == me.labels.end() || label->second != "true") in.static_routes = in.reject_cidrs;
    for (const auto& [from, to] :
         {std::pair{&global.service_load_balancer_ips, &in.service_load_balancer_ips},
          std::pair{&global.service_external_ips, &in.service_external_ips}}) {
      for (const std::string& text : *from) {
        if (auto cidr = net::CIDR::ParseNet(text)) to->push_back(cidr->Masked().String());
      }
    }
  }

  Result<std::vector<v3::BGPFilter>> LoadFilters() {
    ASSIGN_OR_RETURN(auto list, client_.List("BGPFilter"));
    std::vector<v3::BGPFilter> out;
    for (const auto& r : list) {
      ASSIGN_OR_RETURN(v3::BGPFilter filter, v3::DecodeBGPFilter(r));
      filter_names_.insert(filter.name);
      out.push_back(std::move(filter));
    }
    return out;
  }

  // Does the BGPPeer apply to node `n` (its local side)? Global peers apply to every node.
  static Result<bool> AppliesTo(const v3::BGPPeer& peer, const NodeView& n) {
    if (!peer.spec.node.empty()) return peer.spec.node == n.name;
    if (peer.spec.node_selector.empty()) return true;
    ASSIGN_OR_RETURN(auto sel, selector::Parse(peer.spec.node_selector));
    return sel.Evaluate(n.labels);
  }

  static bool IsGlobal(const v3::BGPPeer& peer) {
    return peer.spec.node.empty() && peer.spec.node_selector.empty();
  }

  Result<std::vector<const NodeView*>> NodesMatching(const std::string& text) {
    ASSIGN_OR_RETURN(auto sel, selector::Parse(text));
    std::vector<const NodeView*> out;
    for (const auto& [name, node] : nodes_) {
      if (sel.Evaluate(node.labels)) out.push_back(&node);
    }
    return out;
  }

  // client.go nodesWithIPPortAndAS: the calico nodes behind a peerIP (same address and AS, and
  // the same listen port when the peerIP gives one).
  std::vector<const NodeView*> NodesWithIPPortAndAS(const std::string& ip, uint32_t as_number,
                                                    uint16_t port) const {
    std::vector<const NodeView*> out;
    for (const auto& [name, node] : nodes_) {
      if (node.ipv4 != ip && node.ipv6 != ip) continue;
      if (NodeAs(node) != as_number) continue;
      if (port != 0 && NodePort(name) != port) continue;
      out.push_back(&node);
    }
    return out;
  }

  // The fields every peering of a BGPPeer carries (client.go setPeerConfigFieldsFromV3Resource,
  // getNextHopMode, and the TTL/filters/reachableBy that nodeAsBGPPeers copies).
  BgpPeer Common(const v3::BGPPeer& r) {
    const v3::BGPPeerSpec& s = r.spec;
    BgpPeer p;
    p.origin = "BGPPeer " + r.name;
    p.source_address = s.source_address;
    if (s.next_hop_mode) {
      p.next_hop_mode = s.next_hop_mode;
    } else {
      p.keep_original_next_hop = s.keep_original_next_hop;
    }
    p.restart_time = Seconds(s.max_restart_time);
    p.keepalive_time = Seconds(s.keepalive_time);
    p.ttl_security = s.ttl_security.value_or(0);
    p.filters = s.filters;
    if (s.password && s.password->secret_key_ref) {
      p.password = Secret(*s.password->secret_key_ref, "BGPPeer " + r.name + " password");
    }
    for (const std::string& f : s.filters) {
      if (!filter_names_.contains(f)) {
        notes_.push_back(
            fmt::format("BGPPeer {}: BGPFilter {} does not exist (skipped)", r.name, f));
      }
    }
    return p;
  }

  // client.go nodeAsBGPPeers: peerings with a calico node, one per family both ends have.
  void NodeAsPeers(const NodeView& remote, const NodeView& me, bool v4, bool v6,
                   const BgpPeer& common, std::vector<BgpPeer>& out) const {
    for (int family : {4, 6}) {
      if ((family == 4 && !v4) || (family == 6 && !v6)) continue;
      const std::string ip = NodeAddressOf(remote, family);
      if (ip.empty() || NodeAddressOf(me, family).empty()) continue;
      BgpPeer p = common;
      p.peer_ip = ip;
      p.port = NodePort(remote.name);
      p.as_number = NodeAs(remote);
      p.calico_node = true;
      p.rr_cluster_id = remote.rr_cluster_id;
      out.push_back(std::move(p));
    }
  }

  // client.go updatePeersV1, for this node: global BGPPeers first, then node-specific ones (a
  // node-specific peering that a global one covers is dropped), then the automatic reverse
  // peerings; the first peering of a (scope, address, port) wins. BGPPeers are taken in name
  // order (confd's order is its map's).
  Result<std::vector<BgpPeer>> ResolvePeers(const NodeView& me) {
    ASSIGN_OR_RETURN(auto list, client_.List("BGPPeer"));
    std::vector<v3::BGPPeer> peers;
    for (const auto& r : list) {
      ASSIGN_OR_RETURN(v3::BGPPeer peer, v3::DecodeBGPPeer(r));
      peers.push_back(std::move(peer));
    }
    std::sort(peers.begin(), peers.end(),
              [](const v3::BGPPeer& a, const v3::BGPPeer& b) { return a.name < b.name; });

    std::vector<BgpPeer> out;
    std::map<std::tuple<PeerScope, std::string, uint16_t>, std::string> seen;
    auto emit = [&](BgpPeer p) {
      if (p.peer_ip == me.ipv4 || p.peer_ip == me.ipv6) return;  // Never peer with ourselves.
      if (p.scope == PeerScope::kNode && seen.contains({PeerScope::kGlobal, p.peer_ip, p.port})) {
        return;
      }
      auto [it, inserted] = seen.emplace(std::make_tuple(p.scope, p.peer_ip, p.port), p.origin);
      if (!inserted) {
        if (it->second != p.origin) {
          notes_.push_back(
              fmt::format("{}: the peering with {} port {} is already configured by "
                          "{} (skipped)",
                          p.origin, p.peer_ip, p.port, it->second));
        }
        return;
      }
      out.push_back(std::move(p));
    };

    for (const bool global_pass : {true, false}) {
      for (const v3::BGPPeer& r : peers) {
        if (global_pass != IsGlobal(r)) continue;
        const std::string what = "BGPPeer " + r.name;
        if (!r.spec.local_workload_selector.empty()) {
          if (global_pass || AppliesTo(r, me).value_or(false)) {
            notes_.push_back(what +
                             ": localWorkloadSelector peerings are not supported "
                             "(docs/COMPATIBILITY.md)");
          }
          continue;
        }
        ASSIGN_OR_RETURN(bool applies, AppliesTo(r, me));
        if (!applies) continue;
        const PeerScope scope = global_pass ? PeerScope::kGlobal : PeerScope::kNode;
        BgpPeer common = Common(r);
        common.scope = scope;
        std::vector<BgpPeer> candidates;
        if (!r.spec.peer_selector.empty()) {
          ASSIGN_OR_RETURN(auto remotes, NodesMatching(r.spec.peer_selector));
          for (const NodeView* remote : remotes) {
            if (remote->name == me.name) continue;
            NodeAsPeers(*remote, me, true, true, common, candidates);
          }
        } else {
          if (r.spec.peer_ip.empty()) continue;
          ASSIGN_OR_RETURN(auto ip_port, ParsePeerIP(r.spec.peer_ip, what));
          const auto& [ip, explicit_port] = ip_port;
          BgpPeer p = common;
          p.peer_ip = ip.String();
          p.as_number = r.spec.as_number.value_or(GlobalAs());
          p.local_as_number = r.spec.local_as_number;
          p.num_allow_local_as =
              static_cast<uint32_t>(std::max(0, r.spec.num_allowed_local_as_numbers.value_or(0)));
          uint16_t port = explicit_port;
          // A peerIP of a calico node without a port: that node's listen port.
          const auto behind = NodesWithIPPortAndAS(p.peer_ip, p.as_number, 0);
          if (port == 0 && !behind.empty()) port = ConfiguredPort(behind.front()->name);
          p.port = port == 0 ? kDefaultBgpPort : port;
          for (const auto& [name, node] : nodes_) {
            if (node.ipv4 == p.peer_ip || node.ipv6 == p.peer_ip) {
              p.calico_node = true;
              p.rr_cluster_id = node.rr_cluster_id;
            }
          }
          if (!r.spec.reachable_by.empty()) {
            auto gw = net::IPAddr::Parse(r.spec.reachable_by);
            if (!gw || gw->family() != ip.family()) {
              notes_.push_back(what +
                               ": reachableBy is not an address of the peer's family "
                               "(peering skipped)");
              continue;
            }
            p.reachable_by = gw->String();
          }
          candidates.push_back(std::move(p));
        }
        for (BgpPeer& p : candidates)
          emit(std::move(p));
      }
    }

    // Reverse peerings: this node is the remote side of a BGPPeer (peerSelector selects it, or
    // peerIP is its address), so every node the BGPPeer applies to becomes its peer.
    for (const v3::BGPPeer& r : peers) {
      if (r.spec.reverse_peering == v3::ReversePeering::kManual) continue;
      if (!r.spec.local_workload_selector.empty()) continue;
      bool v4 = false;
      bool v6 = false;
      bool selected = false;
      if (!r.spec.peer_selector.empty()) {
        ASSIGN_OR_RETURN(auto sel, selector::Parse(r.spec.peer_selector));
        selected = sel.Evaluate(me.labels);
        v4 = v6 = true;
      } else if (!r.spec.peer_ip.empty()) {
        ASSIGN_OR_RETURN(auto ip_port, ParsePeerIP(r.spec.peer_ip, "BGPPeer " + r.name));
        const auto& [ip, port] = ip_port;
        for (const NodeView* n :
             NodesWithIPPortAndAS(ip.String(), r.spec.as_number.value_or(GlobalAs()), port)) {
          selected = selected || n->name == me.name;
        }
        v4 = ip.family() == 4;
        v6 = ip.family() == 6;
      }
      if (!selected) continue;
      BgpPeer common = Common(r);
      common.scope = PeerScope::kNode;
      std::vector<BgpPeer> candidates;
      for (const auto& [name, node] : nodes_) {
        if (name == me.name) continue;
        ASSIGN_OR_RETURN(bool applies, AppliesTo(r, node));
        if (applies) NodeAsPeers(node, me, v4, v6, common, candidates);
      }
      for (BgpPeer& p : candidates)
        emit(std::move(p));
    }
    return out;
  }

  Result<std::vector<IPPool>> LoadPools() {
    ASSIGN_OR_RETURN(auto list, client_.List("IPPool"));
    std::vector<IPPool> out;
    for (const auto& r : list) {
      const Json& spec = r.spec();
      auto str = [&](const char* key) {
        auto it = spec.find(key);
        return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      auto flag = [&](const char* key) {
        auto it = spec.find(key);
        return it != spec.end() && it->is_boolean() && it->get<bool>();
      };
      IPPool pool;
      auto cidr = net::CIDR::Parse(str("cidr"));
      if (!cidr) {
        return InvalidArgument("IPPool " + r.name() + ": invalid cidr \"" + str("cidr") + "\"");
      }
      pool.cidr = cidr->Masked().String();
      pool.ipip_mode = ParseEncap(str("ipipMode"));
      pool.vxlan_mode = ParseEncap(str("vxlanMode"));
      pool.nat_outgoing = flag("natOutgoing");
      pool.disabled = flag("disabled");
      pool.disable_bgp_export = flag("disableBGPExport");
      out.push_back(std::move(pool));
    }
    return out;
  }

  // /calico/ipam/v2/host/<me>/ipv4/block/10.65.0.0-26 = {"state":"confirmed","deleted":false}.
  // Pending and pending-deletion affinities are not this node's yet (or any more); an empty state
  // is an implicitly confirmed affinity written by older Calico versions.
  Result<std::vector<std::string>> LoadBlocks() {
    std::vector<std::string> out;
    for (int family : {4, 6}) {
      ASSIGN_OR_RETURN(auto listed,
                       backend_.List(datastore::BlockAffinityKey::ListPrefix(node_name_, family)));
      for (const auto& kv : listed.kvs) {
        auto key = datastore::BlockAffinityKey::Parse(kv.key);
        if (!key) continue;
        // An unreadable value counts as an empty one (confirmed), as before.
        auto affinity = datastore::BlockAffinity::Parse(kv.value);
        if (affinity && !affinity->Confirmed()) continue;
        out.push_back(key->cidr.String());
      }
    }
    return out;
  }

  datastore::Client& client_;
  datastore::Backend& backend_;
  std::string node_name_;
  const BirdInputOptions& options_;
  SecretFiles* secrets_;
  // Each secret file consulted, with its FilesFingerprint line as it was when read.
  std::map<std::string, std::string> read_state_;
  std::map<std::string, NodeView> nodes_;
  v3::BGPConfiguration global_;
  std::map<std::string, v3::BGPConfiguration> per_node_;
  std::set<std::string> filter_names_;
  std::vector<std::string> notes_;
};

}  // namespace

Result<BirdInput> BirdInputFromDatastore(datastore::Client& client, datastore::Backend& backend,
                                         std::string_view node_name,
                                         const BirdInputOptions& options, SecretFiles* secrets) {
  return Resolver(client, backend, node_name, options, secrets).Run();
}

std::string RouterIDFromHash(std::string_view node_name) {
  const auto digest = selector::Sha256(node_name);
  int first = digest[0];
  if (first > 223) first -= 32;
  return fmt::format("{}.{}.{}.{}", first, digest[1], digest[2], digest[3]);
}

std::string FilesFingerprint(const std::vector<std::string>& paths) {
  std::string out;
  for (const std::string& path : paths) {
    struct stat st {};
    out += ::stat(path.c_str(), &st) == 0 ? FingerprintLine(path, st) : path + " -\n";
  }
  return out;
}

}  // namespace calico::bird
