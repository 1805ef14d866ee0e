#include "calico/datastore/factory/factory.h"

#include "calico/datastore/local/sqlite_backend.h"
#ifdef CALICO_HAVE_ETCD
#include "calico/datastore/etcd/etcd_backend.h"
#endif

namespace calico::datastore {

Result<std::unique_ptr<Backend>> OpenBackend(const ClientConfig& config) {
  if (config.type == DatastoreType::kEtcdV3) {
#ifdef CALICO_HAVE_ETCD
    return etcd::OpenEtcdBackend(config.etcd);
#else
    return MakeError(ErrorCode::kUnsupported, "this build has no etcd v3 backend");
#endif
  }
  ASSIGN_OR_RETURN(auto local, SqliteBackend::Open(config.local_path));
  return std::unique_ptr<Backend>(std::move(local));
}

}  // namespace calico::datastore
