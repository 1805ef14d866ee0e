#include "calico/agent/config.h"

#include <gtest/gtest.h>

namespace calico::agent {
namespace {

TEST(FelixSettingsTest, DefaultsThenGlobalThenNodeThenEnvironment) {
  auto d = LoadFelixSettings({}, "n1", nullptr, nullptr);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->health_enabled);
  EXPECT_EQ(d->health_port, 9099);
  EXPECT_FALSE(d->prometheus_enabled);
  EXPECT_EQ(d->prometheus_port, 9091);
  EXPECT_EQ(d->agent.resync_interval, std::chrono::seconds(90));
  EXPECT_EQ(d->agent.node_name, "n1");

  model::Resource global("FelixConfiguration", "default");
  global.spec() = {{"prometheusMetricsEnabled", true}, {"prometheusMetricsPort", 9200},
                   {"defaultEndpointToHostAction", "Accept"}, {"routeRefreshInterval", "30s"}};
  model::Resource node("FelixConfiguration", "node.n1");
  node.spec() = {{"prometheusMetricsPort", 9300}, {"interfacePrefix", "cali,tap"}};
  auto s = LoadFelixSettings({{"FELIX_HEALTHPORT", "9199"}, {"FELIX_PROMETHEUSMETRICSPORT", "9400"}},
                             "n1", &global, &node);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->prometheus_enabled);
  EXPECT_EQ(s->prometheus_port, 9400);
  EXPECT_EQ(s->health_port, 9199);
  EXPECT_EQ(s->agent.render.endpoint_to_host_action, policy::EndpointToHostAction::kAccept);
  EXPECT_EQ(s->agent.resync_interval, std::chrono::seconds(30));
  EXPECT_EQ(s->agent.render.interface_prefixes, (std::vector<std::string>{"cali", "tap"}));
}

TEST(FelixSettingsTest, BadValuesNameTheSetting) {
  auto port = LoadFelixSettings({{"FELIX_HEALTHPORT", "99999"}}, "n1", nullptr, nullptr);
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().message(), "FELIX_HEALTHPORT: not a port number: \"99999\"");
  model::Resource global("FelixConfiguration", "default");
  global.spec() = {{"defaultEndpointToHostAction", "Maybe"}};
  auto action = LoadFelixSettings({}, "n1", &global, nullptr);
  ASSERT_FALSE(action);
  EXPECT_NE(action.error().message().find("defaultEndpointToHostAction"), std::string::npos);
  auto dur = LoadFelixSettings({{"FELIX_ROUTEREFRESHINTERVAL", "soon"}}, "n1", nullptr, nullptr);
  ASSERT_FALSE(dur);
  EXPECT_NE(dur.error().message().find("FELIX_ROUTEREFRESHINTERVAL"), std::string::npos);
}

TEST(FelixSettingsTest, GoDurations) {
  EXPECT_EQ(*ParseGoDuration("90s"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseGoDuration("1m30s"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseGoDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseGoDuration("10"), std::chrono::seconds(10));
  EXPECT_FALSE(ParseGoDuration("1d"));
  EXPECT_FALSE(ParseGoDuration(""));
}

}  // namespace
}  // namespace calico::agent
