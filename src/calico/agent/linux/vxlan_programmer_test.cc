// VxlanProgrammer in network namespaces (privileged): two hosts joined by a veth "underlay"
// (198.18.0.1/24, 198.18.0.2/24), each with a workload namespace behind a cali veth, as the CNI
// plugin wires them (198.19.1.2/32 on host a, 198.19.2.2/32 on host b, blocks 198.19.1.0/26 and
// 198.19.2.0/26). Traffic between the workloads must cross vxlan.calico.
#include "calico/agent/linux/vxlan_programmer.h"

#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "calico/agent/overlay_filter.h"
#include "calico/agent/vxlan_model.h"
#include "calico/dataplane/netns.h"
#include "calico/dataplane/testing/netns_fixture.h"
#include "calico/policy/ruleset_renderer.h"

namespace calico::agent {
namespace {

using dataplane::testing::ScopedNetns;
using dataplane::testing::Sh;

class VxlanProgrammerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    ASSERT_TRUE(host_a_.ok() && host_b_.ok() && wl_a_.ok() && wl_b_.ok());
    // Underlay.
    ASSERT_EQ(Sh("ip -n " + host_a_.name() + " link add eth0 type veth peer name eth0 netns " +
                 host_b_.name()),
              0);
    Host(host_a_, "198.18.0.1/24", wl_a_, "198.19.1.2");
    Host(host_b_, "198.18.0.2/24", wl_b_, "198.19.2.2");

    inputs_.pools["p"] = {Net("198.19.0.0/16"), EncapMode::kAlways};
    inputs_.nodes["a"] = {Net("198.18.0.1/24"), IP("198.19.1.0"), std::nullopt};
    inputs_.nodes["b"] = {Net("198.18.0.2/24"), IP("198.19.2.0"), std::nullopt};
    inputs_.block_owner[Net("198.19.1.0/26")] = "a";
    inputs_.block_owner[Net("198.19.2.0/26")] = "b";
  }

  static net::IPAddr IP(const char* s) { return *net::IPAddr::Parse(s); }
  static net::CIDR Net(const char* s) { return *net::CIDR::Parse(s); }

  // Forwarding host with its underlay address and one workload behind cali1.
  void Host(const ScopedNetns& host, const std::string& addr, const ScopedNetns& wl,
            const std::string& wl_ip) {
    const std::string h = "ip -n " + host.name() + " ";
    const std::string w = "ip -n " + wl.name() + " ";
    ASSERT_EQ(Sh(h + "addr add " + addr + " dev eth0"), 0);
    ASSERT_EQ(Sh(h + "link set eth0 up"), 0);
    // Like a real host, a default route (proxy ARP answers the workload's 169.254.1.1 only for
    // destinations the host can route).
    ASSERT_EQ(Sh(h + "route add default via 198.18.0.254 dev eth0"), 0);
    ASSERT_EQ(host.Exec("sysctl -qw net.ipv4.ip_forward=1"), 0);
    ASSERT_EQ(Sh(h + "link add cali1 type veth peer name eth0 netns " + wl.name()), 0);
    ASSERT_EQ(Sh(h + "link set cali1 up"), 0);
    ASSERT_EQ(host.Exec("sysctl -qw net.ipv4.conf.cali1.proxy_arp=1"), 0);
    ASSERT_EQ(host.Exec("sysctl -qw net.ipv4.neigh.cali1.proxy_delay=0"), 0);
    ASSERT_EQ(Sh(h + "route add " + wl_ip + "/32 dev cali1 scope link"), 0);
    ASSERT_EQ(Sh(w + "addr add " + wl_ip + "/32 dev eth0"), 0);
    ASSERT_EQ(Sh(w + "link set eth0 up"), 0);
    ASSERT_EQ(Sh(w + "route add 169.254.1.1 dev eth0 scope link"), 0);
    ASSERT_EQ(Sh(w + "route add default via 169.254.1.1 dev eth0"), 0);
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
  void ApplyBoth() {
    Apply(prog_a_, host_a_, ComputeVxlanState("a", inputs_));
    Apply(prog_b_, host_b_, ComputeVxlanState("b", inputs_));
  }
  bool Ping(const ScopedNetns& from, const std::string& to) {
    std::string out;
    int rc = from.Exec("busybox ping -c 1 -W 2 " + to, &out);
    if (rc != 0) std::cerr << out;
    return rc == 0;
  }
  long TxPackets(const ScopedNetns& host) {
    std::string out = host.ExecOut("cat /sys/class/net/vxlan.calico/statistics/tx_packets");
    return out.empty() ? -1 : std::stol(out);
  }
  std::string Out(const std::string& cmd) { return dataplane::testing::ShOut(cmd); }

  ScopedNetns host_a_{"vxlan-ha"};
  ScopedNetns host_b_{"vxlan-hb"};
  ScopedNetns wl_a_{"vxlan-wa"};
  ScopedNetns wl_b_{"vxlan-wb"};
  VxlanInputs inputs_;
  VxlanProgrammer prog_a_;
  VxlanProgrammer prog_b_;
};

// FelixConfiguration vxlanVNI / vxlanPort / vxlanMTU: the device uses them, and the workloads
// still talk (both ends agree).
TEST_F(VxlanProgrammerTest, ConfiguredVniPortAndMtu) {
  const VxlanOptions options{.vni = 5000, .port = 4790, .mtu = 1400};
  Apply(prog_a_, host_a_, ComputeVxlanState("a", inputs_, options));
  Apply(prog_b_, host_b_, ComputeVxlanState("b", inputs_, options));
  std::string link = Out("ip -n " + host_a_.name() + " -d link show vxlan.calico");
  EXPECT_NE(link.find("vxlan id 5000"), std::string::npos) << link;
  EXPECT_NE(link.find("dstport 4790"), std::string::npos) << link;
  EXPECT_NE(link.find("mtu 1400"), std::string::npos) << link;
  EXPECT_TRUE(Ping(wl_a_, "198.19.2.2"));
  // Back to the defaults: the device is recreated with them.
  Apply(prog_a_, host_a_, ComputeVxlanState("a", inputs_));
  link = Out("ip -n " + host_a_.name() + " -d link show vxlan.calico");
  EXPECT_NE(link.find("vxlan id 4096"), std::string::npos) << link;
  EXPECT_NE(link.find("dstport 4789"), std::string::npos) << link;
}

TEST_F(VxlanProgrammerTest, WorkloadsTalkThroughTheTunnel) {
  const std::string a = host_a_.name();
  const std::string mac_a = DeriveVtepMac("a").String();
  const std::string mac_b = DeriveVtepMac("b").String();
  EXPECT_FALSE(Ping(wl_a_, "198.19.2.2")) << "no route before the overlay exists";
  ApplyBoth();

  std::string link = Out("ip -n " + a + " -d link show vxlan.calico");
  EXPECT_NE(link.find("vxlan id 4096"), std::string::npos) << link;
  EXPECT_NE(link.find("dstport 4789"), std::string::npos) << link;
  EXPECT_NE(link.find("local 198.18.0.1"), std::string::npos) << link;
  EXPECT_NE(link.find("dev eth0"), std::string::npos) << link;
  EXPECT_NE(link.find("nolearning"), std::string::npos) << link;
  EXPECT_NE(link.find("mtu 1450"), std::string::npos) << link;
  EXPECT_NE(link.find("link/ether " + mac_a), std::string::npos) << link;
  EXPECT_NE(link.find("state UNKNOWN"), std::string::npos) << link;
  EXPECT_NE(Out("ip -n " + a + " -4 addr show dev vxlan.calico").find("inet 198.19.1.0/32"),
            std::string::npos);

  std::string routes = Out("ip -n " + a + " route");
  EXPECT_NE(routes.find("198.19.2.0/26 via 198.19.2.0 dev vxlan.calico proto 80 onlink"),
            std::string::npos)
      << routes;
  EXPECT_EQ(routes.find("198.19.1.0/26"), std::string::npos) << "own block: " << routes;
  std::string fdb = Out("bridge -n " + a + " fdb show dev vxlan.calico");
  EXPECT_NE(fdb.find(mac_b + " dst 198.18.0.2 self permanent"), std::string::npos) << fdb;
  std::string neigh = Out("ip -n " + a + " neigh show dev vxlan.calico");
  EXPECT_NE(neigh.find("198.19.2.0 lladdr " + mac_b + " PERMANENT"), std::string::npos) << neigh;

  long tx_a = TxPackets(host_a_);
  long tx_b = TxPackets(host_b_);
  EXPECT_TRUE(Ping(wl_a_, "198.19.2.2"));
  EXPECT_TRUE(Ping(wl_b_, "198.19.1.2"));
  EXPECT_GT(TxPackets(host_a_), tx_a) << "the request did not cross vxlan.calico";
  EXPECT_GT(TxPackets(host_b_), tx_b) << "the reply did not cross vxlan.calico";

  // A second Apply with the same state writes nothing and changes nothing.
  std::string before = routes + fdb + neigh + link;
  EXPECT_EQ(Apply(prog_a_, host_a_, ComputeVxlanState("a", inputs_)), 0);
  EXPECT_EQ(Apply(prog_b_, host_b_, ComputeVxlanState("b", inputs_)), 0);
  EXPECT_EQ(Out("ip -n " + a + " route") + Out("bridge -n " + a + " fdb show dev vxlan.calico") +
                Out("ip -n " + a + " neigh show dev vxlan.calico") +
                Out("ip -n " + a + " -d link show vxlan.calico"),
            before);
}

TEST_F(VxlanProgrammerTest, RemovesStaleEntriesAndRepairsDrift) {
  const std::string a = host_a_.name();
  ApplyBoth();
  // Leftovers of a node that went away, and someone else's route on the device.
  ASSERT_EQ(
      Sh("ip -n " + a + " route add 198.19.9.0/26 via 198.19.9.0 dev vxlan.calico onlink proto 80"),
      0);
  ASSERT_EQ(Sh("ip -n " + a + " route add 198.19.8.0/26 via 198.19.8.0 dev vxlan.calico onlink"),
            0);
  ASSERT_EQ(Sh("bridge -n " + a + " fdb append 66:00:00:00:00:09 dev vxlan.calico dst 198.18.0.9"),
            0);
  ASSERT_EQ(Sh("ip -n " + a +
               " neigh add 198.19.9.0 lladdr 66:00:00:00:00:09 dev vxlan.calico nud permanent"),
            0);
  // Drift on the device.
  ASSERT_EQ(Sh("ip -n " + a + " link set vxlan.calico mtu 1300"), 0);
  ASSERT_EQ(Sh("ip -n " + a + " addr add 198.19.7.7/32 dev vxlan.calico"), 0);

  EXPECT_GT(Apply(prog_a_, host_a_, ComputeVxlanState("a", inputs_)), 0);
  std::string routes = Out("ip -n " + a + " route");
  EXPECT_EQ(routes.find("198.19.9.0/26"), std::string::npos) << routes;
  EXPECT_NE(routes.find("198.19.8.0/26"), std::string::npos) << "not ours (proto boot): " << routes;
  EXPECT_NE(routes.find("198.19.2.0/26 via 198.19.2.0 dev vxlan.calico proto 80 onlink"),
            std::string::npos);
  EXPECT_EQ(Out("bridge -n " + a + " fdb show dev vxlan.calico").find("66:00:00:00:00:09"),
            std::string::npos);
  EXPECT_EQ(Out("ip -n " + a + " neigh show dev vxlan.calico").find("198.19.9.0"),
            std::string::npos);
  std::string link = Out("ip -n " + a + " -d link show vxlan.calico");
  EXPECT_NE(link.find("mtu 1450"), std::string::npos) << link;
  EXPECT_EQ(Out("ip -n " + a + " -4 addr show dev vxlan.calico").find("198.19.7.7"),
            std::string::npos);
  EXPECT_EQ(Apply(prog_a_, host_a_, ComputeVxlanState("a", inputs_)), 0);

  // A device with a wrong VNI is recreated.
  ASSERT_EQ(Sh("ip -n " + a + " link del vxlan.calico"), 0);
  ASSERT_EQ(Sh("ip -n " + a +
               " link add vxlan.calico type vxlan id 7 dstport 4789 local 198.18.0.1 dev eth0"),
            0);
  EXPECT_GT(Apply(prog_a_, host_a_, ComputeVxlanState("a", inputs_)), 0);
  link = Out("ip -n " + a + " -d link show vxlan.calico");
  EXPECT_NE(link.find("vxlan id 4096"), std::string::npos) << link;
  EXPECT_NE(link.find("nolearning"), std::string::npos) << link;
  EXPECT_TRUE(Ping(wl_a_, "198.19.2.2"));

  // A remote node leaves: its VTEP entries and routes go.
  inputs_.nodes.erase("b");
  EXPECT_GT(Apply(prog_a_, host_a_, ComputeVxlanState("a", inputs_)), 0);
  EXPECT_EQ(Out("ip -n " + a + " route").find("198.19.2.0/26"), std::string::npos);
  EXPECT_EQ(Out("bridge -n " + a + " fdb show dev vxlan.calico").find("dst 198.18.0.2"),
            std::string::npos);
  EXPECT_EQ(Out("ip -n " + a + " neigh show dev vxlan.calico").find("198.19.2.0"),
            std::string::npos);
}

TEST_F(VxlanProgrammerTest, CrossSubnetRoutesSameSubnetBlocksWithoutEncapsulation) {
  const std::string a = host_a_.name();
  inputs_.pools["p"].vxlan_mode = EncapMode::kCrossSubnet;
  ApplyBoth();
  std::string routes = Out("ip -n " + a + " route");
  EXPECT_NE(routes.find("198.19.2.0/26 via 198.18.0.2 dev eth0 proto 80 onlink"), std::string::npos)
      << routes;
  long tx_a = TxPackets(host_a_);
  EXPECT_TRUE(Ping(wl_a_, "198.19.2.2"));
  EXPECT_EQ(TxPackets(host_a_), tx_a) << "same subnet: no encapsulation";
  EXPECT_EQ(Apply(prog_a_, host_a_, ComputeVxlanState("a", inputs_)), 0);

  // Back to Always: the plain route is replaced by the tunnel route.
  inputs_.pools["p"].vxlan_mode = EncapMode::kAlways;
  ApplyBoth();
  routes = Out("ip -n " + a + " route");
  EXPECT_EQ(routes.find("via 198.18.0.2 dev eth0"), std::string::npos) << routes;
  EXPECT_NE(routes.find("198.19.2.0/26 via 198.19.2.0 dev vxlan.calico proto 80 onlink"),
            std::string::npos)
      << routes;
  tx_a = TxPackets(host_a_);
  EXPECT_TRUE(Ping(wl_a_, "198.19.2.2"));
  EXPECT_GT(TxPackets(host_a_), tx_a);
}

TEST_F(VxlanProgrammerTest, DisablingRemovesDeviceRoutesAndFdb) {
  const std::string a = host_a_.name();
  inputs_.pools["p"].vxlan_mode = EncapMode::kCrossSubnet;
  ApplyBoth();
  ASSERT_NE(Out("ip -n " + a + " route").find("198.19.2.0/26 via 198.18.0.2 dev eth0"),
            std::string::npos);
  inputs_.pools["p"].vxlan_mode = EncapMode::kNever;
  VxlanState off = ComputeVxlanState("a", inputs_);
  ASSERT_FALSE(off.enabled);
  EXPECT_GT(Apply(prog_a_, host_a_, off), 0);
  EXPECT_NE(Sh("ip -n " + a + " link show vxlan.calico"), 0) << "device still there";
  std::string routes = Out("ip -n " + a + " route");
  EXPECT_EQ(routes.find("198.19.2.0/26"), std::string::npos) << routes;
  EXPECT_EQ(Out("bridge -n " + a + " fdb show").find("dst 198.18.0.2"), std::string::npos);
  EXPECT_FALSE(Ping(wl_a_, "198.19.2.2"));
  EXPECT_EQ(Apply(prog_a_, host_a_, off), 0) << "disabled and already clean";
}

// FelixConfiguration vxlanEnabled: true with no VXLAN pool: the device and the peer's VTEP are
// programmed all the same (Felix's VXLANEnabled), the workloads' blocks are not routed through it
// (their pool does not use VXLAN); unset (false here), no device.
TEST_F(VxlanProgrammerTest, VxlanEnabledForcesTheDeviceWithoutAVxlanPool) {
  const std::string a = host_a_.name();
  inputs_.pools["p"].vxlan_mode = EncapMode::kNever;
  VxlanState auto_state = ComputeVxlanState("a", inputs_);
  ASSERT_FALSE(auto_state.enabled);
  Apply(prog_a_, host_a_, auto_state);
  EXPECT_NE(Sh("ip -n " + a + " link show vxlan.calico"), 0) << "no VXLAN pool: no device";
  VxlanState forced = ComputeVxlanState("a", inputs_, {}, /*forced=*/true);
  ASSERT_TRUE(forced.enabled);
  EXPECT_GT(Apply(prog_a_, host_a_, forced), 0);
  std::string link = Out("ip -n " + a + " -d link show vxlan.calico");
  EXPECT_NE(link.find("vxlan id 4096"), std::string::npos) << link;
  EXPECT_NE(Out("bridge -n " + a + " fdb show dev vxlan.calico").find("dst 198.18.0.2"),
            std::string::npos);
  std::string routes = Out("ip -n " + a + " route");
  EXPECT_NE(routes.find("198.19.2.0 dev vxlan.calico"), std::string::npos) << routes;
  EXPECT_EQ(routes.find("198.19.2.0/26"), std::string::npos) << routes;
}

TEST_F(VxlanProgrammerTest, MissingParentAddressIsAnError) {
  VxlanState s = ComputeVxlanState("a", inputs_);
  s.local.parent_ip = IP("203.0.113.1");
  auto ns = dataplane::NetnsFd::Open(host_a_.path());
  ASSERT_TRUE(ns);
  Status st = dataplane::RunInNetns(*ns, [&] { return prog_a_.Apply(s); });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kNotFound);
}

// Felix's overlay filter (overlay_filter.h, policy::RenderOptions::overlay) in host a's
// nftables: VXLAN from host b, whose VTEP a knows, is accepted and the workloads talk; once b is
// no longer an allowed source its VXLAN packets are dropped in cali-INPUT (the overlay breaks,
// the drop rule counts them) while a's own VXLAN packets still leave (cali-OUTPUT's allow).
TEST_F(VxlanProgrammerTest, OverlayFilterAcceptsVxlanOnlyFromKnownHosts) {
  if (Sh("command -v nft >/dev/null") != 0) GTEST_SKIP() << "needs nft";
  ApplyBoth();
  policy::Model model;
  model.endpoints.push_back(policy::Endpoint{.name = "wa",
                                             .interface_name = "cali1",
                                             .addresses = {Net("198.19.1.2/32")},
                                             .profiles = {"allow"}});
  model.profiles.push_back(
      policy::Profile{.id = "allow",
                      .ingress = policy::Json::parse(R"([{"action": "Allow"}])"),
                      .egress = policy::Json::parse(R"([{"action": "Allow"}])")});
  const VxlanState state_a = ComputeVxlanState("a", inputs_);
  const auto load = [&](const policy::RenderOptions& options) {
    auto text = policy::RenderRuleset(model, options);
    ASSERT_TRUE(text) << text.error().message();
    const std::string path = std::filesystem::temp_directory_path() /
                             ("calico-vxlan-filter-" + std::to_string(getpid()) + ".nft");
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(text->data(), 1, text->size(), f);
    std::fclose(f);
    std::string out;
    const int rc = host_a_.Exec("nft -f " + path, &out);
    std::filesystem::remove(path);
    ASSERT_EQ(rc, 0) << out;
  };
  const auto counter = [&](const std::string& chain, const std::string& comment) -> long {
    const std::string out = host_a_.ExecOut("nft list chain inet calico " + chain);
    const std::regex re("counter packets ([0-9]+) bytes [0-9]+ .*comment \"" + comment + "\"");
    std::smatch m;
    return std::regex_search(out, m, re) ? std::stol(m[1].str()) : -1;
  };
  policy::RenderOptions options;
  options.overlay = ComputeOverlayFilter(inputs_, &state_a, nullptr, nullptr);
  ASSERT_EQ(options.overlay.vxlan_sources, std::vector<net::CIDR>{Net("198.18.0.2/32")});
  load(options);
  EXPECT_TRUE(Ping(wl_a_, "198.19.2.2"));
  EXPECT_GT(counter("cali-INPUT", "Allow IPv4 VXLAN packets from allowed hosts"), 0);
  EXPECT_GT(counter("cali-OUTPUT", "Allow IPv4 VXLAN packets to other allowed hosts"), 0);
  EXPECT_EQ(counter("cali-INPUT", "Drop IPv4 VXLAN packets from non-allowed hosts"), 0);

  // b is not a known VTEP any more (as when its Node is gone): its VXLAN is dropped.
  options.overlay.vxlan_sources.clear();
  load(options);
  EXPECT_FALSE(Ping(wl_a_, "198.19.2.2"));
  EXPECT_GT(counter("cali-INPUT", "Drop IPv4 VXLAN packets from non-allowed hosts"), 0);
  // The request still left a (tunnelled): only what came in from b was refused.
  EXPECT_GT(TxPackets(host_a_), 0);

  // Known again: the overlay works again.
  options.overlay.vxlan_sources = {Net("198.18.0.2/32")};
  load(options);
  EXPECT_TRUE(Ping(wl_a_, "198.19.2.2"));
}

}  // namespace
}  // namespace calico::agent
