// Typed keys: every Format parses back to the same key, paths Calico writes parse as upstream's
// KeyFromDefaultPath does (libcalico-go/lib/backend/model/*_test.go), and paths of other kinds
// are refused.
#include "calico/datastore/keys.h"

#include <gtest/gtest.h>

namespace calico::datastore {
namespace {

net::CIDR C(std::string_view text) {
  return *net::CIDR::Parse(text);
}

const model::KindInfo* Kind(std::string_view name) {
  return model::LookupKind(name);
}

TEST(KeysTest, ResourceKeyRoundTrips) {
  const ResourceKey pool{.kind = Kind("IPPool"), .name = "default-ipv4-ippool"};
  EXPECT_EQ(pool.Format(), "/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool");
  EXPECT_EQ(*ResourceKey::Parse(pool.Format()), pool);

  const ResourceKey wep{.kind = Kind("WorkloadEndpoint"), .ns = "ns1", .name = "n-k8s-p-eth0"};
  EXPECT_EQ(wep.Format(),
            "/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/n-k8s-p-eth0");
  EXPECT_EQ(*ResourceKey::Parse(wep.Format()), wep);

  // A namespace on a cluster-scoped kind is not part of its key.
  const ResourceKey node{.kind = Kind("Node"), .ns = "ignored", .name = "node-1"};
  EXPECT_EQ(node.Format(), "/calico/resources/v3/projectcalico.org/nodes/node-1");
  EXPECT_EQ(ResourceKey::Parse(node.Format())->ns, "");
}

TEST(KeysTest, ResourceKeyRefusesOtherPaths) {
  for (std::string_view path : {
           "/calico/resources/v3/projectcalico.org/ippools",
           "/calico/resources/v3/projectcalico.org/ippools/",
           "/calico/resources/v3/projectcalico.org/ippools/a/b",
           "/calico/resources/v3/projectcalico.org/workloadendpoints/ns1",
           "/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/",
           "/calico/resources/v3/projectcalico.org/bogus/x",
           "/calico/ipam/v2/config",
       }) {
    auto key = ResourceKey::Parse(path);
    EXPECT_FALSE(key) << path;
    if (!key) {
      EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument) << path;
    }
  }
  EXPECT_EQ(ResourceKey::Parse("/calico/resources/v3/projectcalico.org/bogus/x").error().message(),
            "unknown resource type \"bogus\" in key "
            "\"/calico/resources/v3/projectcalico.org/bogus/x\"");
}

TEST(KeysTest, RelativeResourceKeyRoundTrips) {
  const RelativeResourceKey wep{.path = "workloadendpoints/ns1/n-k8s-p-eth0"};
  EXPECT_EQ(wep.Format(),
            "/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/n-k8s-p-eth0");
  EXPECT_EQ(*RelativeResourceKey::Parse(wep.Format()), wep);
  EXPECT_EQ(wep.LastSegment(), "n-k8s-p-eth0");
  EXPECT_EQ(wep.SegmentBeforeLast(), "ns1");

  const RelativeResourceKey pool{.path = "ippools/pool-1"};
  EXPECT_EQ(pool.LastSegment(), "pool-1");
  EXPECT_EQ(pool.SegmentBeforeLast(), "ippools");

  // Anything under the prefix parses (the agent tracks whatever it ingested); nothing else does.
  EXPECT_EQ(RelativeResourceKey::Parse("/calico/resources/v3/projectcalico.org/bogus")->path,
            "bogus");
  EXPECT_EQ(RelativeResourceKey{.path = "bogus"}.LastSegment(), "");
  EXPECT_EQ(RelativeResourceKey{.path = "bogus"}.SegmentBeforeLast(), "");
  auto other = RelativeResourceKey::Parse("/calico/ipam/v2/config");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(RelativeResourceKey::Parse("/calico/kubernetes/v1/namespaces/ns1"));
}

TEST(KeysTest, BlockKeyRoundTrips) {
  const BlockKey v4{.cidr = C("10.65.79.0/26")};
  EXPECT_EQ(v4.Format(), "/calico/ipam/v2/assignment/ipv4/block/10.65.79.0-26");
  EXPECT_EQ(*BlockKey::Parse(v4.Format()), v4);
  const BlockKey v6{.cidr = C("fd00:10:65::/122")};
  EXPECT_EQ(v6.Format(), "/calico/ipam/v2/assignment/ipv6/block/fd00:10:65::-122");
  EXPECT_EQ(*BlockKey::Parse(v6.Format()), v6);
  // Upstream's regexp has no leading '/' requirement and masks what it reads.
  EXPECT_EQ(BlockKey::Parse("calico/ipam/v2/assignment/ipv4/block/10.65.79.7-26")->cidr,
            C("10.65.79.0/26"));
  for (std::string_view path : {"/calico/ipam/v2/assignment/ipv4/block/10.65.79.0",
                                "/calico/ipam/v2/assignment/ipv4/block/10.65.79.0-26/x",
                                "/calico/ipam/v2/assignment/ipv4/10.65.79.0-26",
                                "/calico/ipam/v2/host/n/ipv4/block/10.65.79.0-26"}) {
    EXPECT_FALSE(BlockKey::Parse(path)) << path;
  }
  EXPECT_EQ(BlockKey::ListPrefix(), "/calico/ipam/v2/assignment/");
  EXPECT_EQ(BlockKey::ListPrefix(6), "/calico/ipam/v2/assignment/ipv6/block/");
}

TEST(KeysTest, BlockAffinityKeyRoundTrips) {
  const BlockAffinityKey key{.cidr = C("10.65.0.0/26"), .host = "node-1"};
  EXPECT_EQ(key.Format(), "/calico/ipam/v2/host/node-1/ipv4/block/10.65.0.0-26");
  EXPECT_EQ(*BlockAffinityKey::Parse(key.Format()), key);
  const BlockAffinityKey virt{.cidr = C("fd00::/122"), .host = "vm-1", .affinity_type = "virtual"};
  EXPECT_EQ(virt.Format(), "/calico/ipam/v2/virtual/vm-1/ipv6/block/fd00::-122");
  EXPECT_EQ(*BlockAffinityKey::Parse(virt.Format()), virt);
  for (std::string_view path :
       {"/calico/ipam/v2/host//ipv4/block/10.65.0.0-26",
        "/calico/ipam/v2/other/n/ipv4/block/10.65.0.0-26", "/calico/ipam/v2/host/n/ipv4/block/",
        "/calico/ipam/v2/assignment/ipv4/block/10.65.0.0-26"}) {
    EXPECT_FALSE(BlockAffinityKey::Parse(path)) << path;
  }
  EXPECT_EQ(BlockAffinityKey::ListPrefix("node-1"), "/calico/ipam/v2/host/node-1/");
  EXPECT_EQ(BlockAffinityKey::ListPrefix("node-1", 4), "/calico/ipam/v2/host/node-1/ipv4/block/");
  EXPECT_EQ(IpamHostPrefix("node-1"), BlockAffinityKey::ListPrefix("node-1"));
}

TEST(KeysTest, BlockAffinityValue) {
  const BlockAffinity pending{.state = "pending"};
  EXPECT_EQ(pending.Format(), R"({"deleted":false,"state":"pending"})");
  EXPECT_EQ(*BlockAffinity::Parse(pending.Format()), pending);
  EXPECT_FALSE(pending.Confirmed());
  EXPECT_TRUE(BlockAffinity::Parse("")->Confirmed());  // Older Calico stored no value.
  EXPECT_TRUE(BlockAffinity::Parse(R"({"state":"confirmed"})")->Confirmed());
  EXPECT_FALSE(BlockAffinity::Parse(R"({"state":"confirmed","deleted":true})")->Confirmed());
  EXPECT_EQ(BlockAffinity::Parse(R"({"state":1})").error().message(),
            "block affinity: state: must be a string");
  EXPECT_FALSE(BlockAffinity::Parse("[]"));
}

TEST(KeysTest, HandleAndConfigKeys) {
  const HandleKey handle{.handle_id = "net1.0123abcd"};
  EXPECT_EQ(handle.Format(), "/calico/ipam/v2/handle/net1.0123abcd");
  EXPECT_EQ(*HandleKey::Parse(handle.Format()), handle);
  EXPECT_FALSE(HandleKey::Parse("/calico/ipam/v2/handle/"));
  EXPECT_FALSE(HandleKey::Parse("/calico/ipam/v2/handle/a/b"));
  EXPECT_EQ(IpamConfigKey{}.Format(), "/calico/ipam/v2/config");
  EXPECT_TRUE(IpamConfigKey::Parse("/calico/ipam/v2/config"));
  EXPECT_FALSE(IpamConfigKey::Parse("/calico/ipam/v2/configx"));
}

// The key says what a stored value is when the value does not (libcalico-go's etcdv3 backend
// unmarshals by key type).
TEST(KeysTest, StoredValueWithoutKindTakesTheKeysKind) {
  const std::string key = ResourceKey{.kind = Kind("IPPool"), .name = "p"}.Format();
  auto r = DecodeStoredResource(key, R"({"metadata": {"name": "p"}, "spec": {}})", 7);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->kind(), "IPPool");
  EXPECT_EQ(r->resource_version(), "7");
}

// Felix's status reports: the two keys calico-node writes parse back to their node and leaf;
// a path without both segments, or with more, is not one.
TEST(KeysTest, FelixStatusReportValue) {
  const FelixStatusReport report{.time = "2026-11-24T00:17:32Z", .uptime = 12.5};
  EXPECT_EQ(report.Format(),
            R"({"first_update":false,"time":"2026-11-24T00:17:32Z","uptime":12.5})");
  EXPECT_EQ(*FelixStatusReport::Parse(report.Format()), report);
  EXPECT_EQ(*FelixStatusReport::Parse("{}"), FelixStatusReport{});
  EXPECT_EQ(FelixStatusReport::Parse(R"({"time": 5})").error().message(),
            "Felix status report: time: must be a string");
  EXPECT_FALSE(FelixStatusReport::Parse(R"({"uptime": "1"})"));
  EXPECT_FALSE(FelixStatusReport::Parse(R"({"first_update": 1})"));
  EXPECT_FALSE(FelixStatusReport::Parse("not json"));
  EXPECT_FALSE(FelixStatusReport::Parse("[]"));
}

TEST(KeysTest, FelixReportKeyRoundTrips) {
  auto status = FelixReportKey::Parse(FelixStatusKey("node-1"));
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_EQ(*status, (FelixReportKey{.node = "node-1", .leaf = "status"}));
  EXPECT_EQ(status->Format(), "/calico/felix/v2/no-region/host/node-1/status");
  auto last = FelixReportKey::Parse(FelixLastStatusKey("node-1"));
  ASSERT_TRUE(last);
  EXPECT_EQ(last->leaf, "last_reported_status");
  for (const char* bad :
       {"/calico/felix/v2/no-region/host/node-1", "/calico/felix/v2/no-region/host//status",
        "/calico/felix/v2/no-region/host/node-1/", "/calico/felix/v2/no-region/host/n/a/status",
        "/calico/resources/v3/projectcalico.org/nodes/node-1"}) {
    EXPECT_FALSE(FelixReportKey::Parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace calico::datastore
