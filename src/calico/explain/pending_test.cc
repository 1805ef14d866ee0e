// explain/pending.h: the staged set applied to a calculation graph (Set replaces, Delete removes,
// the enforced policy comes back when the staged one goes, StagedKubernetesNetworkPolicy
// converted) and the pending traces of endpoint directions (golden: testdata/pending_traces.txt).
#include "calico/explain/pending.h"

#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
#include "calico/explain/explain.h"
#include "calico/model/validate.h"
#include "calico/model/yaml_codec.h"

namespace calico::explain {
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

// web (10.70.0.1, prod) and client (10.70.0.2, default) on node1; "web-only-frontend" denies
// everything to web that is not from app=frontend (default tier's end-of-tier drop).
constexpr std::string_view kBase = R"(
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-web-eth0, namespace: prod,
           labels: {app: web, projectcalico.org/orchestrator: k8s, projectcalico.org/namespace: prod}}
spec: {node: node1, orchestrator: k8s, pod: web, endpoint: eth0, interfaceName: cali00000web,
       ipNetworks: [10.70.0.1/32], profiles: [kns.prod]}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-client-eth0, namespace: default,
           labels: {app: client, projectcalico.org/orchestrator: k8s,
                    projectcalico.org/namespace: default}}
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

// The staged policies of the cases, each applied on its own.
constexpr std::string_view kStagedAllowClient = R"(
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
constexpr std::string_view kStagedDelete = R"(
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: default.web-only-frontend, namespace: prod}
spec: {tier: default, stagedAction: Delete}
)";
constexpr std::string_view kStagedGlobalDeny = R"(
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: default.deny-egress-80}
spec:
  tier: default
  order: 10
  selector: app == 'client'
  types: [Egress]
  egress: [{action: Deny, protocol: TCP, destination: {ports: [80]}}, {action: Pass}]
)";
constexpr std::string_view kStagedK8s = R"(
apiVersion: projectcalico.org/v3
kind: StagedKubernetesNetworkPolicy
metadata: {name: allow-client, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress: [{ports: [{protocol: TCP, port: 80}]}]
)";

std::string HitText(const policy::RuleHit& h) {
  const char* kinds[] = {"policy", "profile", "end-of-tier", "no-profile-match"};
  return fmt::format("{} {} tier={} ns={} name={} rule={} {}", kinds[static_cast<int>(h.kind)],
                     h.policy_kind, h.tier, h.namespace_, h.name, h.rule_index,
                     policy::FlowActionName(h.action));
}

// The pending trace of both directions of client -> web TCP 80 with `staged` applied.
std::string Case(std::string_view title, std::string_view staged) {
  std::vector<model::Resource> base = Parse(kBase);
  calc::CalcGraph enforced("node1");
  PendingGraph pending("node1");
  for (const model::Resource& r : base) {
    enforced.OnUpdate(r);
    pending.OnUpdate(r);
  }
  for (const model::Resource& r : Parse(staged)) {
    enforced.OnUpdate(r);  // Ignored by the agent's graph.
    pending.OnUpdate(r);
  }
  PendingEvaluator eval(enforced.Model(), pending.Model(), pending.StagedIds());
  const Packet pkt{.src = *net::IPAddr::Parse("10.70.0.2"),
                   .dst = *net::IPAddr::Parse("10.70.0.1"),
                   .protocol = 6,
                   .source_port = 40000,
                   .dest_port = 80};
  std::string out = fmt::format("## {}\n", title);
  for (const auto& [ep, ingress] :
       {std::pair{"default/node1-k8s-client-eth0", false}, {"prod/node1-k8s-web-eth0", true}}) {
    out += fmt::format("{} {}:\n", ingress ? "ingress" : "egress", ep);
    auto trace = eval.Evaluate(ep, ingress, pkt);
    if (!trace) {
      out += "  (no staged policy involved: the enforced trace)\n";
      continue;
    }
    for (const policy::RuleHit& h : *trace) {
      out += "  " + HitText(h) + "\n";
    }
  }
  return out + "\n";
}

TEST(PendingTraces, Golden) {
  std::string out;
  out += Case("no staged policy", "");
  out += Case("staged NetworkPolicy replacing the enforced one (Set)", kStagedAllowClient);
  out += Case("staged NetworkPolicy removing the enforced one (Delete)", kStagedDelete);
  out += Case("staged GlobalNetworkPolicy in front of the profiles (egress)", kStagedGlobalDeny);
  out += Case("StagedKubernetesNetworkPolicy (knp.default.allow-client)", kStagedK8s);
  calico::testing::ExpectGolden("src/calico/explain/testdata/pending_traces.txt", out);
}

TEST(PendingGraph, RemovingTheStagedPolicyRestoresTheEnforcedOne) {
  PendingGraph g("node1");
  for (const model::Resource& r : Parse(kBase)) {
    g.OnUpdate(r);
  }
  const policy::Model before = g.Model();
  ASSERT_FALSE(g.HasStaged());
  for (const model::Resource& r : Parse(kStagedDelete)) {
    g.OnUpdate(r);
  }
  EXPECT_TRUE(g.HasStaged());
  EXPECT_EQ(g.StagedIds(), (std::map<std::string, std::string>{
                               {"prod/default.web-only-frontend", "StagedNetworkPolicy"}}));
  EXPECT_TRUE(g.Model().policies.empty()) << "Delete removes the enforced policy";
  g.OnDelete("StagedNetworkPolicy", "prod", "default.web-only-frontend");
  EXPECT_FALSE(g.HasStaged());
  EXPECT_EQ(g.Model(), before);
  // An enforced update while a staged Set replaces it does not show through.
  for (const model::Resource& r : Parse(kStagedAllowClient)) {
    g.OnUpdate(r);
  }
  const policy::Model staged = g.Model();
  for (const model::Resource& r : Parse(kBase)) {
    if (r.kind() == "NetworkPolicy") g.OnUpdate(r);
  }
  EXPECT_EQ(g.Model(), staged);
  ASSERT_EQ(staged.policies.size(), 1U);
  EXPECT_EQ(staged.policies[0].ingress.size(), 2U);
}

TEST(ConvertStaged, RefusesWhatIsNotStaged) {
  auto r = ConvertStaged(Parse(kBase).back());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "NetworkPolicy is not a staged policy");
}

// calicoctl policy explain shows the StagedKubernetesNetworkPolicy's steps as pending.
TEST(PendingExplain, StagedKubernetesNetworkPolicy) {
  Snapshot snap{Parse(kBase)};
  for (model::Resource& r : Parse(kStagedK8s)) {
    snap.resources.push_back(std::move(r));
  }
  auto e = Explain(snap, Query{.from = "10.70.0.2", .to = "10.70.0.1", .port = 80});
  ASSERT_TRUE(e.has_value()) << e.error().message();
  EXPECT_EQ(e->verdict, Verdict::kDeny);
  ASSERT_TRUE(e->pending_verdict.has_value());
  EXPECT_EQ(*e->pending_verdict, Verdict::kAllow);
}

}  // namespace
}  // namespace calico::explain
