// Reproduces libcalico-go/lib/selector/parser/parser.go and selector.go: the recursive-descent
// parser over the token list, its error messages, Normalise, and the Selector value.
#include "calico/selector/selector.h"

#include <utility>
#include <vector>

#include <fmt/format.h>

#include "calico/selector/tokenizer.h"
#include "calico/selector/unique_id.h"

namespace calico::selector {
namespace {

// Upstream parses with unbounded (growable) Go stacks; we bound parenthesis nesting so hostile
// input cannot overflow the C++ stack. A selector within kMaxSelectorLength (1024) nests at most
// 509 deep ("(" and ")" per level around at least "all()"), so no valid API object is affected.
// This is the one deliberate difference from upstream. 512, not more: under ASan each level
// (ParseOr, ParseAnd, ParseOperation, ParsePrimary) takes about 10 KB of stack, and 1000 levels
// overflowed the default 8 MB stack (ParserTest.AbsurdNestingIsRejectedNotCrashing, make
// asan-test).
constexpr int kMaxNestingDepth = 512;

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : tokens_(tokens) {}

  Result<Node> ParseRoot() {
    if (tokens_.front().kind == TokenKind::kEof) return Node{};
    ASSIGN_OR_RETURN(Node node, ParseOr(0));
    if (tokens_.size() - pos_ != 1) {
      // Go's fmt.Sprint of the remaining []Token: "[TokRParen() TokEOF()]".
      std::string rest;
      for (std::size_t i = pos_; i < tokens_.size(); ++i) {
        if (i != pos_) rest += ' ';
        rest += tokens_[i].DebugString();
      }
      return InvalidArgument(fmt::format("unexpected content at end of selector [{}]", rest));
    }
    return node;
  }

 private:
  const Token& Peek(std::size_t ahead = 0) const { return tokens_[pos_ + ahead]; }

  // or_expr := and_expr ( "||" and_expr )*
  Result<Node> ParseOr(int depth) {
    std::vector<Node> operands;
    ASSIGN_OR_RETURN(Node first, ParseAnd(depth));
    operands.push_back(std::move(first));
    while (Peek().kind == TokenKind::kOr) {
      ++pos_;
      ASSIGN_OR_RETURN(Node next, ParseAnd(depth));
      operands.push_back(std::move(next));
    }
    if (operands.size() == 1) return std::move(operands.front());
    return Node{.kind = NodeKind::kOr, .operands = std::move(operands)};
  }

  // and_expr := op ( "&&" op )*
  Result<Node> ParseAnd(int depth) {
    std::vector<Node> operands;
    ASSIGN_OR_RETURN(Node first, ParseOperation(depth));
    operands.push_back(std::move(first));
    while (Peek().kind == TokenKind::kAnd) {
      ++pos_;
      ASSIGN_OR_RETURN(Node next, ParseOperation(depth));
      operands.push_back(std::move(next));
    }
    if (operands.size() == 1) return std::move(operands.front());
    return Node{.kind = NodeKind::kAnd, .operands = std::move(operands)};
  }

  // op := "!"* primary
  Result<Node> ParseOperation(int depth) {
    // Any number of leading "!" collapse to one negation by parity.
    bool negated = false;
    while (Peek().kind == TokenKind::kNot) {
      negated = !negated;
      ++pos_;
    }
    ASSIGN_OR_RETURN(Node node, ParsePrimary(depth));
    if (!negated) return node;
    Node not_node{.kind = NodeKind::kNot};
    not_node.operands.push_back(std::move(node));
    return not_node;
  }

  Result<Node> ParsePrimary(int depth) {
    const Token& tok = Peek();
    switch (tok.kind) {
      case TokenKind::kHas:
        ++pos_;
        return Node{.kind = NodeKind::kHas, .label = tok.value};
      case TokenKind::kAll:
        ++pos_;
        return Node{.kind = NodeKind::kAll};
      case TokenKind::kGlobal:
        ++pos_;
        return Node{.kind = NodeKind::kGlobal};
      case TokenKind::kLabel:
        return ParseLabelOperation();
      case TokenKind::kLParen: {
        if (depth >= kMaxNestingDepth) return InvalidArgument("selector nested too deeply");
        ++pos_;
        ASSIGN_OR_RETURN(Node inner, ParseOr(depth + 1));
        if (Peek().kind != TokenKind::kRParen) return InvalidArgument("expected )");
        ++pos_;
        return inner;
      }
      default:
        return InvalidArgument(fmt::format("unexpected token: {}", tok.DebugString()));
    }
  }

  // label ( == | != | contains | starts with | ends with ) STRING
  // label ( in | not in ) { [STRING ("," STRING)* [","]] }
  Result<Node> ParseLabelOperation() {
    if (tokens_.size() - pos_ < 3)
      return InvalidArgument("unexpected end of string looking for op");
    const Token& label = Peek(0);
    const Token& op = Peek(1);
    const Token& operand = Peek(2);
    NodeKind kind = NodeKind::kAll;
    switch (op.kind) {
      case TokenKind::kEq:
        kind = NodeKind::kEq;
        break;
      case TokenKind::kNe:
        kind = NodeKind::kNe;
        break;
      case TokenKind::kContains:
        kind = NodeKind::kContains;
        break;
      case TokenKind::kStartsWith:
        kind = NodeKind::kStartsWith;
        break;
      case TokenKind::kEndsWith:
        kind = NodeKind::kEndsWith;
        break;
      case TokenKind::kIn:
      case TokenKind::kNotIn:
        return ParseSetOperation(op.kind == TokenKind::kIn ? NodeKind::kIn : NodeKind::kNotIn);
      default:
        return InvalidArgument(fmt::format("expected == or != not: {}", op.DebugString()));
    }
    if (operand.kind != TokenKind::kStringLiteral) return InvalidArgument("expected string");
    pos_ += 3;
    return Node{.kind = kind, .label = label.value, .value = operand.value};
  }

  Result<Node> ParseSetOperation(NodeKind kind) {
    const Token& label = Peek(0);
    if (Peek(2).kind != TokenKind::kLBrace) return InvalidArgument("expected set literal");
    std::size_t p = pos_ + 3;
    std::vector<std::string> values;
    while (tokens_[p].kind == TokenKind::kStringLiteral) {
      values.push_back(tokens_[p].value);
      ++p;
      if (tokens_[p].kind != TokenKind::kComma) break;
      ++p;
    }
    if (tokens_[p].kind != TokenKind::kRBrace) return InvalidArgument("expected }");
    pos_ = p + 1;
    return Node{.kind = kind, .label = label.value, .values = MakeStringSet(std::move(values))};
  }

  const std::vector<Token>& tokens_;
  std::size_t pos_ = 0;
};

bool ContainsGlobal(const Node& node) {
  if (node.kind == NodeKind::kGlobal) return true;
  for (const auto& op : node.operands) {
    if (ContainsGlobal(op)) return true;
  }
  return false;
}

void CollectLabelKeys(const Node& node, std::set<std::string>& out) {
  if (!node.label.empty()) out.insert(node.label);
  for (const auto& op : node.operands)
    CollectLabelKeys(op, out);
}

void PrefixLabels(Node& node, std::string_view prefix) {
  switch (node.kind) {
    case NodeKind::kHas:
    case NodeKind::kEq:
    case NodeKind::kNe:
    case NodeKind::kContains:
    case NodeKind::kStartsWith:
    case NodeKind::kEndsWith:
    case NodeKind::kIn:
    case NodeKind::kNotIn:
      node.label.insert(0, prefix);
      break;
    default:
      break;
  }
  for (auto& op : node.operands)
    PrefixLabels(op, prefix);
}

// Go's unicode.IsSpace for the code point starting at s[i]; returns its byte length or 0.
std::size_t SpaceLength(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  auto at = [&](std::size_t j) -> unsigned {
    return j < s.size() ? static_cast<unsigned char>(s[j]) : 0u;
  };
  if (c == 0xc2 && (at(i + 1) == 0x85 || at(i + 1) == 0xa0)) return 2;  // NEL, NBSP
  if (c == 0xe1 && at(i + 1) == 0x9a && at(i + 2) == 0x80) return 3;    // U+1680
  if (c == 0xe2 && at(i + 1) == 0x80) {
    unsigned d = at(i + 2);
    if ((d >= 0x80 && d <= 0x8a) || d == 0xa8 || d == 0xa9 || d == 0xaf) return 3;
  }
  if (c == 0xe2 && at(i + 1) == 0x81 && at(i + 2) == 0x9f) return 3;  // U+205F
  if (c == 0xe3 && at(i + 1) == 0x80 && at(i + 2) == 0x80) return 3;  // U+3000
  return 0;
}

// Go's strings.TrimSpace.
std::string_view TrimUnicodeSpace(std::string_view s) {
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t n = SpaceLength(s, start);
    if (n == 0) break;
    start += n;
  }
  s.remove_prefix(start);
  // Trailing: step back over whole code points; find the last non-space code point start.
  std::size_t end = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t n = SpaceLength(s, i);
    if (n == 0) {
      ++i;
      end = i;
      // Keep any UTF-8 continuation bytes with their lead byte.
      while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80)
        end = ++i;
    } else {
      i += n;
    }
  }
  return s.substr(0, end);
}

}  // namespace

Selector::Selector() : Selector(Node{}) {}

Selector::Selector(Node root) {
  auto impl = std::make_shared<Impl>();
  impl->text = root.String();
  impl->unique_id = MakeUniqueId("s", impl->text);
  impl->uses_global = ContainsGlobal(root);
  impl->root = std::move(root);
  impl_ = std::move(impl);
}

const Selector& Selector::All() {
  static const Selector* const kAll = new Selector();
  return *kAll;
}

const Selector& Selector::NoMatch() {
  static const Selector* const kNoMatch = [] {
    Node not_node{.kind = NodeKind::kNot};
    not_node.operands.push_back(Node{});
    return new Selector(std::move(not_node));
  }();
  return *kNoMatch;
}

std::set<std::string> Selector::LabelKeys() const {
  std::set<std::string> out;
  CollectLabelKeys(impl_->root, out);
  return out;
}

Selector Selector::WithLabelPrefix(std::string_view prefix) const {
  Node copy = impl_->root;
  PrefixLabels(copy, prefix);
  return Selector(std::move(copy));
}

Result<Selector> Parse(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  ASSIGN_OR_RETURN(Node root, Parser(tokens).ParseRoot());
  return Selector(std::move(root));
}

Status Validate(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  ASSIGN_OR_RETURN(Node root, Parser(tokens).ParseRoot());
  (void)root;
  return OkStatus();
}

std::string Normalise(std::string_view text) {
  text = TrimUnicodeSpace(text);
  auto sel = Parse(text);
  if (!sel) return std::string(text);
  return sel->String();
}

bool IsGlobalOnly(std::string_view text) {
  auto tokens = Tokenize(text);
  return tokens.has_value() && tokens->size() == 2 && tokens->front().kind == TokenKind::kGlobal;
}

}  // namespace calico::selector
