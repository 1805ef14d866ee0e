// libnetwork-plugin's Join/Leave veth handling (both ends in the host namespace), with the
// host-end set-up of Calico's CNI plugin (reference 1.8 step 6): the container's traffic must work
// as soon as Docker starts it, before any agent has seen the endpoint.
#include "calico/libnetwork/plumbing.h"

#include <functional>
#include <utility>

#include "calico/base/cleanup.h"
#include "calico/base/log.h"
#include "calico/dataplane/netlink.h"
#include "calico/dataplane/netns.h"

namespace calico::libnetwork {
namespace {

using dataplane::InterfaceSysctl;
using dataplane::NetlinkSocket;
using dataplane::WriteSysctl;

Status Step(Status st, std::string_view what) {
  if (!st) return Unexpected(st.error().Wrap(what));
  return OkStatus();
}

bool ValidIfname(const std::string& name) {
  return !name.empty() && name.size() <= 15 && name.find_first_of("/ \t\n:") == std::string::npos;
}

Status ConfigureHostEnd(const std::string& x, bool v4, bool v6) {
  if (v4) {
    RETURN_IF_ERROR(Step(WriteSysctl(InterfaceSysctl("ipv4", x, "route_localnet"), "1"),
                         "failed to set route_localnet on " + x));
    Status delay = WriteSysctl("net/ipv4/neigh/" + x + "/proxy_delay", "0");
    if (!delay) {
      CALICO_LOG(warn, "libnetwork", "cannot set proxy_delay=0 on {}: {}", x,
                 delay.error().message());
    }
    RETURN_IF_ERROR(Step(WriteSysctl(InterfaceSysctl("ipv4", x, "proxy_arp"), "1"),
                         "failed to set proxy_arp on " + x));
    RETURN_IF_ERROR(Step(WriteSysctl(InterfaceSysctl("ipv4", x, "forwarding"), "1"),
                         "failed to enable forwarding on " + x));
  }
  if (v6) {
    for (auto [key, value] : {std::pair{"accept_dad", "0"}, std::pair{"disable_ipv6", "0"},
                              std::pair{"proxy_ndp", "1"}, std::pair{"forwarding", "1"}}) {
      RETURN_IF_ERROR(Step(WriteSysctl(InterfaceSysctl("ipv6", x, key), value),
                           std::string("failed to set ") + key + " on " + x));
    }
  }
  Status ra = WriteSysctl(InterfaceSysctl("ipv6", x, "accept_ra"), "0");
  if (!ra)
    CALICO_LOG(debug, "libnetwork", "cannot set accept_ra=0 on {}: {}", x, ra.error().message());
  return OkStatus();
}

Status AddHostRoute(NetlinkSocket& nl, int index, const net::IPAddr& ip, const std::string& veth) {
  dataplane::RouteSpec route;
  route.dst = net::CIDR(ip, ip.bit_len());
  route.ifindex = index;
  route.scope = dataplane::kScopeLink;
  Status st = nl.AddRoute(route);
  if (st || st.error().code() != ErrorCode::kAlreadyExists) {
    return Step(std::move(st), "failed to add host route to " + route.dst.String());
  }
  ASSIGN_OR_RETURN(auto routes, nl.ListRoutes(ip.family()));
  for (const dataplane::RouteSpec& r : routes) {
    if (r.dst == route.dst && r.ifindex == index) return OkStatus();
  }
  return AlreadyExists("route to " + route.dst.String() +
                       " already exists for an interface other than '" + veth + "'");
}

Status DeleteLinkNamed(NetlinkSocket& nl, const std::string& name) {
  auto link = nl.GetLink(name);
  if (!link) {
    return link.error().code() == ErrorCode::kNotFound ? OkStatus()
                                                       : Status(Unexpected(link.error()));
  }
  Status st = nl.DeleteLink(link->index);
  if (!st && st.error().code() != ErrorCode::kNotFound) {
    return Unexpected(st.error().Wrap("failed to delete " + name));
  }
  return OkStatus();
}

Result<PlumbedVeth> CreatePairHere(const VethPairSpec& spec) {
  ASSIGN_OR_RETURN(auto nl, NetlinkSocket::Open());
  // Leftovers of an interrupted Join (or of a driver that crashed) are replaced.
  RETURN_IF_ERROR(DeleteLinkNamed(*nl, spec.host_ifname));
  RETURN_IF_ERROR(DeleteLinkNamed(*nl, spec.temp_ifname));
  RETURN_IF_ERROR(
      Step(nl->CreateVeth(spec.host_ifname, spec.temp_ifname, spec.mtu, -1),
           "failed to create the veth pair " + spec.host_ifname + "/" + spec.temp_ifname));
  Cleanup rollback([&] {
    Status st = DeleteLinkNamed(*nl, spec.host_ifname);
    if (!st) CALICO_LOG(warn, "libnetwork", "rollback: {}", st.error().message());
  });

  ASSIGN_OR_RETURN(dataplane::LinkInfo host, nl->GetLink(spec.host_ifname));
  ASSIGN_OR_RETURN(dataplane::LinkInfo temp, nl->GetLink(spec.temp_ifname));
  if (!spec.container_mac.empty()) {
    auto mac = net::MAC::Parse(spec.container_mac);
    if (!mac) return InvalidArgument("invalid MAC address \"" + spec.container_mac + "\"");
    RETURN_IF_ERROR(
        Step(nl->SetMac(temp.index, *mac), "failed to set the MAC of " + spec.temp_ifname));
  }
  bool v4 = false;
  bool v6 = false;
  for (const net::IPAddr& ip : spec.addresses)
    (ip.is_v4() ? v4 : v6) = true;
  RETURN_IF_ERROR(ConfigureHostEnd(spec.host_ifname, v4, v6));
  RETURN_IF_ERROR(Step(nl->SetUp(host.index, true), "failed to set " + spec.host_ifname + " up"));

  PlumbedVeth out;
  if (v6) {
    // The peer is down until Docker brings it up in the sandbox, so the kernel has not made the
    // link-local address yet: add the one it would make, so the gateway exists from the start.
    net::IPAddr ll = Eui64LinkLocal(host.mac);
    Status st = nl->AddAddress(host.index, net::CIDR(ll, 64));
    if (!st && st.error().code() != ErrorCode::kAlreadyExists) {
      return Unexpected(
          st.error().Wrap("failed to add the link-local address of " + spec.host_ifname));
    }
    out.host_link_local = ll;
  }
  for (const net::IPAddr& ip : spec.addresses) {
    RETURN_IF_ERROR(AddHostRoute(*nl, host.index, ip, spec.host_ifname));
  }
  std::move(rollback).Cancel();
  return out;
}

class HostPlumber final : public Plumber {
 public:
  explicit HostPlumber(std::string netns_path) : netns_path_(std::move(netns_path)) {}

  Result<PlumbedVeth> CreatePair(const VethPairSpec& spec) override {
    if (!ValidIfname(spec.host_ifname)) {
      return InvalidArgument("invalid host interface name \"" + spec.host_ifname + "\"");
    }
    if (!ValidIfname(spec.temp_ifname)) {
      return InvalidArgument("invalid temporary interface name \"" + spec.temp_ifname + "\"");
    }
    PlumbedVeth out;
    RETURN_IF_ERROR(InNamespace([&]() -> Status {
      ASSIGN_OR_RETURN(out, CreatePairHere(spec));
      return OkStatus();
    }));
    return out;
  }

  Status DeletePair(const std::string& host_ifname) override {
    if (!ValidIfname(host_ifname)) {
      return InvalidArgument("invalid host interface name \"" + host_ifname + "\"");
    }
    return InNamespace([&]() -> Status {
      ASSIGN_OR_RETURN(auto nl, NetlinkSocket::Open());
      return DeleteLinkNamed(*nl, host_ifname);
    });
  }

 private:
  Status InNamespace(const std::function<Status()>& fn) {
    if (netns_path_.empty()) return fn();
    ASSIGN_OR_RETURN(auto ns, dataplane::NetnsFd::Open(netns_path_));
    return dataplane::RunInNetns(ns, fn);
  }

  std::string netns_path_;
};

}  // namespace

net::IPAddr Eui64LinkLocal(const net::MAC& mac) {
  const auto& m = mac.bytes();
  std::array<uint8_t, 16> b{};
  b[0] = 0xfe;
  b[1] = 0x80;
  b[8] = static_cast<uint8_t>(m[0] ^ 0x02);
  b[9] = m[1];
  b[10] = m[2];
  b[11] = 0xff;
  b[12] = 0xfe;
  b[13] = m[3];
  b[14] = m[4];
  b[15] = m[5];
  return net::IPAddr::V6(b);
}

std::unique_ptr<Plumber> NewHostPlumber(std::string netns_path) {
  return std::make_unique<HostPlumber>(std::move(netns_path));
}

}  // namespace calico::libnetwork
