#include "calico/datastore/migrate.h"

#include <gtest/gtest.h>

#include "calico/datastore/client.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::datastore {
namespace {

using model::Json;
using model::Resource;

// Fills a store with resources of several kinds and an IPAM block.
void Populate(Backend& backend) {
  Client client(backend);
  CALICO_CHECK(client.EnsureInitialized().has_value());
  Resource pool("IPPool", "pool1");
  pool.spec()["cidr"] = "10.0.0.0/16";
  pool.spec()["natOutgoing"] = true;
  CALICO_CHECK(client.Create(pool).has_value());
  Resource profile("Profile", "backend");
  profile.spec()["labelsToApply"] = Json{{"backend", ""}};
  profile.spec()["ingress"] =
      Json::array({Json{{"action", "Allow"}, {"source", {{"selector", "has(backend)"}}}}});
  CALICO_CHECK(client.Create(profile).has_value());
  Resource policy("NetworkPolicy", "allow-db", "prod");
  policy.spec()["selector"] = "role == 'db'";
  policy.spec()["ingress"] = Json::array({Json{{"action", "Allow"}, {"protocol", "TCP"}}});
  CALICO_CHECK(client.Create(policy).has_value());
  CALICO_CHECK(
      backend
          .Put(
              BlockKey{.cidr = *net::CIDR::Parse("10.0.0.0/26")}.Format(),
              R"({"cidr":"10.0.0.0/26","affinity":"host:node1","allocations":[0,null],"unallocated":[1],"attributes":[{"handle_id":"net.abc","secondary":null}],"deleted":false})")
          .has_value());
}

std::map<std::string, std::string> Dump(Backend& backend) {
  std::map<std::string, std::string> out;
  auto listed = backend.List("/calico/");
  CALICO_CHECK(listed.has_value());
  for (const KVPair& kv : listed->kvs)
    out[kv.key] = kv.value;
  return out;
}

TEST(MigrateTest, RoundTripKeepsEveryKeyAndValue) {
  MemBackend source;
  Populate(source);
  auto text = ExportDatastore(source);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_NE(text->find("IPAMData"), std::string::npos);
  MemBackend target;
  auto summary = ImportDatastore(*text, target);
  ASSERT_TRUE(summary) << summary.error().message();
  EXPECT_EQ(summary->ipam_keys, 1);
  EXPECT_EQ(summary->resources, 7);  // 3 tiers, cluster info, pool, profile, policy.
  EXPECT_EQ(Dump(source), Dump(target));
  MemBackend again;
  ASSERT_TRUE(ImportDatastore(*ExportDatastore(target), again));
  EXPECT_EQ(Dump(source), Dump(again));
}

TEST(MigrateTest, InvalidDocumentWritesNothing) {
  MemBackend target;
  std::string text =
      "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: good}\nspec: {cidr: "
      "10.0.0.0/16}\n"
      "---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: bad}\nspec: {cidr: "
      "10.0.0.1/8}\n";
  auto summary = ImportDatastore(text, target);
  ASSERT_FALSE(summary);
  EXPECT_NE(summary.error().message().find("document 2"), std::string::npos);
  EXPECT_TRUE(target.List("/calico/")->kvs.empty());
}

// One YAML codec with calicoctl (issue 19): import read `yes` as the string "yes" where calicoctl
// reads a YAML 1.1 boolean, and it had no limits.
TEST(MigrateTest, ImportReadsYamlAsCalicoctlDoes) {
  MemBackend target;
  std::string text =
      "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\n"
      "spec: {cidr: 10.0.0.0/16, natOutgoing: yes, disabled: off}\n";
  auto summary = ImportDatastore(text, target);
  ASSERT_TRUE(summary) << summary.error().message();
  auto stored = target.Get("/calico/resources/v3/projectcalico.org/ippools/p");
  ASSERT_TRUE(stored);
  auto doc = model::Json::parse(stored->value);
  EXPECT_EQ(doc["spec"]["natOutgoing"], true);
  EXPECT_EQ(doc["spec"]["disabled"], false);
  // The codec's rules hold here too.
  auto aliased = ImportDatastore("a: &r [*r]\n", target);
  ASSERT_FALSE(aliased);
  EXPECT_NE(aliased.error().message().find("value contains itself"), std::string::npos);
  auto dup = ImportDatastore("kind: IPPool\nkind: Node\n", target);
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message().find("already set in map"), std::string::npos);
}

TEST(MigrateTest, ExportSkipsAnUnreadableValue) {
  MemBackend source;
  Populate(source);
  ASSERT_TRUE(source.Put("/calico/resources/v3/projectcalico.org/ippools/broken",
                         std::string(5000, '[') + std::string(5000, ']')));
  auto text = ExportDatastore(source);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_EQ(text->find("broken"), std::string::npos);
  MemBackend target;
  auto summary = ImportDatastore(*text, target);
  ASSERT_TRUE(summary) << summary.error().message();
  EXPECT_EQ(summary->resources, 7);
}

}  // namespace
}  // namespace calico::datastore
