// calico-node's VXLAN tunnel address allocation (reference §4.12) on the in-memory datastore.
#include "calico/agent/tunnel_addr.h"

#include <gtest/gtest.h>

#include "calico/agent/vxlan_model.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::agent {
namespace {

using Json = model::Json;

// Calico claims a block of the pool for the node and hands out its first address (ordinal 0).
bool IsFirstOfBlockIn(const std::string& addr, const char* pool) {
  auto ip = net::IPAddr::Parse(addr);
  if (!ip) return false;
  return net::CIDR::Parse(pool)->Contains(*ip) && net::CIDR(*ip, 26).IsStrictlyMasked();
}

class TunnelAddrTest : public ::testing::Test {
 protected:
  void AddPool(const std::string& name, const std::string& cidr, const std::string& vxlan_mode,
               const std::string& node_selector = "all()", bool disabled = false) {
    model::Resource r("IPPool", name);
    r.spec() = Json{{"cidr", cidr},
                    {"blockSize", 26},
                    {"vxlanMode", vxlan_mode},
                    {"ipipMode", "Never"},
                    {"nodeSelector", node_selector},
                    {"disabled", disabled}};
    auto created = client_.Apply(r);
    ASSERT_TRUE(created) << created.error().message();
  }
  void AddNode(const std::string& name, Json labels = Json::object()) {
    model::Resource r("Node", name);
    r.metadata()["labels"] = std::move(labels);
    r.spec() = Json{{"bgp", {{"ipv4Address", "198.18.0.1/24"}}}};
    auto created = client_.Create(r);
    ASSERT_TRUE(created) << created.error().message();
  }
  Json Spec(const std::string& node) {
    auto r = client_.Get("Node", "", node);
    EXPECT_TRUE(r) << r.error().message();
    return r ? r->spec() : Json::object();
  }
  std::string TunnelAddr(const std::string& node) {
    return Spec(node).value("ipv4VXLANTunnelAddr", "");
  }

  datastore::MemBackend backend_;
  datastore::Client client_{backend_};
  ipam::IpamClient ipam_{backend_};
};

TEST_F(TunnelAddrTest, AssignsFromTheVxlanPoolWithCalicosHandleAndAttributes) {
  AddPool("vx", "10.65.0.0/16", "Always");
  AddNode("node1");
  ASSERT_TRUE(EnsureVxlanTunnelAddress(client_, ipam_, "node1"));
  std::string addr = TunnelAddr("node1");
  ASSERT_TRUE(IsFirstOfBlockIn(addr, "10.65.0.0/16")) << addr;
  EXPECT_EQ(Spec("node1").value("vxlanTunnelMACAddr", ""), DeriveVtepMac("node1").String());

  auto ip = *net::IPAddr::Parse(addr);
  auto attr = ipam_.GetAssignmentAttributes(ip);
  ASSERT_TRUE(attr && attr->has_value());
  EXPECT_EQ((*attr)->handle_id, "vxlan-tunnel-addr-node1");
  EXPECT_EQ((*attr)->secondary.value("node", ""), "node1");
  EXPECT_EQ((*attr)->secondary.value("type", ""), "vxlanTunnelAddress");
  auto held = ipam_.IPsByHandle("vxlan-tunnel-addr-node1");
  ASSERT_TRUE(held);
  EXPECT_EQ(*held, std::vector<net::IPAddr>{ip});
}

TEST_F(TunnelAddrTest, IdempotentAndKeepsAnExistingMac) {
  AddPool("vx", "10.65.0.0/16", "CrossSubnet");
  AddNode("node1");
  auto node = *client_.Get("Node", "", "node1");
  node.spec()["vxlanTunnelMACAddr"] = "66:01:02:03:04:05";
  ASSERT_TRUE(client_.Update(node));
  ASSERT_TRUE(EnsureVxlanTunnelAddress(client_, ipam_, "node1"));
  std::string first = TunnelAddr("node1");
  std::string rv = client_.Get("Node", "", "node1")->resource_version();
  ASSERT_TRUE(EnsureVxlanTunnelAddress(client_, ipam_, "node1"));
  EXPECT_EQ(TunnelAddr("node1"), first);
  EXPECT_EQ(client_.Get("Node", "", "node1")->resource_version(), rv) << "no write when right";
  EXPECT_EQ(Spec("node1").value("vxlanTunnelMACAddr", ""), "66:01:02:03:04:05");
  EXPECT_EQ(ipam_.IPsByHandle("vxlan-tunnel-addr-node1")->size(), 1u);
}

TEST_F(TunnelAddrTest, NoVxlanPoolMeansNoAddress) {
  AddPool("plain", "10.66.0.0/16", "Never");
  AddNode("node1");
  ASSERT_TRUE(EnsureVxlanTunnelAddress(client_, ipam_, "node1"));
  EXPECT_EQ(TunnelAddr("node1"), "");
  EXPECT_FALSE(Spec("node1").contains("vxlanTunnelMACAddr"));
}

TEST_F(TunnelAddrTest, NodeSelectorAndDisabledPoolsAreHonoured) {
  AddPool("other-nodes", "10.65.0.0/16", "Always", "zone == 'b'");
  AddPool("off", "10.67.0.0/16", "Always", "all()", /*disabled=*/true);
  AddPool("mine", "10.66.0.0/16", "Always", "zone == 'a'");
  AddNode("node1", Json{{"zone", "a"}});
  ASSERT_TRUE(EnsureVxlanTunnelAddress(client_, ipam_, "node1"));
  EXPECT_TRUE(IsFirstOfBlockIn(TunnelAddr("node1"), "10.66.0.0/16")) << TunnelAddr("node1");
}

TEST_F(TunnelAddrTest, ReleasedWhenNoVxlanPoolAppliesAnyMore) {
  AddPool("vx", "10.65.0.0/16", "Always");
  AddNode("node1");
  ASSERT_TRUE(EnsureVxlanTunnelAddress(client_, ipam_, "node1"));
  ASSERT_NE(TunnelAddr("node1"), "");
  AddPool("vx", "10.65.0.0/16", "Never");
  ASSERT_TRUE(EnsureVxlanTunnelAddress(client_, ipam_, "node1"));
  EXPECT_EQ(TunnelAddr("node1"), "");
  EXPECT_TRUE(ipam_.IPsByHandle("vxlan-tunnel-addr-node1")->empty());
}

TEST_F(TunnelAddrTest, MovesToANewPoolWhenTheOldOneStopsQualifying) {
  AddPool("old", "10.65.0.0/16", "Always");
  AddNode("node1");
  ASSERT_TRUE(EnsureVxlanTunnelAddress(client_, ipam_, "node1"));
  const std::string old_addr = TunnelAddr("node1");
  ASSERT_TRUE(IsFirstOfBlockIn(old_addr, "10.65.0.0/16")) << old_addr;
  AddPool("old", "10.65.0.0/16", "Never");
  AddPool("new", "10.70.0.0/16", "Always");
  ASSERT_TRUE(EnsureVxlanTunnelAddress(client_, ipam_, "node1"));
  const std::string new_addr = TunnelAddr("node1");
  EXPECT_TRUE(IsFirstOfBlockIn(new_addr, "10.70.0.0/16")) << new_addr;
  auto held = ipam_.IPsByHandle("vxlan-tunnel-addr-node1");
  ASSERT_TRUE(held);
  EXPECT_EQ(*held, std::vector<net::IPAddr>{*net::IPAddr::Parse(new_addr)});
  auto old_attr = ipam_.GetAssignmentAttributes(*net::IPAddr::Parse(old_addr));
  ASSERT_TRUE(old_attr);
  EXPECT_FALSE(old_attr->has_value()) << "the old address is released";
}

TEST_F(TunnelAddrTest, AddressOwnedBySomeoneElseIsReplacedNotReleased) {
  AddPool("vx", "10.65.0.0/16", "Always");
  AddNode("node1");
  auto other = *net::IPAddr::Parse("10.65.9.9");
  ASSERT_TRUE(ipam_.AssignIP(other, "workload.abc", ipam::Json{{"node", "node2"}}, "node2"));
  auto node = *client_.Get("Node", "", "node1");
  node.spec()["ipv4VXLANTunnelAddr"] = "10.65.9.9";
  ASSERT_TRUE(client_.Update(node));
  ASSERT_TRUE(EnsureVxlanTunnelAddress(client_, ipam_, "node1"));
  EXPECT_NE(TunnelAddr("node1"), "10.65.9.9");
  auto attr = ipam_.GetAssignmentAttributes(other);
  ASSERT_TRUE(attr && attr->has_value());
  EXPECT_EQ((*attr)->handle_id, "workload.abc");
}

TEST_F(TunnelAddrTest, MissingNodeIsNotFound) {
  AddPool("vx", "10.65.0.0/16", "Always");
  auto st = EnsureVxlanTunnelAddress(client_, ipam_, "ghost");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kNotFound);
}

TEST_F(TunnelAddrTest, FailedNodeUpdateRollsBackTheAssignment) {
  AddPool("vx", "10.65.0.0/16", "Always");
  // A stored Node the validator rejects on update (written around the Client).
  Json doc{{"apiVersion", "projectcalico.org/v3"},
           {"kind", "Node"},
           {"metadata", {{"name", "node1"}}},
           {"spec", {{"bgp", {{"ipv4Address", "not-an-address"}}}}}};
  ASSERT_TRUE(backend_.Put("/calico/resources/v3/projectcalico.org/nodes/node1", doc.dump()));
  auto st = EnsureVxlanTunnelAddress(client_, ipam_, "node1");
  ASSERT_FALSE(st);
  auto held = ipam_.IPsByHandle("vxlan-tunnel-addr-node1");
  ASSERT_TRUE(held);
  EXPECT_TRUE(held->empty()) << "the address assigned in the failed pass is released";
}

// IPIP (allocateip's AttributeTypeIPIP): an address from a pool with ipipMode, under spec.bgp,
// with its own handle and attribute type; released when no IPIP pool applies any more.
TEST_F(TunnelAddrTest, IpipAddressFromTheIpipPool) {
  model::Resource pool("IPPool", "ipip");
  pool.spec() = Json{
      {"cidr", "10.80.0.0/16"}, {"blockSize", 26}, {"ipipMode", "Always"}, {"vxlanMode", "Never"}};
  ASSERT_TRUE(client_.Apply(pool));
  AddPool("vx", "10.65.0.0/16", "Always");
  AddNode("node1");
  ASSERT_TRUE(EnsureIpipTunnelAddress(client_, ipam_, "node1"));
  const std::string addr = Spec("node1")["bgp"].value("ipv4IPIPTunnelAddr", "");
  ASSERT_TRUE(IsFirstOfBlockIn(addr, "10.80.0.0/16")) << addr;
  EXPECT_EQ(Spec("node1")["bgp"].value("ipv4Address", ""), "198.18.0.1/24") << "bgp kept";
  EXPECT_EQ(TunnelAddr("node1"), "") << "VXLAN's field untouched";
  EXPECT_FALSE(Spec("node1").contains("vxlanTunnelMACAddr"));
  auto attr = ipam_.GetAssignmentAttributes(*net::IPAddr::Parse(addr));
  ASSERT_TRUE(attr && attr->has_value());
  EXPECT_EQ((*attr)->handle_id, "ipip-tunnel-addr-node1");
  EXPECT_EQ((*attr)->secondary.value("type", ""), "ipipTunnelAddress");
  // Idempotent.
  const std::string rv = client_.Get("Node", "", "node1")->resource_version();
  ASSERT_TRUE(EnsureIpipTunnelAddress(client_, ipam_, "node1"));
  EXPECT_EQ(client_.Get("Node", "", "node1")->resource_version(), rv);
  // The pool stops being IPIP: released and cleared.
  pool.spec()["ipipMode"] = "Never";
  ASSERT_TRUE(client_.Apply(pool));
  ASSERT_TRUE(EnsureIpipTunnelAddress(client_, ipam_, "node1"));
  EXPECT_FALSE(Spec("node1")["bgp"].contains("ipv4IPIPTunnelAddr"));
  EXPECT_TRUE(ipam_.IPsByHandle("ipip-tunnel-addr-node1")->empty());
}

// IPv6 VXLAN (allocateip's AttributeTypeVXLANV6): an address from an IPv6 pool with vxlanMode,
// in spec.ipv6VXLANTunnelAddr, with its own handle, attribute type and MAC field; the IPv4 VXLAN
// pool of the same node gives the IPv4 address independently; released when no IPv6 VXLAN pool
// applies any more (the IPv4 address stays).
TEST_F(TunnelAddrTest, Ipv6VxlanAddressFromTheIpv6VxlanPool) {
  model::Resource v6("IPPool", "vx6");
  v6.spec() = Json{{"cidr", "fd00:65::/48"}, {"blockSize", 122}, {"vxlanMode", "Always"}};
  ASSERT_TRUE(client_.Apply(v6));
  AddPool("vx", "10.65.0.0/16", "Always");
  AddNode("node1");
  ASSERT_TRUE(EnsureTunnelAddresses(client_, ipam_, "node1"));
  const std::string addr = Spec("node1").value("ipv6VXLANTunnelAddr", "");
  auto ip = net::IPAddr::Parse(addr);
  ASSERT_TRUE(ip && ip->is_v6()) << addr;
  EXPECT_TRUE(net::CIDR::Parse("fd00:65::/48")->Contains(*ip)) << addr;
  EXPECT_TRUE(IsFirstOfBlockIn(TunnelAddr("node1"), "10.65.0.0/16")) << "IPv4 VXLAN too";
  EXPECT_EQ(Spec("node1").value("vxlanTunnelMACAddrV6", ""), DeriveVtepMac("node1-v6").String());
  EXPECT_EQ(Spec("node1").value("vxlanTunnelMACAddr", ""), DeriveVtepMac("node1").String());
  EXPECT_NE(DeriveVtepMac("node1-v6"), DeriveVtepMac("node1"));
  auto attr = ipam_.GetAssignmentAttributes(*ip);
  ASSERT_TRUE(attr && attr->has_value());
  EXPECT_EQ((*attr)->handle_id, "vxlan-v6-tunnel-addr-node1");
  EXPECT_EQ((*attr)->secondary.value("type", ""), "vxlanV6TunnelAddress");
  EXPECT_EQ((*attr)->secondary.value("node", ""), "node1");
  EXPECT_EQ(*ipam_.IPsByHandle("vxlan-v6-tunnel-addr-node1"), std::vector<net::IPAddr>{*ip});

  // Idempotent: no write when right.
  const std::string rv = client_.Get("Node", "", "node1")->resource_version();
  ASSERT_TRUE(EnsureTunnelAddresses(client_, ipam_, "node1"));
  EXPECT_EQ(client_.Get("Node", "", "node1")->resource_version(), rv);

  // The IPv6 pool stops using VXLAN: its address is released and cleared, the IPv4 one stays.
  v6.spec()["vxlanMode"] = "Never";
  ASSERT_TRUE(client_.Apply(v6));
  ASSERT_TRUE(EnsureTunnelAddresses(client_, ipam_, "node1"));
  EXPECT_FALSE(Spec("node1").contains("ipv6VXLANTunnelAddr"));
  EXPECT_TRUE(ipam_.IPsByHandle("vxlan-v6-tunnel-addr-node1")->empty());
  auto gone = ipam_.GetAssignmentAttributes(*ip);
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value()) << "the IPv6 address is free again";
  EXPECT_TRUE(IsFirstOfBlockIn(TunnelAddr("node1"), "10.65.0.0/16"));
}

// An IPv4 VXLAN pool gives no IPv6 address and an IPv6 one no IPv4 address.
TEST_F(TunnelAddrTest, EachVxlanFamilyOnlyFromPoolsOfItsOwnFamily) {
  model::Resource v6("IPPool", "vx6");
  v6.spec() = Json{{"cidr", "fd00:65::/48"}, {"blockSize", 122}, {"vxlanMode", "CrossSubnet"}};
  ASSERT_TRUE(client_.Apply(v6));
  AddNode("node1");
  ASSERT_TRUE(EnsureVxlanTunnelAddress(client_, ipam_, "node1"));
  EXPECT_EQ(TunnelAddr("node1"), "") << "no IPv4 VXLAN pool";
  ASSERT_TRUE(EnsureVxlanV6TunnelAddress(client_, ipam_, "node1"));
  EXPECT_NE(Spec("node1").value("ipv6VXLANTunnelAddr", ""), "");
  EXPECT_FALSE(Spec("node1").contains("vxlanTunnelMACAddr"));
}

// A kind that cannot be assigned (its pool is full) does not keep the others from being done.
TEST_F(TunnelAddrTest, AFailingKindDoesNotStopTheOthers) {
  model::Resource tiny("IPPool", "ipip");
  tiny.spec() = Json{{"cidr", "10.80.0.0/32"}, {"blockSize", 32}, {"ipipMode", "Always"}};
  ASSERT_TRUE(client_.Apply(tiny));
  ASSERT_TRUE(
      ipam_.AssignIP(*net::IPAddr::Parse("10.80.0.0"), "someone", ipam::Json::object(), "node2"));
  model::Resource v6("IPPool", "vx6");
  v6.spec() = Json{{"cidr", "fd00:65::/48"}, {"blockSize", 122}, {"vxlanMode", "Always"}};
  ASSERT_TRUE(client_.Apply(v6));
  AddNode("node1");
  EXPECT_FALSE(EnsureTunnelAddresses(client_, ipam_, "node1")) << "IPIP cannot be assigned";
  EXPECT_NE(Spec("node1").value("ipv6VXLANTunnelAddr", ""), "") << "IPv6 VXLAN still is";
}

}  // namespace
}  // namespace calico::agent
