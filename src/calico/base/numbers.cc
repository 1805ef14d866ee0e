#include "calico/base/numbers.h"

#include <cmath>

namespace calico {
namespace internal {

Error InvalidNumber(std::string_view text) {
  return {ErrorCode::kInvalidArgument, "invalid number \"" + std::string(text) + "\""};
}

Error NumberOutOfRange(std::string_view text, std::string_view min, std::string_view max) {
  return {ErrorCode::kInvalidArgument, "number \"" + std::string(text) + "\" is out of range [" +
                                           std::string(min) + ", " + std::string(max) + "]"};
}

}  // namespace internal

Result<double> ParseDouble(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  if (text.empty() || text.front() == '+') return Unexpected(internal::InvalidNumber(text));
  auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::general);
  if (ec == std::errc::result_out_of_range && ptr == end) {
    return Unexpected(
        Error(ErrorCode::kInvalidArgument, "number \"" + std::string(text) + "\" is out of range"));
  }
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
    return Unexpected(internal::InvalidNumber(text));
  }
  return value;
}

}  // namespace calico
