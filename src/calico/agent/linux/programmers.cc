#include "calico/agent/linux/programmers.h"

#include <chrono>
#include <map>
#include <utility>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/dataplane/netns.h"
#include "calico/dataplane/workload_net.h"

namespace calico::agent {
namespace {

const net::CIDR kIpv6LinkLocal = *net::CIDR::ParseNet("fe80::/64");
// How long a route through a workload interface that the agent did not make and does not want is
// left before removeExternalRoutes removes it.
constexpr std::chrono::seconds kExternalRouteGrace{10};

}  // namespace

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
  const auto now = std::chrono::steady_clock::now();
  std::set<std::pair<net::CIDR, int>> seen_now;
  for (int family : {4, 6}) {
    if (family == 6 && !options_.ipv6) continue;
    ASSIGN_OR_RETURN(auto routes, nl_->ListRoutes(family));
    // What the kernel has that concerns us: our own routes, and host routes through cali*.
    std::map<net::CIDR, dataplane::RouteSpec> ours;
    // Other routes through workload interfaces (any prefix, any protocol but the agent's).
    std::vector<dataplane::RouteSpec> via_workloads;
    for (const auto& r : routes) {
      // Ours: blackholes and host routes through workload interfaces. Other protocol-80 routes
      // (VXLAN's on vxlan.calico, its CrossSubnet ones via the parent) belong to the overlay.
      const bool via_workload = r.type == dataplane::kRouteTypeUnicast && is_workload_if(r.ifindex);
      bool workload = via_workload && !r.gateway && r.dst.prefix_len() == r.dst.addr().bit_len();
      bool blackhole = r.type == dataplane::kRouteTypeBlackhole && r.protocol == proto_;
      if (workload || blackhole) ours[r.dst] = r;
      if (via_workload && r.protocol != proto_ && !kIpv6LinkLocal.Contains(r.dst)) {
        via_workloads.push_back(r);
      }
    }
    std::set<net::CIDR> wanted;
    for (const OwnedRoute& want : desired) {
      if (want.dst.family() != family) continue;
      wanted.insert(want.dst);
      dataplane::RouteSpec spec;
      spec.dst = want.dst;
      spec.protocol = proto_;
      if (!want.blackhole) spec.prefsrc = family == 4 ? options_.source_v4 : options_.source_v6;
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
          have->second.type == spec.type && !have->second.gateway &&
          have->second.prefsrc == spec.prefsrc) {
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
    // removeExternalRoutes: the routes through workload interfaces that someone else made and the
    // agent does not want go too, once they have been seen for the grace period (the CNI plugin
    // adds a workload's route before the agent hears of the workload; Felix's route table gives
    // new interfaces the same grace).
    for (const dataplane::RouteSpec& r : via_workloads) {
      if (!options_.remove_external_routes || wanted.count(r.dst) > 0) continue;
      const auto key = std::pair(r.dst, r.ifindex);
      seen_now.insert(key);
      auto first = external_seen_.emplace(key, now).first->second;
      if (now - first < kExternalRouteGrace) continue;
      Status st = nl_->DeleteRoute(r);
      if (!st && st.error().code() != ErrorCode::kNotFound) {
        CALICO_LOG(warn, "agent", "cannot remove route {}: {}", r.dst.String(),
                   st.error().message());
        continue;
      }
      CALICO_LOG(info, "agent", "removed route {} through {} (removeExternalRoutes)",
                 r.dst.String(), name_of[r.ifindex]);
      ++stats.removed;
    }
  }
  std::erase_if(external_seen_, [&](const auto& e) { return seen_now.count(e.first) == 0; });
  return stats;
}

Status NetlinkRouteProgrammer::ConfigureInterface(const std::string& ifname, bool v4, bool v6) {
  return dataplane::ConfigureHostInterface(ifname, v4, v6);
}

Status NetlinkRouteProgrammer::SetRpFilter(const std::string& ifname, bool off) {
  const std::string key = dataplane::InterfaceSysctl("ipv4", ifname, "rp_filter");
  if (!dataplane::ReadSysctl(key)) return NotFound("interface " + ifname + " not found");
  std::string value = "0";
  if (!off) {
    // Felix reads the default once at start (int_dataplane.go; "1" when unreadable).
    auto def = dataplane::ReadSysctl("net/ipv4/conf/default/rp_filter");
    value = def ? *def : "1";
  }
  return dataplane::WriteSysctl(key, value);
}

}  // namespace calico::agent
