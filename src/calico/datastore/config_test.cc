// Client configuration files: the calicoctl.cfg the Debian package ships (packaging/etc/) holds
// only comments and must leave calicoctl on its environment; its commented example, once
// uncommented, must be a valid CalicoAPIConfig.
#include "calico/datastore/config.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace calico::datastore {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("calico-config-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    for (const char* v : {"DATASTORE_TYPE", "ETCD_ENDPOINTS", "CALICO_DATASTORE_PATH",
                          "CALICO_DATASTORE_TYPE", "CALICO_ETCD_ENDPOINTS"}) {
      ::unsetenv(v);
    }
  }
  void TearDown() override {
    ::unsetenv("ETCD_ENDPOINTS");
    fs::remove_all(dir_);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  static std::string Shipped() {
    std::ifstream in(std::string(CALICO_SOURCE_DIR) + "/packaging/etc/calicoctl.cfg");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path dir_;
};

TEST_F(ConfigFileTest, ShippedFileLeavesTheEnvironmentInCharge) {
  const std::string shipped = Shipped();
  ASSERT_THAT(shipped, HasSubstr("#kind: CalicoAPIConfig"));
  std::string path = Write("calicoctl.cfg", shipped);
  auto local = LoadClientConfig(path, false);
  ASSERT_TRUE(local) << local.error().message();
  EXPECT_EQ(local->type, DatastoreType::kLocal);
  EXPECT_EQ(local->local_path, kDefaultLocalPath);
  ::setenv("ETCD_ENDPOINTS", "http://127.0.0.1:2379", 1);
  auto etcd = LoadClientConfig(path, false);
  ASSERT_TRUE(etcd) << etcd.error().message();
  EXPECT_EQ(etcd->type, DatastoreType::kEtcdV3);
  EXPECT_THAT(etcd->etcd.endpoints, ::testing::ElementsAre("http://127.0.0.1:2379"));
  // Named with -c, a file without a document is an error, as in Calico.
  auto named = LoadClientConfig(path, true);
  ASSERT_FALSE(named);
  EXPECT_THAT(named.error().message(), HasSubstr("expected kind CalicoAPIConfig"));
}

TEST_F(ConfigFileTest, ShippedExampleUncommentedIsValid) {
  std::istringstream in(Shipped());
  std::string uncommented;
  bool in_example = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("#apiVersion:", 0) == 0) in_example = true;
    if (in_example && line.rfind('#', 0) == 0) line = line.substr(1);
    uncommented += line + "\n";
  }
  ASSERT_TRUE(in_example);
  auto cfg = LoadClientConfig(Write("example.cfg", uncommented), true);
  ASSERT_TRUE(cfg) << cfg.error().message() << "\n" << uncommented;
  EXPECT_EQ(cfg->type, DatastoreType::kEtcdV3);
  EXPECT_THAT(cfg->etcd.endpoints,
              ::testing::ElementsAre("https://10.0.0.1:2379", "https://10.0.0.2:2379"));
  EXPECT_EQ(cfg->etcd.ca_cert_file, "/etc/calico/etcd-ca.pem");
  EXPECT_EQ(cfg->etcd.key_file, "/etc/calico/etcd-key.pem");
}

}  // namespace
}  // namespace calico::datastore
