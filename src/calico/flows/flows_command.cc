// calicoctl flows; see flows_command.h.
#include "calico/flows/flows_command.h"

#include <algorithm>
#include <chrono>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "calico/base/clock.h"
#include "calico/base/numbers.h"
#include "calico/ctl/args.h"
#include "calico/ctl/table.h"
#include "calico/flows/api.h"

namespace calico::flows {
namespace {

constexpr const char* kUsage =
    "Usage:\n"
    "  calicoctl flows [--denied] [--from=<ENDPOINT>] [--to=<ENDPOINT>] [--policy=<POLICY>]\n"
    "                  [--namespace=<NS>] [--since=<DURATION>] [--follow] [--limit=<N>]\n"
    "                  [--output=<OUTPUT>] [--server=<URL>]\n"
    "\n"
    "Show the flows calico-flows collected from every node, newest first, with the policy\n"
    "that decided each one. ENDPOINT is a name, <namespace>/<name> or an IP; POLICY a policy\n"
    "name (with or without its tier prefix) or <namespace>/<name>.\n";

std::string Endpoint(const std::string& name, const std::string& ns, const std::string& ip) {
  std::string s = name.empty() ? "" : (ns.empty() ? name : ns + "/" + name);
  if (!ip.empty()) s = s.empty() ? ip : s + " (" + ip + ")";
  return s.empty() ? "-" : s;
}

std::string HitText(const PolicyHit& h) {
  const PolicyHit& p = h.kind == PolicyKind::kEndOfTier && h.trigger ? *h.trigger : h;
  const std::string who = (p.ns.empty() ? "" : p.ns + "/") + p.name;
  const std::string rule =
      h.kind == PolicyKind::kEndOfTier ? "end of tier" : fmt::format("rule {}", h.rule_index);
  if (h.kind == PolicyKind::kProfile) {
    // rule -1: the endpoint's profiles ran out (the chain's last drop).
    if (h.rule_index >= 0) return fmt::format("profile {} ({})", who, rule);
    return p.name.empty() ? "no profile allowed" : fmt::format("profile {} (no rule matched)", who);
  }
  return fmt::format("{} ({}, {})", who, p.tier.empty() ? "-" : p.tier, rule);
}

std::string Time(int64_t t) {
  if (t == 0) return "-";
  return FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(t)));
}

std::string Staged(const Flow& f) {
  const auto& pending = f.key.policies.pending_policies;
  if (pending.empty()) return "-";
  return fmt::format("{}: {}", ActionName(pending.back().action), HitText(pending.back()));
}

}  // namespace

std::string DecidingPolicy(const Flow& flow) {
  const auto& hits = flow.key.policies.enforced_policies;
  for (auto it = hits.rbegin(); it != hits.rend(); ++it) {
    if (it->action != Action::kPass) return HitText(*it);
  }
  return "-";
}

std::vector<std::string> FlowHeadings(bool wide) {
  std::vector<std::string> h = {"LAST SEEN", "SOURCE", "DESTINATION", "PROTO",
                                "PORT",      "ACTION", "POLICY"};
  if (wide) {
    for (const char* x : {"STAGED", "REPORTER", "PACKETS", "BYTES", "CONNECTIONS"}) {
      h.emplace_back(x);
    }
  }
  return h;
}

std::vector<std::string> FlowRow(const Flow& f, bool wide) {
  const FlowKey& k = f.key;
  std::vector<std::string> row = {Time(f.end_time),
                                  Endpoint(k.source_name, k.source_namespace, k.source_ip),
                                  Endpoint(k.dest_name, k.dest_namespace, k.dest_ip),
                                  k.proto.empty() ? "-" : k.proto,
                                  k.dest_port == 0 ? "-" : std::to_string(k.dest_port),
                                  std::string(ActionName(k.action)),
                                  DecidingPolicy(f)};
  if (wide) {
    row.push_back(Staged(f));
    row.emplace_back(ReporterName(k.reporter));
    row.push_back(fmt::format("{}/{}", f.packets_in, f.packets_out));
    row.push_back(fmt::format("{}/{}", f.bytes_in, f.bytes_out));
    row.push_back(std::to_string(f.num_connections_started));
  }
  return row;
}

std::string RenderFlowsTable(const std::vector<StoredFlow>& flows, bool wide) {
  std::vector<std::vector<std::string>> rows = {FlowHeadings(wide)};
  for (const auto& s : flows)
    rows.push_back(FlowRow(s.flow, wide));
  return ctl::RenderTabwriter(rows);
}

int RunFlowsCommand(std::span<const std::string> args, ctl::Context& ctx,
                    const std::string& env_server) {
  ctl::FlagSet fs;
  fs.AddBool("denied", 0, "Only denied flows.");
  fs.AddString("from", 0, "", "Only flows from this endpoint (name, namespace/name or IP).");
  fs.AddString("to", 0, "", "Only flows to this endpoint (name, namespace/name or IP).");
  fs.AddString("policy", 0, "", "Only flows whose policy trace names this policy.");
  fs.AddString("namespace", 'n', "", "Only flows with an end in this namespace.");
  fs.AddString("since", 0, "", "Only flows seen in this last duration (5m, 1h).");
  fs.AddBool("follow", 0, "Keep printing flows as they are seen.");
  fs.AddString("limit", 0, "100", "At most this many flows (newest first).");
  fs.AddString("output", 'o', "ps", "Output format: ps, wide or json.");
  fs.AddString("server", 0, "",
               "calico-flows' URL (default $CALICO_FLOWS_SERVER, else " +
                   std::string(kLabFlowsServer) + ").");
  fs.AddBool("help", 'h', "help for flows");
  if (Status st = fs.Parse(args); !st) {
    ctx.err << st.error().message() << "\n" << kUsage;
    return 1;
  }
  if (fs.GetBool("help")) {
    ctx.out << kUsage << "\nOptions:\n" << fs.Usage();
    return 0;
  }
  if (!fs.positionals().empty()) {
    ctx.err << "Invalid option: unexpected argument \"" << fs.positionals()[0] << "\"\n" << kUsage;
    return 1;
  }
  const std::string output = fs.GetString("output");
  if (output != "ps" && output != "wide" && output != "json") {
    ctx.err << "Unrecognized output type '" << output << "': use ps, wide or json\n";
    return 1;
  }
  std::string server = fs.GetString("server");
  if (server.empty()) server = env_server.empty() ? kLabFlowsServer : env_server;
  if (Result<ServerAddress> a = ParseServerUrl(server); !a) {
    ctx.err << a.error().message() << "\n";
    return 1;
  }
  FlowFilter filter;
  if (fs.GetBool("denied")) filter.actions.push_back(Action::kDeny);
  filter.source = fs.GetString("from");
  filter.dest = fs.GetString("to");
  filter.policy = fs.GetString("policy");
  filter.ns = fs.GetString("namespace");
  Result<size_t> limit = ParseIntInRange<size_t>(fs.GetString("limit"), 1, kMaxQueryLimit);
  if (!limit) {
    ctx.err << "--limit: " << limit.error().message() << "\n";
    return 1;
  }
  const std::string query = FlowQueryString(filter, fs.GetString("since"), *limit);
  // The server checks the query (--since above all) and names what is wrong.
  const bool wide = output == "wide";
  const bool json = output == "json";

  if (fs.GetBool("follow")) {
    if (!json) ctx.out << ctl::RenderTabwriter({FlowHeadings(wide)}) << std::flush;
    Status st = HttpEventStream(
        server, "/api/v1/flows/stream?" + query,
        [&](std::string_view data) {
          nlohmann::json item = nlohmann::json::parse(data, nullptr, false);
          if (item.is_discarded() || !item.contains("flow")) return true;  // "ready"
          if (json) {
            ctx.out << item.dump() << "\n" << std::flush;
            return true;
          }
          Result<Flow> f = DecodeFlow(item["flow"].dump());
          if (!f) return true;
          // Rows as they come: tabwriter cannot align what has not arrived, so each cell is
          // padded to its heading's column (or three spaces past itself when wider).
          const std::vector<std::string> row = FlowRow(*f, wide);
          const std::vector<std::string> headings = FlowHeadings(wide);
          std::string line;
          for (size_t i = 0; i < row.size(); ++i) {
            const size_t width =
                std::max<size_t>(5, std::max(headings[i].size(), row[i].size()) + 3);
            line += row[i] + std::string(width - row[i].size(), ' ');
          }
          ctx.out << line << "\n" << std::flush;
          return ctx.out.good();
        },
        std::chrono::hours(24 * 365));
    if (!st) {
      ctx.err << "Failed to stream flows: " << st.error().message() << "\n";
      return 1;
    }
    return 0;
  }

  Result<HttpResult> r =
      HttpRequest(server, "GET", "/api/v1/flows?" + query, "", std::chrono::seconds(30));
  if (!r) {
    ctx.err << "Failed to get flows: " << r.error().message() << "\n";
    return 1;
  }
  nlohmann::ordered_json body = nlohmann::ordered_json::parse(r->body, nullptr, false);
  if (r->status != 200) {
    const std::string why =
        !body.is_discarded() && body.contains("error") && body["error"].is_string()
            ? body["error"].get<std::string>()
            : r->body;
    ctx.err << "Failed to get flows: " << why << "\n";
    return 1;
  }
  if (body.is_discarded() || !body.contains("items") || !body["items"].is_array()) {
    ctx.err << "Failed to get flows: calico-flows answered something else than flows\n";
    return 1;
  }
  if (json) {
    ctx.out << body["items"].dump(2) << "\n";
    return 0;
  }
  std::vector<StoredFlow> flows;
  for (const auto& item : body["items"]) {
    Result<Flow> f = DecodeFlow(item.value("flow", nlohmann::ordered_json::object()).dump());
    if (!f) {
      ctx.err << "Failed to get flows: a flow from calico-flows: " << f.error().message() << "\n";
      return 1;
    }
    flows.push_back(StoredFlow{.id = item.value("id", uint64_t{0}), .version = 0, .flow = *f});
  }
  ctx.out << RenderFlowsTable(flows, wide);
  return 0;
}

Result<std::string> FlowsGet(std::string_view server, std::string_view target) {
  Result<HttpResult> r = HttpRequest(server, "GET", target, "", std::chrono::seconds(10));
  if (!r) return Unexpected(std::move(r).error());
  if (r->status != 200) {
    nlohmann::json body = nlohmann::json::parse(r->body, nullptr, false);
    const std::string why =
        !body.is_discarded() && body.contains("error") && body["error"].is_string()
            ? body["error"].get<std::string>()
            : r->body;
    return Unavailable(
        fmt::format("calico-flows at {}: {} answered {}: {}", server, target, r->status, why));
  }
  return std::move(r->body);
}

}  // namespace calico::flows
