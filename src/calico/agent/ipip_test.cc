#include "calico/agent/ipip.h"

#include <gtest/gtest.h>

#include "calico/agent/testing/ipip_inputs.h"

namespace calico::agent {
namespace {

using testing::IpipInputs;

TEST(IpipTest, RoutesForOtherNodesBlocksThroughTheirAddresses) {
  IpipState always = ComputeIpipState("a", IpipInputs("Always"));
  ASSERT_TRUE(always.enabled);
  ASSERT_EQ(always.routes.size(), 2u);
  EXPECT_EQ(always.routes[0].dst.String(), "10.90.2.0/26");
  EXPECT_EQ(always.routes[0].via.String(), "198.18.0.12");
  EXPECT_TRUE(always.routes[0].encap);
  IpipState cross = ComputeIpipState("a", IpipInputs("CrossSubnet"));
  ASSERT_EQ(cross.routes.size(), 2u);
  EXPECT_FALSE(cross.routes[0].encap) << "b is in a's subnet: no tunnel";
  EXPECT_TRUE(cross.routes[1].encap) << "c is in another subnet";
  EXPECT_FALSE(ComputeIpipState("a", IpipInputs("Never")).enabled);
}

// tunl0's address is the node's spec.bgp.ipv4IPIPTunnelAddr; ipipEnabled forces IPIP on (tunl0
// configured, no IPIP pool: no routes) or off (whatever the pools say); ipipMTU travels along.
TEST(IpipTest, TunnelAddressAndIpipEnabled) {
  VxlanInputs in = IpipInputs("Always");
  EXPECT_FALSE(ComputeIpipState("a", in).tunnel_ip) << "not allocated yet";
  in.Ingest("/calico/resources/v3/projectcalico.org/nodes/a",
            R"({"kind":"Node","spec":{"bgp":{"ipv4Address":"198.18.0.11/24",)"
            R"("ipv4IPIPTunnelAddr":"10.90.1.1"}}})");
  IpipState s = ComputeIpipState("a", in, {.mtu = 1400});
  ASSERT_TRUE(s.enabled);
  EXPECT_EQ(s.tunnel_ip, net::IPAddr::Parse("10.90.1.1"));
  EXPECT_EQ(s.parent_ip, net::IPAddr::Parse("198.18.0.11"));
  EXPECT_EQ(s.options.mtu, 1400);

  IpipState off = ComputeIpipState("a", in, {.enabled = false});
  EXPECT_FALSE(off.enabled) << "ipipEnabled: false wins over the pool";
  EXPECT_TRUE(off.routes.empty());

  in.Ingest("/calico/resources/v3/projectcalico.org/ippools/p",
            R"({"kind":"IPPool","spec":{"cidr":"10.90.0.0/16","ipipMode":"Never"}})");
  EXPECT_FALSE(ComputeIpipState("a", in).enabled);
  IpipState forced = ComputeIpipState("a", in, {.enabled = true});
  EXPECT_TRUE(forced.enabled) << "ipipEnabled: true without an IPIP pool";
  EXPECT_EQ(forced.tunnel_ip, net::IPAddr::Parse("10.90.1.1"));
  EXPECT_TRUE(forced.routes.empty()) << "no IPIP pool: no IPIP routes";
}

}  // namespace
}  // namespace calico::agent
