// node checksystem's kernel checks (calicoctl/calicoctl/commands/node/checksystem.go
// moduleAvailable, checkModule, findBootFile) against files the test writes: built-in (=y) and
// loadable (=m) modules in the kernel config count, "is not set" does not; /sys/module and the
// module lists (with compressed names) count; a gzip-compressed config (/proc/config.gz) is read.
#include "calico/ctl/kernel_config.h"

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/ctl/node_command.h"
#include "calico/ctl/testing/ctl_fixture.h"

namespace calico::ctl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class KernelConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/calico-kconfig-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "sys");
    fs::create_directories(dir_ / "modules");
    sources_.sys_module_dir = (dir_ / "sys").string();
    sources_.modules_dir = (dir_ / "modules").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  KernelSources sources_;
};

const KernelModuleCheck kNfTables{"nf_tables", {"CONFIG_NF_TABLES"}, true, "policy"};

TEST_F(KernelConfigTest, BuiltInOrModuleInConfigCounts) {
  EXPECT_FALSE(KernelModuleAvailable(kNfTables, sources_));
  sources_.config_text = "# CONFIG_NF_TABLES is not set\nCONFIG_NF_TABLES_INET=y\n";
  EXPECT_FALSE(KernelModuleAvailable(kNfTables, sources_));
  sources_.config_text = "CONFIG_A=y\nCONFIG_NF_TABLES=y\n";
  EXPECT_TRUE(KernelModuleAvailable(kNfTables, sources_));
  sources_.config_text = "CONFIG_NF_TABLES=m\n";
  EXPECT_TRUE(KernelModuleAvailable(kNfTables, sources_));
  sources_.config_text = "CONFIG_NF_TABLES=n\n";
  EXPECT_FALSE(KernelModuleAvailable(kNfTables, sources_));
}

TEST_F(KernelConfigTest, SysfsAndModuleListsCount) {
  fs::create_directories(dir_ / "sys" / "veth");
  EXPECT_TRUE(KernelModuleAvailable({"veth", {}, true, ""}, sources_));
  std::ofstream(dir_ / "modules" / "modules.dep")
      << "kernel/drivers/net/vxlan/vxlan.ko.xz: kernel/net/ipv4/udp_tunnel.ko.xz\n";
  EXPECT_TRUE(KernelModuleAvailable({"vxlan", {}, false, ""}, sources_));
  EXPECT_FALSE(KernelModuleAvailable({"vxla", {}, false, ""}, sources_));
  std::ofstream(dir_ / "modules" / "modules.builtin") << "kernel/net/netfilter/nf_tables.ko\n";
  EXPECT_TRUE(KernelModuleAvailable(kNfTables, sources_));
}

TEST_F(KernelConfigTest, ReadsPlainAndGzipConfigs) {
  const std::string plain = (dir_ / "config").string();
  std::ofstream(plain) << "CONFIG_NF_TABLES=y\n";
  auto text = ReadKernelConfig(plain);
  ASSERT_TRUE(text.has_value()) << text.error().message();
  EXPECT_EQ(*text, "CONFIG_NF_TABLES=y\n");

  const std::string gz_path = (dir_ / "config.gz").string();
  gzFile gz = ::gzopen(gz_path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  const std::string body = "CONFIG_VETH=m\nCONFIG_NF_TABLES=y\n";
  ASSERT_EQ(::gzwrite(gz, body.data(), static_cast<unsigned>(body.size())),
            static_cast<int>(body.size()));
  ::gzclose(gz);
  text = ReadKernelConfig(gz_path);
  ASSERT_TRUE(text.has_value()) << text.error().message();
  EXPECT_EQ(*text, body);

  auto missing = ReadKernelConfig((dir_ / "nope").string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing.error().message(), HasSubstr("nope"));
}

class CheckSystemCommandTest : public testing::CtlFixture {};

// `node checksystem --kernel-config FILE` (node_command_linux.go's -f/--kernel-config): a file that
// cannot be read is an error naming it; a readable one is used.
TEST_F(CheckSystemCommandTest, KernelConfigFlag) {
  NoDatastore();
  auto r = RunHandler(RunNode, {"checksystem", "--kernel-config", "/nonexistent/kconfig"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/kconfig"));
  char tmpl[] = "/tmp/calico-kconfig-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string file = std::string(tmpl) + "/config";
  std::ofstream(file) << "CONFIG_NF_TABLES=y\nCONFIG_NF_CONNTRACK=y\nCONFIG_VETH=y\n";
  r = RunHandler(RunNode, {"checksystem", "-f", file});
  fs::remove_all(tmpl);
  EXPECT_THAT(r.out, ::testing::ContainsRegex("nf_tables\t+OK"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("veth\t+OK"));
}

}  // namespace
}  // namespace calico::ctl
