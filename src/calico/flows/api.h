// calico-flows' HTTP API in one place, for the server (service.h), calicoctl flows and the
// tests: the query parameters of GET /api/v1/flows (and its stream), and a small blocking HTTP
// client over TCP (no TLS) for http://host:port URLs.
//
//   GET /api/v1/flows?action=Deny&source=default/client&dest=10.65.1.3&namespace=prod
//                    &policy=web-only&since=5m&limit=100
//     action     Allow | Deny | Pass (repeat or comma-separate for several; case-insensitive)
//     source     an endpoint: name, namespace, "namespace/name", or IP   (also: from)
//     dest       the same for the destination                             (also: to)
//     namespace  either end's namespace
//     policy     a policy in the trace: name, "namespace/name", or the name without its tier
//     since      a Go duration ("5m", "90s": that long ago) or Unix seconds
//     limit      at most this many (newest first); default 1000, at most 100000
//
// Thread-safety: pure functions; the client functions block the calling thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/flows/aggregator.h"

namespace calico::flows {

inline constexpr size_t kDefaultQueryLimit = 1000;
inline constexpr size_t kMaxQueryLimit = 100000;

// "a=1&b=x%20y" -> {a: 1, b: "x y"} ('+' is a space); repeated names keep every value.
// kInvalidArgument on a bad %-escape.
using QueryParams = std::multimap<std::string, std::string>;
[[nodiscard]] Result<QueryParams> ParseQueryString(std::string_view query);
std::string UrlEncode(std::string_view text);

// The filter and limit of a query; `now` (Unix seconds) turns "since=5m" into a time.
// kInvalidArgument naming the parameter ("action: unknown Action \"Block\"", "since: ...",
// "unknown parameter \"bogus\"").
struct FlowQuery {
  FlowFilter filter{};
  size_t limit = kDefaultQueryLimit;
};
[[nodiscard]] Result<FlowQuery> FlowQueryFromParams(const QueryParams& params, int64_t now);
// The query string for a filter (calicoctl flows): parameters in a fixed order; `since_text`
// is passed as given ("5m") when not empty.
std::string FlowQueryString(const FlowFilter& filter, std::string_view since_text, size_t limit);

// ---- client

struct HttpResult {
  int status = 0;
  std::string body{};
};

// "http://host:port" (path ignored) -> host, port. kInvalidArgument otherwise ("https" too:
// calico-flows serves plain HTTP).
struct ServerAddress {
  std::string host{};
  int port = 0;
};
[[nodiscard]] Result<ServerAddress> ParseServerUrl(std::string_view url);

// One request, one response (Connection: close). kUnavailable when the server cannot be reached
// or does not answer within `timeout`, naming the URL.
[[nodiscard]] Result<HttpResult> HttpRequest(std::string_view url, std::string_view method,
                                             std::string_view target, std::string_view body,
                                             std::chrono::milliseconds timeout);

// GET `target` as a Server-Sent Events stream: `on_event(data)` for each event's data; returns
// when the server closes, `on_event` returns false, or nothing (not even a keep-alive) arrived
// for `idle_timeout`. kUnavailable on connection errors; a non-200 answer is an error with its
// body.
[[nodiscard]] Status HttpEventStream(std::string_view url, std::string_view target,
                                     const std::function<bool(std::string_view data)>& on_event,
                                     std::chrono::milliseconds idle_timeout);

// POSTs flows to /api/v1/flows in one request (what a node does each flush).
[[nodiscard]] Status PostFlows(std::string_view url, const std::vector<Flow>& flows,
                               std::chrono::milliseconds timeout);

}  // namespace calico::flows
