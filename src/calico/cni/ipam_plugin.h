// The calico-ipam CNI plugin (cni-plugin/pkg/ipamplugin): ADD assigns from Calico IPAM under the
// handle "<network>.<containerID>" (CNI_ARGS IP=... for fixed addresses), DEL releases the
// handle (idempotent), CHECK verifies the handle still holds addresses, VERSION lists versions.
//
// Thread-safety: one invocation per process, as CNI runs plugins.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <string_view>

namespace calico::cni {

// Runs one invocation; prints the result or a CNI error object on `out`; returns the exit code.
int RunIpamPlugin(const std::map<std::string, std::string>& env, std::string_view stdin_text,
                  std::ostream& out, std::ostream& err);

}  // namespace calico::cni
