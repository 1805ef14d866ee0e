// The per-resource actions of the resource commands (calicoctl/calicoctl/resourcemgr/
// resourcemgr.go and commands/common/resources.go ExecuteResourceAction, handleNamespace): create,
// apply (create, else update), replace (update with Calico's metadata merge and conflict retries),
// delete, get/list (with --selector), patch and validate of one resource against the client.
//
// Thread-safety: as datastore::Client.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/ctl/ctl.h"
#include "calico/datastore/client.h"
#include "calico/model/resource.h"

namespace calico::ctl {

enum class Action { kApply, kCreate, kUpdate, kDelete, kGetOrList, kPatch, kValidate };

// The parsed arguments of one resource command (Go's args map).
struct ResourceArgs {
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

// What one action returned: a resource, or for a list query the <Kind>List.
struct ActionOutput {
  bool is_list = false;
  std::string kind;
  model::Resource resource;
  std::vector<model::Resource> items;
  std::string list_revision;
};

// handleNamespace: fills in or checks `r`'s namespace from -n / -A for the kind `info`.
// Errors (kInvalidArgument) carry calicoctl's messages.
[[nodiscard]] Status HandleNamespace(model::Resource& r, const model::KindInfo& info,
                                     const ResourceArgs& args);

// ExecuteResourceAction: `args.action` on `r` through `client` (unused for kValidate). An error
// that -skip-exists / --skip-not-exists covers is not an error (the output is `r`).
[[nodiscard]] Result<ActionOutput> ExecuteResourceAction(const ResourceArgs& args,
                                                         datastore::Client* client,
                                                         model::Resource r, Context& ctx);

}  // namespace calico::ctl
