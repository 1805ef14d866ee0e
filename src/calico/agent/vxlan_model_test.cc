// ComputeVxlanState against Felix's VXLAN resolver rules (reference §3.7).
#include "calico/agent/vxlan_model.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace calico::agent {
namespace {

using Json = nlohmann::json;

net::IPAddr IP(const char* s) {
  return *net::IPAddr::Parse(s);
}
net::CIDR Net(const char* s) {
  return *net::CIDR::Parse(s);
}
net::MAC Mac(const char* s) {
  return *net::MAC::Parse(s);
}

std::string Hex(const std::array<uint8_t, 20>& d) {
  std::string out;
  for (uint8_t b : d) {
    constexpr std::string_view kDigits = "0123456789abcdef";
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

class VxlanModelTest : public ::testing::Test {
 protected:
  void Node(const std::string& name, const char* parent, const char* tunnel,
            const char* mac = nullptr) {
    VxlanNodeInfo info;
    if (parent != nullptr) info.parent = net::CIDR::ParseNet(parent);
    if (tunnel != nullptr) info.tunnel_ip = IP(tunnel);
    if (mac != nullptr) info.mac = Mac(mac);
    in_.nodes[name] = info;
  }
  void Pool(const std::string& name, const char* cidr, EncapMode mode) {
    in_.pools[name] = {Net(cidr), mode};
  }
  void Block(const char* cidr, const std::string& node) { in_.block_owner[Net(cidr)] = node; }

  VxlanInputs in_;
};

TEST(Sha1Test, KnownVectors) {
  EXPECT_EQ(Hex(Sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Hex(Sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Hex(Sha1(std::string(1000, 'a'))), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
}

TEST(VtepMacTest, FelixDerivation) {
  // 'f' (0x66: locally administered, unicast) + SHA-1(node name)[0:5].
  EXPECT_EQ(DeriveVtepMac("node1").String(), "66:f9:37:c3:7e:94");
  EXPECT_EQ(DeriveVtepMac("host-a").String(), "66:b7:a0:7e:28:cc");
  EXPECT_EQ(DeriveVtepMac("node1"), DeriveVtepMac("node1"));
  EXPECT_NE(DeriveVtepMac("node1"), DeriveVtepMac("node2"));
}

TEST_F(VxlanModelTest, AlwaysPoolRoutesRemoteBlocksThroughTheTunnel) {
  Pool("p", "10.65.0.0/16", EncapMode::kAlways);
  Node("a", "192.168.1.1/24", "10.65.0.0", "66:00:00:00:00:0a");
  Node("b", "192.168.1.2/24", "10.65.1.0", "66:00:00:00:00:0b");
  Node("c", "192.168.2.3/24", "10.65.2.0");
  Block("10.65.0.0/26", "a");
  Block("10.65.1.0/26", "b");
  Block("10.65.2.0/26", "c");
  Block("10.65.2.64/26", "c");

  VxlanState s = ComputeVxlanState("a", in_);
  ASSERT_TRUE(s.enabled);
  EXPECT_EQ(s.local, (LocalVtep{IP("192.168.1.1"), IP("10.65.0.0"), Mac("66:00:00:00:00:0a")}));
  ASSERT_EQ(s.remotes.size(), 2u);
  EXPECT_EQ(s.remotes[0],
            (RemoteVtep{"b", IP("192.168.1.2"), IP("10.65.1.0"), Mac("66:00:00:00:00:0b")}));
  EXPECT_EQ(s.remotes[1],
            (RemoteVtep{"c", IP("192.168.2.3"), IP("10.65.2.0"), DeriveVtepMac("c")}));
  std::vector<RemoteRoute> want = {
      {Net("10.65.1.0/26"), "b", IP("10.65.1.0"), true},
      {Net("10.65.2.0/26"), "c", IP("10.65.2.0"), true},
      {Net("10.65.2.64/26"), "c", IP("10.65.2.0"), true},
  };
  EXPECT_EQ(s.routes, want);  // own block 10.65.0.0/26 skipped
  EXPECT_EQ(s.pools, std::vector<net::CIDR>{Net("10.65.0.0/16")});
  EXPECT_EQ(s.options.vni, 4096u);
  EXPECT_EQ(s.options.port, 4789);
}

TEST_F(VxlanModelTest, CrossSubnetUsesThePlainRouteInsideTheSubnet) {
  Pool("p", "10.65.0.0/16", EncapMode::kCrossSubnet);
  Node("a", "192.168.1.1/24", "10.65.0.0");
  Node("b", "192.168.1.2/24", "10.65.1.0");  // same /24 as a
  Node("c", "192.168.2.3/24", "10.65.2.0");  // another subnet
  Block("10.65.0.0/26", "a");
  Block("10.65.1.0/26", "b");
  Block("10.65.2.0/26", "c");
  VxlanState s = ComputeVxlanState("a", in_);
  ASSERT_TRUE(s.enabled);
  std::vector<RemoteRoute> want = {
      {Net("10.65.1.0/26"), "b", IP("192.168.1.2"), false},
      {Net("10.65.2.0/26"), "c", IP("10.65.2.0"), true},
  };
  EXPECT_EQ(s.routes, want);
  EXPECT_EQ(s.remotes.size(), 2u);  // VTEPs are programmed for every remote node
}

TEST_F(VxlanModelTest, NeverPoolsDisableVxlan) {
  Pool("p", "10.65.0.0/16", EncapMode::kNever);
  Node("a", "192.168.1.1/24", "10.65.0.0");
  Node("b", "192.168.1.2/24", "10.65.1.0");
  Block("10.65.1.0/26", "b");
  VxlanState s = ComputeVxlanState("a", in_);
  EXPECT_FALSE(s.enabled);
  EXPECT_TRUE(s.remotes.empty());
  EXPECT_TRUE(s.routes.empty());
  EXPECT_TRUE(s.pools.empty());
}

// vxlanEnabled: true (Felix's VXLANEnabled) turns VXLAN on without a VXLAN pool: the remote VTEPs
// and routes to their tunnel addresses; no block routes (no block is in a VXLAN pool); and only
// once this node has a VTEP.
TEST_F(VxlanModelTest, ForcedOnWithoutAVxlanPool) {
  Pool("p", "10.65.0.0/16", EncapMode::kNever);
  Node("a", "192.168.1.1/24", "10.65.0.0");
  Node("b", "192.168.1.2/24", "10.65.1.0");
  Block("10.65.1.0/26", "b");
  VxlanState s = ComputeVxlanState("a", in_, {}, /*forced=*/true);
  EXPECT_TRUE(s.enabled);
  ASSERT_EQ(s.remotes.size(), 1u);
  EXPECT_EQ(s.remotes[0].node, "b");
  ASSERT_EQ(s.routes.size(), 1u);
  EXPECT_EQ(s.routes[0].dst, Net("10.65.1.0/32"));
  EXPECT_FALSE(s.routes[0].via.has_value());
  Node("a", "192.168.1.1/24", nullptr);  // No tunnel address yet: no VTEP, nothing to program.
  EXPECT_FALSE(ComputeVxlanState("a", in_, {}, /*forced=*/true).enabled);
}

TEST_F(VxlanModelTest, OnlyBlocksInsideVxlanPoolsAreRouted) {
  Pool("vx", "10.65.0.0/16", EncapMode::kAlways);
  Pool("plain", "10.66.0.0/16", EncapMode::kNever);
  Node("a", "192.168.1.1/24", "10.65.0.0");
  Node("b", "192.168.2.2/24", "10.65.1.0");
  Block("10.65.1.0/26", "b");
  Block("10.66.1.0/26", "b");
  Block("10.67.1.0/26", "b");  // in no pool at all
  VxlanState s = ComputeVxlanState("a", in_);
  ASSERT_EQ(s.routes.size(), 1u);
  EXPECT_EQ(s.routes[0].dst, Net("10.65.1.0/26"));
}

TEST_F(VxlanModelTest, IncompleteVtepsAreSkipped) {
  Pool("p", "10.65.0.0/16", EncapMode::kAlways);
  Node("a", "192.168.1.1/24", "10.65.0.0");
  Node("no-tunnel", "192.168.1.2/24", nullptr);
  Node("no-ip", nullptr, "10.65.2.0");
  Block("10.65.1.0/26", "no-tunnel");
  Block("10.65.2.0/26", "no-ip");
  Block("10.65.3.0/26", "unknown-node");
  VxlanState s = ComputeVxlanState("a", in_);
  ASSERT_TRUE(s.enabled);
  EXPECT_TRUE(s.remotes.empty());
  EXPECT_TRUE(s.routes.empty());
}

TEST_F(VxlanModelTest, IncompleteLocalVtepDisables) {
  Pool("p", "10.65.0.0/16", EncapMode::kAlways);
  Node("a", "192.168.1.1/24", nullptr);
  Node("b", "192.168.1.2/24", "10.65.1.0");
  Block("10.65.1.0/26", "b");
  EXPECT_FALSE(ComputeVxlanState("a", in_).enabled);
}

TEST_F(VxlanModelTest, BorrowedTunnelAddressGetsADirectRoute) {
  Pool("p", "10.65.0.0/16", EncapMode::kAlways);
  Node("a", "192.168.1.1/24", "10.65.0.0");
  Node("b", "192.168.1.2/24", "10.65.0.5");  // borrowed from a's block
  Node("c", "192.168.1.3/24", "10.65.3.0");  // in a /32 block of its own
  Block("10.65.0.0/26", "a");
  Block("10.65.1.0/26", "b");
  Block("10.65.3.0/32", "c");
  VxlanState s = ComputeVxlanState("a", in_);
  std::vector<RemoteRoute> want = {
      {Net("10.65.0.5/32"), "b", std::nullopt, true},
      {Net("10.65.1.0/26"), "b", IP("10.65.0.5"), true},
      {Net("10.65.3.0/32"), "c", std::nullopt, true},
  };
  EXPECT_EQ(s.routes, want);
}

TEST_F(VxlanModelTest, IngestsDatastoreKeys) {
  VxlanInputs in;
  Json node_a{{"kind", "Node"},
              {"metadata", {{"name", "a"}}},
              {"spec",
               {{"bgp", {{"ipv4Address", "198.18.0.1/24"}}},
                {"ipv4VXLANTunnelAddr", "198.19.1.0"},
                {"vxlanTunnelMACAddr", "66:aa:bb:cc:dd:ee"}}}};
  Json node_b{
      {"kind", "Node"},
      {"metadata", {{"name", "b"}}},
      {"spec",
       {{"bgp", {{"ipv4Address", "198.18.0.2/24"}}}, {"ipv4VXLANTunnelAddr", "198.19.2.0"}}}};
  Json pool{{"kind", "IPPool"},
            {"metadata", {{"name", "p"}}},
            {"spec", {{"cidr", "198.19.0.0/16"}, {"vxlanMode", "Always"}}}};
  EXPECT_TRUE(in.Ingest("/calico/resources/v3/projectcalico.org/nodes/a", node_a.dump()));
  EXPECT_TRUE(in.Ingest("/calico/resources/v3/projectcalico.org/nodes/b", node_b.dump()));
  EXPECT_TRUE(in.Ingest("/calico/resources/v3/projectcalico.org/ippools/p", pool.dump()));
  EXPECT_TRUE(in.Ingest("/calico/ipam/v2/host/b/ipv4/block/198.19.2.0-26",
                        R"({"state":"confirmed","deleted":false})"));
  EXPECT_TRUE(in.Ingest("/calico/ipam/v2/assignment/ipv4/block/198.19.3.0-26",
                        R"({"cidr":"198.19.3.0/26","affinity":"host:b","allocations":[]})"));
  EXPECT_FALSE(in.Ingest("/calico/resources/v3/projectcalico.org/profiles/x", "{}"));

  EXPECT_EQ(in.nodes["a"].parent, Net("198.18.0.1/24"));
  EXPECT_EQ(in.nodes["a"].mac, Mac("66:aa:bb:cc:dd:ee"));
  EXPECT_EQ(in.OwnerOf(Net("198.19.2.0/26")), "b");
  EXPECT_EQ(in.OwnerOf(Net("198.19.3.0/26")), "b");

  VxlanState s = ComputeVxlanState("a", in);
  ASSERT_TRUE(s.enabled);
  ASSERT_EQ(s.routes.size(), 2u);
  EXPECT_EQ(s.routes[0], (RemoteRoute{Net("198.19.2.0/26"), "b", IP("198.19.2.0"), true}));
  EXPECT_EQ(s.routes[1], (RemoteRoute{Net("198.19.3.0/26"), "b", IP("198.19.2.0"), true}));

  // The block's own affinity wins over an affinity key; deletions remove.
  EXPECT_TRUE(in.Ingest("/calico/ipam/v2/assignment/ipv4/block/198.19.2.0-26",
                        R"({"cidr":"198.19.2.0/26","affinity":"host:a"})"));
  EXPECT_EQ(in.OwnerOf(Net("198.19.2.0/26")), "a");
  EXPECT_TRUE(in.Remove("/calico/ipam/v2/assignment/ipv4/block/198.19.2.0-26"));
  EXPECT_EQ(in.OwnerOf(Net("198.19.2.0/26")), "b");
  EXPECT_TRUE(in.Remove("/calico/ipam/v2/host/b/ipv4/block/198.19.2.0-26"));
  EXPECT_EQ(in.OwnerOf(Net("198.19.2.0/26")), "");
  EXPECT_TRUE(in.Ingest("/calico/ipam/v2/assignment/ipv4/block/198.19.3.0-26",
                        R"({"cidr":"198.19.3.0/26","affinity":"host:b","deleted":true})"));
  EXPECT_EQ(in.OwnerOf(Net("198.19.3.0/26")), "");
  EXPECT_TRUE(in.Remove("/calico/resources/v3/projectcalico.org/ippools/p"));
  EXPECT_FALSE(ComputeVxlanState("a", in).enabled);
}

// IPv6 VXLAN (vxlan-v6.calico, Felix's second vxlanManager): read from the Nodes' IPv6 fields and
// IPv6 blocks, independent of IPv4: a node with an IPv4 VTEP only is no IPv6 VTEP, IPv4 pools
// do not turn IPv6 VXLAN on, and vxlanEnabled does not force it.
TEST_F(VxlanModelTest, Ipv6OverlayFromTheDatastore) {
  VxlanInputs in;
  auto node = [](const char* name, const char* v4, const char* v6, const char* tunnel6,
                 const char* mac6) {
    Json bgp{{"ipv4Address", v4}};
    if (v6 != nullptr) bgp["ipv6Address"] = v6;
    Json spec{{"bgp", bgp}, {"ipv4VXLANTunnelAddr", "198.19.9.9"}};
    if (tunnel6 != nullptr) spec["ipv6VXLANTunnelAddr"] = tunnel6;
    if (mac6 != nullptr) spec["vxlanTunnelMACAddrV6"] = mac6;
    return Json{{"kind", "Node"}, {"metadata", {{"name", name}}}, {"spec", spec}}.dump();
  };
  const std::string nodes = "/calico/resources/v3/projectcalico.org/nodes/";
  EXPECT_TRUE(in.Ingest(
      nodes + "a", node("a", "198.18.0.1/24", "fd00:18::1/64", "fd00:65::", "66:aa:bb:cc:dd:ee")));
  EXPECT_TRUE(in.Ingest(nodes + "b",
                        node("b", "198.18.0.2/24", "fd00:18::2/64", "fd00:65:0:1::", nullptr)));
  EXPECT_TRUE(in.Ingest(nodes + "c",
                        node("c", "198.18.1.3/24", "fd00:19::3/64", "fd00:65:0:2::", nullptr)));
  EXPECT_TRUE(
      in.Ingest(nodes + "v4only", node("v4only", "198.18.0.4/24", nullptr, nullptr, nullptr)));
  Json pool6{{"kind", "IPPool"},
             {"metadata", {{"name", "p6"}}},
             {"spec", {{"cidr", "fd00:65::/48"}, {"vxlanMode", "Always"}}}};
  Json pool4{{"kind", "IPPool"},
             {"metadata", {{"name", "p4"}}},
             {"spec", {{"cidr", "198.19.0.0/16"}, {"vxlanMode", "Never"}}}};
  EXPECT_TRUE(in.Ingest("/calico/resources/v3/projectcalico.org/ippools/p6", pool6.dump()));
  EXPECT_TRUE(in.Ingest("/calico/resources/v3/projectcalico.org/ippools/p4", pool4.dump()));
  EXPECT_TRUE(
      in.Ingest("/calico/ipam/v2/host/b/ipv6/block/fd00:65:0:1::-122", R"({"state":"confirmed"})"));
  EXPECT_TRUE(in.Ingest("/calico/ipam/v2/assignment/ipv6/block/fd00:65:0:2::-122",
                        R"({"cidr":"fd00:65:0:2::/122","affinity":"host:c","allocations":[]})"));
  EXPECT_TRUE(
      in.Ingest("/calico/ipam/v2/host/a/ipv6/block/fd00:65::-122", R"({"state":"confirmed"})"));
  EXPECT_EQ(in.OwnerOf(Net("fd00:65:0:1::/122")), "b");
  EXPECT_EQ(in.nodes["a"].parent6, Net("fd00:18::1/64"));
  EXPECT_EQ(in.nodes["a"].tunnel_ip6, IP("fd00:65::"));

  VxlanOptions options{.mtu = 1400, .mtu_v6 = 1380};
  VxlanState s = ComputeVxlanStateV6("a", in, options);
  ASSERT_TRUE(s.enabled);
  EXPECT_EQ(s.family, 6);
  EXPECT_EQ(VxlanDeviceName(s.family), "vxlan-v6.calico");
  EXPECT_EQ(s.options.mtu_v6, 1380);
  EXPECT_EQ(s.local, (LocalVtep{IP("fd00:18::1"), IP("fd00:65::"), Mac("66:aa:bb:cc:dd:ee")}));
  // v4only has no IPv6 VTEP; b's MAC is Felix's derived IPv6 one (name + "-v6").
  std::vector<RemoteVtep> remotes = {
      {"b", IP("fd00:18::2"), IP("fd00:65:0:1::"), DeriveVtepMac("b-v6")},
      {"c", IP("fd00:19::3"), IP("fd00:65:0:2::"), DeriveVtepMac("c-v6")},
  };
  EXPECT_EQ(s.remotes, remotes);
  std::vector<RemoteRoute> routes = {
      {Net("fd00:65:0:1::/122"), "b", IP("fd00:65:0:1::"), true},
      {Net("fd00:65:0:2::/122"), "c", IP("fd00:65:0:2::"), true},
  };
  EXPECT_EQ(s.routes, routes);
  EXPECT_EQ(s.pools, std::vector<net::CIDR>{Net("fd00:65::/48")});

  // The IPv4 overlay is off (its pool does not use VXLAN) and stays off for IPv6's blocks even
  // when forced; forcing IPv4 does not touch IPv6.
  EXPECT_FALSE(ComputeVxlanState("a", in).enabled);
  VxlanState forced4 = ComputeVxlanState("a", in, {}, /*forced=*/true);
  ASSERT_TRUE(forced4.enabled);
  EXPECT_EQ(forced4.family, 4);
  for (const RemoteRoute& r : forced4.routes) {
    EXPECT_EQ(r.dst.family(), 4) << r.dst.String();
  }

  // CrossSubnet: b shares a's IPv6 subnet (plain route via its address), c does not.
  pool6["spec"]["vxlanMode"] = "CrossSubnet";
  EXPECT_TRUE(in.Ingest("/calico/resources/v3/projectcalico.org/ippools/p6", pool6.dump()));
  s = ComputeVxlanStateV6("a", in, options);
  routes = {
      {Net("fd00:65:0:1::/122"), "b", IP("fd00:18::2"), false},
      {Net("fd00:65:0:2::/122"), "c", IP("fd00:65:0:2::"), true},
  };
  EXPECT_EQ(s.routes, routes);

  // A tunnel address outside its node's blocks gets a direct /128 route.
  EXPECT_TRUE(in.Remove("/calico/ipam/v2/assignment/ipv6/block/fd00:65:0:2::-122"));
  s = ComputeVxlanStateV6("a", in, options);
  ASSERT_EQ(s.routes.size(), 2u);
  EXPECT_EQ(s.routes[1], (RemoteRoute{Net("fd00:65:0:2::/128"), "c", std::nullopt, true}));

  // No IPv6 VXLAN pool: off.
  EXPECT_TRUE(in.Remove("/calico/resources/v3/projectcalico.org/ippools/p6"));
  EXPECT_FALSE(ComputeVxlanStateV6("a", in, options).enabled);
}

// A node without an IPv6 VTEP of its own has no IPv6 overlay, whatever the pools.
TEST_F(VxlanModelTest, Ipv6NeedsTheLocalIpv6Vtep) {
  in_.pools["p6"] = {Net("fd00:65::/48"), EncapMode::kAlways};
  VxlanNodeInfo a;
  a.parent = Net("198.18.0.1/24");
  a.tunnel_ip = IP("10.65.0.0");
  a.parent6 = Net("fd00:18::1/64");
  in_.nodes["a"] = a;  // no ipv6VXLANTunnelAddr yet
  EXPECT_FALSE(ComputeVxlanStateV6("a", in_).enabled);
  in_.nodes["a"].tunnel_ip6 = IP("fd00:65::");
  EXPECT_TRUE(ComputeVxlanStateV6("a", in_).enabled);
}

}  // namespace
}  // namespace calico::agent
