#include "calico/flowlog/collector.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/model/resource.h"

namespace calico::flowlog {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

net::IPAddr Ip(const char* s) {
  return *net::IPAddr::Parse(s);
}
net::CIDR Cidr(const char* s) {
  return *net::CIDR::Parse(s);
}

// tier security: gnp "sec" (ingress: Pass); tier default: np "ns1/web" (ingress: Allow tcp 80,
// Deny); profile kns.ns1 (egress: Allow).
policy::Model TestModel() {
  policy::Model m;
  m.policies.push_back(policy::Policy{
      .id = "sec", .tier = "security", .ingress = policy::Json::parse(R"([{"action": "Pass"}])")});
  m.policies.push_back(
      policy::Policy{.id = "ns1/web",
                     .tier = "default",
                     .ingress = policy::Json::parse(
                         R"([{"action": "Allow", "protocol": "TCP", "destination": {"ports": [80]}},
              {"action": "Deny"}])")});
  m.profiles.push_back(
      policy::Profile{.id = "kns.ns1", .egress = policy::Json::parse(R"([{"action": "Allow"}])")});
  return m;
}

std::vector<calc::EndpointSummary> TestEndpoints() {
  return {
      {.is_workload = true,
       .local = true,
       .ns = "ns1",
       .name = "pod-b",
       .addresses = {Cidr("10.0.0.2/32")},
       .labels = {{"app", "web"}}},
      {.is_workload = true,
       .local = false,
       .ns = "ns2",
       .name = "pod-a",
       .addresses = {Cidr("10.0.1.1/32")},
       .labels = {{"app", "client"}}},
  };
}

std::shared_ptr<const FlowContext> Context(StagedEvaluator staged = nullptr) {
  return std::make_shared<FlowContext>(policy::PolicyLookup::Build(TestModel()), TestEndpoints(),
                                       std::move(staged));
}

FiveTuple Tcp(const char* src, uint16_t sport, const char* dst, uint16_t dport) {
  return FiveTuple{
      .src = Ip(src), .dst = Ip(dst), .proto = 6, .src_port = sport, .dst_port = dport};
}

NflogPacket In(const FiveTuple& t, const char* prefix) {
  return NflogPacket{.group = 1, .prefix = prefix, .tuple = t, .bytes = 60};
}

const Clock::time_point kT0 = Clock::time_point(std::chrono::seconds(1'700'000'000));

TEST(CollectorTest, DeniedConnectionHasItsTraceAndEndpoints) {
  Collector c;
  c.SetContext(Context());
  const FiveTuple t = Tcp("10.0.1.1", 40000, "10.0.0.2", 22);
  c.OnNflog(In(t, "PPI0|gnp/sec"), kT0);
  c.OnNflog(In(t, "DPI1|np/ns1/web"), kT0);
  // The client retries: the same verdict again.
  c.OnNflog(In(t, "PPI0|gnp/sec"), kT0 + std::chrono::seconds(1));
  c.OnNflog(In(t, "DPI1|np/ns1/web"), kT0 + std::chrono::seconds(1));
  auto records = c.Flush(kT0 + std::chrono::seconds(5));
  ASSERT_THAT(records, SizeIs(1));
  const FlowRecord& r = records[0];
  EXPECT_EQ(r.key.source_name, "pod-a");
  EXPECT_EQ(r.key.source_namespace, "ns2");
  EXPECT_EQ(r.key.source_type, "wep");
  EXPECT_EQ(r.key.dest_name, "pod-b");
  EXPECT_EQ(r.key.dest_namespace, "ns1");
  EXPECT_EQ(r.key.dest_port, 22);
  EXPECT_EQ(r.key.proto, "tcp");
  EXPECT_EQ(r.key.reporter, "Dst");
  EXPECT_EQ(r.key.action, "Deny");
  EXPECT_THAT(r.key.enforced, ElementsAre(FlowPolicyHit{.kind = "GlobalNetworkPolicy",
                                                        .name = "sec",
                                                        .tier = "security",
                                                        .action = "Pass",
                                                        .policy_index = 0,
                                                        .rule_index = 0},
                                          FlowPolicyHit{.kind = "CalicoNetworkPolicy",
                                                        .ns = "ns1",
                                                        .name = "web",
                                                        .tier = "default",
                                                        .action = "Deny",
                                                        .policy_index = 1,
                                                        .rule_index = 1}));
  EXPECT_EQ(r.key.pending, r.key.enforced);  // No staged policies.
  EXPECT_EQ(r.packets_in, 2);
  EXPECT_EQ(r.bytes_in, 120);
  EXPECT_EQ(r.num_connections_started, 1);
  EXPECT_EQ(r.num_connections_completed, 1);
  EXPECT_EQ(r.num_connections_live, 0);
  EXPECT_EQ(r.source_labels.at("app"), "client");
  EXPECT_EQ(r.dest_labels.at("app"), "web");
  EXPECT_EQ(r.end_time - r.start_time, 5);
  // Denied connections end with their verdict: nothing is left for the next interval.
  EXPECT_THAT(c.Flush(kT0 + std::chrono::seconds(10)), SizeIs(0));
  EXPECT_EQ(c.stats().live_flows, 0u);
}

TEST(CollectorTest, AllowedConnectionCountsFromConntrackUntilDestroyed) {
  Collector c;
  c.SetContext(Context());
  const FiveTuple t = Tcp("10.0.1.1", 40001, "10.0.0.2", 80);
  c.OnNflog(In(t, "PPI0|gnp/sec"), kT0);
  c.OnNflog(In(t, "API0|np/ns1/web"), kT0);
  c.OnConntrack(ConntrackEntry{.type = ConntrackEntry::Type::kDump,
                               .orig = t,
                               .orig_packets = 5,
                               .orig_bytes = 500,
                               .reply_packets = 4,
                               .reply_bytes = 4000},
                kT0 + std::chrono::seconds(2));
  auto first = c.Flush(kT0 + std::chrono::seconds(5));
  ASSERT_THAT(first, SizeIs(1));
  EXPECT_EQ(first[0].key.action, "Allow");
  EXPECT_EQ(first[0].packets_in, 5);
  EXPECT_EQ(first[0].bytes_in, 500);
  EXPECT_EQ(first[0].packets_out, 4);
  EXPECT_EQ(first[0].bytes_out, 4000);
  EXPECT_EQ(first[0].num_connections_started, 1);
  EXPECT_EQ(first[0].num_connections_live, 1);
  EXPECT_EQ(first[0].num_connections_completed, 0);

  // The next interval reports what happened in it, then the end.
  c.OnConntrack(ConntrackEntry{.type = ConntrackEntry::Type::kDestroy,
                               .orig = t,
                               .orig_packets = 7,
                               .orig_bytes = 700,
                               .reply_packets = 6,
                               .reply_bytes = 6000},
                kT0 + std::chrono::seconds(7));
  auto second = c.Flush(kT0 + std::chrono::seconds(10));
  ASSERT_THAT(second, SizeIs(1));
  EXPECT_EQ(second[0].packets_in, 2);
  EXPECT_EQ(second[0].bytes_out, 2000);
  EXPECT_EQ(second[0].num_connections_started, 0);
  EXPECT_EQ(second[0].num_connections_completed, 1);
  EXPECT_EQ(second[0].num_connections_live, 0);
  EXPECT_THAT(c.Flush(kT0 + std::chrono::seconds(15)), SizeIs(0));
}

TEST(CollectorTest, ConnectionsWithTheSameKeyAggregate) {
  Collector c;
  c.SetContext(Context());
  for (uint16_t port = 41000; port < 41003; ++port) {
    const FiveTuple t = Tcp("10.0.1.1", port, "10.0.0.2", 22);
    c.OnNflog(In(t, "PPI0|gnp/sec"), kT0);
    c.OnNflog(In(t, "DPI1|np/ns1/web"), kT0);
  }
  auto records = c.Flush(kT0 + std::chrono::seconds(5));
  ASSERT_THAT(records, SizeIs(1));
  EXPECT_EQ(records[0].num_connections_started, 3);
  EXPECT_EQ(records[0].packets_in, 3);
}

TEST(CollectorTest, EgressVerdictsAreReportedBySourceAndUnknownAddressesAreNetworks) {
  Collector c;
  c.SetContext(Context());
  const FiveTuple t = Tcp("10.0.0.2", 50000, "8.8.8.8", 53);
  c.OnNflog(NflogPacket{.group = 2, .prefix = "ARE0|kns.ns1", .tuple = t, .bytes = 80}, kT0);
  auto records = c.Flush(kT0 + std::chrono::seconds(5));
  ASSERT_THAT(records, SizeIs(1));
  EXPECT_EQ(records[0].key.reporter, "Src");
  EXPECT_EQ(records[0].key.dest_type, "net");
  EXPECT_EQ(records[0].key.dest_name, "pub");
  EXPECT_EQ(records[0].packets_out, 1);
  EXPECT_EQ(records[0].bytes_out, 80);
  ASSERT_THAT(records[0].key.enforced, SizeIs(1));
  EXPECT_EQ(records[0].key.enforced[0].kind, "Profile");
  EXPECT_EQ(records[0].key.enforced[0].name, "kns.ns1");
}

TEST(CollectorTest, EndOfTierAndNoProfileDrops) {
  Collector c;
  c.SetContext(Context());
  const FiveTuple a = Tcp("10.0.1.1", 1, "10.0.0.2", 9);
  c.OnNflog(In(a, "DPI|default"), kT0);
  const FiveTuple b = Tcp("10.0.1.1", 2, "10.0.0.2", 9);
  c.OnNflog(In(b, "DRI"), kT0);
  auto records = c.Flush(kT0 + std::chrono::seconds(5));
  ASSERT_THAT(records, SizeIs(2));
  std::vector<std::string> kinds;
  for (const FlowRecord& r : records) {
    EXPECT_EQ(r.key.action, "Deny");
    kinds.push_back(r.key.enforced.at(0).kind);
  }
  EXPECT_THAT(kinds, ::testing::UnorderedElementsAre("EndOfTier", "Profile"));
}

// felix/calc/endpoint_lookup_cache.go TierDefaultActionRuleID: an end-of-tier drop is counted
// against the last policy of the tier that applies to the reporter's endpoint in that direction,
// Goldmane's PolicyHit.trigger (kind, namespace, name, tier).
TEST(CollectorTest, EndOfTierHitCarriesTheTiersLastPolicyAsTrigger) {
  policy::Model m = TestModel();
  m.policies.push_back(policy::Policy{
      .id = "ns1/first", .tier = "default", .ingress = policy::Json::parse(R"([])")});
  m.policies.push_back(policy::Policy{.id = "gate",
                                      .tier = "default",
                                      .egress = policy::Json::parse(R"([])"),
                                      .kind = "GlobalNetworkPolicy"});
  m.endpoints.push_back(
      policy::Endpoint{.name = "ns1/pod-b",
                       .interface_name = "cali0000000podb",
                       .addresses = {Cidr("10.0.0.2/32")},
                       .ingress_tiers = {{.name = "security", .policies = {"sec"}},
                                         {.name = "default", .policies = {"ns1/first", "ns1/web"}}},
                       .egress_tiers = {{.name = "default", .policies = {"gate"}}}});
  Collector c;
  c.SetContext(std::make_shared<FlowContext>(policy::PolicyLookup::Build(m), TestEndpoints()));
  const FiveTuple in = Tcp("10.0.1.1", 1, "10.0.0.2", 9);
  c.OnNflog(In(in, "PPI0|gnp/sec"), kT0);
  c.OnNflog(In(in, "DPI|default"), kT0);
  const FiveTuple out = Tcp("10.0.0.2", 2, "10.0.1.1", 9);
  c.OnNflog(NflogPacket{.group = 2, .prefix = "DPE|default", .tuple = out, .bytes = 60}, kT0);
  // Not a local endpoint's address: no trigger to name.
  const FiveTuple stray = Tcp("10.0.1.1", 3, "10.0.0.9", 9);
  c.OnNflog(In(stray, "DPI|default"), kT0);
  auto records = c.Flush(kT0 + std::chrono::seconds(5));
  ASSERT_THAT(records, SizeIs(3));
  std::map<std::string, FlowPolicyHit> last_hit;
  for (const FlowRecord& r : records) {
    last_hit[r.key.dest_ip + " " + r.key.reporter] = r.key.enforced.back();
  }
  const FlowPolicyHit& ingress = last_hit.at("10.0.0.2 Dst");
  EXPECT_EQ(ingress.kind, "EndOfTier");
  EXPECT_EQ(ingress.tier, "default");
  EXPECT_EQ(ingress.rule_index, -1);
  ASSERT_TRUE(ingress.trigger.has_value());
  EXPECT_EQ(*ingress.trigger,
            (FlowPolicyTrigger{
                .kind = "CalicoNetworkPolicy", .ns = "ns1", .name = "web", .tier = "default"}));
  const FlowPolicyHit& egress = last_hit.at("10.0.1.1 Src");
  ASSERT_TRUE(egress.trigger.has_value());
  EXPECT_EQ(*egress.trigger,
            (FlowPolicyTrigger{.kind = "GlobalNetworkPolicy", .name = "gate", .tier = "default"}));
  EXPECT_FALSE(last_hit.at("10.0.0.9 Dst").trigger.has_value());
}

TEST(CollectorTest, BoundsAreEnforcedAndCounted) {
  Collector c(CollectorOptions{.max_live_flows = 1, .nflog_per_second = 3});
  c.SetContext(Context());
  c.OnNflog(In(Tcp("10.0.1.1", 1, "10.0.0.2", 22), "DPI1|np/ns1/web"), kT0);
  c.OnNflog(In(Tcp("10.0.1.1", 2, "10.0.0.2", 22), "DPI1|np/ns1/web"), kT0);  // Over the cap.
  c.OnNflog(In(Tcp("10.0.1.1", 1, "10.0.0.2", 22), "XPI9|gnp/gone"), kT0);    // Unknown.
  c.OnNflog(In(Tcp("10.0.1.1", 1, "10.0.0.2", 22), "DPI1|np/ns1/web"), kT0);  // Over the rate.
  EXPECT_EQ(c.stats().nflog_messages, 4u);
  EXPECT_EQ(c.stats().dropped_flow_limit, 1u);
  EXPECT_EQ(c.stats().dropped_unknown_prefix, 1u);
  EXPECT_EQ(c.stats().dropped_rate_limited, 1u);
  // A second later the bucket has refilled.
  c.OnNflog(In(Tcp("10.0.1.1", 1, "10.0.0.2", 22), "DPI1|np/ns1/web"),
            kT0 + std::chrono::seconds(1));
  EXPECT_EQ(c.stats().dropped_rate_limited, 1u);
}

TEST(CollectorTest, IncompleteTraceIsDroppedAfterAnInterval) {
  Collector c;
  c.SetContext(Context());
  c.OnNflog(In(Tcp("10.0.1.1", 1, "10.0.0.2", 22), "PPI0|gnp/sec"), kT0);  // Verdict lost.
  EXPECT_THAT(c.Flush(kT0 + std::chrono::seconds(5)), SizeIs(0));
  EXPECT_EQ(c.stats().dropped_incomplete, 1u);
  EXPECT_EQ(c.stats().live_flows, 0u);
}

TEST(CollectorTest, PendingTraceComesFromTheStagedEvaluator) {
  int calls = 0;
  Collector c;
  c.SetContext(
      Context([&](const FiveTuple& t, bool ingress,
                  const EndpointInfo& reporter) -> std::optional<std::vector<policy::RuleHit>> {
        ++calls;
        EXPECT_TRUE(ingress);
        EXPECT_EQ(reporter.name, "pod-b");
        EXPECT_EQ(t.dst_port, 22);
        return std::vector<policy::RuleHit>{{.kind = policy::RuleHit::Kind::kPolicy,
                                             .action = policy::FlowAction::kAllow,
                                             .tier = "default",
                                             .name = "open-ssh",
                                             .namespace_ = "ns1",
                                             .policy_kind = "snp",
                                             .rule_index = 0}};
      }));
  const FiveTuple t = Tcp("10.0.1.1", 40000, "10.0.0.2", 22);
  c.OnNflog(In(t, "PPI0|gnp/sec"), kT0);
  c.OnNflog(In(t, "DPI1|np/ns1/web"), kT0);
  c.OnNflog(In(t, "PPI0|gnp/sec"), kT0);
  c.OnNflog(In(t, "DPI1|np/ns1/web"), kT0);
  auto records = c.Flush(kT0 + std::chrono::seconds(5));
  ASSERT_THAT(records, SizeIs(1));
  EXPECT_EQ(calls, 1);  // Once per connection and trace.
  ASSERT_THAT(records[0].key.pending, SizeIs(1));
  EXPECT_EQ(records[0].key.pending[0].kind, "StagedNetworkPolicy");
  EXPECT_EQ(records[0].key.pending[0].action, "Allow");
  EXPECT_EQ(records[0].key.action, "Deny");
}

TEST(CollectorTest, PolicyCountsFollowTheDecidingRule) {
  Collector c;
  c.SetContext(Context());
  const FiveTuple t = Tcp("10.0.1.1", 40001, "10.0.0.2", 80);
  c.OnNflog(In(t, "PPI0|gnp/sec"), kT0);
  c.OnNflog(In(t, "API0|np/ns1/web"), kT0);
  c.OnConntrack(ConntrackEntry{.orig = t, .orig_packets = 3, .orig_bytes = 300}, kT0);
  (void)c.Flush(kT0 + std::chrono::seconds(5));
  const auto& counts = c.policy_counts();
  ASSERT_EQ(counts.count("CalicoNetworkPolicy|default|ns1/web|0|allow"), 1u);
  const PolicyRuleCounts& pc = counts.at("CalicoNetworkPolicy|default|ns1/web|0|allow");
  EXPECT_EQ(pc.flows, 1);
  EXPECT_EQ(pc.packets, 3);
  EXPECT_EQ(pc.bytes, 300);
}

}  // namespace
}  // namespace calico::flowlog

namespace calico::flowlog {
namespace {

model::Resource Workload(const std::string& name, const std::string& ip, const std::string& app) {
  model::Resource r("WorkloadEndpoint", name, "ns1");
  r.metadata()["labels"] = model::Json{{"app", app}};
  r.spec() = model::Json{{"node", "node2"},
                         {"interfaceName", "cali-" + name},
                         {"ipNetworks", model::Json::array({ip})}};
  return r;
}

// Every address of an endpoint names it (its names and labels move into the last one's entry, the
// others get copies); a local endpoint wins an address a remote one also claims, whichever comes
// first; between two remote ones the first wins.
TEST(FlowContextSourceTest, EndpointTableNamesEveryAddressAndLocalEndpointsWin) {
  const std::map<std::string, std::string> labels = {{"app", "web"}};
  std::vector<calc::EndpointSummary> endpoints = {
      {.ns = "ns1", .name = "remote-first", .addresses = {Cidr("10.0.0.9/32")}},
      {.ns = "ns1",
       .name = "two-addresses",
       .addresses = {Cidr("10.0.0.1/32"), Cidr("fd00::1/128")},
       .labels = labels},
      {.local = true, .ns = "ns2", .name = "local", .addresses = {Cidr("10.0.0.9/32")}},
      {.ns = "ns3", .name = "remote-last", .addresses = {Cidr("10.0.0.9/32"), Cidr("10.0.0.1/32")}},
  };
  const EndpointTable table = BuildEndpointTable(std::move(endpoints));
  ASSERT_EQ(table.size(), 3u);
  for (const char* addr : {"10.0.0.1", "fd00::1"}) {
    const EndpointInfo& info = table.at(Ip(addr));
    EXPECT_EQ(info.name, "two-addresses") << addr;
    EXPECT_EQ(info.ns, "ns1") << addr;
    EXPECT_EQ(info.labels, labels) << addr;
  }
  EXPECT_EQ(table.at(Ip("10.0.0.9")).name, "local");
  EXPECT_TRUE(table.at(Ip("10.0.0.9")).local);
}

// NodeFlowLogs' contexts: the endpoint table is built again only when the graph's endpoints
// changed, and every context names the endpoints the graph had when it was made.
TEST(FlowContextSourceTest, EndpointTableIsRebuiltOnlyWhenEndpointsChange) {
  calc::CalcGraph graph("node1");
  graph.OnUpdate(Workload("a", "10.0.1.1/32", "client"));
  FlowContextSource source;
  const policy::Model m = graph.Model();
  auto first = source.Make(m, graph);
  EXPECT_TRUE(source.rebuilt());
  EXPECT_EQ(first->Find(Ip("10.0.1.1")).name, "a");

  model::Resource policy("GlobalNetworkPolicy", "p1");
  policy.spec() = model::Json{{"selector", "all()"}};
  graph.OnUpdate(policy);  // Not an endpoint: the table is shared.
  auto second = source.Make(graph.Model(), graph);
  EXPECT_FALSE(source.rebuilt());
  EXPECT_EQ(second->Find(Ip("10.0.1.1")).name, "a");

  graph.OnUpdate(Workload("a", "10.0.1.2/32", "client"));  // Moved address.
  graph.OnUpdate(Workload("b", "10.0.1.3/32", "db"));
  auto third = source.Make(graph.Model(), graph);
  EXPECT_TRUE(source.rebuilt());
  EXPECT_EQ(third->Find(Ip("10.0.1.1")).type, EndpointType::kNetwork);
  EXPECT_EQ(third->Find(Ip("10.0.1.2")).name, "a");
  EXPECT_EQ(third->Find(Ip("10.0.1.3")).labels.at("app"), "db");
  // The earlier contexts (still held by the runner until it takes the next) are unchanged.
  EXPECT_EQ(first->Find(Ip("10.0.1.1")).name, "a");
  EXPECT_EQ(second->Find(Ip("10.0.1.3")).type, EndpointType::kNetwork);

  // A new graph (the agent's resync) never reuses the old table, even with the same endpoints.
  calc::CalcGraph resynced("node1");
  resynced.OnUpdate(Workload("a", "10.0.1.2/32", "client"));
  auto fourth = source.Make(resynced.Model(), resynced);
  EXPECT_TRUE(source.rebuilt());
  EXPECT_EQ(fourth->Find(Ip("10.0.1.3")).type, EndpointType::kNetwork);
}

}  // namespace
}  // namespace calico::flowlog
