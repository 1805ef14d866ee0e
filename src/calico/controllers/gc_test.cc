// The controllers' clean-up duties against the in-memory store, a fake clock and a fake view of
// the nodes' kernels. Every test checks both halves of the contract: what is leaked or gone is
// released after its grace period, and what is still in use is never released.
#include "calico/controllers/gc.h"

#include <sstream>

#include <gtest/gtest.h>

#include "calico/base/testing/fake_clock.h"
#include "calico/base/testing/golden.h"
#include "calico/controllers/testing/fake_node_inspector.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::controllers {
namespace {

using ::calico::testing::FakeClock;

using model::Json;
using model::Resource;
using std::chrono::minutes;
using std::chrono::seconds;

class GcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(client_.EnsureInitialized().has_value());
    Resource pool("IPPool", "pool");
    pool.spec() = Json{{"cidr", "10.65.0.0/16"}, {"blockSize", 26}};
    ASSERT_TRUE(client_.Create(pool).has_value());
    for (const char* n : {"node-1", "node-2"}) {
      AddNode(n);
      inspector_.AddNode(n);
    }
    settings_.workload_endpoints = settings_.ipam = settings_.nodes = true;
    settings_.leak_grace = minutes(15);
  }

  void AddNode(const std::string& name) {
    Resource node("Node", name);
    ASSERT_TRUE(client_.Create(node).has_value());
  }

  // An address as the CNI plugin allocates it: handle <net>.<container>, the node, the
  // container's namespace.
  std::string Allocate(const std::string& node, const std::string& container,
                       const std::string& netns, int num4 = 1) {
    ipam::AutoAssignArgs args;
    args.num4 = num4;
    args.handle = "k8s-pod-network." + container;
    args.host = node;
    args.attrs = Json{{"node", node}, {"namespace", "default"}, {"pod", container}};
    if (!netns.empty()) args.attrs["netns"] = netns;
    auto r = ipam_.AutoAssign(args);
    EXPECT_TRUE(r.has_value()) << r.error().message();
    return r && !r->ipv4.empty() ? r->ipv4[0].addr().String() : "";
  }

  void AddWep(const std::string& node, const std::string& pod, const std::string& ip,
              const std::string& iface) {
    Resource wep("WorkloadEndpoint", "", "default");
    wep.spec() = Json{{"orchestrator", "k8s"},
                      {"node", node},
                      {"pod", pod},
                      {"endpoint", "eth0"},
                      {"interfaceName", iface},
                      {"containerID", pod},
                      {"ipNetworks", {ip + "/32"}},
                      {"profiles", {"kns.default"}}};
    auto r = client_.Create(wep);
    ASSERT_TRUE(r.has_value()) << r.error().message();
  }

  bool Allocated(const std::string& ip) {
    auto attr = ipam_.GetAssignmentAttributes(*net::IPAddr::Parse(ip));
    return attr.has_value() && attr->has_value();
  }

  GcResult Pass(const MayAct& may_act = {}) {
    auto r = gc_.RunOnce(settings_, may_act);
    EXPECT_TRUE(r.has_value()) << r.error().message();
    return r ? *r : GcResult{};
  }

  FakeClock clock_;
  datastore::MemBackend backend_{&clock_};
  datastore::Client client_{backend_};
  ipam::IpamClient ipam_{backend_};
  testing::FakeNodeInspector inspector_;
  ControllerMetrics metrics_;
  GarbageCollector gc_{backend_, inspector_, clock_, metrics_};
  GcSettings settings_;
};

// kill -9 of an ADD after IPAM: an address, no endpoint. Released once the container's namespace
// is gone for the grace period, never while it exists.
TEST_F(GcTest, LeakedAddressReleasedAfterGraceOnlyWhenNamespaceGone) {
  inspector_.AddNetns("/run/netns/pod-a");
  std::string ip = Allocate("node-1", "a", "/run/netns/pod-a");
  EXPECT_EQ(Pass().ips_released, 0);
  clock_.Advance(minutes(30));
  EXPECT_EQ(Pass().ips_released, 0) << "the container still exists";
  EXPECT_TRUE(Allocated(ip));

  inspector_.RemoveNetns("/run/netns/pod-a");
  GcResult r = Pass();
  EXPECT_EQ(r.ips_released, 0) << "the grace period starts now";
  EXPECT_EQ(r.candidates, 1);
  clock_.Advance(minutes(14));
  EXPECT_EQ(Pass().ips_released, 0);
  clock_.Advance(minutes(2));
  EXPECT_EQ(Pass().ips_released, 1);
  EXPECT_FALSE(Allocated(ip));
  EXPECT_FALSE(
      backend_.Get(datastore::HandleKey{.handle_id = "k8s-pod-network.a"}.Format()).has_value());
  EXPECT_EQ(metrics_.reclaimed_total(), 1u);
}

TEST_F(GcTest, AddressOfAnEndpointIsNeverReleased) {
  std::string ip = Allocate("node-1", "b", "/run/netns/pod-b");  // namespace path gone
  AddWep("node-1", "b", ip, "calib");
  inspector_.AddInterface("node-1", "calib");
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(minutes(20));
    EXPECT_EQ(Pass().ips_released, 0);
  }
  EXPECT_TRUE(Allocated(ip));
}

// A candidate whose endpoint appears (a slow ADD finishing) is forgotten: its grace period starts
// again if it ever becomes a candidate again.
TEST_F(GcTest, CandidateThatComesBackIsForgotten) {
  std::string ip = Allocate("node-1", "c", "/run/netns/pod-c");
  Pass();
  clock_.Advance(minutes(10));
  AddWep("node-1", "c", ip, "calic");
  inspector_.AddInterface("node-1", "calic");
  Pass();
  ASSERT_TRUE(client_.Delete("WorkloadEndpoint", "default", "node--1-k8s-c-eth0").has_value());
  Pass();
  clock_.Advance(minutes(10));
  EXPECT_EQ(Pass().ips_released, 0) << "only 10 minutes since it became a candidate again";
  clock_.Advance(minutes(6));
  EXPECT_EQ(Pass().ips_released, 1);
}

// No netns attribute (an older plugin, libnetwork, a gateway address) or a node this process
// cannot look into: nothing confirms a leak, so nothing is released.
TEST_F(GcTest, UnknownAllocationsAreKept) {
  std::string no_attr = Allocate("node-1", "d", "");
  AddNode("node-3");  // not inspectable
  std::string remote = Allocate("node-3", "e", "/run/netns/pod-e");
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(minutes(20));
    EXPECT_EQ(Pass().ips_released, 0);
  }
  EXPECT_TRUE(Allocated(no_attr));
  EXPECT_TRUE(Allocated(remote));
}

// All or none per handle: one address of the handle still in an endpoint keeps the other.
TEST_F(GcTest, ReleasesPerHandleOnly) {
  std::string first = Allocate("node-1", "f", "/run/netns/pod-f", 2);
  auto ips = ipam_.IPsByHandle("k8s-pod-network.f");
  ASSERT_TRUE(ips.has_value());
  ASSERT_EQ(ips->size(), 2u);
  AddWep("node-1", "f", (*ips)[1].String(), "calif");
  inspector_.AddInterface("node-1", "calif");
  Pass();
  clock_.Advance(minutes(20));
  EXPECT_EQ(Pass().ips_released, 0);
  EXPECT_TRUE(Allocated(first));
}

TEST_F(GcTest, GraceZeroMeansNoIpamGc) {
  settings_.ipam = false;  // what leakGracePeriod: 0 turns into
  std::string ip = Allocate("node-1", "g", "/run/netns/pod-g");
  clock_.Advance(minutes(60));
  Pass();
  clock_.Advance(minutes(60));
  EXPECT_EQ(Pass().ips_released, 0);
  EXPECT_TRUE(Allocated(ip));
}

// The namespace of a workload deleted behind the plugin's back: its host interface goes, the
// endpoint is removed after the grace period, then its address.
TEST_F(GcTest, EndpointWhoseInterfaceIsGoneIsRemovedThenItsAddress) {
  inspector_.AddNetns("/run/netns/pod-h");
  std::string ip = Allocate("node-1", "h", "/run/netns/pod-h");
  AddWep("node-1", "h", ip, "calih");
  inspector_.AddInterface("node-1", "calih");
  EXPECT_EQ(Pass().workload_endpoints_removed, 0);

  inspector_.RemoveInterface("node-1", "calih");
  inspector_.RemoveNetns("/run/netns/pod-h");
  EXPECT_EQ(Pass().workload_endpoints_removed, 0);
  clock_.Advance(minutes(16));
  GcResult r = Pass();
  EXPECT_EQ(r.workload_endpoints_removed, 1);
  EXPECT_EQ(r.ips_released, 0) << "the address starts its own grace period";
  EXPECT_FALSE(client_.Get("WorkloadEndpoint", "default", "node--1-k8s-h-eth0").has_value());
  clock_.Advance(minutes(16));
  EXPECT_EQ(Pass().ips_released, 1);
  EXPECT_FALSE(Allocated(ip));
  EXPECT_EQ(metrics_.workloadendpoints_removed(), 1u);
}

// An interface that comes back in time (or a failed check) keeps the endpoint.
TEST_F(GcTest, EndpointKeptWhenInterfaceReturnsOrCheckFails) {
  std::string ip = Allocate("node-1", "i", "/run/netns/pod-i");
  AddWep("node-1", "i", ip, "calii");
  Pass();  // interface missing: candidate
  clock_.Advance(minutes(10));
  inspector_.AddInterface("node-1", "calii");
  Pass();
  inspector_.RemoveInterface("node-1", "calii");
  clock_.Advance(minutes(10));
  EXPECT_EQ(Pass().workload_endpoints_removed, 0);
  clock_.Advance(minutes(10));
  inspector_.FailNextInterfaceCheck();
  EXPECT_EQ(Pass().workload_endpoints_removed, 0);
  EXPECT_TRUE(client_.Get("WorkloadEndpoint", "default", "node--1-k8s-i-eth0").has_value());
  // Endpoints of nodes that cannot be inspected are never judged.
  AddNode("node-9");
  std::string far = Allocate("node-9", "j", "");
  AddWep("node-9", "j", far, "calij");
  clock_.Advance(minutes(60));
  Pass();
  clock_.Advance(minutes(60));
  Pass();
  EXPECT_TRUE(client_.Get("WorkloadEndpoint", "default", "node--9-k8s-j-eth0").has_value());
}

// A deleted Node: its endpoints, addresses, affinities and per-node configuration go at once;
// the other node's stay.
TEST_F(GcTest, DeletedNodeIsCleanedUp) {
  std::string a = Allocate("node-2", "k", "/run/netns/pod-k");
  std::string b = Allocate("node-2", "l", "/run/netns/pod-l");
  AddWep("node-2", "k", a, "calik");
  AddWep("node-2", "l", b, "calil");
  std::string keep = Allocate("node-1", "m", "/run/netns/pod-m");
  AddWep("node-1", "m", keep, "calim");
  inspector_.AddInterface("node-1", "calim");
  Resource peer("BGPPeer", "node-2-peer");
  peer.spec() = Json{{"node", "node-2"}, {"peerIP", "192.0.2.1"}, {"asNumber", 64512}};
  ASSERT_TRUE(client_.Create(peer).has_value());
  Resource fc("FelixConfiguration", "node.node-2");
  ASSERT_TRUE(client_.Create(fc).has_value());
  Resource hep("HostEndpoint", "node-2-eth0");
  hep.spec() = Json{{"node", "node-2"}, {"interfaceName", "eth0"}};
  ASSERT_TRUE(client_.Create(hep).has_value());
  Resource other_hep("HostEndpoint", "node-1-eth0");
  other_hep.spec() = Json{{"node", "node-1"}, {"interfaceName", "eth0"}};
  ASSERT_TRUE(client_.Create(other_hep).has_value());
  Pass();  // node-2 seen as a Node

  ASSERT_TRUE(client_.Delete("Node", "", "node-2").has_value());
  GcResult r = Pass();
  EXPECT_EQ(r.nodes_cleaned, 1);
  EXPECT_FALSE(Allocated(a));
  EXPECT_FALSE(Allocated(b));
  EXPECT_TRUE(Allocated(keep));
  auto weps = client_.List("WorkloadEndpoint");
  ASSERT_TRUE(weps.has_value());
  ASSERT_EQ(weps->size(), 1u);
  EXPECT_EQ((*weps)[0].spec()["node"], "node-1");
  EXPECT_TRUE(backend_.List(datastore::IpamHostPrefix("node-2"))->kvs.empty());
  EXPECT_FALSE(backend_.List(datastore::IpamHostPrefix("node-1"))->kvs.empty());
  EXPECT_FALSE(client_.Get("BGPPeer", "", "node-2-peer").has_value());
  EXPECT_FALSE(client_.Get("FelixConfiguration", "", "node.node-2").has_value());
  EXPECT_FALSE(client_.Get("HostEndpoint", "", "node-2-eth0").has_value());
  EXPECT_TRUE(client_.Get("HostEndpoint", "", "node-1-eth0").has_value());
  EXPECT_EQ(metrics_.nodes_cleaned("deleted"), 1u);
  EXPECT_EQ(Pass().nodes_cleaned, 0) << "idempotent";
}

// A stored WorkloadEndpoint that does not decode (written around validation: spec.node a number)
// is skipped and logged, as Client::List skips an unreadable value; the pass goes on.
TEST_F(GcTest, UndecodableEndpointIsSkipped) {
  const std::string key =
      datastore::ResourceKey{
          .kind = model::LookupKind("WorkloadEndpoint"), .ns = "default", .name = "bad"}
          .Format();
  ASSERT_TRUE(backend_.Put(key, R"({"apiVersion": "projectcalico.org/v3",
      "kind": "WorkloadEndpoint", "metadata": {"name": "bad", "namespace": "default"},
      "spec": {"node": 5, "interfaceName": "calibad"}})"));
  std::string ip = Allocate("node-1", "n", "/run/netns/pod-n");  // namespace gone
  EXPECT_EQ(Pass().ips_released, 0);
  clock_.Advance(minutes(16));
  GcResult r = Pass();
  EXPECT_EQ(r.ips_released, 1);
  EXPECT_EQ(r.workload_endpoints_removed, 0);
  EXPECT_TRUE(backend_.Get(key).has_value()) << "an unreadable endpoint is not judged";
}

// Data of a host that never had a Node resource (calico-node -felix alone) is not a deleted node.
TEST_F(GcTest, HostThatNeverWasANodeIsLeftAlone) {
  std::string ip = Allocate("felix-only", "n", "");
  AddWep("felix-only", "n", ip, "calin");
  clock_.Advance(minutes(60));
  EXPECT_EQ(Pass().nodes_cleaned, 0);
  EXPECT_TRUE(Allocated(ip));
  // A restarted controller knows the node was one from calico-node's status report.
  ASSERT_TRUE(backend_.Put(datastore::FelixLastStatusKey("felix-only"),
                           R"j({"time":"2020-01-01T00:00:00Z","uptime":1,"first_update":true})j"));
  EXPECT_EQ(Pass().nodes_cleaned, 1);
  EXPECT_FALSE(Allocated(ip));
  EXPECT_FALSE(backend_.Get(datastore::FelixLastStatusKey("felix-only")).has_value());
}

// Opt-in: a Node whose calico-node stopped reporting longer ago than the timeout goes, Node and
// all; one whose status key (with its TTL) is still there, or that reported recently, stays.
TEST_F(GcTest, SilentNodeRemovedOnlyWhenOptedIn) {
  clock_.SetWall(std::chrono::system_clock::from_time_t(1700000000));
  auto report = [&](const std::string& node, std::chrono::system_clock::time_point t) {
    Json v{{"time", FormatRfc3339(t)}, {"uptime", 10.0}, {"first_update", false}};
    ASSERT_TRUE(backend_.Put(datastore::FelixLastStatusKey(node), v.dump()));
  };
  std::string ip = Allocate("node-2", "o", "");
  report("node-2", clock_.WallNow() - minutes(20));
  report("node-1", clock_.WallNow() - seconds(10));
  ASSERT_TRUE(backend_.Put(datastore::FelixStatusKey("node-1"), "{}", seconds(90)));
  EXPECT_EQ(Pass().nodes_cleaned, 0) << "off by default";

  settings_.node_report_timeout = minutes(10);
  GcResult r = Pass();
  EXPECT_EQ(r.nodes_cleaned, 1);
  EXPECT_FALSE(client_.Get("Node", "", "node-2").has_value());
  EXPECT_TRUE(client_.Get("Node", "", "node-1").has_value());
  EXPECT_FALSE(Allocated(ip));
  EXPECT_EQ(metrics_.nodes_cleaned("not-reporting"), 1u);
}

// A tunnel address stays as long as its node.
TEST_F(GcTest, TunnelAddressLivesWithItsNode) {
  ipam::AutoAssignArgs args;
  args.num4 = 1;
  args.handle = "vxlan-tunnel-addr-node-1";
  args.host = "node-1";
  args.intended_use = "Tunnel";
  args.attrs = Json{{"node", "node-1"}, {"type", "vxlanTunnelAddress"}};
  auto r = ipam_.AutoAssign(args);
  ASSERT_TRUE(r.has_value());
  std::string ip = r->ipv4[0].addr().String();
  clock_.Advance(minutes(60));
  Pass();
  clock_.Advance(minutes(60));
  Pass();
  EXPECT_TRUE(Allocated(ip));
  ASSERT_TRUE(client_.Delete("Node", "", "node-1").has_value());
  Pass();
  EXPECT_FALSE(Allocated(ip));
}

// A collector that may not act writes nothing.
TEST_F(GcTest, NothingWrittenWithoutLeadership) {
  std::string ip = Allocate("node-1", "p", "/run/netns/pod-p");
  Pass();
  clock_.Advance(minutes(20));
  auto r = gc_.RunOnce(settings_, [] { return false; });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(Allocated(ip));
}

// CleanUpNode is idempotent and leaves other nodes alone (used for both reasons above).
TEST(CleanUpNodeTest, NothingToDoIsFine) {
  datastore::MemBackend backend;
  datastore::Client client(backend);
  ipam::IpamClient ipam(backend);
  auto r = CleanUpNode(client, ipam, "ghost", true, {});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->ips + r->workload_endpoints + r->affinities + r->other, 0);
}

}  // namespace
}  // namespace calico::controllers

namespace calico::controllers {
namespace {

// kube-controllers' IPAM utilisation metrics: per pool and node, a borrowed address (node-2's
// address from node-1's block), an allocation without a node attribute, the pools' sizes and
// reservations; golden: testdata/ipam_metrics.golden.
TEST_F(GcTest, IpamUtilisationMetricsGolden) {
  Resource v6("IPPool", "pool-v6");
  v6.spec() = Json{{"cidr", "fd00:65::/112"}, {"blockSize", 122}};
  ASSERT_TRUE(client_.Create(v6).has_value());
  Resource reservation("IPReservation", "keep");
  reservation.spec() = Json{{"reservedCIDRs", {"10.65.255.0/24", "10.66.0.0/16"}}};
  ASSERT_TRUE(client_.Create(reservation).has_value());
  inspector_.AddNetns("/run/netns/a");
  const std::string a = Allocate("node-1", "a", "/run/netns/a");
  AddWep("node-1", "a", a, "calia");
  inspector_.AddInterface("node-1", "calia");
  // Two more addresses of node-1's block (the last octet's low bits flipped stay in the /26):
  // node-2's (borrowed, as node-2's IPAM takes one when it has no block of its own left) and one
  // without a node attribute.
  const std::string prefix = a.substr(0, a.rfind('.') + 1);
  const int last = std::stoi(a.substr(a.rfind('.') + 1));
  ASSERT_TRUE(ipam_.AssignIP(*net::IPAddr::Parse(prefix + std::to_string(last ^ 1)),
                             "k8s-pod-network.b", Json{{"node", "node-2"}}, "node-1"));
  ASSERT_TRUE(ipam_.AssignIP(*net::IPAddr::Parse(prefix + std::to_string(last ^ 2)), "no-node",
                             Json::object(), "node-1"));
  Pass();
  std::string lines;
  std::istringstream in(metrics_.Render());
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("ipam_", 0) == 0 || line.find(" ipam_") != std::string::npos) {
      lines += line + "\n";
    }
  }
  calico::testing::ExpectGolden("src/calico/controllers/testdata/ipam_metrics.golden", lines);
}

}  // namespace
}  // namespace calico::controllers
