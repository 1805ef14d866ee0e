// Reproduces calico-node's tunnel address allocation for VXLAN (IPv4 and IPv6) and IPIP
// (node/pkg/allocateip, reconcileTunnelAddrs for ipam.AttributeTypeVXLAN, AttributeTypeVXLANV6
// and AttributeTypeIPIP).
#include "calico/agent/tunnel_addr.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "calico/agent/vxlan_model.h"
#include "calico/base/log.h"
#include "calico/model/v3/ipam.h"
#include "calico/model/v3/node.h"
#include "calico/selector/selector.h"

namespace calico::agent {
namespace {

constexpr int kMaxNodeUpdateAttempts = 5;

// What differs between the tunnel addresses (allocateip's AttributeTypeVXLAN, AttributeTypeVXLANV6
// and AttributeTypeIPIP: generateHandleAndAttributes, determineEnabledPoolCIDRs,
// updateNodeWithAddress).
struct TunnelKind {
  const char* name;  // "VXLAN", "IPv6 VXLAN", "IPIP"
  std::string_view handle_prefix;
  std::string_view attr_type;
  int family;  // the pools' (and the address's) IP version
  // The pool's encapsulation mode for this kind.
  std::optional<std::string> model::v3::IPPoolSpec::*mode;
  // Where the Node keeps the address: spec.<field>, or spec.bgp.<field>.
  bool under_bgp;
  const char* field;
  // VXLAN also sets spec.<mac_field> when empty, to the MAC Felix derives for the node
  // (felix/calc/vxlan_resolver.go vtepMACForHost: SHA-1 of the node name, + "-v6" for IPv6).
  const char* mac_field;  // nullptr: none
  const char* mac_seed_suffix;
};

const TunnelKind kVxlan{
    "VXLAN", kVxlanTunnelHandlePrefix, kVxlanTunnelAttrType, 4, &model::v3::IPPoolSpec::vxlan_mode,
    false,   "ipv4VXLANTunnelAddr",    "vxlanTunnelMACAddr", ""};
const TunnelKind kVxlanV6{"IPv6 VXLAN",
                          kVxlanV6TunnelHandlePrefix,
                          kVxlanV6TunnelAttrType,
                          6,
                          &model::v3::IPPoolSpec::vxlan_mode,
                          false,
                          "ipv6VXLANTunnelAddr",
                          "vxlanTunnelMACAddrV6",
                          "-v6"};
const TunnelKind kIpip{"IPIP",
                       kIpipTunnelHandlePrefix,
                       kIpipTunnelAttrType,
                       4,
                       &model::v3::IPPoolSpec::ipip_mode,
                       true,
                       "ipv4IPIPTunnelAddr",
                       nullptr,
                       ""};

// The Node's tunnel address field of `kind` ("" when unset).
std::string TunnelAddrOf(const model::Resource& node, const TunnelKind& kind) {
  const model::Json* at = &node.spec();
  if (kind.under_bgp) {
    auto bgp = at->find("bgp");
    if (bgp == at->end() || !bgp->is_object()) return "";
    at = &*bgp;
  }
  auto it = at->find(kind.field);
  return it != at->end() && it->is_string() ? it->get<std::string>() : "";
}

// Sets (or with "" removes) the field; whether the Node changed.
bool SetTunnelAddr(model::Resource& node, const TunnelKind& kind, const std::string& addr) {
  if (TunnelAddrOf(node, kind) == addr) return false;
  model::Json& spec = node.spec();
  if (!kind.under_bgp) {
    if (addr.empty()) return spec.erase(kind.field) > 0;
    spec[kind.field] = addr;
    return true;
  }
  if (addr.empty()) {
    auto bgp = spec.find("bgp");
    return bgp != spec.end() && bgp->is_object() && bgp->erase(kind.field) > 0;
  }
  if (!spec.contains("bgp") || !spec["bgp"].is_object()) spec["bgp"] = model::Json::object();
  spec["bgp"][kind.field] = addr;
  return true;
}

// The pools (of the kind's IP version) a tunnel address of `node` may come from.
std::vector<net::CIDR> EligiblePools(const std::vector<model::v3::IPPool>& pools,
                                     const model::v3::Node& node, const TunnelKind& kind) {
  std::vector<net::CIDR> out;
  for (const model::v3::IPPool& pool : pools) {
    const model::v3::IPPoolSpec& spec = pool.spec;
    if (pool.metadata.deletion_timestamp) continue;
    if (spec.disabled) continue;
    if (ParseEncapMode((spec.*kind.mode).value_or("")) == EncapMode::kNever) continue;
    auto cidr = net::CIDR::ParseNet(spec.cidr);
    if (!cidr || cidr->family() != kind.family) continue;
    const std::vector<std::string> uses =
        spec.allowed_uses.value_or(std::vector<std::string>{"Workload", "Tunnel"});
    if (std::find(uses.begin(), uses.end(), "Tunnel") == uses.end()) continue;
    const std::string text = spec.node_selector.value_or("");
    auto sel = selector::Parse(text.empty() ? "all()" : text);
    if (!sel || !sel->Evaluate(node.metadata.labels)) continue;
    out.push_back(cidr->Masked());
  }
  return out;
}

// The IP pools that decode (one that does not is not eligible; logged).
std::vector<model::v3::IPPool> DecodePools(const std::vector<model::Resource>& resources) {
  std::vector<model::v3::IPPool> out;
  for (const model::Resource& r : resources) {
    auto pool = model::v3::DecodeIPPool(r);
    if (!pool) {
      CALICO_LOG(warn, "tunnel-addr", "ignoring IP pool: {}", pool.error().message());
      continue;
    }
    out.push_back(*std::move(pool));
  }
  return out;
}

// Writes the Node with `edit` applied (compare-and-swap; on conflict re-reads and re-applies).
// `edit` returns false when the Node needs no change.
Status UpdateNode(datastore::Client& client, model::Resource node,
                  const std::function<Result<bool>(model::Resource& node)>& edit) {
  for (int attempt = 0; attempt < kMaxNodeUpdateAttempts; ++attempt) {
    ASSIGN_OR_RETURN(bool changed, edit(node));
    if (!changed) return OkStatus();
    auto updated = client.Update(node);
    if (updated) return OkStatus();
    if (updated.error().code() != ErrorCode::kConflict) {
      return Unexpected(std::move(updated).error().Wrap("update node " + node.name()));
    }
    ASSIGN_OR_RETURN(node, client.Get("Node", "", node.name()));
  }
  return Conflict("update node " + node.name() + ": too many concurrent updates");
}

// One pass of allocateip's reconcileTunnelAddrs for `kind`.
Status EnsureTunnelAddress(datastore::Client& client, ipam::IpamClient& ipam,
                           std::string_view node_name, const TunnelKind& kind) {
  const std::string node_str(node_name);
  const std::string handle = std::string(kind.handle_prefix) + node_str;
  ASSIGN_OR_RETURN(model::Resource node, client.Get("Node", "", node_name));
  ASSIGN_OR_RETURN(model::v3::Node typed_node, model::v3::DecodeNode(node));
  ASSIGN_OR_RETURN(auto pool_resources, client.List("IPPool"));
  std::vector<net::CIDR> eligible = EligiblePools(DecodePools(pool_resources), typed_node, kind);
  std::optional<net::IPAddr> current = net::IPAddr::Parse(TunnelAddrOf(node, kind));

  if (eligible.empty()) {
    // No such tunnel for this node: give the address back and clear the field.
    ASSIGN_OR_RETURN(auto held, ipam.IPsByHandle(handle));
    if (!held.empty()) {
      CALICO_LOG(info, "tunnel-addr", "releasing {} tunnel address of {}", kind.name, node_str);
      RETURN_IF_ERROR(ipam.ReleaseByHandle(handle));
    }
    return UpdateNode(client, std::move(node), [&](model::Resource& n) -> Result<bool> {
      return SetTunnelAddr(n, kind, "");
    });
  }

  const std::string mac = DeriveVtepMac(node_str + kind.mac_seed_suffix).String();
  // The Node may have been re-read after a conflict: decide on what it says now.
  auto set_mac = [&](model::Resource& n) -> Result<bool> {
    if (kind.mac_field == nullptr) return false;
    auto it = n.spec().find(kind.mac_field);
    if (it != n.spec().end() && it->is_string() && !it->get<std::string>().empty()) return false;
    n.spec()[kind.mac_field] = mac;
    return true;
  };

  // Keep the current address when it is ours and still in an eligible pool.
  if (current && current->family() == kind.family &&
      std::any_of(eligible.begin(), eligible.end(),
                  [&](const net::CIDR& p) { return p.Contains(*current); })) {
    ASSIGN_OR_RETURN(auto attr, ipam.GetAssignmentAttributes(*current));
    if (attr && attr->handle_id == handle) {
      return UpdateNode(client, std::move(node), set_mac);
    }
  }

  // Release what the handle holds (an address outside the eligible pools, leftovers), then
  // assign a new one.
  RETURN_IF_ERROR(ipam.ReleaseByHandle(handle));
  ipam::AutoAssignArgs args;
  (kind.family == 6 ? args.num6 : args.num4) = 1;
  args.handle = handle;
  args.attrs = ipam::Json{{"node", node_str}, {"type", std::string(kind.attr_type)}};
  args.host = node_str;
  (kind.family == 6 ? args.ipv6_pools : args.ipv4_pools) = eligible;
  args.intended_use = "Tunnel";
  ASSIGN_OR_RETURN(auto assigned, ipam.AutoAssign(args));
  const auto& got = kind.family == 6 ? assigned.ipv6 : assigned.ipv4;
  if (got.empty()) {
    std::string why = assigned.messages.empty() ? "no address available" : assigned.messages[0];
    return Unavailable(
        fmt::format("assign {} tunnel address for {}: {}", kind.name, node_str, why));
  }
  const net::IPAddr ip = got[0].addr();
  CALICO_LOG(info, "tunnel-addr", "assigned {} tunnel address {} to {}", kind.name, ip.String(),
             node_str);
  Status st = UpdateNode(client, std::move(node), [&](model::Resource& n) -> Result<bool> {
    SetTunnelAddr(n, kind, ip.String());
    RETURN_IF_ERROR(set_mac(n));
    return true;
  });
  if (!st) {
    // Roll back the assignment of this pass.
    auto released = ipam.ReleaseIPs({ip});
    if (!released) {
      CALICO_LOG(warn, "tunnel-addr", "cannot release {} after a failed node update: {}",
                 ip.String(), released.error().message());
    }
    return st;
  }
  return OkStatus();
}

}  // namespace

std::string VxlanTunnelHandle(std::string_view node) {
  return std::string(kVxlanTunnelHandlePrefix) + std::string(node);
}

std::string VxlanV6TunnelHandle(std::string_view node) {
  return std::string(kVxlanV6TunnelHandlePrefix) + std::string(node);
}

std::string IpipTunnelHandle(std::string_view node) {
  return std::string(kIpipTunnelHandlePrefix) + std::string(node);
}

Status EnsureVxlanTunnelAddress(datastore::Client& client, ipam::IpamClient& ipam,
                                std::string_view node_name) {
  return EnsureTunnelAddress(client, ipam, node_name, kVxlan);
}

Status EnsureIpipTunnelAddress(datastore::Client& client, ipam::IpamClient& ipam,
                               std::string_view node_name) {
  return EnsureTunnelAddress(client, ipam, node_name, kIpip);
}

Status EnsureVxlanV6TunnelAddress(datastore::Client& client, ipam::IpamClient& ipam,
                                  std::string_view node_name) {
  return EnsureTunnelAddress(client, ipam, node_name, kVxlanV6);
}

Status EnsureTunnelAddresses(datastore::Client& client, ipam::IpamClient& ipam,
                             std::string_view node_name) {
  Status first = OkStatus();
  for (const TunnelKind* kind : {&kIpip, &kVxlan, &kVxlanV6}) {
    Status st = EnsureTunnelAddress(client, ipam, node_name, *kind);
    if (st) continue;
    CALICO_LOG(warn, "tunnel-addr", "{} tunnel address of {}: {}", kind->name, node_name,
               st.error().message());
    if (first) first = std::move(st);
  }
  return first;
}

}  // namespace calico::agent
