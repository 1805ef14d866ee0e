// LabelRestrictions table, ported from libcalico-go/lib/selector/parser/label_restriction_test.go.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "calico/selector/selector.h"

namespace calico::selector {
namespace {

using Values = std::optional<std::vector<std::string>>;

LabelRestriction Present(Values values = std::nullopt) {
  return LabelRestriction{.must_be_present = true, .must_have_one_of_values = std::move(values)};
}
LabelRestriction Absent() {
  return LabelRestriction{.must_be_absent = true};
}

struct RestrictionCase {
  std::string selector;
  LabelRestrictions expected;
};

void PrintTo(const RestrictionCase& tc, std::ostream* os) {
  *os << tc.selector;
}

std::string Render(const LabelRestrictions& lr) {
  std::string out = "map[";
  bool first = true;
  for (const auto& [k, v] : lr) {
    if (!first) out += ' ';
    first = false;
    out += k + ":" + v.DebugString();
  }
  return out + "]";
}

class RestrictionTest : public testing::TestWithParam<RestrictionCase> {};

TEST_P(RestrictionTest, Computes) {
  const auto& tc = GetParam();
  auto sel = Parse(tc.selector);
  ASSERT_TRUE(sel.has_value()) << sel.error().message();
  EXPECT_EQ(Render(sel->GetLabelRestrictions()), Render(tc.expected)) << tc.selector;
  EXPECT_EQ(sel->GetLabelRestrictions(), tc.expected);
  if (tc.selector.empty()) return;
  // Adding "all() &&" has no effect.
  auto with_all = Parse("all() && (" + tc.selector + ")");
  ASSERT_TRUE(with_all.has_value());
  EXPECT_EQ(with_all->GetLabelRestrictions(), tc.expected);
}

using V = std::vector<std::string>;

INSTANTIATE_TEST_SUITE_P(
    Upstream, RestrictionTest,
    testing::Values(
        RestrictionCase{"", {}}, RestrictionCase{"all()", {}}, RestrictionCase{"global()", {}},
        RestrictionCase{"a == 'value'", {{"a", Present(V{"value"})}}},
        RestrictionCase{"has(a)", {{"a", Present()}}},
        RestrictionCase{"a in {'v1','v2'}", {{"a", Present(V{"v1", "v2"})}}},
        RestrictionCase{"a not in {'v1','v2'}", {}},
        RestrictionCase{"a contains 'foo'", {{"a", Present()}}},
        RestrictionCase{"a ends with 'foo'", {{"a", Present()}}},
        RestrictionCase{"a starts with 'foo'", {{"a", Present()}}},
        RestrictionCase{"a != 'value'", {}},
        // AND
        RestrictionCase{"a == 'v1' && a == 'v1'", {{"a", Present(V{"v1"})}}},
        RestrictionCase{"a == 'v1' && a == 'v2'", {{"a", Present(V{})}}},
        RestrictionCase{"a == 'v1' && has(a)", {{"a", Present(V{"v1"})}}},
        RestrictionCase{"a in {'v1','v2'} && a in {'v2','v3'} ", {{"a", Present(V{"v2"})}}},
        RestrictionCase{"a in {'v1','v2', 'v3'} && a in {'v2','v3'} ",
                        {{"a", Present(V{"v2", "v3"})}}},
        RestrictionCase{"has(a) && a == 'v1'", {{"a", Present(V{"v1"})}}},
        RestrictionCase{"has(a) && !has(a)",
                        {{"a", LabelRestriction{.must_be_present = true, .must_be_absent = true}}}},
        RestrictionCase{"a == 'v1' && b == 'v2'",
                        {{"a", Present(V{"v1"})}, {"b", Present(V{"v2"})}}},
        RestrictionCase{"a == 'v1' && all()", {{"a", Present(V{"v1"})}}},
        RestrictionCase{"all() && a == 'v1'", {{"a", Present(V{"v1"})}}},
        // OR
        RestrictionCase{"a == 'v1' || a == 'v2'", {{"a", Present(V{"v1", "v2"})}}},
        RestrictionCase{"has(a) || a == 'v2'", {{"a", Present()}}},
        RestrictionCase{"a=='v2' || has(a)", {{"a", Present()}}},
        RestrictionCase{"a=='v2' || has(b)", {}},
        RestrictionCase{"a=='v2' || (has(b) && has(a))", {{"a", Present()}}},
        RestrictionCase{"a == 'v1' || b == 'v2'", {}}, RestrictionCase{"a == 'v1' || all()", {}},
        RestrictionCase{"all() || b == 'v2'", {}},
        // NOT
        RestrictionCase{"!(a == 'value')", {}}, RestrictionCase{"!has(a)", {{"a", Absent()}}},
        RestrictionCase{"!!has(a)", {{"a", Present()}}}));

INSTANTIATE_TEST_SUITE_P(
    More, RestrictionTest,
    testing::Values(RestrictionCase{"!has(a) || !has(a)", {{"a", Absent()}}},
                    RestrictionCase{"!has(a) || has(a)", {}},
                    RestrictionCase{"a == 'z' || a in {'b', 'z'} || a == 'c'",
                                    {{"a", Present(V{"b", "c", "z"})}}},
                    RestrictionCase{"(a == 'x' && b == 'y') || (a == 'z' && has(c))",
                                    {{"a", Present(V{"x", "z"})}}},
                    // Upstream quirk: an empty set literal gives presence only (nil value list).
                    RestrictionCase{"a in {} && has(b)", {{"a", Present()}, {"b", Present()}}},
                    RestrictionCase{"a in {} && a == 'x'", {{"a", Present(V{"x"})}}},
                    RestrictionCase{"a in {} || a == 'x'", {{"a", Present()}}},
                    RestrictionCase{"!(a == 'x' && has(b))", {}}));

TEST(LabelRestrictionTest, PossibleToSatisfy) {
  EXPECT_TRUE(Present().PossibleToSatisfy());
  EXPECT_TRUE(Present(V{"x"}).PossibleToSatisfy());
  EXPECT_FALSE(Present(V{}).PossibleToSatisfy());
  EXPECT_TRUE(Absent().PossibleToSatisfy());
  EXPECT_FALSE(
      (LabelRestriction{.must_be_present = true, .must_be_absent = true}).PossibleToSatisfy());
}

TEST(LabelRestrictionTest, DebugString) {
  EXPECT_EQ(Present(V{"a", "b"}).DebugString(),
            "{MustBePresent:true, MustBeAbsent:false, MustHaveOneOfValues:[a b]}");
  EXPECT_EQ(Absent().DebugString(),
            "{MustBePresent:false, MustBeAbsent:true, MustHaveOneOfValues:[]}");
}

}  // namespace
}  // namespace calico::selector
