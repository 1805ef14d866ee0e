// CalicoNodeStatus reporter (node/pkg/status/reporter.go): classes, periods, compare-and-swap.
// BIRD is a stateful fake here; the parsers' real BIRD 2 output is in bird_status_test.cc and a
// real BIRD feeds the reporter in bird_privileged_test.cc.
#include "calico/node/node_status_reporter.h"

#include <functional>

#include <gtest/gtest.h>

#include "calico/base/testing/fake_clock.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::node {
namespace {

using ::calico::testing::FakeClock;
using model::Json;

class FakeBird final : public BirdStatusSource {
 public:
  bool running = true;
  bird::BirdDaemonStatus daemon{.ready = true,
                                .version = "2.0.12",
                                .router_id = "10.0.0.1",
                                .server_time = "2026-12-07 10:00:05.000",
                                .last_boot = "2026-12-07 10:00:00.000",
                                .last_reconfig = "2026-12-07 10:00:01.000"};
  std::vector<bird::BgpPeerStatus> peers;
  std::vector<bird::BirdRoute> routes;
  std::function<void()> on_peers;  // Runs while the reporter reads the peers.
  int calls = 0;

  Result<bird::BirdDaemonStatus> DaemonStatus() override {
    ++calls;
    if (!running) return calico::Unavailable("BIRD is not reachable");
    return daemon;
  }
  Result<std::vector<bird::BgpPeerStatus>> Peers() override {
    ++calls;
    if (on_peers) std::exchange(on_peers, nullptr)();
    if (!running) return calico::Unavailable("BIRD is not reachable");
    return peers;
  }
  Result<std::vector<bird::BirdRoute>> Routes() override {
    ++calls;
    if (!running) return calico::Unavailable("BIRD is not reachable");
    return routes;
  }
};

class NodeStatusReporterTest : public ::testing::Test {
 protected:
  NodeStatusReporterTest() : backend_(&clock_), client_(backend_) {
    clock_.SetWall(std::chrono::system_clock::from_time_t(1700000000));
    bird_.peers = {
        {.name = "Mesh_10_0_0_2",
         .peer_address = "10.0.0.2",
         .type = bird::BgpPeerType::kNodeToNodeMesh,
         .state = "up",
         .since = "10:00:03.000",
         .bgp_state = "Established"},
        {.name = "Node_10_0_0_9",
         .peer_address = "10.0.0.9",
         .type = bird::BgpPeerType::kNodeSpecific,
         .state = "start",
         .since = "10:00:00.000",
         .bgp_state = "Connect"},
        {.name = "Global_fd00__9",
         .peer_address = "fd00::9",
         .family = 6,
         .type = bird::BgpPeerType::kGlobal,
         .state = "down",
         .since = "10:00:00.000"},
    };
    bird_.routes = {
        {.destination = "10.65.1.0/26",
         .gateway = "10.0.0.2",
         .interface = "eth0",
         .protocol = "Mesh_10_0_0_2",
         .primary = true},
        {.destination = "10.65.0.0/26",
         .gateway = "N/A",
         .interface = "blackhole",
         .protocol = "static_v4",
         .primary = true},
        {.destination = "10.65.0.0/26",
         .gateway = "10.0.0.9",
         .interface = "eth0",
         .protocol = "Node_10_0_0_9",
         .primary = false},
        {.destination = "192.0.2.0/24", .protocol = "device1"},  // Not a source: left out.
        {.destination = "fd00:65::/122",
         .gateway = "N/A",
         .interface = "d0",
         .protocol = "direct1",
         .primary = true,
         .family = 6},
    };
  }

  void CreateStatus(const std::string& name, const std::string& node, Json classes,
                    std::optional<int> period) {
    model::Resource r("CalicoNodeStatus", name);
    r.spec()["node"] = node;
    r.spec()["classes"] = std::move(classes);
    if (period) r.spec()["updatePeriodSeconds"] = *period;
    ASSERT_TRUE(client_.Create(r)) << "create " << name;
  }

  model::Resource Read(const std::string& name) {
    auto r = client_.Get("CalicoNodeStatus", "", name);
    EXPECT_TRUE(r);
    return r ? *r : model::Resource();
  }

  FakeClock clock_;
  datastore::MemBackend backend_;
  datastore::Client client_;
  FakeBird bird_;
  CalicoNodeStatusReporter reporter_{client_, clock_, "node-1", bird_};
};

TEST_F(NodeStatusReporterTest, FillsTheRequestedClassesAsUpstream) {
  CreateStatus("all", "node-1", Json{"Agent", "BGP", "Routes"}, 10);
  auto n = reporter_.Tick();
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(*n, 1);
  const Json status = Read("all").doc()["status"];
  const Json bird_json = {{"state", "Ready"},
                          {"version", "2.0.12"},
                          {"routerID", "10.0.0.1"},
                          {"lastBootTime", "2026-12-07 10:00:00.000"},
                          {"lastReconfigurationTime", "2026-12-07 10:00:01.000"}};
  EXPECT_EQ(status["agent"]["birdV4"], bird_json);
  EXPECT_EQ(status["agent"]["birdV6"], bird_json);
  EXPECT_EQ(status["bgp"]["numberEstablishedV4"], 1);
  EXPECT_EQ(status["bgp"]["numberNotEstablishedV4"], 1);
  EXPECT_EQ(status["bgp"]["numberEstablishedV6"], 0);
  EXPECT_EQ(status["bgp"]["numberNotEstablishedV6"], 1);
  EXPECT_EQ(status["bgp"]["peersV4"], (Json{{{"peerIP", "10.0.0.2"},
                                             {"type", "NodeMesh"},
                                             {"state", "Established"},
                                             {"since", "10:00:03.000"}},
                                            {{"peerIP", "10.0.0.9"},
                                             {"type", "NodePeer"},
                                             {"state", "Connect"},
                                             {"since", "10:00:00.000"}}}));
  // A protocol that is down has no BGP state in BIRD 2: no state field.
  EXPECT_EQ(status["bgp"]["peersV6"],
            (Json{{{"peerIP", "fd00::9"}, {"type", "GlobalPeer"}, {"since", "10:00:00.000"}}}));
  EXPECT_EQ(status["routes"]["routesV4"],
            (Json{{{"type", "FIB"},
                   {"destination", "10.65.1.0/26"},
                   {"gateway", "10.0.0.2"},
                   {"interface", "eth0"},
                   {"learnedFrom", {{"sourceType", "NodeMesh"}, {"peerIP", "10.0.0.2"}}}},
                  {{"type", "FIB"},
                   {"destination", "10.65.0.0/26"},
                   {"gateway", "N/A"},
                   {"interface", "blackhole"},
                   {"learnedFrom", {{"sourceType", "Static"}}}},
                  {{"type", "RIB"},
                   {"destination", "10.65.0.0/26"},
                   {"gateway", "10.0.0.9"},
                   {"interface", "eth0"},
                   {"learnedFrom", {{"sourceType", "BGPPeer"}, {"peerIP", "10.0.0.9"}}}}}));
  EXPECT_EQ(status["routes"]["routesV6"], (Json{{{"type", "FIB"},
                                                 {"destination", "fd00:65::/122"},
                                                 {"gateway", "N/A"},
                                                 {"interface", "d0"},
                                                 {"learnedFrom", {{"sourceType", "Direct"}}}}}));
  EXPECT_EQ(status["lastUpdated"], "2023-11-14T22:13:20Z");
}

TEST_F(NodeStatusReporterTest, OnlyThisNodeAndOnlyTheRequestedClasses) {
  CreateStatus("mine", "node-1", Json{"BGP"}, 10);
  CreateStatus("other", "node-2", Json{"Agent", "BGP", "Routes"}, 10);
  ASSERT_TRUE(reporter_.Tick());
  const Json mine = Read("mine").doc()["status"];
  EXPECT_TRUE(mine.contains("bgp"));
  EXPECT_FALSE(mine.contains("agent"));
  EXPECT_FALSE(mine.contains("routes"));
  EXPECT_FALSE(Read("other").doc().contains("status"));
}

// A resource that does not decode (written around validation: classes not a list) is skipped and
// logged, as Client::List skips an unreadable value; the others are still reported.
TEST_F(NodeStatusReporterTest, UndecodableResourceIsSkipped) {
  CreateStatus("mine", "node-1", Json{"BGP"}, 10);
  const std::string key =
      datastore::ResourceKey{.kind = model::LookupKind("CalicoNodeStatus"), .name = "bad"}.Format();
  ASSERT_TRUE(backend_.Put(key, R"({"apiVersion": "projectcalico.org/v3",
      "kind": "CalicoNodeStatus", "metadata": {"name": "bad"},
      "spec": {"node": "node-1", "classes": "BGP"}})"));
  auto written = reporter_.Tick();
  ASSERT_TRUE(written) << written.error().message();
  EXPECT_EQ(*written, 1);
  EXPECT_TRUE(Read("mine").doc()["status"].contains("bgp"));
  EXPECT_FALSE(Read("bad").doc().contains("status"));
}

TEST_F(NodeStatusReporterTest, EveryUpdatePeriodAndOnlyWhenChanged) {
  CreateStatus("s", "node-1", Json{"BGP"}, 10);
  ASSERT_EQ(*reporter_.Tick(), 1);
  const std::string first = Read("s").resource_version();
  bird_.peers[1].state = "up";
  bird_.peers[1].bgp_state = "Established";
  // Not due yet: BIRD is not even asked.
  const int calls = bird_.calls;
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_EQ(*reporter_.Tick(), 0);
  EXPECT_EQ(bird_.calls, calls);
  EXPECT_EQ(Read("s").resource_version(), first);
  clock_.Advance(std::chrono::seconds(5));
  clock_.SetWall(std::chrono::system_clock::from_time_t(1700000010));
  ASSERT_EQ(*reporter_.Tick(), 1);
  model::Resource r = Read("s");
  EXPECT_EQ(r.doc()["status"]["bgp"]["numberEstablishedV4"], 2);
  EXPECT_EQ(r.doc()["status"]["lastUpdated"], "2023-11-14T22:13:30Z");
  // Due again, nothing changed: no write (upstream compares before it writes).
  clock_.Advance(std::chrono::seconds(10));
  ASSERT_EQ(*reporter_.Tick(), 0);
  EXPECT_EQ(Read("s").resource_version(), r.resource_version());
}

TEST_F(NodeStatusReporterTest, PeriodZeroReportsOnlyOnSpecChanges) {
  CreateStatus("once", "node-1", Json{"Agent"}, 0);
  ASSERT_EQ(*reporter_.Tick(), 1);
  bird_.daemon.last_reconfig = "2026-12-07 11:00:00.000";
  clock_.Advance(std::chrono::hours(1));
  ASSERT_EQ(*reporter_.Tick(), 0);
  EXPECT_EQ(Read("once").doc()["status"]["agent"]["birdV4"]["lastReconfigurationTime"],
            "2026-12-07 10:00:01.000");
  // The user asks for more: reported at once.
  model::Resource r = Read("once");
  r.spec()["classes"] = Json{"Agent", "BGP"};
  ASSERT_TRUE(client_.Update(r));
  ASSERT_EQ(*reporter_.Tick(), 1);
  const Json status = Read("once").doc()["status"];
  EXPECT_EQ(status["agent"]["birdV4"]["lastReconfigurationTime"], "2026-12-07 11:00:00.000");
  EXPECT_TRUE(status.contains("bgp"));
}

TEST_F(NodeStatusReporterTest, BirdNotRunning) {
  bird_.running = false;
  CreateStatus("s", "node-1", Json{"Agent", "BGP", "Routes"}, 10);
  ASSERT_EQ(*reporter_.Tick(), 1);
  const Json status = Read("s").doc()["status"];
  EXPECT_EQ(status["agent"]["birdV4"], (Json{{"state", "NotReady"}}));
  EXPECT_EQ(status["bgp"], (Json{{"numberEstablishedV4", 0},
                                 {"numberEstablishedV6", 0},
                                 {"numberNotEstablishedV4", 0},
                                 {"numberNotEstablishedV6", 0}}));
  EXPECT_EQ(status["routes"], Json::object());
}

// The user changes the spec between the reporter's read and its write: the write's
// compare-and-swap fails, the reporter re-reads and reports for the new spec, and the user's
// change stays.
TEST_F(NodeStatusReporterTest, ConcurrentSpecChangeIsNotClobbered) {
  CreateStatus("s", "node-1", Json{"Agent"}, 10);
  bird_.on_peers = [&] {};  // Not called: Agent only.
  ASSERT_EQ(*reporter_.Tick(), 1);
  // Next round asks for BGP; while BIRD is read, the user changes the period and classes.
  model::Resource r = Read("s");
  r.spec()["classes"] = Json{"BGP"};
  ASSERT_TRUE(client_.Update(r));
  bird_.on_peers = [&] {
    model::Resource now = Read("s");
    now.spec()["updatePeriodSeconds"] = 30;
    now.spec()["classes"] = Json{"BGP", "Routes"};
    ASSERT_TRUE(client_.Update(now));
  };
  ASSERT_EQ(*reporter_.Tick(), 1);
  EXPECT_FALSE(bird_.on_peers);  // The user's change did happen mid-report.
  model::Resource after = Read("s");
  EXPECT_EQ(after.spec()["updatePeriodSeconds"], 30);
  EXPECT_EQ(after.spec()["classes"], (Json{"BGP", "Routes"}));
  EXPECT_TRUE(after.doc()["status"].contains("bgp"));
  EXPECT_TRUE(after.doc()["status"].contains("routes"));
}

// A spec update that carries no status (calicoctl apply/replace of the user's file) keeps the
// status calico-node wrote, as the status subresource does upstream (Kubernetes datastore).
TEST_F(NodeStatusReporterTest, SpecUpdateKeepsStatus) {
  CreateStatus("s", "node-1", Json{"Agent"}, 0);
  ASSERT_EQ(*reporter_.Tick(), 1);
  model::Resource r = Read("s");
  const Json status = r.doc()["status"];
  model::Resource user("CalicoNodeStatus", "s");
  user.spec() = r.spec();
  user.spec()["updatePeriodSeconds"] = 60;
  ASSERT_TRUE(client_.Apply(user));
  EXPECT_EQ(Read("s").doc()["status"], status);
}

}  // namespace
}  // namespace calico::node
