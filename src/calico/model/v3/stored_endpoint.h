// The agent's fast path for the one kind it reads 100k of at Felix's design point: a stored
// WorkloadEndpoint value (the JSON Calico writes at
// /calico/resources/v3/projectcalico.org/workloadendpoints/<namespace>/<name>) read straight into
// the typed struct, with what model::Validate checks for the kind checked on the way, in one pass
// and without a model::Json tree (Felix decodes each KV once into its typed model in
// libcalico-go/lib/backend/etcdv3 and validates it in felix/calc/validation_filter.go).
//
//   value ──ReadValidStoredWorkloadEndpoint──▶ WorkloadEndpoint          (the common shape)
//         └─ nullopt ──▶ datastore::DecodeStoredResource + model::Validate + DecodeWorkloadEndpoint
//                         (the reference path: the same struct, or the exact error)
//
// It reads the shape Calico's writers produce (calico-cni, calicoctl, this project's client):
// envelope apiVersion/kind/metadata/spec; metadata name, namespace, labels, annotations,
// resourceVersion, uid, creationTimestamp; spec orchestrator, workload, node, containerID, pod,
// endpoint, serviceAccountName, ipNetworks, profiles, interfaceName, mac and ports (name,
// protocol TCP/UDP/SCTP, port). Anything else gives nullopt: another field (ipNATs, gateways,
// hostPort, status, ...), a null, a string with an escape or a non-ASCII byte, a repeated key, a
// number that is not a plain integer, the policy-name annotation, a value over the stored-value
// limit, and every value model::Validate would refuse. So it may send a valid value to the
// reference path, never accept one that path refuses, and what it returns equals what that path
// decodes (stored_endpoint_test.cc checks both, also on mutated values).
//
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "calico/model/v3/endpoint.h"

namespace calico::model::v3 {

// The value as DecodeWorkloadEndpoint would return it after datastore::DecodeStoredResource
// (resourceVersion = mod_revision) and a passing model::Validate; nullopt: take that path.
std::optional<WorkloadEndpoint> ReadValidStoredWorkloadEndpoint(std::string_view value,
                                                                int64_t mod_revision);

}  // namespace calico::model::v3
