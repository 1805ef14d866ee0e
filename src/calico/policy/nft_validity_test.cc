// Loads every golden ruleset (testdata/*.nft) into the kernel with the real `nft`, inside a
// network namespace created for this test, so that the root namespace's nftables are never
// touched. ctest label: privileged (needs root, `ip` and `nft`).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/policy/golden.h"
#include "calico/policy/ruleset_renderer.h"

namespace calico::policy {
namespace {

using ::testing::HasSubstr;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr.
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A network namespace that exists for the lifetime of the object.
class ScopedNetns {
 public:
  ScopedNetns() : name_("calico-policy-test-" + std::to_string(getpid())) {
    RunCommand("ip netns delete " + name_);  // A leftover from a killed run with the same pid.
    const CommandResult r = RunCommand("ip netns add " + name_);
    ok_ = r.exit_code == 0;
    error_ = r.output;
  }
  ~ScopedNetns() {
    if (ok_) RunCommand("ip netns delete " + name_);
  }
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;
  ScopedNetns(ScopedNetns&&) = delete;
  ScopedNetns& operator=(ScopedNetns&&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  CommandResult Exec(const std::string& command) const {
    return RunCommand("ip netns exec " + name_ + " " + command);
  }

 private:
  std::string name_;
  bool ok_ = false;
  std::string error_;
};

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(testing::TestdataPath(""))) {
    if (entry.path().extension() == ".nft") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class NftValidityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    if (RunCommand("command -v nft").exit_code != 0 || RunCommand("command -v ip").exit_code != 0) {
      GTEST_SKIP() << "needs nft and ip (tools/deps.sh installs nftables)";
    }
  }
};

TEST_F(NftValidityTest, GoldenRulesetsLoad) {
  const std::vector<std::string> files = GoldenFiles();
  ASSERT_GE(files.size(), 6u);
  ScopedNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    CommandResult r = ns.Exec("nft -c -f " + file);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // Loaded twice: the second load replaces the table from the first one.
    for (int i = 0; i < 2; ++i) {
      r = ns.Exec("nft -f " + file);
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    r = ns.Exec("nft list table inet calico");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("chain cali-FORWARD"));
    EXPECT_THAT(r.output, HasSubstr("type filter hook forward priority filter; policy accept;"));
    EXPECT_THAT(r.output, HasSubstr("map cali-from-wl-dispatch"));
  }
  // Clean up inside the namespace as well, so nothing lingers if deletion of the namespace is
  // delayed.
  EXPECT_EQ(ns.Exec("nft delete table inet calico").exit_code, 0);
}

TEST_F(NftValidityTest, FreshlyRenderedRulesetLoads) {
  // A ruleset not covered by the goldens: custom prefixes/marks, no replace preamble.
  Model m;
  m.endpoints.push_back(Endpoint{.name = "a", .interface_name = "tap0", .profiles = {"p"}});
  m.profiles.push_back(Profile{.id = "p", .ingress = Json::parse(R"([{"action": "Allow"}])")});
  RenderOptions opts{.marks = {.accept = 0x1000000, .pass = 0x2000000},
                     .interface_prefixes = {"tap"},
                     .endpoint_to_host_action = EndpointToHostAction::kAccept,
                     .replace_table = false};
  auto text = RenderRuleset(m, opts);
  ASSERT_TRUE(text) << text.error().message();
  const std::string path = std::filesystem::temp_directory_path() /
                           ("calico-policy-test-" + std::to_string(getpid()) + ".nft");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(text->data(), 1, text->size(), f);
    std::fclose(f);
  }
  ScopedNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  const CommandResult r = ns.Exec("nft -f " + path);
  std::filesystem::remove(path);
  ASSERT_EQ(r.exit_code, 0) << r.output << "\n" << *text;
  EXPECT_THAT(ns.Exec("nft list chain inet calico cali-tw-tap0").output,
              HasSubstr("jump cali-pri-p"));
}

}  // namespace
}  // namespace calico::policy
