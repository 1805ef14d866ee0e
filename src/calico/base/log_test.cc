#include "calico/base/log.h"

#include <gtest/gtest.h>

namespace calico {
namespace {

// Envoy's logger checks the level before it formats: a disabled debug line must not evaluate its
// arguments (they may be expensive, e.g. formatting a whole ruleset).
TEST(LogTest, DisabledLevelEvaluatesNoArguments) {
  log::SetLevel("log_test", "info");
  int evaluated = 0;
  auto expensive = [&] {
    ++evaluated;
    return 42;
  };
  CALICO_LOG(debug, "log_test", "value={}", expensive());
  CALICO_LOG(trace, "log_test", "value={}", expensive());
  EXPECT_EQ(evaluated, 0);
  CALICO_LOG(info, "log_test", "value={}", expensive());
  CALICO_LOG(error, "log_test", "value={}", expensive());
  EXPECT_EQ(evaluated, 2);
  log::SetLevel("log_test", "debug");
  CALICO_LOG(debug, "log_test", "value={}", expensive());
  EXPECT_EQ(evaluated, 3);
  log::SetLevel("log_test", "off");
  CALICO_LOG(critical, "log_test", "value={}", expensive());
  EXPECT_EQ(evaluated, 3);
}

TEST(LogTest, UsableAsAStatement) {
  log::SetLevel("log_test_stmt", "off");
  bool flag = true;
  if (flag)
    CALICO_LOG(warn, "log_test_stmt", "one statement");
  else
    CALICO_LOG(info, "log_test_stmt", "another");
  SUCCEED();
}

TEST(LogTest, ParseLevelAcceptsLogrusNames) {
  EXPECT_EQ(log::ParseLevel("Warning"), spdlog::level::warn);
  EXPECT_EQ(log::ParseLevel("fatal"), spdlog::level::critical);
  EXPECT_EQ(log::ParseLevel("none"), spdlog::level::off);
  EXPECT_EQ(log::ParseLevel("bogus"), spdlog::level::info);
}

}  // namespace
}  // namespace calico
