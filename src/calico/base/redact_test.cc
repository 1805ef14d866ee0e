#include "calico/base/redact.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace calico::base
