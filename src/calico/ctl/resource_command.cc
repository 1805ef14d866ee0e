// calicoctl's shared resource-command machinery (calicoctl/calicoctl/commands/common/cmd.go,
// resources.go ExecuteConfigCommand, version_mismatch.go CheckVersionMismatch) and MassageError.
#include "calico/ctl/resource_command.h"

#include <map>
#include <regex>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/ctl/resource_loader.h"
#include "calico/model/resource.h"

namespace calico::ctl {
namespace {

using model::Json;
using model::Resource;

// Opens the client and runs the version-mismatch check (common.CheckVersionMismatch).
Result<datastore::Client*> OpenClient(const ResourceArgs& args, Context& ctx) {
  if (!ctx.open_client) return Unavailable("no datastore configured");
  ASSIGN_OR_RETURN(datastore::Client * client, ctx.open_client(args.client_options));
  return client;
}

Status CheckVersionMismatch(const ResourceArgs& args, Context& ctx) {
  if (args.allow_version_mismatch || !ctx.open_client) return OkStatus();
  auto client = ctx.open_client(args.client_options);
  if (!client) return OkStatus();
  auto ci = (*client)->Get("ClusterInformation", "", "default");
  if (!ci) {
    if (ci.error().code() == ErrorCode::kNotFound) return OkStatus();
    return Unavailable(
        fmt::format("unable to get Cluster Information to verify version mismatch: {}\nUse "
                    "--allow-version-mismatch to override",
                    ci.error().message()));
  }
  std::string cluster_v = ci->spec().value("calicoVersion", std::string());
  if (cluster_v.empty()) return OkStatus();
  auto base = [](std::string v) {
    if (!v.empty() && v[0] == 'v') v.erase(0, 1);
    return v.substr(0, v.find('-'));
  };
  cluster_v = base(cluster_v);
  if (cluster_v != base(ctx.build.version)) {
    return InvalidArgument(
        fmt::format("version mismatch.\nClient Version:   {}\nCluster Version:  {}\nUse "
                    "--allow-version-mismatch to override",
                    ctx.build.version, cluster_v));
  }
  return OkStatus();
}

}  // namespace

void AddGlobalFlags(FlagSet& fs) {
  fs.AddString("log-level", 'l', "panic",
               "Set the log level (one of panic, fatal, error, warn, "
               "info, debug)");
  fs.AddString("context", 0, "", "The name of the kubeconfig context to use.");
  fs.AddBool("allow-version-mismatch", 0, "Allow client and cluster versions mismatch.");
  fs.AddBool("help", 'h', "help for this command");
}

void AddConfigFlag(FlagSet& fs) {
  fs.AddString("config", 'c', std::string(kDefaultConfigPath),
               "Path to the file containing connection configuration in YAML or JSON format.");
}

void AddCrudFlags(FlagSet& fs) {
  fs.AddString("filename", 'f', "",
               "Filename to use to create/apply/replace/delete the resource. Use '-' for stdin.");
  fs.AddBool("recursive", 'R', "Process the filename specified in -f recursively.");
  fs.AddBool("skip-empty", 0, "Do not error if files contain no data.");
  AddConfigFlag(fs);
  fs.AddString("namespace", 'n', "", "Namespace of the resource.");
}

ResourceArgs ResourceArgsFromFlags(const FlagSet& fs, Action action) {
  ResourceArgs a;
  a.action = action;
  a.filename = fs.GetString("filename");
  a.recursive = fs.GetBool("recursive");
  a.skip_empty = fs.GetBool("skip-empty");
  a.namespace_ = fs.GetString("namespace");
  a.allow_version_mismatch = fs.GetBool("allow-version-mismatch");
  a.client_options.config_path = fs.GetString("config");
  a.client_options.config_path_set = fs.Changed("config");
  const auto& pos = fs.positionals();
  if (!pos.empty()) {
    a.kind = pos[0];
    a.names.assign(pos.begin() + 1, pos.end());
  }
  log::SetAllLevels(fs.GetString("log-level"));
  return a;
}

// ---- errors and messages ------------------------------------------------------------------------

int Fail(Context& ctx, std::string_view message) {
  ctx.err << MassageError(message) << "\n";
  return 1;
}

int ParseOrFail(FlagSet& fs, std::span<const std::string> args, Context& ctx,
                std::string_view usage) {
  Status st = fs.Parse(args);
  if (!st) return Fail(ctx, st.error().message());
  if (fs.GetBool("help")) {
    ctx.out << usage << "\n\nFlags:\n" << fs.Usage();
    return 0;
  }
  return -1;
}

// Returns nullopt after printing "Failed to create Calico API client" (the caller exits 1).
CommandResults ExecuteConfigCommand(const ResourceArgs& args, Context& ctx) {
  std::vector<Resource> resources;
  bool single_kind = false;
  if (args.action != Action::kValidate) {
    Status st = CheckVersionMismatch(args, ctx);
    if (!st) return CommandResults::Error(st.error().message());
  }
  if (!args.filename.empty()) {
    LoadedResources loaded = LoadResources(args.filename, args.recursive, args.skip_empty, ctx.in);
    if (loaded.error) return CommandResults::Error(*loaded.error, loaded.file_invalid);
    if (loaded.resources.empty()) return CommandResults{};
    resources = std::move(loaded.resources);
  } else {
    single_kind = true;
    if (!args.kind) return CommandResults::Error("no resources specified");
    // Only calicoctl names (case-insensitive) select a kind: "IPPoolList" does not.
    const model::KindInfo* info = model::LookupKind(*args.kind);
    bool alias = false;
    if (info != nullptr) {
      for (const auto& a : info->aliases)
        alias = alias || EqualsIgnoreCase(a, *args.kind);
    }
    if (!alias) {
      return CommandResults::Error(fmt::format("resource type '{}' is not supported", *args.kind));
    }
    std::vector<std::string> names = args.names;
    if (names.empty()) names.emplace_back();  // No name: list.
    for (const auto& name : names) {
      if (name.empty() && !args.names.empty()) {
        return CommandResults::Error("resource name may not be empty");
      }
      Resource r(info->kind, name, info->namespaced ? args.namespace_ : "");
      if (!r.doc().contains("apiVersion")) r.doc()["apiVersion"] = std::string(model::kApiVersion);
      resources.push_back(std::move(r));
    }
  }

  datastore::Client* client = nullptr;
  if (args.action != Action::kValidate) {
    auto c = OpenClient(args, ctx);
    if (!c) {
      ctx.out << fmt::format("Failed to create Calico API client: {}\n", c.error().message());
      CommandResults failed;
      failed.client_failed = true;
      return failed;
    }
    client = *c;
  }

  CommandResults results;
  results.client = client;
  std::map<std::string, int> count;
  std::string kind;
  for (const auto& r : resources) {
    const model::KindInfo* info = model::LookupKind(r.kind());
    kind = info != nullptr ? info->kind : r.kind();
    ++count[kind];
    ++results.num_resources;
  }
  if (count.size() == 1 || single_kind) results.single_kind = kind;

  if (args.action == Action::kApply || args.action == Action::kCreate ||
      args.action == Action::kUpdate) {
    auto st = client->EnsureInitialized();
    // A datastore of a newer schema than this calicoctl reads (datastore/schema.h) is not
    // written; other initialisation errors are only logged, as upstream does.
    if (!st && st.error().code() == ErrorCode::kUnsupported) {
      return CommandResults::Error(st.error().message());
    }
    if (!st)
      CALICO_LOG(info, "calicoctl", "unable to initialize datastore err={}", st.error().message());
  }

  const bool name_specified = !args.names.empty();
  for (const auto& r : resources) {
    auto res = ExecuteResourceAction(args, client, r, ctx);
    if (!res) {
      switch (args.action) {
        case Action::kApply:
        case Action::kCreate:
        case Action::kDelete:
        case Action::kGetOrList:
        case Action::kValidate:
          results.res_errs.push_back(res.error().message());
          continue;
        default:
          results.err = res.error().message();
      }
      // Go appends the (nil) result and counts it; stop at the first error for replace/patch.
      break;
    }
    if (args.export_ && name_specified && !res->is_list) {
      Json& md = res->resource.metadata();
      for (const char* k : {"namespace", "uid", "resourceVersion", "deletionTimestamp",
                            "deletionGracePeriodSeconds"}) {
        md.erase(k);
      }
      md["creationTimestamp"] = nullptr;
    }
    results.resources.push_back(std::move(*res));
    ++results.num_handled;
  }
  return results;
}

std::string MassageError(std::string_view message) {
  std::string msg(message);
  static const std::string kPrefix = "error unmarshaling JSON: while decoding JSON: json: ";
  // Strip the prefix wherever it occurs (errors are often wrapped in context).
  for (size_t pos = msg.find(kPrefix); pos != std::string::npos; pos = msg.find(kPrefix)) {
    msg.erase(pos, kPrefix.size());
  }
  static const std::regex re("unknown field \"([^\"]+)\"");
  std::smatch m;
  if (std::regex_search(msg, m, re)) {
    msg = std::string(m.prefix()) +
          "field in document is not recognized or is in the wrong location: " + m[1].str() +
          std::string(m.suffix());
  }
  return msg;
}

}  // namespace calico::ctl
