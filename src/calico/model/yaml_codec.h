// The one YAML codec of the project (calicoctl's input and output, `calicoctl datastore migrate`,
// the calicoctl configuration file), reproducing what calicoctl does with sigs.k8s.io/yaml on
// go-yaml v2:
//   * input: streams split into documents on "---" lines (calicoctl/calicoctl/util/yaml/
//     separator.go); each document parsed by libyaml (go-yaml is a Go port of it, so scanner and
//     parser errors read the same: "yaml: line 3: mapping values are not allowed in this
//     context") and decoded to JSON with YAML 1.1 scalars (true/false/yes/no/on/off, ints in any
//     base, floats, null), merge keys (<<) and go-yaml's strict-mode and safety rules:
//       - a key twice in one mapping: "yaml: unmarshal errors:\n  line 4: key \"a\" already set
//         in map" (yaml.UnmarshalStrict, which calicoctl's resource loader uses);
//       - an alias inside its own anchor: "yaml: anchor 'r' value contains itself";
//       - alias expansion over go-yaml's ratio: "yaml: document contains excessive aliasing";
//       - nesting deeper than kMaxNestingDepth, documents over kMaxDocumentBytes, streams over
//         kMaxStreamBytes or kMaxDocuments (decode_limits.h), each error naming its limit.
//     A UTF-8 byte-order mark at the start is skipped (as go-yaml does); other invalid UTF-8 is
//     refused with its byte offset.
//   * output: sigs.k8s.io/yaml's Marshal (JSON -> go-yaml v2: keys sorted, block style, sequences
//     not indented under their key, strings quoted only when needed).
//
// Known difference: go-yaml's folding of plain scalars longer than 80 columns is not reproduced.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/decode_limits.h"
#include "calico/model/resource.h"

namespace calico::model {

// Splits a stream into YAML documents on lines that are exactly "---" (trailing spaces allowed).
// Documents that hold only whitespace and comments are dropped.
std::vector<std::string> SplitYamlDocuments(std::string_view text);

// Parses one YAML (or JSON) document; an empty document gives null. Only the first document of
// `text` is read (as go-yaml's Unmarshal). Errors: kInvalidArgument "yaml: ..." as above.
[[nodiscard]] Result<Json> ParseYaml(std::string_view text,
                                     const DecodeLimits& limits = kDefaultDecodeLimits);

// Splits and parses a whole stream with the stream limits; documents that are empty or null are
// left out.
[[nodiscard]] Result<std::vector<Json>> ParseYamlStream(
    std::string_view text, const DecodeLimits& limits = kDefaultDecodeLimits);

// sigs.k8s.io/yaml Marshal of a JSON value (ends with a newline).
std::string EmitGoYaml(const Json& value);

}  // namespace calico::model
