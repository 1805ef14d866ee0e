// confd's BGP view (calico confd's BGP syncer and its peer key derivation, reference §4.1/§4.3):
// datastore resources and IPAM affinities resolved into one BirdInput for this node.
#include "calico/bird/bird_inputs.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "calico/datastore/keys.h"
#include "calico/model/json_codec.h"
#include "calico/model/resource.h"
#include "calico/net/ip.h"
#include "calico/selector/selector.h"

namespace calico::bird {
namespace {

using model::Json;

// One Node resource, reduced to what peering needs.
struct NodeView {
  std::string name;
  selector::LabelMap labels;
  std::string ipv4;  // Without prefix length; "" if none.
  std::string ipv6;
  std::optional<uint32_t> as_number;
  std::string rr_cluster_id;
};

// The BGPConfiguration fields confd reads.
struct BgpConfigView {
  std::optional<uint32_t> as_number;
  std::optional<bool> mesh;
  std::optional<uint16_t> listen_port;
  std::optional<std::string> log_severity;
};

std::string StringField(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

std::optional<bool> BoolField(const Json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

// numorstring.ASNumber: a JSON number, or a string in plain ("64512") or dotted ("1.10") notation.
Result<std::optional<uint32_t>> AsNumberField(const Json& obj, const char* key,
                                              std::string_view what) {
  if (!obj.is_object()) return std::optional<uint32_t>{};
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<uint32_t>{};
  auto bad = [&] {
    return InvalidArgument(std::string(what) + ": invalid " + key + " " + it->dump());
  };
  if (it->is_number_unsigned()) {
    uint64_t v = it->get<uint64_t>();
    if (v == 0 || v > 0xffffffffULL) return bad();
    return std::optional<uint32_t>(static_cast<uint32_t>(v));
  }
  if (!it->is_string()) return bad();
  const std::string text = it->get<std::string>();
  uint64_t value = 0;
  uint64_t high = 0;
  bool dotted = false;
  bool digits = false;
  for (char c : text) {
    if (c == '.' && !dotted && digits) {
      dotted = true;
      high = value;
      value = 0;
      digits = false;
      continue;
    }
    if (c < '0' || c > '9') return bad();
    value = value * 10 + static_cast<uint64_t>(c - '0');
    digits = true;
    if (value > 0xffffffffULL) return bad();
  }
  if (!digits) return bad();
  if (dotted) {
    if (high > 0xffff || value > 0xffff) return bad();
    value = (high << 16) | value;
  }
  if (value == 0) return bad();
  return std::optional<uint32_t>(static_cast<uint32_t>(value));
}

// "10.0.0.5/24" or "10.0.0.5" → "10.0.0.5" in canonical form.
Result<std::string> AddressField(const Json& obj, const char* key, int family,
                                 std::string_view what) {
  std::string text = StringField(obj, key);
  if (text.empty()) return std::string();
  auto cidr = net::CIDR::ParseNet(text);
  if (!cidr || cidr->family() != family) {
    return InvalidArgument(std::string(what) + ": invalid " + key + " \"" + text + "\"");
  }
  return cidr->addr().String();
}

Result<NodeView> ParseNode(const model::Resource& r) {
  NodeView node;
  node.name = r.name();
  const std::string what = "Node " + node.name;
  const Json& labels = r.metadata().contains("labels") ? r.metadata()["labels"] : Json();
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) {
      if (v.is_string()) node.labels[k] = v.get<std::string>();
    }
  }
  const Json& spec = r.spec();
  const Json bgp = spec.is_object() && spec.contains("bgp") ? spec["bgp"] : Json::object();
  ASSIGN_OR_RETURN(node.ipv4, AddressField(bgp, "ipv4Address", 4, what));
  ASSIGN_OR_RETURN(node.ipv6, AddressField(bgp, "ipv6Address", 6, what));
  ASSIGN_OR_RETURN(node.as_number, AsNumberField(bgp, "asNumber", what));
  node.rr_cluster_id = StringField(bgp, "routeReflectorClusterID");
  return node;
}

Result<BgpConfigView> ParseBgpConfig(const model::Resource& r) {
  BgpConfigView view;
  const std::string what = "BGPConfiguration " + r.name();
  const Json& spec = r.spec();
  ASSIGN_OR_RETURN(view.as_number, AsNumberField(spec, "asNumber", what));
  view.mesh = BoolField(spec, "nodeToNodeMeshEnabled");
  if (spec.is_object() && spec.contains("listenPort")) {
    const Json& port = spec["listenPort"];
    if (!port.is_number_unsigned() || port.get<uint64_t>() == 0 || port.get<uint64_t>() > 65535) {
      return InvalidArgument(what + ": invalid listenPort " + port.dump());
    }
    view.listen_port = static_cast<uint16_t>(port.get<uint64_t>());
  }
  std::string severity = StringField(spec, "logSeverityScreen");
  if (!severity.empty()) view.log_severity = severity;
  return view;
}

EncapMode ParseEncap(const std::string& mode) {
  if (mode == "Always") return EncapMode::kAlways;
  if (mode == "CrossSubnet") return EncapMode::kCrossSubnet;
  return EncapMode::kNever;
}

// BGPPeer.spec.peerIP: "10.0.0.1", "10.0.0.1:1179", "fd00::1", "[fd00::1]:1179".
Result<std::pair<std::string, std::optional<uint16_t>>> ParsePeerIP(const std::string& text,
                                                                    std::string_view what) {
  auto bad = [&] {
    return InvalidArgument(std::string(what) + ": invalid peerIP \"" + text + "\"");
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
  std::optional<uint16_t> port;
  if (port_text) {
    if (port_text->empty() || port_text->size() > 5 ||
        port_text->find_first_not_of("0123456789") != std::string::npos) {
      return bad();
    }
    unsigned long p = std::stoul(*port_text);
    if (p == 0 || p > 65535) return bad();
    port = static_cast<uint16_t>(p);
  }
  auto ip = net::IPAddr::Parse(host);
  if (!ip) return bad();
  return std::make_pair(ip->String(), port);
}

std::string NodeAddress(const NodeView& node, int family) {
  return family == 4 ? node.ipv4 : node.ipv6;
}

class Resolver {
 public:
  Resolver(datastore::Client& client, datastore::Backend& backend, std::string_view node_name)
      : client_(client), backend_(backend), node_name_(node_name) {}

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

    BirdInput in;
    in.node_name = node_name_;
    in.router_id = me.ipv4;
    in.ipv4 = me.ipv4;
    in.ipv6 = me.ipv6;
    in.as_number = NodeAs(me);
    in.listen_port = NodePort(me.name);
    in.node_to_node_mesh = global_.mesh.value_or(true);
    in.rr_cluster_id = me.rr_cluster_id;
    in.log_severity = global_.log_severity.value_or("Info");
    if (auto it = per_node_.find(node_name_); it != per_node_.end() && it->second.log_severity) {
      in.log_severity = *it->second.log_severity;
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
    ASSIGN_OR_RETURN(in.peers, ResolvePeers(me));
    ASSIGN_OR_RETURN(in.pools, LoadPools());
    ASSIGN_OR_RETURN(in.blocks, LoadBlocks());
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
      ASSIGN_OR_RETURN(BgpConfigView view, ParseBgpConfig(r));
      const std::string name = r.name();
      if (name == "default") {
        global_ = view;
      } else if (name.rfind("node.", 0) == 0) {
        per_node_.emplace(name.substr(5), view);
      }
    }
    return OkStatus();
  }

  uint32_t GlobalAs() const { return global_.as_number.value_or(kDefaultASNumber); }
  uint32_t NodeAs(const NodeView& node) const { return node.as_number.value_or(GlobalAs()); }
  uint16_t NodePort(const std::string& name) const {
    if (auto it = per_node_.find(name); it != per_node_.end() && it->second.listen_port) {
      return *it->second.listen_port;
    }
    return global_.listen_port.value_or(kDefaultBgpPort);
  }

  // Does the BGPPeer apply to node `n` (its local side)? Global peers apply to every node.
  static Result<bool> AppliesTo(const model::Resource& peer, const NodeView& n) {
    const Json& spec = peer.spec();
    const std::string node = StringField(spec, "node");
    const std::string node_selector = StringField(spec, "nodeSelector");
    if (!node.empty()) return node == n.name;
    if (node_selector.empty()) return true;
    ASSIGN_OR_RETURN(auto sel, selector::Parse(node_selector));
    return sel.Evaluate(n.labels);
  }

  static bool IsGlobal(const model::Resource& peer) {
    return StringField(peer.spec(), "node").empty() &&
           StringField(peer.spec(), "nodeSelector").empty();
  }

  Result<std::vector<BgpPeer>> ResolvePeers(const NodeView& me) {
    ASSIGN_OR_RETURN(auto list, client_.List("BGPPeer"));
    std::vector<BgpPeer> out;
    std::set<std::tuple<PeerScope, std::string, uint16_t>> seen;
    auto add = [&](BgpPeer p) {
      if (p.peer_ip == me.ipv4 || p.peer_ip == me.ipv6) return;  // Never peer with ourselves.
      if (seen.emplace(p.scope, p.peer_ip, p.port).second) out.push_back(std::move(p));
    };
    for (const auto& r : list) {
      const std::string what = "BGPPeer " + r.name();
      const Json& spec = r.spec();
      const PeerScope scope = IsGlobal(r) ? PeerScope::kGlobal : PeerScope::kNode;
      BgpPeer base;
      base.scope = scope;
      base.keep_original_next_hop = BoolField(spec, "keepOriginalNextHop").value_or(false);
      base.source_address = StringField(spec, "sourceAddress") == "None"
                                ? SourceAddress::kNone
                                : SourceAddress::kUseNodeIP;
      ASSIGN_OR_RETURN(auto applies, AppliesTo(r, me));
      if (auto sel_it = spec.find("peerSelector"); spec.is_object() && sel_it != spec.end() &&
                                                   sel_it->is_string() &&
                                                   !sel_it->get<std::string>().empty()) {
        ASSIGN_OR_RETURN(auto peer_sel, selector::Parse(sel_it->get<std::string>()));
        std::vector<const NodeView*> remotes;
        // Forward: this node is a local side; every selected node is a remote.
        if (applies) {
          for (const auto& [name, node] : nodes_) {
            if (name != me.name && peer_sel.Evaluate(node.labels)) remotes.push_back(&node);
          }
        }
        // Reverse (confd adds it so a peering configured one way exists on both sides): this node
        // is selected as a remote, so every node the peering applies to is a remote of ours.
        if (peer_sel.Evaluate(me.labels)) {
          for (const auto& [name, node] : nodes_) {
            if (name == me.name) continue;
            ASSIGN_OR_RETURN(auto applies_to_other, AppliesTo(r, node));
            if (applies_to_other) remotes.push_back(&node);
          }
        }
        for (const NodeView* remote : remotes) {
          for (int family : {4, 6}) {
            const std::string ip = NodeAddress(*remote, family);
            if (ip.empty() || NodeAddress(me, family).empty()) continue;
            BgpPeer p = base;
            // Reverse peerings of a global BGPPeer are node-specific on this side.
            p.scope = PeerScope::kNode;
            p.peer_ip = ip;
            p.port = NodePort(remote->name);
            p.as_number = NodeAs(*remote);
            p.calico_node = true;
            p.rr_cluster_id = remote->rr_cluster_id;
            add(std::move(p));
          }
        }
        continue;
      }
      if (!applies) continue;
      const std::string peer_ip = StringField(spec, "peerIP");
      if (peer_ip.empty()) continue;
      ASSIGN_OR_RETURN(auto ip_port, ParsePeerIP(peer_ip, what));
      ASSIGN_OR_RETURN(auto as_number, AsNumberField(spec, "asNumber", what));
      BgpPeer p = base;
      p.peer_ip = ip_port.first;
      p.port = ip_port.second.value_or(kDefaultBgpPort);
      p.as_number = as_number.value_or(GlobalAs());
      // A peerIP that is another calico node's address: the session is between two calico nodes.
      for (const auto& [name, node] : nodes_) {
        if (name != me.name && (node.ipv4 == p.peer_ip || node.ipv6 == p.peer_ip)) {
          p.calico_node = true;
          p.rr_cluster_id = node.rr_cluster_id;
        }
      }
      add(std::move(p));
    }
    return out;
  }

  Result<std::vector<IPPool>> LoadPools() {
    ASSIGN_OR_RETURN(auto list, client_.List("IPPool"));
    std::vector<IPPool> out;
    for (const auto& r : list) {
      const Json& spec = r.spec();
      IPPool pool;
      auto cidr = net::CIDR::Parse(StringField(spec, "cidr"));
      if (!cidr) {
        return InvalidArgument("IPPool " + r.name() + ": invalid cidr \"" +
                               StringField(spec, "cidr") + "\"");
      }
      pool.cidr = cidr->Masked().String();
      pool.ipip_mode = ParseEncap(StringField(spec, "ipipMode"));
      pool.vxlan_mode = ParseEncap(StringField(spec, "vxlanMode"));
      pool.nat_outgoing = BoolField(spec, "natOutgoing").value_or(false);
      pool.disabled = BoolField(spec, "disabled").value_or(false);
      pool.disable_bgp_export = BoolField(spec, "disableBGPExport").value_or(false);
      out.push_back(std::move(pool));
    }
    return out;
  }

  // /calico/ipam/v2/host/<me>/ipv4/block/10.65.0.0-26 = {"state":"confirmed","deleted":false}.
  // Pending and pending-deletion affinities are not this node's yet (or any more); an empty state
  // is an implicitly confirmed affinity written by older Calico versions.
  Result<std::vector<std::string>> LoadBlocks() {
    std::vector<std::string> out;
    for (const char* family : {"ipv4", "ipv6"}) {
      const std::string prefix = datastore::IpamHostPrefix(node_name_) + family + "/block/";
      ASSIGN_OR_RETURN(auto listed, backend_.List(prefix));
      for (const auto& kv : listed.kvs) {
        std::string tail = kv.key.substr(prefix.size());
        std::replace(tail.begin(), tail.end(), '-', '/');
        auto cidr = net::CIDR::Parse(tail);
        if (!cidr) continue;
        Json value = model::ReadStoredJson(kv.key, kv.value);
        std::string state;
        bool deleted = false;
        if (value.is_object()) {
          state = StringField(value, "state");
          deleted = BoolField(value, "deleted").value_or(false);
        }
        if (deleted || (!state.empty() && state != "confirmed")) continue;
        out.push_back(cidr->Masked().String());
      }
    }
    return out;
  }

  datastore::Client& client_;
  datastore::Backend& backend_;
  std::string node_name_;
  std::map<std::string, NodeView> nodes_;
  BgpConfigView global_;
  std::map<std::string, BgpConfigView> per_node_;
};

}  // namespace

Result<BirdInput> BirdInputFromDatastore(datastore::Client& client, datastore::Backend& backend,
                                         std::string_view node_name) {
  return Resolver(client, backend, node_name).Run();
}

}  // namespace calico::bird
