// Fuzzes calico-flows' ingest (POST /api/v1/flows): any body is accepted whole or refused with a
// 400 naming the problem, never a crash or a hang; every accepted record encodes and decodes back
// to itself (the codec's round trip), and the window holds what was accepted.
#include <cstddef>
#include <cstdint>
#include <string>

#include "calico/base/clock.h"
#include "calico/flows/aggregator.h"
#include "calico/flows/flow.h"
#include "calico/flows/service.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  auto flows = calico::flows::DecodeFlowLines(body, 1000);
  if (flows) {
    for (const auto& f : *flows) {
      auto again = calico::flows::DecodeFlow(calico::flows::EncodeFlow(f));
      if (!again || !(*again == f)) __builtin_trap();
    }
  }
  calico::SystemClock clock;
  calico::flows::Aggregator aggregator(calico::flows::AggregatorOptions{.max_flows = 100}, clock);
  calico::flows::FlowService service(
      aggregator, clock, calico::flows::ServiceOptions{.max_records_per_request = 1000});
  calico::http::Request req;
  req.method = "POST";
  req.path = "/api/v1/flows";
  req.body = body;
  const calico::http::Response r = service.Handle(req);
  if (r.status != (flows ? 200 : 400)) __builtin_trap();
  if (aggregator.Stats().records_ingested != (flows ? flows->size() : 0)) __builtin_trap();
  // Queries and hits over whatever was taken.
  (void)aggregator.Hits();
  req.method = "GET";
  req.path = "/api/v1/flows?limit=10";
  if (service.Handle(req).status != 200) __builtin_trap();
  return 0;
}
