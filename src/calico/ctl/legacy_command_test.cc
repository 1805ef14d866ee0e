// The calico-docker era commands of seed 003, in-process on MemBackend; outputs as the seed shows.
#include "calico/ctl/legacy_command.h"

#include <gtest/gtest.h>

#include "calico/ctl/testing/ctl_fixture.h"

namespace calico::ctl {
namespace {

class LegacyCommandTest : public testing::CtlFixture {
 protected:
  void SetUp() override {
    registry_.Register("pool", "pools", RunLegacyPool);
    registry_.Register("profile", "profiles", RunLegacyProfile);
    registry_.Register("endpoint", "endpoints", RunLegacyEndpoint);
  }
};

TEST_F(LegacyCommandTest, PoolAddShowRemove) {
  ASSERT_EQ(Run({"pool", "add", "192.168.0.0/16", "--ipip", "--nat-outgoing"}).code, 0);
  ASSERT_EQ(Run({"pool", "add", "fd80:24e2::/64"}).code, 0);
  auto pool = client_.Get("IPPool", "", "pool-192-168-0-0-16");
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->spec()["ipipMode"], "Always");
  EXPECT_EQ(pool->spec()["natOutgoing"], true);
  auto show = Run({"pool", "show"});
  EXPECT_EQ(show.out,
            "+----------------+-------------------+\n"
            "|   IPv4 CIDR    |      Options      |\n"
            "+----------------+-------------------+\n"
            "| 192.168.0.0/16 | ipip,nat-outgoing |\n"
            "+----------------+-------------------+\n"
            "+----------------+---------+\n"
            "|   IPv6 CIDR    | Options |\n"
            "+----------------+---------+\n"
            "| fd80:24e2::/64 |         |\n"
            "+----------------+---------+\n");
  // Adding a CIDR that an existing pool (of another name) has updates that pool.
  model::Resource other("IPPool", "lab-pool");
  other.spec()["cidr"] = "10.70.0.0/16";
  ASSERT_TRUE(client_.Create(other));
  ASSERT_EQ(Run({"pool", "add", "10.70.0.0/16", "--nat-outgoing"}).code, 0);
  EXPECT_EQ(client_.Get("IPPool", "", "lab-pool")->spec()["natOutgoing"], true);
  EXPECT_FALSE(client_.Get("IPPool", "", "pool-10-70-0-0-16"));
  EXPECT_EQ(Run({"pool", "remove", "192.168.0.0/16"}).code, 0);
  EXPECT_FALSE(client_.Get("IPPool", "", "pool-192-168-0-0-16"));
  auto bad = Run({"pool", "add", "192.168.0.1/16"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err,
            "error with field spec.cidr = '192.168.0.0/16' (IPPool CIDR is not strictly masked)\n");
  auto junk = Run({"pool", "add", "banana"});
  EXPECT_EQ(junk.code, 1);
  EXPECT_EQ(junk.err, "Invalid CIDR specified: banana\n");
}

// A stored pool that does not decode (written around validation: cidr a number) is named on
// stderr and left out; the others are still shown.
TEST_F(LegacyCommandTest, PoolShowSkipsAnUndecodablePool) {
  ASSERT_EQ(Run({"pool", "add", "192.168.0.0/16"}).code, 0);
  ASSERT_TRUE(backend_.Put("/calico/resources/v3/projectcalico.org/ippools/bad",
                           R"({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
                               "metadata": {"name": "bad"}, "spec": {"cidr": 5}})"));
  auto show = Run({"pool", "show", "--ipv4"});
  EXPECT_EQ(show.code, 0);
  EXPECT_EQ(show.err, "skipping IPPool bad: spec.cidr: must be a string\n");
  EXPECT_EQ(show.out,
            "+----------------+---------+\n"
            "|   IPv4 CIDR    | Options |\n"
            "+----------------+---------+\n"
            "| 192.168.0.0/16 |         |\n"
            "+----------------+---------+\n");
}

TEST_F(LegacyCommandTest, ProfileRulesAndEndpointProfilesAsTheSeedShows) {
  const std::string net = "46007b33d4dd56b13ede0f10bb427ba4481e3c0efe64960b0567dd53a80d3420";
  const std::string label = "libnetwork.projectcalico.org/" + net.substr(0, 63);
  model::Resource profile("Profile", net);
  profile.spec() = model::Json{
      {"ingress", model::Json::array(
                      {{{"action", "Allow"}, {"source", {{"selector", "has(" + label + ")"}}}}})},
      {"egress", model::Json::array({{{"action", "Allow"}}})},
      {"labelsToApply", {{label, ""}}}};
  ASSERT_TRUE(client_.Create(profile));
  EXPECT_EQ(Run({"profile", net, "rule", "show"}).out,
            "Inbound rules:\n   1 allow from tag " + net + "\nOutbound rules:\n   1 allow\n");

  const std::string eid = "5a21f63bc17feb6b9c879bbbc271594dfa1483ddf9af5171efca7a2d509908e5";
  model::Resource wep("WorkloadEndpoint", "", "default");
  wep.spec() = model::Json{{"orchestrator", "libnetwork"},
                           {"workload", "libnetwork"},
                           {"node", "host1"},
                           {"endpoint", eid},
                           {"interfaceName", "cali5a21f63bc17"},
                           {"mac", "ee:ee:ee:ee:ee:ee"},
                           {"ipNetworks", model::Json::array({"10.0.0.2/32"})},
                           {"profiles", model::Json::array({net})}};
  ASSERT_TRUE(client_.Create(wep));
  EXPECT_EQ(Run({"endpoint", eid, "profile", "show"}).out,
            "+------------------------------------------------------------------+\n"
            "|                               Name                               |\n"
            "+------------------------------------------------------------------+\n"
            "| " +
                net +
                " |\n"
                "+------------------------------------------------------------------+\n");
  auto summary = Run({"endpoint", "show"});
  EXPECT_NE(summary.out.find("|  host1   |   libnetwork    |          1          |"),
            std::string::npos)
      << summary.out;
  auto detailed = Run({"endpoint", "show", "--detailed"});
  EXPECT_NE(detailed.out.find(eid), std::string::npos);
  EXPECT_NE(detailed.out.find("10.0.0.2/32"), std::string::npos);
  auto missing = Run({"endpoint", "nope", "profile", "show"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "Failed to find endpoint matching ID nope\n");
}

}  // namespace
}  // namespace calico::ctl
