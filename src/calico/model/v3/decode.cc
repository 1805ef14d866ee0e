// The JSON reader of the v3 decoders, see decode.h.
#include "calico/model/v3/decode.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace calico::model::v3 {

std::string Child(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return fmt::format("{}.{}", path, key);
}

std::string Index(std::string_view path, std::size_t i) {
  return fmt::format("{}[{}]", path, i);
}

tl::unexpected<Error> FieldError(std::string_view path, std::string_view reason) {
  if (path.empty()) return InvalidArgument(std::string(reason));
  return InvalidArgument(fmt::format("{}: {}", path, reason));
}

Status DecodeValue(const Json& j, std::string_view path, std::string& out) {
  if (!j.is_string()) return FieldError(path, "must be a string");
  out = j.get<std::string>();
  return OkStatus();
}

Status DecodeValue(const Json& j, std::string_view path, bool& out) {
  if (!j.is_boolean()) return FieldError(path, "must be a boolean");
  out = j.get<bool>();
  return OkStatus();
}

Status DecodeValue(const Json& j, std::string_view path, int64_t& out) {
  if (j.is_number_unsigned()) {
    if (j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return FieldError(path, "integer out of range");
    }
    out = static_cast<int64_t>(j.get<uint64_t>());
    return OkStatus();
  }
  if (!j.is_number_integer()) return FieldError(path, "must be an integer");
  out = j.get<int64_t>();
  return OkStatus();
}

Status DecodeValue(const Json& j, std::string_view path, int32_t& out) {
  int64_t wide = 0;
  RETURN_IF_ERROR(DecodeValue(j, path, wide));
  if (wide < std::numeric_limits<int32_t>::min() || wide > std::numeric_limits<int32_t>::max()) {
    return FieldError(path, "integer out of range");
  }
  out = static_cast<int32_t>(wide);
  return OkStatus();
}

Status DecodeValue(const Json& j, std::string_view path, double& out) {
  if (!j.is_number()) return FieldError(path, "must be a number");
  out = j.get<double>();
  return OkStatus();
}

Status DecodeValue(const Json& j, std::string_view path, std::vector<std::string>& out) {
  return DecodeList(j, path, out, [](const Json& item, std::string_view p, std::string& s) {
    return DecodeValue(item, p, s);
  });
}

Status DecodeValue(const Json& j, std::string_view path, std::map<std::string, std::string>& out) {
  if (!j.is_object()) return FieldError(path, "must be an object");
  out.clear();
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) return FieldError(Child(path, key), "must be a string");
    out.emplace(key, value.get<std::string>());
  }
  return OkStatus();
}

Status CheckObject(const Json& j, std::string_view path) {
  if (!j.is_object()) return FieldError(path, "must be an object");
  return OkStatus();
}

Status CheckKnownFields(const Json& obj, std::string_view path,
                        std::initializer_list<std::string_view> known) {
  if (!obj.is_object()) return OkStatus();
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return FieldError(Child(path, key), "unknown field");
    }
  }
  return OkStatus();
}

}  // namespace calico::model::v3
