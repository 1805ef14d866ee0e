// calicoctl create|apply|replace|validate|delete|patch (calicoctl/calicoctl/commands/
// crud_commands.go): their flags; ExecuteConfigCommand runs them and ReportResults prints the
// success, partial-success and failure messages with upstream's exit codes.
#include <fmt/format.h>

#include "calico/ctl/args.h"
#include "calico/ctl/ctl.h"
#include "calico/ctl/resource_command.h"
#include "calico/ctl/result_reporter.h"

namespace calico::ctl {
namespace {

// create, apply and validate take the same flags (create adds --skip-exists).
int CreateApplyValidate(std::span<const std::string> argv, Context& ctx, Action action) {
  const std::string_view verb = ActionVerb(action);
  FlagSet fs;
  AddCrudFlags(fs);
  if (action == Action::kCreate) {
    fs.AddBool("skip-exists", 0, "Skip over resources that already exist.");
  }
  AddGlobalFlags(fs);
  if (int rc = ParseOrFail(fs, argv, ctx, fmt::format("Usage:\n  calicoctl {} [flags]", verb));
      rc >= 0) {
    return rc;
  }
  ResourceArgs args = ResourceArgsFromFlags(fs, action);
  args.skip_exists = fs.GetBool("skip-exists");
  return ReportResults(action, ExecuteConfigCommand(args, ctx), ctx);
}

}  // namespace

int RunCreate(std::span<const std::string> args, Context& ctx) {
  return CreateApplyValidate(args, ctx, Action::kCreate);
}
int RunApply(std::span<const std::string> args, Context& ctx) {
  return CreateApplyValidate(args, ctx, Action::kApply);
}
int RunValidate(std::span<const std::string> args, Context& ctx) {
  return CreateApplyValidate(args, ctx, Action::kValidate);
}

int RunReplace(std::span<const std::string> argv, Context& ctx) {
  FlagSet fs;
  AddCrudFlags(fs);
  AddGlobalFlags(fs);
  if (int rc = ParseOrFail(fs, argv, ctx, "Usage:\n  calicoctl replace [flags]"); rc >= 0)
    return rc;
  ResourceArgs args = ResourceArgsFromFlags(fs, Action::kUpdate);
  return ReportResults(Action::kUpdate, ExecuteConfigCommand(args, ctx), ctx);
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
  return ReportResults(Action::kDelete, ExecuteConfigCommand(args, ctx), ctx);
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
  return ReportResults(Action::kPatch, ExecuteConfigCommand(args, ctx), ctx);
}

}  // namespace calico::ctl
