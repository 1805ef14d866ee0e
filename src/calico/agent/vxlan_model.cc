// Reproduces Felix's VXLAN calculation (felix/calc/vxlan_resolver.go, the route resolver's block
// routes and felix/dataplane/linux/vxlan_mgr.go's route choice), reference §3.7.
#include "calico/agent/vxlan_model.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "calico/base/strings.h"
#include "calico/datastore/keys.h"
#include "calico/ipam/block.h"
#include "calico/model/v3/ipam.h"
#include "calico/model/v3/node.h"

namespace calico::agent {
namespace {

// The VXLAN-relevant part of a Node resource.
VxlanNodeInfo NodeInfo(const model::v3::Node& node) {
  VxlanNodeInfo info;
  if (node.spec.bgp) {
    const std::string& addr = node.spec.bgp->ipv4_address;
    if (auto cidr = net::CIDR::ParseNet(addr); cidr && cidr->family() == 4) info.parent = *cidr;
  }
  if (auto ip = net::IPAddr::Parse(node.spec.ipv4_vxlan_tunnel_addr); ip && ip->is_v4()) {
    info.tunnel_ip = *ip;
  }
  if (auto mac = net::MAC::Parse(node.spec.vxlan_tunnel_mac_addr)) info.mac = *mac;
  if (node.spec.bgp) {
    const std::string& addr = node.spec.bgp->ipv6_address;
    if (auto cidr = net::CIDR::ParseNet(addr); cidr && cidr->family() == 6) info.parent6 = *cidr;
    auto ipip = net::IPAddr::Parse(node.spec.bgp->ipv4_ipip_tunnel_addr);
    if (ipip && ipip->is_v4()) info.ipip_tunnel_ip = *ipip;
  }
  if (auto ip = net::IPAddr::Parse(node.spec.ipv6_vxlan_tunnel_addr); ip && ip->is_v6()) {
    info.tunnel_ip6 = *ip;
  }
  if (auto mac = net::MAC::Parse(node.spec.vxlan_tunnel_mac_addr_v6)) info.mac6 = *mac;
  return info;
}

// A stored resource of `key`, decoded by `decode`; nullopt when the value is unreadable.
template <typename T, typename F>
std::optional<T> DecodeStored(std::string_view key, std::string_view value, F&& decode) {
  auto r = datastore::DecodeStoredResource(key, value, 0);
  if (!r) return std::nullopt;
  auto typed = decode(*r);
  if (!typed) return std::nullopt;
  return *std::move(typed);
}

bool Within(const std::vector<net::CIDR>& nets, const net::CIDR& c) {
  return std::any_of(nets.begin(), nets.end(), [&](const net::CIDR& n) { return n.Contains(c); });
}

}  // namespace

EncapMode ParseEncapMode(std::string_view text) {
  if (text == "Always") return EncapMode::kAlways;
  if (text == "CrossSubnet") return EncapMode::kCrossSubnet;
  return EncapMode::kNever;
}

bool VxlanInputs::Ingest(std::string_view key, std::string_view value) {
  if (auto rkey = datastore::ResourceKey::Parse(key)) {
    const std::string& kind = rkey->kind->kind;
    if (kind == "Node") {
      auto node = DecodeStored<model::v3::Node>(key, value, model::v3::DecodeNode);
      if (!node) {
        nodes.erase(rkey->name);
      } else {
        nodes[rkey->name] = NodeInfo(*node);
      }
      return true;
    }
    if (kind == "IPPool") {
      auto pool = DecodeStored<model::v3::IPPool>(key, value, model::v3::DecodeIPPool);
      std::optional<net::CIDR> cidr;
      if (pool) cidr = net::CIDR::ParseNet(pool->spec.cidr);
      if (!cidr) {
        pools.erase(rkey->name);
      } else {
        pools[rkey->name] = {cidr->Masked(), ParseEncapMode(pool->spec.vxlan_mode.value_or("")),
                             ParseEncapMode(pool->spec.ipip_mode.value_or(""))};
      }
      return true;
    }
    return false;
  }
  if (auto bkey = datastore::BlockKey::Parse(key)) {
    auto block = ipam::Block::FromJson(value);
    if (!block || block->deleted()) {
      block_owner.erase(bkey->cidr);
    } else {
      // A known block without a host affinity overrides any affinity key: record it as "".
      block_owner[bkey->cidr] = StartsWith(block->affinity(), "host:") ? block->host() : "";
    }
    return true;
  }
  if (auto akey = datastore::BlockAffinityKey::Parse(key)) {
    if (akey->affinity_type != "host") return false;
    auto affinity = datastore::BlockAffinity::Parse(value);
    // A value that is not an affinity object (also an empty one) is not live.
    const bool live =
        !value.empty() && affinity && !affinity->deleted && affinity->state != "pendingDeletion";
    if (live) {
      affinity_owner[akey->cidr] = akey->host;
    } else if (auto it = affinity_owner.find(akey->cidr);
               it != affinity_owner.end() && it->second == akey->host) {
      affinity_owner.erase(it);
    }
    return true;
  }
  return false;
}

bool VxlanInputs::Remove(std::string_view key) {
  if (auto rkey = datastore::ResourceKey::Parse(key)) {
    const std::string& kind = rkey->kind->kind;
    if (kind == "Node") {
      nodes.erase(rkey->name);
      return true;
    }
    if (kind == "IPPool") {
      pools.erase(rkey->name);
      return true;
    }
    return false;
  }
  if (auto bkey = datastore::BlockKey::Parse(key)) {
    block_owner.erase(bkey->cidr);
    return true;
  }
  if (auto akey = datastore::BlockAffinityKey::Parse(key)) {
    if (akey->affinity_type != "host") return false;
    if (auto it = affinity_owner.find(akey->cidr);
        it != affinity_owner.end() && it->second == akey->host) {
      affinity_owner.erase(it);
    }
    return true;
  }
  return false;
}

std::string VxlanInputs::OwnerOf(const net::CIDR& block) const {
  if (auto it = block_owner.find(block); it != block_owner.end()) return it->second;
  if (auto it = affinity_owner.find(block); it != affinity_owner.end()) return it->second;
  return "";
}

namespace {

// Felix's vxlanManager for one IP version (felix/dataplane/linux/vxlan_mgr.go, ipVersion).
VxlanState ComputeFamily(int family, std::string_view node, const VxlanInputs& inputs,
                         const VxlanOptions& options, bool forced) {
  VxlanState state;
  state.family = family;
  state.options = options;
  const int host_bits = family == 6 ? 128 : 32;

  // VTEPs: nodes with a parent IP and a tunnel IP of this family (Felix's VXLANResolver sends a
  // VTEPUpdate with that family's part only then).
  auto vtep_of = [family](const std::string& name,
                          const VxlanNodeInfo& info) -> std::optional<RemoteVtep> {
    const auto& parent = family == 6 ? info.parent6 : info.parent;
    const auto& tunnel = family == 6 ? info.tunnel_ip6 : info.tunnel_ip;
    const auto& mac = family == 6 ? info.mac6 : info.mac;
    if (!parent || !tunnel) return std::nullopt;
    return RemoteVtep{name, parent->addr(), *tunnel,
                      mac ? *mac : DeriveVtepMac(family == 6 ? name + "-v6" : name)};
  };
  std::optional<net::CIDR> local_parent;
  std::map<std::string, RemoteVtep> vteps;
  for (const auto& [name, info] : inputs.nodes) {
    auto vtep = vtep_of(name, info);
    if (!vtep) continue;
    if (name == node) {
      state.local = {vtep->parent_ip, vtep->tunnel_ip, vtep->mac};
      local_parent = (family == 6 ? info.parent6 : info.parent)->Masked();
      continue;
    }
    vteps.emplace(name, *vtep);
  }

  std::vector<std::pair<net::CIDR, EncapMode>> vxlan_pools;
  for (const auto& [name, pool] : inputs.pools) {
    if (pool.vxlan_mode == EncapMode::kNever || pool.cidr.family() != family) continue;
    vxlan_pools.emplace_back(pool.cidr, pool.vxlan_mode);
    state.pools.push_back(pool.cidr);
  }
  std::sort(state.pools.begin(), state.pools.end());
  state.pools.erase(std::unique(state.pools.begin(), state.pools.end()), state.pools.end());
  state.enabled = (!vxlan_pools.empty() || forced) && local_parent.has_value();
  if (!state.enabled) {
    state.pools.clear();
    return state;
  }
  for (const auto& [name, vtep] : vteps) {
    state.remotes.push_back(vtep);
  }

  // Blocks: the union of the known blocks and affinity keys, each with its owner.
  std::set<net::CIDR> blocks;
  for (const auto& [cidr, owner] : inputs.block_owner) {
    blocks.insert(cidr);
  }
  for (const auto& [cidr, owner] : inputs.affinity_owner) {
    blocks.insert(cidr);
  }

  std::map<net::CIDR, RemoteRoute> routes;
  std::map<std::string, std::vector<net::CIDR>> covering_blocks;  // node -> its non-/32 blocks
  for (const net::CIDR& block : blocks) {
    std::string owner = inputs.OwnerOf(block);
    if (owner.empty() || owner == node) continue;
    auto vtep = vteps.find(owner);
    if (vtep == vteps.end()) continue;  // incomplete VTEP: nothing to route through
    // The pool holding the block (the most specific one, should pools ever nest).
    std::optional<std::pair<net::CIDR, EncapMode>> pool;
    for (const auto& p : vxlan_pools) {
      if (p.first.Contains(block) && (!pool || p.first.prefix_len() > pool->first.prefix_len())) {
        pool = p;
      }
    }
    if (!pool) continue;
    if (block.prefix_len() < host_bits) covering_blocks[owner].push_back(block);
    bool same_subnet =
        pool->second == EncapMode::kCrossSubnet && local_parent->Contains(vtep->second.parent_ip);
    if (same_subnet) {
      routes[block] = {block, owner, vtep->second.parent_ip, false};
    } else {
      routes[block] = {block, owner, vtep->second.tunnel_ip, true};
    }
  }
  // Remote tunnel IPs not reachable through one of their node's blocks: direct on the device.
  for (const RemoteVtep& vtep : state.remotes) {
    const auto& own = covering_blocks[vtep.node];
    net::CIDR host(vtep.tunnel_ip, host_bits);
    if (Within(own, host)) continue;
    routes[host] = {host, vtep.node, std::nullopt, true};
  }
  for (auto& [dst, route] : routes) {
    state.routes.push_back(std::move(route));
  }
  return state;
}

}  // namespace

VxlanState ComputeVxlanState(std::string_view node, const VxlanInputs& inputs,
                             const VxlanOptions& options, bool forced) {
  return ComputeFamily(4, node, inputs, options, forced);
}

VxlanState ComputeVxlanStateV6(std::string_view node, const VxlanInputs& inputs,
                               const VxlanOptions& options) {
  return ComputeFamily(6, node, inputs, options, /*forced=*/false);
}

std::string_view VxlanDeviceName(int family) {
  return family == 6 ? kVxlanV6DeviceName : kVxlanDeviceName;
}

std::array<uint8_t, 20> Sha1(std::string_view data) {
  std::array<uint32_t, 5> h = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
  std::vector<uint8_t> msg(data.begin(), data.end());
  uint64_t bit_len = static_cast<uint64_t>(msg.size()) * 8;
  msg.push_back(0x80);
  while (msg.size() % 64 != 56) {
    msg.push_back(0);
  }
  for (int i = 7; i >= 0; --i) {
    msg.push_back(static_cast<uint8_t>(bit_len >> (i * 8)));
  }
  auto rotl = [](uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  for (size_t chunk = 0; chunk < msg.size(); chunk += 64) {
    std::array<uint32_t, 80> w{};
    for (size_t i = 0; i < 16; ++i) {
      const uint8_t* p = &msg[chunk + i * 4];
      w[i] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    }
    for (size_t i = 16; i < 80; ++i) {
      w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (size_t i = 0; i < 80; ++i) {
      uint32_t f = 0;
      uint32_t k = 0;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999u;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1u;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDCu;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6u;
      }
      uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::array<uint8_t, 20> out{};
  for (size_t i = 0; i < 5; ++i) {
    for (size_t j = 0; j < 4; ++j) {
      out[i * 4 + j] = static_cast<uint8_t>(h[i] >> (24 - 8 * j));
    }
  }
  return out;
}

net::MAC DeriveVtepMac(std::string_view node) {
  auto sha = Sha1(node);
  return net::MAC({0x66, sha[0], sha[1], sha[2], sha[3], sha[4]});
}

}  // namespace calico::agent
