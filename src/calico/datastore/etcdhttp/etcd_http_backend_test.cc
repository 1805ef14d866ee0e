// The JSON-gateway etcd backend against a real etcd started by the test (loopback, free ports,
// temporary data dir, killed by PID): the Backend conformance suite, the key layout as etcdctl
// sees it, TLS with client certificates, authentication with token renewal, failover and errors.
#include "calico/datastore/etcdhttp/etcd_http_backend.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "calico/base/testing/temp_dir.h"
#include "calico/datastore/etcd/etcd_backend.h"
#include "calico/datastore/testing/backend_conformance.h"
#include "calico/datastore/testing/etcd_client_checks.h"
#include "calico/datastore/testing/etcd_process.h"

namespace calico::datastore::etcdhttp {
namespace {

using ::calico::testing::EtcdInstalled;
using ::calico::testing::EtcdMember;
using ::calico::testing::FreeLoopbackPort;

// etcdctl's stdout ("" when it could not run).
std::string Etcdctl(const std::string& url, const std::vector<std::string>& args) {
  auto out = ::calico::testing::RunEtcdctl(url, args);
  return out ? out->out : "";
}

Result<std::unique_ptr<Backend>> ConnectWhenUp(const EtcdConfig& cfg) {
  return testing::ConnectWhenUp([](const EtcdConfig& c) { return OpenEtcdHttpBackend(c); }, cfg);
}

EtcdMember& SharedEtcd() {
  static EtcdMember* member = [] {
    auto* m = new EtcdMember(::calico::testing::MakeTestDir("etcd-http"), "shared");
    CALICO_CHECK(m->WaitUntilServing());
    std::atexit([] { member->Kill(); });
    return m;
  }();
  return *member;
}

EtcdConfig SharedConfig() {
  EtcdConfig cfg;
  cfg.endpoints = {SharedEtcd().client_url()};
  return cfg;
}

INSTANTIATE_TEST_SUITE_P(
    EtcdHttp, BackendConformanceTest,
    ::testing::Values(BackendFactory{
        "etcd_http",
        [] {
          if (!EtcdInstalled()) {
            std::fprintf(stderr, "etcd is not installed: run `make deps` (Debian etcd-server)\n");
            std::abort();
          }
          auto backend = ConnectWhenUp(SharedConfig());
          if (!backend) {
            std::fprintf(stderr, "cannot reach the test etcd: %s\n",
                         backend.error().message().c_str());
            std::abort();
          }
          CALICO_CHECK((*backend)->DeletePrefix("").has_value());
          Backend* raw = backend->get();
          return BackendUnderTest{std::move(*backend), [raw](int64_t rev) {
                                    CALICO_CHECK(CompactEtcdHttp(*raw, rev).has_value());
                                  }};
        }}),
    [](const ::testing::TestParamInfo<BackendFactory>& param_info) {
      return param_info.param.name;
    });

TEST(EtcdHttpInteropTest, KeysAndValuesAreEtcdsOwnBothWays) {
  ASSERT_TRUE(EtcdInstalled());
  auto backend = ConnectWhenUp(SharedConfig());
  ASSERT_TRUE(backend) << backend.error().message();
  const std::string url = SharedEtcd().client_url();
  ASSERT_TRUE(
      (*backend)->Put("/calico/resources/v3/projectcalico.org/ippools/p1", R"({"kind":"IPPool"})"));
  EXPECT_EQ(Etcdctl(url, {"get", "--print-value-only",
                          "/calico/resources/v3/projectcalico.org/ippools/p1"}),
            "{\"kind\":\"IPPool\"}\n");
  auto put = ::calico::testing::RunEtcdctl(url, {"put", "/calico/from-etcdctl", "a value"});
  ASSERT_TRUE(put && put->exit_code == 0);
  auto got = (*backend)->Get("/calico/from-etcdctl");
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->value, "a value");
}

TEST(EtcdHttpErrorsTest, UnreachableEndpointsAreNamedWithinTheTimeout) {
  EtcdConfig cfg;
  cfg.endpoints = {"http://127.0.0.1:" + std::to_string(FreeLoopbackPort())};
  cfg.dial_timeout = std::chrono::milliseconds(1000);
  auto backend = OpenEtcdHttpBackend(cfg);
  ASSERT_FALSE(backend);
  EXPECT_EQ(backend.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(backend.error().message().find(cfg.endpoints[0]), std::string::npos);
  EXPECT_NE(backend.error().message().find("Connection refused"), std::string::npos)
      << backend.error().message();
  EtcdConfig bad;
  bad.endpoints = {"ftp://x"};
  EXPECT_EQ(OpenEtcdHttpBackend(bad).error().code(), ErrorCode::kInvalidArgument);
  bad.endpoints = {"http://127.0.0.1:99999"};
  EXPECT_EQ(OpenEtcdHttpBackend(bad).error().code(), ErrorCode::kInvalidArgument);
}

TEST(EtcdHttpFailoverTest, NextEndpointServesWhenOneIsDown) {
  ASSERT_TRUE(EtcdInstalled());
  // The scan starts at a random endpoint; over a few opens both orders occur.
  for (int i = 0; i < 4; ++i) {
    EtcdConfig cfg;
    cfg.endpoints = {"http://127.0.0.1:" + std::to_string(FreeLoopbackPort()),
                     SharedEtcd().client_url()};
    if (i % 2 == 1) std::swap(cfg.endpoints[0], cfg.endpoints[1]);
    auto backend = ConnectWhenUp(cfg);
    ASSERT_TRUE(backend) << backend.error().message();
    ASSERT_TRUE((*backend)->Put("/calico/failover", "ok"));
    EXPECT_EQ((*backend)->Get("/calico/failover")->value, "ok");
  }
}

TEST(EtcdHttpFailoverTest, RequestsMoveToTheNextMemberWhenTheirsDies) {
  ASSERT_TRUE(EtcdInstalled());
  auto dir = ::calico::testing::MakeTestDir("etcd-http-failover");
  // Two independent members holding the same key: the client follows whichever answers.
  EtcdMember a(dir, "a");
  EtcdMember b(dir, "b");
  ASSERT_TRUE(a.WaitUntilServing() && b.WaitUntilServing());
  EtcdConfig cfg;
  cfg.endpoints = {a.client_url(), b.client_url()};
  auto backend = ConnectWhenUp(cfg);
  ASSERT_TRUE(backend) << backend.error().message();
  for (EtcdMember* m : {&a, &b}) {
    EtcdConfig one;
    one.endpoints = {m->client_url()};
    auto direct = ConnectWhenUp(one);
    ASSERT_TRUE(direct);
    ASSERT_TRUE((*direct)->Put("/calico/where", m->client_url()));
  }
  auto first = (*backend)->Get("/calico/where");
  ASSERT_TRUE(first);
  EtcdMember& serving = first->value == a.client_url() ? a : b;
  const std::string other = &serving == &a ? b.client_url() : a.client_url();
  serving.Kill();
  auto second = (*backend)->Get("/calico/where");
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->value, other);
  // Both gone: the error names each endpoint.
  (&serving == &a ? b : a).Kill();
  auto none = (*backend)->Get("/calico/where");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(none.error().message().find(a.client_url()), std::string::npos);
  EXPECT_NE(none.error().message().find(b.client_url()), std::string::npos);
}

// A 3-member cluster that loses quorum: the first request waits for etcd's own timeout on the
// surviving member and names every endpoint; the next ones are answered at once with that error
// instead of each waiting again (a CNI ADD makes several).
TEST(EtcdHttpClusterTest, LostQuorumIsRememberedInsteadOfWaitedForAgain) {
  ASSERT_TRUE(EtcdInstalled());
  auto dir = ::calico::testing::MakeTestDir("etcd-http-quorum");
  std::vector<std::string> peers;
  std::string initial;
  for (int i = 0; i < 3; ++i) {
    peers.push_back("http://127.0.0.1:" + std::to_string(FreeLoopbackPort()));
    initial += (i > 0 ? "," : "") + ("q" + std::to_string(i)) + "=" + peers.back();
  }
  std::vector<std::unique_ptr<EtcdMember>> members;
  for (size_t i = 0; i < 3; ++i) {
    // The flags after the member's own override them (the last value of a flag wins).
    members.push_back(std::make_unique<EtcdMember>(
        dir, "q" + std::to_string(i),
        std::vector<std::string>{"--listen-peer-urls", peers[i], "--initial-advertise-peer-urls",
                                 peers[i], "--initial-cluster", initial}));
  }
  EtcdConfig cfg;
  for (auto& m : members) {
    ASSERT_TRUE(m->WaitUntilServing());
    cfg.endpoints.push_back(m->client_url());
  }
  auto backend = ConnectWhenUp(cfg);
  ASSERT_TRUE(backend) << backend.error().message();
  ASSERT_TRUE((*backend)->Put("/calico/quorum", "1"));
  members[1]->Kill();
  members[2]->Kill();
  auto first = (*backend)->Get("/calico/quorum");
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code(), ErrorCode::kUnavailable);
  for (const std::string& url : cfg.endpoints) {
    EXPECT_NE(first.error().message().find(url), std::string::npos) << first.error().message();
  }
  auto second = (*backend)->Put("/calico/quorum", "2");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(second.error().message().find("not asked again"), std::string::npos)
      << second.error().message();
  EXPECT_NE(second.error().message().find(cfg.endpoints[0]), std::string::npos);
}

TEST(EtcdHttpTlsTest, MutualTlsWithGeneratedCertificates) {
  ASSERT_TRUE(EtcdInstalled());
  auto dir = ::calico::testing::MakeTestDir("etcd-http-tls");
  const std::string d = dir.string();
  const std::string script =
      "cd " + d +
      " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key "
      "-out ca.pem && "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=etcd -keyout server.key -out server.csr && "
      "printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' > ext.cnf && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "
      "ext.cnf -out server.pem && "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=calico -keyout client.key -out client.csr && "
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "
      "ext.cnf -out client.pem && "
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key "
      "-out other.pem";
  ASSERT_EQ(std::system((script + " >/dev/null 2>&1").c_str()), 0) << "openssl failed";
  EtcdMember etcd(dir, "tls",
                  {"--cert-file", d + "/server.pem", "--key-file", d + "/server.key",
                   "--trusted-ca-file", d + "/ca.pem", "--client-cert-auth"},
                  "https");
  ASSERT_TRUE(etcd.WaitUntilServing());
  EtcdConfig cfg;
  cfg.endpoints = {etcd.client_url()};
  cfg.ca_cert_file = d + "/ca.pem";
  cfg.cert_file = d + "/client.pem";
  cfg.key_file = d + "/client.key";
  auto backend = ConnectWhenUp(cfg);
  ASSERT_TRUE(backend) << backend.error().message();
  ASSERT_TRUE((*backend)->Put("/calico/tls", "ok"));
  EXPECT_EQ((*backend)->Get("/calico/tls")->value, "ok");
  auto watch = (*backend)->Watch("/calico/", 0);
  ASSERT_TRUE(watch) << watch.error().message();
  ASSERT_TRUE((*backend)->Put("/calico/tls2", "watched"));
  auto events = (*watch)->Next(std::chrono::seconds(5));
  ASSERT_TRUE(events) << events.error().message();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kv.value, "watched");
  // Without a client certificate the server refuses us: at the handshake, or (TLS 1.3, where the
  // client finishes first) at the first request.
  EtcdConfig no_cert = cfg;
  no_cert.cert_file.clear();
  no_cert.key_file.clear();
  no_cert.dial_timeout = std::chrono::milliseconds(2000);
  auto refused = OpenEtcdHttpBackend(no_cert);
  if (refused) {
    auto get = (*refused)->Get("/calico/tls");
    ASSERT_FALSE(get);
    EXPECT_EQ(get.error().code(), ErrorCode::kUnavailable);
  } else {
    EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
  }
  // A server certificate from another CA: the handshake fails and says why.
  EtcdConfig wrong_ca = cfg;
  wrong_ca.ca_cert_file = d + "/other.pem";
  wrong_ca.dial_timeout = std::chrono::milliseconds(1000);
  auto untrusted = OpenEtcdHttpBackend(wrong_ca);
  ASSERT_FALSE(untrusted);
  EXPECT_NE(untrusted.error().message().find("certificate verify failed"), std::string::npos)
      << untrusted.error().message();
  // Unreadable files are named.
  EtcdConfig missing = cfg;
  missing.ca_cert_file = d + "/nope.pem";
  auto bad = OpenEtcdHttpBackend(missing);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("nope.pem"), std::string::npos);
}

// etcd 3.4 with auth on refuses its gateway to a client certificate with a CommonName: without
// a fallback that is a clear kUnsupported; with the gRPC client as the fallback (as the factory
// gives it) every operation goes there and works.
TEST(EtcdHttpTlsTest, GatewayRefusedToACommonNameCertificateFallsBackToGrpc) {
  ASSERT_TRUE(EtcdInstalled());
  auto dir = ::calico::testing::MakeTestDir("etcd-http-cn");
  const std::string d = dir.string();
  const std::string script =
      "cd " + d +
      " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key "
      "-out ca.pem && "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=etcd -keyout server.key -out server.csr && "
      "printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' > ext.cnf "
      "&& openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile ext.cnf -out server.pem && "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=root -keyout client.key -out client.csr && "
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "
      "ext.cnf -out client.pem";
  ASSERT_EQ(std::system((script + " >/dev/null 2>&1").c_str()), 0) << "openssl failed";
  EtcdMember etcd(dir, "cn",
                  {"--cert-file", d + "/server.pem", "--key-file", d + "/server.key",
                   "--trusted-ca-file", d + "/ca.pem", "--client-cert-auth"},
                  "https");
  ASSERT_TRUE(etcd.WaitUntilServing());
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"user", "add", "root:secret"},
                                             {"user", "grant-role", "root", "root"},
                                             {"auth", "enable"}}) {
    std::vector<std::string> with_tls = {"--cacert=" + d + "/ca.pem", "--cert=" + d + "/client.pem",
                                         "--key=" + d + "/client.key"};
    with_tls.insert(with_tls.end(), args.begin(), args.end());
    auto ran = ::calico::testing::RunEtcdctl(etcd.client_url(), with_tls);
    ASSERT_TRUE(ran && ran->exit_code == 0) << args[0] << " " << args[1];
  }
  EtcdConfig cfg;
  cfg.endpoints = {etcd.client_url()};
  cfg.ca_cert_file = d + "/ca.pem";
  cfg.cert_file = d + "/client.pem";
  cfg.key_file = d + "/client.key";
  cfg.username = "root";
  cfg.password = "secret";
  auto refused = OpenEtcdHttpBackend(cfg);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(refused.error().message().find("CommonName"), std::string::npos)
      << refused.error().message();
  auto backend = OpenEtcdHttpBackend(cfg, [&cfg] { return etcd::OpenEtcdBackend(cfg); });
  ASSERT_TRUE(backend) << backend.error().message();
  ASSERT_TRUE((*backend)->Put("/calico/cn", "via grpc"));
  EXPECT_EQ((*backend)->Get("/calico/cn")->value, "via grpc");
}

TEST(EtcdHttpAuthTest, UsernameAndPasswordWithTokenRenewal) {
  ASSERT_TRUE(EtcdInstalled());
  auto dir = ::calico::testing::MakeTestDir("etcd-http-auth");
  EtcdMember etcd(dir, "auth", {"--auth-token-ttl", "1"});
  ASSERT_TRUE(etcd.WaitUntilServing());
  testing::ExpectAuthWithTokenRenewal(etcd.client_url(),
                                      [](const EtcdConfig& c) { return OpenEtcdHttpBackend(c); });
}

}  // namespace
}  // namespace calico::datastore::etcdhttp
