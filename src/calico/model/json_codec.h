// JSON in and out with the limits of decode_limits.h:
//   * ParseJson: size checked first, then a linear pre-scan of the nesting depth (nlohmann::json
//     parses without recursion, but copying, comparing and dumping a value recurse, so a value
//     20000 levels deep would overflow the stack later), then nlohmann's parser.
//   * ParseStoredJson: the same for a value read from etcd or the embedded store.
//   * CheckJsonLimits: for values built in memory (a patched resource) before they are stored.
//   * EmitGoJson: Go's json.MarshalIndent(v, "", "  ") as calicoctl prints resources.
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

// Errors (kInvalidArgument): "json: document of N bytes exceeds the max document size of M
// bytes", "json: exceeded max nesting depth of 512", "json: <parser message>" (with line and
// column). Duplicate keys keep the last value, as Go's encoding/json does.
[[nodiscard]] Result<Json> ParseJson(std::string_view text, size_t max_bytes = kMaxDocumentBytes,
                                     int max_depth = kMaxNestingDepth);

// ParseJson with the stored-value limits; errors name `key`.
[[nodiscard]] Result<Json> ParseStoredJson(std::string_view key, std::string_view value);

// For readers that skip what they cannot use: ParseStoredJson's value, or a discarded value
// (is_discarded(), not an object) after logging a warning that names `key` and the reason.
Json ReadStoredJson(std::string_view key, std::string_view value);

// kInvalidArgument when `text` nests arrays/objects deeper than `max_depth` (strings skipped).
[[nodiscard]] Status CheckJsonTextDepth(std::string_view text, int max_depth);

// The nesting depth of `value` (a scalar is 0, [] is 1), computed without recursion; stops
// counting once it passes `stop_after`.
int JsonDepth(const Json& value, int stop_after = kMaxNestingDepth);

// kInvalidArgument when `value` is deeper than kMaxNestingDepth or its dump is larger than
// `max_bytes`; `what` names the value in the message.
[[nodiscard]] Status CheckJsonLimits(const Json& value, std::string_view what,
                                     size_t max_bytes = kMaxStoredValueBytes);

// Go json.MarshalIndent(v, "", "  ") (no trailing newline): Go struct order for the envelope and
// metadata, '<', '>', '&' escaped as \u003c \u003e \u0026.
std::string EmitGoJson(const Json& value);

// Kubernetes ObjectMeta's JSON fields in Go struct order (apimachinery's ObjectMeta): the order
// EmitGoJson prints them in, and the fields calicoctl's loader accepts in metadata.
const std::vector<std::string>& ObjectMetaFieldOrder();

// A number as Go's encoding prints it (integral floats without a fraction).
std::string GoNumber(const Json& value);

}  // namespace calico::model
