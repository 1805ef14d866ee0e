#include "calico/flows/flow.h"

#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"

namespace calico::flows {
namespace {

// A denied flow as calico-node reports it: an end-of-tier drop in the default tier after a Pass
// in another, and a staged policy that would have allowed it.
Flow SampleFlow() {
  Flow f;
  f.key.source_name = "client";
  f.key.source_namespace = "default";
  f.key.source_type = EndpointType::kWorkloadEndpoint;
  f.key.dest_name = "web";
  f.key.dest_namespace = "prod";
  f.key.dest_type = EndpointType::kWorkloadEndpoint;
  f.key.dest_port = 80;
  f.key.proto = "tcp";
  f.key.reporter = Reporter::kDst;
  f.key.action = Action::kDeny;
  f.key.source_ip = "10.65.0.2";
  f.key.dest_ip = "10.65.1.3";
  PolicyHit pass{.kind = PolicyKind::kGlobalNetworkPolicy,
                 .name = "security.pass-web",
                 .tier = "security",
                 .action = Action::kPass,
                 .policy_index = 0,
                 .rule_index = 1};
  PolicyHit eot{.kind = PolicyKind::kEndOfTier,
                .ns = "prod",
                .name = "default.web-only-frontend",
                .tier = "default",
                .action = Action::kDeny,
                .policy_index = 1,
                .rule_index = -1};
  eot.trigger = std::make_shared<PolicyHit>(PolicyHit{.kind = PolicyKind::kCalicoNetworkPolicy,
                                                      .ns = "prod",
                                                      .name = "default.web-only-frontend",
                                                      .tier = "default",
                                                      .action = Action::kDeny,
                                                      .policy_index = 1,
                                                      .rule_index = -1});
  f.key.policies.enforced_policies = {pass, eot};
  f.key.policies.pending_policies = {PolicyHit{.kind = PolicyKind::kStagedNetworkPolicy,
                                               .ns = "prod",
                                               .name = "default.staged-allow-client",
                                               .tier = "default",
                                               .action = Action::kAllow,
                                               .policy_index = 0,
                                               .rule_index = 0}};
  f.start_time = 1765100000;
  f.end_time = 1765100015;
  f.source_labels = {"app=client", "projectcalico.org/namespace=default"};
  f.dest_labels = {"app=web"};
  f.packets_in = 0;
  f.packets_out = 3;
  f.bytes_in = 0;
  f.bytes_out = 180;
  f.num_connections_started = 1;
  return f;
}

TEST(FlowCodecTest, EncodesAsProtojsonGolden) {
  testing::ExpectGolden("src/calico/flows/testdata/flow.golden.json",
                        EncodeFlow(SampleFlow()) + "\n");
}

TEST(FlowCodecTest, RoundTripsEveryField) {
  const Flow f = SampleFlow();
  Result<Flow> back = DecodeFlow(EncodeFlow(f));
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, f);
  EXPECT_EQ(EncodeFlow(*back), EncodeFlow(f));
}

TEST(FlowCodecTest, RoundTripsEmptyFlow) {
  EXPECT_EQ(EncodeFlow(Flow{}), R"({"Key":{}})");
  Result<Flow> back = DecodeFlow(R"({"Key":{}})");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, Flow{});
}

TEST(FlowCodecTest, ReadsWhatGoProtojsonWrites) {
  // protojson writes int64 as strings and may use the proto field names; enums by number too.
  Result<Flow> f = DecodeFlow(
      R"({"Key":{"source_name":"a","destPort":"8080","action":2,"reporter":"Src",)"
      R"("policies":{"enforced_policies":[{"kind":"NetworkPolicy","name":"knp.default.x",)"
      R"("ruleIndex":"-1","action":"Deny"}]}},"startTime":"10","end_time":"20","bytesIn":5.0})");
  ASSERT_TRUE(f.has_value()) << f.error().message();
  EXPECT_EQ(f->key.source_name, "a");
  EXPECT_EQ(f->key.dest_port, 8080);
  EXPECT_EQ(f->key.action, Action::kDeny);
  EXPECT_EQ(f->key.reporter, Reporter::kSrc);
  ASSERT_EQ(f->key.policies.enforced_policies.size(), 1u);
  EXPECT_EQ(f->key.policies.enforced_policies[0].kind, PolicyKind::kNetworkPolicy);
  EXPECT_EQ(f->key.policies.enforced_policies[0].rule_index, -1);
  EXPECT_EQ(f->start_time, 10);
  EXPECT_EQ(f->end_time, 20);
  EXPECT_EQ(f->bytes_in, 5);
}

TEST(FlowCodecTest, ErrorsNameTheField) {
  auto error = [](std::string_view json) {
    Result<Flow> f = DecodeFlow(json);
    EXPECT_FALSE(f.has_value()) << json;
    return f ? std::string() : f.error().message();
  };
  EXPECT_EQ(error(R"({"Key":{"destPort":"x"}})"), R"(Key.destPort: invalid number "x")");
  EXPECT_EQ(error(R"({"Key":{"action":"Block"}})"), R"(Key.action: unknown Action "Block")");
  EXPECT_EQ(error(R"({"bogus":1})"), R"(unknown field "bogus")");
  EXPECT_EQ(error(R"({"Key":{"policies":{"enforcedPolicies":[{"kind":"Nope"}]}}})"),
            R"(Key.policies.enforcedPolicies[0].kind: unknown PolicyKind "Nope")");
  EXPECT_EQ(error(R"({"packetsIn":-1})"), "packetsIn: must not be negative");
  EXPECT_EQ(error(R"({"startTime":20,"endTime":10})"), "endTime 10 is before startTime 20");
  EXPECT_EQ(error(R"({"sourceLabels":[1]})"), "sourceLabels: must be a list of strings");
  EXPECT_EQ(error(R"([1])"), "must be an object");
  EXPECT_NE(error(R"({"Key":)"), "");
  EXPECT_EQ(error(R"({"bytesIn":18446744073709551615})"), "bytesIn: out of range");
  // Deep nesting is refused before anything recurses.
  std::string deep(1000, '[');
  EXPECT_NE(error(deep).find("nesting depth"), std::string::npos);
}

TEST(FlowCodecTest, LinesNameTheBadLineAndReturnNothing) {
  const std::string good = EncodeFlow(SampleFlow());
  Result<std::vector<Flow>> ok = DecodeFlowLines(good + "\n\n" + good + "\r\n", 10);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->size(), 2u);
  Result<std::vector<Flow>> bad = DecodeFlowLines(good + "\n" + good + "\n{\"x\":1}\n", 10);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), R"(line 3: unknown field "x")");
  Result<std::vector<Flow>> many = DecodeFlowLines(good + "\n" + good + "\n" + good, 2);
  ASSERT_FALSE(many.has_value());
  EXPECT_EQ(many.error().message(), "more than 2 flow records in one request");
}

TEST(FlowCodecTest, EnumNames) {
  EXPECT_EQ(ActionName(Action::kDeny), "Deny");
  EXPECT_EQ(PolicyKindName(PolicyKind::kStagedKubernetesNetworkPolicy),
            "StagedKubernetesNetworkPolicy");
  EXPECT_EQ(*ParsePolicyKind("11"), PolicyKind::kClusterNetworkPolicy);
  EXPECT_FALSE(ParsePolicyKind("7").has_value());  // reserved upstream
  EXPECT_EQ(*ParseEndpointType("HostEndpoint"), EndpointType::kHostEndpoint);
}

}  // namespace
}  // namespace calico::flows
