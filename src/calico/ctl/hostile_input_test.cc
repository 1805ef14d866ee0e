// calicoctl against hostile or broken input (issue 19): each case crashed, hung or misbehaved
// before; each now ends with a clear error (or the right answer) and nothing half-written.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/ctl/ctl.h"
#include "calico/ctl/testing/ctl_fixture.h"
#include "calico/datastore/client.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/model/decode_limits.h"

namespace calico::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The ctl tests' one harness (ctl/testing/ctl_fixture.h): in-process runs on an in-memory store.
class HostileInputTest : public testing::CtlFixture {
 protected:
  size_t StoredKeys() { return backend_.List("/calico/").value().kvs.size(); }
};

std::string Pool(const std::string& name, const std::string& cidr) {
  return "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: " + name +
         "\nspec:\n  cidr: " + cidr + "\n";
}

TEST_F(HostileInputTest, SelfReferencingAliasIsAnErrorNotACrash) {
  auto r = Run({"validate", "-f", "-"}, "a: &r [*r]\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "failed to execute command: yaml: anchor 'r' value contains itself\n");
}

TEST_F(HostileInputTest, BillionLaughsIsRefusedAtOnce) {
  std::string doc =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char level = 'b'; level <= 'h'; ++level) {
    doc += std::string(1, level) + ": &" + level + " [";
    for (int k = 0; k < 10; ++k)
      doc += std::string(k ? "," : "") + "*" + static_cast<char>(level - 1);
    doc += "]\n";
  }
  auto r = Run({"apply", "-f", "-"}, doc);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "failed to execute command: yaml: document contains excessive aliasing\n");
  EXPECT_EQ(StoredKeys(), 0u);
}

TEST_F(HostileInputTest, DeepNestingIsRefused) {
  auto r = Run({"apply", "-f", "-"}, std::string(20000, '[') + std::string(20000, ']'));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "failed to execute command: yaml: line 1: exceeded max nesting depth of 512\n");
}

TEST_F(HostileInputTest, DuplicateKeysAreRefused) {
  auto r = Run({"apply", "-f", "-"},
               "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: a\n  name: b\n"
               "spec:\n  cidr: 10.0.0.0/24\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "failed to execute command: yaml: unmarshal errors:\n  line 5: key \"name\" already "
            "set in map\n");
  r = Run({"apply", "-f", "-"},
          R"({"apiVersion": "projectcalico.org/v3", "kind": "IPPool", "kind": "IPPool",)"
          R"( "metadata": {"name": "a"}, "spec": {"cidr": "10.0.0.0/24"}})");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("key \"kind\" already set in map"));
  EXPECT_EQ(StoredKeys(), 0u);
}

TEST_F(HostileInputTest, OversizedResourceIsRefusedBySizeLimit) {
  // One resource over the document limit (a 50 MB one took 80 s and 1.6 GB before).
  std::string big = Pool("big", "10.0.0.0/24") + "  description: \"" +
                    std::string(model::kMaxDocumentBytes, 'x') + "\"\n";
  auto r = Run({"apply", "-f", "-"}, big);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("exceeds the max document size of 3145728 bytes"));
  // A whole input over the stream limit is refused while reading.
  std::string huge(model::kMaxStreamBytes + 1, '#');
  r = Run({"apply", "-f", "-"}, huge);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "failed to execute command: stdin: input larger than the max input size of 67108864 "
            "bytes\n");
  EXPECT_EQ(StoredKeys(), 0u);
}

TEST_F(HostileInputTest, ByteOrderMarkIsAccepted) {
  auto r = Run({"apply", "-f", "-"}, "\xEF\xBB\xBF" + Pool("bom", "10.9.0.0/24"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Successfully applied 1 'IPPool' resource(s)\n");
}

TEST_F(HostileInputTest, RecursiveApplyDoesNotFollowDirectorySymlinks) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/calicoctl-loop-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir(tmpl);
  {
    std::ofstream(dir / "pool.yaml") << Pool("looped", "10.7.0.0/24");
    fs::create_directory(dir / "sub");
    std::ofstream(dir / "sub" / "other.yaml") << Pool("other", "10.8.0.0/24");
  }
  // A loop (sub/back -> ..) and a link to the parent: followed, pool.yaml was applied 41 times.
  fs::create_directory_symlink("..", dir / "sub" / "back");
  fs::create_directory_symlink(dir, dir / "self");
  auto r = Run({"apply", "-R", "-f", dir.string()});
  EXPECT_EQ(r.code, 0) << r.err;
  // pool.yaml and sub/other.yaml, once each.
  EXPECT_EQ(r.out, "Successfully applied 2 'IPPool' resource(s)\n");
  fs::remove_all(dir);
}

TEST_F(HostileInputTest, LabelWithAnInvalidKeySaysWhy) {
  ASSERT_EQ(Run({"apply", "-f", "-"}, Pool("p", "10.3.0.0/24")).code, 0);
  auto r = Run({"label", "ippool", "p", "bad key!=v"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "failed to update ippool p, label not changed: error with field "
            "metadata.labels[bad key!] = 'bad key!' (name part must consist of alphanumeric "
            "characters, '-', '_' or '.', and must start and end with an alphanumeric "
            "character)\n");
}

TEST_F(HostileInputTest, PatchLimits) {
  ASSERT_EQ(Run({"apply", "-f", "-"}, Pool("p", "10.4.0.0/24")).code, 0);
  // A deep patch text (was a crash).
  auto r = Run({"patch", "ippool", "p", "-p", std::string(20000, '[') + std::string(20000, ']')});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("invalid JSON patch: json: exceeded max nesting depth of 512"));
  // A JSON patch that nests one 400-deep value inside another: 800 levels once applied.
  std::string deep = std::string(400, '[') + std::string(400, ']');
  std::string path = "/spec/x";
  for (int i = 0; i < 399; ++i)
    path += "/0";
  std::string ops = R"([{"op":"add","path":"/spec/x","value":)" + deep +
                    R"(},{"op":"add","path":")" + path + R"(/0","value":)" + deep + "}]";
  r = Run({"patch", "ippool", "p", "--type", "json", "-p", ops});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("the patched resource exceeds the max nesting depth of 512"));
}

TEST_F(HostileInputTest, UnreadableStoredValueIsSkippedByListAndAnErrorForGet) {
  ASSERT_EQ(Run({"apply", "-f", "-"}, Pool("good", "10.5.0.0/24")).code, 0);
  const std::string bad_key = "/calico/resources/v3/projectcalico.org/ippools/bad";
  ASSERT_TRUE(backend_.Put(bad_key, std::string(20000, '[') + std::string(20000, ']')));
  ASSERT_TRUE(backend_.Put("/calico/resources/v3/projectcalico.org/ippools/junk", "{not json"));
  auto r = Run({"get", "ippools"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("good"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("bad")));
  r = Run({"get", "ippool", "bad", "-o", "yaml"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("max nesting depth"));
}

TEST(ClientOpenerTest, FailureIsRememberedSoTheDialTimeoutIsPaidOnce) {
  // `calicoctl get nodes` asks for the client twice (version check, then the command): with an
  // unreachable etcd that was two dial timeouts, 20 s for "unreachable within 10000 ms".
  int opens = 0;
  auto opener = MakeClientOpener(
      [&](const datastore::ClientConfig&) -> Result<std::unique_ptr<datastore::Backend>> {
        ++opens;
        return Unavailable("etcd unreachable at http://127.0.0.1:1 within 10000 ms");
      });
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  Context ctx{.in = in,
              .out = out,
              .err = err,
              .open_client = opener,
              .build = {.version = "v3.31.0", .git_commit = "0123abc"},
              .retry_sleep_ms = 0};
  CommandRegistry registry = DefaultRegistry();
  ::setenv("DATASTORE_TYPE", "etcdv3", 1);
  ::setenv("ETCD_ENDPOINTS", "http://127.0.0.1:1", 1);
  const std::vector<std::string> args = {"get", "nodes"};
  const int code = ctl::Run(registry, args, ctx);
  ::unsetenv("DATASTORE_TYPE");
  ::unsetenv("ETCD_ENDPOINTS");
  EXPECT_EQ(code, 1);
  EXPECT_THAT(out.str() + err.str(), HasSubstr("etcd unreachable"));
  EXPECT_EQ(opens, 1);
  // A later ask returns the same error without dialling again.
  auto again = opener(ClientOptions{});
  ASSERT_FALSE(again);
  EXPECT_EQ(opens, 1);
}

}  // namespace
}  // namespace calico::ctl
