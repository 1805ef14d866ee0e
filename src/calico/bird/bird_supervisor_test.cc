// Hermetic BirdSupervisor tests: nothing here starts a daemon (`bird -p` only parses). Starting,
// reconfiguring and restarting a real bird is in bird_privileged_test (network namespaces).
#include "calico/bird/bird_supervisor.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/bird/subprocess.h"

namespace calico::bird {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bird-sup-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SupervisorTest, RejectedConfigStartsNothing) {
  BirdSupervisor sup({.run_dir = dir_.string()});
  Status st = sup.Start("router id 10.0.0.1;\nprotocol bgp x { neighbor 10.0.0.2 as 1; }\n");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(st.error().message(), HasSubstr("bird rejected the configuration"));
  EXPECT_THAT(st.error().message(), HasSubstr("Local AS number must be set"));
  EXPECT_FALSE(sup.Running());
  EXPECT_EQ(sup.pid(), 0);
  EXPECT_FALSE(fs::exists(sup.config_path()));
  EXPECT_FALSE(fs::exists(sup.socket_path()));
}

TEST_F(SupervisorTest, NotRunning) {
  BirdSupervisor sup({.run_dir = dir_.string()});
  Status re = sup.Reconfigure("router id 10.0.0.1;\n");
  ASSERT_FALSE(re);
  EXPECT_EQ(re.error().code(), ErrorCode::kUnavailable);
  Status ensure = sup.EnsureRunning();
  ASSERT_FALSE(ensure);
  EXPECT_THAT(ensure.error().message(), HasSubstr("never started"));
  EXPECT_TRUE(sup.Stop());
  EXPECT_EQ(sup.current_config(), "");
}

TEST_F(SupervisorTest, MissingNamespace) {
  BirdSupervisor sup({.run_dir = dir_.string(), .netns_path = "/run/netns/no-such-ns-for-bird"});
  Status st = sup.Start("router id 10.0.0.1;\nprotocol device {}\n");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(sup.Running());
}

TEST_F(SupervisorTest, MissingBinary) {
  BirdSupervisor sup({.run_dir = dir_.string(), .bird_binary = "/nonexistent/bird"});
  Status st = sup.Start("router id 10.0.0.1;\n");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kNotFound);
}

TEST(RunCommandTest, OutputExitCodeAndTimeout) {
  auto ok = RunCommand({"sh", "-c", "echo out; echo err >&2; exit 3"}, std::chrono::seconds(5));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->exit_code, 3);
  EXPECT_THAT(ok->output, HasSubstr("out\n"));
  EXPECT_THAT(ok->output, HasSubstr("err\n"));
  auto slow = RunCommand({"sleep", "5"}, std::chrono::milliseconds(100));
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace calico::bird
