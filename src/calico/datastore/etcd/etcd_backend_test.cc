// The etcd backend against a real etcd started by the test (loopback, free ports, temp data dir,
// stopped by PID): the Backend conformance suite, interoperability with etcdctl, and errors.
#include "calico/datastore/etcd/etcd_backend.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "calico/datastore/client.h"
#include "calico/datastore/local/sqlite_backend.h"
#include "calico/datastore/migrate.h"
#include "calico/datastore/testing/backend_conformance.h"

namespace calico::datastore::etcd {
namespace {

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  CALICO_CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  CALICO_CHECK(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

// One etcd member on loopback, killed by PID when destroyed.
class EtcdServer {
 public:
  EtcdServer() {
    dir_ = std::filesystem::temp_directory_path() / ("calico-etcd-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    client_port_ = FreePort();
    int peer_port = FreePort();
    url_ = "http://127.0.0.1:" + std::to_string(client_port_);
    std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
    pid_ = ::fork();
    CALICO_CHECK(pid_ >= 0);
    if (pid_ == 0) {
      std::string log = (dir_ / "etcd.log").string();
      FILE* f = std::freopen(log.c_str(), "w", stderr);
      (void)f;
      std::string data = (dir_ / "data").string();
      std::string initial = "t=" + peer;
      ::execlp("etcd", "etcd", "--name", "t", "--data-dir", data.c_str(), "--listen-client-urls",
               url_.c_str(), "--advertise-client-urls", url_.c_str(), "--listen-peer-urls",
               peer.c_str(), "--initial-advertise-peer-urls", peer.c_str(), "--initial-cluster",
               initial.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~EtcdServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  const std::string& url() const { return url_; }

  Result<std::unique_ptr<Backend>> Connect() const {
    EtcdConfig cfg;
    cfg.endpoints = {url_};
    cfg.dial_timeout = std::chrono::milliseconds(10000);
    return OpenEtcdBackend(cfg);
  }

  static EtcdServer& Shared() {
    static EtcdServer* server = new EtcdServer();  // Killed at exit by the atexit hook below.
    static bool registered = [] {
      std::atexit([] { server->~EtcdServer(); });
      return true;
    }();
    (void)registered;
    return *server;
  }

 private:
  std::filesystem::path dir_;
  int client_port_ = 0;
  std::string url_;
  pid_t pid_ = -1;
};

bool HaveEtcd() { return RunCommand("command -v etcd").find("etcd") != std::string::npos; }

INSTANTIATE_TEST_SUITE_P(
    Etcd, BackendConformanceTest,
    ::testing::Values(BackendFactory{"etcd", [] {
      CALICO_CHECK(HaveEtcd());
      auto backend = EtcdServer::Shared().Connect();
      CALICO_CHECK(backend.has_value());
      CALICO_CHECK((*backend)->DeletePrefix("").has_value());
      Backend* raw = backend->get();
      return BackendUnderTest{std::move(*backend), [raw](int64_t rev) {
                                CALICO_CHECK(CompactEtcd(*raw, rev).has_value());
                              }};
    }}),
    [](const ::testing::TestParamInfo<BackendFactory>& param_info) { return param_info.param.name; });

TEST(EtcdInteropTest, DataIsReadableWithEtcdctlBothWays) {
  ASSERT_TRUE(HaveEtcd()) << "etcd is not installed (make deps installs etcd-server)";
  auto backend = EtcdServer::Shared().Connect();
  ASSERT_TRUE(backend) << backend.error().message();
  const std::string key = "/calico/resources/v3/projectcalico.org/ippools/interop";
  const std::string value =
      R"({"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"interop"},"spec":{"cidr":"10.9.0.0/16"}})";
  ASSERT_TRUE((*backend)->Put(key, value));
  std::string env = "ETCDCTL_API=3 etcdctl --endpoints=" + EtcdServer::Shared().url() + " ";
  std::string got = RunCommand(env + "get --print-value-only " + key);
  EXPECT_NE(got.find("10.9.0.0/16"), std::string::npos) << got;
  RunCommand(env + "put /calico/ipam/v2/config '{\"strict_affinity\":true}'");
  auto read = (*backend)->Get("/calico/ipam/v2/config");
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->value, "{\"strict_affinity\":true}");
}

TEST(EtcdErrorsTest, UnreachableEndpointsAreNamedWithinTheTimeout) {
  EtcdConfig cfg;
  int port = FreePort();
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
  ASSERT_TRUE(HaveEtcd());
  EtcdConfig cfg;
  cfg.endpoints = {"http://127.0.0.1:" + std::to_string(FreePort()), EtcdServer::Shared().url()};
  auto backend = OpenEtcdBackend(cfg);
  ASSERT_TRUE(backend) << backend.error().message();
  ASSERT_TRUE((*backend)->Put("/calico/failover", "ok"));
  EXPECT_EQ((*backend)->Get("/calico/failover")->value, "ok");
}

// calicoctl datastore migrate: local -> etcd -> local loses nothing, and etcd holds Calico's keys.
TEST(EtcdMigrateTest, LocalToEtcdToLocalRoundTrip) {
  ASSERT_TRUE(HaveEtcd());
  auto dir = std::filesystem::temp_directory_path() / ("calico-migrate-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto local = SqliteBackend::Open((dir / "a.db").string());
  ASSERT_TRUE(local);
  Client client(**local);
  ASSERT_TRUE(client.EnsureInitialized());
  model::Resource pool("IPPool", "pool1");
  pool.spec()["cidr"] = "192.168.0.0/16";
  ASSERT_TRUE(client.Create(pool));
  ASSERT_TRUE((*local)->Put("/calico/ipam/v2/handle/net.abc", R"({"block":{"192.168.0.0/26":1},"deleted":false})"));

  auto etcd = EtcdServer::Shared().Connect();
  ASSERT_TRUE(etcd);
  ASSERT_TRUE((*etcd)->DeletePrefix("/calico/"));
  auto exported = ExportDatastore(**local);
  ASSERT_TRUE(exported);
  ASSERT_TRUE(ImportDatastore(*exported, **etcd));
  std::string got = RunCommand("ETCDCTL_API=3 etcdctl --endpoints=" + EtcdServer::Shared().url() +
                               " get --print-value-only /calico/resources/v3/projectcalico.org/ippools/pool1");
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

}  // namespace
}  // namespace calico::datastore::etcd
