#include "calico/base/random.h"

#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace calico {
namespace {

TEST(RandomTest, HexHasTheDigitsAskedFor) {
  for (size_t n : {0u, 1u, 15u, 16u, 64u}) {
    const std::string h = RandomHex(n);
    EXPECT_EQ(h.size(), n);
    EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos) << h;
  }
}

TEST(RandomTest, UuidIsVersion4Variant10) {
  const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string u = NewUuid();
    EXPECT_TRUE(std::regex_match(u, uuid)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 100u);  // 122 random bits: a repeat means a broken source.
}

}  // namespace
}  // namespace calico
