// OpenBackend: builds the Backend a ClientConfig names (local SQLite or etcd v3).
//
// Thread-safety: pure function.
#pragma once

#include <memory>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/config.h"

namespace calico::datastore {

// Which etcd client a process uses (the embedded store ignores it):
//   kGrpc  the gRPC backend in libcalico-etcd.so, loaded on demand: HTTP/2, one multiplexed
//          connection for requests and watches; for long-lived processes (calico-node,
//          calico-controllers, calico-flows, libnetwork).
//   kHttp  the JSON-gateway backend linked into the program (etcdhttp/etcd_http_backend.h): no
//          gRPC, protobuf or abseil to load, one HTTP/1.1 connection; for short-lived processes
//          (the CNI plugins and calicoctl), where loading gRPC cost more than the requests
//          (bench/README.md, issue 20).
// Both read and write the same keys with the same transactions. CALICO_ETCD_CLIENT=grpc|http in
// the environment overrides the choice (an etcd run with --enable-grpc-gateway=false serves no
// JSON gateway: its CNI plugins and calicoctl need grpc); another value is kInvalidArgument.
enum class EtcdClient { kGrpc, kHttp };

// Errors: kUnavailable (store cannot be opened/reached), kUnsupported (etcd module not found).
[[nodiscard]] Result<std::unique_ptr<Backend>> OpenBackend(
    const ClientConfig& config, EtcdClient etcd_client = EtcdClient::kGrpc);

}  // namespace calico::datastore
