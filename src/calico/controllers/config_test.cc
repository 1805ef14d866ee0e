// The running configuration as kube-controllers' runconfig_test.go describes it: sections turn
// controllers on, periods and the leak grace period come from the resource, the environment wins.
#include "calico/controllers/config.h"

#include <gtest/gtest.h>

#include "calico/model/validate.h"

namespace calico::controllers {
namespace {

using model::Json;
using std::chrono::minutes;
using std::chrono::seconds;

model::Resource Kcc(const std::string& spec) {
  model::Resource r("KubeControllersConfiguration", "default");
  r.spec() = Json::parse(spec);
  return r;
}

TEST(ConfigTest, DefaultsAreUpstreams) {
  model::Resource def = DefaultKubeControllersConfiguration();
  model::Resource copy = def;
  Status st = model::ApplyDefaultsAndValidate(copy);
  ASSERT_TRUE(st.has_value()) << st.error().message();
  auto c = MergeConfig({}, def);
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(c->policy && c->namespace_ && c->workload_endpoint && c->node && c->service_account);
  EXPECT_EQ(c->policy->reconciler_period, minutes(5));
  EXPECT_EQ(c->node->leak_grace_period, minutes(15));
  EXPECT_EQ(c->prometheus_metrics_port, 9094);
  EXPECT_EQ(c->log_severity, "Info");
}

TEST(ConfigTest, SectionsEnableControllers) {
  auto c = MergeConfig(
      {},
      Kcc(R"j({"controllers":{"node":{"leakGracePeriod":"30s"},"policy":{"reconcilerPeriod":"1m"}},
                  "prometheusMetricsPort":0,"logSeverityScreen":"Debug"})j"));
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_TRUE(c->node.has_value());
  EXPECT_TRUE(c->policy.has_value());
  EXPECT_FALSE(c->namespace_.has_value());
  EXPECT_FALSE(c->workload_endpoint.has_value());
  EXPECT_EQ(c->node->leak_grace_period, seconds(30));
  EXPECT_EQ(c->policy->reconciler_period, minutes(1));
  EXPECT_EQ(c->prometheus_metrics_port, 0);
  EXPECT_EQ(c->log_severity, "Debug");
}

TEST(ConfigTest, EnvironmentWins) {
  auto c = MergeConfig({{"ENABLED_CONTROLLERS", "namespace,workloadendpoint"},
                        {"RECONCILER_PERIOD", "2m"},
                        {"LOG_LEVEL", "warning"}},
                       DefaultKubeControllersConfiguration());
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->policy.has_value());
  EXPECT_FALSE(c->node.has_value());
  ASSERT_TRUE(c->namespace_.has_value());
  EXPECT_EQ(c->namespace_->reconciler_period, minutes(2));
  EXPECT_EQ(c->workload_endpoint->reconciler_period, minutes(2));
  EXPECT_EQ(c->log_severity, "Warning");
}

TEST(ConfigTest, BadValuesNameTheirSource) {
  auto c = MergeConfig({{"ENABLED_CONTROLLERS", "policy,bogus"}}, Kcc("{}"));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message(), "ENABLED_CONTROLLERS: invalid controller \"bogus\"");
  c = MergeConfig({}, Kcc(R"j({"controllers":{"node":{"leakGracePeriod":"soon"}}})j"));
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("spec.controllers.node.leakGracePeriod"), std::string::npos);
  c = MergeConfig({{"RECONCILER_PERIOD", "x"}}, DefaultKubeControllersConfiguration());
  ASSERT_FALSE(c.has_value());
}

TEST(ConfigTest, Durations) {
  EXPECT_EQ(*ParseDuration("5m"), minutes(5));
  EXPECT_EQ(*ParseDuration("1m30s"), seconds(90));
  EXPECT_EQ(*ParseDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseDuration("0"), std::chrono::milliseconds(0));
  EXPECT_FALSE(ParseDuration("5 minutes").has_value());
  EXPECT_FALSE(ParseDuration("").has_value());
  EXPECT_FALSE(ParseDuration("1.2.3s").has_value());  // Go's time.ParseDuration refuses it too
  EXPECT_EQ(FormatDuration(minutes(5)), "5m0s");
  EXPECT_EQ(FormatDuration(seconds(15)), "15s");
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatDuration(minutes(0)), "0s");
}

// The status written back is one the validator accepts (calicoctl can read it).
TEST(ConfigTest, RunningConfigStatusValidates) {
  auto c = MergeConfig({{"LOG_LEVEL", "info"}}, DefaultKubeControllersConfiguration());
  ASSERT_TRUE(c.has_value());
  model::Resource r = DefaultKubeControllersConfiguration();
  r.doc()["status"] = RunningConfigStatus(*c, {{"LOG_LEVEL", "info"}});
  Status st = model::ApplyDefaultsAndValidate(r);
  EXPECT_TRUE(st.has_value()) << st.error().message();
}

}  // namespace
}  // namespace calico::controllers
