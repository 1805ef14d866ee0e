// BirdReconciler against the in-memory datastore and a fake BIRD daemon: first start, reconfigure,
// restart of a dead BIRD, rejected configurations and bad inputs (nothing sent to BIRD).
#include "calico/bird/bird_reconciler.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/datastore/client.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/model/resource.h"

namespace calico::bird {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A BIRD that remembers what it runs: Start and Reconfigure record the text; a rejected text is
// not taken; Kill() makes it stop until EnsureRunning.
class FakeBirdDaemon final : public BirdDaemon {
 public:
  Status Start(const std::string& text) override {
    calls.push_back("start");
    if (reject) return InvalidArgument("bird -p: syntax error");
    config = text;
    running = true;
    return OkStatus();
  }
  Status Reconfigure(const std::string& text) override {
    calls.push_back("reconfigure");
    if (!running) return Unavailable("bird is not running");
    if (reject) return InvalidArgument("bird -p: syntax error");
    config = text;
    return OkStatus();
  }
  Status EnsureRunning() override {
    calls.push_back("ensure-running");
    running = true;
    return OkStatus();
  }
  bool Running() override { return running; }
  std::string current_config() override { return config; }
  const std::string& config_path() const override { return path; }

  std::vector<std::string> calls;
  std::string config;
  bool running = false;
  bool reject = false;
  std::string path = "/run/test/bird.conf";
};

class BirdReconcilerTest : public ::testing::Test {
 protected:
  void Node(const std::string& name, const std::string& ipv4) {
    model::Resource node("Node", name);
    node.spec()["bgp"]["ipv4Address"] = ipv4;
    ASSERT_TRUE(client_.Apply(node));
  }

  datastore::MemBackend store_;
  datastore::Client client_{store_};
  FakeBirdDaemon bird_;
  BirdReconciler reconciler_{client_, store_, "node-a", bird_};
};

TEST_F(BirdReconcilerTest, StartsThenReconfiguresWithTheDatastoresView) {
  Node("node-a", "198.18.0.1/24");
  ASSERT_TRUE(reconciler_.Reconcile());
  EXPECT_THAT(bird_.calls, ElementsAre("start"));
  EXPECT_THAT(bird_.config, HasSubstr("router id 198.18.0.1;"));
  EXPECT_THAT(bird_.config, ::testing::Not(HasSubstr("198.18.0.2")));

  Node("node-b", "198.18.0.2/24");  // A second node: a mesh peer appears.
  ASSERT_TRUE(reconciler_.Reconcile());
  EXPECT_THAT(bird_.calls, ElementsAre("start", "reconfigure"));
  EXPECT_THAT(bird_.config, HasSubstr("198.18.0.2"));
  EXPECT_EQ(reconciler_.last_error(), "");
}

TEST_F(BirdReconcilerTest, RestartsADeadBirdBeforeReconfiguring) {
  Node("node-a", "198.18.0.1/24");
  ASSERT_TRUE(reconciler_.Reconcile());
  bird_.running = false;
  ASSERT_TRUE(reconciler_.Reconcile());
  EXPECT_THAT(bird_.calls, ElementsAre("start", "ensure-running", "reconfigure"));
  EXPECT_TRUE(bird_.running);
}

TEST_F(BirdReconcilerTest, RejectedConfigurationKeepsTheRunningOneAndRecovers) {
  Node("node-a", "198.18.0.1/24");
  ASSERT_TRUE(reconciler_.Reconcile());
  const std::string good = bird_.config;
  bird_.reject = true;
  Node("node-b", "198.18.0.2/24");
  Status st = reconciler_.Reconcile();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(reconciler_.last_error(), "bird -p: syntax error");
  EXPECT_EQ(bird_.config, good);
  bird_.reject = false;
  ASSERT_TRUE(reconciler_.Reconcile());
  EXPECT_EQ(reconciler_.last_error(), "");
  EXPECT_THAT(bird_.config, HasSubstr("198.18.0.2"));
}

// Inputs BIRD cannot be configured from (this node has no Node resource yet): an error, and BIRD
// is not asked to do anything.
TEST_F(BirdReconcilerTest, BadInputsReachNoDaemon) {
  Status st = reconciler_.Reconcile();
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("node-a"));
  EXPECT_TRUE(bird_.calls.empty());
  EXPECT_EQ(reconciler_.last_error(), st.error().message());
}

}  // namespace
}  // namespace calico::bird
