// Which hosts Felix's overlay filter admits (overlay_filter.h): the sets follow the Nodes the
// VXLAN/IPIP models see.
#include "calico/agent/overlay_filter.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace calico::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

net::CIDR Net(const char* text) {
  return *net::CIDR::ParseNet(text);
}

void AddNode(VxlanInputs& in, const std::string& name, const std::string& spec) {
  in.Ingest("/calico/resources/v3/projectcalico.org/nodes/" + name,
            R"({"kind":"Node","spec":)" + spec + "}");
}

// Nodes a (this one), b (complete dual-stack VTEPs), c (no tunnel address yet: no VTEP), d
// (IPv6 VTEP only); an IPv4 and an IPv6 VXLAN pool, IPIP on an IPv4 pool too.
VxlanInputs Cluster() {
  VxlanInputs in;
  in.Ingest("/calico/resources/v3/projectcalico.org/ippools/v4",
            R"({"kind":"IPPool","spec":{"cidr":"10.90.0.0/16","vxlanMode":"Always"}})");
  in.Ingest("/calico/resources/v3/projectcalico.org/ippools/v6",
            R"({"kind":"IPPool","spec":{"cidr":"fd00:90::/48","vxlanMode":"Always"}})");
  in.Ingest("/calico/resources/v3/projectcalico.org/ippools/ipip",
            R"({"kind":"IPPool","spec":{"cidr":"10.91.0.0/16","ipipMode":"Always"}})");
  AddNode(in, "a",
          R"({"bgp":{"ipv4Address":"198.18.0.11/24","ipv6Address":"fd00:18::11/64"},)"
          R"("ipv4VXLANTunnelAddr":"10.90.1.0","ipv6VXLANTunnelAddr":"fd00:90:0:1::"})");
  AddNode(in, "b",
          R"({"bgp":{"ipv4Address":"198.18.0.12/24","ipv6Address":"fd00:18::12/64"},)"
          R"("ipv4VXLANTunnelAddr":"10.90.2.0","ipv6VXLANTunnelAddr":"fd00:90:0:2::"})");
  AddNode(in, "c", R"({"bgp":{"ipv4Address":"198.18.1.13/24"}})");
  AddNode(in, "d",
          R"({"bgp":{"ipv6Address":"fd00:18::14/64"},"ipv6VXLANTunnelAddr":"fd00:90:0:4::"})");
  return in;
}

TEST(OverlayFilterTest, VxlanSourcesAreTheOtherNodesVteps) {
  const VxlanInputs in = Cluster();
  const VxlanState v4 = ComputeVxlanState("a", in);
  const VxlanState v6 = ComputeVxlanStateV6("a", in);
  ASSERT_TRUE(v4.enabled && v6.enabled);
  const auto f = ComputeOverlayFilter(in, &v4, &v6, nullptr);
  EXPECT_TRUE(f.vxlan);
  EXPECT_TRUE(f.vxlan_v6);
  EXPECT_FALSE(f.ipip);
  // Not a (this node), not c (no VXLAN tunnel address: no VTEP, as Felix's VTEP updates).
  EXPECT_THAT(f.vxlan_sources,
              ElementsAre(Net("198.18.0.12/32"), Net("fd00:18::12/128"), Net("fd00:18::14/128")));
  EXPECT_THAT(f.host_nets, IsEmpty());
}

TEST(OverlayFilterTest, HostNetsAreEveryNodesAddress) {
  const VxlanInputs in = Cluster();
  const IpipState ipip = ComputeIpipState("a", in);
  ASSERT_TRUE(ipip.enabled);
  const auto f = ComputeOverlayFilter(in, nullptr, nullptr, &ipip);
  EXPECT_TRUE(f.ipip);
  EXPECT_FALSE(f.vxlan || f.vxlan_v6);
  // Felix's all-hosts-net: every node's IPv4 address, this node's included; d has none.
  EXPECT_THAT(f.host_nets,
              ElementsAre(Net("198.18.0.11/32"), Net("198.18.0.12/32"), Net("198.18.1.13/32")));
  EXPECT_THAT(f.vxlan_sources, IsEmpty());
}

TEST(OverlayFilterTest, OverlaysOffOrNotProgrammedAdmitNothing) {
  VxlanInputs in = Cluster();
  EXPECT_EQ(ComputeOverlayFilter(in, nullptr, nullptr, nullptr),
            policy::RenderOptions::OverlayFilter{});
  // vxlanEnabled: false (the agent's DesiredVxlan is then a disabled state).
  const VxlanState off;
  const auto f = ComputeOverlayFilter(in, &off, nullptr, nullptr);
  EXPECT_FALSE(f.vxlan);
  EXPECT_THAT(f.vxlan_sources, IsEmpty());
  // A node leaving takes its address out of the set.
  in.Remove("/calico/resources/v3/projectcalico.org/nodes/b");
  const VxlanState v4 = ComputeVxlanState("a", in);
  EXPECT_THAT(ComputeOverlayFilter(in, &v4, nullptr, nullptr).vxlan_sources, IsEmpty());
}

}  // namespace
}  // namespace calico::agent
