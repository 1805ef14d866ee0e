// Reproduces calico-node's tunnel address allocation for VXLAN (node/pkg/allocateip,
// reconcileTunnelAddrs for ipam.AttributeTypeVXLAN), reference §4.12.
#include "calico/agent/tunnel_addr.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <vector>

#include "calico/agent/vxlan_model.h"
#include "calico/base/log.h"
#include "calico/selector/selector.h"

namespace calico::agent {
namespace {

constexpr int kMaxNodeUpdateAttempts = 5;
constexpr const char* kTunnelAddrField = "ipv4VXLANTunnelAddr";
constexpr const char* kMacField = "vxlanTunnelMACAddr";

std::string StringField(const model::Json& obj, const char* field) {
  if (!obj.is_object()) return "";
  auto it = obj.find(field);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// The IPv4 pools a VXLAN tunnel address of `node` may come from.
std::vector<net::CIDR> EligiblePools(const std::vector<model::Resource>& pools,
                                     const model::Resource& node) {
  selector::LabelMap labels;
  const model::Json& meta = node.metadata();
  if (meta.contains("labels") && meta["labels"].is_object()) {
    for (auto it = meta["labels"].begin(); it != meta["labels"].end(); ++it) {
      if (it->is_string()) labels[it.key()] = it->get<std::string>();
    }
  }
  std::vector<net::CIDR> out;
  for (const model::Resource& pool : pools) {
    const model::Json& spec = pool.spec();
    if (pool.metadata().contains("deletionTimestamp")) continue;
    if (spec.value("disabled", false)) continue;
    if (ParseEncapMode(StringField(spec, "vxlanMode")) == EncapMode::kNever) continue;
    auto cidr = net::CIDR::ParseNet(StringField(spec, "cidr"));
    if (!cidr || cidr->family() != 4) continue;
    std::vector<std::string> uses = {"Workload", "Tunnel"};
    if (spec.contains("allowedUses") && spec["allowedUses"].is_array()) {
      uses.clear();
      for (const auto& u : spec["allowedUses"]) {
        if (u.is_string()) uses.push_back(u.get<std::string>());
      }
    }
    if (std::find(uses.begin(), uses.end(), "Tunnel") == uses.end()) continue;
    std::string text = StringField(spec, "nodeSelector");
    auto sel = selector::Parse(text.empty() ? "all()" : text);
    if (!sel || !sel->Evaluate(labels)) continue;
    out.push_back(cidr->Masked());
  }
  return out;
}

// Writes the Node with `edit` applied (compare-and-swap; on conflict re-reads and re-applies).
// `edit` returns false when the Node needs no change.
Status UpdateNode(datastore::Client& client, model::Resource node,
                  const std::function<bool(model::Json& spec)>& edit) {
  for (int attempt = 0; attempt < kMaxNodeUpdateAttempts; ++attempt) {
    if (!edit(node.spec())) return OkStatus();
    auto updated = client.Update(node);
    if (updated) return OkStatus();
    if (updated.error().code() != ErrorCode::kConflict) {
      return Unexpected(std::move(updated).error().Wrap("update node " + node.name()));
    }
    ASSIGN_OR_RETURN(node, client.Get("Node", "", node.name()));
  }
  return Conflict("update node " + node.name() + ": too many concurrent updates");
}

}  // namespace

std::string VxlanTunnelHandle(std::string_view node) {
  return std::string(kVxlanTunnelHandlePrefix) + std::string(node);
}

Status EnsureVxlanTunnelAddress(datastore::Client& client, ipam::IpamClient& ipam,
                                std::string_view node_name) {
  const std::string node_str(node_name);
  const std::string handle = VxlanTunnelHandle(node_name);
  ASSIGN_OR_RETURN(model::Resource node, client.Get("Node", "", node_name));
  ASSIGN_OR_RETURN(auto pools, client.List("IPPool"));
  std::vector<net::CIDR> eligible = EligiblePools(pools, node);
  std::optional<net::IPAddr> current =
      net::IPAddr::Parse(StringField(node.spec(), kTunnelAddrField));

  if (eligible.empty()) {
    // No VXLAN for this node: give the address back and clear the field.
    ASSIGN_OR_RETURN(auto held, ipam.IPsByHandle(handle));
    if (!held.empty()) {
      CALICO_LOG(info, "tunnel-addr", "releasing VXLAN tunnel address of {}", node_str);
      RETURN_IF_ERROR(ipam.ReleaseByHandle(handle));
    }
    return UpdateNode(client, std::move(node), [](model::Json& spec) {
      if (!spec.contains(kTunnelAddrField)) return false;
      spec.erase(kTunnelAddrField);
      return true;
    });
  }

  const std::string mac = DeriveVtepMac(node_name).String();
  auto set_mac = [&](model::Json& spec) {
    if (!StringField(spec, kMacField).empty()) return false;
    spec[kMacField] = mac;
    return true;
  };

  // Keep the current address when it is ours and still in an eligible pool.
  if (current && current->is_v4() &&
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
  args.num4 = 1;
  args.handle = handle;
  args.attrs = ipam::Json{{"node", node_str}, {"type", std::string(kVxlanTunnelAttrType)}};
  args.host = node_str;
  args.ipv4_pools = eligible;
  args.intended_use = "Tunnel";
  ASSIGN_OR_RETURN(auto assigned, ipam.AutoAssign(args));
  if (assigned.ipv4.empty()) {
    std::string why = assigned.messages.empty() ? "no address available" : assigned.messages[0];
    return Unavailable("assign VXLAN tunnel address for " + node_str + ": " + why);
  }
  const net::IPAddr ip = assigned.ipv4[0].addr();
  CALICO_LOG(info, "tunnel-addr", "assigned VXLAN tunnel address {} to {}", ip.String(), node_str);
  Status st = UpdateNode(client, std::move(node), [&](model::Json& spec) {
    spec[kTunnelAddrField] = ip.String();
    set_mac(spec);
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

}  // namespace calico::agent
