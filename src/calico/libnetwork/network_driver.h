// The network half of Calico's Docker driver (projectcalico/libnetwork-plugin
// driver/network_driver.go, and the 2015 Python driver_plugin.py it replaced):
//
//   CreateNetwork     Profile <NetworkID> (members talk to each other, egress open), the network
//                     record, --opt ipip / nat-outgoing on the network's pool; networks on Docker's
//                     own IPAM get a routing-only (disabled) Calico pool for their subnet
//   CreateEndpoint    WorkloadEndpoint <node>-libnetwork-libnetwork-<EndpointID>
//   Join              veth cali<EID[:11]> / temp<EID[:11]> in the host namespace (Plumber),
//                     gateway 169.254.1.1 (host answers by proxy ARP)
//   Leave, DeleteEndpoint, DeleteNetwork undo them, idempotently.
//
// Requests and answers are Docker's JSON; errors become {"Err": message} in Driver.
//
// Thread-safety: none; Driver serialises every call.
#pragma once

#include <string>

#include "calico/base/result.h"
#include "calico/libnetwork/driver.h"
#include "calico/libnetwork/driver_context.h"
#include "calico/libnetwork/plumbing.h"
#include "calico/model/resource.h"

namespace calico::libnetwork {

class NetworkDriver {
 public:
  // `ctx` and `plumber` must outlive the driver.
  NetworkDriver(DriverContext& ctx, Plumber& plumber) : ctx_(ctx), plumber_(plumber) {}

  [[nodiscard]] Result<Json> GetCapabilities(const Json& req);
  [[nodiscard]] Result<Json> CreateNetwork(const Json& req);
  [[nodiscard]] Result<Json> DeleteNetwork(const Json& req);
  [[nodiscard]] Result<Json> CreateEndpoint(const Json& req);
  [[nodiscard]] Result<Json> EndpointOperInfo(const Json& req);
  [[nodiscard]] Result<Json> DeleteEndpoint(const Json& req);
  [[nodiscard]] Result<Json> Join(const Json& req);
  [[nodiscard]] Result<Json> Leave(const Json& req);

  // The WorkloadEndpoint name for a Docker endpoint on this node.
  [[nodiscard]] Result<std::string> EndpointName(const std::string& endpoint_id) const;

 private:
  [[nodiscard]] Result<model::Resource> GetEndpoint(const std::string& endpoint_id);
  // The profile for endpoints of `network_id`: the network ID, or the first network ID recorded
  // for the network's Docker name (/calico/libnetwork/v1/names/<name>).
  std::string ProfileFor(const std::string& network_id);

  DriverContext& ctx_;
  Plumber& plumber_;
};

}  // namespace calico::libnetwork
