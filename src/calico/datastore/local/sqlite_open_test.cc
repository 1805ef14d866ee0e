// How the embedded store comes into being (issue 19): the directories created for it have fixed
// modes whatever the umask, and the CNI plugins' mode (kExisting) never creates anything.
#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "calico/base/cleanup.h"
#include "calico/base/testing/temp_dir.h"
#include "calico/datastore/config.h"
#include "calico/datastore/factory/factory.h"
#include "calico/datastore/local/sqlite_backend.h"

namespace calico::datastore {
namespace {

mode_t ModeOf(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(SqliteOpenTest, CreatedDirectoriesHaveFixedModesWhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
    SCOPED_TRACE(mask);
    const auto root = ::calico::testing::MakeTestDir("sqlite-open");
    const auto store = root / "var" / "lib" / "calico" / "calico.db";
    {
      const mode_t old_mask = ::umask(mask);
      Cleanup restore_umask([old_mask] { ::umask(old_mask); });
      auto b = SqliteBackend::Open(store.string());
      ASSERT_TRUE(b) << b.error().message();
    }
    EXPECT_EQ(ModeOf(root / "var"), 0755u);
    EXPECT_EQ(ModeOf(root / "var" / "lib"), 0755u);
    EXPECT_EQ(ModeOf(root / "var" / "lib" / "calico"), 0700u);  // the store's own: root only
    EXPECT_EQ(ModeOf(store), 0600u);
  }
}

TEST(SqliteOpenTest, ExistingModeNeverCreatesTheStoreOrItsDirectories) {
  const auto root = ::calico::testing::MakeTestDir("sqlite-open");
  const auto store = root / "missing" / "calico.db";
  auto b = SqliteBackend::Open(store.string(), SqliteBackend::kDefaultHistory,
                               SqliteBackend::OpenMode::kExisting);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(b.error().message().find("local store " + store.string() + " does not exist"),
            std::string::npos)
      << b.error().message();
  EXPECT_FALSE(std::filesystem::exists(root / "missing"));
  // A missing file in an existing directory: not created either.
  const auto in_dir = root / "calico.db";
  EXPECT_FALSE(SqliteBackend::Open(in_dir.string(), SqliteBackend::kDefaultHistory,
                                   SqliteBackend::OpenMode::kExisting));
  EXPECT_FALSE(std::filesystem::exists(in_dir));
  // Once created (by calico-node or calicoctl), it opens.
  ASSERT_TRUE(SqliteBackend::Open(in_dir.string()));
  EXPECT_TRUE(SqliteBackend::Open(in_dir.string(), SqliteBackend::kDefaultHistory,
                                  SqliteBackend::OpenMode::kExisting));
  // Through the factory, as the plugins open it.
  ClientConfig cfg;
  cfg.local_path = store.string();
  cfg.create_local_store = false;
  EXPECT_FALSE(OpenBackend(cfg));
  EXPECT_FALSE(std::filesystem::exists(root / "missing"));
}

}  // namespace
}  // namespace calico::datastore
