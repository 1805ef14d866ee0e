#include "calico/datastore/client.h"

#include <gtest/gtest.h>

#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::datastore {
namespace {

using model::Json;
using model::Resource;

Resource Pool(const std::string& name, const std::string& cidr) {
  Resource r("IPPool", name);
  r.spec()["cidr"] = cidr;
  return r;
}

Resource Policy(const std::string& name, const std::string& tier) {
  Resource r("NetworkPolicy", name, "default");
  r.spec()["tier"] = tier;
  r.spec()["selector"] = "all()";
  r.spec()["ingress"] = Json::array({Json{{"action", "Allow"}}});
  return r;
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(client_.EnsureInitialized()); }
  MemBackend backend_;
  Client client_{backend_};
};

TEST_F(ClientTest, CreateStoresCalicoLayoutAndServerFields) {
  auto created = client_.Create(Pool("pool1", "10.0.0.0/16"));
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_FALSE(created->metadata().value("uid", "").empty());
  EXPECT_FALSE(created->metadata().value("creationTimestamp", "").empty());
  EXPECT_EQ(created->spec()["blockSize"], 26);
  auto kv = backend_.Get("/calico/resources/v3/projectcalico.org/ippools/pool1");
  ASSERT_TRUE(kv);
  Json stored = Json::parse(kv->value);
  EXPECT_EQ(stored["kind"], "IPPool");
  EXPECT_FALSE(stored["metadata"].contains("resourceVersion"));
  EXPECT_EQ(created->resource_version(), std::to_string(kv->mod_revision));
  auto again = client_.Create(Pool("pool1", "10.0.0.0/16"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
}

TEST_F(ClientTest, InvalidResourceWritesNothing) {
  auto before = backend_.revision();
  auto bad = client_.Create(Pool("bad", "10.0.0.1/8"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("spec.cidr"), std::string::npos);
  EXPECT_EQ(backend_.revision(), before);
}

TEST_F(ClientTest, OverlappingPoolIsRejected) {
  ASSERT_TRUE(client_.Create(Pool("a", "10.0.0.0/16")));
  auto overlap = client_.Create(Pool("b", "10.0.128.0/17"));
  ASSERT_FALSE(overlap);
  EXPECT_NE(overlap.error().message().find("overlaps"), std::string::npos);
}

TEST_F(ClientTest, PoolCidrIsImmutable) {
  ASSERT_TRUE(client_.Create(Pool("a", "10.0.0.0/16")));
  auto changed = client_.Update(Pool("a", "10.1.0.0/16"));
  ASSERT_FALSE(changed);
  EXPECT_NE(changed.error().message().find("cannot be modified"), std::string::npos);
}

TEST_F(ClientTest, UpdateWithStaleResourceVersionConflicts) {
  auto created = client_.Create(Pool("a", "10.0.0.0/16"));
  ASSERT_TRUE(created);
  Resource first = *created;
  first.spec()["natOutgoing"] = true;
  ASSERT_TRUE(client_.Update(first));
  Resource stale = *created;
  stale.spec()["disabled"] = true;
  auto conflict = client_.Update(stale);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code(), ErrorCode::kConflict);
}

TEST_F(ClientTest, PolicyNeedsItsTierAndKeepsItsNameThroughTheAnnotation) {
  auto missing = client_.Create(Policy("p1", "security"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  auto created = client_.Create(Policy("p1", "default"));
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_EQ(created->metadata()["labels"]["projectcalico.org/tier"], "default");
  auto kv = backend_.Get("/calico/resources/v3/projectcalico.org/networkpolicies/default/p1");
  ASSERT_TRUE(kv);
  EXPECT_NE(kv->value.find("projectcalico.org/metadata"), std::string::npos);
  auto got = client_.Get("NetworkPolicy", "default", "p1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name(), "p1");
  EXPECT_FALSE(got->metadata().contains("annotations"));
}

TEST_F(ClientTest, TiersAreProtected) {
  auto builtin = client_.Delete("Tier", "", "default");
  ASSERT_FALSE(builtin);
  Resource tier("Tier", "security");
  tier.spec()["order"] = 100;
  ASSERT_TRUE(client_.Create(tier));
  ASSERT_TRUE(client_.Create(Policy("p1", "security")));
  auto busy = client_.Delete("Tier", "", "security");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().message(), "Cannot delete a non-empty tier");
  ASSERT_TRUE(client_.Delete("NetworkPolicy", "default", "p1"));
  EXPECT_TRUE(client_.Delete("Tier", "", "security"));
}

TEST_F(ClientTest, DefaultAllowProfileIsSyntheticAndReadOnly) {
  auto list = client_.List("Profile");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name(), "projectcalico-default-allow");
  EXPECT_FALSE(client_.Delete("Profile", "", "projectcalico-default-allow"));
}

TEST_F(ClientTest, WorkloadEndpointNameIsDerivedAndChecked) {
  Resource wep("WorkloadEndpoint", "", "default");
  wep.spec() =
      Json{{"node", "node-1"},   {"orchestrator", "cni"},         {"containerID", "abc123"},
           {"endpoint", "eth0"}, {"interfaceName", "caliabc123"}, {"ipNetworks", {"10.0.0.1/32"}}};
  auto created = client_.Create(wep);
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_EQ(created->name(), "node--1-cni-abc123-eth0");
  wep.set_name("wrong-name");
  auto bad = client_.Create(wep);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("does not match"), std::string::npos);
}

TEST_F(ClientTest, ApplyCreatesThenUpdatesKeepingUid) {
  auto first = client_.Apply(Pool("a", "10.0.0.0/16"));
  ASSERT_TRUE(first);
  Resource changed = Pool("a", "10.0.0.0/16");
  changed.spec()["natOutgoing"] = true;
  auto second = client_.Apply(changed);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->metadata()["uid"], first->metadata()["uid"]);
  EXPECT_EQ(second->spec()["natOutgoing"], true);
}

}  // namespace
}  // namespace calico::datastore
