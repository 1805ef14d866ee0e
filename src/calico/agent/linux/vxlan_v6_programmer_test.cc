// VxlanProgrammer for IPv6 (vxlan-v6.calico) in network namespaces (privileged): two hosts joined
// by an IPv6-only veth underlay (fd00:18::1/64, fd00:18::2/64), each with an IPv6 workload behind
// a cali veth as the CNI plugin wires it (fd00:65:0:1::2/128 on host a, fd00:65:0:2::2/128 on host
// b, blocks fd00:65:0:1::/122 and fd00:65:0:2::/122). No IPv4 anywhere: traffic between the
// workloads must cross vxlan-v6.calico.
#include <string>

#include <gtest/gtest.h>

#include "calico/agent/linux/vxlan_programmer.h"
#include "calico/agent/vxlan_model.h"
#include "calico/dataplane/netns.h"
#include "calico/dataplane/testing/netns_fixture.h"

namespace calico::agent {
namespace {

using dataplane::testing::ScopedNetns;
using dataplane::testing::Sh;

class VxlanV6ProgrammerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    ASSERT_TRUE(host_a_.ok() && host_b_.ok() && wl_a_.ok() && wl_b_.ok());
    for (const ScopedNetns* ns : {&host_a_, &host_b_, &wl_a_, &wl_b_}) {
      // No duplicate address detection: addresses are usable at once.
      ASSERT_EQ(ns->Exec("sysctl -qw net.ipv6.conf.all.accept_dad=0"), 0);
      ASSERT_EQ(ns->Exec("sysctl -qw net.ipv6.conf.default.accept_dad=0"), 0);
    }
    ASSERT_EQ(Sh("ip -n " + host_a_.name() + " link add eth0 type veth peer name eth0 netns " +
                 host_b_.name()),
              0);
    Host(host_a_, "fd00:18::1/64", wl_a_, "fd00:65:0:1::2");
    Host(host_b_, "fd00:18::2/64", wl_b_, "fd00:65:0:2::2");

    inputs_.pools["p6"] = {Net("fd00:65::/48"), EncapMode::kAlways};
    VxlanNodeInfo a;
    a.parent6 = Net("fd00:18::1/64");
    a.tunnel_ip6 = IP("fd00:65:0:1::");
    VxlanNodeInfo b;
    b.parent6 = Net("fd00:18::2/64");
    b.tunnel_ip6 = IP("fd00:65:0:2::");
    inputs_.nodes["a"] = a;
    inputs_.nodes["b"] = b;
    inputs_.block_owner[Net("fd00:65:0:1::/122")] = "a";
    inputs_.block_owner[Net("fd00:65:0:2::/122")] = "b";
  }

  static net::IPAddr IP(const char* s) { return *net::IPAddr::Parse(s); }
  static net::CIDR Net(const char* s) { return *net::CIDR::Parse(s); }

  // Forwarding host with its underlay address and one workload behind cali1, whose host side
  // answers as the workload's gateway on its link-local address (as Calico's fe80::ecee:...).
  void Host(const ScopedNetns& host, const std::string& addr, const ScopedNetns& wl,
            const std::string& wl_ip) {
    const std::string h = "ip -n " + host.name() + " ";
    const std::string w = "ip -n " + wl.name() + " ";
    ASSERT_EQ(Sh(h + "addr add " + addr + " dev eth0"), 0);
    ASSERT_EQ(Sh(h + "link set eth0 up"), 0);
    ASSERT_EQ(host.Exec("sysctl -qw net.ipv6.conf.all.forwarding=1"), 0);
    ASSERT_EQ(Sh(h + "link add cali1 address ee:ee:ee:ee:ee:ee type veth peer name eth0 netns " +
                 wl.name()),
              0);
    ASSERT_EQ(Sh(h + "link set cali1 up"), 0);
    ASSERT_EQ(Sh(h + "-6 route add " + wl_ip + "/128 dev cali1"), 0);
    ASSERT_EQ(Sh(w + "addr add " + wl_ip + "/128 dev eth0"), 0);
    ASSERT_EQ(Sh(w + "link set eth0 up"), 0);
    ASSERT_EQ(Sh(w + "-6 route add default via fe80::ecee:eeff:feee:eeee dev eth0"), 0);
  }

  // Applies `state` inside `host`; returns the number of kernel writes.
  int Apply(VxlanProgrammer& programmer, const ScopedNetns& host, const VxlanState& state) {
    auto ns = dataplane::NetnsFd::Open(host.path());
    EXPECT_TRUE(ns);
    if (!ns) return -1;
    Status st = dataplane::RunInNetns(*ns, [&] { return programmer.Apply(state); });
    EXPECT_TRUE(st) << st.error().message();
    return programmer.last_writes();
  }
  void ApplyBoth(const VxlanOptions& options = {}) {
    Apply(prog_a_, host_a_, ComputeVxlanStateV6("a", inputs_, options));
    Apply(prog_b_, host_b_, ComputeVxlanStateV6("b", inputs_, options));
  }
  bool Ping(const ScopedNetns& from, const std::string& to) {
    std::string out;
    int rc = from.Exec("busybox ping -6 -c 1 -W 2 " + to, &out);
    if (rc != 0) std::cerr << out;
    return rc == 0;
  }
  long TxPackets(const ScopedNetns& host) {
    std::string out = host.ExecOut("cat /sys/class/net/vxlan-v6.calico/statistics/tx_packets");
    return out.empty() ? -1 : std::stol(out);
  }
  std::string Out(const std::string& cmd) { return dataplane::testing::ShOut(cmd); }
  std::string Kernel(const std::string& a) {
    return Out("ip -n " + a + " -6 route") +
           Out("bridge -n " + a + " fdb show dev vxlan-v6.calico") +
           Out("ip -n " + a + " -6 neigh show dev vxlan-v6.calico nud permanent") +
           Out("ip -n " + a + " -d link show vxlan-v6.calico");
  }

  ScopedNetns host_a_{"vx6-ha"};
  ScopedNetns host_b_{"vx6-hb"};
  ScopedNetns wl_a_{"vx6-wa"};
  ScopedNetns wl_b_{"vx6-wb"};
  VxlanInputs inputs_;
  VxlanProgrammer prog_a_{dataplane::kCalicoRouteProtocol, 6};
  VxlanProgrammer prog_b_{dataplane::kCalicoRouteProtocol, 6};
};

TEST_F(VxlanV6ProgrammerTest, WorkloadsTalkThroughTheIpv6Tunnel) {
  const std::string a = host_a_.name();
  const std::string mac_a = DeriveVtepMac("a-v6").String();
  const std::string mac_b = DeriveVtepMac("b-v6").String();
  EXPECT_FALSE(Ping(wl_a_, "fd00:65:0:2::2")) << "no route before the overlay exists";
  ApplyBoth();

  std::string link = Out("ip -n " + a + " -d link show vxlan-v6.calico");
  EXPECT_NE(link.find("vxlan id 4096"), std::string::npos) << link;
  EXPECT_NE(link.find("dstport 4789"), std::string::npos) << link;
  EXPECT_NE(link.find("local fd00:18::1"), std::string::npos) << link;
  EXPECT_NE(link.find("dev eth0"), std::string::npos) << link;
  EXPECT_NE(link.find("nolearning"), std::string::npos) << link;
  EXPECT_NE(link.find("mtu 1430"), std::string::npos) << "veth 1500 - 70: " << link;
  EXPECT_NE(link.find("link/ether " + mac_a), std::string::npos) << link;
  EXPECT_NE(Out("ip -n " + a + " -6 addr show dev vxlan-v6.calico").find("inet6 fd00:65:0:1::/128"),
            std::string::npos);
  EXPECT_NE(Sh("ip -n " + a + " link show vxlan.calico"), 0) << "no IPv4 device";

  std::string routes = Out("ip -n " + a + " -6 route");
  EXPECT_NE(
      routes.find("fd00:65:0:2::/122 via fd00:65:0:2:: dev vxlan-v6.calico proto 80 metric 1024 "
                  "onlink"),
      std::string::npos)
      << routes;
  EXPECT_EQ(routes.find("fd00:65:0:1::/122"), std::string::npos) << "own block: " << routes;
  std::string fdb = Out("bridge -n " + a + " fdb show dev vxlan-v6.calico");
  EXPECT_NE(fdb.find(mac_b + " dst fd00:18::2 self permanent"), std::string::npos) << fdb;
  std::string neigh = Out("ip -n " + a + " -6 neigh show dev vxlan-v6.calico");
  EXPECT_NE(neigh.find("fd00:65:0:2:: lladdr " + mac_b + " PERMANENT"), std::string::npos) << neigh;

  long tx_a = TxPackets(host_a_);
  long tx_b = TxPackets(host_b_);
  EXPECT_TRUE(Ping(wl_a_, "fd00:65:0:2::2"));
  EXPECT_TRUE(Ping(wl_b_, "fd00:65:0:1::2"));
  EXPECT_GT(TxPackets(host_a_), tx_a) << "the request did not cross vxlan-v6.calico";
  EXPECT_GT(TxPackets(host_b_), tx_b) << "the reply did not cross vxlan-v6.calico";

  // A second Apply with the same state writes nothing and changes nothing.
  const std::string before = Kernel(a);
  EXPECT_EQ(Apply(prog_a_, host_a_, ComputeVxlanStateV6("a", inputs_)), 0);
  EXPECT_EQ(Apply(prog_b_, host_b_, ComputeVxlanStateV6("b", inputs_)), 0);
  EXPECT_EQ(Kernel(a), before);
}

// vxlanVNI / vxlanPort / vxlanMTUV6 (vxlanMTU is IPv4's); drift and leftovers are repaired; a
// node that leaves takes its entries with it; disabled removes the device.
TEST_F(VxlanV6ProgrammerTest, OptionsDriftLeftoversAndDisable) {
  const std::string a = host_a_.name();
  const VxlanOptions options{.vni = 5000, .port = 4790, .mtu = 1300, .mtu_v6 = 1400};
  ApplyBoth(options);
  std::string link = Out("ip -n " + a + " -d link show vxlan-v6.calico");
  EXPECT_NE(link.find("vxlan id 5000"), std::string::npos) << link;
  EXPECT_NE(link.find("dstport 4790"), std::string::npos) << link;
  EXPECT_NE(link.find("mtu 1400"), std::string::npos) << link;
  EXPECT_TRUE(Ping(wl_a_, "fd00:65:0:2::2"));

  // Leftovers of a node that went away, drift on the device.
  ASSERT_EQ(Sh("ip -n " + a +
               " -6 route add fd00:65:0:9::/122 via fd00:65:0:9:: dev vxlan-v6.calico onlink "
               "proto 80"),
            0);
  ASSERT_EQ(
      Sh("bridge -n " + a + " fdb append 66:00:00:00:00:09 dev vxlan-v6.calico dst fd00:18::9"), 0);
  ASSERT_EQ(Sh("ip -n " + a +
               " -6 neigh add fd00:65:0:9:: lladdr 66:00:00:00:00:09 dev vxlan-v6.calico nud "
               "permanent"),
            0);
  ASSERT_EQ(Sh("ip -n " + a + " link set vxlan-v6.calico mtu 1300"), 0);
  ASSERT_EQ(Sh("ip -n " + a + " -6 addr add fd00:65:0:7::7/128 dev vxlan-v6.calico"), 0);
  EXPECT_GT(Apply(prog_a_, host_a_, ComputeVxlanStateV6("a", inputs_, options)), 0);
  EXPECT_EQ(Out("ip -n " + a + " -6 route").find("fd00:65:0:9::/122"), std::string::npos);
  EXPECT_EQ(Out("bridge -n " + a + " fdb show dev vxlan-v6.calico").find("66:00:00:00:00:09"),
            std::string::npos);
  EXPECT_EQ(Out("ip -n " + a + " -6 neigh show dev vxlan-v6.calico").find("fd00:65:0:9::"),
            std::string::npos);
  EXPECT_NE(Out("ip -n " + a + " link show vxlan-v6.calico").find("mtu 1400"), std::string::npos);
  std::string addrs = Out("ip -n " + a + " -6 addr show dev vxlan-v6.calico");
  EXPECT_EQ(addrs.find("fd00:65:0:7::7"), std::string::npos) << addrs;
  EXPECT_NE(addrs.find("fe80::"), std::string::npos) << "link-local kept: " << addrs;
  EXPECT_EQ(Apply(prog_a_, host_a_, ComputeVxlanStateV6("a", inputs_, options)), 0);

  // b leaves: its VTEP and its block's route go.
  inputs_.nodes.erase("b");
  EXPECT_GT(Apply(prog_a_, host_a_, ComputeVxlanStateV6("a", inputs_, options)), 0);
  EXPECT_EQ(Out("ip -n " + a + " -6 route").find("fd00:65:0:2::/122"), std::string::npos);
  EXPECT_EQ(Out("bridge -n " + a + " fdb show dev vxlan-v6.calico").find("dst fd00:18::2"),
            std::string::npos);

  // No IPv6 VXLAN pool: the device goes.
  inputs_.pools["p6"].vxlan_mode = EncapMode::kNever;
  VxlanState off = ComputeVxlanStateV6("a", inputs_, options);
  ASSERT_FALSE(off.enabled);
  EXPECT_GT(Apply(prog_a_, host_a_, off), 0);
  EXPECT_NE(Sh("ip -n " + a + " link show vxlan-v6.calico"), 0) << "device still there";
  EXPECT_EQ(Apply(prog_a_, host_a_, off), 0) << "disabled and already clean";
}

// CrossSubnet: b is in a's IPv6 subnet, so its block is routed via its address on eth0, without
// encapsulation.
TEST_F(VxlanV6ProgrammerTest, CrossSubnetSameSubnetWithoutEncapsulation) {
  const std::string a = host_a_.name();
  inputs_.pools["p6"].vxlan_mode = EncapMode::kCrossSubnet;
  ApplyBoth();
  std::string routes = Out("ip -n " + a + " -6 route");
  EXPECT_NE(routes.find("fd00:65:0:2::/122 via fd00:18::2 dev eth0 proto 80"), std::string::npos)
      << routes;
  long tx_a = TxPackets(host_a_);
  EXPECT_TRUE(Ping(wl_a_, "fd00:65:0:2::2"));
  EXPECT_EQ(TxPackets(host_a_), tx_a) << "same subnet: no encapsulation";
  EXPECT_EQ(Apply(prog_a_, host_a_, ComputeVxlanStateV6("a", inputs_)), 0);
}

// The IPv6 programmer refuses an IPv4 state (and the other way round): each owns its device.
TEST_F(VxlanV6ProgrammerTest, RefusesTheOtherFamily) {
  auto ns = dataplane::NetnsFd::Open(host_a_.path());
  ASSERT_TRUE(ns);
  Status st = dataplane::RunInNetns(*ns, [&] { return prog_a_.Apply(VxlanState{}); });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace calico::agent
