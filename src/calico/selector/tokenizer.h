// The selector tokenizer (libcalico-go/lib/selector/tokenizer).
//
// Scans left to right; before each token only spaces and tabs are skipped (a newline is not
// whitespace). Operator words (contains, starts with, ends with, in, not in) are only recognised
// directly after a label, so those words can themselves be label names. Error messages are the
// upstream ones ("unterminated string", "expected ==", "label too long: <label>", ...).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"

namespace calico::selector {

// Longest label name accepted in a selector.
inline constexpr std::size_t kMaxLabelLength = 512;

enum class TokenKind {
  kNone,
  kLabel,
  kStringLiteral,
  kLBrace,
  kRBrace,
  kComma,
  kEq,
  kNe,
  kIn,
  kNot,
  kNotIn,
  kContains,
  kStartsWith,
  kEndsWith,
  kAll,
  kHas,
  kLParen,
  kRParen,
  kAnd,
  kOr,
  kGlobal,
  kEof,
};

// Upstream's name for the kind: "TokLabel", "TokStringLiteral", "TokEOF", ...
std::string_view TokenKindName(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::kNone;
  // The label name (kLabel, kHas) or the literal's contents without quotes (kStringLiteral).
  std::string value;

  // Upstream's rendering, used in error messages: "TokLabel(a)", "TokEOF()".
  std::string DebugString() const;
  bool operator==(const Token&) const = default;
};

// Splits `input` into tokens; on success the last token is always kEof.
// Errors: kInvalidArgument with the upstream message.
[[nodiscard]] Result<std::vector<Token>> Tokenize(std::string_view input);

// True if `c` may appear in a label name: [a-zA-Z0-9_./-].
constexpr bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '/' || c == '-';
}

// True if the whole of `label` is one identifier token of 1..kMaxLabelLength characters
// (upstream tokenizer.ValidLabel).
bool ValidLabel(std::string_view label);

}  // namespace calico::selector
