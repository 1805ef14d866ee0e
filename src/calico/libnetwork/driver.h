// The Calico Docker network and IPAM driver (projectcalico/libnetwork-plugin), transport-free:
// one dispatch table from Docker's remote-plugin methods to the network driver
// (network_driver.h) and the IPAM driver (ipam_driver.h), request JSON in, response JSON out.
// Failures are answered as {"Err": "<message>"}, never thrown: malformed JSON, missing fields,
// unknown networks or endpoints, datastore and kernel errors.
//
//   docker network create --driver calico --ipam-driver calico [--subnet C] [--opt ipip=true] N
//     IpamDriver.RequestPool  -> PoolID "CalicoPoolIPv4" (Calico's pools) or C (a Calico IPPool,
//                                created when missing), gateway marker 0.0.0.0/0
//     NetworkDriver.CreateNetwork -> Profile <NetworkID> (members talk to each other, egress open),
//                                record /calico/libnetwork/v1/<NetworkID> (the request, as
//                                Calico's 2015 driver stored it), --opt ipip/nat-outgoing on the
//                                pool
//   docker run --net N
//     IpamDriver.RequestAddress -> Calico IPAM (AutoAssign for this node, or AssignIP for --ip)
//     CreateEndpoint           -> WorkloadEndpoint <node>-libnetwork-libnetwork-<EndpointID>
//     Join                     -> veth cali<EID[:11]> / temp<EID[:11]> in the host namespace,
//                                gateway 169.254.1.1 (host answers by proxy ARP)
//     Leave / DeleteEndpoint / ReleaseAddress undo them; ReleasePool / DeleteNetwork likewise
//     (dockerd 20.10 calls ReleasePool first).
//
// Everything the driver knows lives in the datastore, so a restarted driver carries on. The
// network driver also serves networks on Docker's default IPAM (seed tutorial, `--subnet` without
// `--ipam-driver calico`): their subnet becomes a routing-only (disabled) Calico pool carrying the
// ipip/nat-outgoing options, removed with the network.
//
// Thread-safety: thread-safe; calls are serialised (Docker issues them concurrently).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/libnetwork/plumbing.h"

namespace calico::libnetwork {

using Json = nlohmann::json;

inline constexpr const char* kPoolIdV4 = "CalicoPoolIPv4";
inline constexpr const char* kPoolIdV6 = "CalicoPoolIPv6";
inline constexpr const char* kLocalAddressSpace = "CalicoLocalAddressSpace";
inline constexpr const char* kGlobalAddressSpace = "CalicoGlobalAddressSpace";
inline constexpr const char* kGatewayLabel = "com.docker.network.gateway";
inline constexpr const char* kNetworkPrefix = "/calico/libnetwork/v1/";
inline constexpr const char* kEndpointMac = "EE:EE:EE:EE:EE:EE";
inline constexpr const char* kOrchestrator = "libnetwork";
// Annotations on the IPPools this driver creates (so that it deletes only its own).
inline constexpr const char* kCreatedByAnnotation = "libnetwork.projectcalico.org/created-by";
inline constexpr const char* kNetworkAnnotation = "libnetwork.projectcalico.org/network-id";

struct DriverOptions {
  std::string node;             // this host's Calico node name
  std::string scope = "local";  // NetworkDriver.GetCapabilities; Calico said "global" (needs a
                                // cluster store in Docker); "local" works with a plain dockerd
  int veth_mtu = 0;             // CALICO_LIBNETWORK_VETH_MTU; 0 = kernel default
  std::string namespace_ = "default";  // of the WorkloadEndpoints
  // The Docker name of a network (from the daemon's API). When set, endpoints of networks with
  // the same name on different hosts share one profile: that of the first such network, as one
  // network shared through Docker's old cluster store had. Unset: the profile is the network ID.
  std::function<Result<std::string>(const std::string& network_id)> network_name{};
  // The host-wide IPAM lock shared with the CNI plugins of this host (ipam/host_lock.h), held
  // around every assignment and release; "" = none (tests with a private store).
  std::string ipam_lock_file{};
};

class NetworkDriver;
class IpamDriver;
struct DriverContext;

class Driver {
 public:
  // `backend` and `plumber` must outlive the driver.
  Driver(datastore::Backend& backend, Plumber& plumber, DriverOptions options);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // Routes "Plugin.Activate", "NetworkDriver.Join", ... (the request path without its '/') with
  // the raw request body (which may be empty or not JSON) through the dispatch table.
  // `known` tells whether the method exists (the transport answers 404).
  Json Dispatch(std::string_view method, std::string_view body, bool* known = nullptr);
  // The same with a decoded request (null is taken as {}); unknown methods are an {"Err": ...}.
  Json Call(std::string_view method, const Json& req);

  // One call per plugin method, for tests and in-process callers: Call("<Method>", req).
  // Plugin.*
  Json Activate(const Json& req) { return Call("Plugin.Activate", req); }
  // NetworkDriver.* (network_driver.h)
  Json GetCapabilities(const Json& req) { return Call("NetworkDriver.GetCapabilities", req); }
  Json CreateNetwork(const Json& req) { return Call("NetworkDriver.CreateNetwork", req); }
  Json DeleteNetwork(const Json& req) { return Call("NetworkDriver.DeleteNetwork", req); }
  Json CreateEndpoint(const Json& req) { return Call("NetworkDriver.CreateEndpoint", req); }
  Json EndpointOperInfo(const Json& req) { return Call("NetworkDriver.EndpointOperInfo", req); }
  Json DeleteEndpoint(const Json& req) { return Call("NetworkDriver.DeleteEndpoint", req); }
  Json Join(const Json& req) { return Call("NetworkDriver.Join", req); }
  Json Leave(const Json& req) { return Call("NetworkDriver.Leave", req); }
  Json DiscoverNew(const Json& req) { return Call("NetworkDriver.DiscoverNew", req); }
  Json DiscoverDelete(const Json& req) { return Call("NetworkDriver.DiscoverDelete", req); }
  Json ProgramExternalConnectivity(const Json& req) {
    return Call("NetworkDriver.ProgramExternalConnectivity", req);
  }
  Json RevokeExternalConnectivity(const Json& req) {
    return Call("NetworkDriver.RevokeExternalConnectivity", req);
  }
  Json AllocateNetwork(const Json& req) { return Call("NetworkDriver.AllocateNetwork", req); }
  Json FreeNetwork(const Json& req) { return Call("NetworkDriver.FreeNetwork", req); }
  // IpamDriver.* (ipam_driver.h)
  Json IpamGetCapabilities(const Json& req) { return Call("IpamDriver.GetCapabilities", req); }
  Json GetDefaultAddressSpaces(const Json& req) {
    return Call("IpamDriver.GetDefaultAddressSpaces", req);
  }
  Json RequestPool(const Json& req) { return Call("IpamDriver.RequestPool", req); }
  Json ReleasePool(const Json& req) { return Call("IpamDriver.ReleasePool", req); }
  Json RequestAddress(const Json& req) { return Call("IpamDriver.RequestAddress", req); }
  Json ReleaseAddress(const Json& req) { return Call("IpamDriver.ReleaseAddress", req); }

  // The WorkloadEndpoint name for a Docker endpoint on this node.
  [[nodiscard]] Result<std::string> EndpointName(const std::string& endpoint_id) const;

  // A plugin method's handler: the request (an object) in, the answer or an error out.
  using Handler = Result<Json> (*)(Driver& driver, const Json& req);

 private:
  // The one dispatch table: "<Plugin|NetworkDriver|IpamDriver>.<Method>" -> handler.
  static const std::map<std::string_view, Handler>& Routes();
  // Serialises, checks that the request is an object, logs, turns errors into {"Err": ...}.
  Json Run(std::string_view method, Handler handler, const Json& req);

  std::unique_ptr<DriverContext> ctx_;
  std::unique_ptr<NetworkDriver> network_;
  std::unique_ptr<IpamDriver> ipam_;
  std::mutex mu_;
};

// "cali" / "temp" + the endpoint ID's first 11 characters.
std::string HostIfname(std::string_view endpoint_id);
std::string TempIfname(std::string_view endpoint_id);

}  // namespace calico::libnetwork
