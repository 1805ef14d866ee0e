// calicoctl policy explain: flags, the datastore read, -f as a what-if overlay (nothing written),
// the text output (golden) and -o json. The evaluation itself is tested in
// src/calico/explain/explain_test.cc and against real packets in tests/e2e.
#include "calico/ctl/policy_explain_command.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "calico/base/testing/golden.h"
#include "calico/ctl/testing/ctl_fixture.h"
#include "calico/explain/testing/clusters.h"

namespace calico::ctl {
namespace {

// The explain tests' cluster (calico::explain::testing) and a policy on a1: no HTTP, TCP from CNI
// workloads allowed.
constexpr std::string_view kNoHttp = R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: no-http}
spec:
  selector: app == 'web'
  ingress:
  - {action: Deny, protocol: TCP, destination: {ports: [80]}}
  - {action: Allow, protocol: TCP, source: {selector: "projectcalico.org/orchestrator == 'cni'"}}
)";

class PolicyExplainTest : public testing::CtlFixture {
 protected:
  void SetUp() override {
    registry_.Register("policy explain", "Explain", RunPolicyExplain);
    auto r = Run({"create", "-f", "-"},
                 std::string(explain::testing::kNetworksCluster) + "---" + std::string(kNoHttp));
    ASSERT_EQ(r.code, 0) << r.err;
  }
};

TEST_F(PolicyExplainTest, TextOutput) {
  auto r = Run(
      {"policy", "explain", "--from", "node1-cni-a2-eth0", "--to", "10.68.0.1", "--port", "80"});
  ASSERT_EQ(r.code, 0) << r.err;
  calico::testing::ExpectGolden("src/calico/ctl/testdata/policy_explain_deny.txt", r.out);
  r = Run({"policy", "explain", "--from=default/node1-cni-a2-eth0", "--to=node1-cni-a1-eth0",
           "--port=8080"});
  ASSERT_EQ(r.code, 0) << r.err;
  calico::testing::ExpectGolden("src/calico/ctl/testdata/policy_explain_allow.txt", r.out);
}

TEST_F(PolicyExplainTest, JsonOutput) {
  auto r = Run({"policy", "explain", "--from", "10.68.0.2", "--to", "10.68.0.1", "--protocol",
                "udp", "--port", "53", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "Deny");  // The policy selects a1: no rule for UDP, end of tier.
  EXPECT_EQ(j["directions"][1]["steps"].back()["kind"], "end-of-tier");
  EXPECT_EQ(j["to"]["endpoint"], "default/node1-cni-a1-eth0");
}

TEST_F(PolicyExplainTest, FileIsAWhatIfAndIsNotWritten) {
  const std::string what_if = R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: no-http}
spec:
  selector: app == 'web'
  ingress: [{action: Allow}]
)";
  auto r = Run({"policy", "explain", "--from", "10.68.0.2", "--to", "10.68.0.1", "--port", "80",
                "-f", "-", "-o", "json"},
               what_if);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["verdict"], "Allow");
  r = Run({"policy", "explain", "--from", "10.68.0.2", "--to", "10.68.0.1", "--port", "80", "-o",
           "json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["verdict"], "Deny");  // The store still has the old one.
  r = Run(
      {"policy", "explain", "--from", "10.68.0.2", "--to", "10.68.0.1", "--port", "80", "-f", "-"},
      "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: x}\n"
      "spec: {selector: \"((\"}\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Failed to read -: GlobalNetworkPolicy x"), std::string::npos) << r.err;
}

TEST_F(PolicyExplainTest, BadFlagsAreNamed) {
  auto r = Run({"policy", "explain", "--from", "10.68.0.2", "--port", "80"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error: to: required (an endpoint or an IP address)\n");
  r = Run({"policy", "explain", "--from", "10.68.0.2", "--to", "10.68.0.1", "--port", "http"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--port: "), std::string::npos) << r.err;
  r = Run({"policy", "explain", "--from", "10.68.0.2", "--to", "10.68.0.1", "--port", "80", "-o",
           "yaml"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Unrecognized output format 'yaml': use text or json\n");
  r = Run({"policy", "explain", "extra", "--from", "a", "--to", "b"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Invalid option: extra"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace calico::ctl
