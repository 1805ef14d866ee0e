#include "calico/datastore/factory/factory.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace calico::datastore {
namespace {

TEST(FactoryTest, LocalStoreOpensInProcess) {
  ClientConfig cfg;
  cfg.type = DatastoreType::kLocal;
  cfg.local_path = (std::filesystem::temp_directory_path() /
                    ("calico-factory-" + std::to_string(::getpid())) / "calico.db")
                       .string();
  auto backend = OpenBackend(cfg);
  ASSERT_TRUE(backend) << backend.error().message();
  EXPECT_TRUE((*backend)->Put("/calico/x", "1"));
  std::filesystem::remove_all(std::filesystem::path(cfg.local_path).parent_path());
}

// etcd goes through libcalico-etcd.so, loaded on demand: an unreachable endpoint is reported by
// the module's backend (so the module was found and loaded), naming the endpoint.
TEST(FactoryTest, EtcdLoadsTheModuleOnDemand) {
  ClientConfig cfg;
  cfg.type = DatastoreType::kEtcdV3;
  cfg.etcd.endpoints = {"http://127.0.0.1:1"};
  cfg.etcd.dial_timeout = std::chrono::milliseconds(300);
  auto backend = OpenBackend(cfg);
  ASSERT_FALSE(backend);
  EXPECT_EQ(backend.error().code(), ErrorCode::kUnavailable) << backend.error().message();
  EXPECT_NE(backend.error().message().find("http://127.0.0.1:1"), std::string::npos)
      << backend.error().message();
  cfg.etcd.endpoints = {"ftp://bad"};
  auto bad = OpenBackend(cfg);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument) << bad.error().message();
}

}  // namespace
}  // namespace calico::datastore
