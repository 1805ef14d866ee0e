// Every golden BIRD configuration in testdata/ parses with the real BIRD 2 (`bird -p -c FILE`:
// parse and exit, no daemon, no control socket), so the renderer's goldens are configurations BIRD
// accepts. Needs the `bird` binary (Debian bird2, installed by tools/deps.sh): ctest label
// integration.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/subprocess.h"
#include "calico/base/testing/golden.h"
#include "calico/base/testing/temp_dir.h"

namespace calico::bird {
namespace {

using ::testing::HasSubstr;

bool BirdInstalled() {
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): no threads here.
  return !FindProgram("bird", path != nullptr ? path : "/usr/sbin:/usr/bin").empty();
}

// Runs `bird -p -c <path>`.
std::pair<int, std::string> BirdParse(const std::string& path) {
  auto ran = RunSubprocess({.argv = {"bird", "-p", "-c", path}},
                           {.timeout = std::chrono::seconds(60), .merge_stderr = true});
  if (!ran) return {-1, ran.error().message()};
  return {ran->exit_code, ran->out};
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = (calico::testing::MakeTestDir("bird-parse") / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::vector<std::string> Goldens() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(
           calico::testing::SourcePath("src/calico/bird/testdata"))) {
    if (entry.path().extension() == ".conf") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class GoldenParseTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenParseTest, ParsesWithBird) {
  if (!BirdInstalled()) GTEST_FAIL() << "bird is not installed: run make deps";
  const std::string golden =
      calico::testing::ReadSourceFile("src/calico/bird/testdata/" + GetParam());
  ASSERT_FALSE(golden.empty());
  auto [rc, output] = BirdParse(WriteTemp(GetParam(), golden));
  EXPECT_EQ(rc, 0) << "bird -p rejected " << GetParam() << ":\n" << output;
}

INSTANTIATE_TEST_SUITE_P(Bird, GoldenParseTest, ::testing::ValuesIn(Goldens()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           return param_info.param.substr(0, param_info.param.find('.'));
                         });

// The parse check is not vacuous: BIRD does reject a broken file.
TEST(BirdParseTest, RejectsBrokenConfig) {
  if (!BirdInstalled()) GTEST_FAIL() << "bird is not installed: run make deps";
  std::string text = calico::testing::ReadSourceFile("src/calico/bird/testdata/mesh_2node.conf");
  text += "protocol bgp Broken from bgp_template { neighbor 10.0.0.1 as; }\n";
  auto [rc, output] = BirdParse(WriteTemp("broken.conf", text));
  EXPECT_NE(rc, 0);
  EXPECT_THAT(output, HasSubstr("syntax error"));
}

// Two peerings of one protocol name: BIRD refuses the whole file, which is what BuildBirdConfig's
// collision check (bird_config_test, CollidingPeeringsAreRefused) spares calico-node.
TEST(BirdParseTest, RefusesCollidingPeerings) {
  if (!BirdInstalled()) GTEST_FAIL() << "bird is not installed: run make deps";
  std::string text = calico::testing::ReadSourceFile("src/calico/bird/testdata/mesh_2node.conf");
  const auto at = text.find("# Node node-b\nprotocol bgp Mesh_10_192_0_3");
  ASSERT_NE(at, std::string::npos);
  const auto end = text.find("\n}\n", at);
  text += text.substr(at, end + 3 - at);
  auto [rc, output] = BirdParse(WriteTemp("collision.conf", text));
  EXPECT_NE(rc, 0);
  EXPECT_THAT(output, HasSubstr("Symbol 'Mesh_10_192_0_3' already defined"));
}

}  // namespace
}  // namespace calico::bird
