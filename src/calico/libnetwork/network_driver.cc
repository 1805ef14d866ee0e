// projectcalico/libnetwork-plugin's network driver (driver/network_driver.go) and the 2015 Python
// driver_plugin.py it replaced: profile per network ID, network record under
// /calico/libnetwork/v1/, pool options, endpoints, veth plumbing on Join.
#include "calico/libnetwork/network_driver.h"

#include <cctype>
#include <functional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "calico/base/cleanup.h"
#include "calico/base/log.h"
#include "calico/base/numbers.h"
#include "calico/datastore/names.h"
#include "calico/libnetwork/request_fields.h"
#include "calico/model/v3/endpoint.h"

namespace calico::libnetwork {
namespace {

using model::Resource;

constexpr const char* kGeneric = "com.docker.network.generic";
constexpr const char* kInternal = "com.docker.network.internal";
constexpr const char* kMtuOption = "com.docker.network.driver.mtu";

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string OptionText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

// --opt ipip=... / nat-outgoing=...: Calico's 2015 driver took any non-empty value as "on"; here
// the usual spellings of "off" mean off, and an IPIP mode name is taken as that mode.
bool Truthy(const std::string& value) {
  std::string v = Lower(value);
  return !(v.empty() || v == "false" || v == "0" || v == "no" || v == "off" || v == "never");
}

std::string IpipMode(const std::string& value) {
  std::string v = Lower(value);
  if (v == "crosssubnet") return "CrossSubnet";
  return Truthy(value) ? "Always" : "Never";
}

struct NetworkOptions {
  std::optional<std::string> ipip_mode;
  std::optional<bool> nat_outgoing;
  int mtu = 0;
};

Result<NetworkOptions> ParseNetworkOptions(const Json& req) {
  NetworkOptions out;
  ASSIGN_OR_RETURN(Json options, OptObject(req, "Options"));
  auto internal = options.find(kInternal);
  if (internal != options.end() && internal->is_boolean() && internal->get<bool>()) {
    return InvalidArgument("Calico driver does not support the flag --internal.");
  }
  ASSIGN_OR_RETURN(Json generic, OptObject(options, kGeneric));
  for (auto it = generic.begin(); it != generic.end(); ++it) {
    const std::string& key = it.key();
    std::string value = OptionText(it.value());
    if (key == "ipip") {
      out.ipip_mode = IpipMode(value);
    } else if (key == "nat-outgoing") {
      out.nat_outgoing = Truthy(value);
    } else if (key == kMtuOption || key == "mtu") {
      Result<int> mtu = ParseIntInRange<int>(value, 68, 65535);
      if (!mtu) return InvalidArgument(fmt::format("invalid MTU \"{}\" (68-65535)", value));
      out.mtu = *mtu;
    } else if (key == kInternal) {
      if (Truthy(value))
        return InvalidArgument("Calico driver does not support the flag --internal.");
    } else {
      return InvalidArgument(fmt::format(
          "Calico driver does not support the option \"{}\" (supported: ipip, nat-outgoing, {})",
          key, kMtuOption));
    }
  }
  return out;
}

Resource DefaultProfile(const std::string& network_id) {
  // Calico's 2015 profile: tag <NetworkID>, inbound allowed from the tag, outbound open. In the v3
  // model the tag is a label the profile applies; a label name holds at most 63 characters.
  std::string label = std::string("libnetwork.projectcalico.org/") + network_id.substr(0, 63);
  Resource p("Profile", network_id);
  p.spec() =
      Json{{"ingress",
            Json::array({{{"action", "Allow"}, {"source", {{"selector", "has(" + label + ")"}}}}})},
           {"egress", Json::array({{{"action", "Allow"}}})},
           {"labelsToApply", {{label, ""}}}};
  return p;
}

}  // namespace

Result<Json> NetworkDriver::GetCapabilities(const Json& /*req*/) {
  return Json{{"Scope", ctx_.options.scope}, {"ConnectivityScope", ctx_.options.scope}};
}

Result<std::string> NetworkDriver::EndpointName(const std::string& endpoint_id) const {
  datastore::WorkloadEndpointIdentifiers ids;
  ids.node = ctx_.options.node;
  ids.orchestrator = kOrchestrator;
  ids.workload = kOrchestrator;
  ids.endpoint = endpoint_id;
  return datastore::WorkloadEndpointName(ids);
}

Result<Resource> NetworkDriver::GetEndpoint(const std::string& endpoint_id) {
  ASSIGN_OR_RETURN(std::string name, EndpointName(endpoint_id));
  auto wep = ctx_.client.Get("WorkloadEndpoint", ctx_.options.namespace_, name);
  if (!wep && wep.error().code() == ErrorCode::kNotFound) {
    return NotFound(
        fmt::format("endpoint {} is not known on node {}", endpoint_id, ctx_.options.node));
  }
  return wep;
}

Result<Json> NetworkDriver::CreateNetwork(const Json& req) {
  ASSIGN_OR_RETURN(std::string network_id, IdField(req, "NetworkID"));
  ASSIGN_OR_RETURN(NetworkOptions opts, ParseNetworkOptions(req));
  const bool pool_options = opts.ipip_mode.has_value() || opts.nat_outgoing.has_value();
  UndoStack undo("libnetwork");  // a failed request removes what it made, newest first

  // Applies --opt ipip / nat-outgoing to a pool: pools this driver made follow the network; a pool
  // someone else made is left alone, and a contradiction is reported.
  auto apply_pool_options = [&](Resource pool) -> Status {
    const model::v3::IPPoolSpec now = PoolSpec(pool);
    Json& spec = pool.spec();
    bool changed = false;
    std::vector<std::string> conflicts;
    const std::string ipip_mode = now.ipip_mode.value_or("Never");
    if (opts.ipip_mode && ipip_mode != *opts.ipip_mode) {
      conflicts.push_back(
          fmt::format("ipipMode is {}, the network asks for {}", ipip_mode, *opts.ipip_mode));
      spec["ipipMode"] = *opts.ipip_mode;
      changed = true;
    }
    if (opts.nat_outgoing && now.nat_outgoing != *opts.nat_outgoing) {
      conflicts.push_back(fmt::format("natOutgoing is {}, the network asks for {}",
                                      now.nat_outgoing, *opts.nat_outgoing));
      spec["natOutgoing"] = *opts.nat_outgoing;
      changed = true;
    }
    if (!changed) return OkStatus();
    if (!CreatedByUs(pool)) {
      std::string why;
      for (const auto& c : conflicts)
        why += (why.empty() ? "" : "; ") + c;
      return InvalidArgument(fmt::format(
          "the Calico IP pool {} ({}) was not created by this driver and its {}: change the pool "
          "with calicoctl, or leave out the option",
          pool.name(), now.cidr, why));
    }
    auto updated = ctx_.client.Update(pool);
    if (!updated)
      return Unexpected(updated.error().Wrap("failed to update IP pool " + pool.name()));
    return OkStatus();
  };

  for (auto [key, family] : {std::pair{"IPv4Data", 4}, std::pair{"IPv6Data", 6}}) {
    ASSIGN_OR_RETURN(Json data, OptArray(req, key));
    if (data.size() > 1) {
      return InvalidArgument(
          fmt::format("Unsupported: multiple Gateways defined for IPv{}", family));
    }
    if (data.empty()) continue;
    if (!data[0].is_object()) return InvalidArgument(fmt::format("{}[0] must be an object", key));
    ASSIGN_OR_RETURN(std::string pool_text, OptField(data[0], "Pool"));
    ASSIGN_OR_RETURN(std::string gateway, OptField(data[0], "Gateway"));
    if (IsAny(gateway)) {
      // Calico IPAM (its gateway marker): the pool is Calico's already.
      if (pool_text.empty() || IsAny(pool_text)) {
        if (pool_options) {
          return InvalidArgument(
              "the options ipip and nat-outgoing belong to an IP pool: create the network with "
              "--subnet, or set them on the Calico IP pool (calicoctl)");
        }
        continue;
      }
      ASSIGN_OR_RETURN(net::CIDR cidr, ParseSubnet(pool_text));
      ASSIGN_OR_RETURN(auto pool, FindPool(ctx_.client, cidr));
      if (!pool) {
        return NotFound(fmt::format(
            "The network references a Calico pool ({}) which has been deleted. Please re-instate "
            "the Calico pool before using the network.",
            cidr.String()));
      }
      RETURN_IF_ERROR(apply_pool_options(std::move(*pool)));
      continue;
    }
    // Docker's own IPAM owns the subnet (Calico 2015): a routing-only Calico pool (disabled for
    // Calico IPAM) carries ipip / nat-outgoing, and goes away with the network.
    if (pool_text.empty()) return InvalidArgument(fmt::format("{}[0] has no Pool", key));
    ASSIGN_OR_RETURN(net::CIDR cidr, ParseSubnet(pool_text));
    ASSIGN_OR_RETURN(auto pool, FindPool(ctx_.client, cidr));
    if (pool) {
      RETURN_IF_ERROR(apply_pool_options(std::move(*pool)));
      continue;
    }
    Resource made("IPPool", PoolNameFor(cidr));
    made.metadata()["annotations"] =
        Json{{kCreatedByAnnotation, kCreatedBy}, {kNetworkAnnotation, network_id}};
    made.spec() = Json{{"cidr", cidr.String()},
                       {"disabled", true},
                       {"ipipMode", opts.ipip_mode.value_or("Never")},
                       {"natOutgoing", opts.nat_outgoing.value_or(false)}};
    if (family == 6) made.spec().erase("ipipMode");
    auto created = ctx_.client.Create(made);
    if (!created) {
      return Unexpected(created.error().Wrap(
          fmt::format("cannot create a Calico IP pool for the subnet {}", cidr.String())));
    }
    undo.Push("delete IP pool " + made.name(), [this, name = made.name()]() -> Status {
      auto d = ctx_.client.Delete("IPPool", "", name);
      if (!d && d.error().code() != ErrorCode::kNotFound) return Unexpected(d.error());
      return OkStatus();
    });
  }

  auto profile = ctx_.client.Get("Profile", "", network_id);
  if (!profile) {
    if (profile.error().code() != ErrorCode::kNotFound) {
      return Unexpected(profile.error().Wrap("failed to read profile " + network_id));
    }
    auto made = ctx_.client.Create(DefaultProfile(network_id));
    if (!made && made.error().code() != ErrorCode::kAlreadyExists) {
      return Unexpected(made.error().Wrap("failed to create profile " + network_id));
    }
    undo.Push("delete profile " + network_id, [this, network_id]() -> Status {
      auto d = ctx_.client.Delete("Profile", "", network_id);
      if (!d && d.error().code() != ErrorCode::kNotFound) return Unexpected(d.error());
      return OkStatus();
    });
  }
  auto stored = ctx_.backend.Put(kNetworkPrefix + network_id, req.dump());
  if (!stored) return Unexpected(stored.error().Wrap("failed to store network " + network_id));
  undo.Commit();
  CALICO_LOG(info, "libnetwork", "created network {}", network_id);
  return Json::object();
}

Result<Json> NetworkDriver::DeleteNetwork(const Json& req) {
  ASSIGN_OR_RETURN(std::string network_id, IdField(req, "NetworkID"));
  // Idempotent: Docker retries deletes, and one that failed half-way must be completable.
  // The --subnet pools the network used (Calico IPAM), to remove once the record is gone.
  std::vector<net::CIDR> subnets;
  if (auto record = GetNetwork(ctx_, network_id)) {
    for (const char* key : {"IPv4Data", "IPv6Data"}) {
      auto data = record->find(key);
      if (data == record->end() || !data->is_array()) continue;
      for (const Json& d : *data) {
        if (!d.is_object() || !d.contains("Gateway") || !d["Gateway"].is_string() ||
            !IsAny(d["Gateway"].get<std::string>())) {
          continue;
        }
        auto c = net::CIDR::Parse(d.value("Pool", ""));
        if (c && c->prefix_len() > 0) subnets.push_back(c->Masked());
      }
    }
  } else if (record.error().code() != ErrorCode::kNotFound) {
    return Unexpected(record.error());
  }
  ASSIGN_OR_RETURN(auto pools, ctx_.client.List("IPPool"));
  for (const Resource& pool : pools) {
    if (!CreatedByUs(pool) || Annotation(pool, kNetworkAnnotation) != network_id) continue;
    auto d = ctx_.client.Delete("IPPool", "", pool.name());
    if (!d && d.error().code() != ErrorCode::kNotFound) {
      return Unexpected(d.error().Wrap("failed to delete IP pool " + pool.name()));
    }
  }
  auto profile = ctx_.client.Delete("Profile", "", network_id);
  if (!profile && profile.error().code() != ErrorCode::kNotFound) {
    return Unexpected(profile.error().Wrap("failed to delete profile " + network_id));
  }
  // A name record pointing at this network goes with it (another host's same-named network takes
  // over at its next endpoint).
  if (ctx_.options.network_name) {
    if (auto name = ctx_.options.network_name(network_id)) {
      auto rec = ctx_.backend.Get("/calico/libnetwork/v1/names/" + *name);
      if (rec && rec->value == network_id) {
        // A conflict means the name moved to another network meanwhile: that record stays.
        auto gone = ctx_.backend.Delete(rec->key, rec->mod_revision);
        if (!gone && gone.error().code() != ErrorCode::kConflict &&
            gone.error().code() != ErrorCode::kNotFound) {
          CALICO_LOG(warn, "libnetwork", "cannot delete the name record {}: {}", rec->key,
                     gone.error().message());
        }
      }
    }
  }
  auto deleted = ctx_.backend.Delete(kNetworkPrefix + network_id);
  if (!deleted && deleted.error().code() != ErrorCode::kNotFound) {
    return Unexpected(deleted.error().Wrap("failed to delete the record of network " + network_id));
  }
  for (const net::CIDR& cidr : subnets)
    RETURN_IF_ERROR(DeleteSubnetPoolIfUnused(ctx_, cidr));
  CALICO_LOG(info, "libnetwork", "deleted network {}", network_id);
  return Json::object();
}

std::string NetworkDriver::ProfileFor(const std::string& network_id) {
  if (!ctx_.options.network_name) return network_id;
  auto name = ctx_.options.network_name(network_id);
  if (!name) {
    CALICO_LOG(debug, "libnetwork", "no Docker name for network {}: {}", network_id,
               name.error().message());
    return network_id;
  }
  const std::string key = "/calico/libnetwork/v1/names/" + *name;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto existing = ctx_.backend.Get(key);
    if (!existing) {
      if (existing.error().code() != ErrorCode::kNotFound) return network_id;
      if (ctx_.backend.Create(key, network_id)) return network_id;
      continue;  // another host recorded it first
    }
    // The recorded network still has its profile: share it; else this network takes over.
    if (existing->value == network_id || ctx_.client.Get("Profile", "", existing->value)) {
      return existing->value;
    }
    if (ctx_.backend.Update(key, network_id, existing->mod_revision)) return network_id;
  }
  return network_id;
}

Result<Json> NetworkDriver::CreateEndpoint(const Json& req) {
  ASSIGN_OR_RETURN(std::string network_id, IdField(req, "NetworkID"));
  ASSIGN_OR_RETURN(std::string endpoint_id, IdField(req, "EndpointID"));
  RETURN_IF_ERROR(GetNetwork(ctx_, network_id));
  ASSIGN_OR_RETURN(Json iface, OptObject(req, "Interface"));
  ASSIGN_OR_RETURN(std::string v4, OptField(iface, "Address"));
  ASSIGN_OR_RETURN(std::string v6, OptField(iface, "AddressIPv6"));
  ASSIGN_OR_RETURN(std::string user_mac, OptField(iface, "MacAddress"));
  if (v4.empty() && v6.empty()) return InvalidArgument("No address assigned for endpoint");
  Json networks = Json::array();
  for (const std::string& text : {v4, v6}) {
    if (text.empty()) continue;
    auto cidr = net::CIDR::ParseNet(text);
    if (!cidr) return InvalidArgument(fmt::format("invalid endpoint address \"{}\"", text));
    networks.push_back(net::CIDR(cidr->addr(), cidr->addr().bit_len()).String());
  }
  std::string mac = kEndpointMac;
  if (!user_mac.empty()) {
    auto parsed = net::MAC::Parse(user_mac);
    if (!parsed) return InvalidArgument(fmt::format("invalid MAC address \"{}\"", user_mac));
    mac = parsed->String();
  }
  ASSIGN_OR_RETURN(std::string name, EndpointName(endpoint_id));
  Resource wep("WorkloadEndpoint", name, ctx_.options.namespace_);
  wep.spec() = Json{{"orchestrator", kOrchestrator},
                    {"workload", kOrchestrator},
                    {"node", ctx_.options.node},
                    {"endpoint", endpoint_id},
                    {"interfaceName", HostIfname(endpoint_id)},
                    {"mac", Lower(mac)},
                    {"ipNetworks", networks},
                    {"profiles", Json::array({ProfileFor(network_id)})}};
  // Apply: a CreateEndpoint replayed after a driver restart finds its endpoint already there.
  auto written = ctx_.client.Apply(wep);
  if (!written) return Unexpected(written.error().Wrap("failed to write the WorkloadEndpoint"));
  CALICO_LOG(info, "libnetwork", "created endpoint {} ({}) on network {}", endpoint_id, name,
             network_id);
  // The MAC Docker gives the container; a MAC the user chose must not be echoed back.
  return Json{{"Interface", {{"MacAddress", user_mac.empty() ? kEndpointMac : ""}}}};
}

Result<Json> NetworkDriver::EndpointOperInfo(const Json& req) {
  ASSIGN_OR_RETURN(std::string endpoint_id, IdField(req, "EndpointID"));
  RETURN_IF_ERROR(GetEndpoint(endpoint_id));
  return Json{{"Value", Json::object()}};
}

Result<Json> NetworkDriver::DeleteEndpoint(const Json& req) {
  ASSIGN_OR_RETURN(std::string endpoint_id, IdField(req, "EndpointID"));
  ASSIGN_OR_RETURN(std::string name, EndpointName(endpoint_id));
  auto d = ctx_.client.Delete("WorkloadEndpoint", ctx_.options.namespace_, name);
  if (!d && d.error().code() != ErrorCode::kNotFound) {
    return Unexpected(d.error().Wrap("failed to delete the WorkloadEndpoint " + name));
  }
  // Leave removed the veth normally; a Join without Leave (daemon crash) must not leak it. The
  // addresses are Docker's to release (ReleaseAddress follows): releasing them here would let
  // another container get one before Docker releases it again.
  Status veth = plumber_.DeletePair(HostIfname(endpoint_id));
  if (!veth)
    CALICO_LOG(warn, "libnetwork", "deleting the veth of {}: {}", endpoint_id,
               veth.error().message());
  return Json::object();
}

Result<Json> NetworkDriver::Join(const Json& req) {
  ASSIGN_OR_RETURN(std::string network_id, IdField(req, "NetworkID"));
  ASSIGN_OR_RETURN(std::string endpoint_id, IdField(req, "EndpointID"));
  ASSIGN_OR_RETURN(Json network, GetNetwork(ctx_, network_id));
  ASSIGN_OR_RETURN(Resource wep_resource, GetEndpoint(endpoint_id));
  ASSIGN_OR_RETURN(model::v3::WorkloadEndpoint wep,
                   model::v3::DecodeWorkloadEndpoint(wep_resource));
  ASSIGN_OR_RETURN(NetworkOptions opts, ParseNetworkOptions(network));
  VethPairSpec spec;
  spec.host_ifname = HostIfname(endpoint_id);
  spec.temp_ifname = TempIfname(endpoint_id);
  spec.container_mac = wep.spec.mac.empty() ? std::string(kEndpointMac) : wep.spec.mac;
  spec.mtu = opts.mtu > 0 ? opts.mtu : ctx_.options.veth_mtu;
  bool v4 = false;
  bool v6 = false;
  for (const std::string& n : wep.spec.ip_networks) {
    auto cidr = net::CIDR::ParseNet(n);
    if (!cidr) continue;
    spec.addresses.push_back(cidr->addr());
    (cidr->family() == 4 ? v4 : v6) = true;
  }
  ASSIGN_OR_RETURN(PlumbedVeth veth, plumber_.CreatePair(spec));
  Json routes = Json::array();
  Json resp = {{"InterfaceName", {{"SrcName", spec.temp_ifname}, {"DstPrefix", "eth"}}},
               {"DisableGatewayService", false}};
  if (v4) {
    resp["Gateway"] = "169.254.1.1";
    routes.push_back({{"Destination", "169.254.1.1/32"}, {"RouteType", 1}, {"NextHop", ""}});
  }
  if (v6 && veth.host_link_local) {
    resp["GatewayIPv6"] = veth.host_link_local->String();
    routes.push_back({{"Destination", veth.host_link_local->String() + "/128"},
                      {"RouteType", 1},
                      {"NextHop", ""}});
  }
  resp["StaticRoutes"] = routes;
  CALICO_LOG(info, "libnetwork", "joined endpoint {}: {} (container end {})", endpoint_id,
             spec.host_ifname, spec.temp_ifname);
  return resp;
}

Result<Json> NetworkDriver::Leave(const Json& req) {
  ASSIGN_OR_RETURN(std::string endpoint_id, IdField(req, "EndpointID"));
  RETURN_IF_ERROR(plumber_.DeletePair(HostIfname(endpoint_id)));
  return Json::object();
}

}  // namespace calico::libnetwork
