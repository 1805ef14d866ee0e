#include "calico/flowlog/flows_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/flows/flow.h"

namespace calico::flowlog {
namespace {

FlowRecord Denied() {
  return FlowRecord{
      .key = FlowKeyData{.source_name = "pod-a",
                         .source_namespace = "ns2",
                         .source_type = "wep",
                         .dest_name = "pod-b",
                         .dest_namespace = "ns1",
                         .dest_type = "wep",
                         .dest_port = 22,
                         .source_ip = "10.0.1.1",
                         .dest_ip = "10.0.0.2",
                         .proto = "tcp",
                         .reporter = "Dst",
                         .action = "Deny",
                         .enforced = {{.kind = "GlobalNetworkPolicy",
                                       .name = "sec",
                                       .tier = "security",
                                       .action = "Pass",
                                       .policy_index = 0,
                                       .rule_index = 0},
                                      {.kind = "EndOfTier",
                                       .tier = "default",
                                       .action = "Deny",
                                       .policy_index = 1,
                                       .rule_index = -1,
                                       .trigger = FlowPolicyTrigger{.kind = "CalicoNetworkPolicy",
                                                                    .ns = "ns1",
                                                                    .name = "web",
                                                                    .tier = "default"}}},
                         .pending = {{.kind = "StagedNetworkPolicy",
                                      .ns = "ns1",
                                      .name = "open-ssh",
                                      .tier = "default",
                                      .action = "Allow",
                                      .rule_index = 0}}},
      .start_time = 100,
      .end_time = 115,
      .source_labels = {{"app", "client"}},
      .dest_labels = {{"app", "web"}},
      .packets_in = 2,
      .bytes_in = 120,
      .num_connections_started = 1,
      .num_connections_completed = 1};
}

// What the node sends is what calico-flows' ingest decodes, field for field.
TEST(FlowsCodecTest, IngestBodyDecodesToTheSameFlows) {
  const std::string body = EncodeIngestBody({Denied(), Denied()});
  auto flows = flows::DecodeFlowLines(body, 10);
  ASSERT_TRUE(flows) << flows.error().message();
  ASSERT_EQ(flows->size(), 2u);
  const flows::Flow& f = (*flows)[0];
  EXPECT_EQ(f, ToFlow(Denied()));
  EXPECT_EQ(f.key.action, flows::Action::kDeny);
  EXPECT_EQ(f.key.reporter, flows::Reporter::kDst);
  EXPECT_EQ(f.key.source_type, flows::EndpointType::kWorkloadEndpoint);
  EXPECT_EQ(f.key.source_ip, "10.0.1.1");
  ASSERT_EQ(f.key.policies.enforced_policies.size(), 2u);
  EXPECT_EQ(f.key.policies.enforced_policies[0].kind, flows::PolicyKind::kGlobalNetworkPolicy);
  EXPECT_EQ(f.key.policies.enforced_policies[0].action, flows::Action::kPass);
  EXPECT_EQ(f.key.policies.enforced_policies[1].kind, flows::PolicyKind::kEndOfTier);
  EXPECT_EQ(f.key.policies.enforced_policies[1].rule_index, -1);
  // Goldmane's PolicyHit.trigger of the end-of-tier hit: the policy it is counted against.
  ASSERT_NE(f.key.policies.enforced_policies[1].trigger, nullptr);
  const flows::PolicyHit& trigger = *f.key.policies.enforced_policies[1].trigger;
  EXPECT_EQ(trigger.kind, flows::PolicyKind::kCalicoNetworkPolicy);
  EXPECT_EQ(trigger.ns, "ns1");
  EXPECT_EQ(trigger.name, "web");
  EXPECT_EQ(trigger.tier, "default");
  ASSERT_EQ(f.key.policies.pending_policies.size(), 1u);
  EXPECT_EQ(f.key.policies.pending_policies[0].kind, flows::PolicyKind::kStagedNetworkPolicy);
  EXPECT_THAT(f.source_labels, ::testing::ElementsAre("app=client"));
  EXPECT_EQ(f.packets_in, 2);
  EXPECT_EQ(f.end_time, 115);
}

}  // namespace
}  // namespace calico::flowlog
