// IpipProgrammer: tunl0 and the routes of the IPIP overlay in the calling thread's network
// namespace (Felix's IPIP manager when BIRD does not program them).
#include "calico/agent/linux/ipip_programmer.h"

#include <algorithm>
#include <set>

#include "calico/base/log.h"
#include "calico/dataplane/netlink.h"

namespace calico::agent {

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
