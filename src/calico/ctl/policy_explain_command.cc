// See policy_explain_command.h.
#include "calico/ctl/policy_explain_command.h"

#include <fmt/format.h>

#include "calico/base/numbers.h"
#include "calico/ctl/args.h"
#include "calico/ctl/resource_loader.h"
#include "calico/explain/explain.h"
#include "calico/model/validate.h"

namespace calico::ctl {
namespace {

constexpr const char* kUsage =
    "Usage:\n"
    "  calicoctl policy explain --from=<ENDPOINT|IP> --to=<ENDPOINT|IP> [--protocol=<PROTO>]\n"
    "                           [--port=<PORT>] [--source-port=<PORT>] [--icmp-type=<T>]\n"
    "                           [--icmp-code=<C>] [--filename=<FILE>] [--output=<FORMAT>]\n"
    "                           [--config=<CONFIG>]\n";

// The -f resources, prepared as the client would store them (kind known, namespace defaulted,
// defaults applied, validated): they overlay the datastore's and are never written.
Result<std::vector<model::Resource>> LoadOverlay(const std::string& filename, Context& ctx) {
  LoadedResources loaded = LoadResources(filename, false, false, ctx.in);
  if (loaded.error) return InvalidArgument(*loaded.error);
  for (model::Resource& r : loaded.resources) {
    const model::KindInfo* kind = model::LookupKind(r.kind());
    if (kind == nullptr)
      return InvalidArgument(fmt::format("unknown resource type ({})", r.kind()));
    if (kind->namespaced && r.namespace_().empty()) r.set_namespace("default");
    if (Status st = model::ApplyDefaultsAndValidate(r); !st) {
      return Unexpected(st.error().Wrap(fmt::format("{} {}", r.kind(), r.name())));
    }
    if (kind->kind == "WorkloadEndpoint") {
      // The labels clientv3 stores on an endpoint (datastore::Client::Prepare, which is private to
      // the write path), so that selectors see the endpoint as it would be stored.
      model::Json& labels = r.doc()["metadata"]["labels"];
      if (!labels.is_object()) labels = model::Json::object();
      labels["projectcalico.org/namespace"] = r.namespace_();
      labels["projectcalico.org/orchestrator"] = r.spec().value("orchestrator", "");
      const std::string sa = r.spec().value("serviceAccountName", "");
      if (!sa.empty()) labels["projectcalico.org/serviceaccount"] = sa;
    }
  }
  return std::move(loaded.resources);
}

Result<std::optional<int>> IntFlag(const FlagSet& fs, std::string_view name) {
  if (!fs.Changed(name)) return std::optional<int>();
  auto v = ParseInt<int>(fs.GetString(name), 10);
  if (!v) return InvalidArgument(fmt::format("--{}: {}", name, v.error().message()));
  return std::optional<int>(*v);
}

}  // namespace

int RunPolicyExplain(std::span<const std::string> args, Context& ctx) {
  FlagSet fs;
  fs.AddString("from", 0, "",
               "Source: a WorkloadEndpoint (<namespace>/<name> or <name>) or an IP.");
  fs.AddString("to", 0, "", "Destination: a WorkloadEndpoint or an IP.");
  fs.AddString("protocol", 0, "TCP",
               "Protocol: TCP, UDP, SCTP, UDPLite, ICMP, ICMPv6 or a number.");
  fs.AddString("port", 0, "", "Destination port (TCP, UDP, SCTP, UDPLite).");
  fs.AddString("source-port", 0, "", "Source port (default: unknown).");
  fs.AddString("icmp-type", 0, "", "ICMP type (default: echo request).");
  fs.AddString("icmp-code", 0, "", "ICMP code (default 0).");
  fs.AddString("filename", 'f', "",
               "Resources to apply on top of the datastore's for this question (not written).");
  fs.AddString("output", 'o', "text", "Output format: text or json.");
  fs.AddString("config", 'c', std::string(kDefaultConfigPath),
               "Path to the file containing connection configuration in YAML or JSON format.");
  fs.AddBool("help", 'h', "help for explain");
  if (Status st = fs.Parse(args); !st) {
    ctx.err << st.error().message() << "\n" << kUsage;
    return 1;
  }
  if (fs.GetBool("help")) {
    ctx.out << kUsage << "\nFlags:\n" << fs.Usage();
    return 0;
  }
  if (!fs.positionals().empty()) {
    ctx.err << fmt::format("Invalid option: {}\n", fs.positionals()[0]) << kUsage;
    return 1;
  }
  const std::string output = fs.GetString("output");
  if (output != "text" && output != "json") {
    ctx.err << fmt::format("Unrecognized output format '{}': use text or json\n", output);
    return 1;
  }
  explain::Query q{
      .from = fs.GetString("from"), .to = fs.GetString("to"), .protocol = fs.GetString("protocol")};
  for (const auto& [name, out] : {std::pair{"port", &q.port},
                                  {"source-port", &q.source_port},
                                  {"icmp-type", &q.icmp_type},
                                  {"icmp-code", &q.icmp_code}}) {
    auto v = IntFlag(fs, name);
    if (!v) {
      ctx.err << v.error().message() << "\n";
      return 1;
    }
    *out = *v;
  }
  std::vector<model::Resource> overlay;
  if (fs.Changed("filename")) {
    auto loaded = LoadOverlay(fs.GetString("filename"), ctx);
    if (!loaded) {
      ctx.err << "Failed to read " << fs.GetString("filename") << ": " << loaded.error().message()
              << "\n";
      return 1;
    }
    overlay = std::move(*loaded);
  }
  datastore::Client* client = OpenClientFromFlags(fs, ctx);
  if (client == nullptr) return 1;
  auto snap = explain::SnapshotFromClient(*client);
  if (!snap) {
    ctx.err << "Failed to read the datastore: " << snap.error().message() << "\n";
    return 1;
  }
  auto e = explain::Explain(explain::Overlay(std::move(*snap), overlay), q);
  if (!e) {
    ctx.err << "Error: " << e.error().message() << "\n";
    return 1;
  }
  if (output == "json") {
    ctx.out << explain::ToJson(*e).dump(2) << "\n";
  } else {
    ctx.out << explain::RenderText(*e);
  }
  return 0;
}

}  // namespace calico::ctl
