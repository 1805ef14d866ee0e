#include "calico/agent/config.h"

#include <map>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/status_matchers.h"
#include "calico/policy/host_endpoints.h"

namespace calico::agent {
namespace {

using ::calico::testing::StatusIs;

using model::Json;

TEST(FelixSettingsTest, DefaultsThenGlobalThenNodeThenEnvironment) {
  auto d = LoadFelixSettings({}, "n1", nullptr, nullptr);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->health_enabled);
  EXPECT_EQ(d->health_port, 9099);
  EXPECT_FALSE(d->prometheus_enabled);
  EXPECT_EQ(d->prometheus_port, 9091);
  EXPECT_EQ(d->agent.route_refresh_interval, std::chrono::seconds(90));
  EXPECT_EQ(d->agent.policy_refresh_interval, std::chrono::seconds(180));
  EXPECT_EQ(d->agent.node_name, "n1");

  model::Resource global("FelixConfiguration", "default");
  global.spec() = {{"prometheusMetricsEnabled", true},
                   {"prometheusMetricsPort", 9200},
                   {"defaultEndpointToHostAction", "Accept"},
                   {"routeRefreshInterval", "30s"}};
  model::Resource node("FelixConfiguration", "node.n1");
  node.spec() = {{"prometheusMetricsPort", 9300}, {"interfacePrefix", "cali,tap"}};
  auto s =
      LoadFelixSettings({{"FELIX_HEALTHPORT", "9199"}, {"FELIX_PROMETHEUSMETRICSPORT", "9400"}},
                        "n1", &global, &node);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->prometheus_enabled);
  EXPECT_EQ(s->prometheus_port, 9400);
  EXPECT_EQ(s->health_port, 9199);
  EXPECT_EQ(s->agent.render.endpoint_to_host_action, policy::EndpointToHostAction::kAccept);
  EXPECT_EQ(s->agent.route_refresh_interval, std::chrono::seconds(30));
  EXPECT_EQ(s->agent.policy_refresh_interval, std::chrono::seconds(180));
  EXPECT_EQ(s->agent.render.interface_prefixes, (std::vector<std::string>{"cali", "tap"}));
}

// Felix's ReportingIntervalSecs / ReportingTTLSecs (30 s / 90 s), healthTimeoutOverrides
// (keydurationlist; the highest source gives the whole list) and dataplaneWatchdogTimeout.
TEST(FelixSettingsTest, ReportingAndHealthSettings) {
  using std::chrono::seconds;
  auto d = LoadFelixSettings({}, "n1", nullptr, nullptr);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reporting_interval, seconds(30));
  EXPECT_EQ(d->reporting_ttl, seconds(90));
  EXPECT_TRUE(d->agent.health_timeout_overrides.empty());
  EXPECT_EQ(d->agent.dataplane_watchdog_timeout, seconds(90));

  // calico-node's start-up default: reportingInterval 0s (reports off).
  model::Resource global("FelixConfiguration", "default");
  global.spec() = {{"reportingInterval", "0s"},
                   {"healthTimeoutOverrides",
                    Json::array({{{"name", "InternalDataplaneMainLoop"}, {"timeout", "5m0s"}},
                                 {{"name", "CalculationGraph"}, {"timeout", "1.5s"}}})}};
  model::Resource node("FelixConfiguration", "node.n1");
  node.spec() = {{"reportingTTL", "2m"}, {"dataplaneWatchdogTimeout", "45s"}};
  auto s = LoadFelixSettings({}, "n1", &global, &node);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->reporting_interval, seconds(0));
  EXPECT_EQ(s->reporting_ttl, seconds(120));
  EXPECT_EQ(s->agent.dataplane_watchdog_timeout, seconds(45));
  EXPECT_EQ(s->agent.health_timeout_overrides,
            (std::map<std::string, std::chrono::nanoseconds>{
                {"InternalDataplaneMainLoop", seconds(300)},
                {"CalculationGraph", std::chrono::milliseconds(1500)}}));

  // The environment wins, the whole list at once.
  s = LoadFelixSettings({{"FELIX_REPORTINGINTERVALSECS", "15"},
                         {"FELIX_HEALTHTIMEOUTOVERRIDES", " CalculationGraph=10ns,"}},
                        "n1", &global, &node);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->reporting_interval, seconds(15));
  EXPECT_EQ(s->agent.health_timeout_overrides,
            (std::map<std::string, std::chrono::nanoseconds>{
                {"CalculationGraph", std::chrono::nanoseconds(10)}}));

  EXPECT_THAT(LoadFelixSettings({{"FELIX_HEALTHTIMEOUTOVERRIDES", "CalculationGraph"}}, "n1",
                                nullptr, nullptr),
              StatusIs(ErrorCode::kInvalidArgument,
                       "FELIX_HEALTHTIMEOUTOVERRIDES: invalid item "
                       "\"CalculationGraph\" (name=duration)"));
  EXPECT_THAT(
      LoadFelixSettings({{"FELIX_HEALTHTIMEOUTOVERRIDES", "CalculationGraph=soon"}}, "n1", nullptr,
                        nullptr),
      StatusIs(ErrorCode::kInvalidArgument,
               "FELIX_HEALTHTIMEOUTOVERRIDES: CalculationGraph: invalid duration \"soon\""));
  EXPECT_THAT(LoadFelixSettings({{"FELIX_REPORTINGTTLSECS", "later"}}, "n1", nullptr, nullptr),
              StatusIs(ErrorCode::kInvalidArgument));
}

TEST(FelixSettingsTest, GoDurationsToTheNanosecond) {
  using std::chrono::nanoseconds;
  EXPECT_EQ(*ParseGoDurationNs("0"), nanoseconds(0));
  EXPECT_EQ(*ParseGoDurationNs("5m0s"), std::chrono::seconds(300));
  EXPECT_EQ(*ParseGoDurationNs("1h2m3.5s"), std::chrono::milliseconds(3723500));
  EXPECT_EQ(*ParseGoDurationNs("250us"), std::chrono::microseconds(250));
  EXPECT_EQ(*ParseGoDurationNs("250\u00b5s"), std::chrono::microseconds(250));
  EXPECT_EQ(*ParseGoDurationNs("10ns"), nanoseconds(10));
  EXPECT_FALSE(ParseGoDurationNs("5").has_value());  // Go requires a unit.
  EXPECT_FALSE(ParseGoDurationNs("-1s").has_value());
  EXPECT_FALSE(ParseGoDurationNs("").has_value());
  EXPECT_FALSE(ParseGoDurationNs("5d").has_value());
}

// MTU detection settings (agent/mtu.h): mtuIfacePattern and ipipEnabled, global < node < env.
TEST(FelixSettingsTest, MtuSettings) {
  auto d = LoadFelixSettings({}, "n1", nullptr, nullptr);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->mtu_iface_pattern, "^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)");
  EXPECT_FALSE(d->agent.ipip.enabled.has_value());
  EXPECT_EQ(d->agent.ipip.mtu, 0);
  model::Resource global("FelixConfiguration", "default");
  global.spec() = {{"mtuIfacePattern", "^ens"}, {"ipipEnabled", true}, {"ipipMTU", 1400}};
  model::Resource node("FelixConfiguration", "node.n1");
  node.spec() = {{"mtuIfacePattern", "^bond"}};
  auto s = LoadFelixSettings({}, "n1", &global, &node);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->mtu_iface_pattern, "^bond");
  EXPECT_EQ(s->agent.ipip.enabled, true);
  EXPECT_EQ(s->agent.ipip.mtu, 1400);
  s = LoadFelixSettings({{"FELIX_MTUIFACEPATTERN", "^eth1$"},
                         {"FELIX_IPIPENABLED", "false"},
                         {"FELIX_IPINIPMTU", "1380"},
                         {"FELIX_VXLANMTUV6", "1350"}},
                        "n1", &global, &node);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->mtu_iface_pattern, "^eth1$");
  EXPECT_EQ(s->agent.ipip.enabled, false);
  EXPECT_EQ(s->agent.ipip.mtu, 1380);
  EXPECT_EQ(s->agent.vxlan.mtu_v6, 1350);
  EXPECT_FALSE(LoadFelixSettings({{"FELIX_IPINIPMTU", "big"}}, "n1", nullptr, nullptr));
}

// workloadSourceSpoofing (felix/config/config_params.go oneof(Disabled,Any), Disabled by
// default): global < node < FELIX_WORKLOADSOURCESPOOFING.
TEST(FelixSettingsTest, WorkloadSourceSpoofing) {
  auto d = LoadFelixSettings({}, "n1", nullptr, nullptr);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->agent.render.workload_source_spoofing);
  model::Resource global("FelixConfiguration", "default");
  global.spec() = {{"workloadSourceSpoofing", "Any"}};
  auto s = LoadFelixSettings({}, "n1", &global, nullptr);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->agent.render.workload_source_spoofing);
  model::Resource node("FelixConfiguration", "node.n1");
  node.spec() = {{"workloadSourceSpoofing", "Disabled"}};
  s = LoadFelixSettings({}, "n1", &global, &node);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_FALSE(s->agent.render.workload_source_spoofing);
  s = LoadFelixSettings({{"FELIX_WORKLOADSOURCESPOOFING", "any"}}, "n1", &global, &node);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->agent.render.workload_source_spoofing);
  auto bad = LoadFelixSettings({{"FELIX_WORKLOADSOURCESPOOFING", "Some"}}, "n1", nullptr, nullptr);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "FELIX_WORKLOADSOURCESPOOFING: must be Disabled or Any, not \"Some\"");
}

// ipv6Support (default true) reaches the renderer and the route programmer.
TEST(FelixSettingsTest, Ipv6Support) {
  auto d = LoadFelixSettings({}, "n1", nullptr, nullptr);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->agent.render.ipv6_support);
  EXPECT_TRUE(d->agent.routes.ipv6);
  model::Resource global("FelixConfiguration", "default");
  global.spec() = {{"ipv6Support", false}};
  auto s = LoadFelixSettings({}, "n1", &global, nullptr);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_FALSE(s->agent.render.ipv6_support);
  EXPECT_FALSE(s->agent.routes.ipv6);
  s = LoadFelixSettings({{"FELIX_IPV6SUPPORT", "true"}}, "n1", &global, nullptr);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->agent.render.ipv6_support);
  EXPECT_TRUE(s->agent.routes.ipv6);
  auto bad = LoadFelixSettings({{"FELIX_IPV6SUPPORT", "maybe"}}, "n1", nullptr, nullptr);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "FELIX_IPV6SUPPORT: not a boolean: \"maybe\"");
}

// Not a Felix setting: the renderer's merged policy lookups (policy/policy_merge.h); 0 is
// Felix's one jump per policy.
TEST(FelixSettingsTest, PolicyMergeMinimum) {
  auto d = LoadFelixSettings({}, "n1", nullptr, nullptr);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->agent.render.merge_min_policies, 2U);
  auto off = LoadFelixSettings({{"CALICO_POLICY_MERGE_MIN", "0"}}, "n1", nullptr, nullptr);
  ASSERT_TRUE(off) << off.error().message();
  EXPECT_EQ(off->agent.render.merge_min_policies, 0U);
  auto bad = LoadFelixSettings({{"CALICO_POLICY_MERGE_MIN", "few"}}, "n1", nullptr, nullptr);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "CALICO_POLICY_MERGE_MIN: not a number from 0 to 1000000: \"few\"");
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

// The fields of issue 16 that take effect: each from FelixConfiguration and from FELIX_*.
TEST(FelixSettingsTest, DataplaneFields) {
  auto d = LoadFelixSettings({}, "n1", nullptr, nullptr);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->agent.render.deny_action, policy::DenyAction::kDrop);
  EXPECT_TRUE(d->agent.render.drop_invalid);
  EXPECT_TRUE(d->agent.render.drop_vxlan_from_workloads);
  EXPECT_TRUE(d->agent.render.drop_ipip_from_workloads);
  EXPECT_EQ(d->agent.render.log_prefix, "calico-packet");
  EXPECT_TRUE(d->agent.routes.remove_external_routes);
  EXPECT_FALSE(d->agent.routes.source_v4);
  EXPECT_FALSE(d->agent.nat.address);
  EXPECT_FALSE(d->agent.nat.port_range);

  model::Resource global("FelixConfiguration", "default");
  global.spec() = {{"nftablesFilterDenyAction", "Reject"},
                   {"iptablesFilterDenyAction", "Drop"},  // nftables' wins
                   {"logPrefix", "my-prefix"},
                   {"disableConntrackInvalidCheck", true},
                   {"allowVXLANPacketsFromWorkloads", true},
                   {"removeExternalRoutes", false},
                   {"deviceRouteSourceAddress", "10.99.0.1"},
                   {"deviceRouteSourceAddressIPv6", "fd00::1"},
                   {"natOutgoingAddress", "192.0.2.7"},
                   {"natPortRange", "40000:40010"},
                   {"routeRefreshInterval", "10s"},
                   {"iptablesRefreshInterval", "20s"},
                   {"nftablesRefreshInterval", "0"}};
  auto s = LoadFelixSettings({}, "n1", &global, nullptr);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->agent.render.deny_action, policy::DenyAction::kReject);
  EXPECT_EQ(s->agent.render.log_prefix, "my-prefix");
  EXPECT_FALSE(s->agent.render.drop_invalid);
  EXPECT_FALSE(s->agent.render.drop_vxlan_from_workloads);
  EXPECT_TRUE(s->agent.render.drop_ipip_from_workloads);
  EXPECT_FALSE(s->agent.routes.remove_external_routes);
  EXPECT_EQ(s->agent.routes.source_v4, net::IPAddr::Parse("10.99.0.1"));
  EXPECT_EQ(s->agent.routes.source_v6, net::IPAddr::Parse("fd00::1"));
  EXPECT_EQ(s->agent.nat.address, net::IPAddr::Parse("192.0.2.7"));
  EXPECT_EQ(s->agent.nat.port_range, std::pair(40000, 40010));
  EXPECT_EQ(s->agent.route_refresh_interval, std::chrono::seconds(10));
  EXPECT_EQ(s->agent.policy_refresh_interval, std::chrono::seconds(0));  // nftables' wins: never

  // The environment over the resource; natPortRange as a number (numorstring.Port).
  global.spec()["natPortRange"] = 8000;
  global.spec().erase("nftablesRefreshInterval");
  s = LoadFelixSettings({{"FELIX_NFTABLESFILTERDENYACTION", "DROP"},
                         {"FELIX_ALLOWIPIPPACKETSFROMWORKLOADS", "true"},
                         {"FELIX_NATOUTGOINGADDRESS", ""}},
                        "n1", &global, nullptr);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->agent.render.deny_action, policy::DenyAction::kDrop);
  EXPECT_FALSE(s->agent.render.drop_ipip_from_workloads);
  EXPECT_FALSE(s->agent.nat.address);
  EXPECT_EQ(s->agent.nat.port_range, std::pair(8000, 8000));
  EXPECT_EQ(s->agent.policy_refresh_interval, std::chrono::seconds(20));  // iptables' then

  // logFilePath: none by default (calico-node's felix.cfg), "none" = none; logSeverityFile.
  EXPECT_EQ(d->log_file_path, "");
  EXPECT_EQ(d->log_severity_file, "info");
  global.spec()["logFilePath"] = "/var/log/calico/felix.log";
  global.spec()["logSeverityFile"] = "Debug";
  s = LoadFelixSettings({}, "n1", &global, nullptr);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->log_file_path, "/var/log/calico/felix.log");
  EXPECT_EQ(s->log_severity_file, "debug");
  s = LoadFelixSettings({{"FELIX_LOGFILEPATH", "None"}}, "n1", &global, nullptr);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->log_file_path, "");
}

TEST(FelixSettingsTest, BadDataplaneFieldsNameTheSetting) {
  for (const auto& [key, value, want] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"FELIX_NFTABLESFILTERDENYACTION", "Maybe",
            "FELIX_NFTABLESFILTERDENYACTION: must be Drop or Reject, not \"Maybe\""},
           {"FELIX_NATOUTGOINGADDRESS", "fd00::1",
            "FELIX_NATOUTGOINGADDRESS: not an IPv4 address: \"fd00::1\""},
           {"FELIX_NATPORTRANGE", "9:1",
            "FELIX_NATPORTRANGE: not a port range (N or MIN:MAX): \"9:1\""},
           {"FELIX_DEVICEROUTESOURCEADDRESS", "x",
            "FELIX_DEVICEROUTESOURCEADDRESS: not an IPv4 address: \"x\""},
           {"FELIX_REMOVEEXTERNALROUTES", "maybe",
            "FELIX_REMOVEEXTERNALROUTES: not a boolean: \"maybe\""},
           {"FELIX_NFTABLESREFRESHINTERVAL", "soon", ""}}) {
    auto s = LoadFelixSettings({{key, value}}, "n1", nullptr, nullptr);
    ASSERT_FALSE(s) << key;
    if (!want.empty()) {
      EXPECT_EQ(s.error().message(), want);
    } else {
      EXPECT_NE(s.error().message().find(key), std::string::npos) << s.error().message();
    }
  }
}

TEST(FelixSettingsTest, FailsafePorts) {
  auto d = LoadFelixSettings({}, "n1", nullptr, nullptr);
  ASSERT_TRUE(d);
  EXPECT_EQ(policy::FormatFailsafePorts(d->agent.render.failsafe_inbound),
            "tcp:22,udp:68,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667");
  EXPECT_EQ(policy::FormatFailsafePorts(d->agent.render.failsafe_outbound),
            "udp:53,udp:67,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667");

  model::Resource global("FelixConfiguration", "default");
  global.spec() = {{"failsafeInboundHostPorts",
                    {{{"protocol", "TCP"}, {"port", 22}},
                     {{"protocol", "UDP"}, {"port", 68}, {"net", "10.1.0.0/16"}},
                     {{"port", 2222}}}},
                   {"failsafeOutboundHostPorts", Json::array()}};
  auto s = LoadFelixSettings({}, "n1", &global, nullptr);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(policy::FormatFailsafePorts(s->agent.render.failsafe_inbound),
            "tcp:22,udp:10.1.0.0/16:68,tcp:2222");
  EXPECT_TRUE(s->agent.render.failsafe_outbound.empty());

  // The node's resource, then the environment, win.
  model::Resource node("FelixConfiguration", "node.n1");
  node.spec() = {{"failsafeOutboundHostPorts", {{{"protocol", "SCTP"}, {"port", 9}}}}};
  s = LoadFelixSettings({{"FELIX_FAILSAFEINBOUNDHOSTPORTS", "tcp:22, udp:[fd00::/64]:547"}}, "n1",
                        &global, &node);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(policy::FormatFailsafePorts(s->agent.render.failsafe_inbound),
            "tcp:22,udp:[fd00::/64]:547");
  EXPECT_EQ(policy::FormatFailsafePorts(s->agent.render.failsafe_outbound), "sctp:9");
  s = LoadFelixSettings({{"FELIX_FAILSAFEOUTBOUNDHOSTPORTS", "none"}}, "n1", nullptr, &node);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->agent.render.failsafe_outbound.empty());
}

TEST(FelixSettingsTest, BadFailsafePortsNameTheSetting) {
  auto env = LoadFelixSettings({{"FELIX_FAILSAFEINBOUNDHOSTPORTS", "tcp:22,icmp:0"}}, "n1", nullptr,
                               nullptr);
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(),
            "FELIX_FAILSAFEINBOUNDHOSTPORTS: \"icmp:0\": unknown protocol \"icmp\" (tcp, udp or "
            "sctp)");
  env =
      LoadFelixSettings({{"FELIX_FAILSAFEOUTBOUNDHOSTPORTS", "udp:99999"}}, "n1", nullptr, nullptr);
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().message(),
            "FELIX_FAILSAFEOUTBOUNDHOSTPORTS: \"udp:99999\": port must be a number 0-65535");

  auto spec_error = [](Json spec) {
    model::Resource global("FelixConfiguration", "default");
    global.spec() = std::move(spec);
    auto s = LoadFelixSettings({}, "n1", &global, nullptr);
    return s ? std::string("ok") : s.error().message();
  };
  EXPECT_EQ(spec_error({{"failsafeInboundHostPorts", {{{"protocol", "ICMP"}, {"port", 1}}}}}),
            "failsafeInboundHostPorts[0].protocol: must be TCP, UDP or SCTP, not \"ICMP\"");
  EXPECT_EQ(spec_error({{"failsafeOutboundHostPorts",
                         {{{"port", 1}}, {{"protocol", "TCP"}, {"port", 70000}}}}}),
            "failsafeOutboundHostPorts[1].port: not a port number: 70000");
  EXPECT_EQ(spec_error({{"failsafeInboundHostPorts", {{{"port", 1}, {"net", "nonsense"}}}}}),
            "failsafeInboundHostPorts[0].net: invalid CIDR or IP \"nonsense\"");
  EXPECT_EQ(spec_error({{"failsafeInboundHostPorts", 22}}),
            "FelixConfiguration default: spec.failsafeInboundHostPorts: must be a string or a "
            "list");
}

TEST(FelixSettingsTest, GoDurations) {
  EXPECT_EQ(*ParseGoDuration("90s"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseGoDuration("1m30s"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseGoDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseGoDuration("10"), std::chrono::seconds(10));
  EXPECT_FALSE(ParseGoDuration("1d"));
  EXPECT_FALSE(ParseGoDuration(""));
  // Checked parsing: stod took "1.2.3" as 1.2 and threw (ending the agent) on "." and on a seconds
  // value too large for an int64.
  EXPECT_THAT(ParseGoDuration("1.2.3s"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(ParseGoDuration(".s"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(
      ParseGoDuration("99999999999999999999999"),
      StatusIs(ErrorCode::kInvalidArgument, "invalid duration \"99999999999999999999999\""));
}

}  // namespace
}  // namespace calico::agent

namespace calico::agent {
namespace {

TEST(FelixSettingsTest, FlowLogFields) {
  auto d = LoadFelixSettings({}, "n1", nullptr, nullptr);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->flow_logs, FlowLogSettings{});  // Off; Felix's 300 s interval.
  EXPECT_FALSE(d->agent.render.flow_logs.enabled);
  EXPECT_EQ(d->flow_logs.flush_interval, std::chrono::seconds(300));

  model::Resource global("FelixConfiguration", "default");
  global.spec() = {{"flowLogsGoldmaneServer", "http://10.0.0.9:7443"},
                   {"flowLogsFlushInterval", "15s"},
                   {"flowLogsPolicyEvaluationMode", "None"},
                   {"flowLogsCollectorDebugTrace", true}};
  auto s = LoadFelixSettings({{"FELIX_FLOWLOGSFLUSHINTERVAL", "2s"}}, "n1", &global, nullptr);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->flow_logs.goldmane_server, "http://10.0.0.9:7443");
  EXPECT_EQ(s->flow_logs.flush_interval, std::chrono::seconds(2));
  EXPECT_FALSE(s->flow_logs.evaluate_pending);
  EXPECT_TRUE(s->flow_logs.debug_trace);
  EXPECT_TRUE(s->agent.render.flow_logs.enabled);

  for (const auto& [key, value, want] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"FELIX_FLOWLOGSFLUSHINTERVAL", "0s", "FELIX_FLOWLOGSFLUSHINTERVAL: must be positive"},
           {"FELIX_FLOWLOGSPOLICYEVALUATIONMODE", "Sometimes",
            "FELIX_FLOWLOGSPOLICYEVALUATIONMODE: must be None or Continuous, not \"Sometimes\""},
           {"FELIX_FLOWLOGSCOLLECTORDEBUGTRACE", "maybe",
            "FELIX_FLOWLOGSCOLLECTORDEBUGTRACE: not a boolean: \"maybe\""}}) {
    auto bad = LoadFelixSettings({{key, value}}, "n1", nullptr, nullptr);
    ASSERT_FALSE(bad) << key;
    EXPECT_EQ(bad.error().message(), want);
  }
}

}  // namespace
}  // namespace calico::agent
