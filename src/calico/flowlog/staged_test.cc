// flowlog/staged.h: the pending traces of flow records computed from the flows' endpoints with the
// staged policies (PendingPolicies fed as the agent feeds its graph), end to end through the
// collector; the records' JSON is a golden (testdata/staged_flows.golden.ndjson).
#include "calico/flowlog/staged.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
#include "calico/explain/testing/clusters.h"
#include "calico/flowlog/flows_codec.h"
#include "calico/model/v3/endpoint.h"
#include "calico/model/validate.h"
#include "calico/model/yaml_codec.h"
#include "calico/policy/flow_log_prefix.h"

namespace calico::flowlog {
namespace {

using explain::testing::kStagedAllowClient;
using explain::testing::ParseValidated;

// client (default) -> web (prod) on node1, labelled app only (the golden records list labels).
const std::string kWebClientCluster = explain::testing::WebClientCluster(/*k8s_labels=*/false);

const Clock::time_point kT0 = Clock::time_point(std::chrono::seconds(1'700'000'000));

// The agent's side: its graph and, when pending evaluation is on, the pending view beside it.
struct Node {
  calc::CalcGraph graph{"node1"};
  std::unique_ptr<PendingPolicies> pending;

  void Apply(std::string_view yaml) {
    for (const model::Resource& r : ParseValidated(yaml)) {
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
  node.Apply(kWebClientCluster);
  node.Apply(kStagedAllowClient);
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
  node.Apply(kWebClientCluster);
  // No staged policy: no evaluator, pending = enforced.
  EXPECT_FALSE(static_cast<bool>(node.pending->Evaluator()));
  node.Apply(kStagedAllowClient);
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
  node.Apply(kStagedAllowClient);
  node.pending->OnResync();
  node.Apply(kWebClientCluster);
  for (const FlowRecord& r : Traffic(node)) {
    EXPECT_EQ(r.key.pending, r.key.enforced) << r.key.dest_port;
  }
}

// calico-node's agent reads WorkloadEndpoints on a typed path (AgentConfig::on_workload_endpoint,
// not on_resource): the pending view gets them there and still sees the endpoints.
TEST(StagedFlowLogs, TypedWorkloadEndpointsReachThePendingView) {
  Node node;
  node.pending = std::make_unique<PendingPolicies>("node1");
  for (const model::Resource& r : ParseValidated(kWebClientCluster)) {
    node.graph.OnUpdate(r);
    if (r.kind() == "WorkloadEndpoint") {
      auto wep = model::v3::DecodeWorkloadEndpoint(r);
      ASSERT_TRUE(wep.has_value()) << wep.error().message();
      node.pending->OnWorkloadEndpoint(*wep);
    } else {
      node.pending->OnResource(&r, r.kind(), r.namespace_(), r.name());
    }
  }
  node.Apply(kStagedAllowClient);
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
  node.Apply(kWebClientCluster);
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
  node.Apply(kWebClientCluster);
  node.Apply(kStagedAllowClient);
  for (const FlowRecord& r : Traffic(node)) {
    EXPECT_EQ(r.key.pending, r.key.enforced) << r.key.dest_port;
  }
}

}  // namespace
}  // namespace calico::flowlog
