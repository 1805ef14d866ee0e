// Schema-driven checks for the infra family (the OpenAPI part of projectcalico.org/v3 CRD
// validation in libcalico-go/lib/validator/v3 defaultAndValidateCRD, plus Go decoding rules:
// strict field names, JSON types, metav1.Duration text, unsigned widths, go-playground tags).
//
// A schema node is compact JSON: t (object|array|string|integer|boolean|number|intorstr),
// p (properties), i (items), m (map values), e (enum), pat, min, max, maxL, minL, maxI, minI,
// fmt, req, def, dur (Go duration text), umax (unsigned Go width), go (validator tag), asn.
//
// Thread-safety: the parsed schemas are built once (function-local statics); all functions are
// pure otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "calico/model/field_errors.h"
#include "calico/model/resource.h"

namespace calico::model::validation {

// Raw schema text per kind ({"spec":..., "status":...}); empty for unknown kinds.
std::string_view InfraSchemaText(std::string_view kind);
// Parsed schema per kind (Node included); nullptr for kinds outside the infra family.
const Json* InfraSchema(std::string_view kind);

// Rewrites every valid metav1.Duration text under `value` (schema "dur") as Go prints it
// (time.Duration.String: "125s" -> "2m5s"); invalid texts are left for CheckSchema.
void FormatSchemaDurations(const Json& schema, Json& value);
// Structural CRD defaulting: fills `def` values of absent properties of present objects.
void ApplySchemaDefaults(const Json& schema, Json& value);
// Reports unknown fields, wrong types and OpenAPI/Go-tag violations under `path`.
void CheckSchema(const Json& schema, const Json& value, const FieldPath& path, FieldErrors& errors);

// BGPPeer peerIP forms (validator.go processIPPort): "IP", "IPv4:port" or "[IPv6]:port" with
// port 1..65535. Returns the IP text, or nullopt when invalid.
std::optional<std::string> ProcessIPPort(std::string_view text);

// Go time.ParseDuration: nanoseconds, or nullopt when the text is not a Go duration.
std::optional<int64_t> ParseGoDuration(std::string_view text);
// Go's metav1.Duration rendering (time.Duration.String): "1m30s", "0s", "1.5s", "100ms".
std::string FormatGoDuration(int64_t ns);

}  // namespace calico::model::validation
