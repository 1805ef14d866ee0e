// Test helpers for calico::flows tests: small flows built in one expression.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "calico/base/clock.h"
#include "calico/base/testing/golden.h"
#include "calico/flows/aggregator.h"
#include "calico/flows/api.h"
#include "calico/flows/flow.h"
#include "calico/flows/service.h"
#include "calico/http/server.h"

namespace calico::flows::testing_flows {

inline constexpr int64_t kT0 = 1765100000;  // a Unix time on a 15 s boundary (2025-12-07)

// A flow from `src` ("ns/name") to `dst` ("ns/name") on TCP `port` with `action` decided by
// policy `policy` (tier "default", rule `rule`; rule -1: end of tier).
inline Flow MakeFlow(std::string src, std::string dst, int64_t port, Action action,
                     std::string policy, int64_t rule, int64_t start = kT0, int64_t packets = 1) {
  Flow f;
  auto split = [](const std::string& s, std::string& ns, std::string& name) {
    const size_t slash = s.find('/');
    ns = slash == std::string::npos ? "" : s.substr(0, slash);
    name = slash == std::string::npos ? s : s.substr(slash + 1);
  };
  split(src, f.key.source_namespace, f.key.source_name);
  split(dst, f.key.dest_namespace, f.key.dest_name);
  f.key.source_type = EndpointType::kWorkloadEndpoint;
  f.key.dest_type = EndpointType::kWorkloadEndpoint;
  f.key.dest_port = port;
  f.key.proto = "tcp";
  f.key.reporter = Reporter::kDst;
  f.key.action = action;
  PolicyHit hit{.kind = PolicyKind::kCalicoNetworkPolicy,
                .ns = f.key.dest_namespace,
                .name = "default." + policy,
                .tier = "default",
                .action = action,
                .policy_index = 0,
                .rule_index = rule};
  if (rule < 0) {
    hit.trigger = std::make_shared<PolicyHit>(hit);
    hit.kind = PolicyKind::kEndOfTier;
  }
  f.key.policies.enforced_policies = {hit};
  f.start_time = start;
  f.end_time = start + 5;
  f.packets_out = packets;
  f.bytes_out = packets * 60;
  f.num_connections_started = 1;
  return f;
}

// The records of the web page test (testdata/recorded_flows.ndjson.in) with their times from
// `start` to `start` + 10; a file that does not decode fails the calling test.
inline std::vector<Flow> RecordedFlows(int64_t start) {
  std::string text =
      calico::testing::ReadSourceFile("src/calico/flows/testdata/recorded_flows.ndjson.in");
  for (auto [token, value] : {std::pair<std::string, int64_t>{"@START@", start},
                              std::pair<std::string, int64_t>{"@END@", start + 10}}) {
    for (size_t at; (at = text.find(token)) != std::string::npos;) {
      text.replace(at, token.size(), std::to_string(value));
    }
  }
  Result<std::vector<Flow>> flows = DecodeFlowLines(text, 100);
  EXPECT_TRUE(flows.has_value()) << flows.error().message();
  return flows ? *flows : std::vector<Flow>{};
}

// calico-flows (FlowService on the system clock) on a loopback port, holding RecordedFlows that
// ended 10 s ago; Start() fails the calling test when it cannot serve or take the flows.
class RecordedFlowsServer {
 public:
  [[nodiscard]] bool Start() {
    if (!server_.Start()) {
      ADD_FAILURE() << "calico-flows test server did not start";
      return false;
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    Status posted = PostFlows(address(), RecordedFlows(now - 20), std::chrono::seconds(60));
    EXPECT_TRUE(posted.has_value()) << posted.error().message();
    return posted.has_value();
  }
  void Stop() { server_.Stop(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_.port()); }

 private:
  SystemClock clock_;
  Aggregator aggregator_{AggregatorOptions{}, clock_};
  FlowService service_{aggregator_, clock_, ServiceOptions{}};
  http::Server server_{http::ServerOptions{.host = "127.0.0.1", .port = 0},
                       [this](const http::Request& r) { return service_.Handle(r); }};
};

}  // namespace calico::flows::testing_flows
