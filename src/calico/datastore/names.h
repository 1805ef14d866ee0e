// WorkloadEndpoint names (libcalico-go/lib/names/workloadendpoint.go, reference CNI 1.5):
// segments node, orchestrator, workload/pod/containerID, endpoint joined by '-', with '-' inside
// a segment escaped as "--".
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::datastore {

struct WorkloadEndpointIdentifiers {
  std::string node;
  std::string orchestrator;
  std::string workload;
  std::string pod;
  std::string container_id;
  std::string endpoint;
};

// The full name; errors (kInvalidArgument) when a required segment is missing or a segment starts
// or ends with '-'.
[[nodiscard]] Result<std::string> WorkloadEndpointName(const WorkloadEndpointIdentifiers& ids);
// The name prefix up to the first empty segment, ending in '-' ("node--1-cni-abc123-").
std::string WorkloadEndpointNamePrefix(const WorkloadEndpointIdentifiers& ids);

// Fills metadata.name from the spec when empty, otherwise checks that it matches the spec
// ("the WorkloadEndpoint name does not match the primary identifiers assigned in the Spec").
[[nodiscard]] Status CheckWorkloadEndpointName(model::Resource& wep);

}  // namespace calico::datastore
