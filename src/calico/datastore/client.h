// datastore::Client: resource-level operations over a Backend (libcalico-go/lib/clientv3).
//
// Create/Update/Apply apply defaults and validate (model::ApplyDefaultsAndValidate) and run the
// client-side checks Calico's clientv3 runs (tier exists for a policy, IPPool overlap and
// immutable fields, WorkloadEndpoint name, singleton names, built-in tiers protected, non-empty
// tier not deletable). Nothing is written when a check fails.
// Keys and stored JSON follow reference Part 4 (resources.h maps resources to keys), so data is
// interchangeable with Calico's etcd layout. metadata.resourceVersion is the key's mod_revision;
// uid and creationTimestamp are set on create.
//
// Thread-safety: thread-safe if the Backend is.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/model/resource.h"

namespace calico::datastore {

class Client {
 public:
  explicit Client(Backend& backend) : backend_(backend) {}

  // Creates the built-in tiers (default, kube-admin, kube-baseline) and the cluster information
  // when missing (clientv3 EnsureInitialized). Idempotent.
  [[nodiscard]] Status EnsureInitialized();

  // Errors: kAlreadyExists, kInvalidArgument (validation, with the field errors text), kNotFound
  // (e.g. the policy's tier), kUnavailable.
  [[nodiscard]] Result<model::Resource> Create(model::Resource r);
  // Create without the IPPool overlap check (clientv3 ipPools.UnsafeCreate), for `calicoctl ipam
  // split`, whose new pools overlap the disabled pool they replace until it is deleted.
  [[nodiscard]] Result<model::Resource> UnsafeCreate(model::Resource r);
  // Compare-and-swap when metadata.resourceVersion is set, otherwise last-writer-wins. A
  // CalicoNodeStatus update without `status` keeps the stored status (calico-node's).
  // Errors: kNotFound, kConflict, kInvalidArgument, kUnavailable.
  [[nodiscard]] Result<model::Resource> Update(model::Resource r);
  // Create, or update the existing resource (keeping uid and creationTimestamp).
  [[nodiscard]] Result<model::Resource> Apply(model::Resource r);
  // Deletes and returns the deleted resource. resource_version "" = unconditional.
  [[nodiscard]] Result<model::Resource> Delete(std::string_view kind, std::string_view ns,
                                               std::string_view name,
                                               std::string_view resource_version = "");
  [[nodiscard]] Result<model::Resource> Get(std::string_view kind, std::string_view ns,
                                            std::string_view name);
  // ns "" lists every namespace for namespaced kinds. Sorted by namespace, then name. A stored
  // value that cannot be decoded (corrupt, or over a limit of model/decode_limits.h) is skipped
  // and logged, never fatal.
  [[nodiscard]] Result<std::vector<model::Resource>> List(std::string_view kind,
                                                          std::string_view ns = "");

  // List plus the store revision it was read at (a <Kind>List's metadata.resourceVersion).
  struct ListResult {
    std::vector<model::Resource> items;
    int64_t revision = 0;
    int skipped = 0;  // stored values that could not be read (logged, left out of items)
  };
  [[nodiscard]] Result<ListResult> ListWithRevision(std::string_view kind,
                                                    std::string_view ns = "");

  Backend& backend() { return backend_; }

 private:
  // ClusterInformation "default" with clusterGUID and datastoreReady (see client.cc).
  [[nodiscard]] Status EnsureClusterInformation();
  // Kind lookup, WorkloadEndpoint name derivation, defaults and validation.
  [[nodiscard]] Result<const model::KindInfo*> Prepare(model::Resource& r);
  // Tier must exist for policies; IPPool must not overlap another pool.
  [[nodiscard]] Status CheckCreateRules(const model::KindInfo& kind, const model::Resource& r,
                                        bool check_pool_overlap = true);
  [[nodiscard]] Result<model::Resource> CreateImpl(model::Resource r, bool check_pool_overlap);

  Backend& backend_;
};

}  // namespace calico::datastore
