// gMock matchers for Result<T> and Status (abseil's status_matchers), and how gtest prints them.
//
//   EXPECT_THAT(client.Create(pool), IsOk());
//   EXPECT_THAT(ipam.AutoAssign(req), IsOkAndHolds(SizeIs(1)));
//   EXPECT_THAT(client.Get("IPPool", "x"), StatusIs(ErrorCode::kNotFound));
//   EXPECT_THAT(Validate(doc), StatusIs(ErrorCode::kInvalidArgument, HasSubstr("spec.cidr")));
//
// On a mismatch the message names the error ("which is error NotFound: resource does not exist")
// or the value, so a failing test says what happened rather than "false". The matchers take a
// Result<T>, a Status or a tl::expected<T, Error>.
//
// Thread-safety: test code, one thread.
#pragma once

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/result.h"

namespace calico {

inline void PrintTo(const Error& e, std::ostream* os) {
  *os << ErrorCodeName(e.code()) << ": " << e.message();
}

// "ok", "value <v>" or "error <Code>: <message>".
template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  if (!r.has_value()) {
    *os << "error ";
    PrintTo(r.error(), os);
  } else if constexpr (std::is_void_v<T>) {
    *os << "ok";
  } else {
    *os << "value " << ::testing::PrintToString(*r);
  }
}

namespace testing {
namespace internal {

template <typename R>
void ExplainError(const R& r, ::testing::MatchResultListener* listener) {
  *listener << "which is error " << ErrorCodeName(r.error().code()) << ": " << r.error().message();
}

class IsOkMatcher {
 public:
  using is_gtest_matcher = void;
  template <typename R>
  bool MatchAndExplain(const R& r, ::testing::MatchResultListener* listener) const {
    if (r.has_value()) return true;
    ExplainError(r, listener);
    return false;
  }
  void DescribeTo(std::ostream* os) const { *os << "is ok"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is an error"; }
};

template <typename ResultType, typename InnerMatcher>
class IsOkAndHoldsImpl : public ::testing::MatcherInterface<ResultType> {
  using Value = std::remove_cvref_t<decltype(*std::declval<ResultType>())>;

 public:
  explicit IsOkAndHoldsImpl(const InnerMatcher& inner)
      : inner_(::testing::SafeMatcherCast<const Value&>(inner)) {}
  bool MatchAndExplain(ResultType r, ::testing::MatchResultListener* listener) const override {
    if (!r.has_value()) {
      ExplainError(r, listener);
      return false;
    }
    ::testing::StringMatchResultListener inner_listener;
    const bool matched = inner_.MatchAndExplain(*r, &inner_listener);
    *listener << "which holds " << ::testing::PrintToString(*r);
    if (!inner_listener.str().empty()) *listener << ", " << inner_listener.str();
    return matched;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "is ok and holds a value that ";
    inner_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is an error or holds a value that ";
    inner_.DescribeNegationTo(os);
  }

 private:
  ::testing::Matcher<const Value&> inner_;
};

template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}
  template <typename ResultType>
  operator ::testing::Matcher<ResultType>() const {  // NOLINT(google-explicit-constructor)
    return ::testing::Matcher<ResultType>(
        new IsOkAndHoldsImpl<const ResultType&, InnerMatcher>(inner_));
  }

 private:
  InnerMatcher inner_;
};

class StatusIsMatcher {
 public:
  using is_gtest_matcher = void;
  StatusIsMatcher(ErrorCode code, ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}
  template <typename R>
  bool MatchAndExplain(const R& r, ::testing::MatchResultListener* listener) const {
    if (r.has_value()) {
      *listener << "which is ok";
      return false;
    }
    ExplainError(r, listener);
    return r.error().code() == code_ && message_.Matches(r.error().message());
  }
  void DescribeTo(std::ostream* os) const {
    *os << "is an error with code " << ErrorCodeName(code_) << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "is ok or has a code other than " << ErrorCodeName(code_) << " or a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  ErrorCode code_;
  ::testing::Matcher<const std::string&> message_;
};

}  // namespace internal

// The Result (or Status) holds a value.
inline internal::IsOkMatcher IsOk() {
  return {};
}

// The Result holds a value matching `matcher` (a matcher or a plain value).
template <typename InnerMatcher>
internal::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>> IsOkAndHolds(InnerMatcher&& matcher) {
  return internal::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>>(
      std::forward<InnerMatcher>(matcher));
}

// The Result is an error with this code (and a message matching `message`: a matcher or a string).
inline internal::StatusIsMatcher StatusIs(ErrorCode code) {
  return {code, ::testing::A<const std::string&>()};
}
template <typename MessageMatcher>
internal::StatusIsMatcher StatusIs(ErrorCode code, MessageMatcher&& message) {
  return {code, ::testing::SafeMatcherCast<const std::string&>(
                    ::testing::MatcherCast<std::string>(std::forward<MessageMatcher>(message)))};
}

}  // namespace testing
}  // namespace calico
