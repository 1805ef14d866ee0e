// Kubernetes-style name, label and annotation rules used by Calico's validator.
#include "calico/model/validation/meta.h"

#include "calico/base/strings.h"

namespace calico::model::validation {
namespace {

bool IsAlnumLower(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
// ASCII only, as Kubernetes' qualified-name and label-value patterns ([A-Za-z0-9]); inline rather
// than std::isalnum (a locale-aware call per character: about 8 % of reading a stored
// WorkloadEndpoint, whose every label name and value passes here; bench/README.md, branch su).
bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsQualifiedNamePart(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace

bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnumLower(s.front()) || !IsAlnumLower(s.back())) return false;
  for (char c : s) {
    if (!IsAlnumLower(c) && c != '-') return false;
  }
  return true;
}

bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  // Each '.'-separated label (no allocation: endpoint names and profiles of every endpoint pass
  // here).
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string_view part =
        s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty()) return false;
    if (!IsAlnumLower(part.front()) || !IsAlnumLower(part.back())) return false;
    for (char c : part) {
      if (!IsAlnumLower(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsQualifiedName(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return IsQualifiedNamePart(s);
  if (s.find('/', slash + 1) != std::string_view::npos) return false;
  std::string_view prefix = s.substr(0, slash);
  return IsDnsSubdomain(prefix) && IsQualifiedNamePart(s.substr(slash + 1));
}

bool IsValidLabelValue(std::string_view s) {
  return s.empty() || IsQualifiedNamePart(s);
}

std::string ValueText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  std::string text = v.dump();
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return text;
}

namespace {

// The next character of `s` from `i` as Go folds a field name: ASCII lower case, U+212A KELVIN
// SIGN -> k, U+017F LATIN SMALL LETTER LONG S -> s; advances `i`.
char NextFolded(std::string_view s, size_t& i) {
  const char c = s[i];
  if (static_cast<unsigned char>(c) == 0xE2 && s.compare(i, 3, "\xE2\x84\xAA") == 0) {
    i += 3;
    return 'k';
  }
  if (static_cast<unsigned char>(c) == 0xC5 && s.compare(i, 2, "\xC5\xBF") == 0) {
    i += 2;
    return 's';
  }
  ++i;
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool EqualFoldFieldName(std::string_view a, std::string_view b) {
  // Character by character: most names differ in their first few.
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (NextFolded(a, i) != NextFolded(b, j)) return false;
  }
  return i == a.size() && j == b.size();
}

std::optional<std::string_view> FoldFieldName(std::string_view key,
                                              std::span<const std::string_view> known) {
  for (std::string_view k : known) {
    if (EqualFoldFieldName(key, k)) return k;
  }
  return std::nullopt;
}

void AddUnknownField(const FieldPath& path, std::string_view key,
                     std::span<const std::string_view> known, FieldErrors& errors) {
  if (auto canonical = FoldFieldName(key, known)) {
    errors.Add(path.Child(key), *canonical, kFoldedFieldReason);
  } else {
    errors.Add(path.Child(key), "", kUnknownFieldReason);
  }
}

void CheckKnownFields(const Json& obj, const FieldPath& path,
                      std::initializer_list<std::string_view> known, FieldErrors& errors) {
  if (obj.is_null()) return;
  if (!obj.is_object()) {
    errors.Add(path, ValueText(obj), "must be an object");
    return;
  }
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool found = false;
    for (std::string_view k : known) {
      if (it.key() == k) {
        found = true;
        break;
      }
    }
    if (!found) {
      AddUnknownField(path, it.key(),
                      std::span<const std::string_view>(known.begin(), known.size()), errors);
    }
  }
}

void ValidateLabels(const Json& labels, const FieldPath& path, FieldErrors& errors) {
  if (labels.is_null()) return;
  if (!labels.is_object()) {
    errors.Add(path, ValueText(labels), "labels must be a map of strings");
    return;
  }
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (!IsQualifiedName(it.key())) {
      errors.Add(path.Key(it.key()), it.key(),
                 "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                 "start and end with an alphanumeric character");
      continue;
    }
    if (!it->is_string()) {
      errors.Add(path.Key(it.key()), ValueText(*it), "label value must be a string");
      continue;
    }
    if (!IsValidLabelValue(it->get<std::string>())) {
      errors.Add(path.Key(it.key()), it->get<std::string>(),
                 "a valid label must be an empty string or consist of alphanumeric characters, "
                 "'-', '_' or '.', and must start and end with an alphanumeric character");
    }
  }
}

void ValidateAnnotations(const Json& annotations, const FieldPath& path, FieldErrors& errors) {
  if (annotations.is_null()) return;
  if (!annotations.is_object()) {
    errors.Add(path, ValueText(annotations), "annotations must be a map of strings");
    return;
  }
  size_t total = 0;
  for (auto it = annotations.begin(); it != annotations.end(); ++it) {
    total += it.key().size();
    if (!IsQualifiedName(AsciiLower(it.key()))) {
      errors.Add(path.Key(it.key()), it.key(),
                 "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                 "start and end with an alphanumeric character");
    }
    if (!it->is_string()) {
      errors.Add(path.Key(it.key()), ValueText(*it), "annotation value must be a string");
      continue;
    }
    total += it->get<std::string>().size();
  }
  if (total > kTotalAnnotationSizeLimitB) {
    errors.Add(path, "",
               "annotations size " + std::to_string(total) +
                   " bytes, must be less than or equal to " +
                   std::to_string(kTotalAnnotationSizeLimitB) + " bytes");
  }
}

}  // namespace calico::model::validation
