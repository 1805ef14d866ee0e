#include "calico/base/redact.h"

#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "calico/base/testing/temp_dir.h"

namespace calico::base {
namespace {

TEST(RedactTest, BirdPasswords) {
  EXPECT_EQ(Redact("  neighbor 198.18.0.12 as 64512;\n  password \"s3cr\\\"et\";\n"),
            "  neighbor 198.18.0.12 as 64512;\n  password \"<redacted>\";\n");
}

TEST(RedactTest, CommandLinesEnvironmentAndConfig) {
  EXPECT_EQ(Redact("etcdctl --user root --password=hunter2 get /"),
            "etcdctl --user root --password=<redacted> get /");
  EXPECT_EQ(Redact("etcd --peer-password hunter2 x"), "etcd --peer-password <redacted> x");
  EXPECT_EQ(Redact("ETCD_PASSWORD=hunter2 ETCD_USERNAME=root"),
            "ETCD_PASSWORD=<redacted> ETCD_USERNAME=root");
  EXPECT_EQ(Redact("  etcdPassword: \"hunter 2\"\n  etcdUsername: root\n"),
            "  etcdPassword: <redacted>\n  etcdUsername: root\n");
  EXPECT_EQ(Redact("{\"etcd_password\": \"x\"}"), "{\"etcd_password\": <redacted>}");
}

TEST(RedactTest, PrivateKeys) {
  std::string pem =
      "cert ok\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nabc\n"
      "-----END PRIVATE KEY-----\ntail\n";
  EXPECT_EQ(Redact(pem), "cert ok\n-----BEGIN PRIVATE KEY----- <redacted>\ntail\n");
  EXPECT_EQ(Redact("-----BEGIN EC PRIVATE KEY-----\nxyz\n-----END EC PRIVATE KEY-----"),
            "-----BEGIN EC PRIVATE KEY----- <redacted>");
}

TEST(RedactTest, LeavesOrdinaryTextAlone) {
  std::string text =
      "protocol bgp Mesh_198_18_0_12 { neighbor 198.18.0.12 as 64512; }\n"
      "ip route 198.19.0.0/26 dev cali1234 proto 80\n";
  EXPECT_EQ(Redact(text), text);
}

// A diagnostics bundle: every file below the directory, nested ones too, loses its secrets in
// place; a file without any keeps its text.
TEST(RedactTest, FilesBelowADirectory) {
  const std::filesystem::path dir = calico::testing::MakeTestDir("redact");
  std::filesystem::create_directories(dir / "nodes" / "n1");
  std::ofstream(dir / "bird.cfg") << "  password \"s3cret\";\n";
  std::ofstream(dir / "nodes" / "n1" / "cmdline") << "etcd --password=hunter2\n";
  std::ofstream(dir / "plain.txt") << "nothing secret\n";
  RedactFiles(dir);
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(read(dir / "bird.cfg"), "  password \"<redacted>\";\n");
  EXPECT_EQ(read(dir / "nodes" / "n1" / "cmdline"), "etcd --password=<redacted>\n");
  EXPECT_EQ(read(dir / "plain.txt"), "nothing secret\n");
  RedactFiles(dir / "missing");  // A directory that is not there: nothing to do.
}

}  // namespace
}  // namespace calico::base
