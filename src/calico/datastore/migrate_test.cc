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

}  // namespace
}  // namespace calico::datastore
