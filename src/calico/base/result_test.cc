#include "calico/base/result.h"

#include <cerrno>

#include <gtest/gtest.h>

#include "calico/base/strings.h"

namespace calico {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd number");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x));
  return OkStatus();
}

TEST(ResultTest, PropagatesFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4));
  EXPECT_FALSE(CheckEven(3));
}

TEST(ResultTest, WrapPrependsContext) {
  Error e = Error::FromErrno(EEXIST, "add route 10.65.0.0/26").Wrap("sync");
  EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(e.message(), "sync: add route 10.65.0.0/26: File exists");
}

TEST(StringsTest, SplitJoinTrim) {
  EXPECT_EQ(StrSplit("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(StrSplit("a,,b", ',', true), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(StrJoin({"a", "b"}, ", "), "a, b");
  EXPECT_EQ(StrTrim("  x y \n"), "x y");
  EXPECT_TRUE(EqualsIgnoreCase("IPPool", "ippool"));
}

}  // namespace
}  // namespace calico
