// Datastore migration (calicoctl datastore migrate export|import): moves everything Calico keeps
// under /calico/ from one Backend to another, e.g. from the embedded store to etcd.
//
// The export format is a YAML stream: one projectcalico.org/v3 document per resource (uid and
// creationTimestamp kept, resourceVersion dropped), then one `kind: IPAMData` document holding
// the IPAM keys (/calico/ipam/v2/...) with their JSON values verbatim.
//
// Thread-safety: as the Backends passed in.
#pragma once

#include <string>
#include <string_view>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"

namespace calico::datastore {

struct ImportSummary {
  int resources = 0;
  int ipam_keys = 0;
};

// Serialises every resource and IPAM key of `source`.
[[nodiscard]] Result<std::string> ExportDatastore(Backend& source);

// Parses an export and writes it into `target`. Every resource is validated first; nothing is
// written when any document is invalid. Existing keys are overwritten.
// Errors: kInvalidArgument naming the bad document.
[[nodiscard]] Result<ImportSummary> ImportDatastore(std::string_view text, Backend& target);

}  // namespace calico::datastore
