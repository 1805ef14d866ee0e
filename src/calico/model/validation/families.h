// Per-kind defaulting and validation, split into two families so they can be built separately.
// model::ApplyDefaultsAndValidate (validate.h) checks the envelope and metadata (apiVersion, kind,
// names, labels, annotations) and then calls these for the spec.
//
//   policy family (policy_family.cc): NetworkPolicy, GlobalNetworkPolicy, StagedNetworkPolicy,
//     StagedGlobalNetworkPolicy, StagedKubernetesNetworkPolicy, Tier, Profile, WorkloadEndpoint,
//     HostEndpoint, NetworkSet, GlobalNetworkSet.
//   infra family (infra_family.cc): IPPool, IPReservation, IPAMConfiguration, Node, BGPPeer,
//     BGPConfiguration, BGPFilter, FelixConfiguration, ClusterInformation,
//     KubeControllersConfiguration, CalicoNodeStatus.
//   kubernetes family (kubernetes_family.cc): networking.k8s.io/v1 NetworkPolicy, v1 Namespace,
//     policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy and BaselineAdminNetworkPolicy, with
//     the Kubernetes API server's defaults and validation.
//
// Each function returns false when the kind is not in its family (and does nothing then).
// Defaults are applied as Calico's client does before validation; Validate* report every problem
// (unknown fields, wrong types, schema and CEL rules, Go validator rules) into `errors` with the
// field path (spec.ingress[0].protocol) and Calico's reason text.
//
// Thread-safety: pure functions.
#pragma once

#include "calico/model/field_errors.h"
#include "calico/model/resource.h"

namespace calico::model::validation {

bool DefaultPolicyFamily(Resource& r);
bool ValidatePolicyFamily(const Resource& r, FieldErrors& errors);

bool DefaultInfraFamily(Resource& r);
bool ValidateInfraFamily(const Resource& r, FieldErrors& errors);

bool DefaultKubernetesFamily(Resource& r);
bool ValidateKubernetesFamily(const Resource& r, FieldErrors& errors);

}  // namespace calico::model::validation
