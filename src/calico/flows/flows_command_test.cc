#include "calico/flows/flows_command.h"

#include <sstream>

#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
#include "calico/flows/service.h"
#include "calico/flows/testing_flows.h"
#include "calico/http/server.h"

namespace calico::flows {
namespace {

using testing_flows::RecordedFlows;

TEST(FlowsCommandTest, TablesGolden) {
  std::vector<StoredFlow> stored;
  uint64_t id = 0;
  for (Flow& f : RecordedFlows(1765100000))
    stored.push_back({.id = ++id, .version = 1, .flow = f});
  calico::testing::ExpectGolden("src/calico/flows/testdata/flows_table.golden",
                                RenderFlowsTable(stored, false));
  calico::testing::ExpectGolden("src/calico/flows/testdata/flows_table_wide.golden",
                                RenderFlowsTable(stored, true));
}

TEST(FlowsCommandTest, DecidingPolicyNamesTheStep) {
  Flow f;
  EXPECT_EQ(DecidingPolicy(f), "-");
  f.key.policies.enforced_policies = {PolicyHit{.kind = PolicyKind::kGlobalNetworkPolicy,
                                                .name = "security.pass",
                                                .tier = "security",
                                                .action = Action::kPass,
                                                .policy_index = 0,
                                                .rule_index = 0},
                                      PolicyHit{.kind = PolicyKind::kProfile,
                                                .name = "backend",
                                                .action = Action::kDeny,
                                                .policy_index = 1,
                                                .rule_index = -1}};
  EXPECT_EQ(DecidingPolicy(f), "profile backend (no rule matched)");
  f.key.policies.enforced_policies[1].rule_index = 2;
  EXPECT_EQ(DecidingPolicy(f), "profile backend (rule 2)");
  f.key.policies.enforced_policies[1] = PolicyHit{.kind = PolicyKind::kEndOfTier,
                                                  .name = "default",
                                                  .tier = "default",
                                                  .action = Action::kDeny,
                                                  .policy_index = 1,
                                                  .rule_index = -1};
  EXPECT_EQ(DecidingPolicy(f), "default (default, end of tier)");
}

struct Ran {
  int rc;
  std::string out;
  std::string err;
};

class FlowsCommandServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(flows_.Start());
    url_ = "http://" + flows_.address();
  }
  void TearDown() override { flows_.Stop(); }
  Ran Run(std::vector<std::string> args, const std::string& env_server = "") {
    std::istringstream in;
    std::ostringstream out, err;
    ctl::Context ctx{.in = in, .out = out, .err = err, .open_client = {}, .build = {}};
    const int rc = RunFlowsCommand(args, ctx, env_server);
    return {rc, out.str(), err.str()};
  }

  testing_flows::RecordedFlowsServer flows_;
  std::string url_;
};

size_t Lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST_F(FlowsCommandServerTest, FiltersAndFormats) {
  Ran r = Run({"--server", url_});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(Lines(r.out), 5u) << r.out;  // headings + 4 flows
  EXPECT_EQ(r.out.rfind("LAST SEEN ", 0), 0u);

  r = Run({"--denied", "--since", "5m"}, url_);  // the server from $CALICO_FLOWS_SERVER
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(Lines(r.out), 3u) << r.out;
  EXPECT_NE(r.out.find("prod/default.web-only-frontend (default, end of tier)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("default.deny-db (default, rule 2)"), std::string::npos) << r.out;

  r = Run({"--server", url_, "--from", "10.65.0.2", "--to", "prod/web"});
  EXPECT_EQ(Lines(r.out), 2u) << r.out;
  r = Run({"--server", url_, "--policy", "allow-dns", "-o", "wide"});
  EXPECT_EQ(Lines(r.out), 2u) << r.out;
  EXPECT_NE(r.out.find("REPORTER"), std::string::npos);
  r = Run({"--server", url_, "--namespace", "kube-system", "-o", "json"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("\"destName\": \"kube-dns\""), std::string::npos) << r.out;
}

TEST_F(FlowsCommandServerTest, ErrorsAreClear) {
  Ran r = Run({"--server", url_, "--since", "yesterday"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "Failed to get flows: since: \"yesterday\" is neither a duration (5m, 90s) nor Unix "
            "seconds\n");
  r = Run({"--server", "http://127.0.0.1:1"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err.rfind("Failed to get flows: calico-flows at http://127.0.0.1:1: ", 0), 0u)
      << r.err;
  r = Run({"--server", url_, "-o", "yaml"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "Unrecognized output type 'yaml': use ps, wide or json\n");
  r = Run({"--server", url_, "--bogus"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("unknown flag: --bogus"), std::string::npos) << r.err;
  r = Run({"--server", "https://x"});
  EXPECT_EQ(r.rc, 1);
  r = Run({"--help"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("calicoctl flows [--denied]"), std::string::npos);
}

}  // namespace
}  // namespace calico::flows
