#include "calico/agent/ipip.h"

#include <algorithm>
#include <set>

namespace calico::agent {

IpipState ComputeIpipState(std::string_view node, const VxlanInputs& inputs,
                           const IpipOptions& options) {
  IpipState state;
  state.options = options;
  std::vector<std::pair<net::CIDR, EncapMode>> ipip_pools;
  for (const auto& [name, pool] : inputs.pools) {
    if (pool.ipip_mode == EncapMode::kNever || pool.cidr.family() != 4) continue;
    ipip_pools.emplace_back(pool.cidr, pool.ipip_mode);
    state.pools.push_back(pool.cidr);
  }
  std::sort(state.pools.begin(), state.pools.end());
  state.enabled = options.enabled.value_or(!ipip_pools.empty());
  if (!state.enabled) {
    state.pools.clear();
    return state;
  }
  std::optional<net::CIDR> local;
  if (auto it = inputs.nodes.find(std::string(node)); it != inputs.nodes.end()) {
    local = it->second.parent;
    state.tunnel_ip = it->second.ipip_tunnel_ip;
    if (local) state.parent_ip = local->addr();
  }
  std::set<net::CIDR> blocks;
  for (const auto& [cidr, owner] : inputs.block_owner)
    blocks.insert(cidr);
  for (const auto& [cidr, owner] : inputs.affinity_owner)
    blocks.insert(cidr);
  for (const net::CIDR& block : blocks) {
    std::string owner = inputs.OwnerOf(block);
    if (owner.empty() || owner == node) continue;
    auto pool = std::find_if(ipip_pools.begin(), ipip_pools.end(),
                             [&](const auto& p) { return p.first.Contains(block); });
    if (pool == ipip_pools.end()) continue;
    auto n = inputs.nodes.find(owner);
    if (n == inputs.nodes.end() || !n->second.parent) continue;
    const net::CIDR& parent = *n->second.parent;
    bool same_subnet = local && local->Masked() == parent.Masked();
    bool encap = pool->second == EncapMode::kAlways || !same_subnet;
    state.routes.push_back({block, parent.addr(), encap});
  }
  std::sort(state.routes.begin(), state.routes.end());
  return state;
}

}  // namespace calico::agent
