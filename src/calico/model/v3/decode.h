// The one JSON reader behind the v3 decoders (and anything else that turns a JSON document into a
// typed struct): each function reads one value with the Go type's JSON rules and names the field
// when the value has the wrong type.
//
//   IPPoolSpec spec;
//   RETURN_IF_ERROR(Field(json, "spec", "cidr", spec.cidr));           // string
//   RETURN_IF_ERROR(Field(json, "spec", "blockSize", spec.block_size)); // std::optional<int32_t>
//   RETURN_IF_ERROR(Field(json, "spec", "ingress", spec.ingress, DecodeRule));
//
// Absent and null fields leave `out` as it is (Go's zero value, or nullopt for pointers). Errors
// are kInvalidArgument "<path>: <reason>", e.g. "spec.blockSize: must be an integer".
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::model::v3 {

// "spec" + "cidr" -> "spec.cidr"; "" + "cidr" -> "cidr".
std::string Child(std::string_view path, std::string_view key);
// "spec.nets" + 0 -> "spec.nets[0]".
std::string Index(std::string_view path, std::size_t i);
// kInvalidArgument "<path>: <reason>" (just the reason when path is empty).
tl::unexpected<Error> FieldError(std::string_view path, std::string_view reason);

// Scalars and the plain containers of the API types.
[[nodiscard]] Status DecodeValue(const Json& j, std::string_view path, std::string& out);
[[nodiscard]] Status DecodeValue(const Json& j, std::string_view path, bool& out);
[[nodiscard]] Status DecodeValue(const Json& j, std::string_view path, int64_t& out);
[[nodiscard]] Status DecodeValue(const Json& j, std::string_view path, int32_t& out);
[[nodiscard]] Status DecodeValue(const Json& j, std::string_view path, double& out);
[[nodiscard]] Status DecodeValue(const Json& j, std::string_view path,
                                 std::vector<std::string>& out);
[[nodiscard]] Status DecodeValue(const Json& j, std::string_view path,
                                 std::map<std::string, std::string>& out);

template <typename T>
[[nodiscard]] Status DecodeValue(const Json& j, std::string_view path, std::optional<T>& out) {
  if (j.is_null()) {
    out.reset();
    return OkStatus();
  }
  T value{};
  RETURN_IF_ERROR(DecodeValue(j, path, value));
  out = std::move(value);
  return OkStatus();
}

// A list whose items `decode_one(item, item_path, T&)` reads.
template <typename T, typename F>
[[nodiscard]] Status DecodeList(const Json& j, std::string_view path, std::vector<T>& out,
                                F&& decode_one) {
  if (j.is_null()) return OkStatus();
  if (!j.is_array()) return FieldError(path, "must be a list");
  out.clear();
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    T item{};
    RETURN_IF_ERROR(decode_one(j[i], Index(path, i), item));
    out.push_back(std::move(item));
  }
  return OkStatus();
}

// obj[key] into `out` when present and not null; `obj` must be an object (or null).
template <typename T>
[[nodiscard]] Status Field(const Json& obj, std::string_view path, const char* key, T& out) {
  if (!obj.is_object()) return OkStatus();
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return OkStatus();
  return DecodeValue(*it, Child(path, key), out);
}

// The same for struct fields: `decode(value, path, T&)` reads the value.
template <typename T, typename F>
[[nodiscard]] Status Field(const Json& obj, std::string_view path, const char* key, T& out,
                           F&& decode) {
  if (!obj.is_object()) return OkStatus();
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return OkStatus();
  return decode(*it, Child(path, key), out);
}
template <typename T, typename F>
[[nodiscard]] Status Field(const Json& obj, std::string_view path, const char* key,
                           std::optional<T>& out, F&& decode) {
  if (!obj.is_object()) return OkStatus();
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return OkStatus();
  T value{};
  RETURN_IF_ERROR(decode(*it, Child(path, key), value));
  out = std::move(value);
  return OkStatus();
}
template <typename T, typename F>
[[nodiscard]] Status Field(const Json& obj, std::string_view path, const char* key,
                           std::vector<T>& out, F&& decode_one) {
  if (!obj.is_object()) return OkStatus();
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return OkStatus();
  return DecodeList(*it, Child(path, key), out, decode_one);
}

// `j` must be an object (kInvalidArgument "<path>: must be an object" otherwise).
[[nodiscard]] Status CheckObject(const Json& j, std::string_view path);
// Strict decoding: every key of `obj` is one of `known` ("<path>.<key>: unknown field").
[[nodiscard]] Status CheckKnownFields(const Json& obj, std::string_view path,
                                      std::initializer_list<std::string_view> known);

}  // namespace calico::model::v3
