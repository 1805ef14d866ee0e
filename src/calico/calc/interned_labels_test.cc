#include "calico/calc/interned_labels.h"

#include <gtest/gtest.h>

#include "calico/selector/selector.h"

namespace calico::calc {
namespace {

TEST(StringInternerTest, OneCopyPerStringWhileReferenced) {
  StringInterner pool;
  const std::string* a = pool.Intern("app");
  const std::string* b = pool.Intern(std::string("app"));
  EXPECT_EQ(a, b);  // Same pooled copy.
  EXPECT_EQ(*a, "app");
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(pool.References("app"), 2u);
  EXPECT_EQ(pool.Find("app"), a);
  EXPECT_EQ(pool.Find("web"), nullptr);
  // Other strings do not move it.
  for (int i = 0; i < 1000; ++i) {
    (void)pool.Intern("v" + std::to_string(i));
  }
  EXPECT_EQ(pool.Find("app"), a);
  EXPECT_EQ(*a, "app");
  pool.Release(a);
  EXPECT_EQ(pool.References("app"), 1u);
  pool.Release(b);
  EXPECT_EQ(pool.References("app"), 0u);
  EXPECT_EQ(pool.Find("app"), nullptr);
  EXPECT_EQ(pool.size(), 1000u);
}

TEST(StringInternerTest, EmptyStringIsAValue) {
  StringInterner pool;
  const std::string* e = pool.Intern("");
  EXPECT_EQ(*e, "");
  EXPECT_EQ(pool.Find(""), e);
}

TEST(CompactLabelsTest, ReadsBackAndEvaluatesAsTheMap) {
  StringInterner pool;
  const selector::LabelMap map = {{"app", "web"}, {"env", ""}, {"tier", "frontend"}};
  CompactLabels labels = CompactLabels::Make(map, pool);
  EXPECT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels.ToMap(), map);
  EXPECT_TRUE(labels.Equals(map));
  EXPECT_FALSE(labels.Equals({{"app", "web"}}));
  EXPECT_FALSE(labels.Equals({{"app", "web"}, {"env", "x"}, {"tier", "frontend"}}));
  EXPECT_EQ(labels.Get("app"), "web");
  EXPECT_EQ(labels.Get("env"), "");  // Present with an empty value.
  EXPECT_EQ(labels.Get("missing"), std::nullopt);
  EXPECT_EQ(labels.Get("aaa"), std::nullopt);
  EXPECT_EQ(labels.Get("zzz"), std::nullopt);
  for (const char* text : {"app == 'web'", "has(env)", "tier starts with 'front'",
                           "!has(missing) && app in {'db', 'web'}", "env != ''"}) {
    auto sel = selector::Parse(text);
    ASSERT_TRUE(sel) << text;
    EXPECT_EQ(sel->Evaluate(labels), sel->Evaluate(map)) << text;
  }
  // Two label sets share the strings; releasing both empties the pool.
  CompactLabels other = CompactLabels::Make({{"app", "web"}}, pool);
  EXPECT_EQ(pool.size(), 6u);  // app, web, env, "", tier, frontend
  EXPECT_EQ(pool.References("app"), 2u);
  labels.Release(pool);
  EXPECT_EQ(labels.size(), 0u);
  EXPECT_EQ(pool.References("app"), 1u);
  other.Release(pool);
  EXPECT_EQ(pool.size(), 0u);
}

}  // namespace
}  // namespace calico::calc
