// The etcd v3 datastore backend (libcalico-go/lib/backend/etcdv3): the Backend contract over
// etcd's gRPC API, with Calico's transaction shapes (create = Txn on version == 0, update/delete =
// Txn on mod_revision), leases for TTL keys, watches from a revision (compaction -> kConflict),
// several endpoints with failover, TLS and username/password authentication.
//
// Thread-safety: thread-safe.
#pragma once

#include <memory>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/config.h"

namespace calico::datastore::etcd {

// Connects (checking reachability within config.dial_timeout). Errors: kUnavailable naming every
// endpoint tried; kInvalidArgument for malformed endpoints or unreadable certificate files;
// kPermissionDenied for failed authentication.
[[nodiscard]] Result<std::unique_ptr<Backend>> OpenEtcdBackend(const EtcdConfig& config);

// Compacts the etcd history up to `revision` (tests and tooling).
[[nodiscard]] Status CompactEtcd(Backend& backend, int64_t revision);

}  // namespace calico::datastore::etcd
