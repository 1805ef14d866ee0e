// calicoctl get (calicoctl/calicoctl/commands/get_command.go, common/printer.go): flags,
// --selector, and the ps/wide/custom-columns tables or the YAML/JSON documents of the resources.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/ctl/args.h"
#include "calico/ctl/ctl.h"
#include "calico/ctl/document.h"
#include "calico/ctl/go_template.h"
#include "calico/ctl/resource_command.h"
#include "calico/ctl/table.h"
#include "calico/model/resource.h"
#include "calico/model/validate.h"
#include "calico/model/validation/infra_schema.h"
#include "calico/selector/selector.h"

namespace calico::ctl {
namespace {

using model::Json;
using model::Resource;

// The document as Go marshals it: metav1.Duration fields as time.Duration.String() prints them,
// also for values stored by other writers.
Json Marshalled(const Resource& r) {
  Resource copy = r;
  model::FormatGoDurations(copy);
  return copy.doc();
}

Json ListDoc(const ActionOutput& o) {
  Json items = Json::array();
  for (const auto& r : o.items)
    items.push_back(Marshalled(r));
  Json md = Json::object();
  md["resourceVersion"] = o.list_revision;
  const model::KindInfo* info = model::LookupKind(o.kind);
  return Json{{"apiVersion", info != nullptr ? info->api_version : std::string(model::kApiVersion)},
              {"kind", (info != nullptr ? info->document_kind() : o.kind) + "List"},
              {"metadata", md},
              {"items", items}};
}

Json OutputDoc(const ActionOutput& o) {
  return o.is_list ? ListDoc(o) : Marshalled(o.resource);
}

std::string GlobalAsNumber(datastore::Client* client) {
  if (client == nullptr) return "64512";
  auto bgp = client->Get("BGPConfiguration", "", "default");
  if (!bgp) return bgp.error().code() == ErrorCode::kNotFound ? "64512" : "unknown";
  const Json& spec = bgp->spec();
  if (spec.contains("asNumber") && !spec["asNumber"].is_null()) {
    const Json& v = spec["asNumber"];
    return v.is_string() ? v.get<std::string>() : v.dump();
  }
  return "64512";
}

// The HITS column of `get globalnetworkpolicy|networkpolicy -o wide` (an addition): for each
// policy, the connections calico-flows' window holds whose enforced trace names it (every action:
// allowed, denied and passed), from GET /api/v1/policies/hits of the server calico-node sends
// its flow logs to (FelixConfiguration default's flowLogsGoldmaneServer). Without that server,
// or when it cannot be asked, every cell is "-" and one line on stderr says why.
struct PolicyHitsColumn {
  std::map<std::string, int64_t> connections;  // "<kind>|<namespace>|<name>" (calico-flows' kind)
  bool available = false;
};

std::string HitsKey(std::string_view kind, std::string_view ns, std::string_view name) {
  return fmt::format("{}|{}|{}", kind, ns, name);
}

PolicyHitsColumn LoadPolicyHits(datastore::Client* client, Context& ctx) {
  PolicyHitsColumn col;
  auto note = [&](const std::string& why) { ctx.err << "HITS is \"-\": " << why << "\n"; };
  std::string server;
  if (client != nullptr) {
    auto fc = client->Get("FelixConfiguration", "", "default");
    if (fc && fc->spec().is_object()) {
      server = fc->spec().value("flowLogsGoldmaneServer", std::string());
    } else if (!fc && fc.error().code() != ErrorCode::kNotFound) {
      note("reading FelixConfiguration default: " + fc.error().message());
      return col;
    }
  }
  if (server.empty()) {
    note("no flows server (FelixConfiguration default sets no flowLogsGoldmaneServer)");
    return col;
  }
  if (!ctx.flows_get) {
    note("this calicoctl cannot ask calico-flows at " + server);
    return col;
  }
  auto body = ctx.flows_get(server, "/api/v1/policies/hits");
  if (!body) {
    note(body.error().message());
    return col;
  }
  const Json j = Json::parse(*body, nullptr, false);
  if (j.is_discarded() || !j.contains("policies") || !j["policies"].is_array()) {
    note("calico-flows at " + server + " answered something else than policy hits");
    return col;
  }
  for (const Json& p : j["policies"]) {
    if (!p.is_object() || p.value("pending", false)) continue;  // Staged: not this policy's hits.
    int64_t n = 0;
    if (auto a = p.find("actions"); a != p.end() && a->is_object()) {
      for (const auto& [action, counts] : a->items()) {
        if (counts.is_object()) n += counts.value("connections", int64_t{0});
      }
    }
    col.connections[HitsKey(p.value("kind", std::string()), p.value("namespace", std::string()),
                            p.value("name", std::string()))] += n;
  }
  col.available = true;
  return col;
}

// Go's zero values for the fields a marshalled document omits, from the kind's schema (infra
// kinds): what text/template sees in the struct (false, 0, "", empty lists and maps; pointer
// fields stay absent). Policy kinds have no schema here and keep absent fields empty.
void FillGoZeroValues(const Json& schema, Json& value) {
  if (value.is_array()) {
    auto items = schema.find("i");
    if (items == schema.end()) return;
    for (auto& e : value)
      FillGoZeroValues(*items, e);
    return;
  }
  if (!value.is_object()) return;
  auto props = schema.find("p");
  if (props == schema.end()) return;
  for (auto it = props->begin(); it != props->end(); ++it) {
    const Json& child = it.value();
    if (value.contains(it.key())) {
      FillGoZeroValues(child, value[it.key()]);
      continue;
    }
    if (child.contains("ptr")) continue;
    const std::string type = child.value("t", std::string());
    if (type == "boolean") {
      value[it.key()] = false;
    } else if (type == "integer" || type == "number") {
      value[it.key()] = 0;
    } else if (type == "string") {
      value[it.key()] = "";
    } else if (type == "array") {
      value[it.key()] = Json::array();
    } else if (type == "object") {
      value[it.key()] = Json::object();
      FillGoZeroValues(child, value[it.key()]);
    }
  }
}

// The data of a go-template: each result as Go holds it.
Json TemplateData(const Json& doc) {
  Json out = doc;
  auto fill = [](Json& r) {
    if (!r.is_object() || !r.contains("kind") || !r["kind"].is_string()) return;
    const Json* schema = model::validation::InfraSchema(r["kind"].get<std::string>());
    if (schema == nullptr) return;
    for (const char* section : {"spec", "status"}) {
      auto s = schema->find(section);
      if (s == schema->end()) continue;
      if (!r.contains(section) || r[section].is_null()) r[section] = Json::object();
      FillGoZeroValues(*s, r[section]);
    }
  };
  if (out.contains("items") && out["items"].is_array()) {
    for (auto& item : out["items"])
      fill(item);
  } else {
    fill(out);
  }
  return out;
}

// os.ReadFile's errors as Go words them.
Result<std::string> ReadTemplateFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return InvalidArgument(fmt::format("read {}: is a directory", path));
  }
  if (!f) {
    const bool exists = std::filesystem::exists(path, ec);
    return NotFound(fmt::format("open {}: {}", path,
                                exists ? "permission denied" : "no such file or directory"));
  }
  std::ostringstream text;
  text << f.rdbuf();
  return text.str();
}

}  // namespace

int RunGet(std::span<const std::string> argv, Context& ctx) {
  FlagSet fs;
  AddCrudFlags(fs);
  fs.AddString("output", 'o', "ps",
               "Output format: yaml, json, ps, wide, custom-columns=..., go-template=..., "
               "go-template-file=...");
  fs.AddBool("all-namespaces", 'A', "List the requested object(s) across all namespaces.");
  fs.AddBool("all-namespaces-a", 'a', "Alias for --all-namespaces.", /*hidden=*/true);
  fs.AddBool("export", 0, "Strip cluster-specific information from the output.");
  fs.AddString("selector", 'S', "",
               "Only list resources whose labels match this selector (e.g. \"role == 'db'\").");
  AddGlobalFlags(fs);
  if (int rc = ParseOrFail(fs, argv, ctx, "Usage:\n  calicoctl get [KIND [NAME...]] [flags]");
      rc >= 0) {
    return rc;
  }
  ResourceArgs args = ResourceArgsFromFlags(fs, Action::kGetOrList);
  args.all_namespaces = fs.GetBool("all-namespaces") || fs.GetBool("all-namespaces-a");
  args.export_ = fs.GetBool("export");
  args.selector = fs.GetString("selector");
  const std::string output = fs.GetString("output");
  const bool print_namespace = args.all_namespaces || !args.namespace_.empty();

  // buildResourcePrinter.
  enum class Format { kYaml, kJson, kTable, kTemplate } format = Format::kTable;
  std::string template_text;
  std::string template_file;
  TableOptions table;
  table.print_namespace = print_namespace;
  if (output == "yaml" || output == "yml") {
    format = Format::kYaml;
  } else if (output == "json") {
    format = Format::kJson;
  } else if (output == "ps" || output == "wide") {
    table.wide = output == "wide";
  } else {
    const size_t eq = output.find('=');
    const std::string key = output.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : output.substr(eq + 1);
    if (key == "custom-columns") {
      if (value.empty()) return Fail(ctx, "need to specify at least one column");
      table.headings = StrSplit(value, ',');
      table.print_namespace = false;
    } else if (key == "go-template") {
      if (value.empty()) return Fail(ctx, "need to specify a template");
      format = Format::kTemplate;
      template_text = value;
    } else if (key == "go-template-file") {
      if (value.empty()) return Fail(ctx, "need to specify a template file");
      format = Format::kTemplate;
      template_file = value;
    } else {
      return Fail(ctx, fmt::format("unrecognized output format '{}'", output));
    }
  }
  if (!args.selector.empty()) {
    Status st = selector::Validate(args.selector);
    if (!st) {
      return Fail(
          ctx, fmt::format("invalid --selector \"{}\": {}", args.selector, st.error().message()));
    }
    if (!args.names.empty() || !args.filename.empty()) {
      return Fail(ctx, "--selector can only be used when listing resources (no names, no -f)");
    }
  }

  CommandResults results = ExecuteConfigCommand(args, ctx);
  if (results.client_failed) return 1;
  if (results.file_invalid) {
    return Fail(ctx, fmt::format("failed to execute command: {}", *results.err));
  }
  if (results.err) return Fail(ctx, fmt::format("failed to get resources: {}", *results.err));

  if (format == Format::kTable) {
    table.global_as_number = [client = results.client, cached = std::string()]() mutable {
      if (cached.empty()) cached = GlobalAsNumber(client);
      return cached;
    };
    const bool wants_hits =
        table.wide && table.headings.empty() &&
        std::any_of(results.resources.begin(), results.resources.end(), [](const auto& o) {
          return o.kind == "GlobalNetworkPolicy" || o.kind == "NetworkPolicy";
        });
    std::shared_ptr<PolicyHitsColumn> hits;
    if (wants_hits) {
      hits = std::make_shared<PolicyHitsColumn>(LoadPolicyHits(results.client, ctx));
      table.policy_hits = [hits](const Resource& r) -> std::string {
        if (!hits->available) return "-";
        // calico-flows names a NetworkPolicy's hits CalicoNetworkPolicy (Goldmane's kind).
        const std::string kind =
            r.kind() == "NetworkPolicy" ? "CalicoNetworkPolicy" : "GlobalNetworkPolicy";
        auto it = hits->connections.find(HitsKey(kind, r.namespace_(), r.name()));
        return std::to_string(it == hits->connections.end() ? 0 : it->second);
      };
    }
    for (const auto& o : results.resources) {
      std::vector<Resource> items = o.is_list ? o.items : std::vector<Resource>{o.resource};
      auto text = RenderTable(o.kind, items, table);
      if (!text) return Fail(ctx, text.error().message());
      ctx.out << *text;
    }
  } else if (format == Format::kTemplate) {
    // printer.go ResourcePrinterTemplate(File): the file is read and the template parsed when
    // printing; the template runs once over the slice of results.
    if (!template_file.empty()) {
      auto text = ReadTemplateFile(template_file);
      if (!text) return Fail(ctx, text.error().message());
      template_text = std::move(*text);
    }
    auto tmpl = GoTemplate::Parse(template_text);
    if (!tmpl) return Fail(ctx, tmpl.error().message());
    Json data = Json::array();
    for (const auto& o : results.resources)
      data.push_back(TemplateData(OutputDoc(o)));
    GoTemplateFuncs funcs{
        .config = [client = results.client, cached = std::string()](std::string_view) mutable {
          if (cached.empty()) cached = GlobalAsNumber(client);
          return cached;
        }};
    Status st = tmpl->Execute(data, ctx.out, funcs);
    if (!st) return Fail(ctx, st.error().message());
  } else if (!results.resources.empty() || results.res_errs.empty()) {
    Json doc;
    if (results.resources.size() == 1) {
      doc = OutputDoc(results.resources[0]);
    } else {
      doc = Json::array();
      for (const auto& o : results.resources)
        doc.push_back(OutputDoc(o));
    }
    ctx.out << (format == Format::kYaml ? EmitGoYaml(doc) : EmitGoJson(doc));
  }
  if (!results.res_errs.empty()) return Fail(ctx, StrJoin(results.res_errs, "\n"));
  return 0;
}

}  // namespace calico::ctl
