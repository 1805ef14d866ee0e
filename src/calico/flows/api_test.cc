#include "calico/flows/api.h"

#include <gtest/gtest.h>

namespace calico::flows {
namespace {

TEST(FlowsApiTest, ParsesQueryStrings) {
  Result<QueryParams> p = ParseQueryString("action=Deny&source=default%2Fclient&x=a+b&flag&&");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->find("action")->second, "Deny");
  EXPECT_EQ(p->find("source")->second, "default/client");
  EXPECT_EQ(p->find("x")->second, "a b");
  EXPECT_EQ(p->find("flag")->second, "");
  EXPECT_FALSE(ParseQueryString("a=%zz").has_value());
  EXPECT_FALSE(ParseQueryString("a=%4").has_value());
  EXPECT_EQ(UrlEncode("ns/a b&c"), "ns/a%20b%26c");
}

TEST(FlowsApiTest, QueryParameters) {
  const int64_t now = 1000000;
  Result<QueryParams> p = ParseQueryString(
      "action=deny,Allow&from=10.0.0.1&to=prod/web&namespace=prod&policy=p&since=5m&limit=7");
  ASSERT_TRUE(p.has_value());
  Result<FlowQuery> q = FlowQueryFromParams(*p, now);
  ASSERT_TRUE(q.has_value()) << q.error().message();
  EXPECT_EQ(q->filter.actions, (std::vector<Action>{Action::kDeny, Action::kAllow}));
  EXPECT_EQ(q->filter.source, "10.0.0.1");
  EXPECT_EQ(q->filter.dest, "prod/web");
  EXPECT_EQ(q->filter.ns, "prod");
  EXPECT_EQ(q->filter.policy, "p");
  EXPECT_EQ(q->filter.since, now - 300);
  EXPECT_EQ(q->limit, 7u);
  EXPECT_EQ(FlowQueryFromParams(*ParseQueryString("since=123"), now)->filter.since, 123);
  EXPECT_EQ(FlowQueryFromParams({}, now)->limit, kDefaultQueryLimit);

  auto error = [&](std::string_view qs) {
    Result<FlowQuery> r = FlowQueryFromParams(*ParseQueryString(qs), now);
    return r ? std::string("ok") : r.error().message();
  };
  EXPECT_EQ(error("action=Block"), R"(action: unknown Action "Block" (Allow, Deny or Pass))");
  EXPECT_EQ(error("since=yesterday"),
            R"(since: "yesterday" is neither a duration (5m, 90s) nor Unix seconds)");
  EXPECT_EQ(error("limit=0"), R"(limit: number "0" is out of range [1, 100000])");
  EXPECT_EQ(error("bogus=1"), R"(unknown parameter "bogus")");
}

TEST(FlowsApiTest, QueryStringForAFilter) {
  FlowFilter f{.actions = {Action::kDeny}, .source = "default/client", .policy = "a b"};
  EXPECT_EQ(FlowQueryString(f, "5m", 10),
            "action=Deny&source=default/client&policy=a%20b&since=5m&limit=10");
  EXPECT_EQ(FlowQueryString(FlowFilter{}, "", 0), "");
}

TEST(FlowsApiTest, ServerUrls) {
  Result<ServerAddress> a = ParseServerUrl("http://10.0.0.1:7443/");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->host, "10.0.0.1");
  EXPECT_EQ(a->port, 7443);
  a = ParseServerUrl("[::1]:80");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(ParseServerUrl("localhost")->port, 80);
  EXPECT_EQ(ParseServerUrl("https://x:1").error().message(),
            R"(server URL "https://x:1": only http:// is served by calico-flows)");
  EXPECT_FALSE(ParseServerUrl("http://x:99999").has_value());
  EXPECT_FALSE(ParseServerUrl("http://:80").has_value());
}

TEST(FlowsApiTest, UnreachableServerIsAClearError) {
  // Port 1 on loopback: nothing listens there.
  Result<HttpResult> r =
      HttpRequest("http://127.0.0.1:1", "GET", "/api/v1/flows", "", std::chrono::seconds(5));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message().find("calico-flows at http://127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace calico::flows
