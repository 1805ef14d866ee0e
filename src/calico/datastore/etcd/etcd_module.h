// The C entry point of the etcd backend module (libcalico-etcd.so). The module and the program are
// built together from one tree, so C++ types cross the boundary; the _v1 suffix changes if the
// signature does.
#pragma once

#include <memory>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/config.h"

extern "C" {
// Returns 0 and fills `backend`, or 1 and fills `error`.
using CalicoEtcdOpenFn = int (*)(const calico::datastore::EtcdConfig* config,
                                 std::unique_ptr<calico::datastore::Backend>* backend,
                                 calico::Error* error);
}

inline constexpr const char* kCalicoEtcdModule = "libcalico-etcd.so";
inline constexpr const char* kCalicoEtcdOpenSymbol = "calico_etcd_open_v1";
