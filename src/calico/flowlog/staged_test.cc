// flowlog/staged.h: the pending traces of flow records computed from the flows' endpoints with the
// staged policies (PendingPolicies fed as the agent feeds its graph), end to end through the
// collector; the records' JSON is a golden (testdata/staged_flows.golden.ndjson).
#include "calico/flowlog/staged.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
#include "calico/flowlog/flows_codec.h"
#include "calico/model/v3/endpoint.h"
#include "calico/model/validate.h"
#include "calico/model/yaml_codec.h"
#include "calico/policy/flow_log_prefix.h"

namespace calico::flowlog {
namespace {

std::vector<model::Resource> Parse(std::string_view yaml) {
  std::vector<model::Resource> out;
  auto docs = model::ParseYamlStream(yaml);
  EXPECT_TRUE(docs.has_value()) << docs.error().message();
  if (!docs) return out;
  for (model::Json& d : *docs) {
    model::Resource r(std::move(d));
    Status st = model::ApplyDefaultsAndValidate(r);
    EXPECT_TRUE(st.has_value()) << r.name() << ": " << st.error().message();
    out.push_back(std::move(r));
  }
  return out;
}

// client (default) -> web (prod) on node1; web's ingress only from app=frontend (end-of-tier
// drop); a staged version of that policy also allows TCP 80 from client's address.
constexpr std::string_view kCluster = R"(
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-web-eth0, namespace: prod, labels: {app: web}}
spec: {node: node1, orchestrator: k8s, pod: web, endpoint: eth0, interfaceName: cali00000web,
       ipNetworks: [10.70.0.1/32], profiles: [kns.prod]}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-client-eth0, namespace: default, labels: {app: client}}
spec: {node: node1, orchestrator: k8s, pod: client, endpoint: eth0, interfaceName: cali0000client,
       ipNetworks: [10.70.0.2/32], profiles: [kns.default]}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.prod}
spec: {ingress: [{action: Allow}], egress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.default}
spec: {ingress: [{action: Allow}], egress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: default.web-only-frontend, namespace: prod}
spec:
  tier: default
  selector: app == 'web'
  ingress: [{action: Allow, source: {selector: app == 'frontend'}}]
)";
constexpr std::string_view kStaged = R"(
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: default.web-only-frontend, namespace: prod}
spec:
  tier: default
  selector: app == 'web'
  ingress:
  - {action: Allow, source: {selector: app == 'frontend'}}
  - {action: Allow, protocol: TCP, source: {nets: [10.70.0.2/32]}, destination: {ports: [80]}}
)";

const Clock::time_point kT0 = Clock::time_point(std::chrono::seconds(1'700'000'000));

// The agent's side: its graph and, when pending evaluation is on, the pending view beside it.
struct Node {
  calc::CalcGraph graph{"node1"};
  std::unique_ptr<PendingPolicies> pending;

  void Apply(std::string_view yaml) {
    for (const model::Resource& r : Parse(yaml)) {
      graph.OnUpdate(r);
      if (pending) pending->OnResource(&r, r.kind(), r.namespace_(), r.name());
    }
  }
  void Delete(std::string_view kind, std::string_view ns, std::string_view name) {
    graph.OnDelete(kind, ns, name);
    if (pending) pending->OnResource(nullptr, kind, ns, name);
  }
  // NodeFlowLogs::OnPolicyProgrammed.
  std::shared_ptr<const FlowContext> Context() const {
    const policy::Model m = graph.Model();
    return std::make_shared<FlowContext>(policy::PolicyLookup::Build(m), graph.Endpoints(),
                                         pending ? pending->Evaluator() : nullptr);
  }
};

// Two client -> web connections, to ports 80 and 443, as the kernel's NFLOG reports them: allowed
// out by client's profile, denied in by tier default's end of tier; the interval's records.
std::vector<FlowRecord> Traffic(const Node& node) {
  Collector c;
  c.SetContext(node.Context());
  const auto tcp = [](uint16_t sport, uint16_t dport) {
    return FiveTuple{.src = *net::IPAddr::Parse("10.70.0.2"),
                     .dst = *net::IPAddr::Parse("10.70.0.1"),
                     .proto = 6,
                     .src_port = sport,
                     .dst_port = dport};
  };
  const std::string allow_out =
      policy::RulePrefix(policy::FlowAction::kAllow, true, false, 0, "kns.default");
  const std::string drop_in = policy::EndOfTierDropPrefix(true, "default");
  for (const uint16_t dport : {uint16_t{80}, uint16_t{443}}) {
    const FiveTuple t = tcp(static_cast<uint16_t>(40000 + dport), dport);
    c.OnNflog({.group = policy::kNflogEgressGroup, .prefix = allow_out, .tuple = t, .bytes = 60},
              kT0);
    c.OnNflog({.group = policy::kNflogIngressGroup, .prefix = drop_in, .tuple = t, .bytes = 60},
              kT0);
  }
  return c.Flush(kT0 + std::chrono::seconds(15));
}

TEST(StagedFlowLogs, PendingTracesGolden) {
  Node node;
  node.pending = std::make_unique<PendingPolicies>("node1");
  node.Apply(kCluster);
  node.Apply(kStaged);
  // Port 80: enforced Deny (end of tier), pending Allow by the staged policy's rule 1 (evaluated
  // after the enforced policy of the same name, which matches nothing); port 443: Deny both ways
  // (tier default's end of tier). The egress records (reporter Src) have no
  // staged policy involved: pending = enforced.
  calico::testing::ExpectGolden("src/calico/flowlog/testdata/staged_flows.golden.ndjson",
                                EncodeIngestBody(Traffic(node)));
}

TEST(StagedFlowLogs, PendingFollowsTheStagedPolicies) {
  Node node;
  node.pending = std::make_unique<PendingPolicies>("node1");
  node.Apply(kCluster);
  // No staged policy: no evaluator, pending = enforced.
  EXPECT_FALSE(static_cast<bool>(node.pending->Evaluator()));
  node.Apply(kStaged);
  auto staged = Traffic(node);
  ASSERT_EQ(staged.size(), 4U);
  const FlowRecord* in80 = nullptr;
  for (const FlowRecord& r : staged) {
    if (r.key.reporter == "Dst" && r.key.dest_port == 80) in80 = &r;
  }
  ASSERT_NE(in80, nullptr);
  EXPECT_EQ(in80->key.action, "Deny");
  ASSERT_EQ(in80->key.pending.size(), 1U);
  EXPECT_EQ(in80->key.pending[0].kind, "StagedNetworkPolicy");
  EXPECT_EQ(in80->key.pending[0].action, "Allow");
  EXPECT_EQ(in80->key.pending[0].rule_index, 1);
  // Deleting the staged policy (or a resync that no longer lists it) puts the enforced trace back.
  node.Delete("StagedNetworkPolicy", "prod", "default.web-only-frontend");
  for (const FlowRecord& r : Traffic(node)) {
    EXPECT_EQ(r.key.pending, r.key.enforced) << r.key.dest_port;
  }
  node.Apply(kStaged);
  node.pending->OnResync();
  node.Apply(kCluster);
  for (const FlowRecord& r : Traffic(node)) {
    EXPECT_EQ(r.key.pending, r.key.enforced) << r.key.dest_port;
  }
}

// calico-node's agent reads WorkloadEndpoints on a typed path (AgentConfig::on_workload_endpoint,
// not on_resource): the pending view gets them there and still sees the endpoints.
TEST(StagedFlowLogs, TypedWorkloadEndpointsReachThePendingView) {
  Node node;
  node.pending = std::make_unique<PendingPolicies>("node1");
  for (const model::Resource& r : Parse(kCluster)) {
    node.graph.OnUpdate(r);
    if (r.kind() == "WorkloadEndpoint") {
      auto wep = model::v3::DecodeWorkloadEndpoint(r);
      ASSERT_TRUE(wep.has_value()) << wep.error().message();
      node.pending->OnWorkloadEndpoint(*wep);
    } else {
      node.pending->OnResource(&r, r.kind(), r.namespace_(), r.name());
    }
  }
  node.Apply(kStaged);
  bool seen = false;
  for (const FlowRecord& r : Traffic(node)) {
    if (r.key.reporter != "Dst" || r.key.dest_port != 80) continue;
    seen = true;
    ASSERT_EQ(r.key.pending.size(), 1U);
    EXPECT_EQ(r.key.pending[0].kind, "StagedNetworkPolicy");
    EXPECT_EQ(r.key.pending[0].action, "Allow");
  }
  EXPECT_TRUE(seen);
}

// libcalico-go's staged*processor.go never sends a staged policy with stagedAction Delete to
// Felix: with only such a one, there is no pending view and the pending trace is the enforced one
// (the enforced policy of that name still decides).
TEST(StagedFlowLogs, StagedDeleteHasNoEffect) {
  Node node;
  node.pending = std::make_unique<PendingPolicies>("node1");
  node.Apply(kCluster);
  node.Apply(R"(
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: default.web-only-frontend, namespace: prod}
spec: {tier: default, stagedAction: Delete}
)");
  EXPECT_FALSE(static_cast<bool>(node.pending->Evaluator()));
  for (const FlowRecord& r : Traffic(node)) {
    EXPECT_EQ(r.key.pending, r.key.enforced) << r.key.dest_port;
  }
}

// flowLogsPolicyEvaluationMode None: no pending view at all, the pending trace repeats the
// enforced one even with staged policies in the datastore.
TEST(StagedFlowLogs, EvaluationModeNoneGivesNoPendingTrace) {
  Node node;
  node.Apply(kCluster);
  node.Apply(kStaged);
  for (const FlowRecord& r : Traffic(node)) {
    EXPECT_EQ(r.key.pending, r.key.enforced) << r.key.dest_port;
  }
}

}  // namespace
}  // namespace calico::flowlog
