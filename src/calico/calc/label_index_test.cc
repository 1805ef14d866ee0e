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
  EXPECT_EQ(index_.ItemsMatching("by-key"), (LabelIndex::IdSet{"a", "b"}));
  EXPECT_EQ(index_.SelectorsMatching("a"), (LabelIndex::IdSet{"by-value", "by-key"}));
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

}  // namespace
}  // namespace calico::calc
