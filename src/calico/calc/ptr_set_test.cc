#include "calico/calc/ptr_set.h"

#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace calico::calc {
namespace {

using Set = PtrSet<const std::string*>;

std::set<const std::string*> Contents(const Set& s) {
  std::set<const std::string*> out;
  size_t n = 0;
  for (const std::string* p : s) {
    out.insert(p);
    ++n;
  }
  EXPECT_EQ(n, out.size()) << "an entry iterated twice";
  return out;
}

TEST(PtrSetTest, EmptyOneAndMany) {
  std::vector<std::string> ids(100);
  Set s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.begin(), s.end());
  EXPECT_FALSE(s.contains(&ids[0]));
  EXPECT_EQ(s.erase(&ids[0]), 0u);

  EXPECT_TRUE(s.insert(&ids[0]));
  EXPECT_FALSE(s.insert(&ids[0]));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(Contents(s), (std::set<const std::string*>{&ids[0]}));

  for (auto& id : ids) {
    s.insert(&id);
  }
  EXPECT_EQ(s.size(), 100u);
  for (auto& id : ids) {
    EXPECT_TRUE(s.contains(&id));
  }
  for (size_t i = 0; i < ids.size(); i += 2) {
    EXPECT_EQ(s.erase(&ids[i]), 1u);
  }
  EXPECT_EQ(s.size(), 50u);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(s.contains(&ids[i]), i % 2 == 1) << i;
  }
  s.clear();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.begin(), s.end());
}

// Random inserts and erases through every representation (in place, packed, hashed, and back as
// the set shrinks) agree with std::set at every step, and copies and moves keep the contents.
TEST(PtrSetTest, AgreesWithStdSetUnderRandomChurn) {
  std::vector<std::string> ids(300);
  std::mt19937 rng(20);
  Set s;
  std::set<const std::string*> want;
  for (int step = 0; step < 20000; ++step) {
    // Phases that grow the set, then drain it, so every size is visited both ways.
    const bool grow = (step / 2000) % 2 == 0;
    const size_t range = (step / 4000) % 3 == 0 ? 12 : ids.size();
    const std::string* p = &ids[rng() % range];
    if (rng() % 4 != 0 ? grow : !grow) {
      EXPECT_EQ(s.insert(p), want.insert(p).second) << step;
    } else {
      EXPECT_EQ(s.erase(p), want.erase(p)) << step;
    }
    ASSERT_EQ(s.size(), want.size()) << step;
    if (step % 97 == 0) {
      ASSERT_EQ(Contents(s), want) << step;
      for (size_t i = 0; i < range; ++i) {
        ASSERT_EQ(s.contains(&ids[i]), want.contains(&ids[i])) << step;
      }
      Set copy = s;
      EXPECT_EQ(Contents(copy), want);
      Set moved = std::move(copy);
      EXPECT_EQ(Contents(moved), want);
      EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty.
    }
  }
}

}  // namespace
}  // namespace calico::calc
