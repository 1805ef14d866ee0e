// JSON decoding with limits (decode_limits.h) and Go encoding/json MarshalIndent output, as
// calicoctl prints resources (calicoctl/calicoctl/commands/common/resources.go).
#include "calico/model/json_codec.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "calico/base/log.h"

namespace calico::model {
namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] ". They quote the last bytes
// read, which need not be UTF-8 (that may be the very error): bytes outside printable ASCII become
// \xNN, so that the message can go into a JSON answer (a CNI error, libnetwork's {"Err": ...}).
std::string CleanParserMessage(std::string_view what) {
  if (!what.empty() && what.front() == '[') {
    size_t close = what.find("] ");
    if (close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  std::string out;
  out.reserve(what.size());
  for (const char c : what) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  return out;
}

}  // namespace

Status CheckJsonTextDepth(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // The escaped character cannot end the string.
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) {
          return InvalidArgument(fmt::format("json: exceeded {} of {} at byte offset {}",
                                             kMaxNestingDepthName, max_depth, i));
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return OkStatus();
}

Result<Json> ParseJson(std::string_view text, size_t max_bytes, int max_depth) {
  if (text.size() > max_bytes) {
    return InvalidArgument(fmt::format("json: document of {} bytes exceeds the {} of {} bytes",
                                       text.size(), kMaxDocumentBytesName, max_bytes));
  }
  RETURN_IF_ERROR(CheckJsonTextDepth(text, max_depth));
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    return InvalidArgument("json: " + CleanParserMessage(e.what()));
  }
}

Result<Json> ParseStoredJson(std::string_view key, std::string_view value) {
  if (value.size() > kMaxStoredValueBytes) {
    return InvalidArgument(fmt::format("value at {} is {} bytes, more than the {} of {} bytes", key,
                                       value.size(), kMaxStoredValueBytesName,
                                       kMaxStoredValueBytes));
  }
  auto parsed = ParseJson(value, kMaxStoredValueBytes, kMaxNestingDepth);
  if (!parsed)
    return InvalidArgument(fmt::format("value at {}: {}", key, parsed.error().message()));
  return parsed;
}

Json ReadStoredJson(std::string_view key, std::string_view value) {
  auto parsed = ParseStoredJson(key, value);
  if (!parsed) {
    CALICO_LOG(warn, "datastore", "skipping unreadable value: {}", parsed.error().message());
    return Json(Json::value_t::discarded);
  }
  return std::move(*parsed);
}

int JsonDepth(const Json& value, int stop_after) {
  int max_depth = 0;
  std::vector<std::pair<const Json*, int>> stack{{&value, 0}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    const int inner = depth + 1;
    max_depth = std::max(max_depth, inner);
    if (max_depth > stop_after) return max_depth;
    for (const Json& child : *v) {
      if (child.is_structured()) stack.emplace_back(&child, inner);
    }
  }
  return max_depth;
}

Status CheckJsonLimits(const Json& value, std::string_view what, size_t max_bytes) {
  if (JsonDepth(value, kMaxNestingDepth) > kMaxNestingDepth) {
    return InvalidArgument(
        fmt::format("{} exceeds the {} of {}", what, kMaxNestingDepthName, kMaxNestingDepth));
  }
  const size_t size = value.dump().size();
  if (size > max_bytes) {
    return InvalidArgument(fmt::format("{} is {} bytes, more than the {} of {} bytes", what, size,
                                       kMaxStoredValueBytesName, max_bytes));
  }
  return OkStatus();
}

namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
          out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out += s[i];
        }
    }
  }
  return out + "\"";
}

enum class Ctx { kPlain, kEnvelope, kObjectMeta, kListMeta };

std::vector<std::string> OrderedKeys(const Json& obj, Ctx ctx) {
  static const std::vector<std::string> kEnvelope = {"kind", "apiVersion", "metadata"};
  static const std::vector<std::string> kListMeta = {"selfLink", "resourceVersion", "continue",
                                                     "remainingItemCount"};
  const std::vector<std::string>* first = nullptr;
  if (ctx == Ctx::kEnvelope) first = &kEnvelope;
  if (ctx == Ctx::kObjectMeta) first = &ObjectMetaFieldOrder();
  if (ctx == Ctx::kListMeta) first = &kListMeta;
  std::vector<std::string> keys;
  if (first != nullptr) {
    for (const auto& k : *first) {
      if (obj.contains(k)) keys.push_back(k);
    }
  }
  std::vector<std::string> rest;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) rest.push_back(it.key());
  }
  // spec before status, as in every Calico type; the rest alphabetically.
  std::stable_sort(rest.begin(), rest.end(), [](const std::string& a, const std::string& b) {
    auto rank = [](const std::string& k) { return k == "spec" ? 0 : (k == "status" ? 1 : 2); };
    return rank(a) < rank(b);
  });
  keys.insert(keys.end(), rest.begin(), rest.end());
  return keys;
}

bool IsEnvelope(const Json& v) {
  return v.is_object() && (v.contains("kind") || v.contains("apiVersion"));
}

void EmitJson(const Json& v, int indent, Ctx ctx, std::string& out) {
  if (v.is_object()) {
    if (v.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    const bool is_list = ctx == Ctx::kEnvelope && v.contains("items");
    const auto keys = OrderedKeys(v, ctx);
    for (size_t i = 0; i < keys.size(); ++i) {
      out.append(static_cast<size_t>(indent + 2), ' ');
      out += JsonString(keys[i]);
      out += ": ";
      Ctx child = Ctx::kPlain;
      if (ctx == Ctx::kEnvelope && keys[i] == "metadata") {
        child = is_list ? Ctx::kListMeta : Ctx::kObjectMeta;
      }
      if (ctx == Ctx::kEnvelope && keys[i] == "items") child = Ctx::kEnvelope;
      EmitJson(v[keys[i]], indent + 2, child, out);
      out += i + 1 < keys.size() ? ",\n" : "\n";
    }
    out.append(static_cast<size_t>(indent), ' ');
    out += '}';
  } else if (v.is_array()) {
    if (v.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (size_t i = 0; i < v.size(); ++i) {
      out.append(static_cast<size_t>(indent + 2), ' ');
      const Ctx child = (ctx == Ctx::kEnvelope || IsEnvelope(v[i])) ? Ctx::kEnvelope : Ctx::kPlain;
      EmitJson(v[i], indent + 2, child, out);
      out += i + 1 < v.size() ? ",\n" : "\n";
    }
    out.append(static_cast<size_t>(indent), ' ');
    out += ']';
  } else if (v.is_string()) {
    out += JsonString(v.get<std::string>());
  } else if (v.is_number()) {
    out += GoNumber(v);
  } else {
    out += v.dump();
  }
}

}  // namespace

std::string GoNumber(const Json& v) {
  if (v.is_number_integer()) return v.dump();
  const double d = v.get<double>();
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e21) {
    return fmt::format("{:.0f}", d);
  }
  return fmt::format("{}", d);
}

std::string EmitGoJson(const Json& value) {
  std::string out;
  EmitJson(value, 0, IsEnvelope(value) ? Ctx::kEnvelope : Ctx::kPlain, out);
  return out;
}

const std::vector<std::string>& ObjectMetaFieldOrder() {
  static const std::vector<std::string> k = {"name",
                                             "generateName",
                                             "namespace",
                                             "selfLink",
                                             "uid",
                                             "resourceVersion",
                                             "generation",
                                             "creationTimestamp",
                                             "deletionTimestamp",
                                             "deletionGracePeriodSeconds",
                                             "labels",
                                             "annotations",
                                             "ownerReferences",
                                             "finalizers",
                                             "managedFields"};
  return k;
}

}  // namespace calico::model
