// Selector value semantics and helpers (Labels sources, LabelKeys, global(), Normalise), covering
// libcalico-go/lib/selector selector.go and felix-style label inheritance.
#include "calico/selector/selector.h"

#include <atomic>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

namespace calico::selector {
namespace {

Selector MustParse(std::string_view s) {
  auto sel = Parse(s);
  CALICO_CHECK(sel.has_value());
  return *sel;
}

TEST(SelectorTest, DefaultIsAll) {
  Selector sel;
  EXPECT_EQ(sel.String(), "all()");
  EXPECT_EQ(sel.UniqueId(), "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug");
  EXPECT_TRUE(sel.IsAll());
  EXPECT_TRUE(sel.Evaluate(LabelMap{}));
  EXPECT_EQ(Selector::All(), sel);
  EXPECT_EQ(Selector::NoMatch().String(), "!all()");
  EXPECT_FALSE(Selector::NoMatch().Evaluate(LabelMap{{"a", "b"}}));
}

TEST(SelectorTest, CopiesShareTheAst) {
  Selector a = MustParse("has(a) && b == 'c'");
  Selector b = a;
  EXPECT_EQ(&a.root(), &b.root());
  EXPECT_EQ(a.String(), b.String());
}

TEST(SelectorTest, EvaluatesAgainstUnorderedMapAndCallback) {
  Selector sel = MustParse("app == 'web' && !has(canary)");
  std::unordered_map<std::string, std::string> um{{"app", "web"}};
  EXPECT_TRUE(sel.Evaluate(UnorderedMapLabels(um)));
  um["canary"] = "";
  EXPECT_FALSE(sel.Evaluate(UnorderedMapLabels(um)));

  int calls = 0;
  FunctionLabels fn([&](const std::string& key) -> std::optional<std::string_view> {
    ++calls;
    if (key == "app") return std::string_view("web");
    return std::nullopt;
  });
  EXPECT_TRUE(sel.Evaluate(fn));
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(sel.Evaluate(EmptyLabels()));
}

TEST(SelectorTest, ShortCircuits) {
  int calls = 0;
  FunctionLabels fn([&](const std::string&) -> std::optional<std::string_view> {
    ++calls;
    return std::nullopt;
  });
  EXPECT_FALSE(MustParse("has(a) && has(b) && has(c)").Evaluate(fn));
  EXPECT_EQ(calls, 1);
  calls = 0;
  EXPECT_TRUE(MustParse("!has(a) || has(b) || has(c)").Evaluate(fn));
  EXPECT_EQ(calls, 1);
}

TEST(SelectorTest, LayeredLabelsOwnLabelsWin) {
  // An endpoint's own labels over its profiles' labelsToApply.
  LabelMap endpoint{{"app", "web"}, {"tier", "frontend"}};
  LabelMap profile1{{"tier", "backend"}, {"env", "prod"}};
  LabelMap profile2{{"env", "dev"}, {"team", "a"}};
  MapLabels own(endpoint), p1(profile1), p2(profile2);
  const Labels* parents[] = {&p1, &p2};
  LayeredLabels layered(own, parents);

  EXPECT_TRUE(MustParse("tier == 'frontend'").Evaluate(layered));
  EXPECT_TRUE(MustParse("env == 'prod'").Evaluate(layered));  // First parent wins.
  EXPECT_TRUE(MustParse("team == 'a' && app == 'web'").Evaluate(layered));
  EXPECT_FALSE(MustParse("has(missing)").Evaluate(layered));

  LayeredLabels single(own, p2);
  EXPECT_TRUE(MustParse("env == 'dev' && tier == 'frontend'").Evaluate(single));
}

TEST(SelectorTest, LabelKeys) {
  Selector sel = MustParse(
      "a == 'x' && (has(b) || c in {'1'}) && !d not in {} && e contains 'q' && f starts with 'q' "
      "&& g ends with 'q' && h != 'z' && all() && global() && a == 'y'");
  EXPECT_EQ(sel.LabelKeys(), (std::set<std::string>{"a", "b", "c", "d", "e", "f", "g", "h"}));
  EXPECT_TRUE(MustParse("all()").LabelKeys().empty());
}

TEST(SelectorTest, Global) {
  EXPECT_TRUE(MustParse("global()").UsesGlobal());
  EXPECT_TRUE(MustParse("global()").IsGlobalOnly());
  EXPECT_TRUE(MustParse("has(a) || !global()").UsesGlobal());
  EXPECT_FALSE(MustParse("has(a) || !global()").IsGlobalOnly());
  EXPECT_FALSE(MustParse("has(a)").UsesGlobal());
  EXPECT_FALSE(MustParse("global == 'x'").UsesGlobal());
  EXPECT_TRUE(MustParse("global()").Evaluate(LabelMap{}));

  EXPECT_TRUE(IsGlobalOnly("global()"));
  EXPECT_TRUE(IsGlobalOnly("  global( )\t"));
  EXPECT_FALSE(IsGlobalOnly("(global())"));
  EXPECT_FALSE(IsGlobalOnly("global() && has(a)"));
  EXPECT_FALSE(IsGlobalOnly("global("));
  EXPECT_FALSE(IsGlobalOnly(""));
  EXPECT_FALSE(IsGlobalOnly("all()"));
}

TEST(SelectorTest, Normalise) {
  EXPECT_EQ(Normalise(""), "all()");
  EXPECT_EQ(Normalise("  \n has( a ) \r\n"), "has(a)");
  EXPECT_EQ(Normalise("a=='b'&&c=='d'"), R"((a == "b" && c == "d"))");
  // Unparsable input is returned trimmed but otherwise unchanged.
  EXPECT_EQ(Normalise("  a == b \n"), "a == b");
  EXPECT_EQ(Normalise("has(a) \n && has(b)"), "has(a) \n && has(b)");
  // Go's strings.TrimSpace also trims Unicode spaces (NBSP, U+3000).
  EXPECT_EQ(Normalise("\xc2\xa0has(a)\xe3\x80\x80"), "has(a)");
  EXPECT_EQ(Normalise("\xc3\xa9"), "\xc3\xa9");
}

TEST(SelectorTest, ValidateMatchesParse) {
  for (std::string_view s : {"", "has(a)", "a in {}", "a", "a ==", "(", "x == 'y' )", "%"}) {
    auto p = Parse(s);
    auto v = Validate(s);
    ASSERT_EQ(p.has_value(), v.has_value()) << s;
    if (!p) {
      EXPECT_EQ(p.error(), v.error()) << s;
    }
  }
}

TEST(SelectorTest, HandBuiltAst) {
  Node root{.kind = NodeKind::kIn, .label = "a", .values = MakeStringSet({"z", "b", "z"})};
  Selector sel(root);
  EXPECT_EQ(sel.String(), R"(a in {"b", "z"})");
  EXPECT_EQ(sel, MustParse("a in {'z', 'b'}"));
}

TEST(SelectorTest, HashesByUniqueId) {
  std::unordered_set<Selector> set;
  set.insert(MustParse("a == 'b'"));
  set.insert(MustParse(R"(a=="b")"));
  set.insert(MustParse("has(a)"));
  EXPECT_EQ(set.size(), 2u);
  EXPECT_TRUE(set.contains(MustParse("  has( a )")));
}

TEST(SelectorTest, ConcurrentEvaluation) {
  Selector sel = MustParse("a in {'1', '2'} || has(b)");
  std::vector<std::thread> threads;
  std::atomic<int> matches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([sel, &matches] {
      for (int i = 0; i < 1000; ++i) {
        if (sel.Evaluate(LabelMap{{"a", std::to_string(i % 3)}})) ++matches;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(matches.load(), 4 * 666);
}

}  // namespace
}  // namespace calico::selector
