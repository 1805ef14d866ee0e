// See flow_collector_bench.h.
#include "flow_collector_bench.h"

#include <malloc.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "calico/flowlog/collector.h"
#include "calico/flowlog/flows_codec.h"
#include "calico/policy/flow_log_prefix.h"

namespace calico::bench {
namespace {

// VmRSS of this process, in KiB (0 when unreadable).
long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

Result<std::vector<RowResult>> RunFlowCollectorBench(const FlowCollectorBenchOptions& o) {
  if (o.flows < 1) return InvalidArgument("--flows must be at least 1");
  // The agent's lookups for one namespaced policy allowing TCP to 500 local workloads.
  policy::Model model;
  model.policies.push_back(
      policy::Policy{.id = "prod/web",
                     .tier = "default",
                     .ingress = policy::Json::parse(R"([{"action":"Allow"}])")});
  std::vector<calc::EndpointSummary> endpoints;
  for (int i = 0; i < 500; ++i) {
    endpoints.push_back(
        {.is_workload = true,
         .local = true,
         .ns = "prod",
         .name = fmt::format("web-{}", i),
         .addresses = {*net::CIDR::Parse(fmt::format("10.200.{}.{}/32", i / 256, i % 256))},
         .labels = {{"app", "web"}, {"pod-template-hash", fmt::format("{:x}", 0x5f00 + i)}}});
  }
  const std::string prefix = policy::RulePrefix(policy::FlowAction::kAllow, false, true, 0,
                                                policy::FelixPolicyId(model.policies[0]));
  ::malloc_trim(0);
  const long before_kb = RssKb();
  auto collector = std::make_unique<flowlog::Collector>(
      flowlog::CollectorOptions{.max_live_flows = static_cast<std::size_t>(o.flows)});
  collector->SetContext(std::make_shared<flowlog::FlowContext>(policy::PolicyLookup::Build(model),
                                                               endpoints, nullptr));
  const auto t0 = flowlog::Clock::time_point(std::chrono::seconds(1'700'000'000));
  // 10000 new connections a second (half the NFLOG rate limit): client i -> web (i % 500):80.
  for (int i = 0; i < o.flows; ++i) {
    const auto now = t0 + std::chrono::microseconds(100) * i;
    const dataplane::FiveTuple t{
        .src = *net::IPAddr::Parse(
            fmt::format("10.{}.{}.{}", 1 + i / 65536 % 200, i / 256 % 256, i % 256)),
        .dst = *net::IPAddr::Parse(fmt::format("10.200.{}.{}", i % 500 / 256, i % 500 % 256)),
        .proto = 6,
        .src_port = static_cast<uint16_t>(20000 + i % 40000),
        .dst_port = 80};
    collector->OnNflog(
        {.group = policy::kNflogIngressGroup, .prefix = prefix, .tuple = t, .bytes = 60}, now);
    collector->OnConntrack({.type = dataplane::ConntrackEntry::Type::kUpdate,
                            .orig = t,
                            .orig_packets = 5,
                            .orig_bytes = 420,
                            .reply_packets = 4,
                            .reply_bytes = 900},
                           now);
  }
  const long held_kb = RssKb();  // The connections, as the collector holds them between flushes.
  const auto records =
      collector->Flush(t0 + std::chrono::microseconds(100) * o.flows + std::chrono::seconds(1));
  const uint64_t live = collector->stats().live_flows;
  const std::size_t ndjson = flowlog::EncodeIngestBody(records).size();
  const long flush_kb = RssKb();  // Plus the interval's records and their NDJSON at a flush.
  if (live != static_cast<uint64_t>(o.flows)) {
    return Internal(
        fmt::format("the collector holds {} live flows, not {} (dropped: {} flow "
                    "limit, {} rate limited)",
                    live, o.flows, collector->stats().dropped_flow_limit,
                    collector->stats().dropped_rate_limited));
  }
  const double ours_mb = static_cast<double>(held_kb - before_kb) / 1024.0;
  const double peer_mb = static_cast<double>(ndjson) / (1024.0 * 1024.0);
  RowResult rss{.row = "flow-collector",
                .metric = "rss_mb",
                .ours = ours_mb,
                .peer = peer_mb,
                .unit = "MB",
                .samples = 1,
                .params = {{"flows", o.flows}, {"peer", "the records as NDJSON"}}};
  RowResult peak{.row = "flow-collector",
                 .metric = "rss_mb_at_flush",
                 .ours = static_cast<double>(flush_kb - before_kb) / 1024.0,
                 .peer = peer_mb,
                 .unit = "MB",
                 .samples = 1,
                 .params = {{"flows", o.flows}, {"peer", "the records as NDJSON"}}};
  RowResult per{.row = "flow-collector",
                .metric = "bytes_per_flow",
                .ours = ours_mb * 1024 * 1024 / o.flows,
                .peer = static_cast<double>(ndjson) / o.flows,
                .unit = "B",
                .samples = o.flows,
                .params = {{"flows", o.flows}, {"peer", "the records as NDJSON"}}};
  return std::vector<RowResult>{rss, peak, per};
}

}  // namespace calico::bench
