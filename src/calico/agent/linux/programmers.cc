#include "calico/agent/linux/programmers.h"

#include <map>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/dataplane/workload_net.h"

namespace calico::agent {

Result<RouteSyncStats> NetlinkRouteProgrammer::Sync(const std::set<OwnedRoute>& desired) {
  if (!nl_) {
    ASSIGN_OR_RETURN(nl_, dataplane::NetlinkSocket::Open());
  }
  ASSIGN_OR_RETURN(auto links, nl_->ListLinks());
  std::map<std::string, int> index_of;
  std::map<int, std::string> name_of;
  for (const auto& l : links) {
    index_of[l.name] = l.index;
    name_of[l.index] = l.name;
  }
  auto is_workload_if = [&](int index) {
    auto it = name_of.find(index);
    if (it == name_of.end()) return false;
    for (const auto& p : prefixes_) {
      if (StartsWith(it->second, p)) return true;
    }
    return false;
  };
  RouteSyncStats stats;
  for (int family : {4, 6}) {
    ASSIGN_OR_RETURN(auto routes, nl_->ListRoutes(family));
    // What the kernel has that concerns us: our own routes, and host routes through cali*.
    std::map<net::CIDR, dataplane::RouteSpec> ours;
    for (const auto& r : routes) {
      // Ours: blackholes and host routes through workload interfaces. Other protocol-80 routes
      // (VXLAN's on vxlan.calico, its CrossSubnet ones via the parent) belong to the overlay.
      bool workload = r.type == dataplane::kRouteTypeUnicast && !r.gateway &&
                      is_workload_if(r.ifindex) && r.dst.prefix_len() == r.dst.addr().bit_len();
      bool blackhole = r.type == dataplane::kRouteTypeBlackhole && r.protocol == proto_;
      if (workload || blackhole) ours[r.dst] = r;
    }
    std::set<net::CIDR> wanted;
    for (const OwnedRoute& want : desired) {
      if (want.dst.family() != family) continue;
      wanted.insert(want.dst);
      dataplane::RouteSpec spec;
      spec.dst = want.dst;
      spec.protocol = proto_;
      if (want.blackhole) {
        spec.type = dataplane::kRouteTypeBlackhole;
      } else {
        auto idx = index_of.find(want.ifname);
        if (idx == index_of.end()) {
          ++stats.waiting;
          continue;
        }
        spec.ifindex = idx->second;
        spec.scope = dataplane::kScopeLink;
      }
      auto have = ours.find(want.dst);
      if (have != ours.end() && have->second.ifindex == spec.ifindex &&
          have->second.type == spec.type && !have->second.gateway) {
        continue;  // already right (the CNI plugin's route counts)
      }
      Status st = nl_->AddRoute(spec, /*replace=*/true);
      if (!st) {
        CALICO_LOG(warn, "agent", "cannot program route {}: {}", want.dst.String(),
                   st.error().message());
        continue;
      }
      ++stats.added;
    }
    for (const auto& [dst, r] : ours) {
      if (wanted.count(dst) > 0 || r.protocol != proto_) continue;
      Status st = nl_->DeleteRoute(r);
      if (!st && st.error().code() != ErrorCode::kNotFound) {
        CALICO_LOG(warn, "agent", "cannot remove route {}: {}", dst.String(), st.error().message());
        continue;
      }
      ++stats.removed;
    }
  }
  return stats;
}

Status NetlinkRouteProgrammer::ConfigureInterface(const std::string& ifname, bool v4, bool v6) {
  return dataplane::ConfigureHostInterface(ifname, v4, v6);
}

}  // namespace calico::agent
