// Privileged: builds workload plumbing in namespaces this test creates, then checks it the way a
// user would (ip, ping), and that failures and teardown leave nothing behind.
#include "calico/dataplane/netlink.h"

#include <gtest/gtest.h>

#include "calico/dataplane/netns.h"
#include "calico/dataplane/testing/netns_fixture.h"
#include "calico/dataplane/workload_net.h"

namespace calico::dataplane {
namespace {

using testing::ScopedNetns;

net::IPAddr Ip(const char* s) {
  return *net::IPAddr::Parse(s);
}

// Runs `fn` with the calling thread inside `host` (the plumbing's "host" namespace).
template <typename Fn>
auto InHost(const ScopedNetns& host, Fn fn) {
  auto ns = NetnsFd::Open(host.path());
  EXPECT_TRUE(ns.has_value());
  decltype(fn()) out{};
  Status st = RunInNetns(*ns, [&]() -> Status {
    out = fn();
    return OkStatus();
  });
  EXPECT_TRUE(st.has_value());
  return out;
}

class WorkloadNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "privileged test: run as root";
    ASSERT_TRUE(host_.ok() && a_.ok() && b_.ok()) << "cannot create network namespaces";
    ASSERT_TRUE(testing::MakeHost(host_));
  }
  Result<WorkloadNet> Add(const ScopedNetns& ns, const std::string& veth,
                          std::vector<net::IPAddr> ips, const std::string& ifname = "eth0") {
    WorkloadNetSpec spec;
    spec.netns_path = ns.path();
    spec.container_ifname = ifname;
    spec.host_ifname = veth;
    spec.addresses = std::move(ips);
    spec.mtu = 1440;
    return InHost(host_, [&] { return SetUpWorkload(spec); });
  }
  ScopedNetns host_{"calico-dp-host"};
  ScopedNetns a_{"calico-dp-a"};
  ScopedNetns b_{"calico-dp-b"};
};

TEST_F(WorkloadNetTest, BuildsCalicoPlumbingAndWorkloadsReachEachOther) {
  auto wa = Add(a_, "caliaaaaaaaaaaa", {Ip("10.65.0.2")});
  ASSERT_TRUE(wa) << wa.error().message();
  auto wb = Add(b_, "calibbbbbbbbbbb", {Ip("10.65.0.3")});
  ASSERT_TRUE(wb) << wb.error().message();
  EXPECT_EQ(wa->host_ifname, "caliaaaaaaaaaaa");
  EXPECT_EQ(wa->container_mtu, 1440);
  EXPECT_FALSE(wa->container_mac.empty());

  // Container side: the /32, the link-scope route to 169.254.1.1 and the default via it.
  std::string addrs = a_.ExecOut("ip -4 -o addr show dev eth0");
  EXPECT_NE(addrs.find("10.65.0.2/32"), std::string::npos) << addrs;
  std::string routes = a_.ExecOut("ip -4 route show");
  EXPECT_NE(routes.find("default via 169.254.1.1 dev eth0"), std::string::npos) << routes;
  EXPECT_NE(routes.find("169.254.1.1 dev eth0 scope link"), std::string::npos) << routes;
  EXPECT_EQ(a_.ExecOut("cat /proc/sys/net/ipv4/ip_forward"), "0\n");

  // Host side: fixed MAC, proxy ARP, the /32 route.
  std::string link = host_.ExecOut("ip -o link show caliaaaaaaaaaaa");
  EXPECT_NE(link.find("ee:ee:ee:ee:ee:ee"), std::string::npos) << link;
  EXPECT_NE(link.find("mtu 1440"), std::string::npos) << link;
  EXPECT_EQ(host_.ExecOut("cat /proc/sys/net/ipv4/conf/caliaaaaaaaaaaa/proxy_arp"), "1\n");
  EXPECT_EQ(host_.ExecOut("cat /proc/sys/net/ipv4/conf/caliaaaaaaaaaaa/route_localnet"), "1\n");
  std::string host_routes = host_.ExecOut("ip -4 route show");
  EXPECT_NE(host_routes.find("10.65.0.2 dev caliaaaaaaaaaaa scope link"), std::string::npos)
      << host_routes;

  // The gateway answers (proxy ARP) and packets flow workload -> host and workload -> workload.
  EXPECT_EQ(a_.Exec("busybox ping -c 1 -W 2 10.99.0.1"), 0) << "workload cannot reach its host";
  std::string out;
  EXPECT_EQ(a_.Exec("busybox ping -c 1 -W 2 10.65.0.3", &out), 0) << out;
  std::string neigh = a_.ExecOut("ip neigh show 169.254.1.1");
  EXPECT_NE(neigh.find("ee:ee:ee:ee:ee:ee"), std::string::npos) << neigh;

  // Teardown removes both ends and the host route; a second teardown is a no-op.
  ASSERT_TRUE(TearDownWorkload(a_.path(), "eth0"));
  EXPECT_NE(host_.Exec("ip link show caliaaaaaaaaaaa"), 0);
  EXPECT_EQ(host_.ExecOut("ip -4 route show").find("10.65.0.2"), std::string::npos);
  EXPECT_TRUE(TearDownWorkload(a_.path(), "eth0"));
  EXPECT_TRUE(TearDownWorkload("/var/run/netns/calico-no-such-netns", "eth0"));
}

TEST_F(WorkloadNetTest, DualStackUsesTheHostLinkLocalAsIpv6Gateway) {
  auto wa = Add(a_, "calia6", {Ip("10.65.1.2"), Ip("fd00:65::2")});
  ASSERT_TRUE(wa) << wa.error().message();
  auto wb = Add(b_, "calib6", {Ip("10.65.1.3"), Ip("fd00:65::3")});
  ASSERT_TRUE(wb) << wb.error().message();
  std::string v6 = a_.ExecOut("ip -6 -o addr show dev eth0");
  EXPECT_NE(v6.find("fd00:65::2/128"), std::string::npos) << v6;
  std::string route = a_.ExecOut("ip -6 route show default");
  EXPECT_NE(route.find("via fe80::ecee:eeff:feee:eeee dev eth0"), std::string::npos) << route;
  EXPECT_EQ(host_.ExecOut("cat /proc/sys/net/ipv6/conf/calia6/proxy_ndp"), "1\n");
  std::string out;
  EXPECT_EQ(a_.Exec("busybox ping6 -c 1 -W 2 fd00:65::3", &out), 0) << out;
  EXPECT_EQ(a_.Exec("busybox ping -c 1 -W 2 10.65.1.3", &out), 0) << out;
}

TEST_F(WorkloadNetTest, FailureLeavesNoVethBehind) {
  // The container already has an eth0: the pair cannot be made, nothing appears on the host.
  ASSERT_EQ(a_.Exec("ip link add eth0 type veth peer name eth0peer"), 0);
  auto w = Add(a_, "califail0000000", {Ip("10.65.2.2")});
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message().find("eth0"), std::string::npos) << w.error().message();
  EXPECT_NE(host_.Exec("ip link show califail0000000"), 0);

  // A route to the address through another interface: rollback removes the new pair.
  ASSERT_EQ(host_.Exec("ip route add 10.65.2.3/32 dev uplink0 scope link"), 0);
  auto w2 = Add(b_, "califail0000001", {Ip("10.65.2.3")});
  ASSERT_FALSE(w2);
  EXPECT_NE(w2.error().message().find("already exists for an interface other than"),
            std::string::npos)
      << w2.error().message();
  EXPECT_NE(host_.Exec("ip link show califail0000001"), 0);
  EXPECT_NE(b_.Exec("ip link show eth0"), 0);
}

TEST_F(WorkloadNetTest, StaleHostVethIsReplaced) {
  ASSERT_EQ(host_.Exec("ip link add calistale000000 type veth peer name stalepeer"), 0);
  auto w = Add(a_, "calistale000000", {Ip("10.65.3.2")});
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_NE(host_.ExecOut("ip -d -o link show calistale000000").find("veth"), std::string::npos);
}

TEST(NetlinkTest, RejectsOverlongNamesAndMissingNamespaces) {
  WorkloadNetSpec spec;
  spec.netns_path = "/var/run/netns/calico-no-such-netns";
  spec.host_ifname = "cali0123456789abcdef";
  auto w = SetUpWorkload(spec);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message().find("invalid host interface name"), std::string::npos);
  spec.host_ifname = "cali0";
  w = SetUpWorkload(spec);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message().find("failed to open the container netns"), std::string::npos)
      << w.error().message();
  EXPECT_EQ(HostVethNameForContainer("0123456789abcdef"), "cali0123456789a");
  EXPECT_EQ(HostVethNameForContainer("abc"), "caliabc");
}

}  // namespace
}  // namespace calico::dataplane
