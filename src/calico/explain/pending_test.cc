// explain/pending.h: the staged policies beside the enforced ones in a calculation graph (their
// own keys and ids, upstream's order, stagedAction Delete without effect, staged-only tiers,
// StagedKubernetesNetworkPolicy converted) and the pending traces of endpoint directions (golden:
// testdata/pending_traces.txt).
#include "calico/explain/pending.h"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
#include "calico/explain/explain.h"
#include "calico/explain/testing/clusters.h"
#include "calico/model/validate.h"
#include "calico/model/yaml_codec.h"

namespace calico::explain {
namespace {

// From the shared fixture (explain/testing/clusters.h): the reader, web and client on node1, and
// the staged web-only-frontend that also allows client's TCP 80.
std::vector<model::Resource> Parse(std::string_view yaml) {
  return testing::ParseValidated(yaml);
}
const std::string kBase = testing::WebClientCluster(/*k8s_labels=*/true);
using testing::kStagedAllowClient;

// The other staged policies of the cases, each applied on its own.
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

// A staged policy of the same name as the enforced one whose first rule denies TCP 80.
constexpr std::string_view kEnforcedDenies80 = R"(
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: default.web-only-frontend, namespace: prod}
spec:
  tier: default
  selector: app == 'web'
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [80]}}]
)";
// Tier "security" (before default) holds only staged policies: client's egress to TCP 80 meets
// none of its rules.
constexpr std::string_view kStagedOnlyTier = R"(
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100, defaultAction: Deny}
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: security.dns-only}
spec:
  tier: security
  selector: app == 'client'
  types: [Egress]
  egress: [{action: Allow, protocol: UDP, destination: {ports: [53]}}]
)";
constexpr std::string_view kStagedOnlyPassTier = R"(
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: security.dns-only}
spec:
  tier: security
  selector: app == 'client'
  types: [Egress]
  egress: [{action: Allow, protocol: UDP, destination: {ports: [53]}}]
)";

// client's first profile passes its TCP 80 egress on (the dataplane goes on to kns.default, which
// allows; upstream's pending evaluation denies there), with kStagedOnlyPassTier staged.
constexpr std::string_view kProfilePass = R"(
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-client-eth0, namespace: default,
           labels: {app: client, projectcalico.org/orchestrator: k8s,
                    projectcalico.org/namespace: default}}
spec: {node: node1, orchestrator: k8s, pod: client, endpoint: eth0, interfaceName: cali0000client,
       ipNetworks: [10.70.0.2/32], profiles: [pass-80, kns.default]}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: pass-80}
spec: {egress: [{action: Pass, protocol: TCP, destination: {ports: [80]}}]}
)";

std::string HitText(const policy::RuleHit& h) {
  const char* kinds[] = {"policy", "profile", "end-of-tier", "no-profile-match"};
  std::string out = fmt::format(
      "{} {} tier={} ns={} name={} rule={} {}", kinds[static_cast<int>(h.kind)], h.policy_kind,
      h.tier, h.namespace_, h.name, h.rule_index, policy::FlowActionName(h.action));
  if (h.trigger) {
    out += fmt::format(" trigger={} ns={} name={}", h.trigger->policy_kind, h.trigger->namespace_,
                       h.trigger->name);
  }
  return out;
}

PendingGraph Graph(std::initializer_list<std::string_view> yamls) {
  PendingGraph g("node1");
  for (std::string_view yaml : yamls) {
    for (const model::Resource& r : Parse(yaml)) {
      g.OnUpdate(r);
    }
  }
  return g;
}

const Packet kTcp80{.src = *net::IPAddr::Parse("10.70.0.2"),
                    .dst = *net::IPAddr::Parse("10.70.0.1"),
                    .protocol = 6,
                    .source_port = 40000,
                    .dest_port = 80};

// The pending trace of both directions of client -> web TCP 80 with `staged` applied.
std::string Case(std::string_view title, std::initializer_list<std::string_view> yamls) {
  PendingGraph pending = Graph(yamls);
  PendingEvaluator eval(pending.Model());
  std::string out = fmt::format("## {}\n", title);
  for (const auto& [ep, ingress] :
       {std::pair{"default/node1-k8s-client-eth0", false}, {"prod/node1-k8s-web-eth0", true}}) {
    out += fmt::format("{} {}:\n", ingress ? "ingress" : "egress", ep);
    auto trace = eval.Evaluate(ep, ingress, kTcp80);
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
  out += Case("no staged policy", {kBase});
  out += Case("staged NetworkPolicy beside the enforced one of the same name",
              {kBase, kStagedAllowClient});
  out += Case("the enforced policy of the same name comes first and decides",
              {kBase, kEnforcedDenies80, kStagedAllowClient});
  out += Case("staged NetworkPolicy with stagedAction Delete: no effect", {kBase, kStagedDelete});
  out += Case("staged GlobalNetworkPolicy in front of the profiles (egress)",
              {kBase, kStagedGlobalDeny});
  out += Case("StagedKubernetesNetworkPolicy (order 1000, before the enforced policy)",
              {kBase, kStagedK8s});
  out += Case("a tier of staged policies only (defaultAction Deny)", {kBase, kStagedOnlyTier});
  out += Case("a tier of staged policies only (defaultAction Pass)", {kBase, kStagedOnlyPassTier});
  out += Case("a profile's Pass after a staged tier that passes: Deny (app-policy checker)",
              {kBase, kProfilePass, kStagedOnlyPassTier});
  calico::testing::ExpectGolden("src/calico/explain/testdata/pending_traces.txt", out);
}

std::vector<std::string> IngressPolicies(const policy::Model& m, std::string_view endpoint) {
  for (const policy::Endpoint& ep : m.endpoints) {
    if (ep.name != endpoint) continue;
    std::vector<std::string> out;
    for (const policy::TierRef& t : ep.ingress_tiers) {
      for (const std::string& p : t.policies) {
        out.push_back(t.name + ":" + p);
      }
    }
    return out;
  }
  return {};
}

// felix/calc/policy_sorter.go PolKVLess: same order, then "<name>/<namespace>/<kind>" -- the
// enforced NetworkPolicy before the StagedNetworkPolicy of the same name; a lower order first.
TEST(PendingGraph, StagedPolicyIsBesideTheEnforcedOneInUpstreamOrder) {
  PendingGraph g = Graph({kBase, kStagedAllowClient});
  EXPECT_TRUE(g.HasStaged());
  const policy::Model m = g.Model();
  EXPECT_EQ(IngressPolicies(m, "prod/node1-k8s-web-eth0"),
            (std::vector<std::string>{"default:prod/default.web-only-frontend",
                                      "default:prod/staged:default.web-only-frontend"}));
  EXPECT_EQ(StagedIds(m), (std::map<std::string, std::string>{
                              {"prod/staged:default.web-only-frontend", "StagedNetworkPolicy"}}));
  // Both are evaluated, in that order: the enforced one matches nothing, the staged one allows.
  auto web = std::find_if(m.endpoints.begin(), m.endpoints.end(), [](const policy::Endpoint& ep) {
    return ep.name == "prod/node1-k8s-web-eth0";
  });
  ASSERT_NE(web, m.endpoints.end());
  DirectionResult r = EvaluateDirection(m, *web, true, kTcp80);
  ASSERT_GE(r.steps.size(), 3U);
  EXPECT_EQ(r.steps[0].policy, "prod/default.web-only-frontend");
  EXPECT_FALSE(r.steps[0].matched);
  EXPECT_EQ(r.steps[1].policy, "prod/default.web-only-frontend");
  EXPECT_EQ(r.steps[1].kind, Step::Kind::kNoRuleMatched);
  EXPECT_EQ(r.steps.back().policy, "prod/staged:default.web-only-frontend");
  EXPECT_EQ(r.steps.back().rule, 1);
  EXPECT_EQ(r.verdict, Verdict::kAllow);

  // The enforced policy first: its Deny decides the pending trace too.
  PendingGraph denies = Graph({kBase, kEnforcedDenies80, kStagedAllowClient});
  auto trace = PendingEvaluator(denies.Model()).Evaluate("prod/node1-k8s-web-eth0", true, kTcp80);
  ASSERT_TRUE(trace.has_value());
  ASSERT_EQ(trace->size(), 1U);
  EXPECT_EQ(HitText((*trace)[0]),
            "policy np tier=default ns=prod name=default.web-only-frontend "
            "rule=0 deny");

  // A staged policy with a lower order goes before it.
  std::vector<model::Resource> staged = Parse(kStagedAllowClient);
  staged[0].spec()["order"] = 10;
  denies.OnUpdate(staged[0]);
  EXPECT_EQ(IngressPolicies(denies.Model(), "prod/node1-k8s-web-eth0"),
            (std::vector<std::string>{"default:prod/staged:default.web-only-frontend",
                                      "default:prod/default.web-only-frontend"}));
  trace = PendingEvaluator(denies.Model()).Evaluate("prod/node1-k8s-web-eth0", true, kTcp80);
  ASSERT_TRUE(trace.has_value());
  ASSERT_EQ(trace->size(), 1U);
  EXPECT_EQ(HitText((*trace)[0]),
            "policy snp tier=default ns=prod name=default.web-only-frontend "
            "rule=1 allow");
}

// libcalico-go's staged*processor.go does not send a staged policy with stagedAction Delete to
// Felix: the pending view is the enforced one, and the enforced policy of that name stays.
TEST(PendingGraph, StagedDeleteHasNoEffect) {
  PendingGraph enforced_only = Graph({kBase});
  PendingGraph g = Graph({kBase, kStagedDelete});
  EXPECT_FALSE(g.HasStaged());
  EXPECT_EQ(g.Model(), enforced_only.Model());
  EXPECT_FALSE(
      PendingEvaluator(g.Model()).Evaluate("prod/node1-k8s-web-eth0", true, kTcp80).has_value());
  // A staged Set turned into a Delete leaves the view; deleting it again is harmless.
  g = Graph({kBase, kStagedAllowClient});
  EXPECT_TRUE(g.HasStaged());
  for (const model::Resource& r : Parse(kStagedDelete)) {
    g.OnUpdate(r);
  }
  EXPECT_FALSE(g.HasStaged());
  EXPECT_EQ(g.Model(), enforced_only.Model());
  g.OnDelete("StagedNetworkPolicy", "prod", "default.web-only-frontend");
  EXPECT_EQ(g.Model(), enforced_only.Model());
  // calicoctl policy explain: no pending verdict, no pending step; the enforced policy decides.
  Snapshot snap{Parse(kBase)};
  for (model::Resource& r : Parse(kStagedDelete)) {
    snap.resources.push_back(std::move(r));
  }
  auto e = Explain(snap, Query{.from = "10.70.0.2", .to = "10.70.0.1", .port = 80});
  ASSERT_TRUE(e.has_value()) << e.error().message();
  EXPECT_EQ(e->verdict, Verdict::kDeny);
  EXPECT_FALSE(e->pending_verdict.has_value());
  for (const DirectionExplanation& d : e->directions) {
    EXPECT_FALSE(d.pending_verdict.has_value()) << d.direction;
    for (const Step& st : d.steps) {
      EXPECT_FALSE(st.pending) << st.policy;
    }
  }
}

TEST(PendingGraph, RemovingTheStagedPolicyLeavesTheEnforcedView) {
  PendingGraph g = Graph({kBase});
  const policy::Model before = g.Model();
  ASSERT_FALSE(g.HasStaged());
  for (const model::Resource& r : Parse(kStagedAllowClient)) {
    g.OnUpdate(r);
  }
  EXPECT_EQ(g.Model().policies.size(), 2U);
  // An enforced update does not touch the staged policy of the same name, and back.
  for (const model::Resource& r : Parse(kEnforcedDenies80)) {
    g.OnUpdate(r);
  }
  EXPECT_EQ(g.Model().policies.size(), 2U);
  for (const model::Resource& r : Parse(kBase)) {
    g.OnUpdate(r);
  }
  g.OnDelete("StagedNetworkPolicy", "prod", "default.web-only-frontend");
  EXPECT_FALSE(g.HasStaged());
  EXPECT_EQ(g.Model(), before);
  // A staged global policy is keyed without a namespace whatever the delete names.
  for (const model::Resource& r : Parse(kStagedGlobalDeny)) {
    g.OnUpdate(r);
  }
  EXPECT_TRUE(g.HasStaged());
  g.OnDelete("StagedGlobalNetworkPolicy", "", "default.deny-egress-80");
  EXPECT_FALSE(g.HasStaged());
  EXPECT_EQ(g.Model(), before);
}

// The lab's case (tests/e2e/lab_test.sh): a staged GlobalNetworkPolicy over all() in tier
// default, where no enforced policy applies, allowing one outside address.
TEST(PendingGraph, StagedGlobalPolicyAloneInItsTier) {
  PendingGraph g = Graph({kBase, R"(
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: default.staged-allow-far}
spec:
  tier: default
  selector: all()
  types: [Ingress]
  ingress: [{action: Allow, protocol: TCP, source: {nets: [198.19.0.9/32]}, destination: {ports: [80]}}]
)"});
  ASSERT_TRUE(g.HasStaged());
  Packet far = kTcp80;
  far.src = *net::IPAddr::Parse("198.19.0.9");
  auto trace = PendingEvaluator(g.Model()).Evaluate("default/node1-k8s-client-eth0", true, far);
  ASSERT_TRUE(trace.has_value());
  ASSERT_EQ(trace->size(), 1U);
  EXPECT_EQ(HitText((*trace)[0]),
            "policy sgnp tier=default ns= name=default.staged-allow-far rule=0 allow");
}

TEST(ConvertStaged, RefusesWhatIsNotStaged) {
  auto r = ConvertStaged(Parse(kBase).back());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "NetworkPolicy is not a staged policy");
}

TEST(ConvertStaged, EnforcedFormsAndDelete) {
  auto snp = ConvertStaged(Parse(kStagedAllowClient)[0]);
  ASSERT_TRUE(snp.has_value() && snp->has_value());
  EXPECT_EQ((*snp)->kind(), "NetworkPolicy");
  EXPECT_EQ((*snp)->name(), "default.web-only-frontend");
  EXPECT_FALSE((*snp)->spec().contains("stagedAction"));
  auto sknp = ConvertStaged(Parse(kStagedK8s)[0]);
  ASSERT_TRUE(sknp.has_value() && sknp->has_value());
  EXPECT_EQ((*sknp)->kind(), "NetworkPolicy");
  EXPECT_EQ((*sknp)->name(), "knp.default.allow-client");
  auto del = ConvertStaged(Parse(kStagedDelete)[0]);
  ASSERT_TRUE(del.has_value());
  EXPECT_FALSE(del->has_value());
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

// app-policy/checker/check.go: the enforced evaluation skips a tier whose policies are all
// staged (end of tier included); the pending one evaluates it, end of tier included.
TEST(PendingExplain, TierOfStagedPoliciesOnly) {
  Snapshot snap{Parse(kBase)};
  for (model::Resource& r : Parse(kStagedOnlyTier)) {
    snap.resources.push_back(std::move(r));
  }
  auto e = Explain(snap, Query{.from = "10.70.0.2", .to = "10.70.0.1", .port = 80});
  ASSERT_TRUE(e.has_value()) << e.error().message();
  const DirectionExplanation& egress = e->directions[0];
  ASSERT_EQ(egress.direction, "egress");
  EXPECT_EQ(egress.verdict, Verdict::kAllow);  // kns.default's Allow: tier security skipped.
  ASSERT_TRUE(egress.pending_verdict.has_value());
  EXPECT_EQ(*egress.pending_verdict, Verdict::kDeny);
  std::vector<std::string> pending;
  for (const Step& s : egress.steps) {
    EXPECT_NE(s.tier == "security", !s.pending) << s.policy;
    if (s.pending) pending.push_back(fmt::format("{} {} {}", s.tier, s.policy, s.action));
  }
  EXPECT_EQ(pending,
            (std::vector<std::string>{"security staged:security.dns-only Allow",
                                      "security staged:security.dns-only ", "security  Deny"}));
}

// app-policy/checker/check.go checkTiers (`case DENY, PASS:` for profiles): in the pending
// evaluation a profile's Pass is that profile rule's Deny; in the dataplane (and the enforced
// evaluation) it goes on to the next profile, whose Allow decides.
TEST(PendingExplain, ProfilePassDeniesInThePendingEvaluationOnly) {
  Snapshot snap{Parse(kBase)};
  for (std::string_view yaml : {kProfilePass, kStagedOnlyPassTier}) {
    for (model::Resource& r : Parse(yaml)) {
      snap.resources.push_back(std::move(r));
    }
  }
  auto e = Explain(snap, Query{.from = "10.70.0.2", .to = "10.70.0.1", .port = 80});
  ASSERT_TRUE(e.has_value()) << e.error().message();
  const DirectionExplanation& egress = e->directions[0];
  ASSERT_EQ(egress.direction, "egress");
  EXPECT_EQ(egress.verdict, Verdict::kAllow);
  ASSERT_TRUE(egress.pending_verdict.has_value());
  EXPECT_EQ(*egress.pending_verdict, Verdict::kDeny);
  std::vector<std::string> enforced, pending;
  for (const Step& s : egress.steps) {
    if (s.kind != Step::Kind::kRule || !s.matched) continue;
    (s.pending ? pending : enforced).push_back(fmt::format("{} {}", s.policy, s.action));
  }
  EXPECT_EQ(enforced, (std::vector<std::string>{"pass-80 Pass", "kns.default Allow"}));
  EXPECT_EQ(pending, (std::vector<std::string>{"pass-80 Pass"}));

  // The flow logs' pending trace of the same packet ends with that profile rule's Deny.
  PendingGraph g = Graph({kBase, kProfilePass, kStagedOnlyPassTier});
  PendingEvaluator eval(g.Model());
  auto trace = eval.Evaluate("default/node1-k8s-client-eth0", false, kTcp80);
  ASSERT_TRUE(trace.has_value());
  ASSERT_FALSE(trace->empty());
  EXPECT_EQ(HitText(trace->back()), "profile pro tier= ns= name=pass-80 rule=0 deny");
}

// app-policy/checker/check.go checkTiers: the pending trace's end of tier names the tier's first
// policy evaluated (tierDefaultActionRuleID) as its trigger: a staged one by its staged kind and
// own name, an enforced one as its flow-log hits name it.
TEST(PendingTraces, EndOfTierTriggerIsTheTiersFirstPolicy) {
  PendingGraph staged_only = Graph({kBase, kStagedOnlyTier});
  auto trace = PendingEvaluator(staged_only.Model())
                   .Evaluate("default/node1-k8s-client-eth0", false, kTcp80);
  ASSERT_TRUE(trace.has_value());
  ASSERT_FALSE(trace->empty());
  EXPECT_EQ(
      HitText(trace->back()),
      "end-of-tier  tier=security ns= name= rule=-1 deny trigger=sgnp ns= name=security.dns-only");

  // web's ingress from client with a staged policy that does not match either: the enforced
  // web-only-frontend comes first in the default tier (neither has an order: by name), so the end
  // of tier names it.
  constexpr std::string_view kStagedNoMatch = R"(
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: default.zz-nothing, namespace: prod}
spec:
  tier: default
  selector: app == 'web'
  ingress: [{action: Allow, protocol: UDP}]
)";
  PendingGraph g = Graph({kBase, kStagedNoMatch});
  trace = PendingEvaluator(g.Model()).Evaluate("prod/node1-k8s-web-eth0", true, kTcp80);
  ASSERT_TRUE(trace.has_value());
  ASSERT_FALSE(trace->empty());
  EXPECT_EQ(HitText(trace->back()),
            "end-of-tier  tier=default ns= name= rule=-1 deny trigger=np ns=prod "
            "name=default.web-only-frontend");
}

}  // namespace
}  // namespace calico::explain
