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
// kInvalidArgument with the FieldErrors text when anything is wrong.
[[nodiscard]] Status Validate(const Resource& r);
// ApplyDefaults then Validate.
[[nodiscard]] Status ApplyDefaultsAndValidate(Resource& r);

}  // namespace calico::model
