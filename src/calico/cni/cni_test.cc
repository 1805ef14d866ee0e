#include "calico/cni/cni.h"

#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"

namespace calico::cni {
namespace {

TEST(CniResultTest, EveryVersionRendersAsTheSpecSays) {
  CniResult r;
  r.interfaces = {{"cali0123456789a", "", "", std::nullopt},
                  {"eth0", "ee:ee:ee:ee:ee:ee", "/run/netns/x", 1440}};
  r.ips = {{*net::CIDR::Parse("10.65.0.5/32"), std::nullopt, 1},
           {*net::CIDR::Parse("fd00::5/128"), std::nullopt, 1}};
  r.routes = {{*net::CIDR::Parse("0.0.0.0/0"), net::IPAddr::Parse("169.254.1.1")}};
  std::string all;
  for (const char* v : kSupportedVersions) {
    auto j = RenderResult(r, v);
    ASSERT_TRUE(j) << v;
    all += j->dump(2) + "\n";
  }
  calico::testing::ExpectGolden("src/calico/cni/testdata/results.golden", all);
  EXPECT_FALSE(RenderResult(r, "9.9.9"));
}

TEST(CniResultTest, ParsesOldAndNewResults) {
  auto old = ParseResult(
      Json::parse(R"({"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/24","gateway":"10.0.0.1"}})"));
  ASSERT_TRUE(old);
  ASSERT_EQ(old->ips.size(), 1u);
  EXPECT_EQ(old->ips[0].address.String(), "10.0.0.2/24");
  auto current =
      ParseResult(Json::parse(R"({"cniVersion":"1.0.0","ips":[{"address":"fd00::2/128"}]})"));
  ASSERT_TRUE(current);
  EXPECT_EQ(current->ips[0].address.family(), 6);
}

TEST(NetConfTest, DefaultsAndErrors) {
  auto c = ParseNetConf(R"({"name":"backend","type":"calico","ipam":{"type":"calico-ipam"}})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cni_version, "0.2.0");
  EXPECT_EQ(c->ipam.assign_ipv4, "true");
  EXPECT_EQ(c->ipam.assign_ipv6, "false");
  EXPECT_NE(ParseNetConf("{").error().message().find("not a JSON object"), std::string::npos);
  EXPECT_NE(ParseNetConf(R"({"name":"bad name!"})").error().message().find("invalid characters"),
            std::string::npos);
  EXPECT_NE(ParseNetConf(R"({"name":"n","cniVersion":"1.1.0"})").error().message(), "");
  EXPECT_EQ(ParseNetConf(R"({"name":"n","cniVersion":"1.1.0"})").error().message(),
            "unsupported CNI version 1.1.0");
  auto pools = ParseNetConf(
      R"({"name":"n","ipam":{"type":"calico-ipam","assign_ipv6":"true","ipv4_pools":["10.0.0.0/24","pool2"]}})");
  ASSERT_TRUE(pools);
  EXPECT_EQ(pools->ipam.ipv4_pools.size(), 2u);
  EXPECT_EQ(pools->ipam.assign_ipv6, "true");
}

TEST(InvocationTest, ParsesArgsAndNamesMissingVariables) {
  auto inv = ParseInvocation({{"CNI_COMMAND", "ADD"},
                              {"CNI_CONTAINERID", "abc"},
                              {"CNI_NETNS", "/run/netns/x"},
                              {"CNI_IFNAME", "eth0"},
                              {"CNI_ARGS", "IgnoreUnknown=1;IP=10.0.0.7"}});
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->args.at("IP"), "10.0.0.7");
  auto missing = ParseInvocation({{"CNI_COMMAND", "ADD"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(),
            "required env variables [CNI_CONTAINERID,CNI_IFNAME,CNI_NETNS] missing");
  EXPECT_FALSE(ParseInvocation({{"CNI_COMMAND", "ADD"},
                                {"CNI_CONTAINERID", "a"},
                                {"CNI_IFNAME", "e"},
                                {"CNI_NETNS", "n"},
                                {"CNI_ARGS", "novalue"}}));
  EXPECT_LT(CompareVersions("0.3.1", "1.0.0"), 0);
  EXPECT_EQ(CompareVersions("0.4.0", "0.4.0"), 0);
}

}  // namespace
}  // namespace calico::cni
