// The Backend conformance suite run against the in-memory and the SQLite backends (the etcd
// backend runs the same suite in etcd/).
#include <unistd.h>

#include <filesystem>

#include "calico/base/testing/temp_dir.h"
#include "calico/datastore/local/sqlite_backend.h"
#include "calico/datastore/testing/backend_conformance.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::datastore {
namespace {

std::string FreshStorePath() {
  return (::calico::testing::MakeTestDir("conformance") / "calico.db").string();
}

INSTANTIATE_TEST_SUITE_P(
    Backends, BackendConformanceTest,
    ::testing::Values(
        BackendFactory{
            "mem",
            [] {
              auto mem = std::make_unique<MemBackend>();
              MemBackend* raw = mem.get();
              return BackendUnderTest{std::move(mem), [raw](int64_t rev) { raw->Compact(rev); }};
            }},
        BackendFactory{"sqlite",
                       [] {
                         auto opened = SqliteBackend::Open(FreshStorePath());
                         CALICO_CHECK(opened.has_value());
                         SqliteBackend* raw = opened->get();
                         return BackendUnderTest{std::move(*opened), [raw](int64_t rev) {
                                                   CALICO_CHECK(raw->Compact(rev).has_value());
                                                 }};
                       }}),
    [](const ::testing::TestParamInfo<BackendFactory>& param_info) {
      return param_info.param.name;
    });

}  // namespace
}  // namespace calico::datastore
