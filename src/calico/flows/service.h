// calico-flows' HTTP service (Goldmane's Flows/FlowCollector/Statistics services and the Whisker
// backend's API, over HTTP/JSON), on the repository's http::Server:
//
//   POST /api/v1/flows               ingest: NDJSON flow records (README.md "Ingest API")
//   GET  /api/v1/flows?...           filtered query (api.h): {"total":N,"items":[{"id","flow"}]}
//   GET  /api/v1/flows/stream?...    Server-Sent Events: "event: flow" / "data: {"id","flow"}"
//                                    for each matching flow as it changes (first the current
//                                    ones, then "event: ready"); &timeout=2s ends it after 2s
//   GET  /api/v1/policies/hits       per-policy counts: {"policies":[...]}
//   GET  /api/v1/explain?from=&to=&protocol=&port=   the explain library's answer (when wired)
//   GET  /api/v1/status              window statistics
//   GET  /metrics                    the same as Prometheus text
//   GET  /                           the web page (Whisker's role; webui.h)
//
// Hostile input: bodies over the server's limit are refused by http::Server (413); a batch with
// one bad line is refused whole (400, the line named); streams are capped (503 past the cap) and
// end when the client stops reading (the server's write deadline).
//
// Thread-safety: Handle() is called concurrently from the server's connection threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "calico/base/clock.h"
#include "calico/flows/aggregator.h"
#include "calico/flows/api.h"
#include "calico/http/message.h"

namespace calico::flows {

struct ServiceOptions {
  // Records in one POST (a node splits bigger flushes).
  size_t max_records_per_request = 20000;
  // Concurrent streams (each holds a connection thread).
  size_t max_streams = 16;
  // A comment line on an idle stream so proxies and clients know it is alive.
  std::chrono::milliseconds stream_keepalive{10000};
  // How often a stream checks for new flows at most (changes in between are sent together).
  std::chrono::milliseconds stream_coalesce{200};
};

// The explain hook: the query parameters of GET /api/v1/explain -> the response. Unset: 501 with
// the calicoctl command that answers the same question.
using ExplainHandler = std::function<http::Response(const QueryParams& params)>;

class FlowService {
 public:
  FlowService(Aggregator& aggregator, const Clock& clock, ServiceOptions options,
              ExplainHandler explain = {});

  http::Response Handle(const http::Request& request);

  // Refused ingest requests so far (bad records), for /api/v1/status and metrics.
  uint64_t rejected_requests() const { return rejected_.load(); }

 private:
  http::Response Ingest(const http::Request& request);
  http::Response Query(const QueryParams& params);
  http::Response Stream(const QueryParams& params);
  http::Response PolicyHitsResponse();
  http::Response Status(bool prometheus);
  int64_t Now() const;

  Aggregator& aggregator_;
  const Clock& clock_;
  ServiceOptions options_;
  ExplainHandler explain_;
  std::atomic<uint64_t> rejected_{0};
  std::atomic<size_t> streams_{0};
};

// The command line that asks calicoctl what explain would say for these parameters.
std::string ExplainCommand(const QueryParams& params);

}  // namespace calico::flows
