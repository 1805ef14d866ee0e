// The IPAM half of Calico's Docker driver (projectcalico/libnetwork-plugin driver/ipam_driver.go):
//
//   RequestPool     no --subnet: PoolID CalicoPoolIPv4/6 (any Calico pool, chosen per address);
//                   --subnet C: the Calico IPPool with CIDR C, created (assignmentMode Manual)
//                   when missing; gateway marker 0.0.0.0/0 (::/0)
//   ReleasePool     removes such a pool once nothing uses it
//   RequestAddress  Calico IPAM (AutoAssign for this node, or AssignIP for --ip), one handle
//                   libnetwork.<hex> per address; a gateway request is refused as Calico did
//   ReleaseAddress  by address (Docker gives no endpoint)
//
// Requests and answers are Docker's JSON; errors become {"Err": message} in Driver.
//
// Thread-safety: none; Driver serialises every call.
#pragma once

#include <optional>

#include "calico/base/result.h"
#include "calico/ipam/host_lock.h"
#include "calico/libnetwork/driver.h"
#include "calico/libnetwork/driver_context.h"

namespace calico::libnetwork {

class IpamDriver {
 public:
  // `ctx` must outlive the driver.
  explicit IpamDriver(DriverContext& ctx) : ctx_(ctx) {}

  [[nodiscard]] Result<Json> GetCapabilities(const Json& req);
  [[nodiscard]] Result<Json> GetDefaultAddressSpaces(const Json& req);
  [[nodiscard]] Result<Json> RequestPool(const Json& req);
  [[nodiscard]] Result<Json> ReleasePool(const Json& req);
  [[nodiscard]] Result<Json> RequestAddress(const Json& req);
  [[nodiscard]] Result<Json> ReleaseAddress(const Json& req);

 private:
  // The host-wide IPAM lock when options.ipam_lock_file is set, else nothing.
  [[nodiscard]] Result<std::optional<ipam::HostLock>> LockIpam();

  DriverContext& ctx_;
};

}  // namespace calico::libnetwork
