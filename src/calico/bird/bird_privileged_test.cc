// Privileged (root, network namespaces): two calico "hosts" in their own namespaces, joined by a
// veth pair, each running one BIRD 2 under a BirdSupervisor with the configuration rendered from a
// shared in-memory datastore. Checks the mesh session, the block routes BIRD programs, restart,
// reconfiguration and stop. Everything lives in namespaces and a temp dir this test creates;
// the only processes signalled are the birds the supervisors started.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
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
#include "calico/node/node_status_reporter.h"

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

// Gone, or a zombie waiting for init (it holds no socket, session or route any more).
bool Gone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z';
}

// Kills `pid` at the end of a test only if it is still a bird (never a reused PID).
struct BirdReaper {
  pid_t pid = 0;
  ~BirdReaper() {
    if (pid <= 0 || Gone(pid)) return;
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name == "bird") ::kill(pid, SIGKILL);
  }
};

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

  // calico-node's CalicoNodeStatus reporter on A's real BIRD (node/pkg/status).
  {
    datastore::MemBackend store;
    datastore::Client client(store);
    model::Resource req("CalicoNodeStatus", "host-a-status");
    req.spec()["node"] = "host-a";
    req.spec()["classes"] = model::Json{"Agent", "BGP", "Routes"};
    req.spec()["updatePeriodSeconds"] = 10;
    ASSERT_TRUE(client.Create(req));
    SystemClock clock;
    node::BirdcStatusSource source(sup_a_.socket_path());
    node::CalicoNodeStatusReporter reporter(client, clock, "host-a", source);
    auto wrote = reporter.Tick();
    ASSERT_TRUE(wrote) << wrote.error().message();
    EXPECT_EQ(*wrote, 1);
    auto got = client.Get("CalicoNodeStatus", "", "host-a-status");
    ASSERT_TRUE(got);
    const model::Json& st = got->doc()["status"];
    EXPECT_EQ(st["agent"]["birdV4"]["state"], "Ready") << st.dump();
    EXPECT_EQ(st["agent"]["birdV4"]["routerID"], "198.18.0.1") << st.dump();
    EXPECT_THAT(st["agent"]["birdV4"]["version"].get<std::string>(), HasSubstr("2."));
    EXPECT_EQ(st["bgp"]["numberEstablishedV4"], 1) << st.dump();
    EXPECT_EQ(st["bgp"]["peersV4"][0], (model::Json{{"peerIP", "198.18.0.2"},
                                                    {"type", "NodeMesh"},
                                                    {"state", "Established"},
                                                    {"since", st["bgp"]["peersV4"][0]["since"]}}));
    // B's block, learned over the mesh and in the kernel.
    bool learned = false;
    for (const model::Json& r : st["routes"]["routesV4"]) {
      if (r["destination"] == "10.65.1.0/26" && r["type"] == "FIB" &&
          r["learnedFrom"]["sourceType"] == "NodeMesh" &&
          r["learnedFrom"]["peerIP"] == "198.18.0.2" && r["gateway"] == "198.18.0.2") {
        learned = true;
      }
    }
    EXPECT_TRUE(learned) << st.dump();
  }

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

// No bird outlives its supervisor: a SIGKILLed calico-node (here: a child process owning a
// BirdSupervisor) takes its bird along (PR_SET_PDEATHSIG), and the next Start recovers.
TEST_F(BirdTwoHostsTest, BirdDiesWithAKilledSupervisor) {
  const std::string conf_a = Render("node-a");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t supervisor = ::fork();
  ASSERT_GE(supervisor, 0);
  if (supervisor == 0) {
    ::close(fds[0]);
    BirdSupervisor sup({.run_dir = (dir_.path / "a").string(), .netns_path = host_a_.path()});
    pid_t bird = sup.Start(conf_a) ? sup.pid() : 0;
    (void)!::write(fds[1], &bird, sizeof(bird));
    for (;;)
      ::pause();  // Until SIGKILL.
  }
  ::close(fds[1]);
  pid_t bird = 0;
  ASSERT_EQ(::read(fds[0], &bird, sizeof(bird)), static_cast<ssize_t>(sizeof(bird)));
  ::close(fds[0]);
  BirdReaper reaper{bird};
  ASSERT_GT(bird, 0) << Diagnostics();
  ASSERT_FALSE(Gone(bird));
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(supervisor, &status, 0), supervisor);
  EXPECT_TRUE(WaitFor([&] { return Gone(bird); }, std::chrono::seconds(5)))
      << "bird pid " << bird << " outlived its SIGKILLed supervisor";

  // bird.pid is left behind (bird had no chance to remove it): the next supervisor recovers.
  EXPECT_TRUE(fs::exists(sup_a_.pid_path()));
  ASSERT_TRUE(sup_a_.Start(conf_a)) << Diagnostics();
  EXPECT_TRUE(sup_a_.recovering());
  EXPECT_EQ(sup_a_.killed_stale_pid(), 0);
  ASSERT_TRUE(sup_a_.Stop());
  EXPECT_FALSE(fs::exists(sup_a_.restart_marker_path()));
  ASSERT_TRUE(sup_a_.Start(conf_a)) << Diagnostics();
  EXPECT_FALSE(sup_a_.recovering()) << "a full Stop leaves nothing to recover";
}

// A bird left running by an older calico-node (no parent-death signal: a daemonised bird on our
// socket, named by our bird.pid) is killed by the next Start, which recovers.
TEST_F(BirdTwoHostsTest, StaleBirdOnOurSocketIsReplaced) {
  const std::string conf_a = Render("node-a");
  const fs::path run = dir_.path / "a";
  fs::create_directories(run);
  std::ofstream(run / "bird.conf") << conf_a;
  ASSERT_EQ(host_a_.Exec("bird -c " + (run / "bird.conf").string() + " -s " +
                         (run / "bird.ctl").string() + " -P " + (run / "bird.pid").string()),
            0);
  ASSERT_TRUE(WaitFor(
      [&] {
        return BirdSocketAnswers((run / "bird.ctl").string(), std::chrono::milliseconds(200));
      },
      std::chrono::seconds(10)));
  pid_t stale = 0;
  std::ifstream(run / "bird.pid") >> stale;
  BirdReaper reaper{stale};
  ASSERT_GT(stale, 0);

  ASSERT_TRUE(sup_a_.Start(conf_a)) << Diagnostics();
  EXPECT_EQ(sup_a_.killed_stale_pid(), stale);
  EXPECT_TRUE(Gone(stale));
  EXPECT_NE(sup_a_.pid(), stale);
  EXPECT_TRUE(sup_a_.recovering());
  EXPECT_TRUE(BirdSocketAnswers(sup_a_.socket_path(), std::chrono::milliseconds(500)));

  // A pid file naming some other process is not ours to signal.
  ASSERT_TRUE(sup_a_.Stop());
  const pid_t sleeper = ::fork();
  if (sleeper == 0) {
    ::execlp("sleep", "sleep", "30", nullptr);
    ::_exit(127);
  }
  std::ofstream(run / "bird.pid") << sleeper << "\n";
  ASSERT_TRUE(sup_a_.Start(conf_a)) << Diagnostics();
  EXPECT_EQ(::kill(sleeper, 0), 0) << "Start signalled a process that is not its bird";
  ::kill(sleeper, SIGKILL);
  ::waitpid(sleeper, nullptr, 0);
}

// Hitless restarts: StopForRestart and a recovering Start keep the routes between the hosts in
// both kernels the whole time (peers keep ours as stale: graceful restart; our kernel keeps
// BIRD's routes: persist + -R). A full Stop withdraws them from the peer.
TEST_F(BirdTwoHostsTest, GracefulRestartKeepsRoutes) {
  const std::string conf_a = Render("node-a");
  const std::string conf_b = Render("node-b");
  ASSERT_TRUE(sup_a_.Start(conf_a)) << Diagnostics();
  ASSERT_TRUE(sup_b_.Start(conf_b)) << Diagnostics();
  auto routes_ok = [&] {
    return dataplane::testing::ShOut("ip -n " + host_a_.name() + " route show 10.65.1.0/26")
                   .find("via 198.18.0.2") != std::string::npos &&
           dataplane::testing::ShOut("ip -n " + host_b_.name() + " route show 10.65.0.0/26")
                   .find("via 198.18.0.1") != std::string::npos;
  };
  ASSERT_TRUE(WaitFor(routes_ok, std::chrono::seconds(30))) << Diagnostics();

  // Sample both kernels from just before the stop until the new bird has its session back.
  std::atomic<bool> sampling{true};
  std::atomic<int> samples{0};
  std::atomic<int> missing{0};
  std::thread sampler([&] {
    while (sampling) {
      ++samples;
      if (!routes_ok()) ++missing;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  ASSERT_TRUE(sup_a_.StopForRestart()) << Diagnostics();
  EXPECT_FALSE(sup_a_.Running());
  EXPECT_TRUE(fs::exists(sup_a_.restart_marker_path()));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // bird is down: routes must stay.
  BirdSupervisor again({.run_dir = (dir_.path / "a").string(), .netns_path = host_a_.path()});
  ASSERT_TRUE(again.Start(conf_a)) << Diagnostics();
  EXPECT_TRUE(again.recovering());
  EXPECT_FALSE(fs::exists(again.restart_marker_path()));
  const bool back = WaitFor([&] { return MeshState(again, "198.18.0.2") == "Established"; },
                            std::chrono::seconds(30));
  std::this_thread::sleep_for(std::chrono::seconds(3));  // past End-of-RIB and the kernel scan
  sampling = false;
  sampler.join();
  ASSERT_TRUE(back) << MeshState(again, "198.18.0.2") << "\n" << Diagnostics();
  EXPECT_GT(samples.load(), 20);
  EXPECT_EQ(missing.load(), 0) << missing.load() << " of " << samples.load()
                               << " samples lacked a route between the hosts";
  EXPECT_TRUE(routes_ok());

  // A full stop withdraws: B loses the route to A's block.
  ASSERT_TRUE(again.Stop());
  EXPECT_TRUE(WaitFor(
      [&] {
        return dataplane::testing::ShOut("ip -n " + host_b_.name() + " route show 10.65.0.0/26")
                   .find("via 198.18.0.1") == std::string::npos;
      },
      std::chrono::seconds(15)))
      << "B kept A's block after A's bird withdrew";
}

// Whatever umask the node runs with, nobody but root reaches bird's control socket (bird makes
// it 0660 root:root) or reads its configuration, and the run directory is not writable by others.
TEST_F(BirdTwoHostsTest, ControlSocketIsRootOnlyWhateverTheUmask) {
  const mode_t old = ::umask(0);
  Status st = sup_a_.Start(Render("node-a"));
  ::umask(old);
  ASSERT_TRUE(st) << Diagnostics();
  struct stat sock {};
  ASSERT_EQ(::stat(sup_a_.socket_path().c_str(), &sock), 0);
  EXPECT_EQ(sock.st_mode & 0007, 0u) << std::oct << (sock.st_mode & 0777);
  EXPECT_EQ(sock.st_gid, 0u);
  struct stat dir {};
  ASSERT_EQ(::stat((dir_.path / "a").c_str(), &dir), 0);
  EXPECT_EQ(dir.st_mode & 0022, 0u) << std::oct << (dir.st_mode & 0777);
  struct stat conf {};
  ASSERT_EQ(::stat(sup_a_.config_path().c_str(), &conf), 0);
  EXPECT_EQ(conf.st_mode & 0777, 0600u) << std::oct << (conf.st_mode & 0777);
}

}  // namespace
}  // namespace calico::bird
