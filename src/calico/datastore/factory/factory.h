// OpenBackend: builds the Backend a ClientConfig names (local SQLite or etcd v3).
//
// Thread-safety: pure function.
#pragma once

#include <memory>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/config.h"

namespace calico::datastore {

// Errors: kUnavailable (store cannot be opened/reached), kUnsupported (etcd not built in).
[[nodiscard]] Result<std::unique_ptr<Backend>> OpenBackend(const ClientConfig& config);

}  // namespace calico::datastore
