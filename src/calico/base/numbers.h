// Checked number parsing: the whole text must be the number (Go's strconv.ParseInt, not C's
// atoi or std::stoll, which take "12abc" as 12 and throw on "abc").
//
//   ASSIGN_OR_RETURN(uint16_t port, ParseInt<uint16_t>(text));   // "65536" -> out of range
//
// Accepted: an optional '-' (signed types only) and digits of `base`; no blanks, no '+', no
// "0x" prefix. Errors are kInvalidArgument and quote the text:
//   invalid number "12abc"   |   number "70000" is out of range [0, 65535]
//
// Thread-safety: pure functions.
#pragma once

#include <charconv>
#include <concepts>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

#include "calico/base/result.h"

namespace calico {

namespace internal {
[[nodiscard]] Error InvalidNumber(std::string_view text);
[[nodiscard]] Error NumberOutOfRange(std::string_view text, std::string_view min,
                                     std::string_view max);
}  // namespace internal

template <std::integral T>
requires(!std::same_as<T, bool>) Result<T> ParseInt(std::string_view text, int base = 10) {
  T value{};
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (text.empty() || (std::is_unsigned_v<T> && text.front() == '-')) {
    return Unexpected(internal::InvalidNumber(text));
  }
  auto [ptr, ec] = std::from_chars(begin, end, value, base);
  if (ec == std::errc::result_out_of_range && ptr == end) {
    return Unexpected(internal::NumberOutOfRange(text,
                                                 std::to_string(std::numeric_limits<T>::min()),
                                                 std::to_string(std::numeric_limits<T>::max())));
  }
  if (ec != std::errc() || ptr != end) return Unexpected(internal::InvalidNumber(text));
  return value;
}

// ParseInt, then `min <= value <= max`.
template <std::integral T>
Result<T> ParseIntInRange(std::string_view text, T min, T max, int base = 10) {
  Result<T> v = ParseInt<T>(text, base);
  if (v && (*v < min || *v > max)) {
    return Unexpected(internal::NumberOutOfRange(text, std::to_string(min), std::to_string(max)));
  }
  return v;
}

// A decimal floating-point number ("1.5", "-2", "1e3"); no blanks, no hex, no inf/nan.
[[nodiscard]] Result<double> ParseDouble(std::string_view text);

}  // namespace calico
