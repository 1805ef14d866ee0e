// Go text/template subset (text/template/parse lex.go, parse.go, node.go; text/template exec.go,
// funcs.go; fmt's %v) for calicoctl's -o go-template output.
// Size: over 700 lines because it is one small interpreter (lexer, parser, evaluator, the
// built-in functions and fmt's %v) whose parts share the node types declared here only.
#include "calico/ctl/go_template.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <ostream>
#include <vector>

#include <fmt/format.h>

#include "calico/base/numbers.h"
#include "calico/ctl/table.h"

namespace calico::ctl {
namespace go_template_internal {

using model::Json;

struct Pipeline;

// One operand of a command.
struct Operand {
  enum class Kind { kDot, kField, kVariable, kLiteral, kFunction, kPipeline } kind = Kind::kDot;
  std::string name;                 // variable ($x) or function name
  std::vector<std::string> fields;  // field chain after the operand (.A.B)
  Json literal;                     // kLiteral
  std::shared_ptr<Pipeline> pipe;   // kPipeline
  std::string text;                 // as written, for error messages
};

struct Command {
  std::vector<Operand> args;
  std::string text;  // the operands' texts joined by spaces (text/template's CommandNode.String)
};

struct Pipeline {
  std::vector<std::string> decl;  // variables declared or assigned
  bool assign = false;            // $x = ... (not :=)
  std::vector<Command> cmds;
  int line = 1;
  int col = 0;
  std::string text;  // the action's text, for error messages
};

struct Node {
  enum class Kind {
    kList,
    kText,
    kAction,
    kIf,
    kRange,
    kWith,
    kBreak,
    kContinue
  } kind = Kind::kList;
  std::string text;
  std::shared_ptr<Pipeline> pipe;
  std::vector<std::shared_ptr<Node>> list;  // kList children, or the body
  std::shared_ptr<Node> else_list;          // may be null
};

namespace {

// ---- lexing and parsing -------------------------------------------------------------------------

struct Token {
  enum class Kind {
    kIdent,
    kField,
    kVariable,
    kString,
    kNumber,
    kLParen,
    kRParen,
    kPipe,
    kDeclare,
    kAssign,
    kComma,
    kDot,
    kBool,
    kNil
  } kind;
  std::string text;
  Json value;
};

class Parser {
 public:
  Parser(std::string_view src, std::string name) : src_(src), name_(std::move(name)) {}

  Result<std::shared_ptr<Node>> ParseAll() {
    std::string end;
    ASSIGN_OR_RETURN(auto list, ParseList(end));
    if (!end.empty()) return Fail(fmt::format("unexpected {{{{{}}}}}", end));
    return list;
  }

 private:
  tl::unexpected<Error> Fail(std::string_view msg) const {
    return InvalidArgument(fmt::format("template: {}:{}: {}", name_, line_, msg));
  }

  // Parses nodes until {{end}}, {{else ...}} or the end of input. `terminator` receives "end",
  // "else" (then rest_ holds what follows the else keyword), or "" at the end of input.
  Result<std::shared_ptr<Node>> ParseList(std::string& terminator) {
    auto list = std::make_shared<Node>();
    list->kind = Node::Kind::kList;
    terminator.clear();
    while (pos_ < src_.size()) {
      const size_t open = src_.find("{{", pos_);
      const size_t text_start = pos_;
      std::string text(
          src_.substr(pos_, open == std::string_view::npos ? std::string_view::npos : open - pos_));
      pos_ = open == std::string_view::npos ? src_.size() : open;
      line_ += static_cast<int>(std::count(src_.begin() + static_cast<std::ptrdiff_t>(text_start),
                                           src_.begin() + static_cast<std::ptrdiff_t>(pos_), '\n'));
      bool trim_left = false;
      if (open != std::string_view::npos && src_.size() > open + 3 && src_[open + 2] == '-' &&
          std::string_view(" \t\r\n").find(src_[open + 3]) != std::string_view::npos) {
        trim_left = true;
      }
      if (trim_left) {
        while (!text.empty() && std::string_view(" \t\r\n").find(text.back()) != std::string::npos)
          text.pop_back();
      }
      if (trim_right_) {
        size_t k = 0;
        while (k < text.size() && std::string_view(" \t\r\n").find(text[k]) != std::string::npos)
          ++k;
        text.erase(0, k);
        trim_right_ = false;
      }
      if (!text.empty()) {
        auto t = std::make_shared<Node>();
        t->kind = Node::Kind::kText;
        t->text = text;
        list->list.push_back(t);
      }
      if (open == std::string_view::npos) break;
      // The action's text, up to the matching "}}" (quotes and raw strings may hold braces).
      size_t i = open + (trim_left ? 4 : 2);
      const int action_line = line_;
      const size_t action_start = i;
      // text/template reports the column as the byte offset of the action's text in its line.
      const size_t nl = open == 0 ? std::string_view::npos : src_.rfind('\n', open - 1);
      const int action_col =
          static_cast<int>(nl == std::string_view::npos ? action_start : action_start - nl - 1);
      size_t close = std::string_view::npos;
      bool comment = false;
      {
        size_t j = i;
        while (j < src_.size() && (src_[j] == ' ' || src_[j] == '\t' || src_[j] == '\n'))
          ++j;
        if (src_.substr(j, 2) == "/*") {
          comment = true;
          const size_t end = src_.find("*/", j + 2);
          if (end == std::string_view::npos) return Fail("unclosed comment");
          size_t k = end + 2;
          while (k < src_.size() && (src_[k] == ' ' || src_[k] == '\t' || src_[k] == '\n'))
            ++k;
          if (src_.substr(k, 2) == "}}") {
            close = k;
          } else if (src_.substr(k, 3) == "-}}") {
            close = k;
          } else {
            return Fail("comment ends before closing delimiter");
          }
        }
      }
      if (!comment) {
        char quote = 0;
        for (size_t j = i; j < src_.size(); ++j) {
          const char c = src_[j];
          if (quote != 0) {
            if (c == '\\' && quote != '`') {
              ++j;
            } else if (c == quote) {
              quote = 0;
            } else if (c == '\n' && quote != '`') {
              return Fail("unterminated quoted string");
            }
            continue;
          }
          if (c == '"' || c == '`' || c == '\'') {
            quote = c;
            continue;
          }
          if (src_.substr(j, 2) == "}}") {
            close = j;
            break;
          }
        }
        if (close == std::string_view::npos) return Fail("unclosed action");
      }
      std::string body(src_.substr(action_start, close - action_start));
      bool trim_right = false;
      if (body.size() >= 2 && body.back() == '-' &&
          std::string_view(" \t\n").find(body[body.size() - 2]) != std::string::npos) {
        trim_right = true;
        body.pop_back();
      } else if (comment && src_.substr(close, 3) == "-}}") {
        trim_right = true;
      }
      line_ += static_cast<int>(std::count(body.begin(), body.end(), '\n'));
      pos_ = close + (comment && src_.substr(close, 3) == "-}}" ? 3 : 2);
      trim_right_ = trim_right;
      if (comment) continue;
      ASSIGN_OR_RETURN(std::vector<Token> toks, Lex(body));
      if (toks.empty()) return Fail("missing value for command");
      const std::string kw = toks[0].kind == Token::Kind::kIdent ? toks[0].text : "";
      std::vector<Token> rest(toks.begin() + 1, toks.end());
      if (kw == "end") {
        if (!rest.empty()) return Fail(fmt::format("unexpected {} in end", rest[0].text));
        terminator = "end";
        return list;
      }
      if (kw == "else") {
        terminator = "else";
        else_rest_ = rest;
        return list;
      }
      if (kw == "if" || kw == "range" || kw == "with") {
        ASSIGN_OR_RETURN(auto node, ParseControl(kw, rest, action_line, body));
        node->pipe->col = action_col;
        list->list.push_back(node);
        continue;
      }
      if (kw == "break" || kw == "continue") {
        if (range_depth_ == 0) return Fail(fmt::format("{{{{{}}}}} outside {{{{range}}}}", kw));
        auto n = std::make_shared<Node>();
        n->kind = kw == "break" ? Node::Kind::kBreak : Node::Kind::kContinue;
        list->list.push_back(n);
        continue;
      }
      if (kw == "define" || kw == "template" || kw == "block") {
        return Fail(fmt::format("{{{{{}}}}} is not supported by this calicoctl", kw));
      }
      auto n = std::make_shared<Node>();
      n->kind = Node::Kind::kAction;
      ASSIGN_OR_RETURN(n->pipe, ParsePipeline(toks, "command", /*allow_decl=*/true));
      n->pipe->line = action_line;
      n->pipe->col = action_col;
      n->pipe->text = body;
      list->list.push_back(n);
    }
    return list;
  }

  Result<std::shared_ptr<Node>> ParseControl(const std::string& kw, std::vector<Token> toks,
                                             int line, const std::string& body) {
    auto n = std::make_shared<Node>();
    n->kind =
        kw == "if" ? Node::Kind::kIf : (kw == "range" ? Node::Kind::kRange : Node::Kind::kWith);
    if (toks.empty()) return Fail(fmt::format("missing value for {}", kw));
    ASSIGN_OR_RETURN(n->pipe, ParsePipeline(toks, kw, /*allow_decl=*/true));
    n->pipe->line = line;
    n->pipe->text = body;
    if (n->kind == Node::Kind::kRange) ++range_depth_;
    std::string term;
    auto body_list = ParseList(term);
    if (n->kind == Node::Kind::kRange) --range_depth_;
    if (!body_list) return Unexpected(body_list.error());
    n->list.push_back(*body_list);
    if (term.empty()) return Fail("unexpected EOF");
    if (term == "else") {
      std::vector<Token> after = else_rest_;
      if (!after.empty() && after[0].kind == Token::Kind::kIdent &&
          (after[0].text == "if" || (after[0].text == "with" && kw == "with"))) {
        // {{else if ...}}: a nested if that ends at this if's {{end}}.
        const std::string nested_kw = after[0].text;
        std::vector<Token> cond(after.begin() + 1, after.end());
        ASSIGN_OR_RETURN(auto nested, ParseControl(nested_kw, cond, line_, body));
        auto wrap = std::make_shared<Node>();
        wrap->kind = Node::Kind::kList;
        wrap->list.push_back(nested);
        n->else_list = wrap;
        return n;
      }
      if (!after.empty()) return Fail(fmt::format("unexpected {} in else", after[0].text));
      std::string term2;
      ASSIGN_OR_RETURN(n->else_list, ParseList(term2));
      if (term2.empty()) return Fail("unexpected EOF");
      if (term2 != "end") return Fail("expected end; found {{else}}");
    }
    return n;
  }

  Result<std::shared_ptr<Pipeline>> ParsePipeline(const std::vector<Token>& toks,
                                                  std::string_view context, bool allow_decl) {
    auto p = std::make_shared<Pipeline>();
    size_t i = 0;
    // Declarations: $x := / $x = / $i, $e :=.
    if (allow_decl && !toks.empty() && toks[0].kind == Token::Kind::kVariable &&
        toks[0].text.find('.') == std::string::npos) {
      size_t j = 0;
      std::vector<std::string> vars{toks[0].text};
      if (toks.size() > 2 && toks[1].kind == Token::Kind::kComma &&
          toks[2].kind == Token::Kind::kVariable) {
        vars.push_back(toks[2].text);
        j = 3;
      } else {
        j = 1;
      }
      if (j < toks.size() &&
          (toks[j].kind == Token::Kind::kDeclare || toks[j].kind == Token::Kind::kAssign)) {
        p->decl = vars;
        p->assign = toks[j].kind == Token::Kind::kAssign;
        i = j + 1;
        for (const auto& v : vars) {
          if (!p->assign) vars_.push_back(v);
        }
      }
    }
    Command cmd;
    for (; i < toks.size(); ++i) {
      const Token& t = toks[i];
      if (t.kind == Token::Kind::kPipe) {
        if (cmd.args.empty()) return Fail("missing command");
        for (const auto& a : cmd.args)
          cmd.text += (cmd.text.empty() ? "" : " ") + a.text;
        p->cmds.push_back(std::move(cmd));
        cmd = Command{};
        continue;
      }
      if (t.kind == Token::Kind::kRParen) return Fail("unexpected right paren");
      if (t.kind == Token::Kind::kLParen) {
        // Find the matching paren.
        int depth = 0;
        size_t j = i;
        for (; j < toks.size(); ++j) {
          if (toks[j].kind == Token::Kind::kLParen) ++depth;
          if (toks[j].kind == Token::Kind::kRParen && --depth == 0) break;
        }
        if (j >= toks.size()) return Fail("unclosed left paren");
        std::vector<Token> inner(toks.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                 toks.begin() + static_cast<std::ptrdiff_t>(j));
        if (inner.empty()) return Fail("missing value for parenthesized pipeline");
        Operand op;
        op.kind = Operand::Kind::kPipeline;
        ASSIGN_OR_RETURN(op.pipe, ParsePipeline(inner, "parenthesized pipeline", false));
        op.text = "(...)";
        i = j;
        // A field chain may follow: (index .Items 0).Spec.
        if (i + 1 < toks.size() && toks[i + 1].kind == Token::Kind::kField &&
            toks[i + 1].text.rfind('.', 0) == 0) {
          op.fields = SplitFields(toks[i + 1].text);
          ++i;
        }
        cmd.args.push_back(std::move(op));
        continue;
      }
      ASSIGN_OR_RETURN(Operand op, MakeOperand(t));
      cmd.args.push_back(std::move(op));
    }
    if (cmd.args.empty()) {
      return Fail(p->cmds.empty() ? fmt::format("missing value for {}", context)
                                  : std::string("missing command"));
    }
    for (const auto& a : cmd.args)
      cmd.text += (cmd.text.empty() ? "" : " ") + a.text;
    p->cmds.push_back(std::move(cmd));
    // Only the first word of a command may be a function taking arguments; a literal or field
    // there cannot take any.
    for (const Command& c : p->cmds) {
      if (c.args.size() > 1 && c.args[0].kind != Operand::Kind::kFunction &&
          c.args[0].kind != Operand::Kind::kField) {
        return Fail(fmt::format("can't give argument to non-function {}", c.args[0].text));
      }
    }
    return p;
  }

  static std::vector<std::string> SplitFields(const std::string& chain) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < chain.size()) {
      if (chain[i] == '.') ++i;
      const size_t end = chain.find('.', i);
      out.push_back(chain.substr(i, end == std::string::npos ? std::string::npos : end - i));
      i = end == std::string::npos ? chain.size() : end;
    }
    return out;
  }

  Result<Operand> MakeOperand(const Token& t) {
    Operand op;
    op.text = t.text;
    switch (t.kind) {
      case Token::Kind::kDot:
        op.kind = Operand::Kind::kDot;
        return op;
      case Token::Kind::kField:
        op.kind = Operand::Kind::kField;
        op.fields = SplitFields(t.text);
        return op;
      case Token::Kind::kVariable: {
        op.kind = Operand::Kind::kVariable;
        const size_t dot = t.text.find('.');
        op.name = t.text.substr(0, dot);
        if (dot != std::string::npos) op.fields = SplitFields(t.text.substr(dot));
        if (op.name != "$" && std::find(vars_.begin(), vars_.end(), op.name) == vars_.end()) {
          return Fail(fmt::format("undefined variable \"{}\"", op.name));
        }
        return op;
      }
      case Token::Kind::kString:
      case Token::Kind::kNumber:
      case Token::Kind::kBool:
      case Token::Kind::kNil:
        op.kind = Operand::Kind::kLiteral;
        op.literal = t.value;
        return op;
      case Token::Kind::kIdent: {
        static const std::vector<std::string> kFuncs = {
            "and", "or", "not", "len", "index", "print", "printf",          "println", "eq",
            "ne",  "lt", "le",  "gt",  "ge",    "join",  "joinAndTruncate", "config"};
        if (std::find(kFuncs.begin(), kFuncs.end(), t.text) == kFuncs.end()) {
          return Fail(fmt::format("function \"{}\" not defined", t.text));
        }
        op.kind = Operand::Kind::kFunction;
        op.name = t.text;
        return op;
      }
      default:
        return Fail(fmt::format("unexpected {} in operand", t.text));
    }
  }

  Result<std::vector<Token>> Lex(const std::string& s) {
    std::vector<Token> out;
    size_t i = 0;
    auto is_alnum = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    };
    while (i < s.size()) {
      const char c = s[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
        continue;
      }
      if (c == '(' || c == ')' || c == '|' || c == ',') {
        Token::Kind k = c == '('
                            ? Token::Kind::kLParen
                            : (c == ')' ? Token::Kind::kRParen
                                        : (c == '|' ? Token::Kind::kPipe : Token::Kind::kComma));
        out.push_back({k, std::string(1, c), {}});
        ++i;
        continue;
      }
      if (s.compare(i, 2, ":=") == 0) {
        out.push_back({Token::Kind::kDeclare, ":=", {}});
        i += 2;
        continue;
      }
      if (c == '=') {
        out.push_back({Token::Kind::kAssign, "=", {}});
        ++i;
        continue;
      }
      if (c == '"') {
        std::string v;
        size_t j = i + 1;
        for (; j < s.size() && s[j] != '"'; ++j) {
          if (s[j] == '\\' && j + 1 < s.size()) {
            const char e = s[++j];
            switch (e) {
              case 'n':
                v.push_back('\n');
                break;
              case 't':
                v.push_back('\t');
                break;
              case 'r':
                v.push_back('\r');
                break;
              case '\\':
                v.push_back('\\');
                break;
              case '"':
                v.push_back('"');
                break;
              case '\'':
                v.push_back('\'');
                break;
              default:
                return Fail(fmt::format("invalid syntax: \\{}", e));
            }
          } else {
            v.push_back(s[j]);
          }
        }
        if (j >= s.size()) return Fail("unterminated quoted string");
        out.push_back({Token::Kind::kString, s.substr(i, j + 1 - i), Json(v)});
        i = j + 1;
        continue;
      }
      if (c == '`') {
        const size_t j = s.find('`', i + 1);
        if (j == std::string::npos) return Fail("unterminated raw quoted string");
        out.push_back(
            {Token::Kind::kString, s.substr(i, j + 1 - i), Json(s.substr(i + 1, j - i - 1))});
        i = j + 1;
        continue;
      }
      if (c == '\'') {
        // A character constant: its code point as a number.
        if (i + 2 < s.size() && s[i + 2] == '\'') {
          out.push_back({Token::Kind::kNumber, s.substr(i, 3),
                         Json(static_cast<int64_t>(static_cast<unsigned char>(s[i + 1])))});
          i += 3;
          continue;
        }
        return Fail("unterminated character constant");
      }
      if (c == '.' || c == '$') {
        size_t j = i + 1;
        while (j < s.size() && (is_alnum(s[j]) || s[j] == '.'))
          ++j;
        std::string text = s.substr(i, j - i);
        if (text == ".") {
          out.push_back({Token::Kind::kDot, ".", {}});
        } else if (c == '.') {
          if (text.find("..") != std::string::npos || text.back() == '.') {
            return Fail(fmt::format("bad character {} in field", text));
          }
          out.push_back({Token::Kind::kField, text, {}});
        } else {
          out.push_back({Token::Kind::kVariable, text, {}});
        }
        i = j;
        continue;
      }
      if ((c >= '0' && c <= '9') ||
          ((c == '-' || c == '+') && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9')) {
        size_t j = i + 1;
        while (j < s.size() &&
               (is_alnum(s[j]) || s[j] == '.' ||
                ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E'))))
          ++j;
        std::string text = s.substr(i, j - i);
        // Go's number syntax: decimal or 0x/0o/0b integers, floats; a leading sign.
        std::string_view digits = text;
        const bool negative = !digits.empty() && digits[0] == '-';
        if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
        Json v;
        int base = 10;
        if (digits.size() > 2 && digits[0] == '0') {
          const char p = static_cast<char>(digits[1] | 0x20);
          base = p == 'x' ? 16 : (p == 'o' ? 8 : (p == 'b' ? 2 : 10));
          if (base != 10) digits.remove_prefix(2);
        }
        if (base != 10 || text.find_first_of(".eE") == std::string::npos) {
          auto n = ParseInt<int64_t>(digits, base);
          if (!n) return Fail(fmt::format("bad number syntax: \"{}\"", text));
          v = negative ? -*n : *n;
        } else {
          auto d = ParseDouble(text);
          if (!d) return Fail(fmt::format("bad number syntax: \"{}\"", text));
          v = *d;
        }
        out.push_back({Token::Kind::kNumber, text, v});
        i = j;
        continue;
      }
      if (is_alnum(c)) {
        size_t j = i;
        while (j < s.size() && is_alnum(s[j]))
          ++j;
        std::string word = s.substr(i, j - i);
        if (word == "true" || word == "false") {
          out.push_back({Token::Kind::kBool, word, Json(word == "true")});
        } else if (word == "nil") {
          out.push_back({Token::Kind::kNil, word, Json()});
        } else {
          out.push_back({Token::Kind::kIdent, word, {}});
        }
        // A field chain directly after an identifier is not Go syntax we support.
        i = j;
        continue;
      }
      return Fail(fmt::format("unexpected \"{}\" in command", std::string(1, c)));
    }
    return out;
  }

  std::string_view src_;
  std::string name_;
  size_t pos_ = 0;
  int line_ = 1;
  bool trim_right_ = false;
  int range_depth_ = 0;
  std::vector<Token> else_rest_;
  std::vector<std::string> vars_{"$"};
};

// ---- execution ----------------------------------------------------------------------------------

// fmt's %v of a value: strings as they are, numbers as Go prints float64/int, lists [a b],
// maps map[k:v] with sorted keys, absent values empty.
std::string PrintValue(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "";
    case Json::value_t::string:
      return v.get<std::string>();
    case Json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case Json::value_t::number_integer:
      return std::to_string(v.get<int64_t>());
    case Json::value_t::number_unsigned:
      return std::to_string(v.get<uint64_t>());
    case Json::value_t::number_float:
      return GoFloat(v.get<double>());
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += " ";
        out += v[i].is_null() ? "<nil>" : PrintValue(v[i]);
      }
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "map[";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += " ";
        first = false;
        out += it.key() + ":" + (it.value().is_null() ? "<nil>" : PrintValue(it.value()));
      }
      return out + "]";
    }
    default:
      return v.dump();
  }
}

std::string GoTypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "int";
    case Json::value_t::number_float:
      return "float64";
    case Json::value_t::array:
      return "[]interface {}";
    case Json::value_t::object:
      return "map[string]interface {}";
    default:
      return "<nil>";
  }
}

// text/template's truth (exec.go isTrue): false, 0, nil and empty strings, lists and maps are
// false.
bool IsTrue(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return false;
    case Json::value_t::boolean:
      return v.get<bool>();
    case Json::value_t::number_integer:
      return v.get<int64_t>() != 0;
    case Json::value_t::number_unsigned:
      return v.get<uint64_t>() != 0;
    case Json::value_t::number_float:
      return v.get<double>() != 0;
    case Json::value_t::string:
      return !v.get_ref<const std::string&>().empty();
    default:
      return !v.empty();
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A struct field of calicoctl's Go types, looked up in the marshalled JSON.
std::optional<Json> LookupField(const Json& obj, const std::string& name) {
  if (obj.contains(name)) return obj[name];
  if (name == "ObjectMeta" || name == "ListMeta") {
    return obj.contains("metadata") ? obj["metadata"] : Json::object();
  }
  if (name == "TypeMeta") return obj;
  const std::string lower = Lower(name);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (Lower(it.key()) == lower) return it.value();
  }
  // ObjectMeta's fields are promoted (embedded struct).
  if (obj.contains("metadata") && obj["metadata"].is_object()) {
    const Json& md = obj["metadata"];
    for (auto it = md.begin(); it != md.end(); ++it) {
      if (Lower(it.key()) == lower) return it.value();
    }
  }
  return std::nullopt;
}

struct Exec {
  const GoTemplateFuncs& funcs;
  std::string name;
  std::vector<std::pair<std::string, Json>> vars;
  std::string out;
  enum class Flow { kNormal, kBreak, kContinue };

  tl::unexpected<Error> Fail(const Pipeline& p, std::string_view at, std::string_view msg) const {
    return InvalidArgument(fmt::format("template: {}:{}:{}: executing \"{}\" at <{}>: {}", name,
                                       p.line, p.col, name, at, msg));
  }

  Result<Json> Field(const Pipeline& p, Json v, const std::vector<std::string>& fields,
                     const std::string& text) const {
    for (const auto& f : fields) {
      if (v.is_null()) return Json();
      if (!v.is_object()) {
        return Fail(p, text, fmt::format("can't evaluate field {} in type {}", f, GoTypeName(v)));
      }
      auto next = LookupField(v, f);
      v = next ? *next : Json();
    }
    return v;
  }

  Result<Json> EvalOperand(const Pipeline& p, const Operand& op, const Json& dot) {
    switch (op.kind) {
      case Operand::Kind::kDot:
        return dot;
      case Operand::Kind::kField:
        return Field(p, dot, op.fields, op.text);
      case Operand::Kind::kVariable: {
        for (auto it = vars.rbegin(); it != vars.rend(); ++it) {
          if (it->first == op.name) return Field(p, it->second, op.fields, op.text);
        }
        return Fail(p, op.text, fmt::format("undefined variable: {}", op.name));
      }
      case Operand::Kind::kLiteral:
        return op.literal;
      case Operand::Kind::kPipeline: {
        ASSIGN_OR_RETURN(Json v, EvalPipeline(*op.pipe, dot));
        return Field(p, v, op.fields, op.text);
      }
      case Operand::Kind::kFunction:
        return CallFunction(p, op, {}, op.text);
    }
    return Json();
  }

  static std::optional<double> Number(const Json& v) {
    if (v.is_number()) return v.get<double>();
    return std::nullopt;
  }

  Result<int> Compare(const Pipeline& p, const std::string& fn, const Json& a, const Json& b) {
    if (a.is_number() && b.is_number()) {
      const double x = a.get<double>(), y = b.get<double>();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (a.is_string() && b.is_string()) {
      return a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>()) < 0
                 ? -1
                 : (a == b ? 0 : 1);
    }
    if (a.is_boolean() && b.is_boolean() && (fn == "eq" || fn == "ne")) return a == b ? 0 : 1;
    if ((fn == "eq" || fn == "ne") && (a.is_null() || b.is_null())) {
      return a.is_null() && b.is_null() ? 0 : 1;
    }
    if (a.type() != b.type() && !(a.is_number() && b.is_number())) {
      return Fail(p, fn, fmt::format("error calling {}: incompatible types for comparison", fn));
    }
    return Fail(p, fn, fmt::format("error calling {}: invalid type for comparison", fn));
  }

  // fmt.Sprintf's verbs, flags and width for the values a template can hold.
  static std::string Printf(const std::string& format, const std::vector<Json>& args) {
    std::string out;
    size_t argi = 0;
    for (size_t i = 0; i < format.size(); ++i) {
      if (format[i] != '%') {
        out.push_back(format[i]);
        continue;
      }
      if (++i >= format.size()) {
        out += "%!(NOVERB)";
        break;
      }
      std::string flags;
      while (i < format.size() && std::string_view("-+# 0").find(format[i]) != std::string::npos)
        flags.push_back(format[i++]);
      std::string width, prec;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9')
        width.push_back(format[i++]);
      bool has_prec = false;
      if (i < format.size() && format[i] == '.') {
        has_prec = true;
        ++i;
        while (i < format.size() && format[i] >= '0' && format[i] <= '9')
          prec.push_back(format[i++]);
      }
      if (i >= format.size()) {
        out += "%!(NOVERB)";
        break;
      }
      // fmt refuses widths and precisions above 1e6.
      auto w_num = width.empty() ? Result<size_t>(0) : ParseIntInRange<size_t>(width, 0, 1000000);
      auto p_num = prec.empty() ? Result<size_t>(0) : ParseIntInRange<size_t>(prec, 0, 1000000);
      if (!w_num) {
        out += "%!(BADWIDTH)";
        continue;
      }
      if (!p_num) {
        out += "%!(BADPREC)";
        continue;
      }
      const char verb = format[i];
      if (verb == '%') {
        out.push_back('%');
        continue;
      }
      if (argi >= args.size()) {
        out += fmt::format("%!{}(MISSING)", verb);
        continue;
      }
      const Json& a = args[argi++];
      std::string text;
      auto bad = [&]() { return fmt::format("%!{}({}={})", verb, GoTypeName(a), PrintValue(a)); };
      switch (verb) {
        case 'v':
        case 's':
          if (verb == 's' && !a.is_string() && !a.is_array()) {
            text = bad();
          } else {
            text = PrintValue(a);
          }
          if (has_prec && verb == 's') text = text.substr(0, std::min(text.size(), *p_num));
          break;
        case 'q':
          if (!a.is_string()) {
            text = bad();
          } else {
            text = Json(a.get<std::string>()).dump();
          }
          break;
        case 'd':
          if (a.is_number_integer()) {
            text = PrintValue(a);
            if (flags.find('+') != std::string::npos && a.get<int64_t>() >= 0) text = "+" + text;
          } else {
            text = bad();
          }
          break;
        case 'x':
        case 'X':
          if (a.is_number_integer()) {
            text = verb == 'x' ? fmt::format("{:x}", a.get<int64_t>())
                               : fmt::format("{:X}", a.get<int64_t>());
          } else if (a.is_string()) {
            for (char c : a.get<std::string>()) {
              const auto byte = static_cast<unsigned char>(c);
              text += verb == 'x' ? fmt::format("{:02x}", byte) : fmt::format("{:02X}", byte);
            }
          } else {
            text = bad();
          }
          break;
        case 't':
          text = a.is_boolean() ? PrintValue(a) : bad();
          break;
        case 'f':
        case 'F':
        case 'e':
        case 'g': {
          if (!a.is_number_float()) {
            text = bad();
            break;
          }
          const std::string cfmt =
              "%" + std::string(has_prec ? "." + (prec.empty() ? std::string("0") : prec) : "") +
              (verb == 'F' ? 'f' : verb);
          char buf[128];
          std::snprintf(buf, sizeof(buf), cfmt.c_str(), a.get<double>());
          text = buf;
          if (verb == 'g' && !has_prec) text = PrintValue(a);
          break;
        }
        case 'c':
          text =
              a.is_number_integer() ? std::string(1, static_cast<char>(a.get<int64_t>())) : bad();
          break;
        default:
          text = fmt::format("%!{}({}={})", verb, GoTypeName(a), PrintValue(a));
      }
      if (!width.empty()) {
        const size_t w = *w_num;
        if (text.size() < w) {
          const bool left = flags.find('-') != std::string::npos;
          const bool zero = !left && flags.find('0') != std::string::npos &&
                            (verb == 'd' || verb == 'f' || verb == 'x' || verb == 'X');
          std::string pad(w - text.size(), zero ? '0' : ' ');
          if (zero && !text.empty() && (text[0] == '-' || text[0] == '+')) {
            text = text[0] + pad + text.substr(1);
          } else {
            text = left ? text + pad : pad + text;
          }
        }
      }
      out += text;
    }
    if (argi < args.size()) {
      out += "%!(EXTRA ";
      for (size_t k = argi; k < args.size(); ++k) {
        if (k > argi) out += ", ";
        out += GoTypeName(args[k]) + "=" + PrintValue(args[k]);
      }
      out += ")";
    }
    return out;
  }

  // printer.go joinAndTruncate: maps as sorted k=v, each item's %v, "..." past maxLen.
  static std::string JoinAndTruncate(const Json& items, const std::string& sep, int64_t max_len) {
    if (items.is_null()) return "";
    std::vector<std::string> parts;
    if (items.is_object()) {
      for (auto it = items.begin(); it != items.end(); ++it)
        parts.push_back(it.key() + "=" + PrintValue(it.value()));
      std::sort(parts.begin(), parts.end());
    } else if (items.is_array()) {
      for (const auto& e : items)
        parts.push_back(e.is_null() ? "<nil>" : PrintValue(e));
    } else {
      parts.push_back(PrintValue(items));
    }
    std::string buf;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) buf += sep;
      buf += parts[i];
      if (max_len > 0 && buf.size() > static_cast<size_t>(max_len)) {
        buf.resize(static_cast<size_t>(std::max<int64_t>(0, max_len - 3)));
        buf += "...";
        break;
      }
    }
    return buf;
  }

  Result<Json> CallFunction(const Pipeline& p, const Operand& fn, std::vector<Json> args,
                            const std::string& at) {
    const std::string& f = fn.name;
    auto arity = [&](size_t n) -> Status {
      if (args.size() != n) {
        return Fail(p, at,
                    fmt::format("wrong number of args for {}: want {} got {}", f, n, args.size()));
      }
      return OkStatus();
    };
    if (f == "and" || f == "or") {
      if (args.empty())
        return Fail(p, at, fmt::format("wrong number of args for {}: want at least 1 got 0", f));
      for (size_t i = 0; i + 1 < args.size(); ++i) {
        if (IsTrue(args[i]) == (f == "or")) return args[i];
      }
      return args.back();
    }
    if (f == "not") {
      RETURN_IF_ERROR(arity(1));
      return Json(!IsTrue(args[0]));
    }
    if (f == "len") {
      RETURN_IF_ERROR(arity(1));
      const Json& a = args[0];
      if (a.is_string()) return Json(static_cast<int64_t>(a.get_ref<const std::string&>().size()));
      if (a.is_array() || a.is_object()) return Json(static_cast<int64_t>(a.size()));
      if (a.is_null()) return Json(static_cast<int64_t>(0));
      return Fail(p, at, fmt::format("error calling len: len of type {}", GoTypeName(a)));
    }
    if (f == "index") {
      if (args.empty()) return Fail(p, at, "wrong number of args for index: want at least 1 got 0");
      Json cur = args[0];
      for (size_t i = 1; i < args.size(); ++i) {
        const Json& k = args[i];
        if (cur.is_array()) {
          if (!k.is_number_integer()) {
            return Fail(p, at,
                        fmt::format("error calling index: cannot index slice/array with type {}",
                                    GoTypeName(k)));
          }
          const int64_t idx = k.get<int64_t>();
          if (idx < 0 || static_cast<size_t>(idx) >= cur.size()) {
            return Fail(p, at, fmt::format("error calling index: index out of range: {}", idx));
          }
          cur = cur[static_cast<size_t>(idx)];
        } else if (cur.is_object()) {
          if (!k.is_string()) {
            return Fail(p, at,
                        fmt::format("error calling index: value has type {}; should be string",
                                    GoTypeName(k)));
          }
          cur = cur.contains(k.get<std::string>()) ? cur[k.get<std::string>()] : Json();
        } else if (cur.is_null()) {
          // An unset map or slice field of the Go struct: indexing a nil map gives the zero
          // value (a nil slice would be out of range).
          if (k.is_number_integer()) {
            return Fail(p, at,
                        fmt::format("error calling index: index out of range: {}", k.dump()));
          }
          cur = Json();
        } else {
          return Fail(
              p, at,
              fmt::format("error calling index: can't index item of type {}", GoTypeName(cur)));
        }
      }
      return cur;
    }
    if (f == "print" || f == "println") {
      std::string s;
      for (size_t i = 0; i < args.size(); ++i) {
        // fmt.Sprint adds a space between operands when neither is a string; Sprintln always.
        if (i > 0 && (f == "println" || (!args[i - 1].is_string() && !args[i].is_string()))) {
          s += " ";
        }
        s += args[i].is_null() ? "<nil>" : PrintValue(args[i]);
      }
      if (f == "println") s += "\n";
      return Json(s);
    }
    if (f == "printf") {
      if (args.empty() || !args[0].is_string()) {
        return Fail(p, at, "wrong number of args for printf: want at least 1 got 0");
      }
      std::vector<Json> rest(args.begin() + 1, args.end());
      return Json(Printf(args[0].get<std::string>(), rest));
    }
    if (f == "eq") {
      if (args.size() < 2) return Fail(p, at, "missing argument for comparison");
      for (size_t i = 1; i < args.size(); ++i) {
        ASSIGN_OR_RETURN(int c, Compare(p, f, args[0], args[i]));
        if (c == 0) return Json(true);
      }
      return Json(false);
    }
    if (f == "ne" || f == "lt" || f == "le" || f == "gt" || f == "ge") {
      RETURN_IF_ERROR(arity(2));
      ASSIGN_OR_RETURN(int c, Compare(p, f, args[0], args[1]));
      if (f == "ne") return Json(c != 0);
      if (f == "lt") return Json(c < 0);
      if (f == "le") return Json(c <= 0);
      if (f == "gt") return Json(c > 0);
      return Json(c >= 0);
    }
    if (f == "join") {
      RETURN_IF_ERROR(arity(2));
      if (!args[1].is_string())
        return Fail(p, at, "error calling join: separator must be a string");
      return Json(JoinAndTruncate(args[0], args[1].get<std::string>(), 0));
    }
    if (f == "joinAndTruncate") {
      RETURN_IF_ERROR(arity(3));
      if (!args[1].is_string() || !args[2].is_number_integer()) {
        return Fail(p, at, "error calling joinAndTruncate: want (items, string, int)");
      }
      return Json(JoinAndTruncate(args[0], args[1].get<std::string>(), args[2].get<int64_t>()));
    }
    if (f == "config") {
      RETURN_IF_ERROR(arity(1));
      if (!args[0].is_string() || Lower(args[0].get<std::string>()) != "asnumber") {
        return Fail(p, at, "error calling config: unhandled config type");
      }
      return Json(funcs.config ? funcs.config("asnumber") : std::string("64512"));
    }
    return Fail(p, at, fmt::format("function \"{}\" not defined", f));
  }

  Result<Json> EvalCommand(const Pipeline& p, const Command& c, const Json& dot,
                           std::optional<Json> piped) {
    const Operand& first = c.args[0];
    if (first.kind == Operand::Kind::kFunction) {
      std::vector<Json> args;
      for (size_t i = 1; i < c.args.size(); ++i) {
        ASSIGN_OR_RETURN(Json a, EvalOperand(p, c.args[i], dot));
        args.push_back(std::move(a));
      }
      if (piped) args.push_back(*piped);
      return CallFunction(p, first, std::move(args), c.text);
    }
    if (c.args.size() > 1 || piped) {
      return Fail(p, first.text, fmt::format("can't give argument to non-function {}", first.text));
    }
    return EvalOperand(p, first, dot);
  }

  Result<Json> EvalPipeline(const Pipeline& p, const Json& dot) {
    std::optional<Json> value;
    for (const Command& c : p.cmds) {
      ASSIGN_OR_RETURN(Json v, EvalCommand(p, c, dot, value));
      value = std::move(v);
    }
    Json v = value ? *value : Json();
    if (!p.decl.empty()) {
      if (p.assign) {
        for (auto it = vars.rbegin(); it != vars.rend(); ++it) {
          if (it->first == p.decl[0]) {
            it->second = v;
            break;
          }
        }
      } else {
        vars.emplace_back(p.decl[0], v);
      }
    }
    return v;
  }

  Result<Flow> Walk(const Node& n, const Json& dot) {
    switch (n.kind) {
      case Node::Kind::kList:
        for (const auto& c : n.list) {
          ASSIGN_OR_RETURN(Flow fl, Walk(*c, dot));
          if (fl != Flow::kNormal) return fl;
        }
        return Flow::kNormal;
      case Node::Kind::kText:
        out += n.text;
        return Flow::kNormal;
      case Node::Kind::kAction: {
        ASSIGN_OR_RETURN(Json v, EvalPipeline(*n.pipe, dot));
        if (n.pipe->decl.empty()) out += PrintValue(v);
        return Flow::kNormal;
      }
      case Node::Kind::kBreak:
        return Flow::kBreak;
      case Node::Kind::kContinue:
        return Flow::kContinue;
      case Node::Kind::kIf:
      case Node::Kind::kWith: {
        const size_t mark = vars.size();
        ASSIGN_OR_RETURN(Json v, EvalPipeline(*n.pipe, dot));
        Result<Flow> fl = Flow::kNormal;
        if (IsTrue(v)) {
          fl = Walk(*n.list[0], n.kind == Node::Kind::kWith ? v : dot);
        } else if (n.else_list) {
          fl = Walk(*n.else_list, dot);
        }
        vars.resize(mark);
        return fl;
      }
      case Node::Kind::kRange: {
        const size_t mark = vars.size();
        // Evaluate without declaring: range declares per element.
        Pipeline bare = *n.pipe;
        bare.decl.clear();
        ASSIGN_OR_RETURN(Json v, EvalPipeline(bare, dot));
        if (!v.is_null() && !v.is_array() && !v.is_object()) {
          return Fail(*n.pipe, "range", fmt::format("range can't iterate over {}", PrintValue(v)));
        }
        if (!IsTrue(v)) {
          if (n.else_list) {
            auto fl = Walk(*n.else_list, dot);
            vars.resize(mark);
            return fl;
          }
          return Flow::kNormal;
        }
        auto one = [&](const Json& key, const Json& elem) -> Result<Flow> {
          vars.resize(mark);
          if (n.pipe->decl.size() == 1) vars.emplace_back(n.pipe->decl[0], elem);
          if (n.pipe->decl.size() == 2) {
            vars.emplace_back(n.pipe->decl[0], key);
            vars.emplace_back(n.pipe->decl[1], elem);
          }
          return Walk(*n.list[0], elem);
        };
        if (v.is_array()) {
          for (size_t i = 0; i < v.size(); ++i) {
            ASSIGN_OR_RETURN(Flow fl, one(Json(static_cast<int64_t>(i)), v[i]));
            if (fl == Flow::kBreak) break;
          }
        } else {
          for (auto it = v.begin(); it != v.end(); ++it) {
            ASSIGN_OR_RETURN(Flow fl, one(Json(it.key()), it.value()));
            if (fl == Flow::kBreak) break;
          }
        }
        vars.resize(mark);
        return Flow::kNormal;
      }
    }
    return Flow::kNormal;
  }
};

}  // namespace
}  // namespace go_template_internal

Result<GoTemplate> GoTemplate::Parse(std::string_view text, std::string name) {
  go_template_internal::Parser parser(text, name);
  ASSIGN_OR_RETURN(auto root, parser.ParseAll());
  GoTemplate t;
  t.name_ = std::move(name);
  t.root_ = std::move(root);
  return t;
}

Status GoTemplate::Execute(const model::Json& data, std::ostream& out,
                           const GoTemplateFuncs& funcs) const {
  go_template_internal::Exec exec{.funcs = funcs, .name = name_, .vars = {{"$", data}}, .out = {}};
  auto flow = exec.Walk(*root_, data);
  out << exec.out;
  if (!flow) return Unexpected(flow.error());
  return OkStatus();
}

}  // namespace calico::ctl
