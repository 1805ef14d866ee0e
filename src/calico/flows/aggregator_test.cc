#include "calico/flows/aggregator.h"

#include <gtest/gtest.h>

#include "calico/base/testing/fake_clock.h"
#include "calico/flows/testing_flows.h"

namespace calico::flows {
namespace {

using testing_flows::kT0;
using testing_flows::MakeFlow;

class AggregatorTest : public ::testing::Test {
 protected:
  AggregatorTest() { clock_.SetWall(std::chrono::system_clock::from_time_t(kT0 + 60)); }
  std::vector<StoredFlow> All(const Aggregator& agg, FlowFilter filter = {}) {
    return agg.Query(filter, 0, nullptr);
  }
  calico::testing::FakeClock clock_;
};

TEST_F(AggregatorTest, MergesTheSameKeyInOneIntervalAsGoldmane) {
  Aggregator agg(AggregatorOptions{}, clock_);
  Flow a = MakeFlow("default/client", "prod/web", 80, Action::kDeny, "web", -1, kT0, 2);
  Flow b = a;
  b.start_time = kT0 + 3;  // same 15 s bucket
  b.end_time = kT0 + 14;
  b.packets_out = 5;
  EXPECT_EQ(agg.Ingest({a}), 0u);
  EXPECT_EQ(agg.Ingest({b}), 1u);
  std::vector<StoredFlow> got = All(agg);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].flow.packets_out, 7);
  EXPECT_EQ(got[0].flow.num_connections_started, 2);
  EXPECT_EQ(got[0].flow.start_time, kT0);
  EXPECT_EQ(got[0].flow.end_time, kT0 + 14);
  EXPECT_EQ(agg.Stats().records_merged, 1u);

  // The next interval, another port, another verdict: separate flows.
  Flow later = a;
  later.start_time = kT0 + 15;
  later.end_time = kT0 + 16;
  Flow other_port = MakeFlow("default/client", "prod/web", 81, Action::kDeny, "web", -1);
  Flow allowed = MakeFlow("default/client", "prod/web", 80, Action::kAllow, "web", 0);
  EXPECT_EQ(agg.Ingest({later, other_port, allowed}), 0u);
  EXPECT_EQ(All(agg).size(), 4u);
}

TEST_F(AggregatorTest, CountCapEvictsTheOldestAndCountsIt) {
  Aggregator agg(AggregatorOptions{.max_flows = 3}, clock_);
  for (int i = 0; i < 5; ++i) {
    (void)agg.Ingest(
        {MakeFlow("default/c" + std::to_string(i), "prod/web", 80, Action::kAllow, "web", 0)});
  }
  std::vector<StoredFlow> got = All(agg);
  ASSERT_EQ(got.size(), 3u);
  for (const auto& s : got)
    EXPECT_GE(s.id, 3u) << s.flow.key.source_name;
  EXPECT_EQ(agg.Stats().evicted_by_count, 2u);
  EXPECT_EQ(agg.Stats().flows, 3u);
}

TEST_F(AggregatorTest, TimeCapEvictsFlowsThatLeftTheWindow) {
  Aggregator agg(AggregatorOptions{.max_age_seconds = 100}, clock_);
  (void)agg.Ingest({MakeFlow("default/a", "prod/web", 80, Action::kAllow, "web", 0, kT0)});
  // Already outside the window when it arrives: dropped and counted.
  (void)agg.Ingest({MakeFlow("default/b", "prod/web", 80, Action::kAllow, "web", 0, kT0 - 500)});
  EXPECT_EQ(All(agg).size(), 1u);
  EXPECT_EQ(agg.Stats().evicted_by_age, 1u);
  clock_.Advance(std::chrono::seconds(200));
  EXPECT_TRUE(All(agg).empty());  // queries never show expired flows
  (void)agg.Ingest({MakeFlow("default/c", "prod/web", 80, Action::kAllow, "web", 0, kT0 + 250)});
  EXPECT_EQ(agg.Stats().evicted_by_age, 2u);
  EXPECT_EQ(agg.Stats().flows, 1u);
}

TEST_F(AggregatorTest, FiltersByActionEndpointPolicyAndTime) {
  Aggregator agg(AggregatorOptions{}, clock_);
  Flow denied = MakeFlow("default/client", "prod/web", 80, Action::kDeny, "web-only", -1, kT0);
  denied.key.source_ip = "10.65.0.2";
  Flow allowed = MakeFlow("prod/frontend", "prod/web", 80, Action::kAllow, "allow-fe", 1, kT0 + 30);
  Flow other = MakeFlow("kube-system/dns", "default/client", 53, Action::kAllow, "dns", 0, kT0);
  (void)agg.Ingest({denied, allowed, other});
  auto names = [&](FlowFilter f) {
    std::vector<std::string> out;
    for (const auto& s : All(agg, f))
      out.push_back(s.flow.key.source_name);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names({.actions = {Action::kDeny}}), V{"client"});
  EXPECT_EQ(names({.source = "10.65.0.2"}), V{"client"});
  EXPECT_EQ(names({.source = "default/client"}), V{"client"});
  EXPECT_EQ(names({.source = "client"}), V{"client"});
  EXPECT_EQ(names({.dest = "client"}), V{"dns"});
  EXPECT_EQ(names({.ns = "kube-system"}), V{"dns"});
  // By stored name, without the tier, or namespace/name; the end of tier's trigger counts.
  EXPECT_EQ(names({.policy = "default.web-only"}), V{"client"});
  EXPECT_EQ(names({.policy = "web-only"}), V{"client"});
  EXPECT_EQ(names({.policy = "prod/default.allow-fe"}), V{"frontend"});
  EXPECT_EQ(names({.since = kT0 + 20}), V{"frontend"});
  // Newest first; a limit keeps the newest.
  EXPECT_EQ(names({.dest = "prod/web"}), (V{"frontend", "client"}));
  size_t total = 0;
  std::vector<StoredFlow> one = agg.Query({}, 1, &total);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].flow.key.source_name, "frontend");
  EXPECT_EQ(total, 3u);
}

TEST_F(AggregatorTest, ChangesAfterAVersionAreWhatAStreamSends) {
  Aggregator agg(AggregatorOptions{}, clock_);
  Flow a = MakeFlow("default/a", "prod/web", 80, Action::kAllow, "web", 0);
  (void)agg.Ingest({a, MakeFlow("default/b", "prod/web", 80, Action::kAllow, "web", 0)});
  const uint64_t v = agg.version();
  EXPECT_EQ(agg.WaitForChange(v, std::chrono::milliseconds(1)), v);
  (void)agg.Ingest({a});  // merged: changed
  std::vector<StoredFlow> changed = All(agg, {.after_version = v});
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].flow.key.source_name, "a");
  EXPECT_EQ(changed[0].id, 1u);  // the same flow, same id
  EXPECT_GT(agg.WaitForChange(v, std::chrono::milliseconds(1)), v);
}

TEST_F(AggregatorTest, HitsPerPolicyCountTheEndOfTierAgainstItsPolicy) {
  Aggregator agg(AggregatorOptions{}, clock_);
  Flow denied = MakeFlow("default/client", "prod/web", 80, Action::kDeny, "web-only", -1, kT0, 3);
  Flow allowed = MakeFlow("prod/frontend", "prod/web", 80, Action::kAllow, "web-only", 1, kT0, 4);
  allowed.key.policies.pending_policies = {PolicyHit{.kind = PolicyKind::kStagedNetworkPolicy,
                                                     .ns = "prod",
                                                     .name = "default.staged",
                                                     .tier = "default",
                                                     .action = Action::kDeny,
                                                     .policy_index = 0,
                                                     .rule_index = 0}};
  (void)agg.Ingest({denied, allowed});
  std::vector<PolicyHits> hits = agg.Hits();
  ASSERT_EQ(hits.size(), 2u);
  const PolicyHits& web = hits[0].policy.name == "default.web-only" ? hits[0] : hits[1];
  const PolicyHits& staged = hits[0].policy.name == "default.staged" ? hits[0] : hits[1];
  EXPECT_EQ(web.policy.kind, PolicyKind::kCalicoNetworkPolicy);
  EXPECT_FALSE(web.pending);
  EXPECT_EQ(web.by_action.at(Action::kDeny).flows, 1);
  EXPECT_EQ(web.by_action.at(Action::kDeny).packets, 3);
  EXPECT_EQ(web.by_action.at(Action::kAllow).packets, 4);
  EXPECT_EQ(web.flows_by_rule.at(-1), 1);
  EXPECT_EQ(web.flows_by_rule.at(1), 1);
  EXPECT_TRUE(staged.pending);
  EXPECT_EQ(staged.by_action.at(Action::kDeny).flows, 1);
}

}  // namespace
}  // namespace calico::flows
