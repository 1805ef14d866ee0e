// Reading Docker's plugin requests (docker/go-plugins-helpers' request structs, decoded by hand so
// that a malformed request is an {"Err": ...} answer naming the field, never an exception).
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "calico/base/result.h"
#include "calico/libnetwork/driver.h"

namespace calico::libnetwork {

// A required, non-empty string field. Errors (kInvalidArgument): missing, not a string, empty.
[[nodiscard]] Result<std::string> Field(const Json& req, const char* name);
// An optional string field ("" when absent or null).
[[nodiscard]] Result<std::string> OptField(const Json& req, const char* name);
// An optional object field (empty object when absent or null).
[[nodiscard]] Result<Json> OptObject(const Json& req, const char* name);
// An optional list field (empty list when absent or null).
[[nodiscard]] Result<Json> OptArray(const Json& req, const char* name);
// A required Docker ID (network, endpoint): letters, digits, '-', '_' and '.' only, since it ends
// up in datastore keys and interface names.
[[nodiscard]] Result<std::string> IdField(const Json& req, const char* name);

}  // namespace calico::libnetwork
