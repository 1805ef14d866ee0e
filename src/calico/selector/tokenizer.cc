// Reproduces libcalico-go/lib/selector/tokenizer: token set, whitespace rules, operator words
// recognised only after a label, and the upstream error messages.
#include "calico/selector/tokenizer.h"

#include <array>

#include <fmt/format.h>

namespace calico::selector {
namespace {

constexpr std::array<std::string_view, 22> kKindNames = {
    "TokNone",       "TokLabel",    "TokStringLiteral",
    "TokLBrace",     "TokRBrace",   "TokComma",
    "TokEq",         "TokNe",       "TokIn",
    "TokNot",        "TokNotIn",    "TokContains",
    "TokStartsWith", "TokEndsWith", "TokAll",
    "TokHas",        "TokLParen",   "TokRParen",
    "TokAnd",        "TokOr",       "TokGlobal",
    "TokEOF",
};

// Only spaces and tabs count as whitespace between tokens.
std::string_view TrimWhitespace(std::string_view in) {
  std::size_t i = 0;
  while (i < in.size() && (in[i] == ' ' || in[i] == '\t'))
    ++i;
  return in.substr(i);
}

bool CutPrefix(std::string_view& in, std::string_view prefix) {
  if (in.substr(0, prefix.size()) != prefix) return false;
  in.remove_prefix(prefix.size());
  return true;
}

// End of input is a word boundary; so is any character that cannot continue a label.
bool IsWordBoundary(std::string_view in) {
  return in.empty() || !IsIdentifierChar(in[0]);
}

// Cuts `word` if followed by a word boundary.
bool CutWord(std::string_view& in, std::string_view word) {
  std::string_view rest = in;
  if (!CutPrefix(rest, word) || !IsWordBoundary(rest)) return false;
  in = rest;
  return true;
}

// Cuts "first ws* second ws*" if followed by a word boundary. Like upstream, only the end of the
// last word is checked, so "notin" and "startswith" are accepted, and whitespace after the last
// word is consumed before the boundary check.
bool CutTwoWords(std::string_view& in, std::string_view first, std::string_view second) {
  std::string_view rest = in;
  if (!CutPrefix(rest, first)) return false;
  rest = TrimWhitespace(rest);
  if (!CutPrefix(rest, second)) return false;
  rest = TrimWhitespace(rest);
  if (!IsWordBoundary(rest)) return false;
  in = rest;
  return true;
}

// Cuts a maximal run of identifier characters; 1..kMaxLabelLength of them.
Result<std::string> CutIdentifier(std::string_view& in) {
  std::size_t n = 0;
  while (n < in.size() && IsIdentifierChar(in[n]))
    ++n;
  std::string_view ident = in.substr(0, n);
  if (ident.size() > kMaxLabelLength) {
    return InvalidArgument(fmt::format("label too long: {}", ident));
  }
  if (ident.empty()) return InvalidArgument("expected identifier");
  in.remove_prefix(n);
  return std::string(ident);
}

}  // namespace

std::string_view TokenKindName(TokenKind kind) {
  auto idx = static_cast<std::size_t>(kind);
  if (idx < kKindNames.size()) return kKindNames[idx];
  return "Kind(?)";
}

std::string Token::DebugString() const {
  return fmt::format("{}({})", TokenKindName(kind), value);
}

Result<std::vector<Token>> Tokenize(std::string_view input) {
  std::vector<Token> tokens;
  for (;;) {
    input = TrimWhitespace(input);
    if (input.empty()) {
      tokens.push_back(Token{TokenKind::kEof, {}});
      return tokens;
    }
    const bool after_label = !tokens.empty() && tokens.back().kind == TokenKind::kLabel;
    switch (input[0]) {
      case '(':
        tokens.push_back(Token{TokenKind::kLParen, {}});
        input.remove_prefix(1);
        break;
      case ')':
        tokens.push_back(Token{TokenKind::kRParen, {}});
        input.remove_prefix(1);
        break;
      case '{':
        tokens.push_back(Token{TokenKind::kLBrace, {}});
        input.remove_prefix(1);
        break;
      case '}':
        tokens.push_back(Token{TokenKind::kRBrace, {}});
        input.remove_prefix(1);
        break;
      case ',':
        tokens.push_back(Token{TokenKind::kComma, {}});
        input.remove_prefix(1);
        break;
      case '"':
      case '\'': {
        // Everything up to the next identical quote; no escapes.
        const char quote = input[0];
        input.remove_prefix(1);
        std::size_t end = input.find(quote);
        if (end == std::string_view::npos) return InvalidArgument("unterminated string");
        tokens.push_back(Token{TokenKind::kStringLiteral, std::string(input.substr(0, end))});
        input.remove_prefix(end + 1);
        break;
      }
      case '=':
        if (!CutPrefix(input, "==")) return InvalidArgument("expected ==");
        tokens.push_back(Token{TokenKind::kEq, {}});
        break;
      case '!':
        if (CutPrefix(input, "!=")) {
          tokens.push_back(Token{TokenKind::kNe, {}});
        } else {
          input.remove_prefix(1);
          tokens.push_back(Token{TokenKind::kNot, {}});
        }
        break;
      case '&':
        if (!CutPrefix(input, "&&")) return InvalidArgument("expected &&");
        tokens.push_back(Token{TokenKind::kAnd, {}});
        break;
      case '|':
        if (!CutPrefix(input, "||")) return InvalidArgument("expected ||");
        tokens.push_back(Token{TokenKind::kOr, {}});
        break;
      default:
        if (after_label) {
          // After a label only an operator word may follow.
          if (CutWord(input, "contains")) {
            tokens.push_back(Token{TokenKind::kContains, {}});
          } else if (CutTwoWords(input, "starts", "with")) {
            tokens.push_back(Token{TokenKind::kStartsWith, {}});
          } else if (CutTwoWords(input, "ends", "with")) {
            tokens.push_back(Token{TokenKind::kEndsWith, {}});
          } else if (CutTwoWords(input, "not", "in")) {
            tokens.push_back(Token{TokenKind::kNotIn, {}});
          } else if (CutWord(input, "in")) {
            tokens.push_back(Token{TokenKind::kIn, {}});
          } else {
            // Go's %q of the label: labels only hold identifier characters, so plain quoting is
            // exact.
            return InvalidArgument(
                fmt::format("expected operator after label \"{}\"", tokens.back().value));
          }
        } else if (CutPrefix(input, "has(")) {
          input = TrimWhitespace(input);
          auto ident = CutIdentifier(input);
          if (!ident) return Unexpected(std::move(ident).error());
          input = TrimWhitespace(input);
          if (!CutPrefix(input, ")")) return InvalidArgument("no closing ')' after has(");
          tokens.push_back(Token{TokenKind::kHas, std::move(*ident)});
        } else if (CutPrefix(input, "all(")) {
          input = TrimWhitespace(input);
          if (!CutPrefix(input, ")")) return InvalidArgument("no closing ')' after all(");
          tokens.push_back(Token{TokenKind::kAll, {}});
        } else if (CutPrefix(input, "global(")) {
          input = TrimWhitespace(input);
          if (!CutPrefix(input, ")")) return InvalidArgument("no closing ')' after global(");
          tokens.push_back(Token{TokenKind::kGlobal, {}});
        } else {
          auto ident = CutIdentifier(input);
          if (!ident) return Unexpected(std::move(ident).error());
          tokens.push_back(Token{TokenKind::kLabel, std::move(*ident)});
        }
        break;
    }
  }
}

bool ValidLabel(std::string_view label) {
  auto ident = CutIdentifier(label);
  return ident.has_value() && label.empty();
}

}  // namespace calico::selector
