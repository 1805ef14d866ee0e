#include "calico/agent/ipip.h"

#include <linux/rtnetlink.h>

#include <algorithm>
#include <set>

#include "calico/base/log.h"
#include "calico/dataplane/netlink.h"

namespace calico::agent {

IpipState ComputeIpipState(std::string_view node, const VxlanInputs& inputs) {
  IpipState state;
  std::vector<std::pair<net::CIDR, EncapMode>> ipip_pools;
  for (const auto& [name, pool] : inputs.pools) {
    if (pool.ipip_mode == EncapMode::kNever || pool.cidr.family() != 4) continue;
    ipip_pools.emplace_back(pool.cidr, pool.ipip_mode);
    state.pools.push_back(pool.cidr);
  }
  std::sort(state.pools.begin(), state.pools.end());
  state.enabled = !ipip_pools.empty();
  if (!state.enabled) return state;
  std::optional<net::CIDR> local;
  if (auto it = inputs.nodes.find(std::string(node)); it != inputs.nodes.end())
    local = it->second.parent;
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

Status IpipProgrammer::Apply(const IpipState& state) {
  ASSIGN_OR_RETURN(auto nl, dataplane::NetlinkSocket::Open());
  auto tunl = nl->GetLink("tunl0");
  if (!state.enabled) {
    if (!tunl) return OkStatus();
    // Routes through tunl0 that are ours go; the device belongs to the ipip module.
    ASSIGN_OR_RETURN(auto routes, nl->ListRoutes(4));
    for (const auto& r : routes) {
      if (r.ifindex == tunl->index && r.protocol == proto_) {
        Status st = nl->DeleteRoute(r);
        if (!st)
          CALICO_LOG(warn, "agent", "removing IPIP route {}: {}", r.dst.String(),
                     st.error().message());
      }
    }
    return OkStatus();
  }
  if (!tunl) {
    return MakeError(ErrorCode::kUnsupported,
                     "IPIP pools need the kernel's ipip module (tunl0), which this host lacks: "
                     "load it (modprobe ipip) or use vxlanMode for the pool");
  }
  if (!tunl->up) RETURN_IF_ERROR(nl->SetUp(tunl->index, true));
  if (tunl->mtu != 1480) RETURN_IF_ERROR(nl->SetMtu(tunl->index, 1480));
  ASSIGN_OR_RETURN(auto routes, nl->ListRoutes(4));
  std::set<net::CIDR> wanted;
  for (const IpipRoute& want : state.routes) {
    wanted.insert(want.dst);
    dataplane::RouteSpec spec;
    spec.dst = want.dst;
    spec.gateway = want.via;
    spec.protocol = proto_;
    if (want.encap) {
      spec.ifindex = tunl->index;
      spec.onlink = true;
    }
    bool have = std::any_of(routes.begin(), routes.end(), [&](const dataplane::RouteSpec& r) {
      return r.dst == spec.dst && r.gateway == spec.gateway && r.protocol == proto_ &&
             (!want.encap || r.ifindex == tunl->index);
    });
    if (!have) RETURN_IF_ERROR(nl->AddRoute(spec, /*replace=*/true));
  }
  for (const auto& r : routes) {
    if (r.protocol != proto_ || wanted.count(r.dst) > 0) continue;
    bool inside_pool = std::any_of(state.pools.begin(), state.pools.end(),
                                   [&](const net::CIDR& p) { return p.Contains(r.dst); });
    if (r.ifindex == tunl->index || (inside_pool && r.gateway)) {
      Status st = nl->DeleteRoute(r);
      if (!st)
        CALICO_LOG(warn, "agent", "removing IPIP route {}: {}", r.dst.String(),
                   st.error().message());
    }
  }
  return OkStatus();
}

}  // namespace calico::agent
