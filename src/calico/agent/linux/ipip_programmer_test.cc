// IpipProgrammer in a network namespace of its own (privileged); skipped where the kernel has no
// ipip module.
#include "calico/agent/linux/ipip_programmer.h"

#include <gtest/gtest.h>

#include "calico/agent/testing/ipip_inputs.h"
#include "calico/dataplane/netns.h"
#include "calico/dataplane/testing/netns_fixture.h"

namespace calico::agent {
namespace {

using testing::IpipInputs;

// Privileged: in a namespace of its own; skipped where the kernel has no ipip module.
TEST(IpipTest, ProgramsTunl0WhereTheKernelHasIpip) {
  dataplane::testing::ScopedNetns ns("calico-ipip");
  ASSERT_TRUE(ns.ok());
  if (ns.Exec("ip link add name tunl0 type ipip") != 0 && ns.Exec("ip link show tunl0") != 0) {
    GTEST_SKIP() << "the kernel has no ipip module on this machine (IPIP cannot be tested here)";
  }
  ASSERT_EQ(ns.Exec("ip link add eth0 type veth peer name eth0p"), 0);
  ASSERT_EQ(ns.Exec("ip addr add 198.18.0.11/24 dev eth0"), 0);
  ASSERT_EQ(ns.Exec("ip link set eth0 up"), 0);
  ASSERT_EQ(ns.Exec("ip link set eth0 mtu 1450"), 0);
  auto fd = dataplane::NetnsFd::Open(ns.path());
  ASSERT_TRUE(fd);
  VxlanInputs in = IpipInputs("Always");
  in.Ingest("/calico/resources/v3/projectcalico.org/nodes/a",
            R"({"kind":"Node","spec":{"bgp":{"ipv4Address":"198.18.0.11/24",)"
            R"("ipv4IPIPTunnelAddr":"10.90.1.1"}}})");
  IpipProgrammer programmer;
  auto apply = [&](const IpipState& state) {
    Status st = dataplane::RunInNetns(*fd, [&] { return programmer.Apply(state); });
    EXPECT_TRUE(st) << st.error().message();
    return programmer.last_writes();
  };
  // tunl0: the node's IPIP tunnel address, up, MTU = eth0's 1450 - 20.
  EXPECT_GT(apply(ComputeIpipState("a", in)), 0);
  std::string routes = ns.ExecOut("ip route");
  EXPECT_NE(routes.find("10.90.2.0/26 via 198.18.0.12 dev tunl0 proto 80 onlink"),
            std::string::npos)
      << routes;
  std::string link = ns.ExecOut("ip addr show dev tunl0");
  EXPECT_NE(link.find("inet 10.90.1.1/32"), std::string::npos) << link;
  EXPECT_NE(link.find("mtu 1430"), std::string::npos) << link;
  EXPECT_NE(link.find(",UP"), std::string::npos) << link;
  EXPECT_EQ(apply(ComputeIpipState("a", in)), 0) << "already right";
  // ipipMTU.
  apply(ComputeIpipState("a", in, {.mtu = 1400}));
  EXPECT_NE(ns.ExecOut("ip link show dev tunl0").find("mtu 1400"), std::string::npos);
  // ipipEnabled: false: the routes and the address go.
  apply(ComputeIpipState("a", in, {.enabled = false}));
  EXPECT_EQ(ns.ExecOut("ip route").find("dev tunl0"), std::string::npos);
  EXPECT_EQ(ns.ExecOut("ip addr show dev tunl0").find("10.90.1.1"), std::string::npos);
}

// Without ipip the error says what is missing.
TEST(IpipTest, MissingModuleIsNamed) {
  dataplane::testing::ScopedNetns ns("calico-ipip");
  ASSERT_TRUE(ns.ok());
  if (ns.Exec("ip link show tunl0") == 0) GTEST_SKIP() << "this kernel has ipip";
  auto fd = dataplane::NetnsFd::Open(ns.path());
  Status st = dataplane::RunInNetns(
      *fd, [] { return IpipProgrammer().Apply(ComputeIpipState("a", IpipInputs("Always"))); });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(st.error().message().find("ipip module"), std::string::npos);
}

}  // namespace
}  // namespace calico::agent
