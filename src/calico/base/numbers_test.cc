#include "calico/base/numbers.h"

#include <cstdint>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/status_matchers.h"

namespace calico {
namespace {

using ::calico::testing::IsOkAndHolds;
using ::calico::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseIntTest, WholeTextOnly) {
  EXPECT_THAT(ParseInt<int>("12"), IsOkAndHolds(12));
  EXPECT_THAT(ParseInt<int>("-12"), IsOkAndHolds(-12));
  EXPECT_THAT(ParseInt<int64_t>("9223372036854775807"), IsOkAndHolds(INT64_MAX));
  // What std::stoll / atoi accept and Go's strconv rejects.
  for (const char* bad : {"12abc", "abc", "", " 12", "12 ", "+12", "0x10", "1.5", "1e3", "--1"}) {
    EXPECT_THAT(ParseInt<int>(bad),
                StatusIs(ErrorCode::kInvalidArgument, HasSubstr("invalid number")))
        << bad;
  }
}

TEST(ParseIntTest, RangeOfTheType) {
  EXPECT_THAT(ParseInt<uint16_t>("65535"), IsOkAndHolds(65535));
  EXPECT_THAT(ParseInt<uint16_t>("65536"),
              StatusIs(ErrorCode::kInvalidArgument, "number \"65536\" is out of range [0, 65535]"));
  EXPECT_THAT(ParseInt<uint16_t>("-1"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(ParseInt<int8_t>("-129"), StatusIs(ErrorCode::kInvalidArgument, HasSubstr("range")));
  EXPECT_THAT(ParseInt<uint64_t>("18446744073709551616"),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("out of range")));
}

TEST(ParseIntTest, OtherBases) {
  EXPECT_THAT(ParseInt<uint32_t>("ff", 16), IsOkAndHolds(255u));
  EXPECT_THAT(ParseInt<int>("755", 8), IsOkAndHolds(493));
  EXPECT_THAT(ParseInt<int>("8", 8), StatusIs(ErrorCode::kInvalidArgument));
}

TEST(ParseIntTest, InRange) {
  EXPECT_THAT(ParseIntInRange<int>("1500", 68, 65535), IsOkAndHolds(1500));
  EXPECT_THAT(ParseIntInRange<int>("67", 68, 65535),
              StatusIs(ErrorCode::kInvalidArgument, "number \"67\" is out of range [68, 65535]"));
  EXPECT_THAT(ParseIntInRange<int>("x", 0, 1), StatusIs(ErrorCode::kInvalidArgument));
}

TEST(ParseDoubleTest, DecimalOnly) {
  EXPECT_THAT(ParseDouble("1.5"), IsOkAndHolds(1.5));
  EXPECT_THAT(ParseDouble("-2"), IsOkAndHolds(-2.0));
  EXPECT_THAT(ParseDouble("1e3"), IsOkAndHolds(1000.0));
  for (const char* bad : {"", "1.5x", " 1", "+1", "inf", "nan", "0x1p3", "1e400"}) {
    EXPECT_THAT(ParseDouble(bad), StatusIs(ErrorCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace calico
