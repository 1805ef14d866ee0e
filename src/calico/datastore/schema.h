// The datastore's schema record: which layout of data the calico-cpp binaries that wrote this
// datastore use, so that a downgraded binary refuses to run against data it cannot read instead
// of misreading or overwriting it. Calico itself has no such record (its calicoctl compares
// ClusterInformation.spec.calicoVersion with its own version:
// calicoctl/calicoctl/commands/common/version_mismatch.go); the record lives outside Calico's keys
// so that a Calico cluster's data and `calicoctl datastore migrate` exports stay exactly as
// Calico writes them:
//
//   /calico/calico-cpp/schema = {"schema": 1, "minReaderSchema": 1, "writtenBy": "calico-cpp
//   0.1.0"}
//
//   schema           the layout the writer used (kSchemaVersion of the newest binary that ran)
//   minReaderSchema  the oldest layout whose readers can still use this data. A change that old
//                    binaries read correctly (new optional fields, new keys they ignore) raises
//                    `schema` only: the data stays forward-compatible. A change they would
//                    misread raises both, and binaries below minReaderSchema refuse to start.
//
// A binary reading schema S: no record (fresh store, or data Calico wrote) -> fine, the record is
// written on initialisation; minReaderSchema <= S -> fine (an older record is raised to S);
// minReaderSchema > S -> kUnsupported naming both versions. The key is under /calico/ so that
// Calico's clean-up (`etcdctl del --prefix /calico`) removes it too; the agent and `datastore
// migrate` read only /calico/resources/ and /calico/ipam/ and never see it.
//
// Thread-safety: as the Backend (the record is written with compare-and-swap).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"

namespace calico::datastore {

inline constexpr std::string_view kSchemaKey = "/calico/calico-cpp/schema";
// The layout this build reads and writes.
inline constexpr int kSchemaVersion = 1;
// What this build's data requires of a reader (raised only by incompatible layout changes).
inline constexpr int kMinReaderSchema = 1;

// "calico-cpp <version of this build>": the writtenBy of the records this build writes.
const char* ThisBuild();

struct SchemaRecord {
  int schema = 0;
  int min_reader_schema = 0;
  std::string written_by{};  // "calico-cpp 0.1.0": the binary that last raised the record.
  bool operator==(const SchemaRecord&) const = default;
};

// The record, or nullopt when the store has none. Errors: kInvalidArgument (not a schema record:
// the key and the problem), the backend's errors.
[[nodiscard]] Result<std::optional<SchemaRecord>> ReadSchema(Backend& backend);

// Whether a binary reading `reader_schema` may use this store. `program` names the binary in the
// message ("calico-node 0.1.0"). Errors: kUnsupported when the data needs a newer binary
// ("refusing to use the datastore (...): ..."), ReadSchema's errors.
[[nodiscard]] Status CheckSchema(Backend& backend, std::string_view program,
                                 int reader_schema = kSchemaVersion);

// CheckSchema, then records this build's schema when the store has no record or an older one
// (never lowers a newer record). `written_by` is stored as the record's writtenBy. Idempotent;
// concurrent writers settle on the highest schema. Errors: CheckSchema's, the backend's.
[[nodiscard]] Status EnsureSchema(Backend& backend, std::string_view written_by,
                                  int schema = kSchemaVersion,
                                  int min_reader_schema = kMinReaderSchema);

}  // namespace calico::datastore
