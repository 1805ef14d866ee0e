// calicoctl with the Kubernetes kinds calico-controllers converts (networking.k8s.io/v1
// NetworkPolicy, v1 Namespace, policy.networking.k8s.io/v1alpha1 admin policies): stored under
// /calico/kubernetes/ (never inside Calico's layout), validated and defaulted as the API server
// does, listed, shown and deleted with calicoctl, and never confused with Calico's NetworkPolicy.
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/ctl/ctl.h"
#include "calico/ctl/testing/ctl_fixture.h"
#include "calico/datastore/client.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::ctl {
namespace {

using ::testing::HasSubstr;

// The ctl tests' one harness (ctl/testing/ctl_fixture.h): in-process runs on an in-memory store.
class KubernetesKindsTest : public testing::CtlFixture {};

constexpr const char* kObjects = R"j(apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - ports: [{port: 80}]
    from: [{namespaceSelector: {}}]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec: {selector: all()}
)j";

TEST_F(KubernetesKindsTest, StoredApartFromCalicoResources) {
  auto r = Run({"apply", "-f", "-"}, kObjects);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Successfully applied 3 resource(s)\n");
  // The Kubernetes objects live under /calico/kubernetes/, with their own apiVersion.
  auto np = backend_.Get("/calico/kubernetes/networking.k8s.io/v1/networkpolicies/shop/web");
  ASSERT_TRUE(np.has_value());
  EXPECT_THAT(np->value, HasSubstr("\"apiVersion\":\"networking.k8s.io/v1\""));
  EXPECT_TRUE(backend_.Get("/calico/kubernetes/v1/namespaces/shop").has_value());
  auto calico = backend_.Get("/calico/resources/v3/projectcalico.org/networkpolicies/shop/web");
  ASSERT_TRUE(calico.has_value());
  EXPECT_THAT(calico->value, HasSubstr("\"selector\":\"all()\""));

  // The API server's defaults: TCP, policyTypes, the namespace's name label.
  r = Run({"get", "knp", "web", "-n", "shop", "-o", "yaml"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("apiVersion: networking.k8s.io/v1"));
  EXPECT_THAT(r.out, HasSubstr("protocol: TCP"));
  EXPECT_THAT(r.out, HasSubstr("- Ingress"));
  r = Run({"get", "namespace", "shop", "-o", "yaml"});
  EXPECT_THAT(r.out, HasSubstr("kubernetes.io/metadata.name: shop"));

  // Tables; Calico's NetworkPolicy is still Calico's.
  r = Run({"get", "k8snetworkpolicies", "-n", "shop"});
  EXPECT_EQ(r.out, "NAMESPACE   NAME   POD-SELECTOR   \nshop        web    app=web        \n\n");
  r = Run({"get", "networkpolicy", "-n", "shop", "-o", "yaml"});
  EXPECT_THAT(r.out, HasSubstr("apiVersion: projectcalico.org/v3"));
  EXPECT_THAT(r.out, HasSubstr("selector: all()"));
  r = Run({"get", "namespaces", "-o", "wide"});
  EXPECT_THAT(r.out, HasSubstr("shop   Active   kubernetes.io/metadata.name=shop,team=a"));
  r = Run({"get", "knp", "-A", "-o", "json"});
  EXPECT_THAT(r.out, HasSubstr("\"kind\": \"NetworkPolicyList\""));
  EXPECT_THAT(r.out, HasSubstr("\"apiVersion\": \"networking.k8s.io/v1\""));

  r = Run({"delete", "-f", "-"}, kObjects);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(backend_.Get("/calico/kubernetes/v1/namespaces/shop").has_value());
}

TEST_F(KubernetesKindsTest, ApiServerValidation) {
  auto r = Run({"create", "-f", "-"}, R"j(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: http, endPort: 90}]
    from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/24]}, podSelector: {}}]
)j");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("endPort"));
  EXPECT_THAT(r.err, HasSubstr("may not specify more than 1 peer"));
  EXPECT_THAT(r.err, HasSubstr("must be a strict subset of `cidr`"));
  EXPECT_FALSE(
      backend_.Get("/calico/kubernetes/networking.k8s.io/v1/networkpolicies/shop/bad").has_value());
  r = Run({"create", "-f", "-"}, R"j(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad2, namespace: shop}
spec: {podSelector: {matchExpressions: [{key: a, operator: In}]}, policyTypes: [Sideways]}
)j");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("must be specified when `operator` is 'In' or 'NotIn'"));
  EXPECT_THAT(r.err, HasSubstr("supported values: \"Ingress\", \"Egress\""));
  r = Run({"create", "-f", "-"}, R"j(apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: other}
spec: {subject: {namespaces: {}}}
)j");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("metadata.name=\"default\""));
  r = Run({"create", "-f", "-"}, R"j(apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 1001
  subject: {namespaces: {}}
  ingress: [{action: Block, from: [{namespaces: {}}], ports: [{portRange: {start: 9, end: 8}}]}]
)j");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("spec.priority"));
  EXPECT_THAT(r.err, HasSubstr("spec.ingress[0].action"));
  EXPECT_THAT(r.err, HasSubstr("Start port must be less than End port"));
  // An unknown Kubernetes kind is refused as calicoctl refuses any unknown kind.
  r = Run({"create", "-f", "-"}, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown resource type (Pod) and/or version (v1)"));
}

TEST_F(KubernetesKindsTest, ReplaceCreateAndTheAdminKinds) {
  constexpr const char* kNp = R"j(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec: {podSelector: {matchLabels: {app: PLACEHOLDER}}}
)j";
  auto with = [&](const std::string& app) {
    std::string doc = kNp;
    doc.replace(doc.find("PLACEHOLDER"), 11, app);
    return doc;
  };
  // replace of a missing object fails as for any kind; create, then create again, fails. Messages
  // name the kind with its group, as kubectl does, so that it is never taken for Calico's.
  auto r = Run({"replace", "-f", "-"}, with("web"));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("resource does not exist: NetworkPolicy.networking.k8s.io(shop/web)"));
  r = Run({"create", "-f", "-"}, with("web"));
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"create", "-f", "-"}, with("web"));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("resource already exists"));
  r = Run({"replace", "-f", "-"}, with("api"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Successfully replaced 1 'NetworkPolicy.networking.k8s.io' resource(s)\n");
  r = Run({"get", "knp", "web", "-n", "shop", "-o", "yaml"});
  EXPECT_THAT(r.out, HasSubstr("app: api"));

  // The admin policies: cluster-wide, under their own apiVersion, listed with kubectl's columns.
  r = Run({"apply", "-f", "-"}, R"j(apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: no-dmz}
spec:
  priority: 10
  subject: {namespaces: {}}
  ingress: [{name: dmz, action: Deny, from: [{namespaces: {matchLabels: {zone: dmz}}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  egress: [{action: Allow, to: [{namespaces: {}}]}]
)j");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(backend_
                  .Get("/calico/kubernetes/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies/"
                       "no-dmz")
                  .has_value());
  EXPECT_TRUE(backend_
                  .Get("/calico/kubernetes/policy.networking.k8s.io/v1alpha1/"
                       "baselineadminnetworkpolicies/default")
                  .has_value());
  r = Run({"get", "anp"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("no-dmz"));
  EXPECT_THAT(r.out, HasSubstr("10"));
  r = Run({"get", "banp", "default", "-o", "yaml"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("apiVersion: policy.networking.k8s.io/v1alpha1"));
  EXPECT_THAT(r.out, HasSubstr("kind: BaselineAdminNetworkPolicy"));
  // Nothing of them in Calico's own layout (calico-controllers writes the converted policies).
  EXPECT_TRUE(backend_.List("/calico/resources/v3/projectcalico.org/globalnetworkpolicies/")
                  .value()
                  .kvs.empty());
  r = Run({"delete", "anp", "no-dmz"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"get", "anp", "no-dmz"});
  EXPECT_EQ(r.code, 1);
}

}  // namespace
}  // namespace calico::ctl
