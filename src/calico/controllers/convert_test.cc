// Table tests ported from libcalico-go/lib/backend/k8s/conversion/conversion_test.go
// ("should parse a ... NetworkPolicy ...", "should parse a Namespace to a Profile") and
// adminnetworkpolicy_test.go (before its removal), case for case where the case applies: the
// Kubernetes object goes in as the API server stores it, the Calico resource's spec comes out.
#include "calico/controllers/convert.h"

#include <gtest/gtest.h>

#include "calico/model/validate.h"

namespace calico::controllers {
namespace {

using model::Json;
using model::Resource;

Resource K8sPolicy(const std::string& spec_json, const std::string& name = "test.policy") {
  Json doc{{"apiVersion", "networking.k8s.io/v1"},
           {"kind", "NetworkPolicy"},
           {"metadata", {{"name", name}, {"namespace", "default"}}},
           {"spec", Json::parse(spec_json)}};
  return Resource(doc);
}

struct PolicyCase {
  const char* name;
  const char* k8s_spec;
  const char* calico_spec;  // order, selector, ingress, egress, types
};

class NetworkPolicyConversionTest : public ::testing::TestWithParam<PolicyCase> {};

TEST_P(NetworkPolicyConversionTest, ConvertsAsUpstream) {
  const PolicyCase& c = GetParam();
  auto converted = K8sNetworkPolicyToCalico(K8sPolicy(c.k8s_spec));
  ASSERT_TRUE(converted.has_value()) << converted.error().message();
  EXPECT_TRUE(converted->dropped_rules.empty());
  const Resource& r = converted->resource;
  EXPECT_EQ(r.kind(), "NetworkPolicy");
  EXPECT_EQ(r.doc()["apiVersion"], "projectcalico.org/v3");
  EXPECT_EQ(r.name(), "knp.default.test.policy");
  EXPECT_EQ(r.namespace_(), "default");
  EXPECT_EQ(r.spec(), Json::parse(c.calico_spec)) << r.spec().dump(2);
  // What the controllers write passes the client's validation (the name prefix included).
  Resource copy = r;
  Status st = model::ApplyDefaultsAndValidate(copy);
  EXPECT_TRUE(st.has_value()) << st.error().message();
}

constexpr const char* kK8s = "projectcalico.org/orchestrator == 'k8s'";

INSTANTIATE_TEST_SUITE_P(
    Upstream, NetworkPolicyConversionTest,
    ::testing::Values(
        // "should parse a basic k8s NetworkPolicy to a NetworkPolicy": selectors sorted, TCP
        // defaulted, a named port kept beside a number.
        PolicyCase{"basic",
                   R"j({"podSelector":{"matchLabels":{"label":"value","label2":"value2"}},
                "ingress":[{"ports":[{"port":80},{"port":"foo"}],
                            "from":[{"podSelector":{"matchLabels":{"k":"v","k2":"v2"}}}]}],
                "policyTypes":["Ingress"]})j",
                   R"j({"order":1000,
                "selector":"projectcalico.org/orchestrator == 'k8s' && label == 'value' && label2 == 'value2'",
                "ingress":[{"action":"Allow","protocol":"TCP",
                  "source":{"selector":"projectcalico.org/orchestrator == 'k8s' && k == 'v' && k2 == 'v2'"},
                  "destination":{"ports":[80,"foo"]}}],
                "types":["Ingress"]})j"},
        // "should parse a k8s NetworkPolicy with no ports": one rule, no protocol.
        PolicyCase{
            "no ports",
            R"j({"podSelector":{"matchLabels":{"label":"value"}},
                       "ingress":[{"from":[{"podSelector":{"matchLabels":{"k":"v"}}}]}],
                       "policyTypes":["Ingress"]})j",
            R"j({"order":1000,"selector":"projectcalico.org/orchestrator == 'k8s' && label == 'value'",
                       "ingress":[{"action":"Allow",
                         "source":{"selector":"projectcalico.org/orchestrator == 'k8s' && k == 'v'"},
                         "destination":{}}],
                       "types":["Ingress"]})j"},
        // "should parse a k8s NetworkPolicy with blank ports": an empty port = TCP, all ports.
        PolicyCase{"blank ports",
                   R"j({"podSelector":{},"ingress":[{"ports":[{}]}],"policyTypes":["Ingress"]})j",
                   R"j({"order":1000,"selector":"projectcalico.org/orchestrator == 'k8s'",
                       "ingress":[{"action":"Allow","protocol":"TCP","source":{},"destination":{}}],
                       "types":["Ingress"]})j"},
        // "should parse a NetworkPolicy with no rules": default deny ingress.
        PolicyCase{"default deny ingress", R"j({"podSelector":{},"policyTypes":["Ingress"]})j",
                   R"j({"order":1000,"selector":"projectcalico.org/orchestrator == 'k8s'",
                       "types":["Ingress"]})j"},
        // "should parse a default-deny egress NetworkPolicy".
        PolicyCase{"default deny egress", R"j({"podSelector":{},"policyTypes":["Egress"]})j",
                   R"j({"order":1000,"selector":"projectcalico.org/orchestrator == 'k8s'",
                       "types":["Egress"]})j"},
        // No policyTypes at all (a cluster without the field): ingress only.
        PolicyCase{"no policy types", R"j({"podSelector":{}})j",
                   R"j({"order":1000,"selector":"projectcalico.org/orchestrator == 'k8s'",
                       "types":["Ingress"]})j"},
        // "should parse a NetworkPolicy with multiple peers and ports": one rule per (protocol,
        // peer), protocols sorted.
        PolicyCase{
            "multiple peers and ports",
            R"j({"podSelector":{"matchLabels":{"label":"value"}},
                       "ingress":[{"ports":[{"port":90,"protocol":"UDP"},{"port":80,"protocol":"TCP"}],
                         "from":[{"podSelector":{"matchLabels":{"k":"v"}}},
                                 {"podSelector":{"matchLabels":{"k2":"v2"}}}]}],
                       "policyTypes":["Ingress"]})j",
            R"j({"order":1000,"selector":"projectcalico.org/orchestrator == 'k8s' && label == 'value'",
                       "ingress":[
                         {"action":"Allow","protocol":"TCP","source":{"selector":"projectcalico.org/orchestrator == 'k8s' && k == 'v'"},"destination":{"ports":[80]}},
                         {"action":"Allow","protocol":"TCP","source":{"selector":"projectcalico.org/orchestrator == 'k8s' && k2 == 'v2'"},"destination":{"ports":[80]}},
                         {"action":"Allow","protocol":"UDP","source":{"selector":"projectcalico.org/orchestrator == 'k8s' && k == 'v'"},"destination":{"ports":[90]}},
                         {"action":"Allow","protocol":"UDP","source":{"selector":"projectcalico.org/orchestrator == 'k8s' && k2 == 'v2'"},"destination":{"ports":[90]}}],
                       "types":["Ingress"]})j"},
        // "should parse a k8s NetworkPolicy with a DoesNotExist expression" and MatchExpressions.
        PolicyCase{
            "match expressions",
            R"j({"podSelector":{"matchExpressions":[{"key":"k","operator":"In","values":["v1","v2"]},
                                                          {"key":"k3","operator":"NotIn","values":["x"]},
                                                          {"key":"k4","operator":"Exists"},
                                                          {"key":"k5","operator":"DoesNotExist"}]},
                       "policyTypes":["Ingress"]})j",
            R"j({"order":1000,
                       "selector":"projectcalico.org/orchestrator == 'k8s' && k in { 'v1', 'v2' } && k3 not in { 'x' } && has(k4) && ! has(k5)",
                       "types":["Ingress"]})j"},
        // "should parse a NetworkPolicy with a namespaceSelector" / "an empty namespaceSelector" /
        // "pod and namespace selectors".
        PolicyCase{"namespace selectors",
                   R"j({"podSelector":{},"ingress":[{"from":[
                        {"namespaceSelector":{"matchLabels":{"team":"a"}}},
                        {"namespaceSelector":{}},
                        {"namespaceSelector":{"matchLabels":{"team":"b"}},"podSelector":{"matchLabels":{"app":"web"}}}]}],
                       "policyTypes":["Ingress"]})j",
                   R"j({"order":1000,"selector":"projectcalico.org/orchestrator == 'k8s'",
                       "ingress":[
                         {"action":"Allow","source":{"selector":"projectcalico.org/orchestrator == 'k8s'","namespaceSelector":"team == 'a'"},"destination":{}},
                         {"action":"Allow","source":{"selector":"projectcalico.org/orchestrator == 'k8s'","namespaceSelector":"all()"},"destination":{}},
                         {"action":"Allow","source":{"selector":"projectcalico.org/orchestrator == 'k8s' && app == 'web'","namespaceSelector":"team == 'b'"},"destination":{}}],
                       "types":["Ingress"]})j"},
        // "should parse a NetworkPolicy with Port Range only" (endPort).
        PolicyCase{
            "port range",
            R"j({"podSelector":{},"ingress":[{"ports":[{"protocol":"TCP","port":32000,"endPort":32768}]}],
                       "policyTypes":["Ingress"]})j",
            R"j({"order":1000,"selector":"projectcalico.org/orchestrator == 'k8s'",
                       "ingress":[{"action":"Allow","protocol":"TCP","source":{},"destination":{"ports":["32000:32768"]}}],
                       "types":["Ingress"]})j"},
        // "should parse a NetworkPolicy with Port Range only (egress)" and SimplifyPorts merging
        // adjacent ports into one range.
        PolicyCase{
            "egress port range, simplified",
            R"j({"podSelector":{},"egress":[{"ports":[{"port":8081},{"port":8080},{"port":9000,"endPort":9002},{"port":8082}]}],
                       "policyTypes":["Egress"]})j",
            R"j({"order":1000,"selector":"projectcalico.org/orchestrator == 'k8s'",
                       "egress":[{"action":"Allow","protocol":"TCP","source":{},"destination":{"ports":["8080:8082","9000:9002"]}}],
                       "types":["Egress"]})j"},
        // "should parse a NetworkPolicy with an Ingress rule with an IPBlock Peer" / "Egress rule
        // with IPBlock and Ports" / "CIDR and Except field" (CIDRs masked).
        PolicyCase{"ip blocks",
                   R"j({"podSelector":{},
                       "ingress":[{"from":[{"ipBlock":{"cidr":"192.168.0.0/16","except":["192.168.3.0/24","192.168.4.1/24"]}}]}],
                       "egress":[{"ports":[{"port":53,"protocol":"UDP"}],"to":[{"ipBlock":{"cidr":"10.0.0.1/8"}}]}],
                       "policyTypes":["Ingress","Egress"]})j",
                   R"j({"order":1000,"selector":"projectcalico.org/orchestrator == 'k8s'",
                       "ingress":[{"action":"Allow","source":{"nets":["192.168.0.0/16"],"notNets":["192.168.3.0/24","192.168.4.0/24"]},"destination":{}}],
                       "egress":[{"action":"Allow","protocol":"UDP","source":{},"destination":{"nets":["10.0.0.0/8"],"ports":[53]}}],
                       "types":["Ingress","Egress"]})j"},
        // "should parse a NetworkPolicy with both an Egress and an Ingress rule": an empty rule
        // allows everything.
        PolicyCase{
            "allow all both ways",
            R"j({"podSelector":{},"ingress":[{}],"egress":[{}],"policyTypes":["Ingress","Egress"]})j",
            R"j({"order":1000,"selector":"projectcalico.org/orchestrator == 'k8s'",
                       "ingress":[{"action":"Allow","source":{},"destination":{}}],
                       "egress":[{"action":"Allow","source":{},"destination":{}}],
                       "types":["Ingress","Egress"]})j"}),
    [](const auto& param_info) {
      std::string n = param_info.param.name;
      for (char& ch : n) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return n;
    });

// "should drop rules with invalid ports in a k8s NetworkPolicy": the rule is dropped, the rest
// kept.
TEST(NetworkPolicyConversion, DropsRulesWithInvalidPorts) {
  auto converted = K8sNetworkPolicyToCalico(K8sPolicy(
      R"j({"podSelector":{},"ingress":[{"ports":[{"port":"a:b"}]},{"ports":[{"port":80}]}],
          "policyTypes":["Ingress"]})j"));
  ASSERT_TRUE(converted.has_value());
  ASSERT_EQ(converted->dropped_rules.size(), 1u);
  EXPECT_NE(converted->dropped_rules[0].find("ingress rule 0"), std::string::npos);
  ASSERT_EQ(converted->resource.spec()["ingress"].size(), 1u);
  EXPECT_EQ(converted->resource.spec()["ingress"][0]["destination"]["ports"], Json::array({80}));
}

TEST(NetworkPolicyConversion, RefusesOtherKinds) {
  Resource calico("NetworkPolicy", "x", "default");
  EXPECT_FALSE(K8sNetworkPolicyToCalico(calico).has_value());
}

TEST(SelectorConversion, NilAndEmpty) {
  EXPECT_EQ(K8sSelectorToCalico(nullptr, SelectorType::kPod), kK8s);
  EXPECT_EQ(K8sSelectorToCalico(nullptr, SelectorType::kNamespace), "");
  Json empty = Json::object();
  EXPECT_EQ(K8sSelectorToCalico(&empty, SelectorType::kNamespace), "all()");
  EXPECT_EQ(K8sSelectorToCalico(&empty, SelectorType::kPod), kK8s);
}

TEST(SimplifyPortsTest, AsUpstream) {
  // SimplifyPorts' own table (conversion_test.go "SimplifyPorts").
  EXPECT_EQ(SimplifyPorts(Json::array({80})), Json::array({80}));
  EXPECT_EQ(SimplifyPorts(Json::array({80, 81, 82, 9090, "foo"})),
            Json::parse(R"j(["foo","80:82",9090])j"));
  EXPECT_EQ(SimplifyPorts(Json::array({"foo", 80})), Json::parse(R"j(["foo",80])j"));
  EXPECT_EQ(SimplifyPorts(Json::array({80, 80})), Json::array({80}));
  EXPECT_EQ(SimplifyPorts(Json::parse(R"j(["10:20", 15, 21])j")), Json::parse(R"j(["10:21"])j"));
}

// "should parse a Namespace to a Profile" / "with no labels".
TEST(NamespaceConversion, LabelsBecomePcnsLabelsToApply) {
  Resource ns(Json::parse(R"j({"apiVersion":"v1","kind":"Namespace",
      "metadata":{"name":"default","labels":{"foo":"bar","roger":"rabbit"}},"spec":{}})j"));
  auto profile = NamespaceToProfile(ns);
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(profile->kind(), "Profile");
  EXPECT_EQ(profile->name(), "kns.default");
  EXPECT_EQ(profile->spec(), Json::parse(R"j({
      "ingress":[{"action":"Allow"}],"egress":[{"action":"Allow"}],
      "labelsToApply":{"pcns.foo":"bar","pcns.roger":"rabbit",
                       "pcns.projectcalico.org/name":"default"}})j"));
  Resource bare(Json::parse(R"j({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x"}})j"));
  auto p2 = NamespaceToProfile(bare);
  ASSERT_TRUE(p2.has_value());
  EXPECT_EQ(p2->spec()["labelsToApply"], Json::parse(R"j({"pcns.projectcalico.org/name":"x"})j"));
  Resource copy = *profile;
  EXPECT_TRUE(model::ApplyDefaultsAndValidate(copy).has_value());
}

Resource Admin(const std::string& spec, bool baseline = false, const std::string& name = "") {
  Json doc{{"apiVersion", "policy.networking.k8s.io/v1alpha1"},
           {"kind", baseline ? "BaselineAdminNetworkPolicy" : "AdminNetworkPolicy"},
           {"metadata", {{"name", name.empty() ? (baseline ? "default" : "test.admin") : name}}},
           {"spec", Json::parse(spec)}};
  return Resource(doc);
}

// adminnetworkpolicy_test.go "should parse a basic k8s AdminNetworkPolicy to a
// GlobalNetworkPolicy", in the kube-admin tier.
TEST(AdminPolicyConversion, BasicAdminNetworkPolicy) {
  auto converted = AdminNetworkPolicyToCalico(Admin(R"j({
      "priority": 600,
      "subject": {"pods": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ns1"}},
                           "podSelector": {"matchLabels": {"label": "value"}}}},
      "ingress": [{"name": "The first ingress rule", "action": "Allow",
                   "from": [{"namespaces": {"matchLabels": {"k": "v"}}}],
                   "ports": [{"portNumber": {"port": 80}}, {"portRange": {"protocol": "UDP", "start": 9000, "end": 9010}}]}],
      "egress": [{"name": "deny to network", "action": "Deny",
                  "to": [{"networks": ["10.10.10.0/24"]}]},
                 {"action": "Pass", "to": [{"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "db"}}}}]}]
  })j"));
  ASSERT_TRUE(converted.has_value()) << converted.error().message();
  EXPECT_TRUE(converted->dropped_rules.empty());
  const Resource& gnp = converted->resource;
  EXPECT_EQ(gnp.kind(), "GlobalNetworkPolicy");
  EXPECT_EQ(gnp.name(), "kanp.kube-admin.test.admin");
  EXPECT_EQ(gnp.spec(), Json::parse(R"j({
      "tier": "kube-admin", "order": 600,
      "namespaceSelector": "kubernetes.io/metadata.name == 'ns1'",
      "selector": "projectcalico.org/orchestrator == 'k8s' && label == 'value'",
      "ingress": [
        {"metadata": {"annotations": {"name": "The first ingress rule"}}, "action": "Allow", "protocol": "TCP",
         "source": {"namespaceSelector": "k == 'v'"}, "destination": {"ports": [80]}},
        {"metadata": {"annotations": {"name": "The first ingress rule"}}, "action": "Allow", "protocol": "UDP",
         "source": {"namespaceSelector": "k == 'v'"}, "destination": {"ports": ["9000:9010"]}}],
      "egress": [
        {"metadata": {"annotations": {"name": "deny to network"}}, "action": "Deny",
         "source": {}, "destination": {"nets": ["10.10.10.0/24"]}},
        {"action": "Pass", "source": {},
         "destination": {"selector": "projectcalico.org/orchestrator == 'k8s' && app == 'db'", "namespaceSelector": "all()"}}],
      "types": ["Ingress", "Egress"]})j"))
      << gnp.spec().dump(2);
  Resource copy = gnp;
  Status st = model::ApplyDefaultsAndValidate(copy);
  EXPECT_TRUE(st.has_value()) << st.error().message();
}

// A namespaces subject selects every pod of those namespaces; no rules = no types.
TEST(AdminPolicyConversion, NamespaceSubjectWithoutRules) {
  auto converted = AdminNetworkPolicyToCalico(
      Admin(R"j({"priority": 3, "subject": {"namespaces": {"matchLabels": {"a": "b"}}}})j"));
  ASSERT_TRUE(converted.has_value());
  EXPECT_EQ(converted->resource.spec(), Json::parse(R"j({"tier":"kube-admin","order":3,
      "namespaceSelector":"a == 'b'","selector":"projectcalico.org/orchestrator == 'k8s'",
      "types":[]})j"));
}

// A named port matches the pods' port of that name, TCP and UDP.
TEST(AdminPolicyConversion, NamedPort) {
  auto converted = AdminNetworkPolicyToCalico(Admin(R"j({"priority": 1,
      "subject": {"namespaces": {}},
      "ingress": [{"action": "Deny", "from": [{"namespaces": {}}], "ports": [{"namedPort": "web"}]}]})j"));
  ASSERT_TRUE(converted.has_value());
  const Json& in = converted->resource.spec()["ingress"];
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0]["protocol"], "TCP");
  EXPECT_EQ(in[1]["protocol"], "UDP");
  EXPECT_EQ(in[0]["destination"]["ports"], Json::array({"web"}));
}

// k8sANPHandleFailedRules: an unconvertible Deny or Pass rule becomes Deny (fail closed); an
// unconvertible Allow rule is dropped.
TEST(AdminPolicyConversion, FailedRulesFailClosed) {
  auto converted = AdminNetworkPolicyToCalico(Admin(R"j({"priority": 1,
      "subject": {"namespaces": {}},
      "egress": [{"action": "Pass", "to": [{"nodes": {"matchLabels": {"x": "y"}}}]},
                 {"action": "Allow", "to": [{"nodes": {}}]}]})j"));
  ASSERT_TRUE(converted.has_value());
  EXPECT_EQ(converted->dropped_rules.size(), 2u);
  EXPECT_EQ(converted->resource.spec()["egress"],
            Json::parse(R"j([{"action":"Deny","source":{},"destination":{}}])j"));
}

TEST(AdminPolicyConversion, BaselineGoesToKubeBaseline) {
  auto converted = BaselineAdminNetworkPolicyToCalico(Admin(R"j({
      "subject": {"namespaces": {}},
      "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}]})j",
                                                            true));
  ASSERT_TRUE(converted.has_value());
  const Resource& gnp = converted->resource;
  EXPECT_EQ(gnp.name(), "kbanp.kube-baseline.default");
  EXPECT_EQ(gnp.spec()["tier"], "kube-baseline");
  EXPECT_EQ(gnp.spec()["order"], 1000);
  EXPECT_EQ(gnp.spec()["namespaceSelector"], "all()");
  EXPECT_EQ(gnp.spec()["ingress"], Json::parse(R"j([{"action":"Deny",
      "source":{"namespaceSelector":"all()"},"destination":{}}])j"));
  Resource copy = gnp;
  Status st = model::ApplyDefaultsAndValidate(copy);
  EXPECT_TRUE(st.has_value()) << st.error().message();
}

}  // namespace
}  // namespace calico::controllers
