// The entry point of libcalico-etcd.so: the etcd v3 backend as a module that datastore::OpenBackend
// loads only when the configuration names etcd. Binaries that never talk to etcd (a CNI plugin on
// the embedded store) then do not load gRPC, protobuf and abseil at every start, which is most of a
// plugin's start-up time.
#include "calico/datastore/etcd/etcd_module.h"

#include "calico/datastore/etcd/etcd_backend.h"

extern "C" __attribute__((visibility("default"))) int calico_etcd_open_v1(
    const calico::datastore::EtcdConfig* config,
    std::unique_ptr<calico::datastore::Backend>* backend, calico::Error* error) {
  auto opened = calico::datastore::etcd::OpenEtcdBackend(*config);
  if (!opened) {
    *error = opened.error();
    return 1;
  }
  *backend = std::move(*opened);
  return 0;
}
