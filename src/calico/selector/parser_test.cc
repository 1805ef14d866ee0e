// Table tests for Parse/Validate/String/UniqueId/Evaluate, ported from
// libcalico-go/lib/selector/parser/parser_test.go (selectorTests, badSelectors,
// canonicalisationTests, Visitor tests), plus exact error messages and precedence cases.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "calico/selector/selector.h"

namespace calico::selector {
namespace {

struct MatchCase {
  std::string selector;
  std::vector<LabelMap> matches;
  std::vector<LabelMap> non_matches;
};

void PrintTo(const MatchCase& tc, std::ostream* os) {
  *os << tc.selector;
}

class MatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(MatchTest, EvaluatesBeforeAndAfterCanonicalising) {
  const auto& tc = GetParam();
  auto sel = Parse(tc.selector);
  ASSERT_TRUE(sel.has_value()) << tc.selector << ": " << sel.error().message();
  ASSERT_TRUE(Validate(tc.selector).has_value());
  auto canon = Parse(sel->String());
  ASSERT_TRUE(canon.has_value()) << sel->String() << ": " << canon.error().message();
  EXPECT_EQ(canon->String(), sel->String());
  EXPECT_EQ(canon->UniqueId(), sel->UniqueId());
  for (const auto& labels : tc.matches) {
    EXPECT_TRUE(sel->Evaluate(labels)) << tc.selector;
    EXPECT_TRUE(canon->Evaluate(labels)) << sel->String();
  }
  for (const auto& labels : tc.non_matches) {
    EXPECT_FALSE(sel->Evaluate(labels)) << tc.selector;
    EXPECT_FALSE(canon->Evaluate(labels)) << sel->String();
  }
}

using L = LabelMap;

INSTANTIATE_TEST_SUITE_P(
    Upstream, MatchTest,
    testing::Values(
        MatchCase{R"(a == "b")",
                  {L{{"a", "b"}}, L{{"a", "b"}, {"c", "d"}}},
                  {L{}, L{{"a", "c"}}, L{{"c", "d"}}}},
        MatchCase{R"(a == "b" && c == "d")",
                  {L{{"a", "b"}, {"c", "d"}}},
                  {L{}, L{{"a", "b"}, {"c", "e"}}, L{{"a", "c"}, {"c", "d"}}, L{{"c", "d"}},
                   L{{"a", "b"}}}},
        MatchCase{R"(a == "b" || c == "d")",
                  {L{{"a", "b"}, {"c", "d"}}, L{{"a", "b"}}, L{{"c", "d"}}},
                  {L{}, L{{"a", "e"}, {"c", "e"}}, L{{"c", "e"}}, L{{"a", "e"}}}},
        MatchCase{R"(a in {"'", '"', "c"})",
                  {L{{"a", "c"}}, L{{"a", "\""}}, L{{"a", "'"}}},
                  {L{}, L{{"a", "e"}}}},
        MatchCase{R"(a not in {"'", '"', "c"})",
                  {L{}, L{{"a", "e"}}},
                  {L{{"a", "c"}}, L{{"a", "\""}}, L{{"a", "'"}}}},
        MatchCase{"a == 'a'", {L{{"a", "a"}}}, {}}, MatchCase{R"(a == "a")", {L{{"a", "a"}}}, {}},
        MatchCase{R"(a != "b")", {L{{"a", "a"}}}, {}}, MatchCase{R"(a != "a")", {L{}}, {}},
        MatchCase{R"(a contains "a")",
                  {L{{"a", "a"}}, L{{"a", "bab"}}, L{{"a", "aaa"}, {"b", "c"}}},
                  {L{}, L{{"a", "b"}}, L{{"b", "aaa"}}}},
        MatchCase{R"(a starts with "a")",
                  {L{{"a", "a"}}, L{{"a", "abb"}}, L{{"a", "aaa"}, {"b", "c"}}},
                  {L{}, L{{"a", "b"}}, L{{"a", "baa"}}, L{{"b", "aaa"}}}},
        MatchCase{R"(a ends with "a")",
                  {L{{"a", "a"}}, L{{"a", "bba"}}, L{{"a", "aaa"}, {"b", "c"}}},
                  {L{}, L{{"a", "b"}}, L{{"a", "aab"}}, L{{"b", "aaa"}}}},
        MatchCase{R"(a in {"a"})", {L{{"a", "a"}}}, {}},
        MatchCase{R"(!a in {"a"})", {L{{"a", "b"}}}, {}},
        MatchCase{R"(a in {"a", "b"})", {L{{"a", "a"}}}, {}},
        MatchCase{R"(a in {"a", "b"})", {L{{"a", "b"}}}, {}},
        MatchCase{R"(a not in {"d", "e"})", {L{{"a", "a"}}}, {}},
        MatchCase{"has(a)", {L{{"a", "b"}}}, {}}, MatchCase{"!has(a)", {L{{"b", "b"}}}, {}},
        MatchCase{"", {L{}}, {}}, MatchCase{" ", {L{}}, {}}, MatchCase{"", {L{{"a", "b"}}}, {}},
        MatchCase{"all()", {L{}}, {}}, MatchCase{" all()", {L{}}, {}},
        MatchCase{" all()", {L{{"a", "b"}}}, {}}, MatchCase{"global()", {L{}}, {}},
        MatchCase{" global()", {L{}}, {}}, MatchCase{" global()", {L{{"a", "b"}}}, {}},
        MatchCase{"a == 'a'", {}, {L{{"a", "b"}}}}, MatchCase{"a == 'a'", {}, {L{}}},
        MatchCase{R"(a != "a")", {}, {L{{"a", "a"}}}}, MatchCase{"a != 'a'", {}, {L{{"a", "a"}}}},
        MatchCase{R"(a in {"a"})", {}, {L{{"a", "b"}}}},
        MatchCase{R"(a not in {"a"})", {}, {L{{"a", "a"}}}},
        MatchCase{R"(a in {"a", "b"})", {}, {L{{"a", "c"}}}},
        MatchCase{"has(b)", {}, {L{{"a", "b"}}}}, MatchCase{"!!has(b)", {}, {L{{"a", "b"}}}},
        MatchCase{"! has(a)", {}, {L{{"a", "b"}}}}, MatchCase{"!has(a)", {}, {L{{"a", "b"}}}},
        MatchCase{"!!! has(a)", {}, {L{{"a", "b"}}}}, MatchCase{"!!!has(a)", {}, {L{{"a", "b"}}}},
        MatchCase{"!! ! has(a)", {}, {L{{"a", "b"}}}}, MatchCase{"! !!has(a)", {}, {L{{"a", "b"}}}},
        MatchCase{"a == 'a1' && b == 'b1'", {L{{"a", "a1"}, {"b", "b1"}}}, {}},
        MatchCase{"a == 'a1' && b != 'b1'", {}, {L{{"a", "a1"}, {"b", "b1"}}}},
        MatchCase{"a != 'a1' && b == 'b1'", {}, {L{{"a", "a1"}, {"b", "b1"}}}},
        MatchCase{"a != 'a1' && b != 'b1'", {}, {L{{"a", "a1"}, {"b", "b1"}}}},
        MatchCase{"a != 'a1' && !b == 'b1'", {}, {L{{"a", "a1"}, {"b", "b1"}}}},
        MatchCase{"!a == 'a1' && b == 'b1'", {}, {L{{"a", "a1"}, {"b", "b1"}}}},
        MatchCase{"has(a) && !has(b)", {L{{"a", "a"}}}, {}},
        MatchCase{"!has(b) && has(a)", {L{{"a", "a"}}}, {}},
        MatchCase{"!(!has(a) || has(b))", {L{{"a", "a"}}}, {}},
        MatchCase{"!(has(b) || !has(a))", {L{{"a", "a"}}}, {}},
        MatchCase{"a == 'a1' || b == 'b1'", {L{{"a", "a1"}, {"b", "b1"}}}, {}},
        MatchCase{"a == 'a1' || b != 'b1'", {L{{"a", "a1"}, {"b", "b1"}}}, {}},
        MatchCase{"a != 'a1' || b == 'b1'", {L{{"a", "a1"}, {"b", "b1"}}}, {}},
        MatchCase{"a != 'a1' || b != 'b1'", {}, {L{{"a", "a1"}, {"b", "b1"}}}},
        MatchCase{"! a == 'a1' || ! b == 'b1'", {}, {L{{"a", "a1"}, {"b", "b1"}}}}));

INSTANTIATE_TEST_SUITE_P(
    Semantics, MatchTest,
    testing::Values(
        // Present-but-empty values.
        MatchCase{"has(a)", {L{{"a", ""}}}, {L{}}},
        MatchCase{"a == ''", {L{{"a", ""}}}, {L{}, L{{"a", "x"}}}},
        MatchCase{"a != ''", {L{}, L{{"a", "x"}}}, {L{{"a", ""}}}},
        MatchCase{"a contains ''", {L{{"a", ""}}, L{{"a", "x"}}}, {L{}}},
        MatchCase{"a starts with ''", {L{{"a", ""}}, L{{"a", "x"}}}, {L{}}},
        MatchCase{"a ends with ''", {L{{"a", ""}}}, {L{}}},
        MatchCase{"a in {}", {}, {L{}, L{{"a", ""}}, L{{"a", "x"}}}},
        MatchCase{"a not in {}", {L{}, L{{"a", ""}}, L{{"a", "x"}}}, {}},
        MatchCase{"a in {''}", {L{{"a", ""}}}, {L{}, L{{"a", "x"}}}},
        MatchCase{"a in {'x',}", {L{{"a", "x"}}}, {L{{"a", "y"}}}},
        // Case-sensitive, whole-string comparisons.
        MatchCase{"a == 'X'", {L{{"a", "X"}}}, {L{{"a", "x"}}, L{{"A", "X"}}, L{{"a", "XX"}}}},
        MatchCase{"a in {'ab'}", {L{{"a", "ab"}}}, {L{{"a", "a"}}, L{{"a", "b"}}}},
        MatchCase{"a contains 'bc'", {L{{"a", "abcd"}}, L{{"a", "bc"}}}, {L{{"a", "b c"}}}},
        MatchCase{"a starts with 'ab'", {L{{"a", "abc"}}}, {L{{"a", "a"}}, L{{"a", "cab"}}}},
        MatchCase{"a ends with 'bc'", {L{{"a", "abc"}}}, {L{{"a", "c"}}, L{{"a", "bca"}}}},
        // Precedence: ! > && > ||.
        MatchCase{"a == 'x' || b == 'y' && c == 'z'",
                  {L{{"a", "x"}}, L{{"b", "y"}, {"c", "z"}}},
                  {L{{"b", "y"}}, L{{"c", "z"}}}},
        MatchCase{"(a == 'x' || b == 'y') && c == 'z'",
                  {L{{"a", "x"}, {"c", "z"}}, L{{"b", "y"}, {"c", "z"}}},
                  {L{{"a", "x"}}, L{{"c", "z"}}}},
        MatchCase{"!a == 'x'", {L{}, L{{"a", "y"}}}, {L{{"a", "x"}}}},
        MatchCase{"!has(a) || has(b) && !has(c)",
                  {L{}, L{{"a", ""}, {"b", ""}}},
                  {L{{"a", ""}}, L{{"a", ""}, {"b", ""}, {"c", ""}}}},
        MatchCase{"!(has(a) && has(b))", {L{}, L{{"a", ""}}}, {L{{"a", ""}, {"b", ""}}}},
        MatchCase{"!!(has(a))", {L{{"a", ""}}}, {L{}}},
        MatchCase{"((((has(a)))))", {L{{"a", ""}}}, {L{}}},
        MatchCase{"!all()", {}, {L{}, L{{"a", "b"}}}}, MatchCase{"!global()", {}, {L{}}},
        // Operator words and function names as label names.
        MatchCase{"contains contains 'contains'", {L{{"contains", "xcontainsx"}}}, {L{}}},
        MatchCase{"in in {'in'}", {L{{"in", "in"}}}, {L{{"in", "notin"}}}},
        MatchCase{"has == 'x' && all != 'y'", {L{{"has", "x"}}}, {L{{"has", "x"}, {"all", "y"}}}},
        MatchCase{"not not in {'x'}", {L{}, L{{"not", "y"}}}, {L{{"not", "x"}}}},
        // Kubernetes-style keys.
        MatchCase{"projectcalico.org/namespace == 'kube-system' && k8s-app in {'kube-dns'}",
                  {L{{"projectcalico.org/namespace", "kube-system"}, {"k8s-app", "kube-dns"}}},
                  {L{{"projectcalico.org/namespace", "default"}, {"k8s-app", "kube-dns"}}}},
        // Quotes inside values.
        MatchCase{R"(a == '"')", {L{{"a", "\""}}}, {L{{"a", "'"}}}},
        MatchCase{R"(a == "it's")", {L{{"a", "it's"}}}, {L{{"a", "its"}}}},
        // Tabs and no spaces.
        MatchCase{"\ta\t==\t'b'\t&&\thas(\tc\t)\t", {L{{"a", "b"}, {"c", ""}}}, {L{{"a", "b"}}}},
        MatchCase{"a=='b'&&!has(c)||d in{'e'}",
                  {L{{"a", "b"}}, L{{"d", "e"}, {"c", ""}}},
                  {L{{"a", "b"}, {"c", ""}}}},
        MatchCase{"a startswith'x'&&b endswith'y'",
                  {L{{"a", "xz"}, {"b", "zy"}}},
                  {L{{"a", "zx"}, {"b", "zy"}}}},
        MatchCase{"a notin{'x'}", {L{{"a", "y"}}}, {L{{"a", "x"}}}}));

class BadSelectorTest : public testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(BadSelectorTest, RejectedByParseAndValidateWithMessage) {
  const auto& [input, message] = GetParam();
  auto sel = Parse(input);
  ASSERT_FALSE(sel.has_value()) << input << " parsed as " << sel->String();
  EXPECT_EQ(sel.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(sel.error().message(), message) << input;
  auto st = Validate(input);
  ASSERT_FALSE(st.has_value()) << input;
  EXPECT_EQ(st.error().message(), message) << input;
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, BadSelectorTest,
    testing::Values(
        std::pair{"b == b", "expected string"}, std::pair{"b contains b", "expected string"},
        // Two-word operators consume trailing blanks before their word-boundary check, so a
        // following label makes the operator itself unrecognised.
        std::pair{"b starts with b", R"(expected operator after label "b")"},
        std::pair{"b ends with b", R"(expected operator after label "b")"},
        std::pair{"'b1' == b", "unexpected token: TokStringLiteral(b1)"},
        std::pair{"b", "unexpected end of string looking for op"},
        std::pair{"a b", R"(expected operator after label "a")"},
        std::pair{"!", "unexpected token: TokEOF()"}, std::pair{R"(foo == "bar" &)", "expected &&"},
        std::pair{R"(foo == "bar" |)", "expected ||"}, std::pair{"foo != ||", "expected string"},
        std::pair{R"(foo in {"", ||)", "expected }"},
        std::pair{R"(foo in "")", "expected set literal"},
        std::pair{R"("FOO)", "unterminated string"}, std::pair{R"("FOO')", "unterminated string"},
        std::pair{"'FOO", "unterminated string"}, std::pair{"(", "unexpected token: TokEOF()"},
        std::pair{R"((a == "foo")", "expected )"}, std::pair{")", "unexpected token: TokRParen()"},
        std::pair{"()", "unexpected token: TokRParen()"}, std::pair{"%", "expected identifier"},
        std::pair{R"(a == "b" && %)", "expected identifier"},
        std::pair{R"(a == "b" || %)", "expected identifier"},
        std::pair{"a ", "unexpected end of string looking for op"},
        std::pair{"has(foo) &&", "unexpected token: TokEOF()"}));

INSTANTIATE_TEST_SUITE_P(
    Messages, BadSelectorTest,
    testing::Values(
        std::pair{R"(a == "b" ))", "unexpected content at end of selector [TokRParen() TokEOF()]"},
        std::pair{R"(a == "b" b == "c")",
                  "unexpected content at end of selector [TokLabel(b) TokEq() "
                  "TokStringLiteral(c) TokEOF()]"},
        std::pair{"all() all()", "unexpected content at end of selector [TokAll() TokEOF()]"},
        std::pair{"has(a) == 'b'",
                  "unexpected content at end of selector [TokEq() TokStringLiteral(b) TokEOF()]"},
        std::pair{"has(a) !has(b)",
                  "unexpected content at end of selector [TokNot() TokHas(b) TokEOF()]"},
        std::pair{"a == 'b' {}",
                  "unexpected content at end of selector [TokLBrace() TokRBrace() TokEOF()]"},
        std::pair{"a (", "expected == or != not: TokLParen()"},
        std::pair{"a 'x'", "expected == or != not: TokStringLiteral(x)"},
        std::pair{"a && b", "expected == or != not: TokAnd()"},
        std::pair{"a || b", "expected == or != not: TokOr()"},
        std::pair{"a )", "expected == or != not: TokRParen()"},
        std::pair{"a !has(b)", "expected == or != not: TokNot()"},
        std::pair{"a {}", "expected == or != not: TokLBrace()"},
        std::pair{"a ,", "expected == or != not: TokComma()"},
        std::pair{"a !", "expected == or != not: TokNot()"}, std::pair{"a ==", "expected string"},
        std::pair{"a !=", "expected string"}, std::pair{"a contains", "expected string"},
        std::pair{"a ends with", "expected string"}, std::pair{"a == (", "expected string"},
        std::pair{"a == {'x'}", "expected string"}, std::pair{"a in", "expected set literal"},
        std::pair{"a not in 'x'", "expected set literal"},
        std::pair{"a in ('x')", "expected set literal"}, std::pair{"a in {", "expected }"},
        std::pair{"a in {'x'", "expected }"}, std::pair{"a in {'x' 'y'}", "expected }"},
        std::pair{"a in {,}", "expected }"}, std::pair{"a in {'x',,}", "expected }"},
        std::pair{"a in {'x'}}",
                  "unexpected content at end of selector "
                  "[TokRBrace() TokEOF()]"},
        std::pair{"a in {b}", "expected }"}, std::pair{"a in {'x') ", "expected }"},
        std::pair{"{}", "unexpected token: TokLBrace()"},
        std::pair{"!= 'b'", "unexpected token: TokNe()"},
        std::pair{"== 'b'", "unexpected token: TokEq()"},
        std::pair{"&& has(a)", "unexpected token: TokAnd()"},
        std::pair{",", "unexpected token: TokComma()"},
        std::pair{"has(a) && && has(b)", "unexpected token: TokAnd()"},
        std::pair{"has(a) || || has(b)", "unexpected token: TokOr()"},
        std::pair{"!(", "unexpected token: TokEOF()"}, std::pair{"((has(a))", "expected )"},
        std::pair{"(has(a) has(b))", "expected )"},
        std::pair{"(has(a)))", "unexpected content at end of selector [TokRParen() TokEOF()]"},
        std::pair{"has(a) &", "expected &&"}, std::pair{"a = 'b'", "expected =="},
        std::pair{"has(a)\n", "expected identifier"},
        std::pair{"has(a) && \n has(b)", "expected identifier"},
        std::pair{"a == 'b", "unterminated string"}, std::pair{"has()", "expected identifier"},
        std::pair{"has(a", "no closing ')' after has("},
        std::pair{"all(", "no closing ')' after all("},
        std::pair{"global(a)", "no closing ')' after global("},
        std::pair{"a inf 'x'", R"(expected operator after label "a")"},
        std::pair{"a.b/c-d x", R"(expected operator after label "a.b/c-d")"}));

struct CanonicalCase {
  std::string input;
  std::string expected;
  std::string expected_uid;  // Empty: not checked.
};

void PrintTo(const CanonicalCase& tc, std::ostream* os) {
  *os << tc.input;
}

class CanonicalTest : public testing::TestWithParam<CanonicalCase> {};

TEST_P(CanonicalTest, CanonicalisesAndRoundTrips) {
  const auto& tc = GetParam();
  auto sel = Parse(tc.input);
  ASSERT_TRUE(sel.has_value()) << tc.input << ": " << sel.error().message();
  EXPECT_EQ(sel->String(), tc.expected);
  auto again = Parse(sel->String());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->String(), sel->String());
  EXPECT_EQ(again->UniqueId(), sel->UniqueId());
  EXPECT_EQ(again->root(), sel->root());
  if (!tc.expected_uid.empty()) {
    EXPECT_EQ(sel->UniqueId(), tc.expected_uid);
  }
  EXPECT_EQ(Normalise(tc.input), tc.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, CanonicalTest,
    testing::Values(CanonicalCase{"", "all()", "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"},
                    CanonicalCase{" all() ", "all()", "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"},
                    CanonicalCase{" (all() )", "all()", "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"},
                    CanonicalCase{"! (has( b)||! has(a ))", "!(has(b) || !has(a))",
                                  "s:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q"},
                    CanonicalCase{R"(! (a == "b"&&! c != "d"))", R"(!(a == "b" && !c != "d"))",
                                  "s:lh3haoY1ikTRkd4UZu0nWSaIBknYLPJLX16d-w"},
                    CanonicalCase{R"(a == "'")", R"(a == "'")", ""},
                    CanonicalCase{R"(a == '"')", R"(a == '"')", ""},
                    CanonicalCase{R"(a contains '"')", R"(a contains '"')", ""},
                    CanonicalCase{R"(a contains "'")", R"(a contains "'")", ""},
                    CanonicalCase{R"(a startswith '"')", R"(a starts with '"')", ""},
                    CanonicalCase{R"(a endswith "'")", R"(a ends with "'")", ""},
                    CanonicalCase{R"(a!='"')", R"(a != '"')", ""},
                    CanonicalCase{R"(a in {"d"})", R"(a in {"d"})", ""},
                    CanonicalCase{R"(a in {"a", "b"})", R"(a in {"a", "b"})", ""},
                    CanonicalCase{R"(a in {"d", "a", "b"})", R"(a in {"a", "b", "d"})", ""},
                    CanonicalCase{R"(a in {"z", "x", "y", "a"})", R"(a in {"a", "x", "y", "z"})",
                                  ""},
                    CanonicalCase{R"(a in {"z", "z", "x", "y", "x", "a"})",
                                  R"(a in {"a", "x", "y", "z"})", ""}));

INSTANTIATE_TEST_SUITE_P(
    More, CanonicalTest,
    testing::Values(
        CanonicalCase{"global()", "global()", ""}, CanonicalCase{" global( ) ", "global()", ""},
        CanonicalCase{"!global()", "!global()", ""}, CanonicalCase{"!all()", "!all()", ""},
        CanonicalCase{"\t has(\ta ) \t", "has(a)", ""}, CanonicalCase{"!!has(a)", "has(a)", ""},
        CanonicalCase{"!!!has(a)", "!has(a)", ""}, CanonicalCase{"((a == 'b'))", R"(a == "b")", ""},
        CanonicalCase{"!(a == 'b')", R"(!a == "b")", ""}, CanonicalCase{"a in {}", "a in {}", ""},
        CanonicalCase{"a not in { }", "a not in {}", ""},
        CanonicalCase{"a notin {'x',}", R"(a not in {"x"})", ""},
        CanonicalCase{"a == ''", R"(a == "")", ""},
        CanonicalCase{R"(a in {'"', "'"})", R"(a in {'"', "'"})", ""},
        CanonicalCase{R"(a in {"b", "B", "a", "_", "1"})", R"(a in {"1", "B", "_", "a", "b"})", ""},
        CanonicalCase{"a starts  with 'x'", R"(a starts with "x")", ""},
        CanonicalCase{"a==\"b\"&&c==\"d\"&&e==\"f\"", R"((a == "b" && c == "d" && e == "f"))", ""},
        CanonicalCase{"a=='b'||c=='d'&&e=='f'", R"((a == "b" || (c == "d" && e == "f")))", ""},
        CanonicalCase{"(a=='b'||c=='d')&&e=='f'", R"(((a == "b" || c == "d") && e == "f"))", ""},
        CanonicalCase{"(a=='b'&&c=='d')&&e=='f'", R"(((a == "b" && c == "d") && e == "f"))", ""},
        CanonicalCase{"has(a) || (has(b) || has(c))", "(has(a) || (has(b) || has(c)))", ""},
        CanonicalCase{"!(has(a) && has(b)) || !has(c)", "(!(has(a) && has(b)) || !has(c))", ""},
        CanonicalCase{"all() && global()", "(all() && global())", ""}));

TEST(ParserTest, NestedNegationThroughParensIsKeptLikeUpstream) {
  // Leading "!"s collapse by parity, but a "!" inside parentheses is a separate NotNode, and
  // upstream prints both without parentheses, so the canonical form is not always a fixed point.
  auto sel = Parse("!(!has(a))");
  ASSERT_TRUE(sel.has_value());
  EXPECT_EQ(sel->String(), "!!has(a)");
  auto again = Parse(sel->String());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->String(), "has(a)");
  EXPECT_NE(again->UniqueId(), sel->UniqueId());
  EXPECT_EQ(Parse("!(!(!has(a)))")->String(), "!!!has(a)");
  EXPECT_EQ(Parse("!(!(a == 'b' && c == 'd'))")->String(), R"(!!(a == "b" && c == "d"))");
}

TEST(ParserTest, UniqueIdIsStableAndDistinguishesSelectors) {
  auto a = Parse("a == 'b'");
  auto b = Parse(R"(a=="b")");
  auto c = Parse("a == 'c'");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->UniqueId(), b->UniqueId());
  EXPECT_NE(a->UniqueId(), c->UniqueId());
  EXPECT_EQ(*a, *b);
  EXPECT_FALSE(*a == *c);
  EXPECT_EQ(a->UniqueId().substr(0, 2), "s:");
  EXPECT_EQ(a->UniqueId().size(), 2u + 38u);
}

struct PrefixCase {
  std::string input;
  std::string expected;
};

class PrefixTest : public testing::TestWithParam<PrefixCase> {};

TEST_P(PrefixTest, PrefixesEveryLabel) {
  auto sel = Parse(GetParam().input);
  ASSERT_TRUE(sel.has_value());
  Selector prefixed = sel->WithLabelPrefix("visited/");
  EXPECT_EQ(prefixed.String(), GetParam().expected);
  auto reparsed = Parse(prefixed.String());
  ASSERT_TRUE(reparsed.has_value());
  EXPECT_EQ(reparsed->UniqueId(), prefixed.UniqueId());
}

// Upstream's PrefixVisitor table.
INSTANTIATE_TEST_SUITE_P(
    Upstream, PrefixTest,
    testing::Values(
        PrefixCase{"k == 'v'", R"(visited/k == "v")"},
        PrefixCase{"k != 'v'", R"(visited/k != "v")"},
        PrefixCase{"k contains 'v'", R"(visited/k contains "v")"},
        PrefixCase{"k starts with 'v'", R"(visited/k starts with "v")"},
        PrefixCase{"k ends with 'v'", R"(visited/k ends with "v")"},
        PrefixCase{"k == 'v' && x == 'y'", R"((visited/k == "v" && visited/x == "y"))"},
        PrefixCase{"k == 'v' || has(x)", R"((visited/k == "v" || has(visited/x)))"},
        PrefixCase{"!(k == 'v')", R"(!visited/k == "v")"},
        PrefixCase{"k in {'v'}", R"(visited/k in {"v"})"},
        PrefixCase{"k not in {'v'}", R"(visited/k not in {"v"})"},
        PrefixCase{
            "!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
            R"(!(!((visited/k == "v" && has(visited/t)) || all()) && visited/a in {"b", "c"}))"},
        PrefixCase{"global()", "global()"}));

TEST(ParserTest, DeepNestingWithinLimitsParses) {
  std::string s(500, '(');
  s += "has(a)";
  s += std::string(500, ')');
  auto sel = Parse(s);
  ASSERT_TRUE(sel.has_value());
  EXPECT_EQ(sel->String(), "has(a)");

  std::string nots(5000, '!');
  nots += "has(a)";
  auto sel2 = Parse(nots);
  ASSERT_TRUE(sel2.has_value());
  EXPECT_EQ(sel2->String(), "has(a)");
}

// The limit is 512 levels (selector.cc): the deepest selector within kMaxSelectorLength (509
// levels) parses, also under ASan's larger frames; one level more than the limit is refused.
TEST(ParserTest, NestingLimitIsAboveWhatTheLengthLimitAllows) {
  std::string deepest_valid = std::string(509, '(') + "all()" + std::string(509, ')');
  ASSERT_LE(deepest_valid.size(), kMaxSelectorLength);
  EXPECT_TRUE(Parse(deepest_valid).has_value());
  EXPECT_TRUE(Parse(std::string(512, '(') + "all()" + std::string(512, ')')).has_value());
  auto over = Parse(std::string(513, '(') + "all()" + std::string(513, ')'));
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().message(), "selector nested too deeply");
}

TEST(ParserTest, AbsurdNestingIsRejectedNotCrashing) {
  std::string s(100000, '(');
  auto sel = Parse(s);
  ASSERT_FALSE(sel.has_value());
  EXPECT_EQ(sel.error().message(), "selector nested too deeply");
}

TEST(ParserTest, LongSelectors) {
  // A long conjunction, longer than kMaxSelectorLength: Parse does not enforce the API limit.
  std::string s = "has(a0)";
  for (int i = 1; i < 300; ++i)
    s += " && has(a" + std::to_string(i) + ")";
  ASSERT_GT(s.size(), kMaxSelectorLength);
  auto sel = Parse(s);
  ASSERT_TRUE(sel.has_value());
  EXPECT_EQ(sel->root().kind, NodeKind::kAnd);
  EXPECT_EQ(sel->root().operands.size(), 300u);
  LabelMap all_labels;
  for (int i = 0; i < 300; ++i)
    all_labels["a" + std::to_string(i)] = "";
  EXPECT_TRUE(sel->Evaluate(all_labels));
  all_labels.erase("a299");
  EXPECT_FALSE(sel->Evaluate(all_labels));
}

}  // namespace
}  // namespace calico::selector
