// calicoctl create|apply|replace|validate|delete|patch (calicoctl/calicoctl/commands/
// crud_commands.go): their flags and the success, partial-success and failure messages and exit
// codes over common.ExecuteConfigCommand's results.
#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/ctl/args.h"
#include "calico/ctl/ctl.h"
#include "calico/ctl/resource_command.h"

namespace calico::ctl {
namespace {

std::string PastTense(std::string_view action) {
  if (action == "create") return "created";
  if (action == "apply") return "applied";
  if (action == "validate") return "validated";
  return std::string(action);
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
  ResourceArgs args = ResourceArgsFromFlags(fs, a);
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

}  // namespace

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
  ResourceArgs args = ResourceArgsFromFlags(fs, Action::kUpdate);
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
  ResourceArgs args = ResourceArgsFromFlags(fs, Action::kDelete);
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
  ResourceArgs args = ResourceArgsFromFlags(fs, Action::kPatch);
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

}  // namespace calico::ctl
