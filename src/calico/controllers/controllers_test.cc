// The controllers' runner: two instances on one store (only one acts), event-driven policy
// conversion, KubeControllersConfiguration created with upstream's defaults and honoured
// (controllers switched off stop acting), and hand-over when the leader goes quiet.
#include "calico/controllers/controllers.h"

#include <gtest/gtest.h>

#include "calico/base/testing/fake_clock.h"
#include "calico/controllers/testing/fake_node_inspector.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::controllers {
namespace {

using ::calico::testing::FakeClock;

using model::Json;
using model::Resource;
using std::chrono::milliseconds;
using std::chrono::seconds;

class ControllersTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(client_.EnsureInitialized().has_value()); }

  std::unique_ptr<Controllers> Make(const std::string& id,
                                    std::map<std::string, std::string> env = {}) {
    ControllersOptions o;
    o.identity = id;
    o.lease = seconds(15);
    o.env = std::move(env);
    return std::make_unique<Controllers>(backend_, inspector_, clock_, metrics_, o);
  }

  void Apply(const std::string& json) {
    auto r = client_.Apply(Resource(Json::parse(json)));
    ASSERT_TRUE(r.has_value()) << r.error().message();
  }

  FakeClock clock_;
  datastore::MemBackend backend_{&clock_};
  datastore::Client client_{backend_};
  testing::FakeNodeInspector inspector_;
  ControllerMetrics metrics_;
};

TEST_F(ControllersTest, OneLeaderConvertsOnEvents) {
  auto a = Make("a");
  auto b = Make("b");
  ASSERT_TRUE(a->Step(milliseconds(0)).has_value());
  ASSERT_TRUE(b->Step(milliseconds(0)).has_value());
  EXPECT_TRUE(a->leading());
  EXPECT_FALSE(b->leading());
  // The configuration was created with upstream's defaults, status written back.
  auto kcc = client_.Get("KubeControllersConfiguration", "", "default");
  ASSERT_TRUE(kcc.has_value());
  EXPECT_EQ(kcc->spec()["controllers"]["node"]["leakGracePeriod"], "15m0s");
  EXPECT_TRUE(kcc->doc().contains("status"));

  Apply(R"j({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev"}})j");
  Apply(R"j({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
            "metadata":{"name":"deny","namespace":"dev"},"spec":{"podSelector":{}}})j");
  ASSERT_TRUE(a->Step(milliseconds(0)).has_value());
  ASSERT_TRUE(b->Step(milliseconds(0)).has_value());
  EXPECT_TRUE(client_.Get("Profile", "", "kns.dev").has_value());
  EXPECT_TRUE(client_.Get("NetworkPolicy", "dev", "knp.default.deny").has_value());

  // The leader goes quiet (killed): after its lease expires the standby takes over and carries on.
  for (int i = 0; i < 30 && !b->leading(); ++i) {
    clock_.Advance(seconds(1));
    ASSERT_TRUE(b->Step(milliseconds(0)).has_value());
  }
  EXPECT_TRUE(b->leading());
  ASSERT_TRUE(client_.Delete("NetworkPolicy.networking.k8s.io", "dev", "deny").has_value());
  ASSERT_TRUE(b->Step(milliseconds(0)).has_value());
  EXPECT_FALSE(client_.Get("NetworkPolicy", "dev", "knp.default.deny").has_value());
  // The old leader, back, finds the lease taken and stands by without writing.
  ASSERT_TRUE(a->Step(milliseconds(0)).has_value());
  EXPECT_FALSE(a->leading());
}

TEST_F(ControllersTest, DisabledControllersDoNothing) {
  auto c = Make("a", {{"ENABLED_CONTROLLERS", "node"}});
  Apply(R"j({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev"}})j");
  ASSERT_TRUE(c->Step(milliseconds(0)).has_value());
  ASSERT_TRUE(c->leading());
  EXPECT_FALSE(client_.Get("Profile", "", "kns.dev").has_value());
  EXPECT_FALSE(c->config().namespace_.has_value());
}

// A configuration change while running is applied: removing the namespace section stops the
// namespace controller; the leak grace period reaches the collector.
TEST_F(ControllersTest, ConfigurationChangesApplyWhileRunning) {
  auto c = Make("a");
  ASSERT_TRUE(c->Step(milliseconds(0)).has_value());
  ASSERT_TRUE(c->config().namespace_.has_value());
  auto kcc = client_.Get("KubeControllersConfiguration", "", "default");
  ASSERT_TRUE(kcc.has_value());
  kcc->spec()["controllers"].erase("namespace");
  kcc->spec()["controllers"]["node"]["leakGracePeriod"] = "20s";
  ASSERT_TRUE(client_.Update(*kcc).has_value());
  ASSERT_TRUE(c->Step(milliseconds(0)).has_value());
  EXPECT_FALSE(c->config().namespace_.has_value());
  EXPECT_EQ(c->gc_settings().leak_grace, seconds(20));
  Apply(R"j({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"late"}})j");
  ASSERT_TRUE(c->Step(milliseconds(0)).has_value());
  EXPECT_FALSE(client_.Get("Profile", "", "kns.late").has_value());
}

TEST_F(ControllersTest, BadConfigurationIsAnError) {
  Resource kcc("KubeControllersConfiguration", "default");
  kcc.spec() = Json{{"controllers", {{"node", Json::object()}}}};
  ASSERT_TRUE(client_.Create(kcc).has_value());
  auto c = Make("a", {{"ENABLED_CONTROLLERS", "nope"}});
  auto st = c->Step(milliseconds(0));
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message().find("ENABLED_CONTROLLERS"), std::string::npos);
}

}  // namespace
}  // namespace calico::controllers
