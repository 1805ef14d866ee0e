// BirdSupervisor tests that start no daemon (`bird -p` only parses; it needs the bird binary, so
// the ctest label is integration). Starting, reconfiguring and restarting a real bird is in
// bird_privileged_test (network namespaces).
#include "calico/bird/bird_supervisor.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/status_matchers.h"

namespace calico::bird {
namespace {

namespace fs = std::filesystem;
using ::calico::testing::IsOk;
using ::calico::testing::StatusIs;
using ::testing::AllOf;
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
  EXPECT_THAT(
      sup.Start("router id 10.0.0.1;\nprotocol bgp x { neighbor 10.0.0.2 as 1; }\n"),
      StatusIs(ErrorCode::kInvalidArgument, AllOf(HasSubstr("bird rejected the configuration"),
                                                  HasSubstr("Local AS number must be set"))));
  EXPECT_FALSE(sup.Running());
  EXPECT_EQ(sup.pid(), 0);
  EXPECT_FALSE(fs::exists(sup.config_path()));
  EXPECT_FALSE(fs::exists(sup.socket_path()));
}

TEST_F(SupervisorTest, NotRunning) {
  BirdSupervisor sup({.run_dir = dir_.string()});
  EXPECT_THAT(sup.Reconfigure("router id 10.0.0.1;\n"), StatusIs(ErrorCode::kUnavailable));
  EXPECT_THAT(sup.EnsureRunning(),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("never started")));
  EXPECT_THAT(sup.Stop(), IsOk());
  EXPECT_EQ(sup.current_config(), "");
}

TEST_F(SupervisorTest, MissingNamespace) {
  BirdSupervisor sup({.run_dir = dir_.string(), .netns_path = "/run/netns/no-such-ns-for-bird"});
  EXPECT_THAT(sup.Start("router id 10.0.0.1;\nprotocol device {}\n"),
              StatusIs(ErrorCode::kNotFound));
  EXPECT_FALSE(sup.Running());
}

TEST_F(SupervisorTest, MissingBinary) {
  BirdSupervisor sup({.run_dir = dir_.string(), .bird_binary = "/nonexistent/bird"});
  EXPECT_THAT(sup.Start("router id 10.0.0.1;\n"),
              StatusIs(ErrorCode::kNotFound, HasSubstr("/nonexistent/bird: command not found")));
}

}  // namespace
}  // namespace calico::bird
