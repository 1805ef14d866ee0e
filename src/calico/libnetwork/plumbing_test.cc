// Join/Leave plumbing in a test "host" namespace: both veth ends in the host, the host end's proxy
// ARP / forwarding / host route, and - doing what Docker does with the temporary end - traffic
// from a container namespace through the 169.254.1.1 gateway.
#include "calico/libnetwork/plumbing.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/dataplane/testing/netns_fixture.h"

namespace calico::libnetwork {
namespace {

using dataplane::testing::MakeHost;
using dataplane::testing::ScopedNetns;
using ::testing::HasSubstr;

net::IPAddr Ip(const char* s) {
  return *net::IPAddr::Parse(s);
}

// What Docker does after Join: move SrcName into the sandbox, rename it, address it, routes.
bool MoveIntoSandbox(const ScopedNetns& host, const std::string& temp, const ScopedNetns& sandbox,
                     const std::string& addr) {
  return host.Exec("ip link set " + temp + " netns " + sandbox.name()) == 0 &&
         sandbox.Exec("ip link set " + temp + " name eth0") == 0 &&
         sandbox.Exec("ip addr add " + addr + " dev eth0") == 0 &&
         sandbox.Exec("ip link set eth0 up") == 0 &&
         sandbox.Exec("ip route add 169.254.1.1/32 dev eth0 scope link") == 0 &&
         sandbox.Exec("ip route add default via 169.254.1.1 dev eth0") == 0;
}

class PlumbingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ASSERT_TRUE(host_.ok() && a_.ok() && b_.ok());
    ASSERT_TRUE(MakeHost(host_));
  }
  ScopedNetns host_{"lnw-host"};
  ScopedNetns a_{"lnw-a"};
  ScopedNetns b_{"lnw-b"};
  std::unique_ptr<Plumber> plumber_ = NewHostPlumber(host_.path());
};

TEST_F(PlumbingTest, BothEndsInTheHostNamespaceThenDockerMovesOne) {
  VethPairSpec spec{.host_ifname = "caliaaaaaaaaaaa",
                    .temp_ifname = "tempaaaaaaaaaaa",
                    .container_mac = "ee:ee:ee:ee:ee:ee",
                    .mtu = 1400,
                    .addresses = {Ip("10.65.0.5")}};
  auto made = plumber_->CreatePair(spec);
  ASSERT_TRUE(made) << made.error().message();
  EXPECT_FALSE(made->host_link_local);

  std::string links = host_.ExecOut("ip -o link show");
  EXPECT_THAT(links, HasSubstr("caliaaaaaaaaaaa@tempaaaaaaaaaaa"));
  EXPECT_THAT(links, HasSubstr("tempaaaaaaaaaaa@caliaaaaaaaaaaa"));
  EXPECT_THAT(host_.ExecOut("ip -o link show caliaaaaaaaaaaa"), HasSubstr("mtu 1400"));
  EXPECT_THAT(host_.ExecOut("ip -o link show caliaaaaaaaaaaa"), HasSubstr(",UP"));
  EXPECT_THAT(host_.ExecOut("ip -o link show tempaaaaaaaaaaa"),
              HasSubstr("link/ether ee:ee:ee:ee:ee:ee"));
  EXPECT_THAT(host_.ExecOut("ip route show 10.65.0.5"),
              HasSubstr("dev caliaaaaaaaaaaa scope link"));
  for (const char* key : {"proxy_arp", "forwarding", "route_localnet"}) {
    EXPECT_EQ(host_.ExecOut(std::string("cat /proc/sys/net/ipv4/conf/caliaaaaaaaaaaa/") + key),
              "1\n")
        << key;
  }
  EXPECT_EQ(host_.ExecOut("cat /proc/sys/net/ipv4/neigh/caliaaaaaaaaaaa/proxy_delay"), "0\n");
  EXPECT_THAT(dataplane::testing::ShOut("ip -o link show"),
              ::testing::Not(HasSubstr("caliaaaaaaaaaaa")))
      << "nothing in the root namespace";

  // Docker's part, then traffic to the host through the proxy-ARP gateway.
  ASSERT_TRUE(MoveIntoSandbox(host_, "tempaaaaaaaaaaa", a_, "10.65.0.5/32"));
  std::string out;
  EXPECT_EQ(a_.Exec("busybox ping -c 1 -W 2 10.99.0.1", &out), 0) << out;

  // A second endpoint; the two reach each other through the host.
  VethPairSpec spec_b{.host_ifname = "calibbbbbbbbbbb",
                      .temp_ifname = "tempbbbbbbbbbbb",
                      .container_mac = "ee:ee:ee:ee:ee:ee",
                      .mtu = 0,
                      .addresses = {Ip("10.65.0.6")}};
  ASSERT_TRUE(plumber_->CreatePair(spec_b));
  ASSERT_TRUE(MoveIntoSandbox(host_, "tempbbbbbbbbbbb", b_, "10.65.0.6/32"));
  EXPECT_EQ(a_.Exec("busybox ping -c 1 -W 2 10.65.0.6", &out), 0) << out;

  // Leave: the host end goes, and with it the container end and the host route.
  ASSERT_TRUE(plumber_->DeletePair("caliaaaaaaaaaaa"));
  EXPECT_THAT(host_.ExecOut("ip -o link show"), ::testing::Not(HasSubstr("caliaaaaaaaaaaa")));
  EXPECT_THAT(a_.ExecOut("ip -o link show"), ::testing::Not(HasSubstr("eth0")));
  EXPECT_EQ(host_.ExecOut("ip route show 10.65.0.5"), "");
  EXPECT_TRUE(plumber_->DeletePair("caliaaaaaaaaaaa")) << "absent is success";
}

TEST_F(PlumbingTest, LeftoversAreReplacedAndFailuresLeaveNothing) {
  ASSERT_EQ(host_.Exec("ip link add caliccccccccccc type veth peer name tempccccccccccc"), 0);
  VethPairSpec spec{.host_ifname = "caliccccccccccc",
                    .temp_ifname = "tempccccccccccc",
                    .container_mac = "",
                    .mtu = 0,
                    .addresses = {Ip("10.65.0.7")}};
  auto made = plumber_->CreatePair(spec);
  ASSERT_TRUE(made) << made.error().message();
  EXPECT_THAT(host_.ExecOut("ip route show 10.65.0.7"), HasSubstr("caliccccccccccc"));

  // The address is routed through another interface: refused, and the new pair is removed.
  VethPairSpec clash{.host_ifname = "calidddddddddddd",
                     .temp_ifname = "tempddddddddddd",
                     .container_mac = "",
                     .mtu = 0,
                     .addresses = {Ip("10.65.0.7")}};
  EXPECT_FALSE(plumber_->CreatePair(clash)) << "16-character name";
  clash.host_ifname = "caliddddddddddd";
  auto st = plumber_->CreatePair(clash);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("already exists for an interface other than"));
  EXPECT_THAT(host_.ExecOut("ip -o link show"), ::testing::Not(HasSubstr("caliddddddddddd")));
  EXPECT_THAT(host_.ExecOut("ip -o link show"), ::testing::Not(HasSubstr("tempddddddddddd")));

  VethPairSpec bad_mac{.host_ifname = "calieeeeeeeeeee",
                       .temp_ifname = "tempeeeeeeeeeee",
                       .container_mac = "nope",
                       .mtu = 0,
                       .addresses = {}};
  EXPECT_FALSE(plumber_->CreatePair(bad_mac));
  EXPECT_THAT(host_.ExecOut("ip -o link show"), ::testing::Not(HasSubstr("calieeeeeeeeeee")));
}

TEST_F(PlumbingTest, Ipv6GatewayIsTheHostEndsLinkLocal) {
  VethPairSpec spec{.host_ifname = "califfffffffff6",
                    .temp_ifname = "tempffffffffff6",
                    .container_mac = "ee:ee:ee:ee:ee:ee",
                    .mtu = 0,
                    .addresses = {Ip("10.65.0.8"), Ip("fd00:65::8")}};
  auto made = plumber_->CreatePair(spec);
  ASSERT_TRUE(made) << made.error().message();
  ASSERT_TRUE(made->host_link_local);
  EXPECT_THAT(host_.ExecOut("ip -6 addr show dev califfffffffff6"),
              HasSubstr(made->host_link_local->String() + "/64"));
  EXPECT_THAT(host_.ExecOut("ip -6 route show fd00:65::8"), HasSubstr("dev califfffffffff6"));
  EXPECT_EQ(host_.ExecOut("cat /proc/sys/net/ipv6/conf/califfffffffff6/proxy_ndp"), "1\n");
}

TEST(Eui64Test, MatchesTheKernel) {
  EXPECT_EQ(Eui64LinkLocal(*net::MAC::Parse("ee:ee:ee:ee:ee:ee")).String(),
            "fe80::ecee:eeff:feee:eeee");
  EXPECT_EQ(Eui64LinkLocal(*net::MAC::Parse("02:42:ac:11:00:02")).String(), "fe80::42:acff:fe11:2");
}

}  // namespace
}  // namespace calico::libnetwork
