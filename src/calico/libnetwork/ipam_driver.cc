// projectcalico/libnetwork-plugin's IPAM driver (driver/ipam_driver.go): Calico's pools and
// Calico IPAM behind Docker's IpamDriver calls.
#include "calico/libnetwork/ipam_driver.h"

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/base/random.h"
#include "calico/libnetwork/request_fields.h"

namespace calico::libnetwork {
namespace {

using model::Resource;

constexpr const char* kRequestAddressType = "RequestAddressType";

}  // namespace

Result<std::optional<ipam::HostLock>> IpamDriver::LockIpam() {
  if (ctx_.options.ipam_lock_file.empty()) return std::optional<ipam::HostLock>();
  ASSIGN_OR_RETURN(ipam::HostLock lock, ipam::HostLock::Acquire(ctx_.options.ipam_lock_file));
  return std::optional<ipam::HostLock>(std::move(lock));
}

Result<Json> IpamDriver::GetCapabilities(const Json& /*req*/) {
  return Json{{"RequiresMACAddress", false}, {"RequiresRequestReplay", false}};
}

Result<Json> IpamDriver::GetDefaultAddressSpaces(const Json& /*req*/) {
  return Json{{"LocalDefaultAddressSpace", kLocalAddressSpace},
              {"GlobalDefaultAddressSpace", kGlobalAddressSpace}};
}

Result<Json> IpamDriver::RequestPool(const Json& req) {
  ASSIGN_OR_RETURN(std::string sub_pool, OptField(req, "SubPool"));
  if (!sub_pool.empty()) {
    return InvalidArgument(
        "Calico IPAM does not support sub pool configuration on 'docker create network'. Calico IP "
        "Pools should be configured first and IP assignment is from those pre-configured pools.");
  }
  ASSIGN_OR_RETURN(Json options, OptObject(req, "Options"));
  if (!options.empty()) return InvalidArgument("Arbitrary options are not supported");
  auto v6_it = req.find("V6");
  bool v6 = v6_it != req.end() && v6_it->is_boolean() && v6_it->get<bool>();
  ASSIGN_OR_RETURN(std::string pool_text, OptField(req, "Pool"));
  if (pool_text.empty()) {
    // Calico's pools, chosen per address by Calico IPAM.
    return Json{{"PoolID", v6 ? kPoolIdV6 : kPoolIdV4},
                {"Pool", v6 ? kAnyV6 : kAnyV4},
                {"Data", {{kGatewayLabel, v6 ? kAnyV6 : kAnyV4}}}};
  }
  ASSIGN_OR_RETURN(net::CIDR cidr, ParseSubnet(pool_text));
  if ((cidr.family() == 6) != v6) {
    return InvalidArgument(
        fmt::format("subnet {} is not an IPv{} subnet", cidr.String(), v6 ? 6 : 4));
  }
  ASSIGN_OR_RETURN(auto existing, FindPool(ctx_.client, cidr));
  if (!existing) {
    // --subnet names a pool Calico does not have yet: make it, so the network's addresses come from
    // exactly that range. Manual assignment keeps it to the networks that name it (automatic
    // allocation, e.g. networks without --subnet or CNI pods, passes it by). ReleasePool removes
    // it again once nothing uses it.
    Resource pool("IPPool", PoolNameFor(cidr));
    pool.metadata()["annotations"] = Json{{kCreatedByAnnotation, kCreatedBy}};
    pool.spec() = Json{{"cidr", cidr.String()}, {"assignmentMode", "Manual"}};
    auto made = ctx_.client.Create(pool);
    if (!made) {
      return Unexpected(made.error().Wrap(
          fmt::format("cannot create a Calico IP pool for the subnet {}", cidr.String())));
    }
    CALICO_LOG(info, "libnetwork", "created IP pool {} for subnet {}", made->name(), cidr.String());
  } else if (PoolSpec(*existing).disabled) {
    return InvalidArgument(fmt::format(
        "the Calico IP pool {} for subnet {} is disabled (it may be the routing-only pool of a "
        "network on Docker's IPAM)",
        existing->name(), cidr.String()));
  }
  std::string any = v6 ? kAnyV6 : kAnyV4;
  return Json{{"PoolID", cidr.String()}, {"Pool", cidr.String()}, {"Data", {{kGatewayLabel, any}}}};
}

Result<Json> IpamDriver::ReleasePool(const Json& req) {
  ASSIGN_OR_RETURN(std::string pool_id, Field(req, "PoolID"));
  if (pool_id == kPoolIdV4 || pool_id == kPoolIdV6) return Json::object();
  ASSIGN_OR_RETURN(net::CIDR cidr, ParseSubnet(pool_id));
  RETURN_IF_ERROR(DeleteSubnetPoolIfUnused(ctx_, cidr));
  return Json::object();
}

Result<Json> IpamDriver::RequestAddress(const Json& req) {
  ASSIGN_OR_RETURN(std::string pool_id, Field(req, "PoolID"));
  ASSIGN_OR_RETURN(std::string address, OptField(req, "Address"));
  ASSIGN_OR_RETURN(Json options, OptObject(req, "Options"));
  if (options.value(kRequestAddressType, "") == kGatewayLabel) {
    return InvalidArgument("Calico IPAM does not support specifying a gateway.");
  }
  int family = 4;
  std::optional<net::CIDR> restrict_to;
  if (pool_id == kPoolIdV6) {
    family = 6;
  } else if (pool_id != kPoolIdV4) {
    auto cidr = ParseSubnet(pool_id);
    if (!cidr) return InvalidArgument(fmt::format("unknown PoolID \"{}\"", pool_id));
    restrict_to = *cidr;
    family = cidr->family();
    ASSIGN_OR_RETURN(auto pool, FindPool(ctx_.client, *cidr));
    if (!pool) {
      return NotFound(
          "The network references a Calico pool which has been deleted. Please re-instate the "
          "Calico pool before using the network.");
    }
  }
  // Every allocation gets its own handle, so `calicoctl ipam` shows who holds it; Docker releases
  // by address (ReleaseAddress carries no endpoint).
  std::string handle = "libnetwork." + RandomHex(16);
  Json attrs = Json{{"node", ctx_.options.node}, {"type", "libnetwork"}};
  net::IPAddr ip;
  ASSIGN_OR_RETURN(std::optional<ipam::HostLock> lock, LockIpam());
  if (!address.empty()) {
    auto parsed = net::IPAddr::Parse(address);
    if (!parsed) {
      auto as_cidr = net::CIDR::Parse(address);
      if (!as_cidr) return InvalidArgument(fmt::format("invalid address \"{}\"", address));
      parsed = as_cidr->addr();
    }
    ip = *parsed;
    if (ip.family() != family || (restrict_to && !restrict_to->Contains(ip))) {
      return InvalidArgument(fmt::format("The address {} is not in the network's pool {}",
                                         ip.String(),
                                         restrict_to ? restrict_to->String() : pool_id));
    }
    Status st = ctx_.ipam.AssignIP(ip, handle, attrs, ctx_.options.node);
    if (!st) {
      if (st.error().code() == ErrorCode::kAlreadyExists) {
        return AlreadyExists(fmt::format("The address {} is already in use", ip.String()));
      }
      if (st.error().code() == ErrorCode::kInvalidArgument) {
        return InvalidArgument(fmt::format(
            "The address {} is not in one of the configured Calico IP pools", ip.String()));
      }
      return Unexpected(st.error());
    }
  } else {
    ipam::AutoAssignArgs args;
    (family == 4 ? args.num4 : args.num6) = 1;
    args.handle = handle;
    args.attrs = attrs;
    args.host = ctx_.options.node;
    if (restrict_to) (family == 4 ? args.ipv4_pools : args.ipv6_pools).push_back(*restrict_to);
    auto assigned = ctx_.ipam.AutoAssign(args);
    if (!assigned && assigned.error().code() != ErrorCode::kNotFound)
      return Unexpected(assigned.error());
    const auto* got = assigned ? (family == 4 ? &assigned->ipv4 : &assigned->ipv6) : nullptr;
    if (got == nullptr || got->empty()) {
      return NotFound(
          fmt::format("There are no available IP addresses in the configured Calico IP pools{}",
                      assigned ? "" : ": " + assigned.error().message()));
    }
    ip = got->front().addr();
  }
  CALICO_LOG(info, "libnetwork", "assigned {} (handle {})", ip.String(), handle);
  return Json{{"Address", net::CIDR(ip, ip.bit_len()).String()}, {"Data", Json::object()}};
}

Result<Json> IpamDriver::ReleaseAddress(const Json& req) {
  ASSIGN_OR_RETURN(std::string pool_id, Field(req, "PoolID"));
  ASSIGN_OR_RETURN(std::string address, Field(req, "Address"));
  auto ip = net::IPAddr::Parse(address);
  if (!ip) {
    auto cidr = net::CIDR::Parse(address);
    if (!cidr) return InvalidArgument(fmt::format("invalid address \"{}\"", address));
    ip = cidr->addr();
  }
  // Docker releases the gateway it was given, the 0.0.0.0 / :: marker: nothing to do.
  if (*ip == net::IPAddr::V4(0) || *ip == net::IPAddr::V6({})) return Json::object();
  ASSIGN_OR_RETURN(std::optional<ipam::HostLock> lock, LockIpam());
  ASSIGN_OR_RETURN(auto not_allocated, ctx_.ipam.ReleaseIPs({*ip}));
  if (!not_allocated.empty()) {
    CALICO_LOG(info, "libnetwork", "release of {} (pool {}): it was not allocated", ip->String(),
               pool_id);
  }
  return Json::object();
}

}  // namespace calico::libnetwork
