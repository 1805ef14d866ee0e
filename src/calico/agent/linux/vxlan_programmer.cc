// Reproduces Felix's vxlanManager dataplane side (felix/dataplane/linux/vxlan_mgr.go and
// felix/vxlanfdb): the vxlan.calico (IPv4) or vxlan-v6.calico (IPv6) device, its permanent ARP/NDP
// and FDB entries and the remote block routes.
#include "calico/agent/linux/vxlan_programmer.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "calico/base/log.h"
#include "calico/dataplane/netlink.h"

namespace calico::agent {
namespace {

bool Within(const std::vector<net::CIDR>& nets, const net::CIDR& c) {
  return std::any_of(nets.begin(), nets.end(), [&](const net::CIDR& n) { return n.Contains(c); });
}

bool SameRoute(const dataplane::RouteSpec& have, const dataplane::RouteSpec& want) {
  return have.ifindex == want.ifindex && have.gateway == want.gateway && have.type == want.type &&
         have.protocol == want.protocol && have.scope == want.scope && have.onlink == want.onlink;
}

// Routes of protocol `proto` with a gateway inside `pools` (unencapsulated CrossSubnet routes),
// on `ifindex` (0: any device).
bool IsOwnedParentRoute(const dataplane::RouteSpec& r, int proto, int ifindex,
                        const std::vector<net::CIDR>& pools) {
  return r.protocol == proto && r.type == dataplane::kRouteTypeUnicast && r.gateway.has_value() &&
         (ifindex == 0 || r.ifindex == ifindex) && Within(pools, r.dst);
}

}  // namespace

Status VxlanProgrammer::Disable() {
  ASSIGN_OR_RETURN(auto nl, dataplane::NetlinkSocket::Open());
  const std::string_view name = VxlanDeviceName(family_);
  auto dev = nl->GetLink(name);
  if (dev) {
    Status st = nl->DeleteLink(dev->index);
    if (!st && st.error().code() != ErrorCode::kNotFound) {
      return Unexpected(std::move(st).error().Wrap("delete " + std::string(name)));
    }
    ++writes_;
  } else if (dev.error().code() != ErrorCode::kNotFound) {
    return Unexpected(std::move(dev).error());
  }
  if (!owned_pools_.empty()) {
    ASSIGN_OR_RETURN(auto routes, nl->ListRoutes(family_));
    for (const auto& r : routes) {
      if (!IsOwnedParentRoute(r, proto_, 0, owned_pools_)) continue;
      Status st = nl->DeleteRoute(r);
      if (!st && st.error().code() != ErrorCode::kNotFound) {
        return Unexpected(std::move(st).error().Wrap("remove route"));
      }
      ++writes_;
    }
  }
  owned_pools_.clear();
  return OkStatus();
}

Status VxlanProgrammer::Apply(const VxlanState& state) {
  writes_ = 0;
  if (state.family != family_) {
    return InvalidArgument("the IPv" + std::to_string(family_) +
                           " VXLAN programmer was given an IPv" + std::to_string(state.family) +
                           " state");
  }
  if (!state.enabled) return Disable();
  const LocalVtep& local = state.local;
  const std::string name(VxlanDeviceName(family_));
  const bool v6 = family_ == 6;
  ASSIGN_OR_RETURN(auto nl, dataplane::NetlinkSocket::Open());

  // The parent device: the interface holding the node IP.
  ASSIGN_OR_RETURN(auto addrs, nl->ListAddresses(family_));
  int parent_index = 0;
  for (const auto& a : addrs) {
    if (a.addr.addr() == local.parent_ip) parent_index = a.index;
  }
  if (parent_index == 0) {
    return NotFound("no interface holds the VXLAN parent address " + local.parent_ip.String());
  }
  ASSIGN_OR_RETURN(auto parent, nl->GetLink(parent_index));
  const int configured_mtu = v6 ? state.options.mtu_v6 : state.options.mtu;
  const int mtu =
      configured_mtu > 0 ? configured_mtu : parent.mtu - (v6 ? kVxlanV6Overhead : kVxlanOverhead);

  // The device: reuse it when its fixed parameters are right, else recreate it.
  std::optional<dataplane::LinkInfo> dev;
  if (auto found = nl->GetLink(name)) {
    dev = *found;
  } else if (found.error().code() != ErrorCode::kNotFound) {
    return Unexpected(std::move(found).error());
  }
  if (dev) {
    bool right = false;
    if (dev->kind == "vxlan") {
      ASSIGN_OR_RETURN(auto params, nl->GetVxlanParams(dev->index));
      right = params.vni == state.options.vni && params.local == local.parent_ip &&
              params.parent_index == parent_index && params.port == state.options.port &&
              !params.learning;
    }
    if (!right) {
      CALICO_LOG(info, "vxlan", "{} has the wrong parameters, recreating it", name);
      Status st = nl->DeleteLink(dev->index);
      if (!st && st.error().code() != ErrorCode::kNotFound) {
        return Unexpected(std::move(st).error().Wrap("delete " + name));
      }
      ++writes_;
      dev.reset();
    }
  }
  if (!dev) {
    RETURN_IF_ERROR(nl->CreateVxlan(name, state.options.vni, local.parent_ip, parent_index,
                                    state.options.port, mtu, local.mac));
    ++writes_;
    ASSIGN_OR_RETURN(auto created, nl->GetLink(name));
    dev = created;
  }
  const int vx = dev->index;
  if (dev->mac != local.mac) {
    RETURN_IF_ERROR(nl->SetMac(vx, local.mac));
    ++writes_;
  }
  if (dev->mtu != mtu) {
    RETURN_IF_ERROR(nl->SetMtu(vx, mtu));
    ++writes_;
  }

  // Exactly the tunnel address (/32, /128) on the device; IPv6's link-local address (the kernel's)
  // stays.
  net::CIDR tunnel_addr(local.tunnel_ip, v6 ? 128 : 32);
  bool have_addr = false;
  ASSIGN_OR_RETURN(auto dev_addrs, nl->ListAddresses(family_, vx));
  for (const auto& a : dev_addrs) {
    if (a.addr == tunnel_addr) {
      have_addr = true;
      continue;
    }
    if (v6 && a.scope == dataplane::kScopeLink) continue;
    RETURN_IF_ERROR(nl->DeleteAddress(vx, a.addr));
    ++writes_;
  }
  if (!have_addr) {
    RETURN_IF_ERROR(nl->AddAddress(vx, tunnel_addr));
    ++writes_;
  }
  if (!dev->up) {
    RETURN_IF_ERROR(nl->SetUp(vx, true));
    ++writes_;
  }

  // Permanent ARP (NDP) entries: remote tunnel IP -> remote VTEP MAC.
  std::map<net::IPAddr, net::MAC> want_neigh;
  std::set<std::pair<net::MAC, net::IPAddr>> want_fdb;
  for (const RemoteVtep& r : state.remotes) {
    want_neigh[r.tunnel_ip] = r.mac;
    want_fdb.emplace(r.mac, r.parent_ip);
  }
  ASSIGN_OR_RETURN(auto neighs, nl->ListNeighbors(vx, family_));
  std::set<net::IPAddr> neigh_ok;
  for (const dataplane::NeighEntry& n : neighs) {
    auto want = want_neigh.find(n.ip);
    if (want != want_neigh.end() && n.mac == want->second &&
        n.state == dataplane::kNeighPermanent) {
      neigh_ok.insert(n.ip);
      continue;
    }
    // Replaced below; or the kernel's own (without a MAC, not permanent: IPv6 neighbour
    // discovery on the device), which Felix's vxlanfdb resyncFamily leaves alone too.
    if (want != want_neigh.end() || !n.mac || (n.state & dataplane::kNeighPermanent) == 0) {
      continue;
    }
    Status st = nl->DeleteNeighbor({vx, n.ip, n.mac.value_or(net::MAC()), true});
    if (!st && st.error().code() != ErrorCode::kNotFound) {
      return Unexpected(std::move(st).error().Wrap("remove stale neighbour"));
    }
    ++writes_;
  }
  for (const auto& [ip, mac] : want_neigh) {
    if (neigh_ok.count(ip) > 0) continue;
    RETURN_IF_ERROR(nl->ReplaceNeighbor({vx, ip, mac, true}));
    ++writes_;
  }

  // FDB: remote VTEP MAC -> remote parent IP. Stale entries go first, so that a MAC moving to a
  // new node IP ends with exactly one destination.
  ASSIGN_OR_RETURN(auto fdb, nl->ListFdb(vx));
  std::set<std::pair<net::MAC, net::IPAddr>> fdb_ok;
  for (const dataplane::FdbEntry& f : fdb) {
    if (!f.dst) continue;  // not a VXLAN forwarding entry
    std::pair<net::MAC, net::IPAddr> entry{f.mac, *f.dst};
    if (want_fdb.count(entry) > 0 && (f.state & dataplane::kNeighPermanent) != 0) {
      fdb_ok.insert(entry);
      continue;
    }
    Status st = nl->DeleteFdb({vx, f.mac, *f.dst});
    if (!st && st.error().code() != ErrorCode::kNotFound) {
      return Unexpected(std::move(st).error().Wrap("remove stale FDB entry"));
    }
    ++writes_;
  }
  for (const auto& entry : want_fdb) {
    if (fdb_ok.count(entry) > 0) continue;
    RETURN_IF_ERROR(nl->ReplaceFdb({vx, entry.first, entry.second}));
    ++writes_;
  }

  // Routes.
  std::vector<net::CIDR> pools = state.pools;
  pools.insert(pools.end(), owned_pools_.begin(), owned_pools_.end());
  std::map<net::CIDR, dataplane::RouteSpec> want_routes;
  for (const RemoteRoute& r : state.routes) {
    dataplane::RouteSpec spec;
    spec.dst = r.dst.Masked();
    spec.protocol = proto_;
    spec.gateway = r.via;
    if (!r.via) {
      spec.ifindex = vx;
      // IPv6 routes have no scope (the kernel reports universe for every one).
      spec.scope = v6 ? dataplane::kScopeUniverse : dataplane::kScopeLink;
    } else {
      spec.ifindex = r.encap ? vx : parent_index;
      spec.onlink = true;
    }
    want_routes[spec.dst] = spec;
  }
  ASSIGN_OR_RETURN(auto routes, nl->ListRoutes(family_));
  for (const auto& entry : want_routes) {
    const dataplane::RouteSpec& want = entry.second;
    bool ok = std::any_of(routes.begin(), routes.end(), [&](const dataplane::RouteSpec& have) {
      return have.dst == want.dst && SameRoute(have, want);
    });
    if (ok) continue;
    RETURN_IF_ERROR(nl->AddRoute(want, /*replace=*/true));
    ++writes_;
  }
  for (const auto& r : routes) {
    bool owned = (r.ifindex == vx && r.protocol == proto_) ||
                 IsOwnedParentRoute(r, proto_, parent_index, pools);
    if (!owned) continue;
    auto want = want_routes.find(r.dst);
    if (want != want_routes.end()) continue;  // kept or replaced above
    Status st = nl->DeleteRoute(r);
    if (!st && st.error().code() != ErrorCode::kNotFound) {
      return Unexpected(std::move(st).error().Wrap("remove stale route"));
    }
    ++writes_;
  }
  owned_pools_ = state.pools;
  return OkStatus();
}

}  // namespace calico::agent
