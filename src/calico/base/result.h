// Error, Result<T> and Status: the error model of every library (libcalico-go/lib/errors).
//
// Result<T> holds either a T or an Error; Status is Result<void>. Errors carry a code and a
// message; Wrap() prepends context the way Go's fmt.Errorf("...: %w") does, so messages read
// "add route 10.65.0.0/26: File exists".
//
// Result is a [[nodiscard]] class (like absl::StatusOr), so the compiler reports every ignored
// result, including those of virtual calls, which g++ 12 does not check for a [[nodiscard]]
// function. Discarding one on purpose takes a `(void)` and a comment saying why that is safe.
//
// The API is tl::expected's (and C++23 std::expected's), which Result wraps:
//
//   Result<int> Half(int x) {
//     if (x % 2 != 0) return InvalidArgument("odd number");   // or Unexpected(some_error)
//     return x / 2;
//   }
//   Result<int> r = Half(8);
//   if (!r) return Unexpected(std::move(r).error().Wrap("halving"));
//   use(*r, r.value(), r.value_or(0));
//   Half(8).and_then(Half).transform([](int q) { return q + 1; });
//   RETURN_IF_ERROR(status_expr);   ASSIGN_OR_RETURN(auto routes, nl.ListRoutes(254));
//
// It does not derive from tl::expected: tl's and_then() only accepts functions returning a
// tl::expected ("F must return an expected"), so a derived class would break it. Result's own
// and_then/or_else accept functions returning a Result or a tl::expected<U, Error>, and the
// monadic functions return Results, so chains stay checked.
//
// There is one way to make an error: the code helpers below (NotFound(msg), InvalidArgument(msg),
// ...) or Unexpected(error) for an Error in hand. Both convert to any Result.
//
// Thread-safety: values; no shared state.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
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
class Result;
using Status = Result<void>;

namespace internal {

// What a function passed to and_then/or_else may return: a Result or a tl::expected<U, Error>.
template <typename R>
struct ResultTraits {
  static constexpr bool kIsResult = false;
};
template <typename U>
struct ResultTraits<Result<U>> {
  static constexpr bool kIsResult = true;
  using Value = U;
};
template <typename U>
struct ResultTraits<tl::expected<U, Error>> {
  static constexpr bool kIsResult = true;
  using Value = U;
};

template <typename T>
inline constexpr bool kIsCalicoResult = false;
template <typename U>
inline constexpr bool kIsCalicoResult<Result<U>> = true;

// The result of calling f with the value of a Result of T (none for void), as `Self` passes it.
template <typename F, typename Self, typename T>
struct InvokeWithValue {
  using Type = std::invoke_result_t<F, decltype(*std::declval<Self>())>;
};
template <typename F, typename Self>
struct InvokeWithValue<F, Self, void> {
  using Type = std::invoke_result_t<F>;
};

}  // namespace internal

template <typename T>
class [[nodiscard]] Result {
  using Impl = tl::expected<T, Error>;
  // The default argument of the converting constructor, so `return {a, b};` builds a T in place
  // as it does for tl::expected. For Status there is no value to build.
  using DefaultArg = std::conditional_t<std::is_void_v<T>, tl::unexpected<Error>, T>;

 public:
  using value_type = T;
  using error_type = Error;
  using unexpected_type = tl::unexpected<Error>;
  template <typename U>
  using rebind = Result<U>;

  // A value-initialised T; for Status, success.
  constexpr Result() = default;

  // From a value of T (or anything T converts from), from tl::unexpected<Error> (what
  // Unexpected() and NotFound() etc. return), and from tl::expected<U, Error>.
  template <typename U = DefaultArg,
            typename = std::enable_if_t<std::is_constructible_v<Impl, U&&> &&
                                        !internal::kIsCalicoResult<std::remove_cvref_t<U>> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, std::in_place_t> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, tl::unexpect_t>>>
  constexpr explicit(!std::is_convertible_v<U&&, Impl>) Result(U&& v)  // NOLINT
      : impl_(std::forward<U>(v)) {}

  // From a Result of another type whose value converts to T.
  template <typename U,
            typename = std::enable_if_t<!std::is_same_v<U, T> &&
                                        std::is_constructible_v<Impl, tl::expected<U, Error>>>>
  constexpr explicit(!std::is_convertible_v<tl::expected<U, Error>, Impl>)
      Result(Result<U> other)  // NOLINT
      : impl_(std::move(other.impl_)) {}

  template <typename... Args>
  constexpr explicit Result(std::in_place_t, Args&&... args)
      : impl_(tl::in_place, std::forward<Args>(args)...) {}
  template <typename... Args>
  constexpr explicit Result(tl::unexpect_t, Args&&... args)
      : impl_(tl::unexpect, std::forward<Args>(args)...) {}

  // ---- observers ----
  constexpr bool has_value() const noexcept { return impl_.has_value(); }
  constexpr explicit operator bool() const noexcept { return impl_.has_value(); }

  // Precondition: has_value().
  constexpr decltype(auto) operator*() & { return *impl_; }
  constexpr decltype(auto) operator*() const& { return *impl_; }
  constexpr decltype(auto) operator*() && { return *std::move(impl_); }
  constexpr decltype(auto) operator*() const&& { return *std::move(impl_); }
  constexpr auto operator->() { return impl_.operator->(); }
  constexpr auto operator->() const { return impl_.operator->(); }

  // The value; throws tl::bad_expected_access<Error> when there is none (never let it cross a
  // module: check first).
  constexpr decltype(auto) value() & { return impl_.value(); }
  constexpr decltype(auto) value() const& { return impl_.value(); }
  constexpr decltype(auto) value() && { return std::move(impl_).value(); }
  constexpr decltype(auto) value() const&& { return std::move(impl_).value(); }

  // Precondition: !has_value().
  constexpr Error& error() & { return impl_.error(); }
  constexpr const Error& error() const& { return impl_.error(); }
  constexpr Error&& error() && { return std::move(impl_).error(); }
  constexpr const Error&& error() const&& { return std::move(impl_).error(); }

  template <typename U>
  constexpr T value_or(U&& fallback) const& {
    return impl_.value_or(std::forward<U>(fallback));
  }
  template <typename U>
  constexpr T value_or(U&& fallback) && {
    return std::move(impl_).value_or(std::forward<U>(fallback));
  }

  // ---- modifiers ----
  template <typename... Args>
  constexpr decltype(auto) emplace(Args&&... args) {
    return impl_.emplace(std::forward<Args>(args)...);
  }
  constexpr void swap(Result& other) noexcept(
      noexcept(std::declval<Impl&>().swap(std::declval<Impl&>()))) {
    impl_.swap(other.impl_);
  }

  // ---- monadic operations (C++23 std::expected) ----
  // and_then(f): f(value) (f() for Status) when there is a value, returning a Result<U> (or a
  // tl::expected<U, Error>); otherwise the error, as a Result<U>.
  template <typename F>
  constexpr auto and_then(F&& f) & {
    return AndThen(*this, std::forward<F>(f));
  }
  template <typename F>
  constexpr auto and_then(F&& f) const& {
    return AndThen(*this, std::forward<F>(f));
  }
  template <typename F>
  constexpr auto and_then(F&& f) && {
    return AndThen(std::move(*this), std::forward<F>(f));
  }
  template <typename F>
  constexpr auto and_then(F&& f) const&& {
    return AndThen(std::move(*this), std::forward<F>(f));
  }

  // transform(f): Result<U> holding f(value) (f() for Status; U may be void), or the error.
  template <typename F>
  constexpr auto transform(F&& f) & {
    return Transform(*this, std::forward<F>(f));
  }
  template <typename F>
  constexpr auto transform(F&& f) const& {
    return Transform(*this, std::forward<F>(f));
  }
  template <typename F>
  constexpr auto transform(F&& f) && {
    return Transform(std::move(*this), std::forward<F>(f));
  }
  template <typename F>
  constexpr auto transform(F&& f) const&& {
    return Transform(std::move(*this), std::forward<F>(f));
  }

  // or_else(f): the value, or f(error), which returns a Result<T> (recovering or replacing the
  // error) or void (an observer: the error is kept).
  template <typename F>
  constexpr Result or_else(F&& f) & {
    return OrElse(*this, std::forward<F>(f));
  }
  template <typename F>
  constexpr Result or_else(F&& f) const& {
    return OrElse(*this, std::forward<F>(f));
  }
  template <typename F>
  constexpr Result or_else(F&& f) && {
    return OrElse(std::move(*this), std::forward<F>(f));
  }
  template <typename F>
  constexpr Result or_else(F&& f) const&& {
    return OrElse(std::move(*this), std::forward<F>(f));
  }

  // map_error(f): the value, or f(error) as the error:
  //   r.map_error([](Error e) { return std::move(e).Wrap("load pools"); })
  template <typename F>
  constexpr Result map_error(F&& f) & {
    return MapError(*this, std::forward<F>(f));
  }
  template <typename F>
  constexpr Result map_error(F&& f) const& {
    return MapError(*this, std::forward<F>(f));
  }
  template <typename F>
  constexpr Result map_error(F&& f) && {
    return MapError(std::move(*this), std::forward<F>(f));
  }
  template <typename F>
  constexpr Result map_error(F&& f) const&& {
    return MapError(std::move(*this), std::forward<F>(f));
  }
  template <typename F>
  constexpr Result transform_error(F&& f) const& {
    return MapError(*this, std::forward<F>(f));
  }
  template <typename F>
  constexpr Result transform_error(F&& f) && {
    return MapError(std::move(*this), std::forward<F>(f));
  }

  // ---- comparisons ----
  // Equal when both hold equal values (or are both ok Statuses) or both hold equal errors.
  template <typename U>
  friend constexpr bool operator==(const Result& a, const Result<U>& b) {
    if (a.has_value() != b.has_value()) return false;
    if (!a.has_value()) return a.error() == b.error();
    if constexpr (std::is_void_v<T> || std::is_void_v<U>) {
      static_assert(std::is_void_v<T> && std::is_void_v<U>, "comparing Status with a Result");
      return true;
    } else {
      return *a == *b;
    }
  }
  template <typename U, typename = std::enable_if_t<!internal::kIsCalicoResult<U> &&
                                                    !std::is_same_v<U, tl::unexpected<Error>>>>
  friend constexpr bool operator==(const Result& a, const U& value) {
    return a.has_value() && *a == value;
  }
  friend constexpr bool operator==(const Result& a, const tl::unexpected<Error>& e) {
    return !a.has_value() && a.error() == e.value();
  }

 private:
  template <typename U>
  friend class Result;

  template <typename Self, typename F>
  static constexpr auto AndThen(Self&& self, F&& f) {
    using Ret = std::remove_cvref_t<typename internal::InvokeWithValue<F, Self, T>::Type>;
    static_assert(internal::ResultTraits<Ret>::kIsResult,
                  "and_then: the function must return a Result (or a tl::expected<U, Error>)");
    using Out = Result<typename internal::ResultTraits<Ret>::Value>;
    if (!self.has_value()) return Out(tl::unexpect, std::forward<Self>(self).error());
    if constexpr (std::is_void_v<T>) {
      return Out(std::invoke(std::forward<F>(f)));
    } else {
      return Out(std::invoke(std::forward<F>(f), *std::forward<Self>(self)));
    }
  }

  template <typename Self, typename F>
  static constexpr auto Transform(Self&& self, F&& f) {
    using U = std::remove_cv_t<typename internal::InvokeWithValue<F, Self, T>::Type>;
    using Out = Result<U>;
    if (!self.has_value()) return Out(tl::unexpect, std::forward<Self>(self).error());
    auto call = [&]() -> decltype(auto) {
      if constexpr (std::is_void_v<T>) {
        return std::invoke(std::forward<F>(f));
      } else {
        return std::invoke(std::forward<F>(f), *std::forward<Self>(self));
      }
    };
    if constexpr (std::is_void_v<U>) {
      call();
      return Out();
    } else {
      return Out(std::in_place, call());
    }
  }

  template <typename Self, typename F>
  static constexpr Result OrElse(Self&& self, F&& f) {
    using Ret =
        std::remove_cvref_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).error())>>;
    if (self.has_value()) return Result(std::forward<Self>(self));
    if constexpr (std::is_void_v<Ret>) {
      std::invoke(std::forward<F>(f), std::as_const(self).error());
      return Result(std::forward<Self>(self));
    } else {
      static_assert(internal::ResultTraits<Ret>::kIsResult &&
                        std::is_same_v<typename internal::ResultTraits<Ret>::Value, T>,
                    "or_else: the function must return void or a Result of the same type");
      return Result(std::invoke(std::forward<F>(f), std::forward<Self>(self).error()));
    }
  }

  template <typename Self, typename F>
  static constexpr Result MapError(Self&& self, F&& f) {
    using G =
        std::remove_cvref_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).error())>>;
    static_assert(std::is_same_v<G, Error>, "map_error: the function must return an Error");
    if (self.has_value()) return Result(std::forward<Self>(self));
    return Result(tl::unexpect, std::invoke(std::forward<F>(f), std::forward<Self>(self).error()));
  }

  Impl impl_;
};

// The one way to return an Error in hand (converts to any Result).
inline tl::unexpected<Error> Unexpected(Error err) {
  return tl::unexpected<Error>(std::move(err));
}
inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return Unexpected(Error(code, std::move(message)));
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

inline Status OkStatus() {
  return {};
}

}  // namespace calico

#define CALICO_CONCAT_INNER_(a, b) a##b
#define CALICO_CONCAT_(a, b) CALICO_CONCAT_INNER_(a, b)

// Returns the error of `expr` (a Status or Result) from the enclosing function.
#define RETURN_IF_ERROR(expr)                                                 \
  do {                                                                        \
    auto&& calico_status_ = (expr);                                           \
    if (!calico_status_) return ::calico::Unexpected(calico_status_.error()); \
  } while (false)

// ASSIGN_OR_RETURN(auto routes, nl.ListRoutes(254));
// `lhs` is a declaration, so it cannot be parenthesised; `*std::move(tmp)` moves the value out
// without a std::move of a (possibly trivially copyable) value.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CALICO_CONCAT_(calico_result_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)                   \
  auto tmp = (expr);                                             \
  if (!tmp) return ::calico::Unexpected(std::move(tmp).error()); \
  lhs = *std::move(tmp)
// NOLINTEND(bugprone-macro-parentheses)

// Always-on invariant check for "should never happen" conditions.
#define CALICO_CHECK(cond)                                                   \
  do {                                                                       \
    if (!(cond)) ::calico::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (false)

namespace calico::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}  // namespace calico::internal
