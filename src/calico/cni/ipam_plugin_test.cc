// calico-ipam driven exactly as a CNI runtime drives it: the real binary, env + stdin, results on
// stdout; the embedded store in a temp file.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "calico/cni/cni.h"
#include "calico/cni/testing/plugin_run.h"
#include "calico/datastore/client.h"
#include "calico/datastore/local/sqlite_backend.h"
#include "calico/ipam/ipam.h"

namespace calico::cni {
namespace {

using testing::MakeStoreWithPools;
using testing::PluginRun;
using testing::RunPluginBinary;

class IpamPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("calico-ipam-plugin-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "calico.db").string();
    ASSERT_TRUE(MakeStoreWithPools(db_, "10.65.0.0/24", "fd00:65::/120", /*initialize=*/false));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Conf(const std::string& version, const std::string& ipam_extra = "") {
    return R"({"cniVersion":")" + version +
           R"(","name":"backend","type":"calico","nodename":"node1","datastore_path":")" + db_ +
           R"(","ipam_lock_file":")" + (dir_ / "ipam.lock").string() +
           R"(","ipam":{"type":"calico-ipam")" + ipam_extra + "}}";
  }

  PluginRun Invoke(const std::string& command, const std::string& container,
                   const std::string& conf, const std::string& args = "") {
    return RunPluginBinary("calico-ipam",
                           {{"CNI_COMMAND", command},
                            {"CNI_CONTAINERID", container},
                            {"CNI_NETNS", "/run/netns/test"},
                            {"CNI_IFNAME", "eth0"},
                            {"CNI_PATH", "/opt/cni/bin"},
                            {"CNI_ARGS", args}},
                           conf);
  }

  std::filesystem::path dir_;
  std::string db_;
};

// Issue 19: the plugins created a missing store (and its directories) instead of failing.
TEST_F(IpamPluginTest, MissingStoreIsAnErrorAndNothingIsCreated) {
  const auto missing = dir_ / "not-there" / "deeper" / "calico.db";
  std::string conf = Conf("0.3.1");
  conf.replace(conf.find(db_), db_.size(), missing.string());
  PluginRun add = Invoke("ADD", "ctr-missing", conf);
  EXPECT_EQ(add.code, 1);
  Json err = Json::parse(add.out, nullptr, false);
  ASSERT_TRUE(err.is_object()) << add.out;
  EXPECT_EQ(err["code"], 11);
  EXPECT_NE(
      err["msg"].get<std::string>().find("local store " + missing.string() + " does not exist"),
      std::string::npos)
      << add.out;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "not-there"));
}

// Issue 19: JSON nested 20000 deep killed the plugin with SIGSEGV and no CNI error on stdout.
TEST_F(IpamPluginTest, DeepJsonOnStdinGivesACniError) {
  std::string conf = Conf("0.3.1");
  conf.insert(conf.size() - 1, R"(,"x":)" + std::string(20000, '[') + std::string(20000, ']'));
  PluginRun add = Invoke("ADD", "ctr-deep", conf);
  EXPECT_EQ(add.code, 1);
  Json err = Json::parse(add.out, nullptr, false);
  ASSERT_TRUE(err.is_object()) << add.out.substr(0, 200);
  EXPECT_EQ(err["code"], 6);
  EXPECT_NE(err["msg"].get<std::string>().find("max nesting depth of 512"), std::string::npos);
}

TEST_F(IpamPluginTest, AddReturnsAnAddressInEveryVersionAndDelReleasesIt) {
  for (const char* v : kSupportedVersions) {
    std::string cid = std::string("ctr-") + v;
    for (char& c : cid)
      c = c == '.' ? '-' : c;
    PluginRun add = Invoke("ADD", cid, Conf(v));
    ASSERT_EQ(add.code, 0) << add.out;
    Json j = Json::parse(add.out);
    EXPECT_EQ(j["cniVersion"], v);
    std::string address = CompareVersions(v, "0.3.0") < 0
                              ? j["ip4"]["ip"].get<std::string>()
                              : j["ips"][0]["address"].get<std::string>();
    EXPECT_EQ(address.substr(0, 6), "10.65.") << address;
    EXPECT_EQ(address.substr(address.size() - 3), "/32");
    PluginRun again = Invoke("ADD", cid, Conf(v));  // Repeated ADD returns the same address.
    EXPECT_EQ(again.out, add.out);
    EXPECT_EQ(Invoke("CHECK", cid, Conf(v)).code, 0);
    EXPECT_EQ(Invoke("DEL", cid, Conf(v)).code, 0);
    EXPECT_EQ(Invoke("DEL", cid, Conf(v)).code, 0);  // Idempotent.
    EXPECT_NE(Invoke("CHECK", cid, Conf(v)).code, 0);
  }
  auto backend = datastore::SqliteBackend::Open(db_);
  ASSERT_TRUE(backend);
  EXPECT_TRUE((*backend)->List("/calico/ipam/v2/handle/")->kvs.empty());
}

TEST_F(IpamPluginTest, FixedAddressDualStackAndVersion) {
  PluginRun fixed = Invoke("ADD", "fixed", Conf("0.1.0"), "IgnoreUnknown=1;IP=10.65.0.77");
  ASSERT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_EQ(Json::parse(fixed.out)["ip4"]["ip"], "10.65.0.77/32");
  PluginRun taken = Invoke("ADD", "other", Conf("0.1.0"), "IP=10.65.0.77");
  EXPECT_EQ(taken.code, 1);
  EXPECT_NE(Json::parse(taken.out)["msg"].get<std::string>().find("already assigned"),
            std::string::npos);
  PluginRun dual = Invoke("ADD", "dual", Conf("1.0.0", R"(,"assign_ipv6":"true")"));
  ASSERT_EQ(dual.code, 0) << dual.out;
  Json j = Json::parse(dual.out);
  ASSERT_EQ(j["ips"].size(), 2u);
  EXPECT_EQ(j["ips"][1]["address"].get<std::string>().substr(0, 7), "fd00:65");
  PluginRun version = Invoke("VERSION", "x", R"({"cniVersion":"0.4.0"})");
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(Json::parse(version.out)["supportedVersions"].size(), 6u);
}

TEST_F(IpamPluginTest, BadInputGivesCniErrorsAndLeavesNothing) {
  PluginRun bad_json = Invoke("ADD", "a", "{not json");
  EXPECT_EQ(bad_json.code, 1);
  Json e = Json::parse(bad_json.out);
  EXPECT_EQ(e["code"], 6);
  EXPECT_FALSE(e["msg"].get<std::string>().empty());
  PluginRun bad_pool = Invoke("ADD", "b", Conf("1.0.0", R"(,"ipv4_pools":["192.0.2.0/24"])"));
  EXPECT_EQ(bad_pool.code, 1);
  EXPECT_NE(bad_pool.out.find("does not exist, or is not enabled"), std::string::npos);
  PluginRun wrong_family = Invoke("ADD", "c", Conf("1.0.0", R"(,"ipv4_pools":["fd00:65::/120"])"));
  EXPECT_EQ(wrong_family.code, 1);
  EXPECT_NE(wrong_family.out.find("isn't a IPv4 address"), std::string::npos);
  PluginRun newer = Invoke("ADD", "d", Conf("1.1.0"));
  EXPECT_EQ(Json::parse(newer.out)["code"], 1);
  auto backend = datastore::SqliteBackend::Open(db_);
  ASSERT_TRUE(backend);
  ipam::IpamClient client(**backend);
  EXPECT_TRUE((*backend)->List("/calico/ipam/v2/handle/")->kvs.empty());
  auto blocks = client.ListBlocks();
  ASSERT_TRUE(blocks);
  for (const auto& b : *blocks)
    EXPECT_TRUE(b.Empty());
}

// 4 processes x 50 ADDs against one store: all distinct, and the pool is empty after DEL.
TEST_F(IpamPluginTest, ParallelProcessesGetDistinctAddresses) {
  constexpr int kProcs = 4;
  constexpr int kEach = 50;
  std::vector<std::string> outputs(kProcs);
  std::vector<pid_t> pids;
  std::vector<std::string> files;
  for (int p = 0; p < kProcs; ++p) {
    files.push_back((dir_ / ("out-" + std::to_string(p))).string());
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::string all;
      for (int i = 0; i < kEach; ++i) {
        PluginRun r =
            Invoke("ADD", "p" + std::to_string(p) + "c" + std::to_string(i), Conf("1.0.0"));
        if (r.code != 0) ::_exit(3);
        all += Json::parse(r.out)["ips"][0]["address"].get<std::string>() + "\n";
      }
      FILE* f = std::fopen(files[static_cast<size_t>(p)].c_str(), "w");
      std::fputs(all.c_str(), f);
      std::fclose(f);
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::set<std::string> addresses;
  for (const std::string& f : files) {
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line))
      addresses.insert(line);
  }
  EXPECT_EQ(addresses.size(), static_cast<size_t>(kProcs * kEach));
  for (int p = 0; p < kProcs; ++p) {
    for (int i = 0; i < kEach; ++i) {
      ASSERT_EQ(
          Invoke("DEL", "p" + std::to_string(p) + "c" + std::to_string(i), Conf("1.0.0")).code, 0);
    }
  }
  auto backend = datastore::SqliteBackend::Open(db_);
  ipam::IpamClient client(**backend);
  auto blocks = client.ListBlocks();
  ASSERT_TRUE(blocks);
  for (const auto& b : *blocks)
    EXPECT_TRUE(b.Empty());
}

}  // namespace
}  // namespace calico::cni
