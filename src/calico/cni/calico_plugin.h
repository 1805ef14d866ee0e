// The `calico` CNI plugin (cni-plugin/pkg/plugin, non-Kubernetes path, reference 1.6-1.14):
// ADD delegates addressing to the IPAM plugin (ipam.type on CNI_PATH), builds the veth plumbing
// (dataplane/workload_net.h), writes the WorkloadEndpoint and creates the network's profile on
// first use; DEL releases the addresses, deletes the endpoint and the interface; CHECK verifies
// that the endpoint, its interface and its addresses are all still there.
//
// Any failure in ADD undoes everything that ADD made (veth, routes, addresses, endpoint).
//
// Thread-safety: one invocation per process, as CNI runs plugins.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <string_view>

namespace calico::cni {

// Runs one invocation; prints the result or a CNI error object on `out`; returns the exit code.
int RunCalicoPlugin(const std::map<std::string, std::string>& env, std::string_view stdin_text,
                    std::ostream& out, std::ostream& err);

}  // namespace calico::cni
