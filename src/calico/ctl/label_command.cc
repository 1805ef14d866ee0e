// calicoctl label (calicoctl/calicoctl/commands/label_command.go): set, overwrite or remove one
// label of one resource through a get and an update.
#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/ctl/args.h"
#include "calico/ctl/ctl.h"
#include "calico/ctl/resource_command.h"
#include "calico/model/resource.h"

namespace calico::ctl {

using model::Json;
using model::Resource;

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
  ResourceArgs args = ResourceArgsFromFlags(fs, Action::kGetOrList);
  args.kind = kind;
  args.names = {name};
  CommandResults results = ExecuteConfigCommand(args, ctx);
  if (results.client_failed) return 1;
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
  ResourceArgs update_args = args;
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

}  // namespace calico::ctl
