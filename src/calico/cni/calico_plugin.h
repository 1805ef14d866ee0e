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
#include <vector>

#include "calico/base/result.h"

namespace calico::cni {

// The pod annotation naming the source prefixes a workload may send from besides its own
// addresses (WorkloadEndpoint spec.allowSpoofedSourcePrefixes; honoured by calico-node only with
// FelixConfiguration workloadSourceSpoofing: Any).
inline constexpr std::string_view kAllowedSourcePrefixesAnnotation =
    "cni.projectcalico.org/allowedSourcePrefixes";

// The annotation's value (a JSON list of CIDRs) as normalised CIDRs; none when absent or empty;
// an error naming the annotation and the bad value otherwise (the ADD fails, as upstream).
[[nodiscard]] Result<std::vector<std::string>> AllowedSourcePrefixes(
    const std::map<std::string, std::string>& annotations);

// Runs one invocation; prints the result or a CNI error object on `out`; returns the exit code.
int RunCalicoPlugin(const std::map<std::string, std::string>& env, std::string_view stdin_text,
                    std::ostream& out, std::ostream& err);

}  // namespace calico::cni
