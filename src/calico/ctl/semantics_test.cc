// calicoctl's per-kind semantics, each test citing the upstream function it reproduces:
// reserved NetworkPolicy names, ClusterInformation's refusals and initial content, the order of
// `get tiers`, and `delete node`'s cascade.
#include <regex>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/ctl/ctl.h"
#include "calico/ctl/ipam_command.h"
#include "calico/ctl/migrate_command.h"
#include "calico/ctl/testing/ctl_fixture.h"
#include "calico/datastore/keys.h"
#include "calico/ipam/ipam.h"

namespace calico::ctl {
namespace {

using model::Json;
using model::Resource;
using ::testing::HasSubstr;

class SemanticsTest : public testing::CtlFixture {
 protected:
  void SetUp() override { ASSERT_TRUE(client_.EnsureInitialized().has_value()); }

  // The stored resource, or nullopt.
  std::optional<Resource> Stored(const std::string& kind, const std::string& ns,
                                 const std::string& name) {
    auto r = client_.Get(kind, ns, name);
    if (!r) return std::nullopt;
    return *r;
  }
};

constexpr const char* kKnpPolicy = R"y(apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: knp.default.foobarfizz
  namespace: default
spec:
  order: 100
  selector: all()
  ingress:
  - action: Allow
)y";

constexpr const char* kKnpMessage =
    "is not supported on NetworkPolicy(default/knp.default.foobarfizz): kubernetes network "
    "policies must be managed through the kubernetes API";

// calicoctl/calicoctl/resourcemgr/networkpolicy.go (the create, update and delete functions
// refuse names with kube-controllers' KubernetesNetworkPolicyEtcdPrefix) and upstream's
// tests/st/calicoctl/test_crud.py test_disallow_crud_on_knp_defaults: create and delete are
// refused; apply and replace read the policy first, so a missing one is "does not exist".
TEST_F(SemanticsTest, KnpNamesRefusedForUserWritesWhenAbsent) {
  auto r = Run({"create", "-f", "-"}, kKnpPolicy);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(std::string("operation create or apply ") + kKnpMessage));
  r = Run({"apply", "-f", "-"}, kKnpPolicy);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("resource does not exist: NetworkPolicy(default/knp.default."));
  r = Run({"replace", "-f", "-"}, kKnpPolicy);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("resource does not exist: NetworkPolicy(default/knp.default."));
  r = Run({"delete", "-f", "-"}, kKnpPolicy);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(std::string("operation delete ") + kKnpMessage));
  EXPECT_FALSE(Stored("NetworkPolicy", "default", "knp.default.foobarfizz"));
}

// The same refusals (resourcemgr/networkpolicy.go update and delete; resourcemgr.go Patch goes
// through update; the label command replaces) once calico-controllers has written the policy
// through the client, as kube-controllers does: the controllers' write works, no user write
// changes or removes it.
TEST_F(SemanticsTest, KnpPolicyWrittenByControllersCannotBeChangedByUsers) {
  Resource knp("NetworkPolicy", "knp.default.foobarfizz", "default");
  knp.spec() = Json{{"order", 100}, {"selector", "all()"}, {"ingress", {{{"action", "Allow"}}}}};
  auto written = client_.Create(knp);  // what controllers/policy_sync does
  ASSERT_TRUE(written.has_value()) << written.error().message();
  const Resource before = *Stored("NetworkPolicy", "default", "knp.default.foobarfizz");

  auto r = Run({"apply", "-f", "-"}, kKnpPolicy);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(std::string("operation apply or replace ") + kKnpMessage));
  r = Run({"replace", "-f", "-"}, kKnpPolicy);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(std::string("operation apply or replace ") + kKnpMessage));
  r = Run({"patch", "networkpolicy", "knp.default.foobarfizz", "-p", R"({"spec":{"order":5}})"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(std::string("updating existing resource: operation apply or "
                                           "replace ") +
                               kKnpMessage));
  r = Run({"label", "networkpolicy", "knp.default.foobarfizz", "app=x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(kKnpMessage));
  r = Run({"delete", "networkpolicy", "knp.default.foobarfizz"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(std::string("operation delete ") + kKnpMessage));

  auto after = Stored("NetworkPolicy", "default", "knp.default.foobarfizz");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->resource_version(), before.resource_version());
  // Other names, including ones that merely contain the prefix, are ordinary policies.
  r = Run({"create", "-f", "-"},
          "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: my.knp, "
          "namespace: default}\nspec: {selector: all()}\n");
  EXPECT_EQ(r.code, 0) << r.err;
  // get is a read: it works.
  EXPECT_EQ(Run({"get", "networkpolicy", "knp.default.foobarfizz"}).code, 0);
}

// libcalico-go/lib/clientv3/client.go ensureClusterInformation, as calicoctl's write commands call
// it (commands/common/resources.go tryEnsureInitialized: EnsureInitialized(ctx, "", "")): a
// fresh store's "default" holds a clusterGUID (hex of a UUID) and datastoreReady: true, and no
// calicoVersion or clusterType (calico-node sets those when it starts).
TEST_F(SemanticsTest, FreshClusterInformationHoldsGuidAndReady) {
  auto ci = Stored("ClusterInformation", "", "default");
  ASSERT_TRUE(ci);
  const std::string guid = ci->spec().value("clusterGUID", "");
  EXPECT_TRUE(std::regex_match(guid, std::regex("[0-9a-f]{32}"))) << guid;
  EXPECT_EQ(ci->spec().value("datastoreReady", false), true);
  EXPECT_FALSE(ci->spec().contains("clusterType"));
  EXPECT_FALSE(ci->spec().contains("calicoVersion"));
  // Initialising again keeps the GUID.
  ASSERT_TRUE(client_.EnsureInitialized().has_value());
  EXPECT_EQ(Stored("ClusterInformation", "", "default")->spec().value("clusterGUID", ""), guid);
}

// ensureClusterInformation on an existing ClusterInformation: a missing clusterGUID or
// datastoreReady is filled in; an explicit datastoreReady false (a migration's lock) stays.
TEST_F(SemanticsTest, ExistingClusterInformationIsCompletedNotReset) {
  Resource ci = *Stored("ClusterInformation", "", "default");
  ci.spec() = Json{{"calicoVersion", "v3.31.0"}, {"datastoreReady", false}};
  ASSERT_TRUE(client_.Update(ci).has_value());
  ASSERT_TRUE(client_.EnsureInitialized().has_value());
  Resource now = *Stored("ClusterInformation", "", "default");
  EXPECT_EQ(now.spec().value("clusterGUID", "").size(), 32U);
  EXPECT_EQ(now.spec().value("datastoreReady", true), false);
  EXPECT_EQ(now.spec().value("calicoVersion", ""), "v3.31.0");

  now.spec().erase("datastoreReady");
  ASSERT_TRUE(client_.Update(now).has_value());
  ASSERT_TRUE(client_.EnsureInitialized().has_value());
  EXPECT_EQ(Stored("ClusterInformation", "", "default")->spec().value("datastoreReady", false),
            true);
}

constexpr const char* kClusterInfo = R"y(apiVersion: projectcalico.org/v3
kind: ClusterInformation
metadata:
  name: default
spec:
  clusterGUID: 00000000000000000000000000000000
)y";

// calicoctl/calicoctl/resourcemgr/clusterinfo.go: create ("create or apply"), update ("apply or
// replace") and delete return ErrorOperationNotSupported; resourcemgr.go Apply refuses with
// "resource is readonly".
TEST_F(SemanticsTest, ClusterInformationCreateReplaceDeleteRefused) {
  const std::string guid =
      Stored("ClusterInformation", "", "default")->spec().value("clusterGUID", "");
  auto r = Run({"create", "-f", "-"}, kClusterInfo);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("operation create or apply is not supported on ClusterInformation"));
  r = Run({"replace", "-f", "-"}, kClusterInfo);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("operation apply or replace is not supported on ClusterInformation"));
  r = Run({"apply", "-f", "-"}, kClusterInfo);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(
      r.err,
      HasSubstr("operation apply is not supported on ClusterInformation: resource is readonly"));
  r = Run({"delete", "clusterinformation", "default"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("operation delete is not supported on ClusterInformation"));
  auto ci = Stored("ClusterInformation", "", "default");
  ASSERT_TRUE(ci);
  EXPECT_EQ(ci->spec().value("clusterGUID", ""), guid);
  EXPECT_EQ(Run({"get", "clusterinformation", "default"}).code, 0);
}

// calicoctl/calicoctl/resourcemgr/tier.go (the list function sorts by spec.order, stable, a tier
// without order last) and test_crud.py test_tier_list_order.
TEST_F(SemanticsTest, GetTiersIsOrderedByOrder) {
  auto r = Run({"create", "-f", "-"},
               "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: aaa}\nspec: "
               "{order: 2000}\n---\napiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: "
               "{name: zzz}\nspec: {order: 100}\n");
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"get", "tiers", "-o", "yaml"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> names;
  std::regex name_re(R"(\n    name: ([a-z-]+)\n)");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), name_re), end; it != end; ++it) {
    names.push_back((*it)[1]);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"zzz", "kube-admin", "aaa", "default", "kube-baseline"}))
      << r.out;
  r = Run({"get", "tiers"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(r.out.find("zzz"), r.out.find("kube-admin")) << r.out;
  EXPECT_LT(r.out.find("aaa"), r.out.find("default")) << r.out;
}

// libcalico-go/lib/clientv3/node.go nodes.Delete: deleting a Node releases its workloads'
// addresses (and their handles) and its tunnel address, deletes its WorkloadEndpoints, releases
// its block affinities (RemoveIPAMHost: an empty block is freed, a block holding another node's
// borrowed address only loses its affinity), its BGPPeers, node.<name> FelixConfiguration and
// BGPConfiguration and HostEndpoints; nothing of other nodes is touched.
class DeleteNodeTest : public SemanticsTest {
 protected:
  void SetUp() override {
    SemanticsTest::SetUp();
    Resource pool("IPPool", "pool");
    pool.spec() = Json{{"cidr", "10.65.0.0/16"}, {"blockSize", 26}};
    ASSERT_TRUE(client_.Create(pool).has_value());
    for (const char* n : {"node1", "node2"}) {
      Resource node("Node", n);
      ASSERT_TRUE(client_.Create(node).has_value());
    }
  }

  std::string Allocate(const std::string& node, const std::string& container,
                       const std::string& type = "") {
    ipam::AutoAssignArgs args;
    args.num4 = 1;
    args.handle = type.empty() ? "k8s-pod-network." + container : container;
    args.host = node;
    args.attrs = Json{{"node", node}};
    if (type.empty()) {
      args.attrs["namespace"] = "default";
      args.attrs["pod"] = container;
    } else {
      args.attrs["type"] = type;
      args.intended_use = "Tunnel";
    }
    auto r = ipam_.AutoAssign(args);
    EXPECT_TRUE(r.has_value()) << r.error().message();
    return r && !r->ipv4.empty() ? r->ipv4[0].addr().String() : "";
  }

  void AddWep(const std::string& node, const std::string& pod, const std::string& ip) {
    Resource wep("WorkloadEndpoint", "", "default");
    wep.spec() = Json{{"orchestrator", "k8s"},
                      {"node", node},
                      {"pod", pod},
                      {"endpoint", "eth0"},
                      {"interfaceName", "cali" + pod},
                      {"containerID", pod},
                      {"ipNetworks", {ip + "/32"}}};
    auto r = client_.Create(wep);
    ASSERT_TRUE(r.has_value()) << r.error().message();
  }

  void Add(const std::string& yaml) {
    auto r = Run({"create", "-f", "-"}, yaml);
    ASSERT_EQ(r.code, 0) << r.err;
  }

  bool Allocated(const std::string& ip) {
    auto attr = ipam_.GetAssignmentAttributes(*net::IPAddr::Parse(ip));
    return attr.has_value() && attr->has_value();
  }
  // The address `offset` into node1's (only) block.
  std::string InNode1Block(uint64_t offset) {
    auto blocks = ipam_.ListBlocks();
    EXPECT_TRUE(blocks.has_value());
    for (const auto& b : blocks ? *blocks : std::vector<ipam::Block>{}) {
      if (b.host() == "node1") return b.cidr().addr().Add(offset).String();
    }
    ADD_FAILURE() << "node1 has no block";
    return "";
  }
  bool HasKey(const std::string& key) { return backend_.Get(key).has_value(); }
  size_t CountPrefix(const std::string& prefix) {
    auto l = backend_.List(prefix);
    return l ? l->kvs.size() : 0;
  }

  ipam::IpamClient ipam_{backend_};
};

TEST_F(DeleteNodeTest, CascadesToEverythingOfTheNodeAndNothingElse) {
  const std::string a = Allocate("node1", "a");
  const std::string b = Allocate("node1", "b");
  const std::string tunnel = Allocate("node1", "vxlan-tunnel-addr-node1", "vxlanTunnelAddress");
  const std::string other = Allocate("node2", "c");
  AddWep("node1", "a", a);
  AddWep("node1", "b", b);
  AddWep("node2", "c", other);
  // node2's own block is full: its next workload borrows from node1's block.
  Add(R"y(apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: node1-tor}
spec: {node: node1, peerIP: 10.0.0.1, asNumber: 64512}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: node2-tor}
spec: {node: node2, peerIP: 10.0.0.2, asNumber: 64512}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: global-tor}
spec: {peerIP: 10.0.0.3, asNumber: 64512}
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: node.node1}
spec: {logSeverityScreen: Debug}
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: node.node2}
spec: {logSeverityScreen: Debug}
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: node.node1}
spec: {logSeverityScreen: Debug}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-eth0}
spec: {node: node1, interfaceName: eth0}
)y");
  // A workload of node2 whose address lives in node1's block (borrowed).
  const std::string borrowed = InNode1Block(60);
  ASSERT_TRUE(ipam_
                  .AssignIP(*net::IPAddr::Parse(borrowed), "k8s-pod-network.borrowed",
                            Json{{"node", "node2"}}, "node2")
                  .has_value());
  ASSERT_EQ(CountPrefix(datastore::IpamHostPrefix("node1")), 1U);

  auto r = Run({"delete", "node", "node1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Successfully deleted 1 'Node' resource(s)\n");

  EXPECT_FALSE(Stored("Node", "", "node1"));
  for (const std::string& ip : {a, b, tunnel})
    EXPECT_FALSE(Allocated(ip)) << ip;
  for (const char* h : {"k8s-pod-network.a", "k8s-pod-network.b", "vxlan-tunnel-addr-node1"}) {
    EXPECT_FALSE(HasKey(datastore::HandleKey{.handle_id = h}.Format())) << h;
  }
  auto weps = client_.List("WorkloadEndpoint");
  ASSERT_TRUE(weps.has_value());
  ASSERT_EQ(weps->size(), 1U);
  EXPECT_EQ((*weps)[0].spec().value("node", ""), "node2");
  EXPECT_EQ(CountPrefix(datastore::IpamHostPrefix("node1")), 0U);
  // node1's block still holds node2's borrowed address: it stays, without an affinity.
  auto blocks = ipam_.ListBlocks();
  ASSERT_TRUE(blocks.has_value());
  bool found_borrowing_block = false;
  for (const auto& blk : *blocks) {
    EXPECT_NE(blk.host(), "node1");
    if (blk.cidr().Contains(*net::IPAddr::Parse(borrowed))) found_borrowing_block = true;
  }
  EXPECT_TRUE(found_borrowing_block);
  EXPECT_TRUE(Allocated(borrowed));
  EXPECT_TRUE(Allocated(other));
  EXPECT_FALSE(Stored("BGPPeer", "", "node1-tor"));
  EXPECT_TRUE(Stored("BGPPeer", "", "node2-tor"));
  EXPECT_TRUE(Stored("BGPPeer", "", "global-tor"));
  EXPECT_FALSE(Stored("FelixConfiguration", "", "node.node1"));
  EXPECT_TRUE(Stored("FelixConfiguration", "", "node.node2"));
  EXPECT_FALSE(Stored("BGPConfiguration", "", "node.node1"));
  EXPECT_FALSE(Stored("HostEndpoint", "", "node1-eth0"));
  EXPECT_TRUE(Stored("Node", "", "node2"));
}

// nodes.Delete cleans up after a Node that is already gone, then reports it as missing
// (resources.Delete's ErrorResourceDoesNotExist), which --skip-not-exists covers.
TEST_F(DeleteNodeTest, MissingNodeIsStillCleanedUpThenReported) {
  const std::string a = Allocate("ghost", "g");
  AddWep("ghost", "g", a);
  auto r = Run({"delete", "node", "ghost"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("resource does not exist: Node(ghost)"));
  EXPECT_FALSE(Allocated(a));
  auto weps = client_.List("WorkloadEndpoint");
  ASSERT_TRUE(weps.has_value());
  EXPECT_TRUE(weps->empty());
  EXPECT_EQ(Run({"delete", "node", "ghost", "--skip-not-exists"}).code, 0);
}

class IpamSemanticsTest : public DeleteNodeTest {
 protected:
  void SetUp() override {
    DeleteNodeTest::SetUp();
    registry_.Register("ipam", "IP address management", RunIpam);
    registry_.Register("datastore migrate", "Migrate", RunDatastoreMigrate);
  }
};

// calicoctl/calicoctl/commands/ipam/show.go getBorrowedIPs / ShowBorrowedDetails: TYPE is "pod"
// (ALLOCATED-TO ns/pod) for a pod's address, the "type" attribute otherwise, and blank when the
// allocation has neither; allocations without a node attribute are counted in a note.
TEST_F(IpamSemanticsTest, ShowBorrowedTypeBlankWithoutTypeAttribute) {
  Allocate("node1", "a");
  const std::string pod = InNode1Block(61);
  const std::string tunnel = InNode1Block(62);
  const std::string bare = InNode1Block(63);
  const std::string old = InNode1Block(59);
  ASSERT_TRUE(ipam_
                  .AssignIP(*net::IPAddr::Parse(pod), "h-pod",
                            Json{{"node", "node2"}, {"namespace", "ns1"}, {"pod", "p1"}}, "node2")
                  .has_value());
  ASSERT_TRUE(ipam_
                  .AssignIP(*net::IPAddr::Parse(tunnel), "h-tunnel",
                            Json{{"node", "node2"}, {"type", "vxlanTunnelAddress"}}, "node2")
                  .has_value());
  ASSERT_TRUE(ipam_.AssignIP(*net::IPAddr::Parse(bare), "h-bare", Json{{"node", "node2"}}, "node2")
                  .has_value());
  ASSERT_TRUE(
      ipam_.AssignIP(*net::IPAddr::Parse(old), "h-old", Json::object(), "node2").has_value());
  auto r = Run({"ipam", "show", "--show-borrowed"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto line_of = [&](const std::string& ip) {
    const size_t at = r.out.find("| " + ip + " ");
    if (at == std::string::npos) return std::string();
    return r.out.substr(at, r.out.find('\n', at) - at);
  };
  EXPECT_THAT(line_of(pod), ::testing::MatchesRegex(R"(.*\| pod +\| ns1/p1 +\|)")) << r.out;
  EXPECT_THAT(line_of(tunnel), ::testing::MatchesRegex(R"(.*\| vxlanTunnelAddress +\| +\|)"))
      << r.out;
  EXPECT_THAT(line_of(bare), ::testing::MatchesRegex(R"(.*\| node1 +\| +\| +\|)")) << r.out;
  EXPECT_EQ(line_of(old), "") << r.out;
  EXPECT_THAT(r.out, HasSubstr("\nNote: found 1 IP allocations without an explicit node "
                               "association. Unable to determine if they are borrowed.\n"));
}

// show.go ShowConfiguration: every field of ipam.IPAMConfig in struct order, values as %#v; with no
// stored config, GetIPAMConfig's defaults (KubeVirtVMAddressPersistence "Enabled").
TEST_F(IpamSemanticsTest, ShowConfigurationHasEveryField) {
  auto r = Run({"ipam", "show", "--show-configuration"});
  ASSERT_EQ(r.code, 0) << r.err;
  const char* fields[] = {"StrictAffinity", "AutoAllocateBlocks", "MaxBlocksPerHost",
                          "KubeVirtVMAddressPersistence", "IPCooldownSeconds"};
  size_t last = 0;
  for (const char* f : fields) {
    const size_t at = r.out.find(f);
    ASSERT_NE(at, std::string::npos) << f << "\n" << r.out;
    EXPECT_GT(at, last) << f;
    last = at;
  }
  EXPECT_THAT(r.out, ::testing::ContainsRegex(R"(KubeVirtVMAddressPersistence +\| "Enabled")"));
  ASSERT_TRUE(backend_
                  .Put(datastore::IpamConfigKey{}.Format(),
                       R"({"strict_affinity":true,"auto_allocate_blocks":true,)"
                       R"("kubeVirtVMAddressPersistence":"Disabled","ipCooldownSeconds":30})")
                  .has_value());
  r = Run({"ipam", "show", "--show-configuration"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::ContainsRegex(R"(StrictAffinity +\| true)"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(R"(KubeVirtVMAddressPersistence +\| "Disabled")"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(R"(IPCooldownSeconds +\| 30 )"));
}

constexpr const char* kSplitPool = R"y(apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: ippool-name-1
spec:
  cidr: 10.0.1.0/24
  ipipMode: Always
  natOutgoing: true
  blockSize: 27
)y";

// calicoctl/calicoctl/commands/ipam/split.go SplitPool and splitCIDR, and upstream's
// tests/st/calicoctl/test_ipam_split.py: refused unless the datastore is locked; a CIDR that no
// pool has, a number that is not a power of two, or one too large for the CIDR are errors that
// change nothing; otherwise the pool is replaced by split-<name>-<i> pools with its spec.
TEST_F(IpamSemanticsTest, SplitByCidrAndByName) {
  ASSERT_TRUE(client_.Delete("IPPool", "", "pool").has_value());
  auto r = Run({"create", "-f", "-"}, kSplitPool);
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"ipam", "split", "--cidr=10.0.1.0/24", "4"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "datastore is not locked. Run the `calicoctl datastore migrate lock` command in order "
            "split the IP pools\n");
  ASSERT_EQ(Run({"datastore", "migrate", "lock"}).code, 0);
  r = Run({"ipam", "split", "--cidr=10.0.2.0/24", "4"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("unable to find IP pool"));
  r = Run({"ipam", "split", "--cidr=10.0.1.0/24", "3"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("number to split CIDR into is not a valid power of 2: 3"));
  r = Run({"ipam", "split", "--cidr=10.0.1.0/24", "512"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("the CIDR 10.0.1.0/24 is not large enough to be split into 512 parts"));
  r = Run({"ipam", "split", "4"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("no name or CIDR provided"));
  auto unchanged = Stored("IPPool", "", "ippool-name-1");
  ASSERT_TRUE(unchanged);
  EXPECT_FALSE(unchanged->spec().value("disabled", false));

  r = Run({"ipam", "split", "--cidr=10.0.1.0/24", "4"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "IP Pool ippool-name-1 was successfully split into 4 smaller pools.\n"
            "Created split-ippool-name-1-0 with CIDR 10.0.1.0/26.\n"
            "Created split-ippool-name-1-1 with CIDR 10.0.1.64/26.\n"
            "Created split-ippool-name-1-2 with CIDR 10.0.1.128/26.\n"
            "Created split-ippool-name-1-3 with CIDR 10.0.1.192/26.\n"
            "Please refer to the documentation for final steps.\n");
  EXPECT_FALSE(Stored("IPPool", "", "ippool-name-1"));
  auto child = Stored("IPPool", "", "split-ippool-name-1-2");
  ASSERT_TRUE(child);
  EXPECT_EQ(child->spec().value("cidr", ""), "10.0.1.128/26");
  EXPECT_EQ(child->spec().value("ipipMode", ""), "Always");
  EXPECT_EQ(child->spec().value("natOutgoing", false), true);
  EXPECT_EQ(child->spec().value("blockSize", 0), 27);
  EXPECT_FALSE(child->spec().value("disabled", false));

  // By name, IPv6.
  r = Run({"create", "-f", "-"},
          "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: v6}\nspec: {cidr: "
          "fd00:1::/120}\n");
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"ipam", "split", "--name=v6", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Stored("IPPool", "", "split-v6-1")->spec().value("cidr", ""), "fd00:1::80/121");
  r = Run({"ipam", "split", "--name=missing", "2"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("unable to find IP pool with name missing: resource does not exist"));
  ASSERT_EQ(Run({"datastore", "migrate", "unlock"}).code, 0);
}

// calicoctl/calicoctl/commands/ipam/release.go ReleaseFromReports and mergeReports: with several
// --from-report, only what every report found leaked is released.
TEST_F(IpamSemanticsTest, ReleaseFromSeveralReportsReleasesTheirIntersection) {
  ASSERT_EQ(Run({"datastore", "migrate", "lock"}).code, 0);
  const std::string first = Allocate("node1", "leak-1");
  const std::string dir = ::testing::TempDir();
  const std::string r1 = dir + "/ipam-report-1.json";
  const std::string r2 = dir + "/ipam-report-2.json";
  ASSERT_EQ(Run({"ipam", "check", "-o", r1}).code, 0);
  const std::string second = Allocate("node1", "leak-2");  // leaked after the first report
  ASSERT_EQ(Run({"ipam", "check", "-o", r2}).code, 0);
  auto r = Run({"ipam", "release", "--from-report", r1, "--from-report=" + r2});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Released 1 IPs successfully"));
  EXPECT_FALSE(Allocated(first));
  EXPECT_TRUE(Allocated(second));
  r = Run({"ipam", "release", "--from-report", r2});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(Allocated(second));
  ASSERT_EQ(Run({"datastore", "migrate", "unlock"}).code, 0);
}

}  // namespace
}  // namespace calico::ctl
