#include "calico/calc/label_index.h"

#include <set>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace calico::calc {
namespace {

using Pair = std::pair<std::string, std::string>;

selector::Selector Sel(std::string_view text) {
  auto sel = selector::Parse(text);
  EXPECT_TRUE(sel) << text;
  return *sel;
}

// Ids of a match set or list, sorted.
template <typename Refs>
std::set<std::string> Ids(const Refs& refs) {
  std::set<std::string> out;
  for (const std::string* id : refs) {
    out.insert(*id);
  }
  return out;
}

class LabelIndexTest : public ::testing::Test {
 protected:
  std::set<Pair> matches_;
  int events_ = 0;
  LabelIndex index_{[this](const std::string& s, const std::string& i) {
                      ++events_;
                      EXPECT_TRUE(matches_.emplace(s, i).second) << s << " " << i;
                    },
                    [this](const std::string& s, const std::string& i) {
                      ++events_;
                      EXPECT_EQ(matches_.erase({s, i}), 1u) << s << " " << i;
                    }};
};

TEST_F(LabelIndexTest, ItemsThenSelectors) {
  index_.UpdateItem("a", {{"app", "web"}, {"env", "prod"}});
  index_.UpdateItem("b", {{"app", "db"}});
  index_.UpdateItem("c", {});
  index_.UpdateSelector("by-value", Sel("app == 'web'"));
  index_.UpdateSelector("by-key", Sel("has(app)"));
  index_.UpdateSelector("unopt", Sel("app != 'web'"));
  index_.UpdateSelector("none", Sel("app == 'x' && app == 'y'"));
  EXPECT_EQ(
      matches_,
      (std::set<Pair>{
          {"by-value", "a"}, {"by-key", "a"}, {"by-key", "b"}, {"unopt", "b"}, {"unopt", "c"}}));
  EXPECT_EQ(Ids(index_.ItemsMatching("by-key")), (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(Ids(index_.SelectorsMatching("a")), (std::set<std::string>{"by-value", "by-key"}));
}

TEST_F(LabelIndexTest, LabelChangesReportOnlyDifferences) {
  index_.UpdateSelector("web", Sel("app in {'web', 'api'}"));
  index_.UpdateSelector("prod", Sel("env == 'prod'"));
  index_.UpdateItem("a", {{"app", "web"}});
  EXPECT_EQ(matches_, (std::set<Pair>{{"web", "a"}}));
  events_ = 0;
  index_.UpdateItem("a", {{"app", "api"}, {"env", "prod"}});
  EXPECT_EQ(events_, 1);  // Only "prod" started.
  EXPECT_EQ(matches_, (std::set<Pair>{{"web", "a"}, {"prod", "a"}}));
  index_.UpdateItem("a", {{"app", "db"}});
  EXPECT_TRUE(matches_.empty());
  index_.UpdateItem("a", {{"app", "web"}});
  events_ = 0;
  index_.UpdateSelector("web", Sel("app in {'api', 'web'}"));  // Same selector: no-op.
  EXPECT_EQ(events_, 0);
  index_.UpdateSelector("web", Sel("has(app)"));  // Still matches: no events.
  EXPECT_EQ(events_, 0);
  index_.UpdateSelector("web", Sel("has(other)"));
  EXPECT_TRUE(matches_.empty());
}

TEST_F(LabelIndexTest, DeletesStopMatches) {
  index_.UpdateSelector("all", Sel("all()"));
  index_.UpdateSelector("web", Sel("app == 'web'"));
  index_.UpdateItem("a", {{"app", "web"}});
  index_.UpdateItem("b", {{"app", "web"}});
  EXPECT_EQ(matches_.size(), 4u);
  index_.DeleteItem("a");
  EXPECT_EQ(matches_, (std::set<Pair>{{"all", "b"}, {"web", "b"}}));
  index_.DeleteSelector("web");
  EXPECT_EQ(matches_, (std::set<Pair>{{"all", "b"}}));
  index_.DeleteSelector("all");
  index_.DeleteItem("b");
  EXPECT_TRUE(matches_.empty());
  EXPECT_TRUE(index_.ItemsMatching("all").empty());
  EXPECT_TRUE(index_.SelectorsMatching("b").empty());
}

// Items keep their labels as interned strings: one copy of each distinct name and value, released
// with the last item that carries it, and the labels read back as given.
TEST_F(LabelIndexTest, LabelStringsAreInternedAndReleased) {
  index_.UpdateSelector("web", Sel("app == 'web'"));
  for (int i = 0; i < 50; ++i) {
    index_.UpdateItem("ep" + std::to_string(i), {{"app", "web"}, {"env", "prod"}});
  }
  EXPECT_EQ(index_.InternedStrings(), 4u);  // app, web, env, prod
  EXPECT_EQ(index_.ItemsMatching("web").size(), 50u);
  ASSERT_NE(index_.ItemLabels("ep7"), nullptr);
  EXPECT_EQ(index_.ItemLabels("ep7")->ToMap(),
            (selector::LabelMap{{"app", "web"}, {"env", "prod"}}));
  EXPECT_EQ(index_.ItemLabels("nope"), nullptr);
  // A new value for one item adds one string; dropping the last user of "prod" removes it.
  index_.UpdateItem("ep0", {{"app", "db"}, {"env", "prod"}});
  EXPECT_EQ(index_.InternedStrings(), 5u);
  EXPECT_EQ(index_.ItemsMatching("web").size(), 49u);
  for (int i = 1; i < 50; ++i) {
    index_.UpdateItem("ep" + std::to_string(i), {{"app", "web"}});
  }
  index_.DeleteItem("ep0");
  EXPECT_EQ(index_.InternedStrings(), 2u);  // app, web
  // has(env) finds items through the values of env: none left.
  index_.UpdateSelector("env", Sel("has(env)"));
  EXPECT_TRUE(index_.ItemsMatching("env").empty());
  index_.UpdateItem("ep1", {{"app", "web"}, {"env", "dev"}});
  EXPECT_EQ(Ids(index_.ItemsMatching("env")), (std::set<std::string>{"ep1"}));
  for (int i = 1; i < 50; ++i) {
    index_.DeleteItem("ep" + std::to_string(i));
  }
  EXPECT_EQ(index_.InternedStrings(), 0u);
  EXPECT_TRUE(index_.ItemsMatching("web").empty());
}

// A selector added after the items finds them through the interned values (has() through every
// value of its label), and replacing it moves the matches.
TEST_F(LabelIndexTest, SelectorsFindInternedItems) {
  index_.UpdateItem("a", {{"app", "web"}});
  index_.UpdateItem("b", {{"app", "db"}});
  index_.UpdateSelector("s", Sel("has(app)"));
  EXPECT_EQ(Ids(index_.ItemsMatching("s")), (std::set<std::string>{"a", "b"}));
  index_.UpdateSelector("s", Sel("app in {'db', 'nope'}"));
  EXPECT_EQ(matches_, (std::set<Pair>{{"s", "b"}}));
  index_.UpdateSelector("s", Sel("missing == 'x'"));
  EXPECT_TRUE(matches_.empty());
}

}  // namespace
}  // namespace calico::calc
