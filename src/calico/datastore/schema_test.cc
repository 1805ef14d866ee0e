// The schema record (schema.h): written on first initialisation, raised by newer binaries, never
// lowered, and a binary older than the data's minReaderSchema is refused with a message that
// names both versions and what to do.
#include "calico/datastore/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/datastore/client.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::datastore {
namespace {

using ::testing::HasSubstr;

SchemaRecord Stored(MemBackend& store) {
  auto r = ReadSchema(store);
  EXPECT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r && r->has_value());
  return r && *r ? **r : SchemaRecord{};
}

TEST(SchemaTest, FreshStoreGetsTheRecordOnInitialisation) {
  MemBackend store;
  auto none = ReadSchema(store);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_TRUE(CheckSchema(store, "calico-node 0.1.0"));  // Nothing recorded: any reader may run.

  Client client(store);
  ASSERT_TRUE(client.EnsureInitialized());
  SchemaRecord r = Stored(store);
  EXPECT_EQ(r.schema, kSchemaVersion);
  EXPECT_EQ(r.min_reader_schema, kMinReaderSchema);
  EXPECT_THAT(r.written_by, HasSubstr("calico-cpp "));
  // The record sits beside Calico's layout, not in it.
  auto resources = store.List("/calico/resources/");
  ASSERT_TRUE(resources);
  for (const auto& kv : resources->kvs)
    EXPECT_NE(kv.key, kSchemaKey);
  auto revision = store.Get(kSchemaKey)->mod_revision;
  ASSERT_TRUE(client.EnsureInitialized());  // Idempotent: no write.
  EXPECT_EQ(store.Get(kSchemaKey)->mod_revision, revision);
}

// Forward compatibility: data written by a newer binary whose changes old readers understand
// (minReaderSchema still ours) is used as it is, and the record is not lowered.
TEST(SchemaTest, NewerCompatibleDataIsUsedAndNotLowered) {
  MemBackend store;
  ASSERT_TRUE(EnsureSchema(store, "calico-cpp 0.9.0", 3, 1));
  EXPECT_TRUE(CheckSchema(store, "calico-node 0.1.0", 1));
  ASSERT_TRUE(EnsureSchema(store, "calico-cpp 0.1.0", 1, 1));
  EXPECT_EQ(Stored(store),
            (SchemaRecord{.schema = 3, .min_reader_schema = 1, .written_by = "calico-cpp 0.9.0"}));
}

// An upgrade raises the record; the newer binary's minReaderSchema is kept even when an
// in-between binary raises the schema with a lower one.
TEST(SchemaTest, UpgradeRaisesTheRecord) {
  MemBackend store;
  ASSERT_TRUE(EnsureSchema(store, "calico-cpp 0.1.0", 1, 1));
  ASSERT_TRUE(EnsureSchema(store, "calico-cpp 0.2.0", 2, 2));
  EXPECT_EQ(Stored(store),
            (SchemaRecord{.schema = 2, .min_reader_schema = 2, .written_by = "calico-cpp 0.2.0"}));
  ASSERT_TRUE(EnsureSchema(store, "calico-cpp 0.3.0", 3, 1));
  EXPECT_EQ(Stored(store).min_reader_schema, 2);
}

// A downgrade below the data's minReaderSchema is refused, naming both sides and the remedy, and
// writes nothing.
TEST(SchemaTest, DowngradeBelowMinReaderIsRefused) {
  MemBackend store;
  ASSERT_TRUE(EnsureSchema(store, "calico-cpp 0.4.0", 4, 2));
  const auto revision = store.Get(kSchemaKey)->mod_revision;

  Status st = CheckSchema(store, "calico-node 0.1.0", 1);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnsupported);
  EXPECT_THAT(st.error().message(), HasSubstr("refusing to use the datastore"));
  EXPECT_THAT(st.error().message(), HasSubstr("schema 4 data written by calico-cpp 0.4.0"));
  EXPECT_THAT(st.error().message(), HasSubstr("read schema 2 or later"));
  EXPECT_THAT(st.error().message(), HasSubstr("calico-node 0.1.0 reads schema 1"));
  EXPECT_THAT(st.error().message(), HasSubstr(store.Describe()));

  Status again = EnsureSchema(store, "calico-cpp 0.1.0", 1, 1);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(store.Get(kSchemaKey)->mod_revision, revision);
  // calicoctl's and calico-node's initialisation refuse the same way (this build reads
  // kSchemaVersion, below the record's 2 only if kSchemaVersion is 1).
  if (kSchemaVersion < 2) {
    Client client(store);
    Status init = client.EnsureInitialized();
    ASSERT_FALSE(init);
    EXPECT_EQ(init.error().code(), ErrorCode::kUnsupported);
    auto tiers = store.List("/calico/resources/v3/projectcalico.org/tiers/");
    ASSERT_TRUE(tiers);
    EXPECT_TRUE(tiers->kvs.empty()) << "initialisation wrote into a store it cannot read";
  }
}

TEST(SchemaTest, MalformedRecordIsNamed) {
  for (const char* value :
       {"not json", "[]", R"({"schema": "1", "minReaderSchema": 1})", R"({"schema": 1})",
        R"({"schema": 0, "minReaderSchema": 0})", R"({"schema": 1, "minReaderSchema": 2})"}) {
    MemBackend store;
    ASSERT_TRUE(store.Put(kSchemaKey, value));
    Status st = CheckSchema(store, "calicoctl");
    ASSERT_FALSE(st) << value;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument) << value;
    EXPECT_THAT(st.error().message(), HasSubstr(std::string(kSchemaKey))) << value;
  }
}

TEST(SchemaTest, BackendErrorsPropagate) {
  MemBackend store;
  store.FailNext(Error(ErrorCode::kUnavailable, "etcd went away"));
  Status st = CheckSchema(store, "calico-node");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(st.error().message(), HasSubstr("etcd went away"));
}

// Another host writes the record between our read and our compare-and-swap.
class RacingBackend final : public Backend {
 public:
  RacingBackend(MemBackend& store, std::string rival) : store_(store), rival_(std::move(rival)) {}
  [[nodiscard]] Result<KVPair> Get(std::string_view key) override { return store_.Get(key); }
  [[nodiscard]] Result<ListResult> List(std::string_view prefix) override {
    return store_.List(prefix);
  }
  [[nodiscard]] Result<KVPair> Create(std::string_view key, std::string_view value,
                                      std::chrono::seconds ttl) override {
    Race();
    return store_.Create(key, value, ttl);
  }
  [[nodiscard]] Result<KVPair> Update(std::string_view key, std::string_view value,
                                      int64_t expected_revision,
                                      std::chrono::seconds ttl) override {
    Race();
    return store_.Update(key, value, expected_revision, ttl);
  }
  [[nodiscard]] Result<KVPair> Put(std::string_view key, std::string_view value,
                                   std::chrono::seconds ttl) override {
    return store_.Put(key, value, ttl);
  }
  [[nodiscard]] Result<KVPair> Delete(std::string_view key, int64_t expected_revision) override {
    return store_.Delete(key, expected_revision);
  }
  [[nodiscard]] Result<std::vector<KVPair>> Txn(const std::vector<TxnOp>& ops) override {
    Race();
    return store_.Txn(ops);
  }
  [[nodiscard]] Result<int64_t> DeletePrefix(std::string_view prefix) override {
    return store_.DeletePrefix(prefix);
  }
  [[nodiscard]] Result<std::unique_ptr<WatchStream>> Watch(std::string_view prefix,
                                                           int64_t from_revision) override {
    return store_.Watch(prefix, from_revision);
  }
  std::string Describe() const override { return store_.Describe(); }
  int races() const { return races_; }

 private:
  void Race() {
    if (races_++ == 0) {
      EXPECT_TRUE(store_.Put(kSchemaKey, rival_));
    }
  }
  MemBackend& store_;
  std::string rival_;
  int races_ = 0;
};

// Two hosts starting at once: the compare-and-swap loser reads again and settles on the highest
// schema (create and update races alike).
TEST(SchemaTest, LostRaceReadsAgain) {
  {
    MemBackend store;
    ASSERT_TRUE(EnsureSchema(store, "calico-cpp 0.1.0", 1, 1));
    RacingBackend racing(store,
                         R"({"schema":3,"minReaderSchema":1,"writtenBy":"calico-cpp 0.3.0"})");
    ASSERT_TRUE(EnsureSchema(racing, "calico-cpp 0.2.0", 2, 1));
    EXPECT_EQ(racing.races(), 1);
    EXPECT_EQ(Stored(store).written_by, "calico-cpp 0.3.0");
  }
  {
    MemBackend store;
    RacingBackend racing(store,
                         R"({"schema":1,"minReaderSchema":1,"writtenBy":"calico-cpp 0.1.0"})");
    ASSERT_TRUE(EnsureSchema(racing, "calico-cpp 0.2.0", 2, 1));
    EXPECT_EQ(racing.races(), 2);  // Create lost, then the update of the rival's record won.
    EXPECT_EQ(Stored(store).written_by, "calico-cpp 0.2.0");
  }
  {
    // The rival is a newer binary whose data this one cannot read: refused after the race.
    MemBackend store;
    RacingBackend racing(store,
                         R"({"schema":5,"minReaderSchema":5,"writtenBy":"calico-cpp 0.5.0"})");
    Status st = EnsureSchema(racing, "calico-cpp 0.2.0", 2, 1);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), ErrorCode::kUnsupported);
  }
}

}  // namespace
}  // namespace calico::datastore
