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
  auto fd = dataplane::NetnsFd::Open(ns.path());
  ASSERT_TRUE(fd);
  Status st = dataplane::RunInNetns(
      *fd, [] { return IpipProgrammer().Apply(ComputeIpipState("a", IpipInputs("Always"))); });
  ASSERT_TRUE(st) << st.error().message();
  std::string routes = ns.ExecOut("ip route");
  EXPECT_NE(routes.find("10.90.2.0/26 via 198.18.0.12 dev tunl0 proto 80 onlink"),
            std::string::npos)
      << routes;
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
