// The one record of what calico-node does with each FelixConfiguration / Node field.
#include "calico/agent/field_support.h"

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/model/validation/infra_schema.h"

namespace calico::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Every field the FelixConfiguration schema knows is classified, once, and nothing else is: a new
// upstream field must be added to the table (honoured or not, and why).
TEST(FieldSupportTest, EveryFelixConfigurationFieldIsClassifiedOnce) {
  const model::Json* schema = model::validation::InfraSchema("FelixConfiguration");
  ASSERT_NE(schema, nullptr);
  std::set<std::string> schema_fields;
  for (const auto& [name, _] : schema->at("spec").at("p").items())
    schema_fields.insert(name);
  ASSERT_GT(schema_fields.size(), 150u);
  std::set<std::string> table_fields;
  for (const FieldSupport& f : FieldSupportTable()) {
    EXPECT_FALSE(f.why.empty()) << f.kind << "." << f.field;
    if (f.kind != "FelixConfiguration") continue;
    EXPECT_TRUE(table_fields.insert(std::string(f.field)).second) << "twice: " << f.field;
    EXPECT_EQ(schema_fields.count(std::string(f.field)), 1u) << "not in the schema: " << f.field;
  }
  for (const std::string& f : schema_fields) {
    EXPECT_EQ(table_fields.count(f), 1u) << "FelixConfiguration." << f << " is not classified";
  }
}

// The settings config.cc reads are the ones marked honoured (or partly).
TEST(FieldSupportTest, HonouredFieldsAreTheOnesTheAgentReads) {
  std::set<std::string> honoured;
  for (const FieldSupport& f : FieldSupportTable()) {
    if (f.kind == "FelixConfiguration" && f.support != FieldSupport::kNot) {
      honoured.insert(std::string(f.field));
    }
  }
  EXPECT_EQ(honoured, (std::set<std::string>{"allowIPIPPacketsFromWorkloads",
                                             "allowVXLANPacketsFromWorkloads",
                                             "dataplaneWatchdogTimeout",
                                             "defaultEndpointToHostAction",
                                             "deviceRouteSourceAddress",
                                             "deviceRouteSourceAddressIPv6",
                                             "disableConntrackInvalidCheck",
                                             "failsafeInboundHostPorts",
                                             "failsafeOutboundHostPorts",
                                             "flowLogsCollectorDebugTrace",
                                             "flowLogsFlushInterval",
                                             "flowLogsGoldmaneServer",
                                             "flowLogsPolicyEvaluationMode",
                                             "healthEnabled",
                                             "healthHost",
                                             "healthPort",
                                             "healthTimeoutOverrides",
                                             "interfacePrefix",
                                             "ipipEnabled",
                                             "iptablesFilterDenyAction",
                                             "iptablesRefreshInterval",
                                             "ipv6Support",
                                             "logFilePath",
                                             "logPrefix",
                                             "logSeverityFile",
                                             "logSeverityScreen",
                                             "mtuIfacePattern",
                                             "natOutgoingAddress",
                                             "natPortRange",
                                             "nftablesFilterDenyAction",
                                             "nftablesRefreshInterval",
                                             "prometheusMetricsEnabled",
                                             "prometheusMetricsHost",
                                             "prometheusMetricsPort",
                                             "removeExternalRoutes",
                                             "reportingInterval",
                                             "reportingTTL",
                                             "routeRefreshInterval",
                                             "vxlanEnabled",
                                             "vxlanMTU",
                                             "vxlanPort",
                                             "vxlanVNI",
                                             "workloadSourceSpoofing"}));
}

TEST(FieldSupportTest, NotActedOnListsTheSetFieldsInTableOrder) {
  model::Resource fc("FelixConfiguration", "node.n1");
  fc.spec() = model::Json{{"wireguardEnabled", true},
                          {"healthPort", 9099},
                          {"bpfEnabled", false},
                          {"awsSrcDstCheck", nullptr},
                          {"nftablesMode", "Auto"},  // The default the client fills in.
                          {"nftablesFlowTableOffload", "Enabled"}};
  const auto fields = NotActedOn(fc);
  EXPECT_THAT(fields, ElementsAre("bpfEnabled", "nftablesFlowTableOffload", "wireguardEnabled"));
  EXPECT_EQ(NotActedOnLine(fc, fields),
            "accepted, not acted on by this build: FelixConfiguration(node.n1).spec.bpfEnabled, "
            "FelixConfiguration(node.n1).spec.nftablesFlowTableOffload, "
            "FelixConfiguration(node.n1).spec.wireguardEnabled");

  model::Resource node("Node", "n1");
  node.spec() = model::Json::parse(
      R"({"bgp": {"ipv4Address": "10.0.0.1/24", "ipv4IPIPTunnelAddr": "10.65.0.1"},
          "ipv4VXLANTunnelAddr": "10.65.0.2", "wireguard": {"interfaceIPv4Address": "10.65.0.3"}})");
  EXPECT_THAT(NotActedOn(node), ElementsAre("wireguard"));

  model::Resource empty("FelixConfiguration", "default");
  EXPECT_THAT(NotActedOn(empty), IsEmpty());
  EXPECT_EQ(NotActedOnLine(empty, {}), "");
  model::Resource other("IPPool", "p");
  other.spec() = model::Json{{"cidr", "10.0.0.0/8"}};
  EXPECT_THAT(NotActedOn(other), IsEmpty());
}

}  // namespace
}  // namespace calico::agent
