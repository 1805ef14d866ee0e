// calico-flows' HTTP routes; see service.h.
#include "calico/flows/service.h"

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "calico/base/log.h"
#include "calico/flows/webui.h"
#include "calico/model/validation/infra_schema.h"

namespace calico::flows {
namespace {

using OJson = nlohmann::ordered_json;

http::Response JsonResponse(int status, const std::string& body) {
  return http::Response{status, "application/json", body + "\n"};
}

http::Response ErrorResponse(int status, std::string_view message) {
  OJson j = OJson::object();
  j["error"] = message;
  return JsonResponse(status, j.dump(-1, ' ', false, OJson::error_handler_t::replace));
}

std::string ItemJson(const StoredFlow& s) {
  return fmt::format(R"({{"id":{},"flow":{}}})", s.id, EncodeFlow(s.flow));
}

OJson CountsJson(const PolicyHits::Counts& c) {
  OJson j = OJson::object();
  j["flows"] = c.flows;
  j["connections"] = c.connections;
  j["packets"] = c.packets;
  j["bytes"] = c.bytes;
  return j;
}

}  // namespace

FlowService::FlowService(Aggregator& aggregator, const Clock& clock, ServiceOptions options,
                         ExplainHandler explain)
    : aggregator_(aggregator), clock_(clock), options_(options), explain_(std::move(explain)) {}

int64_t FlowService::Now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.WallNow().time_since_epoch())
      .count();
}

http::Response FlowService::Handle(const http::Request& request) {
  const size_t q = request.path.find('?');
  const std::string path = request.path.substr(0, q);
  Result<QueryParams> params =
      ParseQueryString(q == std::string::npos ? std::string_view() : request.path.substr(q + 1));
  if (!params) return ErrorResponse(400, params.error().message());
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/api/v1/flows") {
    if (request.method == "POST") return Ingest(request);
    if (get) return Query(*params);
    return ErrorResponse(405, "use GET or POST on /api/v1/flows");
  }
  if (!get) return ErrorResponse(405, fmt::format("use GET on {}", path));
  if (path == "/" || path == "/index.html") {
    return http::Response{200, "text/html; charset=utf-8", std::string(WebPage())};
  }
  if (path == "/api/v1/flows/stream") return Stream(*params);
  if (path == "/api/v1/policies/hits") return PolicyHitsResponse();
  if (path == "/api/v1/status") return Status(false);
  if (path == "/metrics") return Status(true);
  if (path == "/api/v1/explain") {
    if (explain_) return explain_(*params);
    OJson j = OJson::object();
    j["error"] = "this calico-flows has no explain library; ask calicoctl";
    j["command"] = ExplainCommand(*params);
    return JsonResponse(501, j.dump(-1, ' ', false, OJson::error_handler_t::replace));
  }
  return ErrorResponse(404, fmt::format("no such path \"{}\"", path));
}

http::Response FlowService::Ingest(const http::Request& request) {
  Result<std::vector<Flow>> flows = DecodeFlowLines(request.body, options_.max_records_per_request);
  if (!flows) {
    ++rejected_;
    CALICO_LOG(warn, "flows", "refused ingest request: {}", flows.error().message());
    return ErrorResponse(400, flows.error().message());
  }
  const size_t n = flows->size();
  (void)aggregator_.Ingest(std::move(*flows));  // the merged count is in the statistics
  return JsonResponse(200, fmt::format(R"({{"accepted":{}}})", n));
}

http::Response FlowService::Query(const QueryParams& params) {
  Result<FlowQuery> q = FlowQueryFromParams(params, Now());
  if (!q) return ErrorResponse(400, q.error().message());
  size_t total = 0;
  std::vector<StoredFlow> items = aggregator_.Query(q->filter, q->limit, &total);
  std::string body = fmt::format(R"({{"total":{},"items":[)", total);
  for (size_t i = 0; i < items.size(); ++i) {
    if (i != 0) body += ',';
    body += ItemJson(items[i]);
  }
  body += "]}";
  return JsonResponse(200, body);
}

http::Response FlowService::Stream(const QueryParams& params_in) {
  // timeout=<duration>: the stream ends after that long (a bounded watch; the web page test's
  // headless browser, whose virtual clock stops while a request is open).
  QueryParams params = params_in;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (auto it = params.find("timeout"); it != params.end()) {
    std::optional<int64_t> ns = model::validation::ParseGoDuration(it->second);
    if (!ns || *ns <= 0) {
      return ErrorResponse(
          400, fmt::format("timeout: \"{}\" is not a positive duration (2s, 5m)", it->second));
    }
    deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(*ns);
    params.erase(it);
  }
  Result<FlowQuery> q = FlowQueryFromParams(params, Now());
  if (!q) return ErrorResponse(400, q.error().message());
  // Counted from the stream's start; streams starting at the same moment may pass the cap by a
  // few, each still bounded by the server's connection cap.
  if (streams_.load() >= options_.max_streams) {
    return ErrorResponse(503, fmt::format("too many streams (at most {})", options_.max_streams));
  }
  http::Response r{200, "text/event-stream", ""};
  r.stream = [this, query = std::move(*q), deadline](http::StreamWriter& w) {
    ++streams_;
    struct Release {
      std::atomic<size_t>& n;
      ~Release() { --n; }
    } release{streams_};
    FlowFilter filter = query.filter;
    uint64_t seen = 0;
    size_t limit = query.limit;  // the first batch; later ones are only the changes
    auto last_write = std::chrono::steady_clock::now();
    const auto tick = std::chrono::milliseconds(250);
    while (w.Open() && (!deadline || std::chrono::steady_clock::now() < *deadline)) {
      const uint64_t v = seen == 0 ? aggregator_.version() : aggregator_.WaitForChange(seen, tick);
      if (v > seen || seen == 0) {
        filter.after_version = seen;
        std::vector<StoredFlow> items = aggregator_.Query(filter, limit, nullptr);
        limit = 0;
        std::string out;
        for (auto it = items.rbegin(); it != items.rend(); ++it) {  // oldest first
          out += "event: flow\ndata: " + ItemJson(*it) + "\n\n";
        }
        if (seen == 0) out += "event: ready\ndata: {}\n\n";  // the current flows are all sent
        seen = std::max<uint64_t>(v, 1);
        if (!out.empty()) {
          if (!w.Write(out)) return;
          last_write = std::chrono::steady_clock::now();
        }
        std::this_thread::sleep_for(options_.stream_coalesce);
      } else if (std::chrono::steady_clock::now() - last_write >= options_.stream_keepalive) {
        if (!w.Write(": keepalive\n\n")) return;
        last_write = std::chrono::steady_clock::now();
      }
    }
  };
  return r;
}

http::Response FlowService::PolicyHitsResponse() {
  OJson policies = OJson::array();
  for (const PolicyHits& h : aggregator_.Hits()) {
    OJson p = OJson::object();
    p["kind"] = std::string(PolicyKindName(h.policy.kind));
    if (!h.policy.ns.empty()) p["namespace"] = h.policy.ns;
    p["name"] = h.policy.name;
    if (!h.policy.tier.empty()) p["tier"] = h.policy.tier;
    if (h.pending) p["pending"] = true;
    OJson by_action = OJson::object();
    for (const auto& [action, counts] : h.by_action) {
      by_action[std::string(ActionName(action))] = CountsJson(counts);
    }
    p["actions"] = std::move(by_action);
    OJson rules = OJson::array();
    for (const auto& [rule, flows] : h.flows_by_rule) {
      OJson r = OJson::object();
      r["ruleIndex"] = rule;
      r["flows"] = flows;
      rules.push_back(std::move(r));
    }
    p["rules"] = std::move(rules);
    policies.push_back(std::move(p));
  }
  OJson j = OJson::object();
  j["policies"] = std::move(policies);
  return JsonResponse(200, j.dump(-1, ' ', false, OJson::error_handler_t::replace));
}

http::Response FlowService::Status(bool prometheus) {
  const AggregatorStats s = aggregator_.Stats();
  if (prometheus) {
    std::string body;
    auto metric = [&](const char* name, const char* type, const char* help, uint64_t v) {
      body += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, v);
    };
    metric("calico_flows_window_flows", "gauge", "Aggregated flows in the window.", s.flows);
    metric("calico_flows_records_ingested_total", "counter", "Flow records accepted.",
           s.records_ingested);
    metric("calico_flows_records_merged_total", "counter",
           "Flow records merged into an existing flow.", s.records_merged);
    metric("calico_flows_evicted_age_total", "counter", "Flows evicted by age.", s.evicted_by_age);
    metric("calico_flows_evicted_count_total", "counter", "Flows evicted because it was full.",
           s.evicted_by_count);
    metric("calico_flows_rejected_requests_total", "counter", "Ingest requests refused.",
           rejected_.load());
    metric("calico_flows_streams", "gauge", "Open streams.", streams_.load());
    return http::Response{200, "text/plain; version=0.0.4", body};
  }
  OJson j = OJson::object();
  j["flows"] = s.flows;
  j["recordsIngested"] = s.records_ingested;
  j["recordsMerged"] = s.records_merged;
  j["evictedByAge"] = s.evicted_by_age;
  j["evictedByCount"] = s.evicted_by_count;
  j["rejectedRequests"] = rejected_.load();
  j["streams"] = streams_.load();
  j["version"] = s.version;
  return JsonResponse(200, j.dump());
}

std::string ExplainCommand(const QueryParams& params) {
  std::string cmd = "calicoctl policy explain";
  for (const char* name : {"from", "to", "protocol", "port"}) {
    auto it = params.find(name);
    if (it == params.end() || it->second.empty()) continue;
    std::string value = it->second;
    const bool plain = std::all_of(value.begin(), value.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '/' ||
             c == ':' || c == '_';
    });
    if (!plain) {
      std::string quoted = "'";
      for (char c : value)
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
      value = quoted + "'";
    }
    cmd += fmt::format(" --{} {}", name, value);
  }
  return cmd;
}

}  // namespace calico::flows
