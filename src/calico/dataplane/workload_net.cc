#include "calico/dataplane/workload_net.h"

#include <linux/rtnetlink.h>

#include <chrono>
#include <memory>
#include <thread>

#include "calico/base/cleanup.h"
#include "calico/base/log.h"
#include "calico/dataplane/netlink.h"
#include "calico/dataplane/netns.h"

namespace calico::dataplane {
namespace {

Status Step(Status st, std::string_view what) {
  if (!st) return Unexpected(st.error().Wrap(what));
  return OkStatus();
}

bool HasV4(const WorkloadNetSpec& spec) {
  for (const auto& ip : spec.addresses) {
    if (ip.is_v4()) return true;
  }
  return false;
}
bool HasV6(const WorkloadNetSpec& spec) {
  for (const auto& ip : spec.addresses) {
    if (ip.is_v6()) return true;
  }
  return false;
}

// Sysctls on the host end (reference 1.8 step 6), in the calling thread's (host) namespace.
Status ConfigureHostVeth(const WorkloadNetSpec& spec) {
  const std::string& x = spec.host_ifname;
  if (HasV4(spec)) {
    RETURN_IF_ERROR(Step(WriteSysctl(InterfaceSysctl("ipv4", x, "route_localnet"), "1"),
                         "failed to set route_localnet on the host veth"));
    Status delay = WriteSysctl("net/ipv4/neigh/" + x + "/proxy_delay", "0");
    if (!delay)
      CALICO_LOG(warn, "cni", "cannot set proxy_delay=0 on {}: {}", x, delay.error().message());
    RETURN_IF_ERROR(Step(WriteSysctl(InterfaceSysctl("ipv4", x, "proxy_arp"), "1"),
                         "failed to set proxy_arp on the host veth"));
    RETURN_IF_ERROR(Step(WriteSysctl(InterfaceSysctl("ipv4", x, "forwarding"), "1"),
                         "failed to enable forwarding on the host veth"));
  }
  if (HasV6(spec)) {
    for (auto [key, value] : {std::pair{"accept_dad", "0"}, std::pair{"disable_ipv6", "0"},
                              std::pair{"proxy_ndp", "1"}, std::pair{"forwarding", "1"}}) {
      RETURN_IF_ERROR(Step(WriteSysctl(InterfaceSysctl("ipv6", x, key), value),
                           std::string("failed to set ") + key + " on the host veth"));
    }
  }
  Status ra = WriteSysctl(InterfaceSysctl("ipv6", x, "accept_ra"), "0");
  if (!ra) CALICO_LOG(debug, "cni", "cannot set accept_ra=0 on {}: {}", x, ra.error().message());
  return OkStatus();
}

// The host end's IPv6 link-local address: the container's IPv6 gateway. It appears once both
// ends are up; DAD is off on the host end so that is quick.
Result<net::IPAddr> HostLinkLocal(NetlinkSocket& host, int index, const std::string& name) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    ASSIGN_OR_RETURN(auto addrs, host.ListAddresses(6, index));
    for (const AddrInfo& a : addrs) {
      if (a.scope == RT_SCOPE_LINK) return a.addr.addr();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Unavailable("the host veth " + name +
                     " has no IPv6 link-local address (is IPv6 disabled on the host?)");
}

Status AddHostRoute(NetlinkSocket& host, int index, const net::IPAddr& ip,
                    const std::string& veth) {
  RouteSpec route;
  route.dst = net::CIDR(ip, ip.bit_len());
  route.ifindex = index;
  route.scope = RT_SCOPE_LINK;
  Status st = host.AddRoute(route);
  if (st || st.error().code() != ErrorCode::kAlreadyExists) {
    return Step(std::move(st), "failed to add host route");
  }
  // An identical route (typically the agent's) is fine; one through another interface is not.
  ASSIGN_OR_RETURN(auto routes, host.ListRoutes(ip.family()));
  for (const RouteSpec& r : routes) {
    if (r.dst == route.dst && r.ifindex == index && r.scope == route.scope) return OkStatus();
  }
  return AlreadyExists("route to " + route.dst.String() +
                       " already exists for an interface other than '" + veth + "'");
}

}  // namespace

std::string HostVethNameForContainer(std::string_view container_id, std::string_view prefix) {
  return std::string(prefix) + std::string(container_id.substr(0, 11));
}

Result<WorkloadNet> SetUpWorkload(const WorkloadNetSpec& spec) {
  if (spec.host_ifname.empty() || spec.host_ifname.size() > 15) {
    return InvalidArgument("invalid host interface name \"" + spec.host_ifname + "\"");
  }
  if (spec.container_ifname.empty() || spec.container_ifname.size() > 15) {
    return InvalidArgument("invalid container interface name \"" + spec.container_ifname + "\"");
  }
  ASSIGN_OR_RETURN(NetnsFd host_ns, NetnsFd::Current());
  auto container_ns = NetnsFd::Open(spec.netns_path);
  if (!container_ns)
    return Unexpected(container_ns.error().Wrap("failed to open the container netns"));
  ASSIGN_OR_RETURN(auto host, NetlinkSocket::Open());

  // A leftover host end from an earlier, interrupted ADD is replaced.
  if (auto old = host->GetLink(spec.host_ifname)) {
    RETURN_IF_ERROR(Step(host->DeleteLink(old->index), "failed to delete stale host veth"));
  }

  std::unique_ptr<NetlinkSocket> cont;
  auto make_pair = [&]() -> Status {
    ASSIGN_OR_RETURN(cont, NetlinkSocket::Open());
    if (cont->GetLink(spec.container_ifname)) {
      return AlreadyExists("container already has an interface named " + spec.container_ifname);
    }
    return Step(cont->CreateVeth(spec.container_ifname, spec.host_ifname, spec.mtu, host_ns.fd(),
                                 spec.num_queues),
                "failed to create the veth pair");
  };
  RETURN_IF_ERROR(RunInNetns(*container_ns, make_pair));

  // From here on a failure deletes the pair (and with it every route through it).
  Cleanup rollback([&] {
    if (auto link = host->GetLink(spec.host_ifname)) {
      Status st = host->DeleteLink(link->index);
      if (!st)
        CALICO_LOG(warn, "cni", "rollback: cannot delete {}: {}", spec.host_ifname,
                   st.error().message());
    }
  });

  ASSIGN_OR_RETURN(LinkInfo host_link, host->GetLink(spec.host_ifname));
  ASSIGN_OR_RETURN(LinkInfo cont_link, cont->GetLink(spec.container_ifname));

  // Fixed host-side MAC; keep the kernel's if the driver refuses (as Calico does).
  auto fixed = *net::MAC::Parse(kHostVethMac);
  Status mac = host->SetMac(host_link.index, fixed);
  if (!mac)
    CALICO_LOG(warn, "cni", "cannot set MAC of {}: {}", spec.host_ifname, mac.error().message());

  const bool v4 = HasV4(spec);
  const bool v6 = HasV6(spec);
  auto enable_v6 = [&]() -> Status {
    for (const char* dev : {"all", "default", "lo"}) {
      RETURN_IF_ERROR(Step(WriteSysctl(InterfaceSysctl("ipv6", dev, "disable_ipv6"), "0"),
                           "failed to enable IPv6 in the container"));
    }
    return Step(WriteSysctl(InterfaceSysctl("ipv6", spec.container_ifname, "accept_dad"), "0"),
                "failed to disable DAD in the container");
  };
  if (v6) RETURN_IF_ERROR(RunInNetns(*container_ns, enable_v6));
  RETURN_IF_ERROR(ConfigureHostVeth(spec));
  RETURN_IF_ERROR(Step(host->SetUp(host_link.index, true), "failed to set the host veth up"));
  RETURN_IF_ERROR(Step(cont->SetUp(cont_link.index, true), "failed to set the container veth up"));

  if (v4) {
    auto gw = *net::IPAddr::Parse(kGatewayV4);
    RouteSpec to_gw;
    to_gw.dst = net::CIDR(gw, 32);
    to_gw.ifindex = cont_link.index;
    to_gw.scope = RT_SCOPE_LINK;
    RETURN_IF_ERROR(Step(cont->AddRoute(to_gw), "failed to add route inside the container"));
    RouteSpec def;
    def.dst = net::CIDR(net::IPAddr::V4(0), 0);
    def.ifindex = cont_link.index;
    def.gateway = gw;
    RETURN_IF_ERROR(
        Step(cont->AddRoute(def), "failed to add the default route inside the container"));
  }
  if (v6) {
    ASSIGN_OR_RETURN(net::IPAddr ll, HostLinkLocal(*host, host_link.index, spec.host_ifname));
    RouteSpec def;
    def.dst = net::CIDR(net::IPAddr::V6({}), 0);
    def.ifindex = cont_link.index;
    def.gateway = ll;
    RETURN_IF_ERROR(
        Step(cont->AddRoute(def), "failed to add the IPv6 default route inside the container"));
  }
  for (const net::IPAddr& ip : spec.addresses) {
    RETURN_IF_ERROR(Step(cont->AddAddress(cont_link.index, net::CIDR(ip, ip.bit_len())),
                         "failed to add IP address to the container interface"));
  }
  auto set_forwarding = [&]() -> Status {
    const char* fwd = spec.allow_ip_forwarding ? "1" : "0";
    if (v4)
      RETURN_IF_ERROR(Step(WriteSysctl("net/ipv4/ip_forward", fwd),
                           "failed to set ip_forward in the container"));
    if (v6)
      RETURN_IF_ERROR(Step(WriteSysctl("net/ipv6/conf/all/forwarding", fwd),
                           "failed to set IPv6 forwarding in the container"));
    return OkStatus();
  };
  RETURN_IF_ERROR(RunInNetns(*container_ns, set_forwarding));
  for (const net::IPAddr& ip : spec.addresses) {
    RETURN_IF_ERROR(AddHostRoute(*host, host_link.index, ip, spec.host_ifname));
  }

  ASSIGN_OR_RETURN(LinkInfo final_link, cont->GetLink(cont_link.index));
  std::move(rollback).Cancel();
  return WorkloadNet{spec.host_ifname, final_link.mac.String(), final_link.mtu};
}

Status ConfigureHostInterface(const std::string& ifname, bool v4, bool v6) {
  if (!ReadSysctl(InterfaceSysctl("ipv4", ifname, "forwarding"))) {
    return NotFound("interface " + ifname + " not found");
  }
  WorkloadNetSpec spec;
  spec.host_ifname = ifname;
  if (v4) spec.addresses.push_back(net::IPAddr::V4(0));
  if (v6) spec.addresses.push_back(net::IPAddr::V6({}));
  return ConfigureHostVeth(spec);
}

Status TearDownWorkload(const std::string& netns_path, const std::string& ifname) {
  if (netns_path.empty()) return OkStatus();
  auto ns = NetnsFd::Open(netns_path);
  if (!ns) {
    if (ns.error().code() == ErrorCode::kNotFound) return OkStatus();
    return Unexpected(ns.error());
  }
  return RunInNetns(*ns, [&]() -> Status {
    ASSIGN_OR_RETURN(auto nl, NetlinkSocket::Open());
    auto link = nl->GetLink(ifname);
    if (!link)
      return link.error().code() == ErrorCode::kNotFound ? OkStatus()
                                                         : Status(Unexpected(link.error()));
    Status st = nl->DeleteLink(link->index);
    if (!st && st.error().code() != ErrorCode::kNotFound) {
      return Unexpected(st.error().Wrap("failed to delete " + ifname + " in " + netns_path));
    }
    return OkStatus();
  });
}

Status DeleteHostVeth(const std::string& host_ifname) {
  ASSIGN_OR_RETURN(auto nl, NetlinkSocket::Open());
  auto link = nl->GetLink(host_ifname);
  if (!link)
    return link.error().code() == ErrorCode::kNotFound ? OkStatus()
                                                       : Status(Unexpected(link.error()));
  Status st = nl->DeleteLink(link->index);
  if (!st && st.error().code() != ErrorCode::kNotFound) return st;
  return OkStatus();
}

}  // namespace calico::dataplane
