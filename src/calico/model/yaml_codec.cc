// The project's YAML codec: calicoctl's document handling (util/yaml/separator.go splitting,
// sigs.k8s.io/yaml over go-yaml v2 for parsing and printing) on libyaml, whose scanner and parser
// go-yaml is a port of. Decoding follows go-yaml v2's decode.go: node tree first (anchors
// registered when a node starts), then a decoder that counts every node it visits for the alias
// ratio (allowedAliasRatio), refuses an alias inside its own anchor, merges "<<" keys and collects
// strict-mode duplicate keys.
// Size: over 700 lines because decoding and printing must agree on go-yaml's scalar rules
// (resolve.go), which are defined once here for both directions.
#include "calico/model/yaml_codec.h"

#include <yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <regex>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "calico/base/cleanup.h"
#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/model/json_codec.h"

namespace calico::model {
namespace {

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
    // Out of range: falls through to float.
    if (Result<long long> v = ParseInt<long long>(digits)) return *v;
  }
  if (std::regex_match(s, OtherIntRe())) {
    std::string body;
    for (const char c : s) {
      if (c != '_') body += c;
    }
    bool neg = body[0] == '-';
    if (body[0] == '-' || body[0] == '+') body.erase(0, 1);
    Result<long long> v = body.rfind("0b", 0) == 0   ? ParseInt<long long>(body.substr(2), 2)
                          : body.rfind("0x", 0) == 0 ? ParseInt<long long>(body.substr(2), 16)
                                                     : ParseInt<long long>(body, 8);
    if (!v) return s;  // out of range: the string, as before
    return neg ? -*v : *v;
  }
  if (std::regex_match(s, FloatRe())) {
    // ParseDouble takes no leading '+'; out of range gives the string.
    Result<double> v = ParseDouble(s[0] == '+' ? std::string_view(s).substr(1) : s);
    return v ? Json(*v) : Json(s);
  }
  return s;
}

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

// ---- libyaml events -> nodes (go-yaml's parser.go) --------------------------------------------

constexpr const char* kNullTag = "tag:yaml.org,2002:null";
constexpr const char* kBoolTag = "tag:yaml.org,2002:bool";
constexpr const char* kIntTag = "tag:yaml.org,2002:int";
constexpr const char* kFloatTag = "tag:yaml.org,2002:float";
constexpr const char* kMergeTag = "tag:yaml.org,2002:merge";

struct Node {
  enum class Kind : uint8_t { kScalar, kSequence, kMapping, kAlias };
  Kind kind = Kind::kScalar;
  bool plain = false;  // a plain scalar (not quoted, not a block scalar)
  int line = 0;        // 1-based
  int target = -1;     // alias: the anchored node
  std::string tag;     // as libyaml resolved it ("tag:yaml.org,2002:str", "!foo"); "" for none
  std::string value;   // scalar text; alias: the anchor's name
  std::vector<int> children;
};

std::string CStr(const yaml_char_t* s) {
  return s == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(s));
}

// go-yaml v2 parser.fail(): the problem, with the line of the problem (scanner errors count
// lines from 0 there), else of the context.
Error ParserError(const yaml_parser_t& p) {
  size_t line = 0;
  if (p.problem_mark.line != 0) {
    line = p.problem_mark.line;
    if (p.error == YAML_SCANNER_ERROR) ++line;
  } else if (p.context_mark.line != 0) {
    line = p.context_mark.line;
  }
  std::string where = line != 0 ? fmt::format("line {}: ", line) : "";
  std::string msg =
      p.problem != nullptr ? std::string(p.problem) : "unknown problem parsing YAML content";
  return Error(ErrorCode::kInvalidArgument, "yaml: " + where + msg);
}

class EventParser {
 public:
  EventParser(std::string_view text, int max_depth) : max_depth_(max_depth) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (ok_) {
      yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                   text.size());
    }
  }
  ~EventParser() {
    if (ok_) yaml_parser_delete(&parser_);
  }
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  // Reads the first document into nodes(); returns the root's index, or -1 for an empty stream.
  [[nodiscard]] Result<int> Parse() {
    if (!ok_) return Internal("yaml: cannot initialise the parser");
    int root = -1;
    std::vector<int> open;  // the sequences and mappings being read
    for (;;) {
      yaml_event_t ev;
      if (yaml_parser_parse(&parser_, &ev) == 0) return Unexpected(ParserError(parser_));
      Cleanup delete_event([&ev] { yaml_event_delete(&ev); });
      const int line = static_cast<int>(ev.start_mark.line) + 1;
      switch (ev.type) {
        case YAML_STREAM_END_EVENT:
        case YAML_DOCUMENT_END_EVENT:  // only the first document, as go-yaml's Unmarshal
          return root;
        case YAML_ALIAS_EVENT: {
          std::string name = CStr(ev.data.alias.anchor);
          auto it = anchors_.find(name);
          if (it == anchors_.end()) {
            return InvalidArgument(fmt::format("yaml: unknown anchor '{}' referenced", name));
          }
          Node n;
          n.kind = Node::Kind::kAlias;
          n.line = line;
          n.value = std::move(name);
          n.target = it->second;
          Add(std::move(n), open, root);
          break;
        }
        case YAML_SCALAR_EVENT: {
          Node n;
          n.kind = Node::Kind::kScalar;
          n.line = line;
          n.plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
          n.tag = CStr(ev.data.scalar.tag);
          n.value.assign(reinterpret_cast<const char*>(ev.data.scalar.value),
                         ev.data.scalar.length);
          const int idx = Add(std::move(n), open, root);
          Anchor(ev.data.scalar.anchor, idx);
          break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
          if (static_cast<int>(open.size()) >= max_depth_) {
            return InvalidArgument(fmt::format("yaml: line {}: exceeded {} of {}", line,
                                               kMaxNestingDepthName, max_depth_));
          }
          const bool seq = ev.type == YAML_SEQUENCE_START_EVENT;
          Node n;
          n.kind = seq ? Node::Kind::kSequence : Node::Kind::kMapping;
          n.line = line;
          const int idx = Add(std::move(n), open, root);
          // Registered before the children are read, so an alias inside refers to this node
          // (and is refused when decoded: "value contains itself").
          Anchor(seq ? ev.data.sequence_start.anchor : ev.data.mapping_start.anchor, idx);
          open.push_back(idx);
          break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
          if (!open.empty()) open.pop_back();
          break;
        default:
          break;
      }
    }
  }

  const std::vector<Node>& nodes() const { return nodes_; }

 private:
  int Add(Node&& n, const std::vector<int>& open, int& root) {
    const int idx = static_cast<int>(nodes_.size());
    nodes_.push_back(std::move(n));
    if (open.empty()) {
      if (root < 0) root = idx;
    } else {
      nodes_[static_cast<size_t>(open.back())].children.push_back(idx);
    }
    return idx;
  }
  void Anchor(const yaml_char_t* anchor, int idx) {
    if (anchor != nullptr) anchors_[CStr(anchor)] = idx;
  }

  yaml_parser_t parser_{};
  bool ok_ = false;
  int max_depth_;
  std::vector<Node> nodes_;
  std::unordered_map<std::string, int> anchors_;
};

// ---- nodes -> JSON (go-yaml's decoder with sigs.k8s.io/yaml's JSON conversion) ---------------

double AllowedAliasRatio(int64_t decode_count) {
  if (decode_count <= kAliasRatioRangeLow) return 0.99;
  if (decode_count >= kAliasRatioRangeHigh) return 0.10;
  return 0.99 - 0.89 * (static_cast<double>(decode_count - kAliasRatioRangeLow) /
                        static_cast<double>(kAliasRatioRangeHigh - kAliasRatioRangeLow));
}

// Go's %#v of a string key.
std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Go's encoding/json writes invalid UTF-8 as U+FFFD; a quoted YAML scalar can hold any byte
// through escapes ("\xff"), and nlohmann::json refuses to dump invalid UTF-8.
std::string ValidUtf8(std::string s) {
  if (InvalidUtf8Offset(s) == std::string_view::npos) return s;
  std::string out;
  std::string_view rest = s;
  while (!rest.empty()) {
    const size_t bad = InvalidUtf8Offset(rest);
    if (bad == std::string_view::npos) {
      out += rest;
      break;
    }
    out += rest.substr(0, bad);
    out += "\xEF\xBF\xBD";
    rest.remove_prefix(bad + 1);
  }
  return out;
}

class Decoder {
 public:
  Decoder(const std::vector<Node>& nodes, int max_depth)
      : nodes_(nodes), max_depth_(max_depth), active_(nodes.size(), false) {}

  [[nodiscard]] Result<Json> Document(int root) {
    ++decode_count_;  // the document node, as go-yaml counts it
    ASSIGN_OR_RETURN(Json v, Decode(root, 0));
    if (!terrors_.empty()) {
      std::string msg = "yaml: unmarshal errors:";
      for (const auto& e : terrors_)
        msg += "\n  " + e;
      return InvalidArgument(std::move(msg));
    }
    return v;
  }

 private:
  const Node& At(int idx) const { return nodes_[static_cast<size_t>(idx)]; }

  // go-yaml's decoder.unmarshal() accounting, once per node visited (keys, values, aliases).
  [[nodiscard]] Status Count() {
    ++decode_count_;
    if (alias_depth_ > 0) ++alias_count_;
    if (alias_count_ > kAliasCountThreshold && decode_count_ > kAliasDecodeThreshold &&
        static_cast<double>(alias_count_) / static_cast<double>(decode_count_) >
            AllowedAliasRatio(decode_count_)) {
      return InvalidArgument("yaml: document contains excessive aliasing");
    }
    return OkStatus();
  }

  // Enters alias `idx` (refusing one inside its own anchor) and runs `fn` on its target.
  template <typename Fn>
  auto ThroughAlias(int idx, Fn&& fn) -> decltype(fn(0)) {
    const Node& n = At(idx);
    if (active_[static_cast<size_t>(idx)]) {
      return InvalidArgument(fmt::format("yaml: anchor '{}' value contains itself", n.value));
    }
    active_[static_cast<size_t>(idx)] = true;
    ++alias_depth_;
    auto result = fn(n.target);
    --alias_depth_;
    active_[static_cast<size_t>(idx)] = false;
    return result;
  }

  [[nodiscard]] Status Deeper(int idx, int depth) const {
    if (depth >= max_depth_) {
      return InvalidArgument(fmt::format("yaml: line {}: exceeded {} of {}", At(idx).line,
                                         kMaxNestingDepthName, max_depth_));
    }
    return OkStatus();
  }

  [[nodiscard]] Result<Json> Decode(int idx, int depth) {
    RETURN_IF_ERROR(Count());
    const Node& n = At(idx);
    switch (n.kind) {
      case Node::Kind::kAlias:
        return ThroughAlias(idx, [&](int target) { return Decode(target, depth); });
      case Node::Kind::kScalar:
        return Scalar(n);
      case Node::Kind::kSequence: {
        RETURN_IF_ERROR(Deeper(idx, depth));
        Json arr = Json::array();
        for (const int child : n.children) {
          ASSIGN_OR_RETURN(Json v, Decode(child, depth + 1));
          arr.push_back(std::move(v));
        }
        return arr;
      }
      case Node::Kind::kMapping: {
        RETURN_IF_ERROR(Deeper(idx, depth));
        Json obj = Json::object();
        RETURN_IF_ERROR(MappingInto(idx, obj, depth + 1));
        return obj;
      }
    }
    return Json(nullptr);
  }

  [[nodiscard]] Status MappingInto(int idx, Json& obj, int depth) {
    const Node& n = At(idx);
    for (size_t i = 0; i + 1 < n.children.size(); i += 2) {
      const int key_idx = n.children[i];
      const int value_idx = n.children[i + 1];
      const Node& key_node = At(key_idx);
      if (key_node.kind == Node::Kind::kScalar && key_node.value == "<<" &&
          ((key_node.plain && key_node.tag.empty()) || key_node.tag == kMergeTag)) {
        RETURN_IF_ERROR(Merge(value_idx, obj, depth));
        continue;
      }
      ASSIGN_OR_RETURN(std::string key, Key(key_idx));
      ASSIGN_OR_RETURN(Json value, Decode(value_idx, depth));
      if (obj.contains(key)) {
        terrors_.push_back(
            fmt::format("line {}: key {} already set in map", At(value_idx).line, GoQuote(key)));
        continue;
      }
      obj[key] = std::move(value);
    }
    return OkStatus();
  }

  // decoder.merge(): a mapping, an alias of one, or a sequence of those (later ones first).
  [[nodiscard]] Status Merge(int idx, Json& obj, int depth) {
    auto want_map = [] {
      return InvalidArgument("yaml: map merge requires map or sequence of maps as the value");
    };
    auto is_map = [&](int i) {
      const Node& m = At(i);
      return m.kind == Node::Kind::kMapping ||
             (m.kind == Node::Kind::kAlias && At(m.target).kind == Node::Kind::kMapping);
    };
    const Node& n = At(idx);
    if (n.kind == Node::Kind::kSequence) {
      for (auto it = n.children.rbegin(); it != n.children.rend(); ++it) {
        if (!is_map(*it)) return want_map();
        RETURN_IF_ERROR(MapInto(*it, obj, depth));
      }
      return OkStatus();
    }
    if (!is_map(idx)) return want_map();
    return MapInto(idx, obj, depth);
  }

  [[nodiscard]] Status MapInto(int idx, Json& obj, int depth) {
    RETURN_IF_ERROR(Count());
    if (At(idx).kind == Node::Kind::kAlias) {
      return ThroughAlias(idx, [&](int target) -> Status {
        RETURN_IF_ERROR(Count());
        return MappingInto(target, obj, depth);
      });
    }
    return MappingInto(idx, obj, depth);
  }

  [[nodiscard]] Result<std::string> Key(int idx) {
    RETURN_IF_ERROR(Count());
    const Node& n = At(idx);
    if (n.kind == Node::Kind::kAlias) {
      return ThroughAlias(idx, [&](int target) -> Result<std::string> {
        RETURN_IF_ERROR(Count());
        const Node& t = At(target);
        if (t.kind != Node::Kind::kScalar) {
          return InvalidArgument(fmt::format("yaml: line {}: invalid map key", n.line));
        }
        return ValidUtf8(t.value);
      });
    }
    if (n.kind != Node::Kind::kScalar) {
      return InvalidArgument(fmt::format("yaml: line {}: invalid map key", n.line));
    }
    return ValidUtf8(n.value);
  }

  static Result<Json> Scalar(const Node& n) {
    if (n.tag.empty()) {
      if (!n.plain) return Json(ValidUtf8(n.value));  // quoted or block: always a string
      return ResolvePlain(n.value);
    }
    if (n.tag == kNullTag || n.tag == kBoolTag || n.tag == kIntTag || n.tag == kFloatTag) {
      Json v = ResolvePlain(n.value);
      const bool fits =
          (n.tag == kNullTag && v.is_null()) || (n.tag == kBoolTag && v.is_boolean()) ||
          (n.tag == kIntTag && v.is_number_integer()) || (n.tag == kFloatTag && v.is_number());
      if (!fits) {
        std::string shown = n.value.size() > 10 ? n.value.substr(0, 7) + "..." : n.value;
        return InvalidArgument(fmt::format("yaml: line {}: cannot decode !!str `{}` as a !!{}",
                                           n.line, ValidUtf8(shown),
                                           n.tag.substr(n.tag.rfind(':') + 1)));
      }
      if (n.tag == kFloatTag && v.is_number_integer()) return Json(v.get<double>());
      return v;
    }
    // !!str, !!binary, the non-specific "!" and application tags: the text.
    return Json(ValidUtf8(n.value));
  }

  const std::vector<Node>& nodes_;
  int max_depth_;
  std::vector<bool> active_;
  std::vector<std::string> terrors_;
  int64_t decode_count_ = 0;
  int64_t alias_count_ = 0;
  int alias_depth_ = 0;
};

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

Result<Json> ParseYaml(std::string_view text, const DecodeLimits& limits) {
  if (text.size() > limits.max_document_bytes) {
    return InvalidArgument(fmt::format("yaml: document of {} bytes exceeds the {} of {} bytes",
                                       text.size(), kMaxDocumentBytesName,
                                       limits.max_document_bytes));
  }
  if (size_t bad = InvalidUtf8Offset(text); bad != std::string_view::npos) {
    return InvalidArgument(fmt::format("yaml: invalid UTF-8 at byte offset {}", bad));
  }
  EventParser parser(text, limits.max_depth);
  ASSIGN_OR_RETURN(int root, parser.Parse());
  if (root < 0) return Json(nullptr);
  Decoder decoder(parser.nodes(), limits.max_depth);
  return decoder.Document(root);
}

Result<std::vector<Json>> ParseYamlStream(std::string_view text, const DecodeLimits& limits) {
  if (text.size() > limits.max_stream_bytes) {
    return InvalidArgument(fmt::format("yaml: input of {} bytes exceeds the {} of {} bytes",
                                       text.size(), kMaxStreamBytesName, limits.max_stream_bytes));
  }
  std::vector<std::string> docs = SplitYamlDocuments(text);
  if (docs.size() > limits.max_documents) {
    return InvalidArgument(fmt::format("yaml: input holds {} documents, more than the {} of {}",
                                       docs.size(), kMaxDocumentsName, limits.max_documents));
  }
  std::vector<Json> out;
  out.reserve(docs.size());
  for (const auto& doc : docs) {
    ASSIGN_OR_RETURN(Json v, ParseYaml(doc, limits));
    if (!v.is_null()) out.push_back(std::move(v));
  }
  return out;
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

}  // namespace calico::model
