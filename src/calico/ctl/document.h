// Text forms of resources as calicoctl reads and prints them:
//   * input: YAML/JSON files split into documents on "---" lines
//     (calicoctl/calicoctl/util/yaml/separator.go), each parsed to JSON the way sigs.k8s.io/yaml
//     does (YAML 1.1 scalars: true/false/yes/no/on/off, ints, floats, null);
//   * output: sigs.k8s.io/yaml's Marshal (JSON -> go-yaml v2: keys sorted, block style, sequences
//     not indented under their key, strings quoted only when needed) and Go's
//     json.MarshalIndent (2 spaces, Go struct order for the envelope and metadata, '<', '>', '&'
//     escaped as \u003c \u003e \u0026, no trailing newline).
//
// Known difference: spec fields are printed in alphabetical order in JSON (Go uses struct order),
// and go-yaml's folding of plain scalars longer than 80 columns is not reproduced.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::ctl {

// Splits a stream into YAML documents on lines that are exactly "---" (trailing spaces allowed).
// Documents that hold only whitespace and comments are dropped.
std::vector<std::string> SplitYamlDocuments(std::string_view text);

// Parses one YAML (or JSON) document. A document that is empty gives null.
// Errors: kInvalidArgument "yaml: line N: <problem>".
[[nodiscard]] Result<model::Json> ParseYaml(std::string_view text);

// sigs.k8s.io/yaml Marshal of a JSON value (ends with a newline).
std::string EmitGoYaml(const model::Json& value);

// Go json.MarshalIndent(v, "", "  ") (no trailing newline).
std::string EmitGoJson(const model::Json& value);

}  // namespace calico::ctl
