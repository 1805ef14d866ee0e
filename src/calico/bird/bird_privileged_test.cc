// Privileged (root, network namespaces): two calico "hosts" in their own namespaces, joined by a
// veth pair, each running one BIRD 2 under a BirdSupervisor with the configuration rendered from a
// shared in-memory datastore. Checks the mesh session, the block routes BIRD programs, restart,
// reconfiguration and stop. Everything lives in namespaces and a temp dir this test creates;
// the only processes signalled are the birds the supervisors started.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/bird/bird_config.h"
#include "calico/bird/bird_inputs.h"
#include "calico/bird/bird_status.h"
#include "calico/bird/bird_supervisor.h"
#include "calico/dataplane/testing/netns_fixture.h"
#include "calico/datastore/client.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::bird {
namespace {

namespace fs = std::filesystem;
using dataplane::testing::ScopedNetns;
using dataplane::testing::Sh;
using model::Json;
using ::testing::HasSubstr;

// Polls `done` every 200 ms until it holds or `limit` passes.
bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

// The state of the mesh session to `peer_ip` as birdc reports it ("" when there is none).
std::string MeshState(BirdSupervisor& sup, const std::string& peer_ip) {
  auto peers = ShowBirdPeers(sup.socket_path());
  if (!peers) return "error: " + peers.error().message();
  for (const auto& p : *peers) {
    if (p.type == BgpPeerType::kNodeToNodeMesh && p.peer_address == peer_ip) return p.bgp_state;
  }
  return "";
}

struct TempDir {
  TempDir() : path(fs::temp_directory_path() / ("calico-bird-priv-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  fs::path path;
};

class BirdTwoHostsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    ASSERT_EQ(Sh("bird --version"), 0) << "bird is not installed: run make deps";
    ASSERT_TRUE(host_a_.ok() && host_b_.ok());
    ASSERT_EQ(Sh("ip -n " + host_a_.name() + " link add eth0 type veth peer name eth0 netns " +
                 host_b_.name()),
              0);
    ASSERT_EQ(host_a_.Exec("ip addr add 198.18.0.1/24 dev eth0"), 0);
    ASSERT_EQ(host_b_.Exec("ip addr add 198.18.0.2/24 dev eth0"), 0);
    ASSERT_EQ(host_a_.Exec("ip link set eth0 up"), 0);
    ASSERT_EQ(host_b_.Exec("ip link set eth0 up"), 0);

    CreateResource("Node", "node-a", Json{{"bgp", {{"ipv4Address", "198.18.0.1/24"}}}});
    CreateResource("Node", "node-b", Json{{"bgp", {{"ipv4Address", "198.18.0.2/24"}}}});
    CreateResource("IPPool", "pool",
                   Json{{"cidr", "10.65.0.0/16"}, {"ipipMode", "Never"}, {"vxlanMode", "Never"}});
    ASSERT_TRUE(store_.Put(
        datastore::BlockAffinityKey{.cidr = *net::CIDR::Parse("10.65.0.0/26"), .host = "node-a"}
            .Format(),
        R"({"state":"confirmed","deleted":false})"));
    ASSERT_TRUE(store_.Put(
        datastore::BlockAffinityKey{.cidr = *net::CIDR::Parse("10.65.1.0/26"), .host = "node-b"}
            .Format(),
        R"({"state":"confirmed","deleted":false})"));
  }

  void CreateResource(std::string_view kind, std::string_view name, Json spec) {
    model::Resource r(kind, name);
    r.spec() = std::move(spec);
    auto created = client_.Apply(std::move(r));
    ASSERT_TRUE(created) << created.error().message();
  }

  std::string Render(const std::string& node) {
    auto input = BirdInputFromDatastore(client_, store_, node);
    EXPECT_TRUE(input) << input.error().message();
    if (!input) return "";
    auto text = BuildBirdConfig(*input);
    EXPECT_TRUE(text) << text.error().message();
    return text ? *text : "";
  }

  std::string Diagnostics() {
    std::string out;
    for (auto* sup : {&sup_a_, &sup_b_}) {
      std::string log;
      Sh("tail -n 30 " + sup->log_path(), &log);
      out += "--- " + sup->log_path() + "\n" + log;
    }
    return out;
  }

  // Destroyed in reverse order: supervisors (stop bird) first, then namespaces, then the dir.
  TempDir dir_;
  ScopedNetns host_a_{"calico-bird-a"};
  ScopedNetns host_b_{"calico-bird-b"};
  datastore::MemBackend store_;
  datastore::Client client_{store_};
  BirdSupervisor sup_a_{{.run_dir = (dir_.path / "a").string(), .netns_path = host_a_.path()}};
  BirdSupervisor sup_b_{{.run_dir = (dir_.path / "b").string(), .netns_path = host_b_.path()}};
};

TEST_F(BirdTwoHostsTest, MeshRoutesReconfigureStop) {
  const std::string conf_a = Render("node-a");
  const std::string conf_b = Render("node-b");
  ASSERT_THAT(conf_a, HasSubstr("protocol bgp Mesh_198_18_0_2"));
  ASSERT_THAT(conf_b, HasSubstr("protocol bgp Mesh_198_18_0_1"));

  ASSERT_TRUE(sup_a_.Start(conf_a)) << Diagnostics();
  ASSERT_TRUE(sup_b_.Start(conf_b)) << Diagnostics();
  EXPECT_THAT(sup_a_.Start(conf_a).error().message(), HasSubstr("already running"));
  const pid_t pid_a = sup_a_.pid();
  const pid_t pid_b = sup_b_.pid();
  ASSERT_GT(pid_a, 0);
  ASSERT_GT(pid_b, 0);
  // bird runs in its host's namespace, not ours.
  EXPECT_NE(fs::read_symlink("/proc/" + std::to_string(pid_a) + "/ns/net"),
            fs::read_symlink("/proc/self/ns/net"));
  std::string ns_of_a;
  Sh("ip netns identify " + std::to_string(pid_a), &ns_of_a);
  EXPECT_THAT(ns_of_a, HasSubstr(host_a_.name()));

  // The mesh session comes up on both sides (about 4 s with BIRD 2.0.12).
  ASSERT_TRUE(WaitFor(
      [&] {
        return MeshState(sup_a_, "198.18.0.2") == "Established" &&
               MeshState(sup_b_, "198.18.0.1") == "Established";
      },
      std::chrono::seconds(30)))
      << "A: " << MeshState(sup_a_, "198.18.0.2") << " B: " << MeshState(sup_b_, "198.18.0.1")
      << "\n"
      << Diagnostics();

  // Each side programs the other's block through the peer.
  std::string routes_a;
  std::string routes_b;
  EXPECT_TRUE(WaitFor(
      [&] {
        routes_a =
            dataplane::testing::ShOut("ip -n " + host_a_.name() + " route show 10.65.1.0/26");
        routes_b =
            dataplane::testing::ShOut("ip -n " + host_b_.name() + " route show 10.65.0.0/26");
        return routes_a.find("via 198.18.0.2") != std::string::npos &&
               routes_b.find("via 198.18.0.1") != std::string::npos;
      },
      std::chrono::seconds(15)))
      << "A: " << routes_a << "B: " << routes_b;
  EXPECT_THAT(routes_a, HasSubstr("proto bird"));
  EXPECT_THAT(routes_b, HasSubstr("proto bird"));

  // calicoctl node status on A.
  auto peers = ShowBirdPeers(sup_a_.socket_path());
  ASSERT_TRUE(peers) << peers.error().message();
  auto status = RenderNodeStatus({.peers = *peers});
  ASSERT_TRUE(status);
  EXPECT_THAT(*status, HasSubstr("| 198.18.0.2   | node-to-node mesh | up    |"));
  EXPECT_THAT(*status, HasSubstr("| Established |"));

  // Unchanged text: nothing to do. A config bird rejects: the running one stays.
  EXPECT_TRUE(sup_a_.Reconfigure(conf_a));
  Status bad = sup_a_.Reconfigure(conf_a + "\nprotocol bgp broken { neighbor 198.18.0.9; }\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(sup_a_.current_config(), conf_a);
  EXPECT_TRUE(sup_a_.Running());

  // A dead bird is restarted with its last good config, in its namespace.
  ASSERT_EQ(::kill(pid_a, SIGKILL), 0);
  EXPECT_TRUE(WaitFor([&] { return !sup_a_.Running(); }, std::chrono::seconds(5)));
  ASSERT_TRUE(sup_a_.EnsureRunning()) << Diagnostics();
  const pid_t pid_a2 = sup_a_.pid();
  EXPECT_NE(pid_a2, pid_a);
  std::string ns_of_a2;
  Sh("ip netns identify " + std::to_string(pid_a2), &ns_of_a2);
  EXPECT_THAT(ns_of_a2, HasSubstr(host_a_.name()));
  ASSERT_TRUE(WaitFor([&] { return MeshState(sup_a_, "198.18.0.2") == "Established"; },
                      std::chrono::seconds(30)))
      << MeshState(sup_a_, "198.18.0.2") << "\n"
      << Diagnostics();

  // Mesh off in the datastore: re-rendered configs drop the session on both sides.
  CreateResource("BGPConfiguration", "default", Json{{"nodeToNodeMeshEnabled", false}});
  const std::string off_a = Render("node-a");
  const std::string off_b = Render("node-b");
  ASSERT_THAT(off_a, ::testing::Not(HasSubstr("Mesh_")));
  ASSERT_TRUE(sup_a_.Reconfigure(off_a)) << Diagnostics();
  ASSERT_TRUE(sup_b_.Reconfigure(off_b)) << Diagnostics();
  EXPECT_TRUE(WaitFor(
      [&] {
        return MeshState(sup_a_, "198.18.0.2").empty() && MeshState(sup_b_, "198.18.0.1").empty();
      },
      std::chrono::seconds(15)))
      << "A: " << MeshState(sup_a_, "198.18.0.2") << " B: " << MeshState(sup_b_, "198.18.0.1");
  EXPECT_EQ(sup_a_.current_config(), off_a);

  // Stop: both birds gone (only the PIDs we started), socket and pid file removed.
  ASSERT_TRUE(sup_a_.Stop());
  ASSERT_TRUE(sup_b_.Stop());
  EXPECT_FALSE(sup_a_.Running());
  for (pid_t pid : {pid_a2, pid_b}) {
    errno = 0;
    EXPECT_EQ(::kill(pid, 0), -1) << "bird pid " << pid << " still exists";
    EXPECT_EQ(errno, ESRCH);
  }
  EXPECT_FALSE(fs::exists(sup_a_.socket_path()));
  EXPECT_FALSE(fs::exists(sup_a_.pid_path()));
  EXPECT_FALSE(BirdSocketAnswers(sup_b_.socket_path(), std::chrono::milliseconds(200)));
  EXPECT_TRUE(sup_a_.Stop());  // Idempotent.
}

}  // namespace
}  // namespace calico::bird
