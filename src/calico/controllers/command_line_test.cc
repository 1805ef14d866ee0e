// calico-controllers' command line (command_line.h): flags, the variables standing for them,
// and a clear error for every bad value before anything starts.
#include "calico/controllers/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace calico::controllers {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env = {}) {
  auto cl = ParseCommandLine(args, env);
  if (cl) return "(no error)";
  EXPECT_EQ(cl.error().code(), ErrorCode::kInvalidArgument);
  return cl.error().message();
}

TEST(CommandLineTest, Defaults) {
  auto cl = ParseCommandLine({}, {});
  ASSERT_TRUE(cl) << cl.error().message();
  EXPECT_FALSE(cl->version);
  EXPECT_FALSE(cl->help);
  EXPECT_EQ(cl->identity, "");
  EXPECT_FALSE(cl->lease.has_value());
  EXPECT_FALSE(cl->metrics_port.has_value());
  EXPECT_EQ(cl->metrics_host, "0.0.0.0");
  EXPECT_EQ(cl->node_netns_pattern, "");
  EXPECT_EQ(cl->node_report_timeout, Duration(0));
  EXPECT_EQ(cl->log_level, "");
}

TEST(CommandLineTest, EveryFlagBothSpellings) {
  auto cl =
      ParseCommandLine({"--identity", "a", "--lease-duration=20s", "--metrics-port", "0",
                        "--metrics-host=127.0.0.1", "--node-netns-pattern", "/run/netns/lab-{node}",
                        "--node-report-timeout=2m", "--log-level", "debug"},
                       {});
  ASSERT_TRUE(cl) << cl.error().message();
  EXPECT_EQ(cl->identity, "a");
  EXPECT_EQ(cl->lease, std::chrono::seconds(20));
  EXPECT_EQ(cl->metrics_port, 0);
  EXPECT_EQ(cl->metrics_host, "127.0.0.1");
  EXPECT_EQ(cl->node_netns_pattern, "/run/netns/lab-{node}");
  EXPECT_EQ(cl->node_report_timeout, std::chrono::minutes(2));
  EXPECT_EQ(cl->log_level, "debug");
  EXPECT_TRUE(ParseCommandLine({"-v"}, {})->version);
  EXPECT_TRUE(ParseCommandLine({"--help", "--bogus"}, {})->help);
}

TEST(CommandLineTest, EnvironmentStandsInForFlagsFlagsWin) {
  std::map<std::string, std::string> env = {{"NODE_REPORT_TIMEOUT", "90s"},
                                            {"LOG_LEVEL", "warning"}};
  auto cl = ParseCommandLine({}, env);
  ASSERT_TRUE(cl) << cl.error().message();
  EXPECT_EQ(cl->node_report_timeout, std::chrono::seconds(90));
  EXPECT_EQ(cl->log_level, "warning");
  cl = ParseCommandLine({"--node-report-timeout", "0", "--log-level=info"}, env);
  ASSERT_TRUE(cl) << cl.error().message();
  EXPECT_EQ(cl->node_report_timeout, Duration(0));
  EXPECT_EQ(cl->log_level, "info");
}

TEST(CommandLineTest, BadInputNamesTheFlagOrVariable) {
  EXPECT_EQ(ErrorOf({"--bogus"}), "unknown flag --bogus");
  EXPECT_EQ(ErrorOf({"--bogus=1"}), "unknown flag --bogus");
  EXPECT_EQ(ErrorOf({"serve"}), "unexpected argument \"serve\"");
  EXPECT_EQ(ErrorOf({"--identity"}), "flag --identity needs a value");
  EXPECT_EQ(ErrorOf({"--identity="}), "--identity: must not be empty");
  EXPECT_THAT(ErrorOf({"--lease-duration", "2s"}), HasSubstr("--lease-duration: at least 3s"));
  EXPECT_THAT(ErrorOf({"--lease-duration", "soon"}), HasSubstr("--lease-duration"));
  EXPECT_EQ(ErrorOf({"--metrics-port", "x"}), "--metrics-port: not a port number: x");
  EXPECT_EQ(ErrorOf({"--metrics-port", "65536"}), "--metrics-port: not a port number: 65536");
  EXPECT_EQ(ErrorOf({"--metrics-port="}), "--metrics-port: not a port number: ");
  EXPECT_THAT(ErrorOf({"--node-netns-pattern", "/run/netns/x"}), HasSubstr("must contain {node}"));
  EXPECT_EQ(ErrorOf({"--node-report-timeout", "later"}),
            "--node-report-timeout: not a duration: later");
  EXPECT_EQ(ErrorOf({}, {{"NODE_REPORT_TIMEOUT", "later"}}),
            "NODE_REPORT_TIMEOUT: not a duration: later");
}

}  // namespace
}  // namespace calico::controllers
