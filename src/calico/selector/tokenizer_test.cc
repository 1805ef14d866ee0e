// Table tests for the selector tokenizer, ported from libcalico-go/lib/selector/tokenizer's
// tokenizer_test.go, plus exact error messages and whitespace corner cases.
#include "calico/selector/tokenizer.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace calico::selector {
namespace {

using K = TokenKind;

Token T(K kind, std::string value = {}) {
  return Token{kind, std::move(value)};
}

std::string Render(const std::vector<Token>& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    if (!out.empty()) out += ' ';
    out += t.DebugString();
  }
  return out;
}

struct TokenCase {
  std::string input;
  std::vector<Token> expected;
};

class TokenizeOk : public testing::TestWithParam<TokenCase> {};

TEST_P(TokenizeOk, Tokens) {
  const auto& tc = GetParam();
  auto tokens = Tokenize(tc.input);
  ASSERT_TRUE(tokens.has_value()) << tc.input << ": " << tokens.error().message();
  EXPECT_EQ(Render(*tokens), Render(tc.expected)) << tc.input;
  EXPECT_EQ(*tokens, tc.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, TokenizeOk,
    testing::Values(
        TokenCase{R"(a=="b")",
                  {T(K::kLabel, "a"), T(K::kEq), T(K::kStringLiteral, "b"), T(K::kEof)}},
        TokenCase{R"(a!="b")",
                  {T(K::kLabel, "a"), T(K::kNe), T(K::kStringLiteral, "b"), T(K::kEof)}},
        TokenCase{R"(a != "b")",
                  {T(K::kLabel, "a"), T(K::kNe), T(K::kStringLiteral, "b"), T(K::kEof)}},
        TokenCase{R"((a=="b"))",
                  {T(K::kLParen), T(K::kLabel, "a"), T(K::kEq), T(K::kStringLiteral, "b"),
                   T(K::kRParen), T(K::kEof)}},
        TokenCase{R"(label == "value")",
                  {T(K::kLabel, "label"), T(K::kEq), T(K::kStringLiteral, "value"), T(K::kEof)}},
        TokenCase{
            R"(label contains "value")",
            {T(K::kLabel, "label"), T(K::kContains), T(K::kStringLiteral, "value"), T(K::kEof)}},
        TokenCase{R"(contains contains "contains")",
                  {T(K::kLabel, "contains"), T(K::kContains), T(K::kStringLiteral, "contains"),
                   T(K::kEof)}},
        TokenCase{R"(contains contains 'contains')",
                  {T(K::kLabel, "contains"), T(K::kContains), T(K::kStringLiteral, "contains"),
                   T(K::kEof)}},
        TokenCase{
            R"(label contains"value")",
            {T(K::kLabel, "label"), T(K::kContains), T(K::kStringLiteral, "value"), T(K::kEof)}},
        TokenCase{
            R"(label startswith "value")",
            {T(K::kLabel, "label"), T(K::kStartsWith), T(K::kStringLiteral, "value"), T(K::kEof)}},
        TokenCase{
            R"(label endswith "value")",
            {T(K::kLabel, "label"), T(K::kEndsWith), T(K::kStringLiteral, "value"), T(K::kEof)}},
        TokenCase{
            R"(label starts with "value")",
            {T(K::kLabel, "label"), T(K::kStartsWith), T(K::kStringLiteral, "value"), T(K::kEof)}},
        TokenCase{R"(startswith starts with "value")",
                  {T(K::kLabel, "startswith"), T(K::kStartsWith), T(K::kStringLiteral, "value"),
                   T(K::kEof)}},
        TokenCase{
            R"(label ends with "value")",
            {T(K::kLabel, "label"), T(K::kEndsWith), T(K::kStringLiteral, "value"), T(K::kEof)}},
        TokenCase{
            R"(endswith ends with "value")",
            {T(K::kLabel, "endswith"), T(K::kEndsWith), T(K::kStringLiteral, "value"), T(K::kEof)}},
        TokenCase{
            R"(label starts  with "value")",
            {T(K::kLabel, "label"), T(K::kStartsWith), T(K::kStringLiteral, "value"), T(K::kEof)}},
        TokenCase{
            R"(label ends  with "value")",
            {T(K::kLabel, "label"), T(K::kEndsWith), T(K::kStringLiteral, "value"), T(K::kEof)}},
        TokenCase{std::string(512, 'a') + R"( == "value")",
                  {T(K::kLabel, std::string(512, 'a')), T(K::kEq), T(K::kStringLiteral, "value"),
                   T(K::kEof)}},
        TokenCase{R"(a not in "bar" && !has(foo) || b in c)",
                  {T(K::kLabel, "a"), T(K::kNotIn), T(K::kStringLiteral, "bar"), T(K::kAnd),
                   T(K::kNot), T(K::kHas, "foo"), T(K::kOr), T(K::kLabel, "b"), T(K::kIn),
                   T(K::kLabel, "c"), T(K::kEof)}},
        TokenCase{"has(calico/k8s_ns)", {T(K::kHas, "calico/k8s_ns"), T(K::kEof)}},
        TokenCase{"has(calico/k8s_ns/role)", {T(K::kHas, "calico/k8s_ns/role"), T(K::kEof)}},
        TokenCase{"has(calico/k8s_NS-.1/role)", {T(K::kHas, "calico/k8s_NS-.1/role"), T(K::kEof)}},
        TokenCase{R"(calico/k8s_ns == "kube-system" && k8s-app == "kube-dns")",
                  {T(K::kLabel, "calico/k8s_ns"), T(K::kEq), T(K::kStringLiteral, "kube-system"),
                   T(K::kAnd), T(K::kLabel, "k8s-app"), T(K::kEq), T(K::kStringLiteral, "kube-dns"),
                   T(K::kEof)}},
        TokenCase{R"(a  not  in  "bar"  &&  ! has( foo )  ||  b  in  c )",
                  {T(K::kLabel, "a"), T(K::kNotIn), T(K::kStringLiteral, "bar"), T(K::kAnd),
                   T(K::kNot), T(K::kHas, "foo"), T(K::kOr), T(K::kLabel, "b"), T(K::kIn),
                   T(K::kLabel, "c"), T(K::kEof)}},
        TokenCase{R"(a notin"bar"&&!has(foo)||b in"c")",
                  {T(K::kLabel, "a"), T(K::kNotIn), T(K::kStringLiteral, "bar"), T(K::kAnd),
                   T(K::kNot), T(K::kHas, "foo"), T(K::kOr), T(K::kLabel, "b"), T(K::kIn),
                   T(K::kStringLiteral, "c"), T(K::kEof)}},
        TokenCase{"a not in {}",
                  {T(K::kLabel, "a"), T(K::kNotIn), T(K::kLBrace), T(K::kRBrace), T(K::kEof)}},
        TokenCase{R"(a not in {"a"})",
                  {T(K::kLabel, "a"), T(K::kNotIn), T(K::kLBrace), T(K::kStringLiteral, "a"),
                   T(K::kRBrace), T(K::kEof)}},
        TokenCase{R"(a not in {"a","B"})",
                  {T(K::kLabel, "a"), T(K::kNotIn), T(K::kLBrace), T(K::kStringLiteral, "a"),
                   T(K::kComma), T(K::kStringLiteral, "B"), T(K::kRBrace), T(K::kEof)}},
        TokenCase{"global()", {T(K::kGlobal), T(K::kEof)}},
        TokenCase{"global( )", {T(K::kGlobal), T(K::kEof)}},
        TokenCase{"all()", {T(K::kAll), T(K::kEof)}},
        TokenCase{"all( )", {T(K::kAll), T(K::kEof)}}));

INSTANTIATE_TEST_SUITE_P(
    CornerCases, TokenizeOk,
    testing::Values(
        TokenCase{"", {T(K::kEof)}}, TokenCase{" \t ", {T(K::kEof)}},
        // Quotes of the other kind are plain characters inside a literal; no escapes.
        TokenCase{R"('a"b' "c'd" "e\")",
                  {T(K::kStringLiteral, "a\"b"), T(K::kStringLiteral, "c'd"),
                   T(K::kStringLiteral, "e\\"), T(K::kEof)}},
        TokenCase{R"("")", {T(K::kStringLiteral, ""), T(K::kEof)}},
        // Literals may hold anything, including newlines and non-ASCII bytes.
        TokenCase{"\"a\nb\xc3\xa9\"", {T(K::kStringLiteral, "a\nb\xc3\xa9"), T(K::kEof)}},
        // Tabs are whitespace everywhere whitespace is allowed.
        TokenCase{"\ta\tstarts\twith\t'x'\t",
                  {T(K::kLabel, "a"), T(K::kStartsWith), T(K::kStringLiteral, "x"), T(K::kEof)}},
        TokenCase{"has(\ta\t)", {T(K::kHas, "a"), T(K::kEof)}},
        // has/all/global are functions only when "(" follows directly; otherwise labels.
        TokenCase{"has", {T(K::kLabel, "has"), T(K::kEof)}},
        TokenCase{
            "has (a)",
            {T(K::kLabel, "has"), T(K::kLParen), T(K::kLabel, "a"), T(K::kRParen), T(K::kEof)}},
        TokenCase{R"(all == "x")",
                  {T(K::kLabel, "all"), T(K::kEq), T(K::kStringLiteral, "x"), T(K::kEof)}},
        TokenCase{R"(global in {})",
                  {T(K::kLabel, "global"), T(K::kIn), T(K::kLBrace), T(K::kRBrace), T(K::kEof)}},
        TokenCase{"hasx", {T(K::kLabel, "hasx"), T(K::kEof)}},
        // Operator words are labels unless they directly follow a label.
        TokenCase{R"(in in {"in"})",
                  {T(K::kLabel, "in"), T(K::kIn), T(K::kLBrace), T(K::kStringLiteral, "in"),
                   T(K::kRBrace), T(K::kEof)}},
        TokenCase{R"(not not in {})",
                  {T(K::kLabel, "not"), T(K::kNotIn), T(K::kLBrace), T(K::kRBrace), T(K::kEof)}},
        TokenCase{R"(x == "a" contains)",
                  {T(K::kLabel, "x"), T(K::kEq), T(K::kStringLiteral, "a"),
                   T(K::kLabel, "contains"), T(K::kEof)}},
        // Operator at end of input: end of input is a word boundary.
        TokenCase{"a in", {T(K::kLabel, "a"), T(K::kIn), T(K::kEof)}},
        TokenCase{"a not in", {T(K::kLabel, "a"), T(K::kNotIn), T(K::kEof)}},
        TokenCase{"a ends with", {T(K::kLabel, "a"), T(K::kEndsWith), T(K::kEof)}},
        TokenCase{"a contains", {T(K::kLabel, "a"), T(K::kContains), T(K::kEof)}},
        // After a label, punctuation is tokenized as usual.
        TokenCase{"a(", {T(K::kLabel, "a"), T(K::kLParen), T(K::kEof)}},
        TokenCase{"a!b", {T(K::kLabel, "a"), T(K::kNot), T(K::kLabel, "b"), T(K::kEof)}},
        TokenCase{"!!!=", {T(K::kNot), T(K::kNot), T(K::kNe), T(K::kEof)}},
        TokenCase{"a in{'x',}",
                  {T(K::kLabel, "a"), T(K::kIn), T(K::kLBrace), T(K::kStringLiteral, "x"),
                   T(K::kComma), T(K::kRBrace), T(K::kEof)}},
        TokenCase{"all()all()", {T(K::kAll), T(K::kAll), T(K::kEof)}},
        TokenCase{"has(" + std::string(512, 'h') + ")",
                  {T(K::kHas, std::string(512, 'h')), T(K::kEof)}},
        TokenCase{"-./_9Az", {T(K::kLabel, "-./_9Az"), T(K::kEof)}}));

struct ErrorCase {
  std::string input;
  std::string message;
};

class TokenizeError : public testing::TestWithParam<ErrorCase> {};

TEST_P(TokenizeError, Message) {
  const auto& tc = GetParam();
  auto tokens = Tokenize(tc.input);
  ASSERT_FALSE(tokens.has_value()) << tc.input << " gave " << Render(*tokens);
  EXPECT_EQ(tokens.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(tokens.error().message(), tc.message) << tc.input;
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, TokenizeError,
    testing::Values(
        ErrorCase{std::string(513, 'a') + R"( == "value")",
                  "label too long: " + std::string(513, 'a')},
        ErrorCase{R"(label == "value)", "unterminated string"},
        ErrorCase{"label == 'value", "unterminated string"},
        ErrorCase{R"(label = "value")", "expected =="},
        ErrorCase{"all(", "no closing ')' after all("},
        ErrorCase{"global(", "no closing ')' after global("},
        ErrorCase{"has()", "expected identifier"},
        ErrorCase{"has(foo", "no closing ')' after has("},
        ErrorCase{"has( foo ", "no closing ')' after has("},
        ErrorCase{R"(a == "b" & has(foo))", "expected &&"},
        ErrorCase{R"(a == "b" | has(foo))", "expected ||"},
        ErrorCase{R"(label starts foo "value")", R"(expected operator after label "label")"},
        ErrorCase{R"(label inf "value")", R"(expected operator after label "label")"},
        ErrorCase{R"(label ends foo "value")", R"(expected operator after label "label")"},
        ErrorCase{R"(label ends withs "value")", R"(expected operator after label "label")"},
        ErrorCase{R"(label squiggles "value")", R"(expected operator after label "label")"}));

INSTANTIATE_TEST_SUITE_P(
    CornerCases, TokenizeError,
    testing::Values(
        // A newline is not whitespace.
        ErrorCase{"a == 'b'\n", "expected identifier"}, ErrorCase{"\nall()", "expected identifier"},
        ErrorCase{"a\r== 'b'", "expected operator after label \"a\""},
        ErrorCase{"%", "expected identifier"}, ErrorCase{"a == \xc3\xa9", "expected identifier"},
        ErrorCase{"'", "unterminated string"}, ErrorCase{"\"'", "unterminated string"},
        ErrorCase{"=", "expected =="}, ErrorCase{"&", "expected &&"}, ErrorCase{"|", "expected ||"},
        ErrorCase{"has(a b)", "no closing ')' after has("},
        ErrorCase{"has(%)", "expected identifier"},
        ErrorCase{"has(" + std::string(513, 'h') + ")", "label too long: " + std::string(513, 'h')},
        ErrorCase{"all(x)", "no closing ')' after all("},
        ErrorCase{"global(x)", "no closing ')' after global("},
        // Two labels in a row.
        ErrorCase{"a b", R"(expected operator after label "a")"},
        ErrorCase{"a has(b)", R"(expected operator after label "a")"},
        ErrorCase{"a all()", R"(expected operator after label "a")"},
        // Word boundary after the operator word.
        ErrorCase{"a contains-x", R"(expected operator after label "a")"},
        ErrorCase{"a in.x", R"(expected operator after label "a")"},
        ErrorCase{"a not", R"(expected operator after label "a")"},
        ErrorCase{"a starts", R"(expected operator after label "a")"},
        ErrorCase{"a with", R"(expected operator after label "a")"},
        // Whitespace after the last word is consumed before the boundary check.
        ErrorCase{"a starts with x", R"(expected operator after label "a")"},
        ErrorCase{"a not in x", R"(expected operator after label "a")"},
        ErrorCase{"a IN {}", R"(expected operator after label "a")"},
        ErrorCase{"a == 'b' &| c", "expected &&"}));

TEST(TokenizerTest, KeywordAfterLabelWithoutSpaceIsPartOfLabel) {
  // "ain" is one label; then "{" follows a label and is a brace.
  auto tokens = Tokenize("ain {}");
  ASSERT_TRUE(tokens.has_value());
  EXPECT_EQ(Render(*tokens), "TokLabel(ain) TokLBrace() TokRBrace() TokEOF()");
}

TEST(TokenizerTest, In_SingleWordOperatorChecksBoundaryBeforeWhitespace) {
  // "in" followed by space then an identifier: the boundary is the space, so it is accepted.
  auto tokens = Tokenize("b in c");
  ASSERT_TRUE(tokens.has_value());
  EXPECT_EQ(Render(*tokens), "TokLabel(b) TokIn() TokLabel(c) TokEOF()");
}

TEST(TokenizerTest, KindNames) {
  EXPECT_EQ(TokenKindName(K::kNone), "TokNone");
  EXPECT_EQ(TokenKindName(K::kStringLiteral), "TokStringLiteral");
  EXPECT_EQ(TokenKindName(K::kStartsWith), "TokStartsWith");
  EXPECT_EQ(TokenKindName(K::kGlobal), "TokGlobal");
  EXPECT_EQ(TokenKindName(K::kEof), "TokEOF");
  EXPECT_EQ(T(K::kLabel, "x").DebugString(), "TokLabel(x)");
  EXPECT_EQ(T(K::kRParen).DebugString(), "TokRParen()");
}

TEST(TokenizerTest, ValidLabel) {
  EXPECT_TRUE(ValidLabel("a"));
  EXPECT_TRUE(ValidLabel("projectcalico.org/namespace"));
  EXPECT_TRUE(ValidLabel(std::string(512, 'x')));
  EXPECT_FALSE(ValidLabel(std::string(513, 'x')));
  EXPECT_FALSE(ValidLabel(""));
  EXPECT_FALSE(ValidLabel("a b"));
  EXPECT_FALSE(ValidLabel("a:b"));
  EXPECT_FALSE(ValidLabel(" a"));
}

}  // namespace
}  // namespace calico::selector
