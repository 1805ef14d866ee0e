// Reproduces calicoctl's resource commands (calicoctl/calicoctl/commands/{crud_commands,
// get_command,label_command,version}.go, commands/common/resources.go ExecuteConfigCommand,
// resourcemgr/resourcemgr.go): flags, namespace rules, per-resource actions, result messages and
// exit codes.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/ctl/args.h"
#include "calico/ctl/ctl.h"
#include "calico/ctl/document.h"
#include "calico/ctl/table.h"
#include "calico/model/resource.h"
#include "calico/model/validate.h"
#include "calico/selector/selector.h"

namespace calico::ctl {
namespace {

using model::Json;
using model::Resource;

enum class Action { kApply, kCreate, kUpdate, kDelete, kGetOrList, kPatch, kValidate };

// ---- flags --------------------------------------------------------------------------------------

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

// The parsed arguments of one resource command (Go's args map).
struct Args {
  Action action = Action::kCreate;
  std::string filename;
  bool recursive = false;
  bool skip_empty = false;
  bool skip_exists = false;
  bool skip_not_exists = false;
  bool all_namespaces = false;
  bool export_ = false;
  bool allow_version_mismatch = false;
  std::string namespace_;
  std::string selector;
  std::string patch;
  std::string patch_type = "strategic";
  ClientOptions client_options;
  std::optional<std::string> kind;  // <KIND>
  std::vector<std::string> names;   // <NAME>...
};

Args CommonArgs(const FlagSet& fs, Action action) {
  Args a;
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

std::string GoErrList(const std::vector<std::string>& errs) {
  return "[" + StrJoin(errs, " ") + "]";
}

int Fail(Context& ctx, std::string_view message) {
  ctx.err << MassageError(message) << "\n";
  return 1;
}

// ---- loading ------------------------------------------------------------------------------------

struct FileError {
  std::string message;
  bool file_invalid = true;
};

const std::vector<std::string>& ObjectMetaFields() {
  static const std::vector<std::string> k = {"name",
                                             "generateName",
                                             "namespace",
                                             "selfLink",
                                             "uid",
                                             "resourceVersion",
                                             "generation",
                                             "creationTimestamp",
                                             "deletionTimestamp",
                                             "deletionGracePeriodSeconds",
                                             "labels",
                                             "annotations",
                                             "ownerReferences",
                                             "finalizers",
                                             "managedFields"};
  return k;
}

// One decoded document object -> resources (a <Kind>List gives its items).
Result<std::vector<Resource>> DecodeObject(const Json& obj) {
  if (!obj.is_object()) {
    return InvalidArgument(fmt::format(
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of "
        "type map[string]interface {{}}",
        obj.is_array() ? "array" : (obj.is_string() ? "string" : "number")));
  }
  const std::string kind =
      obj.value("kind", Json("")).is_string() ? obj.value("kind", std::string()) : std::string();
  const std::string api = obj.value("apiVersion", Json("")).is_string()
                              ? obj.value("apiVersion", std::string())
                              : std::string();
  const model::KindInfo* info = kind.empty() ? nullptr : model::LookupKind(kind);
  const bool is_list = info != nullptr && kind == info->kind + "List";
  if (info == nullptr || (kind != info->kind && !is_list) || api != model::kApiVersion) {
    return InvalidArgument(
        fmt::format("unknown resource type ({}) and/or version ({})", kind, api));
  }
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    static const std::vector<std::string> kTop = {"apiVersion", "kind", "metadata", "spec",
                                                  "status"};
    static const std::vector<std::string> kListTop = {"apiVersion", "kind", "metadata", "items"};
    const auto& allowed = is_list ? kListTop : kTop;
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return InvalidArgument(fmt::format("unknown field \"{}\"", it.key()));
    }
  }
  std::vector<Resource> out;
  if (is_list) {
    const Json items = obj.value("items", Json::array());
    if (!items.is_array()) return InvalidArgument("items must be a list");
    for (const auto& item : items) {
      Json copy = item;
      if (copy.is_object() && !copy.contains("apiVersion")) copy["apiVersion"] = api;
      if (copy.is_object() && !copy.contains("kind")) copy["kind"] = info->kind;
      ASSIGN_OR_RETURN(auto rs, DecodeObject(copy));
      for (auto& r : rs)
        out.push_back(std::move(r));
    }
    return out;
  }
  if (obj.contains("metadata")) {
    const Json& md = obj["metadata"];
    if (!md.is_object() && !md.is_null()) {
      return InvalidArgument(
          "cannot unmarshal metadata into Go struct field of type v1.ObjectMeta");
    }
    if (md.is_object()) {
      for (auto it = md.begin(); it != md.end(); ++it) {
        const auto& f = ObjectMetaFields();
        if (std::find(f.begin(), f.end(), it.key()) == f.end()) {
          return InvalidArgument(fmt::format("unknown field \"{}\"", it.key()));
        }
      }
    }
  }
  Json doc = obj;
  if (!doc.contains("metadata") || doc["metadata"].is_null()) doc["metadata"] = Json::object();
  out.emplace_back(std::move(doc));
  return out;
}

Result<std::vector<Resource>> ParseStream(std::string_view text) {
  std::vector<Resource> out;
  ASSIGN_OR_RETURN(std::vector<Json> docs, ParseYamlStream(text));
  for (const Json& v : docs) {
    if (v.is_array()) {
      for (const auto& e : v) {
        ASSIGN_OR_RETURN(auto rs, DecodeObject(e));
        for (auto& r : rs)
          out.push_back(std::move(r));
      }
      continue;
    }
    ASSIGN_OR_RETURN(auto rs, DecodeObject(v));
    for (auto& r : rs)
      out.push_back(std::move(r));
  }
  return out;
}

// Reads at most the input limit (model::kMaxStreamBytes) and one byte more, so that an endless
// or huge input is refused without being held in memory.
Result<std::string> ReadLimited(std::istream& in, const std::string& path) {
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > model::kMaxStreamBytes) {
      return InvalidArgument(fmt::format("{}: input larger than the {} of {} bytes",
                                         path == "-" ? "stdin" : path, model::kMaxStreamBytesName,
                                         model::kMaxStreamBytes));
    }
  }
  return text;
}

Result<std::string> ReadInput(const std::string& path, Context& ctx) {
  if (path == "-") return ReadLimited(ctx.in, path);
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::error_code ec;
    const bool exists = std::filesystem::exists(path, ec);
    return NotFound(fmt::format("open {}: {}", path,
                                exists ? "permission denied" : "no such file or directory"));
  }
  return ReadLimited(f, path);
}

// file.Iter: a file, stdin, or the .yaml/.yml/.json files of a directory (recursively with -R),
// in lexical order. As filepath.Walk there, symbolic links to directories are not followed (only
// the named directory itself may be one), so a link loop cannot apply a file twice.
std::vector<std::string> ExpandFilename(const Args& args) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (args.filename == "-" || !fs::is_directory(args.filename, ec)) return {args.filename};
  std::vector<std::string> files;
  std::function<void(const fs::path&)> walk = [&](const fs::path& dir) {
    std::vector<fs::directory_entry> entries;
    for (const auto& e : fs::directory_iterator(dir, ec))
      entries.push_back(e);
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return a.path().filename() < b.path().filename();
    });
    for (const auto& e : entries) {
      if (e.is_symlink(ec) && e.is_directory(ec)) continue;
      if (e.is_directory(ec)) {
        if (args.recursive) walk(e.path());
        continue;
      }
      const std::string ext = AsciiLower(e.path().extension().string());
      if (ext == ".yaml" || ext == ".yml" || ext == ".json") files.push_back(e.path().string());
    }
  };
  walk(args.filename);
  return files;
}

// ---- results ------------------------------------------------------------------------------------

// What one action returned: a resource, or for a list query the <Kind>List.
struct Output {
  bool is_list = false;
  std::string kind;
  Resource resource;
  std::vector<Resource> items;
  std::string list_revision;
};

struct CommandResults {
  static CommandResults Error(std::string message, bool file_invalid = false) {
    CommandResults r;
    r.err = std::move(message);
    r.file_invalid = file_invalid;
    return r;
  }
  bool file_invalid = false;
  int num_resources = 0;
  int num_handled = 0;
  std::optional<std::string> err;
  std::string single_kind;
  std::vector<Output> resources;
  std::vector<std::string> res_errs;
  datastore::Client* client = nullptr;
};

// ---- namespace rules ----------------------------------------------------------------------------

Status HandleNamespace(Resource& r, const model::KindInfo& info, const Args& args) {
  const std::string res_ns = r.namespace_();
  const std::string& cli_ns = args.namespace_;
  const bool all_ns = args.all_namespaces;
  if (info.namespaced) {
    if (all_ns && !cli_ns.empty()) {
      return InvalidArgument(
          "cannot use both --namespace and --all-namespaces flags at the same time");
    }
    if (res_ns.empty() && !cli_ns.empty()) {
      r.set_namespace(cli_ns);
    } else if (!res_ns.empty() && all_ns) {
      r.set_namespace("");
    } else if (res_ns.empty() && all_ns) {
      // List across all namespaces.
    } else if (res_ns.empty() && cli_ns.empty()) {
      r.set_namespace("default");
    } else if (!res_ns.empty() && cli_ns.empty()) {
      // Keep the document's namespace.
    } else if (res_ns != cli_ns) {
      return InvalidArgument(fmt::format(
          "resource namespace does not match client namespace. {} != {}", res_ns, cli_ns));
    }
    return OkStatus();
  }
  if (!res_ns.empty()) {
    return InvalidArgument(fmt::format(
        "namespace should not be specified for a non-namespaced resource. {} is not a namespaced "
        "resource",
        info.kind));
  }
  if (all_ns || !cli_ns.empty())
    return InvalidArgument(fmt::format("{} is not namespaced", info.kind));
  return OkStatus();
}

// ---- per-resource actions (resourcemgr) ---------------------------------------------------------

std::string Identifier(const Resource& r) {
  if (!r.namespace_().empty()) return fmt::format("{}({}/{})", r.kind(), r.namespace_(), r.name());
  return fmt::format("{}({})", r.kind(), r.name());
}

// prepareMetadataForCreate: only name, namespace, resourceVersion, labels and annotations.
Resource PrepareForCreate(const Resource& r) {
  Resource out = r;
  Json md = Json::object();
  const Json& in = r.metadata();
  for (const char* k : {"name", "namespace", "resourceVersion", "labels", "annotations"}) {
    if (in.contains(k)) md[k] = in[k];
  }
  out.metadata() = std::move(md);
  return out;
}

// mergeMetadataForUpdate: the stored metadata with the document's labels and annotations.
Resource MergeForUpdate(const Resource& stored, Resource doc) {
  Json md = stored.metadata();
  const Json& cm = doc.metadata();
  for (const char* k : {"labels", "annotations"}) {
    if (cm.contains(k)) {
      md[k] = cm[k];
    } else {
      md.erase(k);
    }
  }
  doc.metadata() = std::move(md);
  return doc;
}

Result<Resource> DoUpdate(datastore::Client& client, const Resource& r, Context& ctx) {
  const std::string rv = r.resource_version();
  if (!rv.empty()) {
    ASSIGN_OR_RETURN(Resource stored, client.Get(r.kind(), r.namespace_(), r.name()));
    if (stored.resource_version() != rv) {
      return Conflict(fmt::format("update conflict: {}", Identifier(stored)));
    }
    return client.Update(MergeForUpdate(stored, r));
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    ASSIGN_OR_RETURN(Resource stored, client.Get(r.kind(), r.namespace_(), r.name()));
    auto res = client.Update(MergeForUpdate(stored, r));
    if (!res && res.error().code() == ErrorCode::kConflict) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ctx.retry_sleep_ms));
      continue;
    }
    return res;
  }
  return Conflict(fmt::format("failed to update the resource: {}", Identifier(r)));
}

Result<Resource> DoCreate(datastore::Client& client, const Resource& r) {
  return client.Create(PrepareForCreate(r));
}

Result<Resource> DoApply(datastore::Client& client, Resource r, Context& ctx) {
  if (r.kind() == "ClusterInformation") {
    return MakeError(
        ErrorCode::kUnsupported,
        "operation apply is not supported on ClusterInformation: resource is readonly");
  }
  const std::string original_rv = r.resource_version();
  r.set_resource_version("");
  auto created = DoCreate(client, r);
  if (!created && (created.error().code() == ErrorCode::kAlreadyExists ||
                   created.error().code() == ErrorCode::kUnsupported)) {
    r.set_resource_version(original_rv);
    return DoUpdate(client, r, ctx);
  }
  return created;
}

// The store revision a list was read at (List objects carry it as metadata.resourceVersion).
std::string ListRevision(datastore::Client& client) {
  auto lr = client.backend().List("/calico/ctl/list-revision-probe/");
  return lr ? std::to_string(lr->revision) : std::string();
}

std::map<std::string, std::string> LabelsOf(const Resource& r) {
  std::map<std::string, std::string> labels;
  const Json& md = r.metadata();
  if (md.contains("labels") && md["labels"].is_object()) {
    for (auto it = md["labels"].begin(); it != md["labels"].end(); ++it) {
      if (it.value().is_string()) labels[it.key()] = it.value().get<std::string>();
    }
  }
  return labels;
}

Result<Output> DoGetOrList(datastore::Client& client, const Resource& r,
                           const model::KindInfo& info, const Args& args) {
  Output out;
  out.kind = info.kind;
  if (!r.name().empty()) {
    if (r.namespace_().empty() && info.namespaced) {
      return InvalidArgument("cannot use --all-namespace flag for getting a single resource");
    }
    ASSIGN_OR_RETURN(out.resource, client.Get(info.kind, r.namespace_(), r.name()));
    return out;
  }
  out.is_list = true;
  ASSIGN_OR_RETURN(out.items, client.List(info.kind, r.namespace_()));
  if (!args.selector.empty()) {
    ASSIGN_OR_RETURN(auto sel, selector::Parse(args.selector));
    std::vector<Resource> kept;
    for (auto& item : out.items) {
      if (sel.Evaluate(LabelsOf(item))) kept.push_back(std::move(item));
    }
    out.items = std::move(kept);
  }
  out.list_revision = ListRevision(client);
  return out;
}

Result<Resource> DoPatch(datastore::Client& client, const Resource& r, const Args& args) {
  ASSIGN_OR_RETURN(Resource stored, client.Get(r.kind(), r.namespace_(), r.name()));
  auto parsed_patch = model::ParseJson(args.patch);
  if (!parsed_patch) {
    return InvalidArgument(fmt::format("performing strategic merge patch: invalid JSON patch: {}",
                                       parsed_patch.error().message()));
  }
  Json patch = std::move(*parsed_patch);
  Json patched;
  if (args.patch_type == "json") {
    if (!patch.is_array()) {
      return InvalidArgument(
          "performing strategic merge patch: json patch must be a list of operations");
    }
    try {
      patched = stored.doc().patch(patch);
    } catch (const std::exception& e) {
      return InvalidArgument(fmt::format("performing strategic merge patch: {}", e.what()));
    }
  } else {
    if (!patch.is_object()) {
      return InvalidArgument("performing strategic merge patch: patch must be a JSON object");
    }
    patched = stored.doc();
    patched.merge_patch(patch);
  }
  // A JSON patch can nest one value inside another: the result must still be readable.
  RETURN_IF_ERROR(model::CheckJsonLimits(patched, "the patched resource"));
  auto decoded = DecodeObject(patched);
  if (!decoded) {
    return InvalidArgument(fmt::format("creating resource from patched data: {}",
                                       MassageError(decoded.error().message())));
  }
  if (decoded->size() != 1) {
    return InvalidArgument(fmt::format("invalid number of patched resources: {}", decoded->size()));
  }
  auto updated = client.Update((*decoded)[0]);
  if (!updated) {
    return Unexpected(Error(updated.error().code(), fmt::format("updating existing resource: {}",
                                                                updated.error().message())));
  }
  return updated;
}

Result<Output> ExecuteResourceAction(const Args& args, datastore::Client* client, Resource r,
                                     Context& ctx) {
  const model::KindInfo* info = model::LookupKind(r.kind());
  if (info == nullptr) {
    return InvalidArgument(fmt::format("resource type '{}' is not supported", r.kind()));
  }
  RETURN_IF_ERROR(HandleNamespace(r, *info, args));
  Output out;
  out.kind = info->kind;
  Result<Resource> res = r;
  switch (args.action) {
    case Action::kApply:
      res = DoApply(*client, r, ctx);
      break;
    case Action::kCreate:
      res = DoCreate(*client, r);
      break;
    case Action::kUpdate:
      res = DoUpdate(*client, r, ctx);
      break;
    case Action::kDelete:
      res = client->Delete(info->kind, r.namespace_(), r.name(), r.resource_version());
      break;
    case Action::kGetOrList:
      return DoGetOrList(*client, r, *info, args);
    case Action::kPatch:
      res = DoPatch(*client, r, args);
      break;
    case Action::kValidate: {
      Resource copy = r;
      Status st = model::ApplyDefaultsAndValidate(copy);
      if (!st) return Unexpected(st.error());
      res = r;
      break;
    }
  }
  if (!res) {
    const ErrorCode code = res.error().code();
    const bool skip = (code == ErrorCode::kAlreadyExists && args.skip_exists) ||
                      (code == ErrorCode::kNotFound && args.skip_not_exists);
    if (!skip) return Unexpected(res.error());
    res = r;
  }
  out.resource = std::move(*res);
  return out;
}

// Opens the client and runs the version-mismatch check (common.CheckVersionMismatch).
Result<datastore::Client*> OpenClient(const Args& args, Context& ctx) {
  if (!ctx.open_client) return Unavailable("no datastore configured");
  ASSIGN_OR_RETURN(datastore::Client * client, ctx.open_client(args.client_options));
  return client;
}

Status CheckVersionMismatch(const Args& args, Context& ctx) {
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

// Returns nullopt after printing "Failed to create Calico API client" (the caller exits 1).
CommandResults ExecuteConfigCommand(const Args& args, Context& ctx, bool& client_failed) {
  client_failed = false;
  std::vector<Resource> resources;
  bool single_kind = false;
  if (args.action != Action::kValidate) {
    Status st = CheckVersionMismatch(args, ctx);
    if (!st) return CommandResults::Error(st.error().message());
  }
  const bool error_on_empty = !args.skip_empty;
  if (!args.filename.empty()) {
    for (const auto& file : ExpandFilename(args)) {
      auto text = ReadInput(file, ctx);
      if (!text) return CommandResults::Error(text.error().message(), true);
      auto parsed = ParseStream(*text);
      if (!parsed) return CommandResults::Error(parsed.error().message(), true);
      if (parsed->empty() && error_on_empty) {
        return CommandResults::Error(fmt::format("no resources specified in file {}", file));
      }
      for (auto& r : *parsed)
        resources.push_back(std::move(r));
    }
    if (resources.empty()) {
      if (error_on_empty) {
        return CommandResults::Error(
            fmt::format("no resources specified in directory {}", args.filename));
      }
      return CommandResults{};
    }
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
      client_failed = true;
      return CommandResults{};
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

// ---- commands -----------------------------------------------------------------------------------

std::string PastTense(std::string_view action) {
  if (action == "create") return "created";
  if (action == "apply") return "applied";
  if (action == "validate") return "validated";
  return std::string(action);
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

int CreateApplyValidate(std::span<const std::string> argv, Context& ctx, std::string_view action) {
  FlagSet fs;
  AddCrudFlags(fs);
  if (action == "create") fs.AddBool("skip-exists", 0, "Skip over resources that already exist.");
  AddGlobalFlags(fs);
  if (int rc = ParseOrFail(fs, argv, ctx, fmt::format("Usage:\n  calicoctl {} [flags]", action));
      rc >= 0) {
    return rc;
  }
  Action a = action == "create" ? Action::kCreate
                                : (action == "apply" ? Action::kApply : Action::kValidate);
  Args args = CommonArgs(fs, a);
  args.skip_exists = fs.GetBool("skip-exists");
  bool client_failed = false;
  CommandResults results = ExecuteConfigCommand(args, ctx, client_failed);
  if (client_failed) return 1;
  const std::string past = PastTense(action);
  if (results.file_invalid) {
    return Fail(ctx, fmt::format("failed to execute command: {}", *results.err));
  }
  if (results.num_resources == 0) {
    if (results.err) return Fail(ctx, *results.err);
    ctx.out << "No resources specified\n";
    return 0;
  }
  if (results.num_handled == 0) {
    if (results.num_resources == 1) {
      return Fail(ctx, fmt::format("failed to {} '{}' resource: {}", action, results.single_kind,
                                   GoErrList(results.res_errs)));
    }
    if (!results.single_kind.empty()) {
      return Fail(ctx, fmt::format("failed to {} any '{}' resources: {}", action,
                                   results.single_kind, GoErrList(results.res_errs)));
    }
    return Fail(ctx,
                fmt::format("failed to {} any resources: {}", action, GoErrList(results.res_errs)));
  }
  if (results.res_errs.empty()) {
    if (!results.single_kind.empty()) {
      ctx.out << fmt::format("Successfully {} {} '{}' resource(s)\n", past, results.num_handled,
                             results.single_kind);
    } else {
      ctx.out << fmt::format("Successfully {} {} resource(s)\n", past, results.num_handled);
    }
    return 0;
  }
  if (results.num_handled - static_cast<int>(results.res_errs.size()) > 0) {
    ctx.out << "Partial success: ";
    if (!results.single_kind.empty()) {
      ctx.out << fmt::format("{} the first {} out of {} '{}' resources:\n", past,
                             results.num_handled, results.num_resources, results.single_kind);
    } else {
      ctx.out << fmt::format("{} the first {} out of {} resources:\n", past, results.num_handled,
                             results.num_resources);
    }
  }
  return Fail(ctx, fmt::format("hit error: {}", GoErrList(results.res_errs)));
}

// ---- output -------------------------------------------------------------------------------------

Json ListDoc(const Output& o) {
  Json items = Json::array();
  for (const auto& r : o.items)
    items.push_back(r.doc());
  Json md = Json::object();
  md["resourceVersion"] = o.list_revision;
  return Json{{"apiVersion", std::string(model::kApiVersion)},
              {"kind", o.kind + "List"},
              {"metadata", md},
              {"items", items}};
}

Json OutputDoc(const Output& o) {
  return o.is_list ? ListDoc(o) : o.resource.doc();
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

}  // namespace

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

int RunCreate(std::span<const std::string> args, Context& ctx) {
  return CreateApplyValidate(args, ctx, "create");
}
int RunApply(std::span<const std::string> args, Context& ctx) {
  return CreateApplyValidate(args, ctx, "apply");
}
int RunValidate(std::span<const std::string> args, Context& ctx) {
  return CreateApplyValidate(args, ctx, "validate");
}

int RunReplace(std::span<const std::string> argv, Context& ctx) {
  FlagSet fs;
  AddCrudFlags(fs);
  AddGlobalFlags(fs);
  if (int rc = ParseOrFail(fs, argv, ctx, "Usage:\n  calicoctl replace [flags]"); rc >= 0)
    return rc;
  Args args = CommonArgs(fs, Action::kUpdate);
  bool client_failed = false;
  CommandResults results = ExecuteConfigCommand(args, ctx, client_failed);
  if (client_failed) return 1;
  const std::string err = results.err.value_or("<nil>");
  if (results.file_invalid) return Fail(ctx, fmt::format("failed to execute command: {}", err));
  if (results.num_resources == 0) {
    if (results.err) return Fail(ctx, *results.err);
    ctx.out << "No resources specified\n";
    return 0;
  }
  if (results.num_handled == 0) {
    if (results.num_resources == 1) {
      return Fail(ctx,
                  fmt::format("failed to replace '{}' resource: {}", results.single_kind, err));
    }
    if (!results.single_kind.empty()) {
      return Fail(
          ctx, fmt::format("failed to replace any '{}' resources: {}", results.single_kind, err));
    }
    return Fail(ctx, fmt::format("failed to replace any resources: {}", err));
  }
  if (!results.err) {
    if (!results.single_kind.empty()) {
      ctx.out << fmt::format("Successfully replaced {} '{}' resource(s)\n", results.num_handled,
                             results.single_kind);
    } else {
      ctx.out << fmt::format("Successfully replaced {} resource(s)\n", results.num_handled);
    }
    return 0;
  }
  ctx.out << "Partial success: ";
  if (!results.single_kind.empty()) {
    ctx.out << fmt::format("replaced the first {} out of {} '{}' resources:\n", results.num_handled,
                           results.num_resources, results.single_kind);
  } else {
    ctx.out << fmt::format("replaced the first {} out of {} resources:\n", results.num_handled,
                           results.num_resources);
  }
  return Fail(ctx, fmt::format("hit error: {}", err));
}

int RunDelete(std::span<const std::string> argv, Context& ctx) {
  FlagSet fs;
  AddCrudFlags(fs);
  fs.AddBool("skip-not-exists", 's', "Skip over resources that do not exist.");
  AddGlobalFlags(fs);
  if (int rc = ParseOrFail(fs, argv, ctx, "Usage:\n  calicoctl delete [KIND [NAME...]] [flags]");
      rc >= 0) {
    return rc;
  }
  Args args = CommonArgs(fs, Action::kDelete);
  args.skip_not_exists = fs.GetBool("skip-not-exists");
  bool client_failed = false;
  CommandResults results = ExecuteConfigCommand(args, ctx, client_failed);
  if (client_failed) return 1;
  if (results.file_invalid) {
    return Fail(ctx, fmt::format("failed to execute command: {}", *results.err));
  }
  if (results.num_resources == 0) {
    if (results.err) return Fail(ctx, *results.err);
    ctx.out << "No resources specified\n";
    return 0;
  }
  if (!results.err && results.num_handled > 0) {
    if (!results.single_kind.empty()) {
      ctx.out << fmt::format("Successfully deleted {} '{}' resource(s)\n", results.num_handled,
                             results.single_kind);
    } else {
      ctx.out << fmt::format("Successfully deleted {} resource(s)\n", results.num_handled);
    }
  } else if (results.err) {
    return Fail(ctx, fmt::format("hit error: {}", *results.err));
  }
  if (!results.res_errs.empty()) {
    std::string msg;
    for (const auto& e : results.res_errs) {
      msg += results.single_kind.empty()
                 ? fmt::format("Failed to delete resource: {}\n", e)
                 : fmt::format("Failed to delete '{}' resource: {}\n", results.single_kind, e);
    }
    ctx.err << MassageError(msg) << "\n";
    return 1;
  }
  return 0;
}

int RunGet(std::span<const std::string> argv, Context& ctx) {
  FlagSet fs;
  AddCrudFlags(fs);
  fs.AddString("output", 'o', "ps", "Output format: yaml, json, ps, wide, custom-columns=...");
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
  Args args = CommonArgs(fs, Action::kGetOrList);
  args.all_namespaces = fs.GetBool("all-namespaces") || fs.GetBool("all-namespaces-a");
  args.export_ = fs.GetBool("export");
  args.selector = fs.GetString("selector");
  const std::string output = fs.GetString("output");
  const bool print_namespace = args.all_namespaces || !args.namespace_.empty();

  // buildResourcePrinter.
  enum class Format { kYaml, kJson, kTable } format = Format::kTable;
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
    } else if (key == "go-template" || key == "go-template-file") {
      return Fail(ctx, fmt::format("output format '{}' is not supported by this calicoctl", key));
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

  bool client_failed = false;
  CommandResults results = ExecuteConfigCommand(args, ctx, client_failed);
  if (client_failed) return 1;
  if (results.file_invalid) {
    return Fail(ctx, fmt::format("failed to execute command: {}", *results.err));
  }
  if (results.err) return Fail(ctx, fmt::format("failed to get resources: {}", *results.err));

  if (format == Format::kTable) {
    table.global_as_number = [client = results.client, cached = std::string()]() mutable {
      if (cached.empty()) cached = GlobalAsNumber(client);
      return cached;
    };
    for (const auto& o : results.resources) {
      std::vector<Resource> items = o.is_list ? o.items : std::vector<Resource>{o.resource};
      auto text = RenderTable(o.kind, items, table);
      if (!text) return Fail(ctx, text.error().message());
      ctx.out << *text;
    }
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

int RunPatch(std::span<const std::string> argv, Context& ctx) {
  FlagSet fs;
  AddConfigFlag(fs);
  fs.AddString("namespace", 'n', "", "Namespace of the resource.");
  fs.AddString("patch", 'p', "", "Spec to use to patch the resource.");
  fs.AddString("type", 't', "strategic", "Format of patch type: strategic, json, or merge.");
  AddGlobalFlags(fs);
  if (int rc = ParseOrFail(fs, argv, ctx, "Usage:\n  calicoctl patch KIND NAME [flags]"); rc >= 0) {
    return rc;
  }
  if (fs.positionals().size() != 2) {
    return Fail(ctx, fmt::format("accepts 2 arg(s), received {}", fs.positionals().size()));
  }
  Args args = CommonArgs(fs, Action::kPatch);
  args.patch = fs.GetString("patch");
  args.patch_type = fs.GetString("type");
  if (args.patch_type != "strategic" && args.patch_type != "merge" && args.patch_type != "json") {
    return Fail(ctx, fmt::format("unknown patch type {}", args.patch_type));
  }
  bool client_failed = false;
  CommandResults results = ExecuteConfigCommand(args, ctx, client_failed);
  if (client_failed) return 1;
  if (results.num_resources == 0) {
    return Fail(ctx, results.err.value_or("no resources specified"));
  }
  if (!results.err && results.num_handled > 0) {
    ctx.out << fmt::format("Successfully patched {} '{}' resource\n", results.num_handled,
                           results.single_kind);
    return 0;
  }
  return Fail(ctx, fmt::format("hit error: {}", results.err.value_or("<nil>")));
}

int RunLabel(std::span<const std::string> argv, Context& ctx) {
  FlagSet fs;
  AddConfigFlag(fs);
  fs.AddString("namespace", 'n', "", "Namespace of the resource.");
  fs.AddBool("overwrite", 0, "Overwrite the value when the key is already present in labels.");
  fs.AddBool("remove", 0, "Remove the specified key from labels.");
  AddGlobalFlags(fs);
  if (int rc = ParseOrFail(fs, argv, ctx,
                           "Usage:\n  calicoctl label KIND NAME [key=value | key] [flags]");
      rc >= 0) {
    return rc;
  }
  const auto& pos = fs.positionals();
  if (pos.size() < 3) {
    return Fail(ctx, fmt::format("requires at least 3 arg(s), only received {}", pos.size()));
  }
  const std::string& kind = pos[0];
  const std::string& name = pos[1];
  const std::string& label_arg = pos[2];
  const bool overwrite = fs.GetBool("overwrite");
  const bool remove = fs.GetBool("remove");
  std::string key;
  std::string value;
  if (remove) {
    key = label_arg;
  } else {
    const size_t eq = label_arg.find('=');
    if (eq == std::string::npos) return Fail(ctx, fmt::format("invalid label {}", label_arg));
    key = label_arg.substr(0, eq);
    value = label_arg.substr(eq + 1);
  }
  Args args = CommonArgs(fs, Action::kGetOrList);
  args.kind = kind;
  args.names = {name};
  bool client_failed = false;
  CommandResults results = ExecuteConfigCommand(args, ctx, client_failed);
  if (client_failed) return 1;
  if (results.file_invalid) {
    return Fail(ctx, fmt::format("failed to execute command: {}", *results.err));
  }
  if (results.err) {
    return Fail(ctx, fmt::format("failed to get {} {}, error {}", kind, name, *results.err));
  }
  if (!results.res_errs.empty()) {
    // Go's label command ignores ResErrs and then finds no resource.
    return Fail(ctx, fmt::format("{} {} not found", kind, name));
  }
  if (results.resources.empty()) return Fail(ctx, fmt::format("{} {} not found", kind, name));
  Resource resource = results.resources[0].resource;
  Json& md = resource.metadata();
  if (!md.contains("labels") || !md["labels"].is_object()) md["labels"] = Json::object();
  Json& labels = md["labels"];
  bool overwritten = false;
  if (remove) {
    if (!labels.contains(key)) {
      return Fail(
          ctx, fmt::format("cannot remove label of {} {}, key {} does not exist", kind, name, key));
    }
    labels.erase(key);
  } else if (labels.contains(key)) {
    if (overwrite || (labels[key].is_string() && labels[key].get<std::string>() == value)) {
      labels[key] = value;
      overwritten = true;
    } else {
      return Fail(ctx, fmt::format("failed to update label of {} {}, key {} is already present. "
                                   "please use '--overwrite' to set a new value",
                                   kind, name, key));
    }
  } else {
    labels[key] = value;
  }
  if (labels.empty()) md.erase("labels");
  Args update_args = args;
  update_args.action = Action::kUpdate;
  auto updated = ExecuteResourceAction(update_args, results.client, resource, ctx);
  if (!updated) {
    // Upstream stops at "label not changed"; the validator's reason says what to fix.
    return Fail(ctx, fmt::format("failed to update {} {}, label not changed: {}", kind, name,
                                 updated.error().message()));
  }
  if (remove) {
    ctx.out << fmt::format("Successfully removed label {} from {} {}\n", key, kind, name);
  } else if (overwritten) {
    ctx.out << fmt::format("Successfully updated label {} on {} {}\n", key, kind, name);
  } else {
    ctx.out << fmt::format("Successfully set label {} on {} {}\n", key, kind, name);
  }
  return 0;
}

int RunVersion(std::span<const std::string> argv, Context& ctx) {
  FlagSet fs;
  AddConfigFlag(fs);
  fs.AddBool("client", 0, "Display only the client version.");
  fs.AddString("poll", 0, "",
               "Poll for changes to the cluster information at a frequency "
               "specified using POLL duration (e.g. 1s, 10m, 2h etc.). A value of "
               "0 (the default) disables polling.");
  AddGlobalFlags(fs);
  if (int rc = ParseOrFail(fs, argv, ctx, "Usage:\n  calicoctl version [flags]"); rc >= 0)
    return rc;
  if (!fs.GetString("poll").empty() && fs.GetString("poll") != "0") {
    return Fail(ctx, fmt::format("invalid poll duration specified: {}", fs.GetString("poll")));
  }
  log::SetAllLevels(fs.GetString("log-level"));
  ctx.out << "Client Version:    " << ctx.build.version << "\n";
  ctx.out << "Git commit:        " << ctx.build.git_commit << "\n";
  if (fs.GetBool("client")) return 0;
  ClientOptions opts{.config_path = fs.GetString("config"),
                     .config_path_set = fs.Changed("config")};
  if (!ctx.open_client) {
    ctx.out << "Unable to detect installed Calico version\n";
    return 0;
  }
  auto client = ctx.open_client(opts);
  if (!client) {
    ctx.out << "Unable to detect installed Calico version\n";
    return 0;
  }
  auto ci = (*client)->Get("ClusterInformation", "", "default");
  if (!ci) {
    return Fail(
        ctx, fmt::format("unable to retrieve Cluster Version or Type: {}", ci.error().message()));
  }
  std::string v = ci->spec().value("calicoVersion", std::string());
  std::string t = ci->spec().value("clusterType", std::string());
  ctx.out << "Cluster Version:   " << (v.empty() ? "unknown" : v) << "\n";
  ctx.out << "Cluster Type:      " << (t.empty() ? "unknown" : t) << "\n";
  return 0;
}

}  // namespace calico::ctl
