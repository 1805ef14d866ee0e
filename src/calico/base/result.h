// Error, Result<T> and Status: the error model of every library (libcalico-go/lib/errors).
//
// Result<T> is tl::expected<T, Error>; Status is Result<void>. Functions returning either are
// declared [[nodiscard]]. Errors carry a code and a message; Wrap() prepends context the way Go's
// fmt.Errorf("...: %w") does, so messages read "add route 10.65.0.0/26: File exists".
//
// Thread-safety: values; no shared state.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace calico {

enum class ErrorCode {
  kNotFound,
  kAlreadyExists,
  kConflict,
  kInvalidArgument,
  kUnavailable,
  kPermissionDenied,
  kInternal,
  kUnsupported,
};

std::string_view ErrorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  // An error from an errno value: "<what>: <strerror(err)>". EEXIST/ENOENT/EACCES/EPERM map to
  // kAlreadyExists/kNotFound/kPermissionDenied; everything else is kUnavailable.
  static Error FromErrno(int err, std::string_view what);

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns this error with "<context>: " prepended to the message; the code is kept.
  [[nodiscard]] Error Wrap(std::string_view context) &&;
  [[nodiscard]] Error Wrap(std::string_view context) const&;

  bool operator==(const Error&) const = default;

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}
inline tl::unexpected<Error> NotFound(std::string message) {
  return MakeError(ErrorCode::kNotFound, std::move(message));
}
inline tl::unexpected<Error> AlreadyExists(std::string message) {
  return MakeError(ErrorCode::kAlreadyExists, std::move(message));
}
inline tl::unexpected<Error> Conflict(std::string message) {
  return MakeError(ErrorCode::kConflict, std::move(message));
}
inline tl::unexpected<Error> InvalidArgument(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}
inline tl::unexpected<Error> Unavailable(std::string message) {
  return MakeError(ErrorCode::kUnavailable, std::move(message));
}
inline tl::unexpected<Error> Internal(std::string message) {
  return MakeError(ErrorCode::kInternal, std::move(message));
}
inline tl::unexpected<Error> Unexpected(Error err) {
  return tl::unexpected<Error>(std::move(err));
}

[[nodiscard]] inline Status OkStatus() {
  return {};
}

}  // namespace calico

#define CALICO_CONCAT_INNER_(a, b) a##b
#define CALICO_CONCAT_(a, b) CALICO_CONCAT_INNER_(a, b)

// Returns the error of `expr` (a Status or Result) from the enclosing function.
#define RETURN_IF_ERROR(expr)                                             \
  do {                                                                    \
    auto&& calico_status_ = (expr);                                       \
    if (!calico_status_) return ::tl::unexpected(calico_status_.error()); \
  } while (false)

// ASSIGN_OR_RETURN(auto routes, nl.ListRoutes(254));
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CALICO_CONCAT_(calico_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)               \
  auto tmp = (expr);                                         \
  if (!tmp) return ::tl::unexpected(std::move(tmp).error()); \
  lhs = std::move(*tmp)

// Always-on invariant check for "should never happen" conditions.
#define CALICO_CHECK(cond)                                                   \
  do {                                                                       \
    if (!(cond)) ::calico::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (false)

namespace calico::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}  // namespace calico::internal
