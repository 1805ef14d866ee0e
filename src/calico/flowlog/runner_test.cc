#include "calico/flowlog/runner.h"

#include <memory>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/flowlog/testing/fake_sources.h"

namespace calico::flowlog {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

const Clock::time_point kT0 = Clock::time_point(std::chrono::seconds(1'700'000'000));

std::shared_ptr<const FlowContext> Context() {
  policy::Model m;
  m.policies.push_back(policy::Policy{.id = "deny-ssh",
                                      .tier = "default",
                                      .ingress = policy::Json::parse(R"([{"action": "Deny"}])")});
  return std::make_shared<FlowContext>(
      policy::PolicyLookup::Build(m),
      std::vector<calc::EndpointSummary>{{.local = true,
                                          .ns = "ns1",
                                          .name = "pod-b",
                                          .addresses = {*net::CIDR::Parse("10.0.0.2/32")}}});
}

struct Harness {
  testing::FakeNflogSource* nflog = nullptr;
  testing::FakeConntrackSource* conntrack = nullptr;
  std::vector<std::vector<FlowRecord>> batches;
  std::unique_ptr<FlowLogRunner> runner;

  Harness() {
    auto n = std::make_unique<testing::FakeNflogSource>();
    auto c = std::make_unique<testing::FakeConntrackSource>();
    nflog = n.get();
    conntrack = c.get();
    runner = std::make_unique<FlowLogRunner>(
        RunnerOptions{}, std::move(n), std::move(c),
        [this](std::vector<FlowRecord> r) { batches.push_back(std::move(r)); }, [] { return 7; });
    runner->SetContext(Context());
  }
};

FiveTuple Tuple(uint16_t sport) {
  return FiveTuple{.src = *net::IPAddr::Parse("10.0.1.1"),
                   .dst = *net::IPAddr::Parse("10.0.0.2"),
                   .proto = 6,
                   .src_port = sport,
                   .dst_port = 22};
}

TEST(FlowLogRunnerTest, FlushHandsTheIntervalsRecordsToTheSink) {
  Harness h;
  h.nflog->Push(NflogPacket{.group = 1, .prefix = "DPI0|gnp/deny-ssh", .tuple = Tuple(1)});
  h.runner->PollOnce(kT0);
  EXPECT_EQ(h.nflog->queued(), 0u);
  EXPECT_THAT(h.batches, SizeIs(0));
  h.runner->FlushNow(kT0 + std::chrono::seconds(15));
  ASSERT_THAT(h.batches, SizeIs(1));
  ASSERT_THAT(h.batches[0], SizeIs(1));
  EXPECT_EQ(h.batches[0][0].key.dest_name, "pod-b");
  EXPECT_EQ(h.batches[0][0].key.enforced.at(0).name, "deny-ssh");
  // An empty interval sends nothing.
  h.runner->FlushNow(kT0 + std::chrono::seconds(30));
  EXPECT_THAT(h.batches, SizeIs(1));
}

TEST(FlowLogRunnerTest, ConntrackTableGivesCountersOfLiveConnections) {
  Harness h;
  policy::Model m;
  m.policies.push_back(policy::Policy{.id = "allow",
                                      .tier = "default",
                                      .ingress = policy::Json::parse(R"([{"action": "Allow"}])")});
  h.runner->SetContext(std::make_shared<FlowContext>(policy::PolicyLookup::Build(m),
                                                     std::vector<calc::EndpointSummary>{}));
  h.nflog->Push(NflogPacket{.group = 1, .prefix = "API0|gnp/allow", .tuple = Tuple(2)});
  h.conntrack->Add(Tuple(2));
  h.conntrack->Count(Tuple(2), 10, 1000, 8, 8000);
  h.runner->FlushNow(kT0);
  ASSERT_THAT(h.batches, SizeIs(1));
  EXPECT_EQ(h.batches[0][0].packets_in, 10);
  EXPECT_EQ(h.batches[0][0].bytes_out, 8000);
  EXPECT_EQ(h.batches[0][0].num_connections_live, 1);
  h.conntrack->Count(Tuple(2), 1, 100, 0, 0);
  h.conntrack->Destroy(Tuple(2));
  h.runner->FlushNow(kT0 + std::chrono::seconds(15));
  ASSERT_THAT(h.batches, SizeIs(2));
  EXPECT_EQ(h.batches[1][0].packets_in, 1);
  EXPECT_EQ(h.batches[1][0].num_connections_completed, 1);
}

TEST(FlowLogRunnerTest, MetricsNameDropsAndPolicies) {
  Harness h;
  h.nflog->Lose(3);
  h.nflog->Push(NflogPacket{.group = 1, .prefix = "DPI0|gnp/deny-ssh", .tuple = Tuple(1)});
  h.nflog->set_fail(false);
  h.runner->FlushNow(kT0);
  const std::string text = h.runner->MetricsText();
  EXPECT_THAT(text, HasSubstr("calico_node_flow_logs_dropped_total{reason=\"kernel\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("calico_node_flow_logs_dropped_total{reason=\"send\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("calico_node_flow_logs_records_total 1\n"));
  EXPECT_THAT(text,
              HasSubstr("calico_node_policy_flows_total{kind=\"GlobalNetworkPolicy\","
                        "tier=\"default\",policy=\"deny-ssh\",rule=\"0\",action=\"deny\"} 1\n"));
}

TEST(FlowLogRunnerTest, SourceErrorsAreSurvived) {
  Harness h;
  h.nflog->set_fail(true);
  h.runner->FlushNow(kT0);
  h.nflog->set_fail(false);
  h.nflog->Push(NflogPacket{.group = 1, .prefix = "DPI0|gnp/deny-ssh", .tuple = Tuple(1)});
  h.runner->FlushNow(kT0 + std::chrono::seconds(15));
  EXPECT_THAT(h.batches, SizeIs(1));
}

TEST(FlowLogRunnerTest, ThreadFlushesEveryInterval) {
  auto n = std::make_unique<testing::FakeNflogSource>();
  testing::FakeNflogSource* nflog = n.get();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<FlowRecord> got;
  nflog->Push(NflogPacket{.group = 1, .prefix = "DPI0|gnp/deny-ssh", .tuple = Tuple(1)});
  FlowLogRunner runner(RunnerOptions{.flush_interval = std::chrono::milliseconds(50)}, std::move(n),
                       nullptr, [&](std::vector<FlowRecord> r) {
                         std::lock_guard<std::mutex> lock(mu);
                         got = std::move(r);
                         cv.notify_all();
                       });
  runner.SetContext(Context());
  runner.Start();
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return !got.empty(); });
  }
  runner.Stop();
  EXPECT_EQ(got.at(0).key.action, "Deny");
}

}  // namespace
}  // namespace calico::flowlog
