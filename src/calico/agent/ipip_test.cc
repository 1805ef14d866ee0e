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

}  // namespace
}  // namespace calico::agent
