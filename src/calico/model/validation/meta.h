// Shared validation helpers: Kubernetes name/label/annotation rules as Calico's validator applies
// them (libcalico-go/lib/validator/v3/validator.go: validateObjectMeta, validateLabels; k8s
// apimachinery IsQualifiedName/IsValidLabelValue/IsDNS1123Subdomain), JSON type checks, and the
// strict-decoding "unknown field" report.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "calico/model/field_errors.h"
#include "calico/model/resource.h"

namespace calico::model::validation {

// Reason used for fields the strict decoder does not know. Validate() turns the first such error
// into calicoctl's message "field in document is not recognized or is in the wrong location: X".
inline constexpr std::string_view kUnknownFieldReason = "unknown field";
// Reason used for a key that is not a field name but matches one case-insensitively (Go's
// encoding/json decodes it into that field). The error's value is the canonical field name;
// CanonicalizeFieldNames (validate.h) renames such keys, and Validate() treats any left as
// unknown fields.
inline constexpr std::string_view kFoldedFieldReason = "field name in another case";

// Go encoding/json's field matching (decode.go object(), foldName): the field whose name equals
// `key` ignoring case (ASCII case, plus U+212A KELVIN SIGN for k and U+017F LONG S for s, as
// Go's Unicode simple folding does for ASCII names). nullopt when none does.
// True when `a` and `b` are one name under that folding (no allocation: run per unknown key).
bool EqualFoldFieldName(std::string_view a, std::string_view b);
std::optional<std::string_view> FoldFieldName(std::string_view key,
                                              std::span<const std::string_view> known);
// Reports `key` of the object at `path` that is not one of `known`: a kFoldedFieldReason error
// naming the field it folds to, otherwise a kUnknownFieldReason error.
void AddUnknownField(const FieldPath& path, std::string_view key,
                     std::span<const std::string_view> known, FieldErrors& errors);

// [a-z0-9]([-a-z0-9]*[a-z0-9])?, <= 63.
bool IsDnsLabel(std::string_view s);
// label(\.label)*, <= 253.
bool IsDnsSubdomain(std::string_view s);
// Kubernetes qualified name: [prefix/]name, prefix a DNS subdomain, name <= 63 of
// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9].
bool IsQualifiedName(std::string_view s);
// Empty, or a qualified-name "name" part (<= 63).
bool IsValidLabelValue(std::string_view s);

// Reports keys of `obj` not in `known` as unknown fields (path.key). Non-objects are reported as
// a type error ("must be an object").
void CheckKnownFields(const Json& obj, const FieldPath& path,
                      std::initializer_list<std::string_view> known, FieldErrors& errors);

void ValidateLabels(const Json& labels, const FieldPath& path, FieldErrors& errors);
// Keys checked lower-cased; total size of keys and values <= 256 KiB.
// The most bytes all annotations' keys and values may hold together
// (k8s.io/apimachinery/pkg/api/validation/objectmeta.go TotalAnnotationSizeLimitB).
inline constexpr size_t kTotalAnnotationSizeLimitB = 256 * 1024;
void ValidateAnnotations(const Json& annotations, const FieldPath& path, FieldErrors& errors);

// Short printable form of a JSON value for error messages (strings unquoted).
std::string ValueText(const Json& v);

}  // namespace calico::model::validation
