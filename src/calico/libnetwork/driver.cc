// projectcalico/libnetwork-plugin (driver/network_driver.go, driver/ipam_driver.go) and the 2015
// Python driver_plugin.py it replaced: profile per network ID, network record under
// /calico/libnetwork/v1/, Calico IPAM behind the IPAM driver, veth plumbing on Join.
#include "calico/libnetwork/driver.h"

#include <cctype>
#include <charconv>
#include <functional>
#include <random>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/datastore/names.h"
#include "calico/model/json_codec.h"

namespace calico::libnetwork {
namespace {

using model::Resource;

constexpr const char* kCreatedBy = "calico-libnetwork";
constexpr const char* kGeneric = "com.docker.network.generic";
constexpr const char* kInternal = "com.docker.network.internal";
constexpr const char* kMtuOption = "com.docker.network.driver.mtu";
constexpr const char* kRequestAddressType = "RequestAddressType";
constexpr const char* kAnyV4 = "0.0.0.0/0";
constexpr const char* kAnyV6 = "::/0";

Json ErrJson(std::string_view message) {
  return Json{{"Err", std::string(message)}};
}

// A required, non-empty string field.
Result<std::string> Field(const Json& req, const char* name) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null())
    return InvalidArgument(fmt::format("missing field \"{}\"", name));
  if (!it->is_string()) return InvalidArgument(fmt::format("field \"{}\" must be a string", name));
  std::string value = it->get<std::string>();
  if (value.empty()) return InvalidArgument(fmt::format("field \"{}\" is empty", name));
  return value;
}

// An optional string field ("" when absent or null).
Result<std::string> OptField(const Json& req, const char* name) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidArgument(fmt::format("field \"{}\" must be a string", name));
  return it->get<std::string>();
}

// An optional object field (empty object when absent or null).
Result<Json> OptObject(const Json& req, const char* name) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null()) return Json::object();
  if (!it->is_object()) return InvalidArgument(fmt::format("field \"{}\" must be an object", name));
  return *it;
}

Result<Json> OptArray(const Json& req, const char* name) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null()) return Json::array();
  if (!it->is_array()) return InvalidArgument(fmt::format("field \"{}\" must be a list", name));
  return *it;
}

// Docker's IDs are hex; anything that could escape a datastore key or interface name is refused.
Status CheckId(const std::string& id, const char* what) {
  for (char c : id) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_' && c != '.') {
      return InvalidArgument(fmt::format("invalid {} \"{}\"", what, id));
    }
  }
  return OkStatus();
}

Result<std::string> IdField(const Json& req, const char* name) {
  ASSIGN_OR_RETURN(std::string id, Field(req, name));
  RETURN_IF_ERROR(CheckId(id, name));
  return id;
}

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
      int mtu = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), mtu);
      if (ec != std::errc() || ptr != value.data() + value.size() || mtu < 68 || mtu > 65535) {
        return InvalidArgument(fmt::format("invalid MTU \"{}\" (68-65535)", value));
      }
      out.mtu = mtu;
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

bool IsAny(const std::string& cidr) {
  return cidr == kAnyV4 || cidr == kAnyV6;
}

std::string PoolNameFor(const net::CIDR& cidr) {
  std::string name = "libnetwork-";
  for (char c : cidr.String())
    name += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '-';
  return name;
}

std::string Annotation(const Resource& r, const char* key) {
  const Json& md = r.metadata();
  auto it = md.find("annotations");
  if (it == md.end() || !it->is_object()) return "";
  auto v = it->find(key);
  return v != it->end() && v->is_string() ? v->get<std::string>() : "";
}

bool CreatedByUs(const Resource& pool) {
  return Annotation(pool, kCreatedByAnnotation) == kCreatedBy;
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

std::string RandomHex(size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i)
    out += kHex[rng() % 16];
  return out;
}

// Rollback of a partly done request: each step registers its undo; Commit() keeps everything.
class Undo {
 public:
  void Push(std::string what, std::function<Status()> fn) {
    steps_.emplace_back(std::move(what), std::move(fn));
  }
  void Commit() { steps_.clear(); }
  Undo() = default;
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  ~Undo() {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
      Status st = it->second();
      if (!st)
        CALICO_LOG(error, "libnetwork", "rollback: {} failed: {}", it->first, st.error().message());
    }
  }

 private:
  std::vector<std::pair<std::string, std::function<Status()>>> steps_;
};

}  // namespace

std::string HostIfname(std::string_view endpoint_id) {
  return "cali" + std::string(endpoint_id.substr(0, 11));
}
std::string TempIfname(std::string_view endpoint_id) {
  return "temp" + std::string(endpoint_id.substr(0, 11));
}

Driver::Driver(datastore::Backend& backend, Plumber& plumber, DriverOptions options)
    : backend_(backend),
      client_(backend),
      ipam_(backend),
      plumber_(plumber),
      options_(std::move(options)) {}

// ---------------------------------------------------------------------------------------------
// Dispatch

Json Driver::Run(std::string_view method, Handler handler, const Json& req_in) {
  std::lock_guard<std::mutex> lock(mu_);
  Json req = req_in.is_null() ? Json::object() : req_in;
  if (!req.is_object())
    return ErrJson(fmt::format("{}: the request must be a JSON object", method));
  try {
    Result<Json> r = (this->*handler)(req);
    if (!r) {
      CALICO_LOG(warn, "libnetwork", "{} failed: {}", method, r.error().message());
      return ErrJson(r.error().message());
    }
    CALICO_LOG(debug, "libnetwork", "{} request={} response={}", method, req.dump(), r->dump());
    return std::move(*r);
  } catch (const std::exception& e) {  // a JSON type error in a field we did not check
    CALICO_LOG(error, "libnetwork", "{}: {}", method, e.what());
    return ErrJson(fmt::format("{}: malformed request: {}", method, e.what()));
  }
}

Json Driver::Dispatch(std::string_view method, std::string_view body, bool* known) {
  static const std::vector<std::pair<std::string_view, Json (Driver::*)(const Json&)>> methods = {
      {"Plugin.Activate", &Driver::Activate},
      {"NetworkDriver.GetCapabilities", &Driver::GetCapabilities},
      {"NetworkDriver.CreateNetwork", &Driver::CreateNetwork},
      {"NetworkDriver.DeleteNetwork", &Driver::DeleteNetwork},
      {"NetworkDriver.CreateEndpoint", &Driver::CreateEndpoint},
      {"NetworkDriver.EndpointOperInfo", &Driver::EndpointOperInfo},
      {"NetworkDriver.DeleteEndpoint", &Driver::DeleteEndpoint},
      {"NetworkDriver.Join", &Driver::Join},
      {"NetworkDriver.Leave", &Driver::Leave},
      {"NetworkDriver.DiscoverNew", &Driver::DiscoverNew},
      {"NetworkDriver.DiscoverDelete", &Driver::DiscoverDelete},
      {"NetworkDriver.ProgramExternalConnectivity", &Driver::ProgramExternalConnectivity},
      {"NetworkDriver.RevokeExternalConnectivity", &Driver::RevokeExternalConnectivity},
      {"NetworkDriver.AllocateNetwork", &Driver::AllocateNetwork},
      {"NetworkDriver.FreeNetwork", &Driver::FreeNetwork},
      {"IpamDriver.GetCapabilities", &Driver::IpamGetCapabilities},
      {"IpamDriver.GetDefaultAddressSpaces", &Driver::GetDefaultAddressSpaces},
      {"IpamDriver.RequestPool", &Driver::RequestPool},
      {"IpamDriver.ReleasePool", &Driver::ReleasePool},
      {"IpamDriver.RequestAddress", &Driver::RequestAddress},
      {"IpamDriver.ReleaseAddress", &Driver::ReleaseAddress},
  };
  if (known != nullptr) *known = false;
  for (const auto& [name, fn] : methods) {
    if (name != method) continue;
    if (known != nullptr) *known = true;
    Json req = Json::object();
    bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (!blank) {
      auto parsed = model::ParseJson(body);  // the decoder limits (model/decode_limits.h)
      if (!parsed) {
        return ErrJson(fmt::format("{}: the request body is not valid JSON: {}", method,
                                   parsed.error().message()));
      }
      req = std::move(*parsed);
    }
    return (this->*fn)(req);
  }
  return ErrJson(fmt::format("unknown method \"{}\"", method));
}

Json Driver::Activate(const Json& req) {
  return Run("Plugin.Activate", &Driver::DoActivate, req);
}
Json Driver::GetCapabilities(const Json& req) {
  return Run("NetworkDriver.GetCapabilities", &Driver::DoGetCapabilities, req);
}
Json Driver::CreateNetwork(const Json& req) {
  return Run("NetworkDriver.CreateNetwork", &Driver::DoCreateNetwork, req);
}
Json Driver::DeleteNetwork(const Json& req) {
  return Run("NetworkDriver.DeleteNetwork", &Driver::DoDeleteNetwork, req);
}
Json Driver::CreateEndpoint(const Json& req) {
  return Run("NetworkDriver.CreateEndpoint", &Driver::DoCreateEndpoint, req);
}
Json Driver::EndpointOperInfo(const Json& req) {
  return Run("NetworkDriver.EndpointOperInfo", &Driver::DoEndpointOperInfo, req);
}
Json Driver::DeleteEndpoint(const Json& req) {
  return Run("NetworkDriver.DeleteEndpoint", &Driver::DoDeleteEndpoint, req);
}
Json Driver::Join(const Json& req) {
  return Run("NetworkDriver.Join", &Driver::DoJoin, req);
}
Json Driver::Leave(const Json& req) {
  return Run("NetworkDriver.Leave", &Driver::DoLeave, req);
}
Json Driver::DiscoverNew(const Json& req) {
  return Run("NetworkDriver.DiscoverNew", &Driver::Empty, req);
}
Json Driver::DiscoverDelete(const Json& req) {
  return Run("NetworkDriver.DiscoverDelete", &Driver::Empty, req);
}
Json Driver::ProgramExternalConnectivity(const Json& req) {
  return Run("NetworkDriver.ProgramExternalConnectivity", &Driver::Empty, req);
}
Json Driver::RevokeExternalConnectivity(const Json& req) {
  return Run("NetworkDriver.RevokeExternalConnectivity", &Driver::Empty, req);
}
Json Driver::AllocateNetwork(const Json& req) {
  return Run("NetworkDriver.AllocateNetwork", &Driver::Empty, req);
}
Json Driver::FreeNetwork(const Json& req) {
  return Run("NetworkDriver.FreeNetwork", &Driver::Empty, req);
}
Json Driver::IpamGetCapabilities(const Json& req) {
  return Run("IpamDriver.GetCapabilities", &Driver::DoIpamGetCapabilities, req);
}
Json Driver::GetDefaultAddressSpaces(const Json& req) {
  return Run("IpamDriver.GetDefaultAddressSpaces", &Driver::DoGetDefaultAddressSpaces, req);
}
Json Driver::RequestPool(const Json& req) {
  return Run("IpamDriver.RequestPool", &Driver::DoRequestPool, req);
}
Json Driver::ReleasePool(const Json& req) {
  return Run("IpamDriver.ReleasePool", &Driver::DoReleasePool, req);
}
Json Driver::RequestAddress(const Json& req) {
  return Run("IpamDriver.RequestAddress", &Driver::DoRequestAddress, req);
}
Json Driver::ReleaseAddress(const Json& req) {
  return Run("IpamDriver.ReleaseAddress", &Driver::DoReleaseAddress, req);
}

// ---------------------------------------------------------------------------------------------
// Simple endpoints

Result<Json> Driver::Empty(const Json& /*req*/) {
  return Json::object();
}

Result<Json> Driver::DoActivate(const Json& /*req*/) {
  return Json{{"Implements", Json::array({"NetworkDriver", "IpamDriver"})}};
}

Result<Json> Driver::DoGetCapabilities(const Json& /*req*/) {
  return Json{{"Scope", options_.scope}, {"ConnectivityScope", options_.scope}};
}

Result<Json> Driver::DoIpamGetCapabilities(const Json& /*req*/) {
  return Json{{"RequiresMACAddress", false}, {"RequiresRequestReplay", false}};
}

Result<Json> Driver::DoGetDefaultAddressSpaces(const Json& /*req*/) {
  return Json{{"LocalDefaultAddressSpace", kLocalAddressSpace},
              {"GlobalDefaultAddressSpace", kGlobalAddressSpace}};
}

// ---------------------------------------------------------------------------------------------
// Lookups

namespace {

// The Calico IPPool whose CIDR equals `cidr`, if any.
Result<std::optional<Resource>> FindPool(datastore::Client& client, const net::CIDR& cidr) {
  ASSIGN_OR_RETURN(auto pools, client.List("IPPool"));
  for (Resource& pool : pools) {
    auto pc = net::CIDR::Parse(pool.spec().value("cidr", ""));
    if (pc && pc->Masked() == cidr.Masked()) return std::optional<Resource>(std::move(pool));
  }
  return std::optional<Resource>();
}

Result<net::CIDR> ParseSubnet(const std::string& text) {
  auto cidr = net::CIDR::Parse(text);
  if (!cidr) return InvalidArgument(fmt::format("invalid subnet \"{}\"", text));
  return cidr->Masked();
}

}  // namespace

Result<Json> Driver::GetNetwork(const std::string& network_id) {
  auto kv = backend_.Get(kNetworkPrefix + network_id);
  if (!kv) {
    if (kv.error().code() == ErrorCode::kNotFound) {
      return NotFound(
          fmt::format("network {} is not a Calico network known to this driver", network_id));
    }
    return Unexpected(kv.error().Wrap("failed to read network " + network_id));
  }
  Json j = model::ReadStoredJson(kv->key, kv->value);
  if (!j.is_object())
    return Internal(fmt::format("the stored record of network {} is corrupt", network_id));
  return j;
}

Result<std::string> Driver::EndpointName(const std::string& endpoint_id) const {
  datastore::WorkloadEndpointIdentifiers ids;
  ids.node = options_.node;
  ids.orchestrator = kOrchestrator;
  ids.workload = kOrchestrator;
  ids.endpoint = endpoint_id;
  return datastore::WorkloadEndpointName(ids);
}

Result<Resource> Driver::GetEndpoint(const std::string& endpoint_id) {
  ASSIGN_OR_RETURN(std::string name, EndpointName(endpoint_id));
  auto wep = client_.Get("WorkloadEndpoint", options_.namespace_, name);
  if (!wep && wep.error().code() == ErrorCode::kNotFound) {
    return NotFound(fmt::format("endpoint {} is not known on node {}", endpoint_id, options_.node));
  }
  return wep;
}

// ---------------------------------------------------------------------------------------------
// IPAM driver

Result<Json> Driver::DoRequestPool(const Json& req) {
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
  ASSIGN_OR_RETURN(auto existing, FindPool(client_, cidr));
  if (!existing) {
    // --subnet names a pool Calico does not have yet: make it, so the network's addresses come from
    // exactly that range. Manual assignment keeps it to the networks that name it (automatic
    // allocation, e.g. networks without --subnet or CNI pods, passes it by). ReleasePool removes
    // it again once nothing uses it.
    Resource pool("IPPool", PoolNameFor(cidr));
    pool.metadata()["annotations"] = Json{{kCreatedByAnnotation, kCreatedBy}};
    pool.spec() = Json{{"cidr", cidr.String()}, {"assignmentMode", "Manual"}};
    auto made = client_.Create(pool);
    if (!made) {
      return Unexpected(made.error().Wrap(
          fmt::format("cannot create a Calico IP pool for the subnet {}", cidr.String())));
    }
    CALICO_LOG(info, "libnetwork", "created IP pool {} for subnet {}", made->name(), cidr.String());
  } else if (existing->spec().value("disabled", false)) {
    return InvalidArgument(fmt::format(
        "the Calico IP pool {} for subnet {} is disabled (it may be the routing-only pool of a "
        "network on Docker's IPAM)",
        existing->name(), cidr.String()));
  }
  std::string any = v6 ? kAnyV6 : kAnyV4;
  return Json{{"PoolID", cidr.String()}, {"Pool", cidr.String()}, {"Data", {{kGatewayLabel, any}}}};
}

Result<Json> Driver::DoReleasePool(const Json& req) {
  ASSIGN_OR_RETURN(std::string pool_id, Field(req, "PoolID"));
  if (pool_id == kPoolIdV4 || pool_id == kPoolIdV6) return Json::object();
  ASSIGN_OR_RETURN(net::CIDR cidr, ParseSubnet(pool_id));
  RETURN_IF_ERROR(DeleteSubnetPoolIfUnused(cidr));
  return Json::object();
}

// dockerd 20.10 calls ReleasePool before DeleteNetwork (and also after a failed create, with no
// network), so both try; whichever finds the pool unused removes it.
Status Driver::DeleteSubnetPoolIfUnused(const net::CIDR& cidr) {
  ASSIGN_OR_RETURN(auto pool, FindPool(client_, cidr));
  if (!pool || !CreatedByUs(*pool) || !Annotation(*pool, kNetworkAnnotation).empty()) {
    return OkStatus();  // not ours (or a Docker-IPAM network's, removed with the network)
  }
  // Kept while a network uses the subnet or addresses are still allocated from it.
  ASSIGN_OR_RETURN(auto records, backend_.List(kNetworkPrefix));
  for (const auto& kv : records.kvs) {
    Json net = model::ReadStoredJson(kv.key, kv.value);
    if (!net.is_object()) continue;
    for (const char* key : {"IPv4Data", "IPv6Data"}) {
      auto data = net.find(key);
      if (data == net.end() || !data->is_array()) continue;
      for (const Json& d : *data) {
        if (!d.is_object()) continue;
        auto c = net::CIDR::Parse(d.value("Pool", ""));
        if (c && c->Masked() == cidr) return OkStatus();
      }
    }
  }
  ASSIGN_OR_RETURN(auto blocks, ipam_.ListBlocks(cidr.family()));
  for (const ipam::Block& b : blocks) {
    if (cidr.Contains(b.cidr()) && !b.Empty()) {
      CALICO_LOG(info, "libnetwork", "keeping IP pool {}: addresses are still allocated",
                 pool->name());
      return OkStatus();
    }
  }
  auto deleted = client_.Delete("IPPool", "", pool->name());
  if (!deleted && deleted.error().code() != ErrorCode::kNotFound) {
    return Unexpected(deleted.error().Wrap("failed to delete IP pool " + pool->name()));
  }
  CALICO_LOG(info, "libnetwork", "deleted IP pool {}", pool->name());
  return OkStatus();
}

Result<Json> Driver::DoRequestAddress(const Json& req) {
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
    ASSIGN_OR_RETURN(auto pool, FindPool(client_, *cidr));
    if (!pool) {
      return NotFound(
          "The network references a Calico pool which has been deleted. Please re-instate the "
          "Calico pool before using the network.");
    }
  }
  // Every allocation gets its own handle, so `calicoctl ipam` shows who holds it; Docker releases
  // by address (ReleaseAddress carries no endpoint).
  std::string handle = "libnetwork." + RandomHex(16);
  Json attrs = Json{{"node", options_.node}, {"type", "libnetwork"}};
  net::IPAddr ip;
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
    Status st = ipam_.AssignIP(ip, handle, attrs, options_.node);
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
    args.host = options_.node;
    if (restrict_to) (family == 4 ? args.ipv4_pools : args.ipv6_pools).push_back(*restrict_to);
    auto assigned = ipam_.AutoAssign(args);
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

Result<Json> Driver::DoReleaseAddress(const Json& req) {
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
  ASSIGN_OR_RETURN(auto not_allocated, ipam_.ReleaseIPs({*ip}));
  if (!not_allocated.empty()) {
    CALICO_LOG(info, "libnetwork", "release of {} (pool {}): it was not allocated", ip->String(),
               pool_id);
  }
  return Json::object();
}

// ---------------------------------------------------------------------------------------------
// Network driver

Result<Json> Driver::DoCreateNetwork(const Json& req) {
  ASSIGN_OR_RETURN(std::string network_id, IdField(req, "NetworkID"));
  ASSIGN_OR_RETURN(NetworkOptions opts, ParseNetworkOptions(req));
  const bool pool_options = opts.ipip_mode.has_value() || opts.nat_outgoing.has_value();
  Undo undo;

  // Applies --opt ipip / nat-outgoing to a pool: pools this driver made follow the network; a pool
  // someone else made is left alone, and a contradiction is reported.
  auto apply_pool_options = [&](Resource pool) -> Status {
    Json& spec = pool.spec();
    bool changed = false;
    std::vector<std::string> conflicts;
    if (opts.ipip_mode && spec.value("ipipMode", "Never") != *opts.ipip_mode) {
      conflicts.push_back(fmt::format("ipipMode is {}, the network asks for {}",
                                      spec.value("ipipMode", "Never"), *opts.ipip_mode));
      spec["ipipMode"] = *opts.ipip_mode;
      changed = true;
    }
    if (opts.nat_outgoing && spec.value("natOutgoing", false) != *opts.nat_outgoing) {
      conflicts.push_back(fmt::format("natOutgoing is {}, the network asks for {}",
                                      spec.value("natOutgoing", false), *opts.nat_outgoing));
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
          pool.name(), spec.value("cidr", ""), why));
    }
    auto updated = client_.Update(pool);
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
      ASSIGN_OR_RETURN(auto pool, FindPool(client_, cidr));
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
    ASSIGN_OR_RETURN(auto pool, FindPool(client_, cidr));
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
    auto created = client_.Create(made);
    if (!created) {
      return Unexpected(created.error().Wrap(
          fmt::format("cannot create a Calico IP pool for the subnet {}", cidr.String())));
    }
    undo.Push("delete IP pool " + made.name(), [this, name = made.name()]() -> Status {
      auto d = client_.Delete("IPPool", "", name);
      if (!d && d.error().code() != ErrorCode::kNotFound) return Unexpected(d.error());
      return OkStatus();
    });
  }

  auto profile = client_.Get("Profile", "", network_id);
  if (!profile) {
    if (profile.error().code() != ErrorCode::kNotFound) {
      return Unexpected(profile.error().Wrap("failed to read profile " + network_id));
    }
    auto made = client_.Create(DefaultProfile(network_id));
    if (!made && made.error().code() != ErrorCode::kAlreadyExists) {
      return Unexpected(made.error().Wrap("failed to create profile " + network_id));
    }
    undo.Push("delete profile " + network_id, [this, network_id]() -> Status {
      auto d = client_.Delete("Profile", "", network_id);
      if (!d && d.error().code() != ErrorCode::kNotFound) return Unexpected(d.error());
      return OkStatus();
    });
  }
  auto stored = backend_.Put(kNetworkPrefix + network_id, req.dump());
  if (!stored) return Unexpected(stored.error().Wrap("failed to store network " + network_id));
  undo.Commit();
  CALICO_LOG(info, "libnetwork", "created network {}", network_id);
  return Json::object();
}

Result<Json> Driver::DoDeleteNetwork(const Json& req) {
  ASSIGN_OR_RETURN(std::string network_id, IdField(req, "NetworkID"));
  // Idempotent: Docker retries deletes, and one that failed half-way must be completable.
  // The --subnet pools the network used (Calico IPAM), to remove once the record is gone.
  std::vector<net::CIDR> subnets;
  if (auto record = GetNetwork(network_id)) {
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
  ASSIGN_OR_RETURN(auto pools, client_.List("IPPool"));
  for (const Resource& pool : pools) {
    if (!CreatedByUs(pool) || Annotation(pool, kNetworkAnnotation) != network_id) continue;
    auto d = client_.Delete("IPPool", "", pool.name());
    if (!d && d.error().code() != ErrorCode::kNotFound) {
      return Unexpected(d.error().Wrap("failed to delete IP pool " + pool.name()));
    }
  }
  auto profile = client_.Delete("Profile", "", network_id);
  if (!profile && profile.error().code() != ErrorCode::kNotFound) {
    return Unexpected(profile.error().Wrap("failed to delete profile " + network_id));
  }
  // A name record pointing at this network goes with it (another host's same-named network takes
  // over at its next endpoint).
  if (options_.network_name) {
    if (auto name = options_.network_name(network_id)) {
      auto rec = backend_.Get("/calico/libnetwork/v1/names/" + *name);
      if (rec && rec->value == network_id) {
        auto gone = backend_.Delete(rec->key, rec->mod_revision);
        (void)gone;
      }
    }
  }
  auto deleted = backend_.Delete(kNetworkPrefix + network_id);
  if (!deleted && deleted.error().code() != ErrorCode::kNotFound) {
    return Unexpected(deleted.error().Wrap("failed to delete the record of network " + network_id));
  }
  for (const net::CIDR& cidr : subnets)
    RETURN_IF_ERROR(DeleteSubnetPoolIfUnused(cidr));
  CALICO_LOG(info, "libnetwork", "deleted network {}", network_id);
  return Json::object();
}

std::string Driver::ProfileFor(const std::string& network_id) {
  if (!options_.network_name) return network_id;
  auto name = options_.network_name(network_id);
  if (!name) {
    CALICO_LOG(debug, "libnetwork", "no Docker name for network {}: {}", network_id,
               name.error().message());
    return network_id;
  }
  const std::string key = "/calico/libnetwork/v1/names/" + *name;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto existing = backend_.Get(key);
    if (!existing) {
      if (existing.error().code() != ErrorCode::kNotFound) return network_id;
      if (backend_.Create(key, network_id)) return network_id;
      continue;  // another host recorded it first
    }
    // The recorded network still has its profile: share it; else this network takes over.
    if (existing->value == network_id || client_.Get("Profile", "", existing->value)) {
      return existing->value;
    }
    if (backend_.Update(key, network_id, existing->mod_revision)) return network_id;
  }
  return network_id;
}

Result<Json> Driver::DoCreateEndpoint(const Json& req) {
  ASSIGN_OR_RETURN(std::string network_id, IdField(req, "NetworkID"));
  ASSIGN_OR_RETURN(std::string endpoint_id, IdField(req, "EndpointID"));
  RETURN_IF_ERROR(GetNetwork(network_id));
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
  Resource wep("WorkloadEndpoint", name, options_.namespace_);
  wep.spec() = Json{{"orchestrator", kOrchestrator},
                    {"workload", kOrchestrator},
                    {"node", options_.node},
                    {"endpoint", endpoint_id},
                    {"interfaceName", HostIfname(endpoint_id)},
                    {"mac", Lower(mac)},
                    {"ipNetworks", networks},
                    {"profiles", Json::array({ProfileFor(network_id)})}};
  // Apply: a CreateEndpoint replayed after a driver restart finds its endpoint already there.
  auto written = client_.Apply(wep);
  if (!written) return Unexpected(written.error().Wrap("failed to write the WorkloadEndpoint"));
  CALICO_LOG(info, "libnetwork", "created endpoint {} ({}) on network {}", endpoint_id, name,
             network_id);
  // The MAC Docker gives the container; a MAC the user chose must not be echoed back.
  return Json{{"Interface", {{"MacAddress", user_mac.empty() ? kEndpointMac : ""}}}};
}

Result<Json> Driver::DoEndpointOperInfo(const Json& req) {
  ASSIGN_OR_RETURN(std::string endpoint_id, IdField(req, "EndpointID"));
  RETURN_IF_ERROR(GetEndpoint(endpoint_id));
  return Json{{"Value", Json::object()}};
}

Result<Json> Driver::DoDeleteEndpoint(const Json& req) {
  ASSIGN_OR_RETURN(std::string endpoint_id, IdField(req, "EndpointID"));
  ASSIGN_OR_RETURN(std::string name, EndpointName(endpoint_id));
  auto d = client_.Delete("WorkloadEndpoint", options_.namespace_, name);
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

Result<Json> Driver::DoJoin(const Json& req) {
  ASSIGN_OR_RETURN(std::string network_id, IdField(req, "NetworkID"));
  ASSIGN_OR_RETURN(std::string endpoint_id, IdField(req, "EndpointID"));
  ASSIGN_OR_RETURN(Json network, GetNetwork(network_id));
  ASSIGN_OR_RETURN(Resource wep, GetEndpoint(endpoint_id));
  ASSIGN_OR_RETURN(NetworkOptions opts, ParseNetworkOptions(network));
  VethPairSpec spec;
  spec.host_ifname = HostIfname(endpoint_id);
  spec.temp_ifname = TempIfname(endpoint_id);
  spec.container_mac = wep.spec().value("mac", std::string(kEndpointMac));
  spec.mtu = opts.mtu > 0 ? opts.mtu : options_.veth_mtu;
  bool v4 = false;
  bool v6 = false;
  const Json& nets = wep.spec().contains("ipNetworks") ? wep.spec()["ipNetworks"] : Json::array();
  for (const Json& n : nets) {
    auto cidr = n.is_string() ? net::CIDR::ParseNet(n.get<std::string>()) : std::nullopt;
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

Result<Json> Driver::DoLeave(const Json& req) {
  ASSIGN_OR_RETURN(std::string endpoint_id, IdField(req, "EndpointID"));
  RETURN_IF_ERROR(plumber_.DeletePair(HostIfname(endpoint_id)));
  return Json::object();
}

}  // namespace calico::libnetwork
