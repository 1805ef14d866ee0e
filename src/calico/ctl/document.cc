// Reproduces calicoctl's document handling: util/yaml/separator.go splitting, sigs.k8s.io/yaml
// (YAML 1.1 via go-yaml v2) parsing and printing, and Go encoding/json MarshalIndent output.
#include "calico/ctl/document.h"

#include <algorithm>
#include <cmath>
#include <regex>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "calico/base/strings.h"

namespace calico::ctl {
namespace {

using model::Json;

bool IsBlankOrComment(std::string_view doc) {
  for (const auto& line : StrSplit(doc, '\n')) {
    std::string_view t = StrTrim(line);
    if (!t.empty() && t[0] != '#') return false;
  }
  return true;
}

const std::vector<std::string_view>& TrueWords() {
  static const std::vector<std::string_view> k = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                                  "True", "TRUE", "on",  "On",  "ON"};
  return k;
}
const std::vector<std::string_view>& FalseWords() {
  static const std::vector<std::string_view> k = {"n",     "N",     "no",  "No",  "NO", "false",
                                                  "False", "FALSE", "off", "Off", "OFF"};
  return k;
}
bool IsNullWord(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}
bool Contains(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const std::regex& IntRe() {
  static const std::regex re("^[-+]?(0|[1-9][0-9_]*)$");
  return re;
}
const std::regex& OtherIntRe() {
  static const std::regex re("^[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]+)$");
  return re;
}
const std::regex& FloatRe() {
  static const std::regex re("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$");
  return re;
}
const std::regex& SpecialFloatRe() {
  static const std::regex re("^([-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$");
  return re;
}
const std::regex& TimestampRe() {
  static const std::regex re("^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?([Tt ].*)?$");
  return re;
}

// The JSON value of a plain (unquoted) YAML 1.1 scalar.
Json ResolvePlain(const std::string& s) {
  if (IsNullWord(s)) return nullptr;
  if (Contains(TrueWords(), s)) return true;
  if (Contains(FalseWords(), s)) return false;
  if (std::regex_match(s, IntRe())) {
    std::string digits;
    for (const char c : s) {
      if (c != '_' && c != '+') digits += c;
    }
    try {
      size_t pos = 0;
      long long v = std::stoll(digits, &pos);
      if (pos == digits.size()) return v;
    } catch (...) {
      // Out of range: falls through to float.
    }
  }
  if (std::regex_match(s, OtherIntRe())) {
    std::string body;
    for (const char c : s) {
      if (c != '_') body += c;
    }
    bool neg = body[0] == '-';
    if (body[0] == '-' || body[0] == '+') body.erase(0, 1);
    try {
      long long v = 0;
      if (body.rfind("0b", 0) == 0) {
        v = std::stoll(body.substr(2), nullptr, 2);
      } else if (body.rfind("0x", 0) == 0) {
        v = std::stoll(body.substr(2), nullptr, 16);
      } else {
        v = std::stoll(body, nullptr, 8);
      }
      return neg ? -v : v;
    } catch (...) {
      return s;
    }
  }
  if (std::regex_match(s, FloatRe())) {
    try {
      return std::stod(s);
    } catch (...) {
      return s;
    }
  }
  return s;
}

Result<Json> Convert(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Json(nullptr);
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return Json(s);  // Quoted or block scalar: always a string.
      if (node.Tag() == "tag:yaml.org,2002:str" || node.Tag() == "!!str") return Json(s);
      return ResolvePlain(s);
    }
    case YAML::NodeType::Sequence: {
      Json arr = Json::array();
      for (const auto& item : node) {
        ASSIGN_OR_RETURN(Json v, Convert(item));
        arr.push_back(std::move(v));
      }
      return arr;
    }
    case YAML::NodeType::Map: {
      Json obj = Json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          return InvalidArgument(
              fmt::format("yaml: line {}: invalid map key", kv.first.Mark().line + 1));
        }
        ASSIGN_OR_RETURN(Json v, Convert(kv.second));
        obj[kv.first.Scalar()] = std::move(v);
      }
      return obj;
    }
  }
  return Json(nullptr);
}

// ---- go-yaml v2 emitter -------------------------------------------------------------------------

bool ResolvesToNonString(const std::string& s) {
  if (IsNullWord(s) || Contains(TrueWords(), s) || Contains(FalseWords(), s)) return true;
  return std::regex_match(s, IntRe()) || std::regex_match(s, OtherIntRe()) ||
         std::regex_match(s, FloatRe()) || std::regex_match(s, SpecialFloatRe()) ||
         std::regex_match(s, TimestampRe());
}

bool NeedsDoubleQuotes(const std::string& s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 && c != '\n') return true;
    if (c == 0x7f) return true;
  }
  return false;
}

bool PlainAllowed(const std::string& s) {
  if (s.empty()) return false;
  if (s.front() == ' ' || s.back() == ' ') return false;
  static const std::string_view kIndicators = ",[]{}#&*!|>'\"%@`";
  if (kIndicators.find(s.front()) != std::string_view::npos) return false;
  if (s.front() == '-' || s.front() == '?' || s.front() == ':') {
    if (s.size() == 1 || s[1] == ' ') return false;
  }
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return false;
  if (s.back() == ':') return false;
  if (s.find('\t') != std::string::npos) return false;
  if (s.rfind("---", 0) == 0 || s.rfind("...", 0) == 0) return false;
  return true;
}

std::string DoubleQuote(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
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
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case 0:
        out += "\\0";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02X}", c);
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string YamlScalarString(const std::string& s) {
  if (s.empty()) return "\"\"";
  if (NeedsDoubleQuotes(s)) return DoubleQuote(s);
  if (ResolvesToNonString(s)) return DoubleQuote(s);
  if (PlainAllowed(s)) return s;
  std::string out = "'";
  for (const char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string GoNumber(const Json& v) {
  if (v.is_number_integer()) return v.dump();
  const double d = v.get<double>();
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e21) {
    return fmt::format("{:.0f}", d);
  }
  return fmt::format("{}", d);
}

std::string YamlScalar(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) {
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (std::isnan(d)) return ".NaN";
      if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
    }
    return GoNumber(v);
  }
  return YamlScalarString(v.get<std::string>());
}

bool IsEmptyCollection(const Json& v) {
  return (v.is_object() || v.is_array()) && v.empty();
}

void EmitLiteral(const std::string& s, int indent, std::string& out) {
  size_t trailing = 0;
  while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n')
    ++trailing;
  out += trailing == 0 ? "|-" : (trailing == 1 ? "|" : "|+");
  out += '\n';
  std::string body = s.substr(0, s.size() - trailing);
  for (const auto& line : StrSplit(body, '\n')) {
    if (!line.empty()) out.append(static_cast<size_t>(indent), ' ');
    out += line;
    out += '\n';
  }
  for (size_t i = 1; i < trailing; ++i)
    out += '\n';
}

void EmitBlock(const Json& v, int indent, std::string& out);

// Emits the value after "key:" or "- " (the caller has written that prefix).
void EmitValueAfterKey(const Json& v, int indent, std::string& out) {
  if (v.is_object() && !v.empty()) {
    out += '\n';
    EmitBlock(v, indent + 2, out);
  } else if (v.is_array() && !v.empty()) {
    out += '\n';
    EmitBlock(v, indent, out);  // go-yaml v2 does not indent a sequence under its key.
  } else if (IsEmptyCollection(v)) {
    out += v.is_object() ? " {}\n" : " []\n";
  } else if (v.is_string() && v.get<std::string>().find('\n') != std::string::npos &&
             !NeedsDoubleQuotes(v.get<std::string>())) {
    out += ' ';
    EmitLiteral(v.get<std::string>(), indent + 2, out);
  } else {
    out += ' ';
    out += YamlScalar(v);
    out += '\n';
  }
}

void EmitSeqItem(const Json& item, int indent, std::string& out) {
  out.append(static_cast<size_t>(indent), ' ');
  out += '-';
  if ((item.is_object() || item.is_array()) && !item.empty()) {
    // First entry on the dash line, the rest indented by two.
    std::string inner;
    EmitBlock(item, indent + 2, inner);
    out += ' ';
    out += inner.substr(static_cast<size_t>(indent + 2));
  } else if (IsEmptyCollection(item)) {
    out += item.is_object() ? " {}\n" : " []\n";
  } else if (item.is_string() && item.get<std::string>().find('\n') != std::string::npos &&
             !NeedsDoubleQuotes(item.get<std::string>())) {
    out += ' ';
    EmitLiteral(item.get<std::string>(), indent + 2, out);
  } else {
    out += ' ';
    out += YamlScalar(item);
    out += '\n';
  }
}

void EmitBlock(const Json& v, int indent, std::string& out) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      out.append(static_cast<size_t>(indent), ' ');
      out += YamlScalarString(it.key());
      out += ':';
      EmitValueAfterKey(it.value(), indent, out);
    }
  } else if (v.is_array()) {
    for (const auto& item : v)
      EmitSeqItem(item, indent, out);
  } else {
    out.append(static_cast<size_t>(indent), ' ');
    out += YamlScalar(v);
    out += '\n';
  }
}

// ---- Go encoding/json ---------------------------------------------------------------------------

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
  static const std::vector<std::string> kObjectMeta = {"name",
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
  static const std::vector<std::string> kListMeta = {"selfLink", "resourceVersion", "continue",
                                                     "remainingItemCount"};
  const std::vector<std::string>* first = nullptr;
  if (ctx == Ctx::kEnvelope) first = &kEnvelope;
  if (ctx == Ctx::kObjectMeta) first = &kObjectMeta;
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

std::vector<std::string> SplitYamlDocuments(std::string_view text) {
  std::vector<std::string> docs;
  std::string cur;
  std::vector<std::string> lines = StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  for (const auto& line : lines) {
    std::string_view l = line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    std::string_view trimmed = l;
    while (!trimmed.empty() && trimmed.back() == ' ')
      trimmed.remove_suffix(1);
    if (trimmed == "---") {
      if (!IsBlankOrComment(cur)) docs.push_back(cur);
      cur.clear();
      continue;
    }
    cur += l;
    cur += '\n';
  }
  if (!IsBlankOrComment(cur)) docs.push_back(cur);
  return docs;
}

namespace {

// Offset of the first byte that is not valid UTF-8, or npos (go-yaml rejects such input).
size_t InvalidUtf8Offset(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return i;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3fu);
    }
    bool overlong =
        (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace

Result<Json> ParseYaml(std::string_view text) {
  if (size_t bad = InvalidUtf8Offset(text); bad != std::string_view::npos) {
    return InvalidArgument(fmt::format("yaml: invalid UTF-8 at byte offset {}", bad));
  }
  YAML::Node node;
  try {
    node = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(fmt::format("yaml: line {}: {}", e.mark.line + 1, e.msg));
  }
  return Convert(node);
}

std::string EmitGoYaml(const Json& value) {
  std::string out;
  if ((value.is_object() || value.is_array()) && !value.empty()) {
    EmitBlock(value, 0, out);
  } else if (IsEmptyCollection(value)) {
    out = value.is_object() ? "{}\n" : "[]\n";
  } else {
    out = YamlScalar(value) + "\n";
  }
  return out;
}

std::string EmitGoJson(const Json& value) {
  std::string out;
  EmitJson(value, 0, IsEnvelope(value) ? Ctx::kEnvelope : Ctx::kPlain, out);
  return out;
}

}  // namespace calico::ctl
