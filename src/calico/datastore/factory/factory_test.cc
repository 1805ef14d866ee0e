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

// The short-lived processes' client (the JSON gateway, linked in) names the connection error it
// got; CALICO_ETCD_CLIENT overrides the caller's choice either way and refuses other values.
TEST(FactoryTest, HttpClientIsChosenByTheCallerOrTheEnvironment) {
  ClientConfig cfg;
  cfg.type = DatastoreType::kEtcdV3;
  cfg.etcd.endpoints = {"http://127.0.0.1:1"};
  cfg.etcd.dial_timeout = std::chrono::milliseconds(300);
  ::unsetenv("CALICO_ETCD_CLIENT");
  auto http = OpenBackend(cfg, EtcdClient::kHttp);
  ASSERT_FALSE(http);
  EXPECT_EQ(http.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(http.error().message().find("127.0.0.1:1: Connection refused"), std::string::npos)
      << http.error().message();
  ::setenv("CALICO_ETCD_CLIENT", "grpc", 1);
  auto grpc = OpenBackend(cfg, EtcdClient::kHttp);
  ASSERT_FALSE(grpc);
  EXPECT_EQ(grpc.error().message().find("Connection refused"), std::string::npos)
      << grpc.error().message();
  ::setenv("CALICO_ETCD_CLIENT", "http", 1);
  auto forced = OpenBackend(cfg);
  ASSERT_FALSE(forced);
  EXPECT_NE(forced.error().message().find("Connection refused"), std::string::npos);
  ::setenv("CALICO_ETCD_CLIENT", "h2", 1);
  auto bad = OpenBackend(cfg);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("CALICO_ETCD_CLIENT=h2"), std::string::npos);
  ::unsetenv("CALICO_ETCD_CLIENT");
}

}  // namespace
}  // namespace calico::datastore
