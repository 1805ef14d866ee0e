// Validation entry point (libcalico-go/lib/validator/v3 + api/pkg/defaults + CRD schema/CEL).
//
// ApplyDefaults fills in what Calico's client fills in (policy types, tier label, IPPool block size
// and modes, Tier order, ...). Validate checks the envelope (apiVersion, kind, metadata: name rules
// per kind, namespace present exactly for namespaced kinds, labels, annotations and their 256 KiB
// limit, server-set fields) and then the spec through the kind's family (validation/families.h).
//
// Thread-safety: pure functions.
#pragma once

#include "calico/base/result.h"
#include "calico/model/field_errors.h"
#include "calico/model/resource.h"

namespace calico::model {

void ApplyDefaults(Resource& r);
// Go encoding/json's case-insensitive field matching (decode.go object(): an exact match is
// preferred, then a case-insensitive one): renames every key of `r` that is not a field name but
// matches one ignoring case to the field's name (Order -> order, ICMP -> icmp, EXPORTV4 ->
// exportV4), in the envelope, metadata and the spec's nested structs (rules,
// entity rules, ports, BGP fields, ...). Map keys (labels, annotations, ...) are data and stay
// as written; unknown fields stay for Validate to refuse. When several keys name one field
// (`order` and `Order`) the one sorting last bytewise wins, as in Go, which sees the keys sorted
// (sigs.k8s.io/yaml hands it the YAML as a marshalled map) and lets each overwrite the field.
void CanonicalizeFieldNames(Resource& r);
// The metav1.Duration fields of `r` (BGPPeer keepaliveTime/maxRestartTime, BGPConfiguration
// nodeMeshMaxRestartTime, FelixConfiguration and KubeControllersConfiguration periods, ...) as
// Go marshals them, time.Duration.String(): "125s" -> "2m5s", "9910s" -> "2h45m10s". Texts that
// are not durations stay as written (Validate refuses them).
void FormatGoDurations(Resource& r);
// What calicoctl's strict decoder (sigs.k8s.io/yaml UnmarshalStrict into the typed resource)
// refuses before any validator runs, as Go words it: a bad metav1.Duration text (`error
// unmarshaling JSON: while decoding JSON: time: invalid duration "x"`, reported even when an
// unknown field comes first, as an Unmarshaler's error ends decoding), else a value of the wrong
// JSON type (`... json: cannot unmarshal string into Go struct field IPPoolSpec.spec.blockSize of
// type int`; the struct named is the top-level one), else the first unknown field (`... json:
// unknown field "x"`). Call after CanonicalizeFieldNames. OK otherwise (also
// when the envelope is invalid: Validate reports that).
[[nodiscard]] Status CheckStrictDecoding(const Resource& r);
// CanonicalizeFieldNames then CheckStrictDecoding, validating the document once less.
[[nodiscard]] Status CanonicalizeAndCheckStrictDecoding(Resource& r);
// kInvalidArgument with the FieldErrors text when anything is wrong.
[[nodiscard]] Status Validate(const Resource& r);
// ApplyDefaults then Validate.
[[nodiscard]] Status ApplyDefaultsAndValidate(Resource& r);

}  // namespace calico::model
