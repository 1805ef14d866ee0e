// The typed v3 decoders: every field the consumers read comes through with its Go type, absent
// fields take the zero value (or nullopt where absence means something), wrong types are errors
// that name the resource and the field, and rules are strict about unknown fields.
#include <gtest/gtest.h>

#include "calico/model/v3/cluster.h"
#include "calico/model/v3/decode.h"
#include "calico/model/v3/endpoint.h"
#include "calico/model/v3/felix.h"
#include "calico/model/v3/ipam.h"
#include "calico/model/v3/node.h"
#include "calico/model/v3/policy.h"

namespace calico::model::v3 {
namespace {

Resource Res(std::string_view kind, std::string_view name, Json spec, std::string_view ns = "") {
  Resource r(kind, name, ns);
  r.spec() = std::move(spec);
  return r;
}

TEST(V3DecodeTest, GlobalNetworkPolicy) {
  Resource r = Res("GlobalNetworkPolicy", "p1", Json::parse(R"({
      "tier": "security", "order": 10.5, "selector": "app == 'web'", "types": ["Ingress"],
      "doNotTrack": true, "applyOnForward": true, "namespaceSelector": "team == 'a'",
      "ingress": [{"action": "Allow", "protocol": "TCP", "ipVersion": 4,
                   "source": {"nets": ["10.0.0.0/8"], "selector": "role == 'db'",
                              "ports": [80, "8080:8090", "http"],
                              "serviceAccounts": {"names": ["sa"], "selector": "x == 'y'"}},
                   "destination": {"notPorts": ["9"]},
                   "icmp": {"type": 8, "code": 0},
                   "metadata": {"annotations": {"k": "v"}}}]})"));
  r.metadata()["labels"] = {{"a", "b"}};
  auto p = DecodeGlobalNetworkPolicy(r);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->metadata.name, "p1");
  EXPECT_EQ(p->metadata.labels, (std::map<std::string, std::string>{{"a", "b"}}));
  EXPECT_EQ(p->spec.tier, "security");
  EXPECT_EQ(p->spec.order, 10.5);
  EXPECT_EQ(p->spec.types, std::vector<std::string>{"Ingress"});
  EXPECT_TRUE(p->spec.do_not_track);
  EXPECT_FALSE(p->spec.pre_dnat);
  EXPECT_TRUE(p->spec.apply_on_forward);
  EXPECT_EQ(p->spec.namespace_selector, "team == 'a'");
  ASSERT_EQ(p->spec.ingress.size(), 1u);
  const Rule& rule = p->spec.ingress[0];
  EXPECT_EQ(rule.action, "Allow");
  EXPECT_EQ(rule.protocol, Protocol::Str("TCP"));
  EXPECT_EQ(rule.ip_version, 4);
  EXPECT_EQ(rule.source.nets, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_EQ(rule.source.ports,
            (std::vector<Port>{Port::Num(80), Port::Str("8080:8090"), Port::Str("http")}));
  ASSERT_TRUE(rule.source.service_accounts);
  EXPECT_EQ(rule.source.service_accounts->names, std::vector<std::string>{"sa"});
  EXPECT_EQ(rule.destination.not_ports, std::vector<Port>{Port::Str("9")});
  EXPECT_EQ(rule.icmp, (ICMPFields{.type = 8, .code = 0}));
  EXPECT_FALSE(rule.not_icmp);
  EXPECT_EQ(rule.metadata->annotations.at("k"), "v");
  EXPECT_TRUE(p->spec.egress.empty());
}

TEST(V3DecodeTest, NetworkPolicyProfileTier) {
  auto np = DecodeNetworkPolicy(Res("NetworkPolicy", "np", {{"selector", "all()"}}, "ns1"));
  ASSERT_TRUE(np) << np.error().message();
  EXPECT_EQ(np->metadata.namespace_, "ns1");
  EXPECT_EQ(np->spec.tier, "");
  EXPECT_FALSE(np->spec.order);

  auto prof =
      DecodeProfile(Res("Profile", "kns.ns1",
                        {{"labelsToApply", {{"team", "a"}}}, {"egress", {{{"action", "Allow"}}}}}));
  ASSERT_TRUE(prof) << prof.error().message();
  EXPECT_EQ(prof->spec.labels_to_apply.at("team"), "a");
  ASSERT_EQ(prof->spec.egress.size(), 1u);

  auto tier = DecodeTier(Res("Tier", "security", {{"order", 100}, {"defaultAction", "Pass"}}));
  ASSERT_TRUE(tier) << tier.error().message();
  EXPECT_EQ(tier->spec.order, 100.0);
  EXPECT_EQ(tier->spec.default_action, "Pass");
}

TEST(V3DecodeTest, ErrorsNameTheResourceAndTheField) {
  auto bad_rule = DecodeGlobalNetworkPolicy(
      Res("GlobalNetworkPolicy", "p1",
          Json::parse(R"({"ingress": [{"action": "Allow"}, {"action": "Allow",
                          "source": {"port": [80]}}]})")));
  ASSERT_FALSE(bad_rule);
  EXPECT_EQ(bad_rule.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad_rule.error().message(),
            "GlobalNetworkPolicy p1: spec.ingress[1].source.port: unknown field");

  auto bad_pool =
      DecodeIPPool(Res("IPPool", "pool-1", {{"cidr", "10.0.0.0/16"}, {"blockSize", "26"}}));
  ASSERT_FALSE(bad_pool);
  EXPECT_EQ(bad_pool.error().message(), "IPPool pool-1: spec.blockSize: must be an integer");

  auto bad_wep = DecodeWorkloadEndpoint(
      Res("WorkloadEndpoint", "w", {{"ipNetworks", {"10.0.0.1/32", 7}}}, "ns1"));
  ASSERT_FALSE(bad_wep);
  EXPECT_EQ(bad_wep.error().message(),
            "WorkloadEndpoint ns1/w: spec.ipNetworks[1]: must be a string");

  Resource labels = Res("HostEndpoint", "h", Json::object());
  labels.metadata()["labels"] = {{"a", 1}};
  EXPECT_EQ(DecodeHostEndpoint(labels).error().message(),
            "HostEndpoint h: metadata.labels.a: must be a string");

  auto wrong_kind = DecodeIPPool(Res("Node", "n1", Json::object()));
  ASSERT_FALSE(wrong_kind);
  EXPECT_EQ(wrong_kind.error().message(), "IPPool n1: not a IPPool (kind \"Node\")");
}

TEST(V3DecodeTest, RulesAreStrict) {
  EXPECT_EQ(DecodeRule(Json::parse(R"({"action": "Allow", "bogus": 1})")).error().message(),
            "bogus: unknown field");
  EXPECT_EQ(DecodeRule(Json::parse(R"({"action": "Allow", "icmp": {"type": 1, "kind": 2}})"))
                .error()
                .message(),
            "icmp.kind: unknown field");
  EXPECT_EQ(DecodeRule(Json::parse(R"({"action": "Allow", "source": {"ports": [1.5]}})"))
                .error()
                .message(),
            "source.ports[0]: must be a number or a string");
  EXPECT_EQ(DecodeRule(Json::parse(R"({"action": "Allow", "source": "x"})")).error().message(),
            "source: must be an object");
  EXPECT_EQ(DecodeRule(Json::parse("[]")).error().message(), "must be an object");
  // Null is absent, as in Go.
  auto rule = DecodeRule(Json::parse(R"({"action": "Deny", "protocol": null, "source": null})"));
  ASSERT_TRUE(rule) << rule.error().message();
  EXPECT_FALSE(rule->protocol);
}

TEST(V3DecodeTest, Endpoints) {
  auto wep = DecodeWorkloadEndpoint(
      Res("WorkloadEndpoint", "node1-cni-abc-eth0",
          Json::parse(R"({"orchestrator": "cni", "node": "node1", "containerID": "abc",
                      "endpoint": "eth0", "interfaceName": "cali0123", "mac": "ee:ee:ee:ee:ee:ee",
                      "ipNetworks": ["10.65.0.2/32"], "profiles": ["net1"],
                      "ports": [{"name": "http", "protocol": "TCP", "port": 8080},
                                {"name": "dns", "protocol": 17, "port": 53, "hostPort": 5353}]})"),
          "default"));
  ASSERT_TRUE(wep) << wep.error().message();
  EXPECT_EQ(wep->spec.node, "node1");
  EXPECT_EQ(wep->spec.container_id, "abc");
  EXPECT_EQ(wep->spec.interface_name, "cali0123");
  EXPECT_EQ(wep->spec.ip_networks, std::vector<std::string>{"10.65.0.2/32"});
  ASSERT_EQ(wep->spec.ports.size(), 2u);
  EXPECT_EQ(wep->spec.ports[0].protocol, Protocol::Str("TCP"));
  EXPECT_EQ(wep->spec.ports[1].protocol, Protocol::Num(17));
  EXPECT_EQ(wep->spec.ports[1].host_port, 5353);

  auto hep = DecodeHostEndpoint(Res("HostEndpoint", "h1",
                                    {{"node", "node1"},
                                     {"interfaceName", "*"},
                                     {"expectedIPs", {"10.0.0.1"}},
                                     {"ports", {{{"name", "ssh"}, {"port", 22}}}}}));
  ASSERT_TRUE(hep) << hep.error().message();
  EXPECT_EQ(hep->spec.interface_name, "*");
  EXPECT_EQ(hep->spec.ports[0].protocol, Protocol{});

  auto set = DecodeNetworkSet(Res("NetworkSet", "s", {{"nets", {"10.0.0.0/8"}}}, "ns1"));
  ASSERT_TRUE(set);
  EXPECT_EQ(set->spec.nets, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_TRUE(DecodeGlobalNetworkSet(Res("GlobalNetworkSet", "g", Json::object())));
}

TEST(V3DecodeTest, Ipam) {
  auto pool = DecodeIPPool(Res("IPPool", "p",
                               {{"cidr", "10.65.0.0/16"},
                                {"vxlanMode", "CrossSubnet"},
                                {"natOutgoing", true},
                                {"allowedUses", Json::array()}}));
  ASSERT_TRUE(pool) << pool.error().message();
  EXPECT_EQ(pool->spec.cidr, "10.65.0.0/16");
  EXPECT_EQ(pool->spec.vxlan_mode, "CrossSubnet");
  EXPECT_FALSE(pool->spec.ipip_mode);
  EXPECT_TRUE(pool->spec.nat_outgoing);
  EXPECT_FALSE(pool->spec.block_size);
  // An explicitly empty list is not the default list.
  ASSERT_TRUE(pool->spec.allowed_uses);
  EXPECT_TRUE(pool->spec.allowed_uses->empty());

  auto res = DecodeIPReservation(Res("IPReservation", "r", {{"reservedCIDRs", {"10.65.0.0/30"}}}));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->spec.reserved_cidrs, std::vector<std::string>{"10.65.0.0/30"});

  auto cfg = DecodeIPAMConfiguration(
      Res("IPAMConfiguration", "default", {{"strictAffinity", true}, {"maxBlocksPerHost", 4}}));
  ASSERT_TRUE(cfg);
  EXPECT_TRUE(cfg->spec.strict_affinity);
  EXPECT_TRUE(cfg->spec.auto_allocate_blocks);
  EXPECT_EQ(cfg->spec.max_blocks_per_host, 4);
}

TEST(V3DecodeTest, Node) {
  Resource r = Res("Node", "node1", Json::parse(R"({
      "bgp": {"ipv4Address": "10.0.0.1/24", "asNumber": 64512, "routeReflectorClusterID": "1.0.0.1"},
      "ipv4VXLANTunnelAddr": "10.65.0.1", "vxlanTunnelMACAddr": "66:00:00:00:00:01",
      "orchRefs": [{"nodeName": "k8s-node1", "orchestrator": "k8s"}],
      "interfaces": [{"name": "eth0", "addresses": ["10.0.0.1"]}]})"));
  r.metadata()["labels"] = {{"rack", "r1"}};
  auto node = DecodeNode(r);
  ASSERT_TRUE(node) << node.error().message();
  ASSERT_TRUE(node->spec.bgp);
  EXPECT_EQ(node->spec.bgp->ipv4_address, "10.0.0.1/24");
  EXPECT_EQ(node->spec.bgp->as_number, 64512u);
  EXPECT_EQ(node->spec.ipv4_vxlan_tunnel_addr, "10.65.0.1");
  EXPECT_EQ(node->spec.orch_refs[0].orchestrator, "k8s");
  EXPECT_EQ(node->spec.interfaces[0].addresses, std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(node->metadata.labels.at("rack"), "r1");
  EXPECT_FALSE(DecodeNode(Res("Node", "n2", Json::object()))->spec.bgp);
}

TEST(V3DecodeTest, CalicoNodeStatus) {
  auto status = DecodeCalicoNodeStatus(
      Res("CalicoNodeStatus", "s1",
          {{"node", "node1"}, {"classes", {"Agent", "Routes"}}, {"updatePeriodSeconds", 10}}));
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_EQ(status->spec.node, "node1");
  EXPECT_EQ(status->spec.classes, (std::vector<std::string>{"Agent", "Routes"}));
  EXPECT_EQ(status->spec.update_period_seconds, 10);
  EXPECT_FALSE(DecodeCalicoNodeStatus(Res("CalicoNodeStatus", "s2", {{"node", "node1"}}))
                   ->spec.update_period_seconds);
  EXPECT_EQ(
      DecodeCalicoNodeStatus(Res("CalicoNodeStatus", "s3", {{"classes", "BGP"}})).error().message(),
      "CalicoNodeStatus s3: spec.classes: must be a list");
}

TEST(V3DecodeTest, FelixConfiguration) {
  auto fc = DecodeFelixConfiguration(
      Res("FelixConfiguration", "default",
          Json::parse(R"({"healthPort": 9199, "routeRefreshInterval": "30s",
                      "failsafeInboundHostPorts": [{"protocol": "UDP", "port": 68},
                                                   {"port": 22, "net": "10.0.0.0/8"}],
                      "failsafeOutboundHostPorts": "tcp:179", "someOtherSetting": 5})")));
  ASSERT_TRUE(fc) << fc.error().message();
  EXPECT_EQ(fc->spec.health_port, 9199);
  EXPECT_FALSE(fc->spec.health_enabled);
  EXPECT_EQ(fc->spec.route_refresh_interval, "30s");
  ASSERT_TRUE(fc->spec.failsafe_inbound_host_ports);
  EXPECT_EQ(
      fc->spec.failsafe_inbound_host_ports->ports,
      (std::vector<ProtoPort>{{.protocol = "UDP", .port = 68}, {.port = 22, .net = "10.0.0.0/8"}}));
  EXPECT_EQ(fc->spec.failsafe_outbound_host_ports->text, "tcp:179");
  EXPECT_EQ(DecodeFelixConfiguration(
                Res("FelixConfiguration", "default", {{"failsafeInboundHostPorts", 22}}))
                .error()
                .message(),
            "FelixConfiguration default: spec.failsafeInboundHostPorts: must be a string or a "
            "list");
}

TEST(V3DecodeTest, ClusterKinds) {
  auto ci = DecodeClusterInformation(
      Res("ClusterInformation", "default", {{"datastoreReady", true}, {"clusterGUID", "abc"}}));
  ASSERT_TRUE(ci);
  EXPECT_EQ(ci->spec.datastore_ready, true);
  EXPECT_EQ(ci->spec.cluster_guid, "abc");
  EXPECT_FALSE(DecodeClusterInformation(Res("ClusterInformation", "default", Json::object()))
                   ->spec.datastore_ready);

  auto kcc = DecodeKubeControllersConfiguration(
      Res("KubeControllersConfiguration", "default",
          Json::parse(R"({"healthChecks": "Enabled", "controllers": {"node": {
              "reconcilerPeriod": "5m", "hostEndpoint": {"autoCreate": "Disabled"}},
              "policy": {"reconcilerPeriod": "1m"}}})")));
  ASSERT_TRUE(kcc) << kcc.error().message();
  EXPECT_EQ(kcc->spec.health_checks, "Enabled");
  ASSERT_TRUE(kcc->spec.controllers.node);
  EXPECT_EQ(kcc->spec.controllers.node->host_endpoint_auto_create, "Disabled");
  EXPECT_EQ(kcc->spec.controllers.policy->reconciler_period, "1m");
  EXPECT_FALSE(kcc->spec.controllers.namespace_);
}

TEST(V3DecodeTest, ReaderScalars) {
  int32_t small = 0;
  EXPECT_EQ(DecodeValue(Json(int64_t{1} << 40), "x", small).error().message(),
            "x: integer out of range");
  int64_t wide = 0;
  EXPECT_EQ(DecodeValue(Json(uint64_t{1} << 63), "x", wide).error().message(),
            "x: integer out of range");
  double d = 0;
  EXPECT_TRUE(DecodeValue(Json(3), "x", d));
  EXPECT_EQ(d, 3.0);
  std::optional<bool> b = true;
  EXPECT_TRUE(DecodeValue(Json(), "x", b));
  EXPECT_FALSE(b);
}

}  // namespace
}  // namespace calico::model::v3
