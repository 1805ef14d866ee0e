// The kernel checks of `calicoctl node checksystem` (calicoctl/calicoctl/commands/node/
// checksystem.go moduleAvailable, findBootFile, checkModule): a module counts as present when it
// is loaded or built in (/sys/module/<name>), loadable or built in by the module lists
// (/lib/modules/<release>/modules.dep, modules.builtin, also compressed .ko.* names), or when the
// kernel's configuration sets one of its CONFIG_ options to y or m. The configuration is
// --kernel-config FILE, else the first of /proc/config.gz (the running kernel's), upstream's
// /usr/src/linux/.config, /boot/config-<release>, /usr/src/linux-<release>/.config,
// /usr/src/linux-headers-<release>/.config and /lib/modules/<release>/build/.config.
//
// Thread-safety: pure functions over the files they are given.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"

namespace calico::ctl {

struct KernelModuleCheck {
  std::string name;
  std::vector<std::string> config_options;  // any set to y or m counts
  bool required = true;
  std::string why;  // shown when an optional module is missing
};

// What the checks read. Tests point these at their own files.
struct KernelSources {
  std::string sys_module_dir = "/sys/module";
  std::string modules_dir;  // /lib/modules/<release>
  std::string config_text;  // the kernel configuration; "" when none was found
};

// The modules calico-node needs (nftables dataplane, veths) and the optional ones.
const std::vector<KernelModuleCheck>& CalicoKernelModules();

// The kernel configuration file to read by default for `release` ("" when there is none).
std::string FindKernelConfig(std::string_view release);

// The text of a kernel configuration file, gunzipped when it is gzip-compressed (/proc/config.gz).
// Errors: kNotFound / kInvalidArgument naming the file.
[[nodiscard]] Result<std::string> ReadKernelConfig(const std::string& path);

bool KernelModuleAvailable(const KernelModuleCheck& module, const KernelSources& sources);

}  // namespace calico::ctl
