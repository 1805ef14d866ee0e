// IpipProgrammer: tunl0 (address, MTU, up) and the routes of the IPIP overlay in the calling
// thread's network namespace (felix/dataplane/linux/ipip_mgr.go: the device as keepDeviceInSync
// makes it, the routes when BIRD does not program them; cleanUpIPIPAddrs when IPIP is off).
#include "calico/agent/linux/ipip_programmer.h"

#include <algorithm>
#include <set>

#include "calico/base/log.h"
#include "calico/dataplane/netlink.h"

namespace calico::agent {
namespace {

// The MTU tunl0 should have: ipipMTU, else the MTU of the interface holding the node's address
// minus 20 (1500 - 20 when that interface is unknown).
Result<int> WantedMtu(dataplane::NetlinkSocket& nl, const IpipState& state) {
  if (state.options.mtu > 0) return state.options.mtu;
  int parent_mtu = 1500;
  if (state.parent_ip) {
    ASSIGN_OR_RETURN(auto addrs, nl.ListAddresses(4));
    for (const auto& a : addrs) {
      if (a.addr.addr() != *state.parent_ip) continue;
      ASSIGN_OR_RETURN(auto link, nl.GetLink(a.index));
      parent_mtu = link.mtu;
    }
  }
  return parent_mtu - kIpipOverhead;
}

}  // namespace

Status IpipProgrammer::Apply(const IpipState& state) {
  writes_ = 0;
  ASSIGN_OR_RETURN(auto nl, dataplane::NetlinkSocket::Open());
  auto tunl = nl->GetLink(kIpipDeviceName);
  if (!state.enabled) {
    if (!tunl) return OkStatus();
    // Routes through tunl0 that are ours go, and its addresses (cleanUpIPIPAddrs); the device
    // belongs to the ipip module.
    ASSIGN_OR_RETURN(auto routes, nl->ListRoutes(4));
    for (const auto& r : routes) {
      if (r.ifindex == tunl->index && r.protocol == proto_) {
        Status st = nl->DeleteRoute(r);
        if (!st) {
          CALICO_LOG(warn, "agent", "removing IPIP route {}: {}", r.dst.String(),
                     st.error().message());
        } else {
          ++writes_;
        }
      }
    }
    ASSIGN_OR_RETURN(auto addrs, nl->ListAddresses(4, tunl->index));
    for (const auto& a : addrs) {
      RETURN_IF_ERROR(nl->DeleteAddress(tunl->index, a.addr));
      ++writes_;
    }
    return OkStatus();
  }
  if (!tunl) {
    return MakeError(ErrorCode::kUnsupported,
                     "IPIP pools need the kernel's ipip module (tunl0), which this host lacks: "
                     "load it (modprobe ipip) or use vxlanMode for the pool");
  }
  ASSIGN_OR_RETURN(int mtu, WantedMtu(*nl, state));
  if (tunl->mtu != mtu) {
    RETURN_IF_ERROR(nl->SetMtu(tunl->index, mtu));
    ++writes_;
  }
  // Exactly the tunnel address (/32) on tunl0; none until calico-node has allocated it.
  bool have_addr = false;
  ASSIGN_OR_RETURN(auto addrs, nl->ListAddresses(4, tunl->index));
  for (const auto& a : addrs) {
    if (state.tunnel_ip && a.addr == net::CIDR(*state.tunnel_ip, 32)) {
      have_addr = true;
      continue;
    }
    RETURN_IF_ERROR(nl->DeleteAddress(tunl->index, a.addr));
    ++writes_;
  }
  if (state.tunnel_ip && !have_addr) {
    RETURN_IF_ERROR(nl->AddAddress(tunl->index, net::CIDR(*state.tunnel_ip, 32)));
    ++writes_;
  }
  if (!tunl->up) {
    RETURN_IF_ERROR(nl->SetUp(tunl->index, true));
    ++writes_;
  }
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
    if (!have) {
      RETURN_IF_ERROR(nl->AddRoute(spec, /*replace=*/true));
      ++writes_;
    }
  }
  for (const auto& r : routes) {
    if (r.protocol != proto_ || wanted.count(r.dst) > 0) continue;
    bool inside_pool = std::any_of(state.pools.begin(), state.pools.end(),
                                   [&](const net::CIDR& p) { return p.Contains(r.dst); });
    if (r.ifindex == tunl->index || (inside_pool && r.gateway)) {
      Status st = nl->DeleteRoute(r);
      if (!st) {
        CALICO_LOG(warn, "agent", "removing IPIP route {}: {}", r.dst.String(),
                   st.error().message());
      } else {
        ++writes_;
      }
    }
  }
  return OkStatus();
}

}  // namespace calico::agent
