// Defaulting and validation for the infra family of kinds (libcalico-go/lib/validator/v3,
// api/pkg/defaults, clientv3 IPPool defaulting, CRD schema and CEL rules).
#include "calico/model/validation/families.h"

namespace calico::model::validation {

bool DefaultInfraFamily(Resource& /*r*/) { return false; }

bool ValidateInfraFamily(const Resource& /*r*/, FieldErrors& /*errors*/) { return false; }

}  // namespace calico::model::validation
