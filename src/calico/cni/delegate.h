// Runs another CNI plugin (the IPAM plugin named by ipam.type) the way a runtime does: the binary
// found on CNI_PATH, the CNI_* environment, the network configuration on stdin (libcni's
// invoke.DelegateAdd / DelegateDel).
//
// Thread-safety: functions; each call forks one child.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "calico/base/result.h"
#include "calico/cni/cni.h"

namespace calico::cni {

// Looks `type` up in the colon-separated `cni_path`. kNotFound names the directories searched.
[[nodiscard]] Result<std::string> FindPlugin(std::string_view type, std::string_view cni_path);

// Runs plugin `type` with `env` (CNI_COMMAND replaced by `command`) and `stdin_text`. Returns its
// parsed stdout (an empty object when it printed nothing). A non-zero exit becomes an error
// carrying the plugin's own message ("calico-ipam: no configured Calico pools ...").
[[nodiscard]] Result<Json> DelegateInvoke(std::string_view type, std::string_view command,
                                          std::map<std::string, std::string> env,
                                          std::string_view stdin_text);

}  // namespace calico::cni
