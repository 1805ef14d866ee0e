// The JSON reader the agent's one-pass typed reads share (stored_endpoint.h, stored_policy.h):
// the subset of JSON Calico's writers produce, and the validators' checks on it that both kinds
// make the same way. Internal to model/v3.
//
// Thread-safety: a Reader is used by one thread; the functions are pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/strings.h"
#include "calico/model/decode_limits.h"
#include "calico/model/v3/common.h"
#include "calico/model/validation/meta.h"

namespace calico::model::v3::stored {

// A JSON reader for the subset the fast paths accept. Every method returns false for what it does
// not take, which ends the fast path; what it takes it reads as nlohmann::json (and so
// DecodeStoredResource) does.
class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  bool AtEnd() {
    SkipSpace();
    return i_ == s_.size();
  }
  bool Consume(char c) {
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  char Peek() {
    SkipSpace();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  // A string of printable ASCII without escapes (JSON's other strings go to the reference path).
  bool String(std::string_view& out) {
    if (!Consume('"')) return false;
    const size_t start = i_;
    for (; i_ < s_.size(); ++i_) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        out = s_.substr(start, i_ - start);
        ++i_;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
    }
    return false;
  }
  bool String(std::string& out) {
    std::string_view v;
    if (!String(v)) return false;
    out.assign(v);
    return true;
  }
  // A string whose only escape is \" (kept unescaped in `out`), else as String. For the
  // projectcalico.org/metadata annotation, a JSON document in a string.
  bool StringWithQuotes(std::string& out) {
    if (!Consume('"')) return false;
    out.clear();
    for (; i_ < s_.size(); ++i_) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c == '\\') {
        if (i_ + 1 >= s_.size() || s_[i_ + 1] != '"') return false;
        ++i_;
      } else if (c < 0x20 || c >= 0x80) {
        return false;
      }
      out.push_back(s_[i_]);
    }
    return false;
  }
  bool Bool(bool& out) {
    SkipSpace();
    if (s_.substr(i_, 4) == "true") {
      i_ += 4;
      out = true;
    } else if (s_.substr(i_, 5) == "false") {
      i_ += 5;
      out = false;
    } else {
      return false;
    }
    // A literal runs into the next token only as invalid JSON ("truex"): leave that to the
    // reference path.
    return i_ == s_.size() || !IsWordChar(s_[i_]);
  }
  // An integer with an optional '-' (no '+', fraction or exponent), of at most 9 digits.
  bool SignedInteger(int64_t& out) {
    SkipSpace();
    const bool negative = i_ < s_.size() && s_[i_] == '-';
    if (negative) ++i_;
    if (i_ < s_.size() && (s_[i_] < '0' || s_[i_] > '9')) return false;
    if (!Integer(out)) return false;
    if (negative) out = -out;
    return true;
  }
  // A non-negative integer without sign, fraction or exponent, of at most 9 digits.
  bool Integer(int64_t& out) {
    SkipSpace();
    const size_t start = i_;
    int64_t n = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      n = n * 10 + (s_[i_] - '0');
      ++i_;
    }
    const size_t digits = i_ - start;
    if (digits == 0 || digits > 9 || (digits > 1 && s_[start] == '0')) return false;
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) return false;
    out = n;
    return true;
  }
  // An object: `field(key)` reads each member's value. No repeated keys (nlohmann keeps the last;
  // the reference path decides those).
  template <typename F>
  bool Object(F&& field) {
    if (!Consume('{')) return false;
    if (Consume('}')) return true;
    std::vector<std::string_view> seen;
    do {
      std::string_view key;
      if (!String(key) || !Consume(':')) return false;
      for (std::string_view k : seen) {
        if (k == key) return false;
      }
      seen.push_back(key);
      if (!field(key)) return false;
    } while (Consume(','));
    return Consume('}');
  }
  template <typename F>
  bool Array(F&& item) {
    if (!Consume('[')) return false;
    if (Consume(']')) return true;
    do {
      if (!item()) return false;
    } while (Consume(','));
    return Consume(']');
  }

 private:
  static bool IsWordChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
  void SkipSpace() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

// A map of strings (labels, annotations), each key and value passing `ok`.
template <typename F>
bool StringMap(Reader& r, std::map<std::string, std::string>& out, F&& ok) {
  return r.Object([&](std::string_view key) {
    std::string_view value;
    if (!r.String(value) || !ok(key, value)) return false;
    out.emplace(std::string(key), std::string(value));
    return true;
  });
}

// A list of strings, each passing `ok`.
template <typename F>
bool StringList(Reader& r, std::vector<std::string>& out, F&& ok) {
  return r.Array([&] {
    std::string_view v;
    if (!r.String(v) || !ok(v)) return false;
    out.emplace_back(v);
    return true;
  });
}

// metadata.labels as validation/meta.cc ValidateLabels accepts them.
inline bool Labels(Reader& r, std::map<std::string, std::string>& out) {
  return StringMap(r, out, [](std::string_view k, std::string_view v) {
    return validation::IsQualifiedName(k) && validation::IsValidLabelValue(v);
  });
}

// The metadata fields every kind reads alike: resourceVersion (read and dropped:
// DecodeStoredResource sets it from the revision), uid and creationTimestamp. False for any other
// key.
inline bool CommonMetadataField(Reader& r, std::string_view key, ObjectMeta& meta) {
  if (key == "resourceVersion") {
    std::string_view ignored;
    return r.String(ignored);
  }
  if (key == "uid") return r.String(meta.uid);
  if (key == "creationTimestamp") return r.String(meta.creation_timestamp);
  return false;
}

// A whole stored v3 resource of `kind`, as Calico's writers store it: one object holding
// apiVersion "projectcalico.org/v3", that kind, metadata and spec (read by `metadata` and `spec`,
// each given the reader), nothing else, then the end of the text. False for anything else, and
// for a value over kMaxStoredValueBytes.
template <typename M, typename S>
bool Resource(std::string_view value, std::string_view kind, M&& metadata, S&& spec) {
  if (value.size() > kMaxStoredValueBytes) return false;
  Reader r(value);
  bool api_version = false, kind_ok = false, have_metadata = false, have_spec = false;
  const bool ok = r.Object([&](std::string_view key) {
    std::string_view text;
    if (key == "apiVersion") {
      api_version = r.String(text) && text == "projectcalico.org/v3";
      return api_version;
    }
    if (key == "kind") {
      kind_ok = r.String(text) && text == kind;
      return kind_ok;
    }
    if (key == "metadata") return have_metadata = metadata(r);
    if (key == "spec") return have_spec = spec(r);
    return false;
  });
  return ok && r.AtEnd() && api_version && kind_ok && have_metadata && have_spec;
}

}  // namespace calico::model::v3::stored
