// Helpers shared by ipam.cc and release.cc (not part of the library's interface).
#pragma once

#include <string>

#include "calico/base/result.h"
#include "calico/datastore/keys.h"
#include "calico/net/ip.h"

namespace calico::ipam::internal {

// Compare-and-swap attempts on one key before an operation gives up (Exhausted).
inline constexpr int kMaxRetries = 100;

inline std::string BlockKey(const net::CIDR& cidr) {
  return datastore::BlockKey{.cidr = cidr}.Format();
}

// A compare-and-swap (or transaction) that failed because a key it read has changed since:
// read again and recompute.
inline bool Retryable(const Error& e) {
  return e.code() == ErrorCode::kConflict || e.code() == ErrorCode::kAlreadyExists ||
         e.code() == ErrorCode::kNotFound;
}

inline tl::unexpected<Error> Exhausted(const std::string& what) {
  return Unavailable(what + ": too many concurrent updates, giving up");
}

}  // namespace calico::ipam::internal
