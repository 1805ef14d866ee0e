// Golden tests for `calicoctl get` tables: ps, wide, custom-columns, NAMESPACE column, Go
// text/tabwriter padding (calicoctl/calicoctl/resourcemgr headings).
#include "calico/ctl/table.h"

#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"

namespace calico::ctl {
namespace {

using model::Json;
using model::Resource;

Resource R(const char* json) {
  return Resource(Json::parse(json));
}

std::vector<Resource> Pools() {
  return {R(R"j({"apiVersion":"projectcalico.org/v3","kind":"IPPool",
                "metadata":{"name":"ippool-name1"},
                "spec":{"cidr":"10.0.1.0/24","ipipMode":"Always","nodeSelector":"foo == 'bar'",
                        "assignmentMode":"Automatic"}})j"),
          R(R"j({"apiVersion":"projectcalico.org/v3","kind":"IPPool",
                "metadata":{"name":"p2"},
                "spec":{"cidr":"fd00::/64","natOutgoing":true,"vxlanMode":"CrossSubnet",
                        "disabled":true,"assignmentMode":"Manual"}})j")};
}

TEST(TableTest, UpstreamIPPoolExamples) {
  std::vector<Resource> one = {Pools()[0]};
  auto ps = RenderTable("IPPool", one, {});
  ASSERT_TRUE(ps.has_value());
  EXPECT_EQ(*ps,
            "NAME           CIDR          SELECTOR       \n"
            "ippool-name1   10.0.1.0/24   foo == 'bar'   \n\n");
  TableOptions wide;
  wide.wide = true;
  auto w = RenderTable("IPPool", one, wide);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(*w,
            "NAME           CIDR          NAT     IPIPMODE   VXLANMODE   DISABLED   "
            "DISABLEBGPEXPORT   SELECTOR       ASSIGNMENTMODE   \n"
            "ippool-name1   10.0.1.0/24   false   Always     Never       false      false        "
            "      foo == 'bar'   Automatic        \n\n");
}

TEST(TableTest, GoldenTablesPerKind) {
  std::string out;
  auto add = [&](std::string_view kind, const std::vector<Resource>& items, const TableOptions& o) {
    auto t = RenderTable(kind, items, o);
    ASSERT_TRUE(t.has_value()) << t.error().message();
    out += *t;
  };
  TableOptions ps;
  TableOptions wide;
  wide.wide = true;
  TableOptions ns = ps;
  ns.print_namespace = true;
  TableOptions ns_wide = wide;
  ns_wide.print_namespace = true;
  wide.global_as_number = [] { return std::string("65001"); };

  add("IPPool", Pools(), ps);
  add("IPPool", Pools(), wide);
  std::vector<Resource> weps = {R(R"j({"kind":"WorkloadEndpoint","metadata":{"name":
      "node1-k8s-nginx-eth0","namespace":"default"},"spec":{"pod":"nginx","node":"node1",
      "ipNetworks":["10.65.79.1/32","fd00::1/128"],"interfaceName":"cali0ef24b1f5b0",
      "profiles":["kns.default","ksa.default.default"],
      "ipNATs":[{"internalIP":"10.65.79.1","externalIP":"172.16.0.1"}]}})j")};
  add("WorkloadEndpoint", weps, ps);
  add("WorkloadEndpoint", weps, ns);
  add("WorkloadEndpoint", weps, ns_wide);
  std::vector<Resource> nodes = {R(R"j({"kind":"Node","metadata":{"name":"node1"},
            "spec":{"bgp":{"ipv4Address":"10.0.0.1/24"}}})j"),
                                 R(R"j({"kind":"Node","metadata":{"name":"node2"},
            "spec":{"bgp":{"asNumber":64513,"ipv4Address":"10.0.0.2/24",
                           "ipv6Address":"fd00::2/64"}}})j"),
                                 R(R"j({"kind":"Node","metadata":{"name":"node3"},"spec":{}})j")};
  add("Node", nodes, ps);
  add("Node", nodes, wide);
  std::vector<Resource> pols = {
      R(R"j({"kind":"NetworkPolicy","metadata":{"name":"default.allow","namespace":"prod"},
            "spec":{"tier":"default","order":100,"selector":"app == 'web'"}})j"),
      R(R"j({"kind":"NetworkPolicy","metadata":{"name":"deny","namespace":"dev"},
            "spec":{"tier":"security","order":1.5,"selector":"all()"}})j"),
      R(R"j({"kind":"NetworkPolicy","metadata":{"name":"noorder","namespace":"dev"},
            "spec":{"tier":"default","selector":""}})j")};
  add("NetworkPolicy", pols, ps);
  add("NetworkPolicy", pols, ns_wide);
  std::vector<Resource> gnps = {R(R"j({"kind":"GlobalNetworkPolicy","metadata":{"name":"g"},
      "spec":{"tier":"default","order":10,"selector":"has(role)"}})j")};
  add("GlobalNetworkPolicy", gnps, ns_wide);  // Not namespaced: no NAMESPACE column.
  std::vector<Resource> heps = {R(R"j({"kind":"HostEndpoint","metadata":{"name":"h1"},
      "spec":{"node":"node1","interfaceName":"eth0","expectedIPs":["10.0.0.1","10.0.0.2"],
              "profiles":["p1"]}})j")};
  add("HostEndpoint", heps, ps);
  add("HostEndpoint", heps, wide);
  std::vector<Resource> peers = {
      R(R"j({"kind":"BGPPeer","metadata":{"name":"global"},"spec":{"peerIP":"10.0.0.9",
            "asNumber":64512}})j"),
      R(R"j({"kind":"BGPPeer","metadata":{"name":"sel"},"spec":{"peerIP":"10.0.0.8",
            "asNumber":64513,"nodeSelector":"rack == 'a'"}})j"),
      R(R"j({"kind":"BGPPeer","metadata":{"name":"node"},"spec":{"peerIP":"10.0.0.7",
            "asNumber":64514,"node":"node1"}})j")};
  add("BGPPeer", peers, ps);
  std::vector<Resource> bgpc = {
      R(R"j({"kind":"BGPConfiguration","metadata":{"name":"default"},"spec":{
            "logSeverityScreen":"Info","nodeToNodeMeshEnabled":false,"asNumber":63400}})j"),
      R(R"j({"kind":"BGPConfiguration","metadata":{"name":"node.node1"},"spec":{}})j")};
  add("BGPConfiguration", bgpc, ps);
  std::vector<Resource> tiers = {
      R(R"j({"kind":"Tier","metadata":{"name":"default"},"spec":{"order":1000000}})j"),
      R(R"j({"kind":"Tier","metadata":{"name":"kube-admin"},"spec":{"order":1000}})j")};
  add("Tier", tiers, ps);
  std::vector<Resource> profiles = {R(R"j({"kind":"Profile","metadata":{"name":"kns.default"},
      "spec":{"labelsToApply":{"z":"1","a":"2"}}})j")};
  add("Profile", profiles, wide);
  std::vector<Resource> sets = {R(R"j({"kind":"GlobalNetworkSet","metadata":{"name":"big"},
      "spec":{"nets":["192.168.100.0/24","192.168.101.0/24","192.168.102.0/24",
                      "192.168.103.0/24","192.168.104.0/24","192.168.105.0/24"]}})j")};
  add("GlobalNetworkSet", sets, wide);
  std::vector<Resource> netsets = {R(R"j({"kind":"NetworkSet","metadata":{"name":"ns1",
      "namespace":"default"},"spec":{"nets":["10.1.0.0/16"]}})j")};
  add("NetworkSet", netsets, ns_wide);
  std::vector<Resource> res = {R(R"j({"kind":"IPReservation","metadata":{"name":"r"},
      "spec":{"reservedCIDRs":["10.0.0.0/30"]}})j")};
  add("IPReservation", res, wide);
  std::vector<Resource> ci = {R(R"j({"kind":"ClusterInformation","metadata":{"name":"default"},
      "spec":{"clusterGUID":"abc123","clusterType":"k8s,bgp","calicoVersion":"v3.31.0",
              "datastoreReady":true}})j")};
  add("ClusterInformation", ci, ps);
  std::vector<Resource> ipam = {R(R"j({"kind":"IPAMConfiguration","metadata":{"name":"default"},
      "spec":{"strictAffinity":false,"autoAllocateBlocks":true}})j")};
  add("IPAMConfiguration", ipam, wide);
  std::vector<Resource> felix = {R(R"j({"kind":"FelixConfiguration","metadata":{"name":"default"},
      "spec":{}})j")};
  add("FelixConfiguration", felix, wide);
  add("IPPool", {}, ps);  // Empty list: header only.
  calico::testing::ExpectGolden("src/calico/ctl/testdata/tables.golden", out);
}

TEST(TableTest, CustomColumns) {
  TableOptions o;
  o.headings = {"CIDR", "NAME", "NAT"};
  auto t = RenderTable("IPPool", Pools(), o);
  ASSERT_TRUE(t.has_value());
  calico::testing::ExpectGolden("src/calico/ctl/testdata/custom_columns.golden", *t);
  o.headings = {"NAME", "BOGUS"};
  auto bad = RenderTable("IPPool", Pools(), o);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(),
            "unknown heading BOGUS, valid values are: ASSIGNMENTMODE, CIDR, DISABLEBGPEXPORT, "
            "DISABLED, IPIPMODE, NAME, NAT, SELECTOR, VXLANMODE");
}

TEST(TableTest, GoFloat) {
  EXPECT_EQ(GoFloat(100), "100");
  EXPECT_EQ(GoFloat(1.5), "1.5");
  EXPECT_EQ(GoFloat(1e21), "1e+21");
}

}  // namespace
}  // namespace calico::ctl
