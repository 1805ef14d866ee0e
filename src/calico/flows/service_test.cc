#include "calico/flows/service.h"

#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "calico/base/testing/fake_clock.h"
#include "calico/flows/testing_flows.h"
#include "calico/http/server.h"

namespace calico::flows {
namespace {

using testing_flows::kT0;
using testing_flows::MakeFlow;
using Json = nlohmann::json;

std::string Lines(const std::vector<Flow>& flows) {
  std::string out;
  for (const auto& f : flows)
    out += EncodeFlow(f) + "\n";
  return out;
}

class FlowServiceTest : public ::testing::Test {
 protected:
  FlowServiceTest() { clock_.SetWall(std::chrono::system_clock::from_time_t(kT0 + 60)); }
  http::Response Call(std::string method, std::string path, std::string body = "") {
    return service_.Handle(http::Request{.method = std::move(method),
                                         .path = std::move(path),
                                         .version = "HTTP/1.1",
                                         .headers = {},
                                         .body = std::move(body)});
  }
  calico::testing::FakeClock clock_;
  Aggregator aggregator_{AggregatorOptions{}, clock_};
  FlowService service_{aggregator_, clock_, ServiceOptions{.max_records_per_request = 3}};
};

TEST_F(FlowServiceTest, IngestsAndAnswersFilteredQueries) {
  http::Response r =
      Call("POST", "/api/v1/flows",
           Lines({MakeFlow("default/client", "prod/web", 80, Action::kDeny, "web-only", -1),
                  MakeFlow("prod/frontend", "prod/web", 80, Action::kAllow, "allow-fe", 0)}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"accepted\":2}\n");
  r = Call("GET", "/api/v1/flows?action=Deny");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  Json j = Json::parse(r.body);
  EXPECT_EQ(j["total"], 1);
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["flow"]["Key"]["sourceName"], "client");
  // Each item's flow is the record's own JSON.
  EXPECT_TRUE(DecodeFlow(j["items"][0]["flow"].dump()).has_value());

  r = Call("GET", "/api/v1/policies/hits");
  ASSERT_EQ(r.status, 200);
  j = Json::parse(r.body);
  ASSERT_EQ(j["policies"].size(), 2u);
  EXPECT_EQ(j["policies"][1]["name"], "default.web-only");
  EXPECT_EQ(j["policies"][1]["actions"]["Deny"]["flows"], 1);
  EXPECT_EQ(j["policies"][1]["rules"][0]["ruleIndex"], -1);

  r = Call("GET", "/api/v1/status");
  EXPECT_EQ(Json::parse(r.body)["flows"], 2);
  r = Call("GET", "/metrics");
  EXPECT_NE(r.body.find("calico_flows_window_flows 2\n"), std::string::npos);
}

TEST_F(FlowServiceTest, RefusesBadBatchesWholeAndNamesTheLine) {
  const std::string good =
      EncodeFlow(MakeFlow("default/a", "prod/web", 80, Action::kAllow, "p", 0));
  http::Response r = Call("POST", "/api/v1/flows", good + "\n{\"Key\":{\"destPort\":\"x\"}}\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json::parse(r.body)["error"], R"(line 2: Key.destPort: invalid number "x")");
  r = Call("POST", "/api/v1/flows", "not json\n");
  EXPECT_EQ(r.status, 400);
  r = Call("POST", "/api/v1/flows", good + "\n" + good + "\n" + good + "\n" + good + "\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json::parse(r.body)["error"], "more than 3 flow records in one request");
  EXPECT_EQ(aggregator_.Stats().flows, 0u);
  EXPECT_EQ(service_.rejected_requests(), 3u);
}

TEST_F(FlowServiceTest, RoutesMethodsAndBadQueries) {
  EXPECT_EQ(Call("GET", "/nope").status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/flows").status, 405);
  EXPECT_EQ(Call("POST", "/api/v1/policies/hits").status, 405);
  http::Response r = Call("GET", "/api/v1/flows?action=Block");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/flows?a=%zz").status, 400);
  r = Call("GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<title>calico-flows</title>"), std::string::npos);
  // The page loads nothing from elsewhere.
  EXPECT_EQ(r.body.find("http://"), std::string::npos);
  EXPECT_EQ(r.body.find("https://"), std::string::npos);
}

TEST_F(FlowServiceTest, ExplainWithoutTheLibraryGivesTheCalicoctlCommand) {
  http::Response r =
      Call("GET", "/api/v1/explain?from=default/client&to=10.65.1.3&protocol=TCP&port=80");
  EXPECT_EQ(r.status, 501);
  EXPECT_EQ(Json::parse(r.body)["command"],
            "calicoctl policy explain --from default/client --to 10.65.1.3 --protocol TCP "
            "--port 80");
  EXPECT_EQ(ExplainCommand(*ParseQueryString("from=a'b&to=x")),
            R"(calicoctl policy explain --from 'a'\''b' --to x)");
  FlowService with(aggregator_, clock_, ServiceOptions{}, [](const QueryParams& p) {
    return http::Response{200, "application/json", "{\"from\":\"" + p.find("from")->second + "\"}"};
  });
  http::Request req;
  req.method = "GET";
  req.path = "/api/v1/explain?from=x";
  r = with.Handle(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"from\":\"x\"}");
}

// Over a real socket: the client posts, queries and streams; hostile senders are refused.
TEST(FlowServiceServerTest, PostQueryStreamAndHostileInput) {
  SystemClock clock;
  Aggregator aggregator(AggregatorOptions{}, clock);
  FlowService service(aggregator, clock, ServiceOptions{});
  http::ServerOptions opts{.host = "127.0.0.1", .port = 0};
  opts.limits.max_body_bytes = 64 << 10;
  opts.read_timeout = std::chrono::milliseconds(500);
  http::Server server(opts, [&](const http::Request& r) { return service.Handle(r); });
  ASSERT_TRUE(server.Start());
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  const auto kGuard = std::chrono::seconds(60);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();

  ASSERT_TRUE(
      PostFlows(url, {MakeFlow("default/a", "prod/web", 80, Action::kAllow, "p", 0, now)}, kGuard));
  // The stream sends the current flow, "ready", then a flow posted afterwards.
  std::vector<std::string> events;
  std::thread poster;
  Status st = HttpEventStream(
      url, "/api/v1/flows/stream?action=Deny,Allow",
      [&](std::string_view data) {
        events.emplace_back(data);
        if (events.size() == 2) {
          poster = std::thread([&] {
            ASSERT_TRUE(PostFlows(
                url, {MakeFlow("default/b", "prod/web", 80, Action::kDeny, "p", -1, now)}, kGuard));
          });
        }
        return events.size() < 3;
      },
      kGuard);
  if (poster.joinable()) poster.join();
  ASSERT_TRUE(st) << st.error().message();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(Json::parse(events[0])["flow"]["Key"]["sourceName"], "a");
  EXPECT_EQ(events[1], "{}");  // ready
  EXPECT_EQ(Json::parse(events[2])["flow"]["Key"]["sourceName"], "b");

  Result<HttpResult> q = HttpRequest(url, "GET", "/api/v1/flows?action=Deny", "", kGuard);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(Json::parse(q->body)["total"], 1);

  // An oversized body: 413 before it is read; nothing taken.
  q = HttpRequest(url, "POST", "/api/v1/flows", std::string(100 << 10, 'x'), kGuard);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->status, 413);
  // A stream error is reported, not streamed.
  Status bad = HttpEventStream(
      url, "/api/v1/flows/stream?action=Nope", [](std::string_view) { return true; }, kGuard);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("400"), std::string::npos) << bad.error().message();
  EXPECT_EQ(aggregator.Stats().flows, 2u);
  server.Stop();
}

}  // namespace
}  // namespace calico::flows
