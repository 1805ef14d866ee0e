#include "calico/base/result.h"

#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "calico/base/strings.h"
#include "calico/base/testing/status_matchers.h"

namespace calico {
namespace {

using ::calico::testing::IsOk;
using ::calico::testing::IsOkAndHolds;
using ::calico::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

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

// The forms of construction code written against tl::expected uses, kept working.
struct Point {
  int x = 0;
  int y = 0;
  bool operator==(const Point&) const = default;
};

Result<Point> BracedPoint() {
  return {{1, 2}};  // builds the value in place, as tl::expected's U = T default allows
}
Result<std::vector<int>> EmptyVector() {
  return {};
}
Result<std::string> FromLiteral() {
  return "text";
}
Result<std::optional<int>> NoValue() {
  return std::nullopt;
}
Result<std::unique_ptr<int>> MoveOnly() {
  auto p = std::make_unique<int>(7);
  return p;  // implicitly moved into the Result
}
Result<int> FromTlUnexpected() {
  return tl::unexpected(Error(ErrorCode::kConflict, "tl spelling"));
}
Result<int> FromTlExpected() {
  return tl::expected<int, Error>(5);
}

TEST(ResultTest, ConstructsLikeTlExpected) {
  EXPECT_EQ(*BracedPoint(), (Point{1, 2}));
  EXPECT_TRUE(EmptyVector()->empty());
  EXPECT_EQ(*FromLiteral(), "text");
  EXPECT_EQ(*NoValue(), std::nullopt);
  EXPECT_EQ(**MoveOnly(), 7);
  EXPECT_THAT(FromTlUnexpected(), StatusIs(ErrorCode::kConflict, "tl spelling"));
  EXPECT_EQ(*FromTlExpected(), 5);
  Result<long> widened = Half(8);  // Result<int> -> Result<long>
  EXPECT_EQ(*widened, 4L);
  Result<long> widened_error = Half(3);
  EXPECT_THAT(widened_error, StatusIs(ErrorCode::kInvalidArgument));
  Status ok;
  EXPECT_TRUE(ok.has_value());
  Result<int> zero;
  EXPECT_EQ(*zero, 0);
}

TEST(ResultTest, ObserversMatchTlExpected) {
  Result<std::string> r = std::string("abc");
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r->size(), 3u);
  EXPECT_EQ(r.value(), "abc");
  std::string moved = *std::move(r);
  EXPECT_EQ(moved, "abc");

  Result<std::string> bad = NotFound("no such thing");
  EXPECT_EQ(bad.value_or("fallback"), "fallback");
  EXPECT_EQ(bad.error().message(), "no such thing");
  EXPECT_THROW((void)bad.value(), tl::bad_expected_access<Error>);
  Error taken = std::move(bad).error();
  EXPECT_EQ(taken.code(), ErrorCode::kNotFound);

  Result<int> e;
  e.emplace(9);
  EXPECT_EQ(*e, 9);
  Result<int> other = Unavailable("down");
  e.swap(other);
  EXPECT_FALSE(e);
  EXPECT_EQ(*other, 9);
}

TEST(ResultTest, Comparisons) {
  EXPECT_EQ(Half(8), Half(8));
  EXPECT_NE(Half(8), Half(4));
  EXPECT_EQ(Half(3), Half(5));  // same code and message
  EXPECT_TRUE(Half(8) == 4);
  EXPECT_TRUE(Half(3) != 4);
  EXPECT_TRUE(Half(3) == InvalidArgument("odd number"));
  EXPECT_EQ(OkStatus(), OkStatus());
  EXPECT_NE(OkStatus(), Status(Internal("x")));
}

// and_then takes functions returning a Result or a tl::expected<U, Error> (deriving from
// tl::expected would reject the first: "F must return an expected").
TEST(ResultTest, AndThenAcceptsResultAndTlExpected) {
  Result<int> r = Half(16).and_then(Half).and_then(Half);
  EXPECT_THAT(r, IsOkAndHolds(2));
  EXPECT_THAT(Half(6).and_then(Half), StatusIs(ErrorCode::kInvalidArgument, "odd number"));

  auto to_text = [](int v) -> tl::expected<std::string, Error> { return std::to_string(v); };
  Result<std::string> text = Half(8).and_then(to_text);
  EXPECT_THAT(text, IsOkAndHolds(std::string("4")));

  int calls = 0;
  Status st = Status().and_then([&]() -> Status {
    ++calls;
    return OkStatus();
  });
  EXPECT_THAT(st, IsOk());
  Result<int> from_status = Status(Internal("broken")).and_then([&]() -> Result<int> {
    ++calls;
    return 1;
  });
  EXPECT_THAT(from_status, StatusIs(ErrorCode::kInternal, "broken"));
  EXPECT_EQ(calls, 1);  // not called after an error

  const Result<int> c = 10;
  EXPECT_THAT(c.and_then(Half), IsOkAndHolds(5));
  auto moved = Result<std::unique_ptr<int>>(std::make_unique<int>(3))
                   .and_then([](std::unique_ptr<int> p) -> Result<int> { return *p; });
  EXPECT_THAT(moved, IsOkAndHolds(3));
}

TEST(ResultTest, TransformMapsTheValue) {
  EXPECT_THAT(Half(8).transform([](int v) { return v * 10; }), IsOkAndHolds(40));
  EXPECT_THAT(Half(3).transform([](int v) { return v * 10; }),
              StatusIs(ErrorCode::kInvalidArgument));
  int seen = 0;
  Status st = Half(8).transform([&](int v) { seen = v; });
  EXPECT_THAT(st, IsOk());
  EXPECT_EQ(seen, 4);
  Result<std::string> s = Status().transform([] { return std::string("done"); });
  EXPECT_THAT(s, IsOkAndHolds(std::string("done")));
}

TEST(ResultTest, OrElseRecoversOrObserves) {
  Result<int> recovered = Half(3).or_else([](const Error& e) -> Result<int> {
    if (e.code() == ErrorCode::kInvalidArgument) return 0;
    return Unexpected(e);
  });
  EXPECT_THAT(recovered, IsOkAndHolds(0));
  EXPECT_THAT(Half(8).or_else([](const Error&) -> Result<int> { return -1; }), IsOkAndHolds(4));

  std::string logged;
  Status st =
      Status(Unavailable("etcd down")).or_else([&](const Error& e) { logged = e.message(); });
  EXPECT_THAT(st, StatusIs(ErrorCode::kUnavailable, "etcd down"));
  EXPECT_EQ(logged, "etcd down");

  auto tl_recover = [](const Error&) -> tl::expected<int, Error> { return 1; };
  EXPECT_THAT(Half(3).or_else(tl_recover), IsOkAndHolds(1));
}

TEST(ResultTest, MapErrorAddsContext) {
  Result<int> r = Half(3).map_error([](Error e) { return std::move(e).Wrap("halving 3"); });
  EXPECT_THAT(r, StatusIs(ErrorCode::kInvalidArgument, "halving 3: odd number"));
  EXPECT_THAT(Half(4).map_error([](Error e) { return std::move(e).Wrap("never"); }),
              IsOkAndHolds(2));
  Status st = Status(NotFound("x")).transform_error([](const Error& e) { return e.Wrap("y"); });
  EXPECT_THAT(st, StatusIs(ErrorCode::kNotFound, "y: x"));
}

TEST(ResultTest, ReturnIfErrorInTlExpectedFunction) {
  // RETURN_IF_ERROR also works in a function that still spells its type tl::expected.
  auto f = [](int x) -> tl::expected<int, Error> {
    RETURN_IF_ERROR(Half(x));
    return x;
  };
  EXPECT_TRUE(f(2).has_value());
  EXPECT_FALSE(f(3).has_value());
}

TEST(StatusMatchersTest, DescribeWhatFailed) {
  EXPECT_THAT(OkStatus(), IsOk());
  EXPECT_THAT(Status(NotFound("gone")), Not(IsOk()));
  EXPECT_THAT(Half(3), Not(IsOkAndHolds(1)));
  EXPECT_THAT(Half(2), Not(IsOkAndHolds(2)));
  EXPECT_THAT(Half(3), StatusIs(ErrorCode::kInvalidArgument, HasSubstr("odd")));
  EXPECT_THAT(Half(3), Not(StatusIs(ErrorCode::kNotFound)));
  EXPECT_THAT(Half(2), Not(StatusIs(ErrorCode::kInvalidArgument)));
  EXPECT_EQ(::testing::PrintToString(Half(3)), "error InvalidArgument: odd number");
  EXPECT_EQ(::testing::PrintToString(Half(2)), "value 1");
  EXPECT_EQ(::testing::PrintToString(OkStatus()), "ok");
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
