// explain: Explain over in-memory snapshots (the calculation graph and the parsed rules), its
// errors, the staged and -f views, and the text/JSON forms (goldens). The agreement with real
// packets is tests/e2e/explain_agreement_test.sh (privileged).
#include "calico/explain/explain.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
#include "calico/base/testing/status_matchers.h"
#include "calico/explain/testing/clusters.h"
#include "calico/model/validate.h"
#include "calico/model/yaml_codec.h"

namespace calico::explain {
namespace {

using calico::testing::StatusIs;

// From the shared fixture (explain/testing/clusters.h).
std::vector<model::Resource> Parse(std::string_view yaml) {
  return testing::ParseValidated(yaml);
}

constexpr std::string_view kBase = testing::kNetworksCluster;

Snapshot Snap(std::string_view extra = "") {
  Snapshot s{Parse(kBase)};
  for (model::Resource& r : Parse(extra)) {
    s.resources.push_back(std::move(r));
  }
  return s;
}

Explanation Must(const Snapshot& s, const Query& q) {
  auto e = Explain(s, q);
  EXPECT_TRUE(e.has_value()) << e.error().message();
  return e ? *e : Explanation{};
}

TEST(Explain, ProfilesAllowTheirOwnNetworkOnly) {
  const Snapshot s = Snap();
  Explanation e =
      Must(s, {.from = "node1-cni-a2-eth0", .to = "default/node1-cni-a1-eth0", .port = 80});
  EXPECT_EQ(e.verdict, Verdict::kAllow);
  ASSERT_EQ(e.directions.size(), 2u);
  EXPECT_EQ(e.directions[0].direction, "egress");
  EXPECT_EQ(e.directions[0].endpoint, "default/node1-cni-a2-eth0");
  EXPECT_EQ(e.directions[1].direction, "ingress");
  EXPECT_EQ(e.from.ip, "10.68.0.2");

  e = Must(s, {.from = "10.68.1.1", .to = "10.68.0.1", .port = 80});
  EXPECT_EQ(e.verdict, Verdict::kDeny);
  EXPECT_EQ(e.from.endpoint, "default/node2-cni-b1-eth0");  // An IP resolves to its endpoint.
  EXPECT_EQ(e.directions[0].verdict, Verdict::kAllow);
  EXPECT_EQ(e.directions[1].verdict, Verdict::kDeny);
  EXPECT_EQ(e.directions[1].steps.back().kind, Step::Kind::kNoProfile);
}

TEST(Explain, APlainAddressHasNoPolicyOnItsSide) {
  Explanation e = Must(Snap(), {.from = "192.0.2.9", .to = "10.68.0.1", .port = 80});
  EXPECT_TRUE(e.from.endpoint.empty());
  ASSERT_EQ(e.directions.size(), 1u);
  EXPECT_EQ(e.directions[0].direction, "ingress");
  EXPECT_EQ(e.verdict, Verdict::kDeny);
  e = Must(Snap(), {.from = "10.68.0.1", .to = "192.0.2.9", .protocol = "ICMP"});
  ASSERT_EQ(e.directions.size(), 1u);
  EXPECT_EQ(e.verdict, Verdict::kAllow);  // net1's egress allows everything.
}

constexpr std::string_view kTiers = R"(
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.gate}
spec:
  tier: security
  selector: has(net1)
  ingress:
  - {action: Deny, protocol: UDP}
  - {action: Pass, protocol: TCP, destination: {notPorts: [80]}}
  - {action: Allow, protocol: TCP, source: {nets: [10.68.0.0/24]}, destination: {ports: [80]}}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: default.http-only}
spec:
  order: 10
  selector: app == 'web'
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [http]}}
)";

TEST(Explain, TiersPassOrderAndEndOfTier) {
  const Snapshot s = Snap(kTiers);
  // 80 from net1: security's third rule allows.
  Explanation e = Must(s, {.from = "10.68.0.2", .to = "10.68.0.1", .port = 80});
  EXPECT_EQ(e.verdict, Verdict::kAllow);
  const auto& in = e.directions[1].steps;
  ASSERT_EQ(in.size(), 3u);
  EXPECT_FALSE(in[0].matched);
  EXPECT_EQ(in[0].reason, "protocol UDP (packet TCP)");
  EXPECT_FALSE(in[1].matched);
  EXPECT_EQ(in[1].reason, "destination port 80 in notPorts 80");
  EXPECT_TRUE(in[2].matched);
  EXPECT_EQ(in[2].rule, 2);
  // 8080: Pass to the default tier, where the named port http (8080 on a1) allows.
  e = Must(s, {.from = "10.68.0.2", .to = "10.68.0.1", .port = 8080});
  EXPECT_EQ(e.verdict, Verdict::kAllow);
  EXPECT_EQ(e.directions[1].steps.back().policy, "default.http-only");
  // 8081: Pass, then no rule of the default tier: end-of-tier drop, profiles never reached.
  e = Must(s, {.from = "10.68.0.2", .to = "10.68.0.1", .port = 8081});
  EXPECT_EQ(e.verdict, Verdict::kDeny);
  EXPECT_EQ(e.directions[1].steps.back().kind, Step::Kind::kEndOfTier);
  EXPECT_EQ(e.directions[1].steps.back().tier, "default");
  // UDP: denied by the first rule.
  e = Must(s, {.from = "10.68.0.2", .to = "10.68.0.1", .protocol = "UDP", .port = 53});
  EXPECT_EQ(e.verdict, Verdict::kDeny);
  EXPECT_EQ(e.directions[1].steps.back().action, "Deny");
  // a2 is not selected by http-only (app client): Pass, then its profile allows.
  e = Must(s, {.from = "10.68.0.1", .to = "10.68.0.2", .port = 8081});
  EXPECT_EQ(e.verdict, Verdict::kAllow);
  EXPECT_TRUE(e.directions[1].steps.back().profile);
  calico::testing::ExpectGolden(
      "src/calico/explain/testdata/tiers_8081.txt",
      RenderText(Must(s, {.from = "10.68.0.2", .to = "10.68.0.1", .port = 8081})));
  calico::testing::ExpectGolden(
      "src/calico/explain/testdata/tiers_8081.json",
      ToJson(Must(s, {.from = "10.68.0.2", .to = "10.68.0.1", .port = 8081})).dump(2) + "\n");
}

TEST(Explain, NamespaceSelectorThroughProfileLabels) {
  // The namespace's labels reach the endpoints as pcns.* through the kns.<ns> profile (KDD's form).
  const Snapshot s = Snap(R"(
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.prod}
spec: {labelsToApply: {pcns.env: prod}, ingress: [{action: Allow}], egress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.dev}
spec: {labelsToApply: {pcns.env: dev}, ingress: [{action: Allow}], egress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-cni-p1-eth0, namespace: prod}
spec: {node: node1, orchestrator: cni, workload: p1, endpoint: eth0, interfaceName: cali00000000p1,
       ipNetworks: [10.68.0.11/32], profiles: [kns.prod]}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-cni-d1-eth0, namespace: dev}
spec: {node: node1, orchestrator: cni, workload: d1, endpoint: eth0, interfaceName: cali00000000d1,
       ipNetworks: [10.68.0.12/32], profiles: [kns.dev]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: from-prod, namespace: prod}
spec:
  selector: all()
  ingress: [{action: Allow, source: {namespaceSelector: env == 'prod'}}]
)");
  Explanation e = Must(s, {.from = "prod/node1-cni-p1-eth0", .to = "10.68.0.11", .port = 80});
  EXPECT_EQ(e.verdict, Verdict::kAllow);
  EXPECT_EQ(e.directions[1].steps[0].policy, "prod/from-prod");
  e = Must(s, {.from = "dev/node1-cni-d1-eth0", .to = "10.68.0.11", .port = 80});
  EXPECT_EQ(e.verdict, Verdict::kDeny);
  EXPECT_NE(e.directions[1].steps[0].reason.find("not selected by"), std::string::npos)
      << e.directions[1].steps[0].reason;
}

TEST(Explain, IcmpAndEgress) {
  const Snapshot s = Snap(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: no-ping-out}
spec:
  selector: app == 'client'
  types: [Egress]
  egress:
  - {action: Deny, protocol: ICMP, icmp: {type: 8}}
  - {action: Allow, destination: {notNets: [10.68.1.0/24]}}
)");
  Explanation e = Must(s, {.from = "10.68.0.2", .to = "10.68.0.1", .protocol = "ICMP"});
  EXPECT_EQ(e.verdict, Verdict::kDeny);
  EXPECT_EQ(e.directions[0].direction, "egress");
  EXPECT_EQ(e.directions[0].verdict, Verdict::kDeny);
  e = Must(s, {.from = "10.68.0.2", .to = "10.68.0.1", .protocol = "ICMP", .icmp_type = 0});
  EXPECT_EQ(e.directions[0].verdict, Verdict::kAllow);
  e = Must(s, {.from = "10.68.0.2", .to = "10.68.1.1", .port = 80});
  EXPECT_EQ(e.directions[0].verdict, Verdict::kDeny);  // notNets, then end of tier default.
  EXPECT_EQ(e.directions[0].steps[1].reason, "destination 10.68.1.1 in notNets 10.68.1.0/24");
}

TEST(Explain, StagedPoliciesArePendingAndDoNotDecide) {
  const Snapshot s = Snap(R"(
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: lockdown}
spec:
  selector: app == 'web'
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [80]}}]
)");
  Explanation e = Must(s, {.from = "10.68.0.2", .to = "10.68.0.1", .port = 80});
  EXPECT_EQ(e.verdict, Verdict::kAllow);
  ASSERT_TRUE(e.pending_verdict.has_value());
  EXPECT_EQ(*e.pending_verdict, Verdict::kDeny);
  const Step& last = e.directions[1].steps.back();
  EXPECT_TRUE(last.pending);
  EXPECT_EQ(last.policy, "staged:lockdown");
  EXPECT_TRUE(last.matched);
  calico::testing::ExpectGolden("src/calico/explain/testdata/staged.txt", RenderText(e));
  // Not selected: no pending verdict for that direction.
  e = Must(s, {.from = "10.68.0.1", .to = "10.68.0.2", .port = 80});
  EXPECT_FALSE(e.pending_verdict.has_value());
}

TEST(Explain, OverlayAnswersWhatIf) {
  const Snapshot s = Snap();
  const Query q{.from = "10.68.1.1", .to = "10.68.0.1", .port = 80};
  EXPECT_EQ(Must(s, q).verdict, Verdict::kDeny);
  const Snapshot what_if = Overlay(s, Parse(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web-from-net2}
spec:
  selector: app == 'web'
  ingress: [{action: Allow, source: {selector: has(net2)}, protocol: TCP, destination: {ports: [80]}}]
)"));
  EXPECT_EQ(Must(what_if, q).verdict, Verdict::kAllow);
  EXPECT_EQ(Must(s, q).verdict, Verdict::kDeny);  // The snapshot itself is unchanged.
  // Overlaying an existing resource replaces it.
  const Snapshot replaced = Overlay(s, Parse(R"(
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: net1}
spec: {ingress: [{action: Allow}], egress: [{action: Allow}], labelsToApply: {net1: ""}}
)"));
  EXPECT_EQ(replaced.resources.size(), s.resources.size());
  EXPECT_EQ(Must(replaced, q).verdict, Verdict::kAllow);
}

TEST(Explain, BadQueriesNameTheField) {
  const Snapshot s = Snap();
  EXPECT_THAT(Explain(s, {.from = "nope", .to = "10.68.0.1", .port = 80}),
              StatusIs(ErrorCode::kInvalidArgument,
                       "from: \"nope\" is neither an IP address nor a WorkloadEndpoint "
                       "(\"<namespace>/<name>\" or \"<name>\")"));
  EXPECT_THAT(Explain(s, {.from = "10.68.0.2", .to = "10.68.0.1"}),
              StatusIs(ErrorCode::kInvalidArgument, "port: required for TCP"));
  EXPECT_THAT(Explain(s, {.from = "10.68.0.2", .to = "10.68.0.1", .protocol = "ICMP", .port = 1}),
              StatusIs(ErrorCode::kInvalidArgument, "port: protocol ICMP has no ports"));
  EXPECT_THAT(Explain(s, {.from = "10.68.0.2", .to = "10.68.0.1", .protocol = "XTP"}),
              StatusIs(ErrorCode::kInvalidArgument, "protocol: invalid protocol \"XTP\""));
  EXPECT_THAT(Explain(s, {.from = "10.68.0.2", .to = "fd00::1", .port = 80}),
              StatusIs(ErrorCode::kInvalidArgument,
                       "from 10.68.0.2 and to fd00::1 have no address family in common"));
  EXPECT_THAT(Explain(s, {.from = "10.68.0.2", .to = "10.68.0.1", .port = 70000}),
              StatusIs(ErrorCode::kInvalidArgument, "port: 70000 is not a port (1-65535)"));
  EXPECT_THAT(
      Explain(s, {.from = "", .to = "10.68.0.1", .port = 80}),
      StatusIs(ErrorCode::kInvalidArgument, "from: required (an endpoint or an IP address)"));
}

TEST(Explain, QueryJsonRoundTrip) {
  const Query q{.from = "a", .to = "b", .protocol = "UDP", .port = 53, .source_port = 4000};
  auto back = QueryFromJson(QueryToJson(q));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, q);
  EXPECT_THAT(QueryFromJson(Json{{"form", "x"}}),
              StatusIs(ErrorCode::kInvalidArgument, "form: unknown field"));
  EXPECT_THAT(QueryFromJson(Json{{"port", "80"}}),
              StatusIs(ErrorCode::kInvalidArgument, "port: must be an integer"));
  auto numeric = QueryFromJson(Json{{"from", "a"}, {"to", "b"}, {"protocol", 17}, {"port", 53}});
  ASSERT_TRUE(numeric.has_value());
  EXPECT_EQ(numeric->protocol, "17");
}

TEST(Explain, IsolatedPolicyDropsInItsPlace) {
  // destination.services validates but the renderer cannot express it: the agent isolates the
  // policy (its chain is one drop) while it applies to a local endpoint.
  const Snapshot s = Snap(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: to-dns}
spec:
  selector: app == 'client'
  types: [Egress]
  egress:
  - {action: Allow, destination: {services: {name: kube-dns, namespace: kube-system}}}
)");
  Explanation e = Must(s, {.from = "10.68.0.2", .to = "10.68.0.1", .port = 80});
  EXPECT_EQ(e.verdict, Verdict::kDeny);
  ASSERT_EQ(e.directions.size(), 2u);
  ASSERT_EQ(e.directions[0].steps.size(), 1u);
  EXPECT_EQ(e.directions[0].steps[0].kind, Step::Kind::kIsolated);
  EXPECT_EQ(e.directions[0].steps[0].policy, "to-dns");
}

TEST(Explain, Ipv6AndIpVersion) {
  const Snapshot s = Snap(R"(
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-cni-v6-eth0, namespace: default, labels: {app: web6}}
spec: {node: node1, orchestrator: cni, workload: v6, endpoint: eth0, interfaceName: cali00000000v6,
       ipNetworks: [10.68.0.9/32, "fd00:68::9/128"], profiles: [net1]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: v4-only}
spec:
  selector: app == 'web6'
  ingress: [{action: Allow, ipVersion: 4}]
)");
  Explanation e =
      Must(s, {.from = "fd00:68::1", .to = "default/node1-cni-v6-eth0", .protocol = "ICMPv6"});
  EXPECT_EQ(e.to.ip, "fd00:68::9");  // The endpoint's address of the other side's family.
  EXPECT_EQ(e.verdict, Verdict::kDeny);
  EXPECT_EQ(e.directions[0].steps[0].reason, "rule is IPv4, packet is IPv6");
  e = Must(s, {.from = "10.68.0.2", .to = "default/node1-cni-v6-eth0", .protocol = "ICMP"});
  EXPECT_EQ(e.to.ip, "10.68.0.9");
  EXPECT_EQ(e.verdict, Verdict::kAllow);
  EXPECT_THAT(
      Explain(s, {.from = "fd00:68::1", .to = "fd00:68::9", .protocol = "ICMP"}),
      StatusIs(ErrorCode::kInvalidArgument, "protocol: ICMP does not go with IPv6 addresses"));
}

}  // namespace
}  // namespace calico::explain
