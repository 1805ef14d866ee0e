// What the network driver and the IPAM driver share: the datastore, Calico IPAM, the options, the
// network records (/calico/libnetwork/v1/<NetworkID>: the CreateNetwork request, as Calico's 2015
// driver stored it) and the IP pools this driver makes for `--subnet` and for networks on
// Docker's own IPAM (annotated libnetwork.projectcalico.org/created-by).
//
// Thread-safety: none; Driver serialises every call.
#pragma once

#include <optional>
#include <string>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/client.h"
#include "calico/ipam/ipam.h"
#include "calico/libnetwork/driver.h"
#include "calico/model/resource.h"
#include "calico/model/v3/ipam.h"
#include "calico/net/ip.h"

namespace calico::libnetwork {

inline constexpr const char* kCreatedBy = "calico-libnetwork";
inline constexpr const char* kAnyV4 = "0.0.0.0/0";
inline constexpr const char* kAnyV6 = "::/0";

struct DriverContext {
  DriverContext(datastore::Backend& store, DriverOptions opts)
      : backend(store), client(store), ipam(store), options(std::move(opts)) {}
  datastore::Backend& backend;
  datastore::Client client;
  ipam::IpamClient ipam;
  DriverOptions options;
};

// The stored CreateNetwork request of a network. Errors: kNotFound for a network this driver does
// not know, kInternal for a corrupt record, the datastore's.
[[nodiscard]] Result<Json> GetNetwork(DriverContext& ctx, const std::string& network_id);

// "0.0.0.0/0" or "::/0": Calico IPAM's gateway marker / any pool.
bool IsAny(const std::string& cidr);
// The name of the IPPool this driver makes for `cidr` ("libnetwork-10-1-0-0-16").
std::string PoolNameFor(const net::CIDR& cidr);
// The annotation `key` of `r` ("" when absent).
std::string Annotation(const model::Resource& r, const char* key);
// The typed spec of a pool FindPool returned (it decoded then; empty if it does not decode).
model::v3::IPPoolSpec PoolSpec(const model::Resource& pool);
// Whether this driver made `pool`.
bool CreatedByUs(const model::Resource& pool);
// The Calico IPPool whose CIDR equals `cidr`, if any.
[[nodiscard]] Result<std::optional<model::Resource>> FindPool(datastore::Client& client,
                                                              const net::CIDR& cidr);
// `text` as a masked CIDR. Errors: kInvalidArgument "invalid subnet".
[[nodiscard]] Result<net::CIDR> ParseSubnet(const std::string& text);
// Deletes the pool this driver made for --subnet `cidr` when no network and no address uses it.
[[nodiscard]] Status DeleteSubnetPoolIfUnused(DriverContext& ctx, const net::CIDR& cidr);

}  // namespace calico::libnetwork
