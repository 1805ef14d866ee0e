// Accept/reject tables for the policy family, modelled on libcalico-go's validator_test.go cases.
#include <gtest/gtest.h>

#include "calico/model/validate.h"

namespace calico::model {
namespace {

struct Case {
  const char* name;
  std::string doc;     // JSON document.
  const char* reason;  // nullptr = valid; otherwise a substring of the error.
};

Resource Parse(const std::string& text) {
  return Resource(Json::parse(text));
}

std::string NP(const std::string& spec) {
  return R"j({"apiVersion":"projectcalico.org/v3","kind":"NetworkPolicy","metadata":{"name":"p","namespace":"ns"},"spec":)j" +
         spec + "}";
}
std::string GNP(const std::string& spec) {
  return R"j({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkPolicy","metadata":{"name":"p"},"spec":)j" +
         spec + "}";
}
std::string RULE(const std::string& rule) {
  return NP(R"j({"ingress":[)j" + rule + "]}");
}
std::string RES(const std::string& kind, const std::string& meta, const std::string& spec) {
  return R"j({"apiVersion":"projectcalico.org/v3","kind":")j" + kind + R"j(","metadata":)j" + meta +
         R"j(,"spec":)j" + spec + "}";
}

class PolicyFamilyTest : public ::testing::TestWithParam<Case> {};

TEST_P(PolicyFamilyTest, AcceptsOrRejects) {
  Resource r = Parse(GetParam().doc);
  Status st = ApplyDefaultsAndValidate(r);
  if (GetParam().reason == nullptr) {
    EXPECT_TRUE(st) << st.error().message();
  } else {
    ASSERT_FALSE(st) << "accepted: " << GetParam().doc;
    EXPECT_NE(st.error().message().find(GetParam().reason), std::string::npos)
        << st.error().message();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Policies, PolicyFamilyTest,
    ::testing::Values(
        Case{"minimal", NP(R"j({"selector":"all()"})j"), nullptr},
        Case{
            "allow_tcp_ports",
            RULE(
                R"j({"action":"Allow","protocol":"TCP","destination":{"ports":[80,"443","1000:2000","http"]}})j"),
            nullptr},
        Case{"lowercase_action", RULE(R"j({"action":"allow"})j"), "supported values"},
        Case{"missing_action", RULE(R"j({"protocol":"TCP"})j"), "action is required"},
        Case{"numeric_port_without_protocol",
             RULE(R"j({"action":"Allow","destination":{"ports":[80]}})j"),
             "must set protocol to TCP or UDP or SCTP"},
        Case{"named_port_without_protocol",
             RULE(R"j({"action":"Allow","destination":{"ports":["http"]}})j"), nullptr},
        Case{"port_with_icmp",
             RULE(R"j({"action":"Allow","protocol":"ICMP","destination":{"ports":[80]}})j"),
             "rules that specify ports must set protocol"},
        Case{"port_zero",
             RULE(R"j({"action":"Allow","protocol":"TCP","destination":{"ports":[0]}})j"),
             "port range invalid"},
        Case{"port_range_reversed",
             RULE(R"j({"action":"Allow","protocol":"UDP","destination":{"ports":["20:10"]}})j"),
             "greater than maximum"},
        Case{"lowercase_tcp_protocol", RULE(R"j({"action":"Allow","protocol":"tcp"})j"),
             "protocol must be one of"},
        Case{"protocol_zero", RULE(R"j({"action":"Allow","protocol":0})j"),
             "protocol number invalid"},
        Case{"protocol_numeric_string", RULE(R"j({"action":"Allow","protocol":"17"})j"), nullptr},
        Case{"icmp_ok",
             RULE(R"j({"action":"Allow","protocol":"ICMP","icmp":{"type":8,"code":0}})j"), nullptr},
        Case{"icmp_code_without_type",
             RULE(R"j({"action":"Allow","protocol":"ICMP","icmp":{"code":0}})j"),
             "ICMP code specified without an ICMP type"},
        Case{"icmp_without_protocol", RULE(R"j({"action":"Allow","icmp":{"type":8}})j"),
             "ICMP fields require protocol"},
        Case{"icmp_type_255", RULE(R"j({"action":"Allow","protocol":"ICMP","icmp":{"type":255}})j"),
             "between 0 and 254"},
        Case{"icmp_with_ipv6", RULE(R"j({"action":"Allow","protocol":"ICMP","ipVersion":6})j"),
             "protocol ICMP requires ipVersion 4"},
        Case{"icmpv6_with_ipv4", RULE(R"j({"action":"Allow","protocol":"ICMPv6","ipVersion":4})j"),
             "protocol ICMPv6 requires ipVersion 6"},
        Case{"net_bare_ip", RULE(R"j({"action":"Allow","source":{"nets":["10.0.0.1"]}})j"),
             "invalid CIDR"},
        Case{"net_not_masked", RULE(R"j({"action":"Allow","source":{"nets":["10.0.0.1/8"]}})j"),
             "not strictly masked"},
        Case{
            "mixed_families",
            RULE(
                R"j({"action":"Allow","source":{"nets":["10.0.0.0/8"]},"destination":{"nets":["fd00::/64"]}})j"),
            "rule contains both IPv4 and IPv6 CIDRs"},
        Case{"version_mismatch",
             RULE(R"j({"action":"Allow","ipVersion":6,"source":{"nets":["10.0.0.0/8"]}})j"),
             "rule IP version doesn't match CIDR version"},
        Case{"catch_all_notnets",
             RULE(R"j({"action":"Allow","source":{"notNets":["0.0.0.0/0"]}})j"),
             "catch-all CIDR in negation"},
        Case{"bad_selector", RULE(R"j({"action":"Allow","source":{"selector":"a ="}})j"),
             "invalid selector"},
        Case{"global_in_selector", RULE(R"j({"action":"Allow","source":{"selector":"global()"}})j"),
             "global() is not allowed"},
        Case{"global_namespace_selector",
             RULE(R"j({"action":"Allow","source":{"namespaceSelector":"global()"}})j"), nullptr},
        Case{"http_on_deny", RULE(R"j({"action":"Deny","http":{"methods":["GET"]}})j"),
             "HTTP match is only valid on Allow rules"},
        Case{"http_with_udp",
             RULE(R"j({"action":"Allow","protocol":"UDP","http":{"methods":["GET"]}})j"),
             "rules with HTTP match must have protocol TCP or unset"},
        Case{"http_path_both",
             RULE(R"j({"action":"Allow","http":{"paths":[{"exact":"/a","prefix":"/b"}]}})j"),
             "Both 'exact' and 'prefix' are set"},
        Case{
            "services_with_selector",
            RULE(
                R"j({"action":"Allow","source":{"services":{"name":"svc"},"selector":"a == 'b'"}})j"),
            "cannot specify services together with selector"},
        Case{"destination_services_in_ingress",
             RULE(R"j({"action":"Allow","destination":{"services":{"name":"svc"}}})j"),
             "destination.services is not allowed in ingress rules"},
        Case{"unknown_rule_field", RULE(R"j({"action":"Allow","bogus":1})j"),
             "field in document is not recognized or is in the wrong location: "
             "spec.ingress[0].bogus"},
        Case{"duplicate_types", NP(R"j({"types":["Ingress","Ingress"]})j"),
             "'Ingress' type specified more than once"},
        Case{"bad_type", NP(R"j({"types":["Sideways"]})j"), "supported values"},
        Case{"gnp_predant_and_notrack",
             GNP(R"j({"preDNAT":true,"doNotTrack":true,"applyOnForward":true})j"),
             "preDNAT and doNotTrack cannot both be true"},
        Case{"gnp_predant_needs_forward", GNP(R"j({"preDNAT":true})j"),
             "applyOnForward must be true"},
        Case{"gnp_predant_no_egress",
             GNP(R"j({"preDNAT":true,"applyOnForward":true,"egress":[{"action":"Allow"}]})j"),
             "preDNAT policy cannot have any egress rules"},
        Case{"np_with_gnp_field", NP(R"j({"preDNAT":true})j"),
             "not recognized or is in the wrong location: spec.preDNAT"},
        Case{
            "np_two_dots",
            R"j({"apiVersion":"projectcalico.org/v3","kind":"NetworkPolicy","metadata":{"name":"a.b.c","namespace":"ns"},"spec":{}})j",
            "metadata.name"},
        Case{
            "np_knp_prefix_allows_dots",
            R"j({"apiVersion":"projectcalico.org/v3","kind":"NetworkPolicy","metadata":{"name":"knp.default.a.b","namespace":"ns"},"spec":{}})j",
            nullptr},
        Case{
            "gnp_uppercase_name",
            R"j({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkPolicy","metadata":{"name":"Bad"},"spec":{}})j",
            "metadata.name"},
        Case{
            "staged_delete_with_rules",
            R"j({"apiVersion":"projectcalico.org/v3","kind":"StagedGlobalNetworkPolicy","metadata":{"name":"p"},"spec":{"stagedAction":"Delete","selector":"all()"}})j",
            "stagedAction Delete"},
        Case{
            "namespace_on_cluster_kind",
            R"j({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkPolicy","metadata":{"name":"p","namespace":"x"},"spec":{}})j",
            "namespace should not be specified"}),
    [](const ::testing::TestParamInfo<Case>& param_info) {
      return std::string(param_info.param.name);
    });

INSTANTIATE_TEST_SUITE_P(
    Others, PolicyFamilyTest,
    ::testing::Values(
        Case{"tier_ok", RES("Tier", R"j({"name":"security"})j", R"j({"order":100})j"), nullptr},
        Case{"tier_dot_name", RES("Tier", R"j({"name":"a.b"})j", R"j({})j"), "metadata.name"},
        Case{"tier_bad_action", RES("Tier", R"j({"name":"t"})j", R"j({"defaultAction":"Allow"})j"),
             "supported values"},
        Case{"builtin_tier_wrong_order", RES("Tier", R"j({"name":"default"})j", R"j({"order":5})j"),
             "must have order 1000000"},
        Case{
            "profile_ok",
            RES("Profile", R"j({"name":"backend"})j",
                R"j({"ingress":[{"action":"Allow","source":{"selector":"has(backend)"}}],"egress":[{"action":"Allow"}],"labelsToApply":{"backend":""}})j"),
            nullptr},
        Case{"profile_bad_label",
             RES("Profile", R"j({"name":"p"})j", R"j({"labelsToApply":{"-bad":"x"}})j"),
             "spec.labelsToApply[-bad]"},
        Case{"wep_missing_interface",
             RES("WorkloadEndpoint", R"j({"name":"n-cni-abc-eth0","namespace":"default"})j",
                 R"j({"node":"n","orchestrator":"cni","containerID":"abc","endpoint":"eth0"})j"),
             "interfaceName is required"},
        Case{
            "wep_multi_address",
            RES("WorkloadEndpoint", R"j({"name":"n-cni-abc-eth0","namespace":"default"})j",
                R"j({"node":"n","orchestrator":"cni","containerID":"abc","endpoint":"eth0","interfaceName":"cali1","ipNetworks":["10.0.0.0/24"]})j"),
            "IP network contains multiple addresses"},
        Case{
            "wep_nat_outside",
            RES("WorkloadEndpoint", R"j({"name":"n-cni-abc-eth0","namespace":"default"})j",
                R"j({"node":"n","orchestrator":"cni","containerID":"abc","endpoint":"eth0","interfaceName":"cali1","ipNetworks":["10.0.0.1/32"],"ipNATs":[{"internalIP":"10.0.0.2","externalIP":"1.2.3.4"}]})j"),
            "NAT is not in the endpoint networks"},
        Case{"hep_needs_node",
             RES("HostEndpoint", R"j({"name":"h"})j", R"j({"interfaceName":"eth0"})j"),
             "node must be specified"},
        Case{"hep_needs_iface_or_ips",
             RES("HostEndpoint", R"j({"name":"h"})j", R"j({"node":"n"})j"),
             "at least one of interfaceName or expectedIPs"},
        Case{
            "wep_port_numeric_protocol",
            RES("WorkloadEndpoint", R"j({"name":"n-cni-abc-eth0","namespace":"default"})j",
                R"j({"node":"n","orchestrator":"cni","containerID":"abc","endpoint":"eth0","interfaceName":"cali1","ports":[{"name":"web","protocol":6,"port":80}]})j"),
            "protocol must be one of TCP, UDP or SCTP"},
        Case{
            "wep_port_unnamed_with_host_port",
            RES("WorkloadEndpoint", R"j({"name":"n-cni-abc-eth0","namespace":"default"})j",
                R"j({"node":"n","orchestrator":"cni","containerID":"abc","endpoint":"eth0","interfaceName":"cali1","ports":[{"protocol":"TCP","port":80,"hostPort":8080}]})j"),
            nullptr},
        Case{"hep_unnamed_port",
             RES("HostEndpoint", R"j({"name":"h"})j",
                 R"j({"node":"n","interfaceName":"eth0","ports":[{"protocol":"TCP","port":80}]})j"),
             "port name is required"},
        Case{
            "gnp_global_namespace_selector_and_name",
            GNP(R"j({"ingress":[{"action":"Allow","source":{"namespaceSelector":"  global()  "},"destination":{"namespaceSelector":"projectcalico.org/name == 'test'"}}]})j"),
            nullptr},
        Case{
            "gnp_global_anded",
            GNP(R"j({"ingress":[{"action":"Allow","source":{"namespaceSelector":" global() && all()"}}]})j"),
            "global() can only be used on its own"},
        Case{
            "staged_delete_alone",
            R"j({"apiVersion":"projectcalico.org/v3","kind":"StagedGlobalNetworkPolicy","metadata":{"name":"thing"},"spec":{"stagedAction":"Delete"}})j",
            nullptr},
        Case{"hep_star",
             RES("HostEndpoint", R"j({"name":"h"})j", R"j({"node":"n","interfaceName":"*"})j"),
             nullptr},
        Case{"networkset_host_bits",
             RES("NetworkSet", R"j({"name":"s","namespace":"ns"})j",
                 R"j({"nets":["10.0.0.1/8","1.2.3.4"]})j"),
             nullptr},
        Case{"networkset_reserved_label",
             RES("GlobalNetworkSet",
                 R"j({"name":"s","labels":{"projectcalico.org/namespace":"x"}})j",
                 R"j({"nets":[]})j"),
             "reserved"},
        Case{
            "big_annotations",
            RES("Profile",
                R"j({"name":"p","annotations":{"a":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}})j",
                R"j({})j"),
            nullptr},
        Case{"bad_api_version",
             R"j({"apiVersion":"projectcalico.org/v2","kind":"Profile","metadata":{"name":"p"}})j",
             "unknown resource type (Profile) and/or version (projectcalico.org/v2)"},
        Case{
            "generate_name",
            R"j({"apiVersion":"projectcalico.org/v3","kind":"Profile","metadata":{"generateName":"p-"}})j",
            "generateName is not supported"}),
    [](const ::testing::TestParamInfo<Case>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(PolicyDefaultsTest, TypesAndTierLabelAreDefaulted) {
  Resource r = Parse(NP(R"j({"egress":[{"action":"Allow"}]})j"));
  ASSERT_TRUE(ApplyDefaultsAndValidate(r));
  EXPECT_EQ(r.spec()["types"], Json::array({"Egress"}));
  EXPECT_EQ(r.spec()["tier"], "default");
  EXPECT_EQ(r.metadata()["labels"]["projectcalico.org/tier"], "default");
  Resource both = Parse(NP(R"j({"ingress":[{"action":"Allow"}],"egress":[{"action":"Allow"}]})j"));
  ASSERT_TRUE(ApplyDefaultsAndValidate(both));
  EXPECT_EQ(both.spec()["types"], Json::array({"Ingress", "Egress"}));
  Resource none = Parse(NP(R"j({})j"));
  ASSERT_TRUE(ApplyDefaultsAndValidate(none));
  EXPECT_EQ(none.spec()["types"], Json::array({"Ingress"}));
}

TEST(AnnotationLimitTest, OversizedAnnotationsAreRejected) {
  Resource r("Profile", "p");
  r.metadata()["annotations"]["big"] = std::string(262145, 'x');
  Status st = ApplyDefaultsAndValidate(r);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("262144"), std::string::npos);
}

}  // namespace
}  // namespace calico::model
