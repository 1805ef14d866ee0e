// WorkloadEndpoint name derivation (libcalico-go/lib/names/workloadendpoint.go).
#include "calico/datastore/names.h"

#include <vector>

namespace calico::datastore {
namespace {

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '-') out += '-';
  }
  return out;
}

std::vector<std::pair<const char*, std::string>> Segments(const WorkloadEndpointIdentifiers& ids) {
  std::string third;
  const char* third_name = "workload";
  if (ids.orchestrator == "k8s") {
    third = ids.pod;
    third_name = "pod";
  } else if (ids.orchestrator == "cni") {
    third = ids.container_id;
    third_name = "containerID";
  } else if (ids.orchestrator == "libnetwork") {
    third = "libnetwork";
  } else {
    third = ids.workload;
  }
  return {{"node", ids.node},
          {"orchestrator", ids.orchestrator},
          {third_name, third},
          {"endpoint", ids.endpoint}};
}

}  // namespace

Result<std::string> WorkloadEndpointName(const WorkloadEndpointIdentifiers& ids) {
  std::string name;
  for (const auto& [field, value] : Segments(ids)) {
    if (value.empty()) {
      return InvalidArgument(std::string("error with field ") + field +
                             " = '' (field should be assigned)");
    }
    if (value.front() == '-' || value.back() == '-') {
      return InvalidArgument(std::string("error with field ") + field + " = '" + value +
                             "' (field must not begin/end with a '-')");
    }
    if (!name.empty()) name += '-';
    name += Escape(value);
  }
  return name;
}

std::string WorkloadEndpointNamePrefix(const WorkloadEndpointIdentifiers& ids) {
  std::string name;
  for (const auto& seg : Segments(ids)) {
    if (seg.second.empty()) break;
    name += Escape(seg.second);
    name += '-';
  }
  return name;
}

Status CheckWorkloadEndpointName(model::Resource& wep) {
  const model::Json& spec = wep.spec();
  WorkloadEndpointIdentifiers ids{
      .node = spec.value("node", ""),
      .orchestrator = spec.value("orchestrator", ""),
      .workload = spec.value("workload", ""),
      .pod = spec.value("pod", ""),
      .container_id = spec.value("containerID", ""),
      .endpoint = spec.value("endpoint", ""),
  };
  auto expected = WorkloadEndpointName(ids);
  if (wep.name().empty()) {
    if (!expected) return Unexpected(expected.error());
    wep.set_name(*expected);
    return OkStatus();
  }
  // Only enforce when the spec names the endpoint fully (as Calico's client does).
  if (expected && *expected != wep.name()) {
    return InvalidArgument(
        "error with field Metadata.Name = '" + wep.name() +
        "' (the WorkloadEndpoint name does not match the primary identifiers assigned in the "
        "Spec: expected name " +
        *expected + ")");
  }
  return OkStatus();
}

}  // namespace calico::datastore
