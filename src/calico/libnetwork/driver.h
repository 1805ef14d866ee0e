// The Calico Docker network and IPAM driver (projectcalico/libnetwork-plugin; reference §5),
// transport-free: one method per Docker remote-plugin endpoint, request JSON in, response JSON
// out. Failures are answered as {"Err": "<message>"}, never thrown: malformed JSON, missing
// fields, unknown networks or endpoints, datastore and kernel errors.
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
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/client.h"
#include "calico/ipam/host_lock.h"
#include "calico/ipam/ipam.h"
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

class Driver {
 public:
  // `backend` and `plumber` must outlive the driver.
  Driver(datastore::Backend& backend, Plumber& plumber, DriverOptions options);

  // Plugin.Activate
  Json Activate(const Json& req);
  // NetworkDriver.*
  Json GetCapabilities(const Json& req);
  Json CreateNetwork(const Json& req);
  Json DeleteNetwork(const Json& req);
  Json CreateEndpoint(const Json& req);
  Json EndpointOperInfo(const Json& req);
  Json DeleteEndpoint(const Json& req);
  Json Join(const Json& req);
  Json Leave(const Json& req);
  Json DiscoverNew(const Json& req);
  Json DiscoverDelete(const Json& req);
  Json ProgramExternalConnectivity(const Json& req);
  Json RevokeExternalConnectivity(const Json& req);
  Json AllocateNetwork(const Json& req);
  Json FreeNetwork(const Json& req);
  // IpamDriver.*
  Json IpamGetCapabilities(const Json& req);
  Json GetDefaultAddressSpaces(const Json& req);
  Json RequestPool(const Json& req);
  Json ReleasePool(const Json& req);
  Json RequestAddress(const Json& req);
  Json ReleaseAddress(const Json& req);

  // Routes "Plugin.Activate", "NetworkDriver.Join", ... with the raw request body (which may be
  // empty or not JSON). `known` tells whether the method exists (the transport answers 404).
  Json Dispatch(std::string_view method, std::string_view body, bool* known = nullptr);

  // The WorkloadEndpoint name for a Docker endpoint on this node.
  [[nodiscard]] Result<std::string> EndpointName(const std::string& endpoint_id) const;

 private:
  using Handler = Result<Json> (Driver::*)(const Json&);
  Json Run(std::string_view method, Handler handler, const Json& req);

  // The host-wide IPAM lock when options_.ipam_lock_file is set, else nothing.
  [[nodiscard]] Result<std::optional<ipam::HostLock>> LockIpam();
  [[nodiscard]] Result<Json> DoCreateNetwork(const Json& req);
  [[nodiscard]] Result<Json> DoDeleteNetwork(const Json& req);
  [[nodiscard]] Result<Json> DoCreateEndpoint(const Json& req);
  [[nodiscard]] Result<Json> DoEndpointOperInfo(const Json& req);
  [[nodiscard]] Result<Json> DoDeleteEndpoint(const Json& req);
  [[nodiscard]] Result<Json> DoJoin(const Json& req);
  [[nodiscard]] Result<Json> DoLeave(const Json& req);
  [[nodiscard]] Result<Json> DoRequestPool(const Json& req);
  [[nodiscard]] Result<Json> DoReleasePool(const Json& req);
  [[nodiscard]] Result<Json> DoRequestAddress(const Json& req);
  [[nodiscard]] Result<Json> DoReleaseAddress(const Json& req);
  [[nodiscard]] Result<Json> Empty(const Json& req);
  [[nodiscard]] Result<Json> DoActivate(const Json& req);
  [[nodiscard]] Result<Json> DoGetCapabilities(const Json& req);
  [[nodiscard]] Result<Json> DoIpamGetCapabilities(const Json& req);
  [[nodiscard]] Result<Json> DoGetDefaultAddressSpaces(const Json& req);

  // The stored CreateNetwork request of a network; kNotFound when unknown.
  [[nodiscard]] Result<Json> GetNetwork(const std::string& network_id);
  [[nodiscard]] Result<model::Resource> GetEndpoint(const std::string& endpoint_id);
  // Deletes the pool this driver made for --subnet `cidr` when no network and no address uses it.
  [[nodiscard]] Status DeleteSubnetPoolIfUnused(const net::CIDR& cidr);
  // The profile for endpoints of `network_id`: the network ID, or the first network ID recorded
  // for the network's Docker name (/calico/libnetwork/v1/names/<name>).
  std::string ProfileFor(const std::string& network_id);

  datastore::Backend& backend_;
  datastore::Client client_;
  ipam::IpamClient ipam_;
  Plumber& plumber_;
  DriverOptions options_;
  std::mutex mu_;
};

// "cali" / "temp" + the endpoint ID's first 11 characters.
std::string HostIfname(std::string_view endpoint_id);
std::string TempIfname(std::string_view endpoint_id);

}  // namespace calico::libnetwork
