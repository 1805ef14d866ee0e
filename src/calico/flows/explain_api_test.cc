#include "calico/flows/explain_api.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "calico/datastore/testing/mem_backend.h"

namespace calico::flows {
namespace {

using Json = nlohmann::json;

http::Response Ask(const ExplainHandler& h, std::string_view query) {
  Result<QueryParams> p = ParseQueryString(query);
  EXPECT_TRUE(p.has_value());
  return h(p ? *p : QueryParams{});
}

TEST(ExplainApiTest, AnswersWithTheExplainLibrary) {
  datastore::MemBackend backend;
  datastore::Client client(backend);
  int opened = 0;
  ExplainHandler h = MakeExplainHandler([&]() -> Result<datastore::Client*> {
    ++opened;
    return &client;
  });
  // Two addresses that are no Calico endpoint: no policy applies, allowed.
  http::Response r = Ask(h, "from=192.0.2.1&to=192.0.2.2&protocol=tcp&port=80");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Json::parse(r.body);
  EXPECT_EQ(j["verdict"], "Allow");
  EXPECT_EQ(j["query"]["port"], 80);
  EXPECT_EQ(j["query"]["protocol"], "TCP");
  r = Ask(h, "from=192.0.2.1&to=192.0.2.2&protocol=udp&port=53");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(opened, 1);  // opened once

  r = Ask(h, "from=192.0.2.1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json::parse(r.body)["error"], "to: required");
  r = Ask(h, "from=192.0.2.1&to=x&port=eighty");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json::parse(r.body)["error"], R"(port: invalid number "eighty")");
  r = Ask(h, "from=192.0.2.1&to=192.0.2.2&bogus=1");
  EXPECT_EQ(r.status, 400);
  r = Ask(h, "from=no-such-endpoint&to=192.0.2.2&port=80");
  EXPECT_EQ(r.status, 400);
}

TEST(ExplainApiTest, AnUnreachableDatastoreGivesTheCommand) {
  int calls = 0;
  ExplainHandler h = MakeExplainHandler([&]() -> Result<datastore::Client*> {
    ++calls;
    return Unavailable("etcd at http://198.18.0.1:2379: connection refused");
  });
  http::Response r = Ask(h, "from=a/b&to=10.0.0.1&protocol=TCP&port=80");
  EXPECT_EQ(r.status, 503);
  Json j = Json::parse(r.body);
  EXPECT_EQ(j["error"], "datastore: etcd at http://198.18.0.1:2379: connection refused");
  EXPECT_EQ(j["command"],
            "calicoctl policy explain --from a/b --to 10.0.0.1 --protocol TCP --port 80");
  (void)Ask(h, "from=a/b&to=10.0.0.1&protocol=TCP&port=80");
  EXPECT_EQ(calls, 2);  // retried on the next request
}

}  // namespace
}  // namespace calico::flows
