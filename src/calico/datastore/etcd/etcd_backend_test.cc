// The etcd backend against a real etcd started by the test (datastore/testing/etcd_process.h:
// loopback, free ports, temp data dir, killed by PID): the Backend conformance suite,
// interoperability with etcdctl, and errors.
#include "calico/datastore/etcd/etcd_backend.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "calico/base/testing/temp_dir.h"
#include "calico/datastore/client.h"
#include "calico/datastore/local/sqlite_backend.h"
#include "calico/datastore/migrate.h"
#include "calico/datastore/testing/backend_conformance.h"
#include "calico/datastore/testing/etcd_client_checks.h"
#include "calico/datastore/testing/etcd_process.h"

namespace calico::datastore::etcd {
namespace {

using ::calico::testing::EtcdInstalled;
using ::calico::testing::EtcdMember;
using ::calico::testing::FreeLoopbackPort;

Result<std::unique_ptr<Backend>> ConnectWhenUp(const EtcdConfig& cfg) {
  return testing::ConnectWhenUp([](const EtcdConfig& c) { return OpenEtcdBackend(c); }, cfg);
}

// One member for the tests that need no cluster of their own, killed at exit.
EtcdMember& SharedEtcd() {
  static EtcdMember* member = [] {
    auto* m = new EtcdMember(::calico::testing::MakeTestDir("etcd-test"), "shared");
    CALICO_CHECK(m->WaitUntilServing());
    std::atexit([] { member->Kill(); });
    return m;
  }();
  return *member;
}

Result<std::unique_ptr<Backend>> ConnectShared() {
  EtcdConfig cfg;
  cfg.endpoints = {SharedEtcd().client_url()};
  return ConnectWhenUp(cfg);
}

// etcdctl's stdout ("" when it could not run).
std::string Etcdctl(const std::string& url, const std::vector<std::string>& args) {
  auto out = ::calico::testing::RunEtcdctl(url, args);
  return out ? out->out : "";
}

INSTANTIATE_TEST_SUITE_P(
    Etcd, BackendConformanceTest,
    ::testing::Values(BackendFactory{
        "etcd",
        [] {
          if (!EtcdInstalled()) {
            std::fprintf(stderr, "etcd is not installed: run `make deps` (Debian etcd-server)\n");
            std::abort();
          }
          auto backend = ConnectShared();
          if (!backend) {
            std::fprintf(stderr, "cannot reach the test etcd: %s\n",
                         backend.error().message().c_str());
            std::abort();
          }
          CALICO_CHECK((*backend)->DeletePrefix("").has_value());
          Backend* raw = backend->get();
          return BackendUnderTest{std::move(*backend), [raw](int64_t rev) {
                                    CALICO_CHECK(CompactEtcd(*raw, rev).has_value());
                                  }};
        }}),
    [](const ::testing::TestParamInfo<BackendFactory>& param_info) {
      return param_info.param.name;
    });

TEST(EtcdInteropTest, DataIsReadableWithEtcdctlBothWays) {
  ASSERT_TRUE(EtcdInstalled()) << "etcd is not installed (make deps installs etcd-server)";
  auto backend = ConnectShared();
  ASSERT_TRUE(backend) << backend.error().message();
  const std::string key = "/calico/resources/v3/projectcalico.org/ippools/interop";
  const std::string value =
      R"({"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"interop"},"spec":{"cidr":"10.9.0.0/16"}})";
  ASSERT_TRUE((*backend)->Put(key, value));
  const std::string url = SharedEtcd().client_url();
  std::string got = Etcdctl(url, {"get", "--print-value-only", key});
  EXPECT_NE(got.find("10.9.0.0/16"), std::string::npos) << got;
  Etcdctl(url, {"put", "/calico/ipam/v2/config", "{\"strict_affinity\":true}"});
  auto read = (*backend)->Get("/calico/ipam/v2/config");
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->value, "{\"strict_affinity\":true}");
}

TEST(EtcdErrorsTest, UnreachableEndpointsAreNamedWithinTheTimeout) {
  EtcdConfig cfg;
  int port = FreeLoopbackPort();
  cfg.endpoints = {"http://127.0.0.1:" + std::to_string(port)};
  cfg.dial_timeout = std::chrono::milliseconds(1000);
  auto start = std::chrono::steady_clock::now();
  auto backend = OpenEtcdBackend(cfg);
  ASSERT_FALSE(backend);
  EXPECT_EQ(backend.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(backend.error().message().find(cfg.endpoints[0]), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EtcdConfig bad;
  bad.endpoints = {"ftp://x"};
  EXPECT_EQ(OpenEtcdBackend(bad).error().code(), ErrorCode::kInvalidArgument);
}

TEST(EtcdFailoverTest, SecondEndpointServesWhenTheFirstIsDown) {
  ASSERT_TRUE(EtcdInstalled());
  EtcdConfig cfg;
  cfg.endpoints = {"http://127.0.0.1:" + std::to_string(FreeLoopbackPort()),
                   SharedEtcd().client_url()};
  auto backend = OpenEtcdBackend(cfg);
  ASSERT_TRUE(backend) << backend.error().message();
  ASSERT_TRUE((*backend)->Put("/calico/failover", "ok"));
  EXPECT_EQ((*backend)->Get("/calico/failover")->value, "ok");
}

std::filesystem::path FreshDir(const std::string& what) {
  return ::calico::testing::MakeTestDir(what);
}

TEST(EtcdTlsTest, MutualTlsWithGeneratedCertificates) {
  ASSERT_TRUE(EtcdInstalled());
  auto dir = FreshDir("etcd-tls");
  std::string d = dir.string();
  std::string script =
      "cd " + d +
      " && "
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out "
      "ca.pem && "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=etcd -keyout server.key -out server.csr && "
      "printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' > ext.cnf && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "
      "ext.cnf -out server.pem && "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=calico -keyout client.key -out client.csr && "
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "
      "ext.cnf -out client.pem";
  ASSERT_EQ(std::system((script + " >/dev/null 2>&1").c_str()), 0) << "openssl failed";
  EtcdMember etcd(dir, "tls",
                  {"--cert-file", d + "/server.pem", "--key-file", d + "/server.key",
                   "--trusted-ca-file", d + "/ca.pem", "--client-cert-auth"},
                  "https");
  const std::string url = etcd.client_url();
  EtcdConfig cfg;
  cfg.endpoints = {url};
  cfg.ca_cert_file = d + "/ca.pem";
  cfg.cert_file = d + "/client.pem";
  cfg.key_file = d + "/client.key";
  auto backend = ConnectWhenUp(cfg);
  ASSERT_TRUE(backend) << backend.error().message();
  ASSERT_TRUE((*backend)->Put("/calico/tls", "ok"));
  EXPECT_EQ((*backend)->Get("/calico/tls")->value, "ok");
  // Without a client certificate the server refuses us.
  EtcdConfig no_cert = cfg;
  no_cert.cert_file.clear();
  no_cert.key_file.clear();
  no_cert.dial_timeout = std::chrono::milliseconds(2000);
  auto refused = OpenEtcdBackend(no_cert);
  if (refused) {
    EXPECT_FALSE((*refused)->Get("/calico/tls"));
  } else {
    // The server's refusal is named (gRPC's own log lines no longer reach stderr).
    EXPECT_NE(refused.error().message().find("(TLS: "), std::string::npos)
        << refused.error().message();
    EXPECT_NE(refused.error().message().find("ETCD_CERT_FILE"), std::string::npos);
  }
  EtcdConfig missing = cfg;
  missing.ca_cert_file = d + "/nope.pem";
  auto bad = OpenEtcdBackend(missing);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("nope.pem"), std::string::npos);
  etcd.Kill();
  std::filesystem::remove_all(dir);
}

TEST(EtcdAuthTest, UsernameAndPassword) {
  ASSERT_TRUE(EtcdInstalled());
  auto dir = FreshDir("etcd-auth");
  EtcdMember etcd(dir, "auth", {"--auth-token-ttl", "1"});
  testing::ExpectAuthWithTokenRenewal(etcd.client_url(),
                                      [](const EtcdConfig& c) { return OpenEtcdBackend(c); });
  etcd.Kill();
  std::filesystem::remove_all(dir);
}

// A fresh 3-member cluster on loopback, members named <prefix>0..2; killed on destruction.
struct TestCluster {
  std::vector<std::string> client_urls;
  std::vector<std::unique_ptr<EtcdMember>> members;
};

TestCluster StartCluster(const std::filesystem::path& dir, const std::string& prefix) {
  TestCluster c;
  std::vector<std::string> peer_urls;
  std::string initial;
  for (int i = 0; i < 3; ++i) {
    peer_urls.push_back("http://127.0.0.1:" + std::to_string(FreeLoopbackPort()));
    if (i > 0) initial += ",";
    initial += prefix + std::to_string(i) + "=" + peer_urls.back();
  }
  for (size_t i = 0; i < 3; ++i) {
    // The flags after the member's own override them (the last value of a flag wins).
    c.members.push_back(std::make_unique<EtcdMember>(
        dir, prefix + std::to_string(i),
        std::vector<std::string>{"--listen-peer-urls", peer_urls[i],
                                 "--initial-advertise-peer-urls", peer_urls[i], "--initial-cluster",
                                 initial, "--initial-cluster-state", "new"}));
    c.client_urls.push_back(c.members.back()->client_url());
  }
  return c;
}

// A 3-member cluster loses one member in the middle of a write workload: every acknowledged
// write is still there and writes continue through the remaining members.
TEST(EtcdClusterTest, KillingOneMemberLosesNoAcknowledgedWrite) {
  ASSERT_TRUE(EtcdInstalled());
  auto dir = FreshDir("etcd-cluster");
  TestCluster cluster = StartCluster(dir, "m");
  auto& members = cluster.members;
  EtcdConfig cfg;
  cfg.endpoints = cluster.client_urls;
  auto backend = ConnectWhenUp(cfg);
  ASSERT_TRUE(backend) << backend.error().message();
  std::vector<std::string> acked;
  for (int i = 0; i < 60; ++i) {
    if (i == 20) members[0]->Kill();  // One member goes, whichever the client was using.
    std::string key = "/calico/cluster/" + std::to_string(i);
    for (int attempt = 0; attempt < 20; ++attempt) {
      if ((*backend)->Create(key, std::to_string(i))) {
        acked.push_back(key);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  EXPECT_GE(acked.size(), 55u) << "writes did not continue after losing a member";
  for (const std::string& key : acked) {
    auto got = (*backend)->Get(key);
    ASSERT_TRUE(got) << key << ": " << got.error().message();
  }
  members.clear();
  std::filesystem::remove_all(dir);
}

// A watch replaying 10k resources from an old revision delivers every event in order (the
// resync path of the agent), with the stream's queue bounded by back-pressure.
TEST(EtcdWatchScaleTest, ReplaysTenThousandResources) {
  ASSERT_TRUE(EtcdInstalled());
  auto backend = ConnectShared();
  ASSERT_TRUE(backend);
  auto start = (*backend)->List("/calico/scale/");
  ASSERT_TRUE(start);
  constexpr int kKeys = 10000;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE((*backend)->Put("/calico/scale/" + std::to_string(i), "v"));
  }
  auto watch = (*backend)->Watch("/calico/scale/", start->revision + 1);
  ASSERT_TRUE(watch);
  int seen = 0;
  int64_t last = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (seen < kKeys && std::chrono::steady_clock::now() < deadline) {
    auto evs = (*watch)->Next(std::chrono::milliseconds(500));
    ASSERT_TRUE(evs) << evs.error().message();
    for (const WatchEvent& ev : *evs) {
      EXPECT_GT(ev.kv.mod_revision, last);
      last = ev.kv.mod_revision;
      ++seen;
    }
  }
  EXPECT_EQ(seen, kKeys);
}

// A List larger than gRPC's default 4 MiB message limit comes back whole (paged at one revision).
TEST(EtcdListScaleTest, ListsMoreThanOneMessageWorthOfValues) {
  ASSERT_TRUE(EtcdInstalled());
  auto backend = ConnectShared();
  ASSERT_TRUE(backend);
  const std::string value(4096, 'x');
  constexpr int kKeys = 2500;  // ~10 MiB.
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE((*backend)->Put(fmt::format("/calico/big/{:05d}", i), value));
  }
  auto list = (*backend)->List("/calico/big/");
  ASSERT_TRUE(list) << list.error().message();
  ASSERT_EQ(list->kvs.size(), static_cast<size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) {
    EXPECT_EQ(list->kvs[static_cast<size_t>(i)].key, fmt::format("/calico/big/{:05d}", i));
  }
  for (const KVPair& kv : list->kvs)
    EXPECT_LE(kv.mod_revision, list->revision);
  // A batch read of the same prefix (one transaction holds a page) falls back to the paged List.
  auto batch =
      (*backend)->ReadMany({{.key = "/calico/big/", .prefix = true}, {.key = "/calico/big/00042"}});
  ASSERT_TRUE(batch) << batch.error().message();
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[0].kvs.size(), static_cast<size_t>(kKeys));
  ASSERT_EQ((*batch)[1].kvs.size(), 1u);
  EXPECT_EQ((*batch)[1].kvs[0].key, "/calico/big/00042");
  ASSERT_TRUE((*backend)->DeletePrefix("/calico/big/"));
}

// Watchers a member serves, from its /metrics (etcd_debugging_mvcc_watcher_total); -1 when
// the member does not answer.
int WatchersOn(const std::string& url) {
  int port = std::stoi(url.substr(url.rfind(':') + 1));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  std::string req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::write(fd, req.data(), req.size()) < 0) {
    ::close(fd);
    return -1;
  }
  std::string body;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0)
    body.append(buf, static_cast<size_t>(n));
  ::close(fd);
  const std::string metric = "\netcd_debugging_mvcc_watcher_total ";
  size_t at = body.find(metric);
  if (at == std::string::npos) return -1;
  return std::atoi(body.c_str() + at + metric.size());
}

// A watch served by a member that dies ends with kUnavailable naming the member; watching again
// from the last revision seen goes through a live member and misses nothing.
TEST(EtcdClusterTest, WatchResumesThroughAnotherMember) {
  ASSERT_TRUE(EtcdInstalled());
  auto dir = FreshDir("etcd-watch-cluster");
  TestCluster cluster = StartCluster(dir, "w");
  auto& members = cluster.members;
  const auto& client_urls = cluster.client_urls;
  EtcdConfig cfg;
  cfg.endpoints = client_urls;
  auto backend = ConnectWhenUp(cfg);
  ASSERT_TRUE(backend) << backend.error().message();
  auto start = (*backend)->List("/calico/w/");
  ASSERT_TRUE(start);
  auto watch = (*backend)->Watch("/calico/w/", start->revision + 1);
  ASSERT_TRUE(watch);
  ASSERT_TRUE((*backend)->Put("/calico/w/0", "0"));
  std::vector<std::string> seen;
  int64_t last = start->revision;
  auto drain = [&](WatchStream& w, size_t want) -> Status {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (seen.size() < want && std::chrono::steady_clock::now() < deadline) {
      ASSIGN_OR_RETURN(auto evs, w.Next(std::chrono::milliseconds(200)));
      for (const WatchEvent& ev : evs) {
        seen.push_back(ev.kv.key);
        last = ev.kv.mod_revision;
      }
    }
    return OkStatus();
  };
  ASSERT_TRUE(drain(**watch, 1));
  // Kill the member that serves the watch (whichever endpoint the backend is using).
  size_t serving = client_urls.size();
  for (size_t i = 0; i < client_urls.size(); ++i) {
    if (WatchersOn(client_urls[i]) > 0) serving = i;
  }
  ASSERT_LT(serving, client_urls.size()) << "no member reports the watch";
  members[serving]->Kill();
  std::vector<std::string> written = {"/calico/w/0"};
  for (int i = 1; i <= 5; ++i) {
    std::string key = "/calico/w/" + std::to_string(i);
    for (int attempt = 0; attempt < 40; ++attempt) {
      if ((*backend)->Put(key, "v")) {
        written.push_back(key);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  ASSERT_EQ(written.size(), 6u);
  Status ended = drain(**watch, written.size());
  ASSERT_FALSE(ended) << "the watch on a dead member should end";
  EXPECT_EQ(ended.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(ended.error().message().find(client_urls[serving]), std::string::npos)
      << ended.error().message();
  auto again = (*backend)->Watch("/calico/w/", last + 1);
  ASSERT_TRUE(again) << again.error().message();
  ASSERT_TRUE(drain(**again, written.size()));
  EXPECT_EQ(seen, written);
  members.clear();
  std::filesystem::remove_all(dir);
}

// calicoctl datastore migrate: local -> etcd -> local loses nothing, and etcd holds Calico's keys.
TEST(EtcdMigrateTest, LocalToEtcdToLocalRoundTrip) {
  ASSERT_TRUE(EtcdInstalled());
  auto dir = ::calico::testing::MakeTestDir("migrate");
  std::filesystem::create_directories(dir);
  auto local = SqliteBackend::Open((dir / "a.db").string());
  ASSERT_TRUE(local);
  Client client(**local);
  ASSERT_TRUE(client.EnsureInitialized());
  model::Resource pool("IPPool", "pool1");
  pool.spec()["cidr"] = "192.168.0.0/16";
  ASSERT_TRUE(client.Create(pool));
  ASSERT_TRUE((*local)->Put("/calico/ipam/v2/handle/net.abc",
                            R"({"block":{"192.168.0.0/26":1},"deleted":false})"));

  auto etcd = ConnectShared();
  ASSERT_TRUE(etcd);
  ASSERT_TRUE((*etcd)->DeletePrefix("/calico/"));
  auto exported = ExportDatastore(**local);
  ASSERT_TRUE(exported);
  ASSERT_TRUE(ImportDatastore(*exported, **etcd));
  std::string got = Etcdctl(
      SharedEtcd().client_url(),
      {"get", "--print-value-only", "/calico/resources/v3/projectcalico.org/ippools/pool1"});
  EXPECT_NE(got.find("192.168.0.0/16"), std::string::npos) << got;

  auto back = SqliteBackend::Open((dir / "b.db").string());
  ASSERT_TRUE(back);
  auto again = ExportDatastore(**etcd);
  ASSERT_TRUE(again);
  ASSERT_TRUE(ImportDatastore(*again, **back));
  auto a = (*local)->List("/calico/");
  auto b = (*back)->List("/calico/");
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->kvs.size(), b->kvs.size());
  for (size_t i = 0; i < a->kvs.size(); ++i) {
    EXPECT_EQ(a->kvs[i].key, b->kvs[i].key);
    EXPECT_EQ(a->kvs[i].value, b->kvs[i].value);
  }
  std::filesystem::remove_all(dir);
}

// Values that a user or another program wrote into etcd by hand (not JSON, or JSON nested deeper
// than the decoder's limit of 512) are skipped and logged by the client's readers, never fatal and
// never hiding the other resources of the kind, exactly as with the embedded store (Felix's
// calc/validation_filter.go skips what does not decode). Issue 19: the etcd path.
TEST(EtcdStoredValuesTest, UnreadableValuesAreSkippedByReaders) {
  ASSERT_TRUE(EtcdInstalled()) << "etcd is not installed (make deps installs etcd-server)";
  auto backend = ConnectShared();
  ASSERT_TRUE(backend) << backend.error().message();
  const std::string prefix = "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/";
  ASSERT_TRUE((*backend)->DeletePrefix(prefix));
  ASSERT_TRUE((*backend)->Put(
      prefix + "good",
      R"json({"kind":"GlobalNetworkPolicy","apiVersion":"projectcalico.org/v3",)json"
      R"json("metadata":{"name":"good"},"spec":{"selector":"all()","types":["Ingress"]}})json"));
  Etcdctl(SharedEtcd().client_url(), {"put", prefix + "garbage", "{not json"});
  ASSERT_TRUE((*backend)->Put(prefix + "deep", std::string(20000, '[') + std::string(20000, ']')));

  Client client(**backend);
  auto listed = client.ListWithRevision("GlobalNetworkPolicy");
  ASSERT_TRUE(listed) << listed.error().message();
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].name(), "good");
  EXPECT_EQ(listed->skipped, 2);

  // A direct read of one such value is an error naming the key, not a crash.
  auto one = client.Get("GlobalNetworkPolicy", "", "deep");
  ASSERT_FALSE(one);
  EXPECT_NE(one.error().message().find("globalnetworkpolicies/deep"), std::string::npos)
      << one.error().message();
  ASSERT_TRUE((*backend)->DeletePrefix(prefix));
}

}  // namespace
}  // namespace calico::datastore::etcd
