// PolicySync against the in-memory store: what calicoctl stored under /calico/kubernetes/ becomes
// the Calico resources kube-controllers writes, edits to those are undone, and deleting the source
// deletes them; a pass stops as soon as it may no longer act.
#include "calico/controllers/policy_sync.h"

#include <gtest/gtest.h>

#include "calico/datastore/testing/mem_backend.h"

namespace calico::controllers {
namespace {

using model::Json;
using model::Resource;

class PolicySyncTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(client_.EnsureInitialized().has_value()); }

  void Apply(const std::string& json) {
    auto r = client_.Apply(Resource(Json::parse(json)));
    ASSERT_TRUE(r.has_value()) << r.error().message();
  }

  datastore::MemBackend backend_;
  datastore::Client client_{backend_};
  ControllerMetrics metrics_;
  PolicySync sync_{client_, metrics_};
};

TEST_F(PolicySyncTest, NetworkPolicyLifecycle) {
  Apply(R"j({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
            "metadata":{"name":"allow-web","namespace":"ns1"},
            "spec":{"podSelector":{"matchLabels":{"app":"web"}},
                    "ingress":[{"ports":[{"port":80}]}]}})j");
  // The k8s object is stored outside Calico's layout, and is not a Calico NetworkPolicy.
  EXPECT_TRUE(backend_.Get("/calico/kubernetes/networking.k8s.io/v1/networkpolicies/ns1/allow-web")
                  .has_value());
  auto calico = client_.List("NetworkPolicy");
  ASSERT_TRUE(calico.has_value());
  EXPECT_TRUE(calico->empty());

  auto r = sync_.SyncNetworkPolicies({});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->created, 1);
  auto np = client_.Get("NetworkPolicy", "ns1", "knp.default.allow-web");
  ASSERT_TRUE(np.has_value()) << np.error().message();
  EXPECT_EQ(np->spec()["tier"], "default");
  EXPECT_EQ(np->spec()["order"], 1000);
  EXPECT_EQ(np->spec()["selector"], "projectcalico.org/orchestrator == 'k8s' && app == 'web'");
  EXPECT_EQ(np->spec()["types"], Json::array({"Ingress"}));

  // A second pass writes nothing.
  r = sync_.SyncNetworkPolicies({});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->writes(), 0);

  // An edit of the owned policy is undone.
  Resource edited = *np;
  edited.spec()["order"] = 1;
  ASSERT_TRUE(client_.Update(edited).has_value());
  r = sync_.SyncNetworkPolicies({});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->updated, 1);
  EXPECT_EQ(client_.Get("NetworkPolicy", "ns1", "knp.default.allow-web")->spec()["order"], 1000);

  // A user's own NetworkPolicy is left alone; deleting the source deletes the owned one.
  ASSERT_TRUE(client_
                  .Create(Resource(Json::parse(R"j({"apiVersion":"projectcalico.org/v3",
      "kind":"NetworkPolicy","metadata":{"name":"mine","namespace":"ns1"},"spec":{}})j")))
                  .has_value());
  ASSERT_TRUE(client_.Delete("NetworkPolicy.networking.k8s.io", "ns1", "allow-web").has_value());
  r = sync_.SyncNetworkPolicies({});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->deleted, 1);
  auto left = client_.List("NetworkPolicy");
  ASSERT_TRUE(left.has_value());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].name(), "mine");
  EXPECT_EQ(metrics_.writes("policy"), 3u);
}

TEST_F(PolicySyncTest, NamespacesBecomeProfiles) {
  Apply(
      R"j({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"prod","labels":{"env":"prod"}}})j");
  auto r = sync_.SyncNamespaces({});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->created, 1);
  auto p = client_.Get("Profile", "", "kns.prod");
  ASSERT_TRUE(p.has_value());
  // The API server's name label comes through as pcns.kubernetes.io/metadata.name.
  EXPECT_EQ(p->spec()["labelsToApply"], Json::parse(R"j({"pcns.env":"prod",
      "pcns.kubernetes.io/metadata.name":"prod","pcns.projectcalico.org/name":"prod"})j"));
  // Relabelling the namespace relabels the profile.
  Apply(
      R"j({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"prod","labels":{"env":"staging"}}})j");
  r = sync_.SyncNamespaces({});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->updated, 1);
  EXPECT_EQ(client_.Get("Profile", "", "kns.prod")->spec()["labelsToApply"]["pcns.env"], "staging");
  // Profiles not owned (the CNI networks') are untouched; deleting the namespace removes kns.prod.
  ASSERT_TRUE(client_.Create(Resource("Profile", "backend")).has_value());
  ASSERT_TRUE(client_.Delete("Namespace", "", "prod").has_value());
  r = sync_.SyncNamespaces({});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->deleted, 1);
  EXPECT_FALSE(client_.Get("Profile", "", "kns.prod").has_value());
  EXPECT_TRUE(client_.Get("Profile", "", "backend").has_value());
}

TEST_F(PolicySyncTest, AdminPoliciesGoToTheKubeTiers) {
  Apply(R"j({"apiVersion":"policy.networking.k8s.io/v1alpha1","kind":"AdminNetworkPolicy",
            "metadata":{"name":"cluster-control"},
            "spec":{"priority":10,"subject":{"namespaces":{}},
                    "ingress":[{"action":"Pass","from":[{"namespaces":{"matchLabels":{"a":"b"}}}]}]}})j");
  Apply(R"j({"apiVersion":"policy.networking.k8s.io/v1alpha1","kind":"BaselineAdminNetworkPolicy",
            "metadata":{"name":"default"},
            "spec":{"subject":{"namespaces":{}},
                    "ingress":[{"action":"Deny","from":[{"namespaces":{}}]}]}})j");
  auto r = sync_.SyncAdminPolicies({});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->created, 2);
  auto anp = client_.Get("GlobalNetworkPolicy", "", "kanp.kube-admin.cluster-control");
  ASSERT_TRUE(anp.has_value());
  EXPECT_EQ(anp->spec()["tier"], "kube-admin");
  EXPECT_EQ(anp->spec()["order"], 10);
  auto banp = client_.Get("GlobalNetworkPolicy", "", "kbanp.kube-baseline.default");
  ASSERT_TRUE(banp.has_value());
  EXPECT_EQ(banp->spec()["tier"], "kube-baseline");
  ASSERT_TRUE(client_.Delete("AdminNetworkPolicy.policy.networking.k8s.io", "", "cluster-control")
                  .has_value());
  r = sync_.SyncAdminPolicies({});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->deleted, 1);
  EXPECT_TRUE(client_.Get("GlobalNetworkPolicy", "", "kbanp.kube-baseline.default").has_value());
}

// A pass that may not act writes nothing and says so.
TEST_F(PolicySyncTest, StopsWhenItMayNotAct) {
  Apply(R"j({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}})j");
  auto r = sync_.SyncNamespaces([] { return false; });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(client_.Get("Profile", "", "kns.a").has_value());
}

// The store failing mid-pass is an error for this pass only.
TEST_F(PolicySyncTest, StoreFailureIsRetriedNextPass) {
  Apply(R"j({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}})j");
  backend_.FailNext(Error(ErrorCode::kUnavailable, "injected"));
  EXPECT_FALSE(sync_.SyncNamespaces({}).has_value());
  auto r = sync_.SyncNamespaces({});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->created, 1);
}

}  // namespace
}  // namespace calico::controllers
