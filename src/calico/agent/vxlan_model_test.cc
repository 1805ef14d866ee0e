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

}  // namespace
}  // namespace calico::agent
