// calico-flows' GET /api/v1/explain over calico::explain; see explain_api.h.
#include "calico/flows/explain_api.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "calico/base/numbers.h"
#include "calico/explain/explain.h"

namespace calico::flows {
namespace {

http::Response JsonAnswer(int status, const nlohmann::json& j) {
  return http::Response{status, "application/json",
                        j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

// The query as explain::QueryFromJson reads it; unknown parameters are refused.
Result<explain::Query> QueryFromParams(const QueryParams& params) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : params) {
    if (name == "from" || name == "to") {
      j[name] = value;
    } else if (name == "protocol") {
      std::string upper = value;
      std::transform(upper.begin(), upper.end(), upper.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      j[name] = upper;
    } else if (name == "port" || name == "sourcePort" || name == "icmpType" || name == "icmpCode") {
      Result<int> n = ParseInt<int>(value);
      if (!n) return InvalidArgument(name + ": " + n.error().message());
      j[name] = *n;
    } else {
      return InvalidArgument(fmt::format("unknown parameter \"{}\"", name));
    }
  }
  for (const char* required : {"from", "to"}) {
    if (!j.contains(required) || j[required].get<std::string>().empty()) {
      return InvalidArgument(fmt::format("{}: required", required));
    }
  }
  return explain::QueryFromJson(j);
}

}  // namespace

ExplainHandler MakeExplainHandler(ClientOpener open) {
  struct State {
    std::mutex mu;
    ClientOpener open;
    datastore::Client* client = nullptr;
  };
  auto state = std::make_shared<State>();
  state->open = std::move(open);
  return [state](const QueryParams& params) -> http::Response {
    Result<explain::Query> q = QueryFromParams(params);
    if (!q) return JsonAnswer(400, {{"error", q.error().message()}});
    // One explanation at a time: each reads the whole datastore and runs the calculation graph.
    std::lock_guard<std::mutex> lock(state->mu);
    if (state->client == nullptr) {
      Result<datastore::Client*> c = state->open();
      if (!c) {
        return JsonAnswer(503, {{"error", "datastore: " + c.error().message()},
                                {"command", ExplainCommand(params)}});
      }
      state->client = *c;
    }
    Result<explain::Snapshot> snap = explain::SnapshotFromClient(*state->client);
    if (!snap) {
      return JsonAnswer(503, {{"error", "datastore: " + snap.error().message()},
                              {"command", ExplainCommand(params)}});
    }
    Result<explain::Explanation> e = explain::Explain(*snap, *q);
    if (!e) return JsonAnswer(400, {{"error", e.error().message()}});
    return JsonAnswer(200, explain::ToJson(*e));
  };
}

}  // namespace calico::flows
