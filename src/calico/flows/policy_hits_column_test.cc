// `calicoctl get globalnetworkpolicy|networkpolicy -o wide`: the HITS column from a real
// calico-flows (FlowService over loopback, fed the web page test's recorded flows) named by
// FelixConfiguration default's flowLogsGoldmaneServer (golden: testdata/policies_hits_wide.golden),
// and "-" with one line on stderr when there is no such server or it cannot be asked.
#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
#include "calico/ctl/testing/ctl_fixture.h"
#include "calico/flows/flows_command.h"
#include "calico/flows/service.h"
#include "calico/flows/testing_flows.h"
#include "calico/http/server.h"

namespace calico::flows {
namespace {

using testing_flows::RecordedFlowsServer;

// The policies of the recorded flows (and one no flow names).
constexpr std::string_view kPolicies = R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: default.deny-db}
spec: {tier: default, order: 10, selector: app == 'client', types: [Egress],
       egress: [{action: Deny, protocol: TCP, destination: {ports: [5432]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: default.unused}
spec: {tier: default, selector: app == 'nothing', ingress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: default.web-only-frontend, namespace: prod}
spec: {tier: default, selector: app == 'web', ingress: [{action: Allow, source: {selector: app == 'frontend'}}]}
)";

class PolicyHitsColumnTest : public ctl::testing::CtlFixture {
 protected:
  void SetUp() override {
    ASSERT_TRUE(flows_.Start());
    url_ = flows_.address();
    flows_get_ = FlowsGet;
    auto r = Run({"create", "-f", "-"}, std::string(kPolicies));
    ASSERT_EQ(r.code, 0) << r.err;
  }
  void TearDown() override { flows_.Stop(); }
  void SetServer(const std::string& server) {
    auto r = Run({"apply", "-f", "-"},
                 "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\n"
                 "metadata: {name: default}\nspec: {flowLogsGoldmaneServer: \"" +
                     server + "\"}\n");
    ASSERT_EQ(r.code, 0) << r.err;
  }

  RecordedFlowsServer flows_;
  std::string url_;
};

TEST_F(PolicyHitsColumnTest, WideTablesGolden) {
  SetServer(url_);
  auto gnp = Run({"get", "globalnetworkpolicy", "-o", "wide"});
  ASSERT_EQ(gnp.code, 0) << gnp.err;
  EXPECT_EQ(gnp.err, "");
  auto np = Run({"get", "networkpolicy", "-n", "prod", "default.web-only-frontend", "-o", "wide"});
  ASSERT_EQ(np.code, 0) << np.err;
  calico::testing::ExpectGolden("src/calico/flows/testdata/policies_hits_wide.golden",
                                gnp.out + np.out);
  // The ps table has no HITS and asks nobody.
  auto ps = Run({"get", "globalnetworkpolicy"});
  EXPECT_EQ(ps.out.find("HITS"), std::string::npos) << ps.out;
}

TEST_F(PolicyHitsColumnTest, NoServerGivesDashesAndSaysWhy) {
  auto r = Run({"get", "globalnetworkpolicy", "-o", "wide"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err,
            "HITS is \"-\": no flows server (FelixConfiguration default sets no "
            "flowLogsGoldmaneServer)\n");
  // Every row's HITS (the last cell) is "-".
  std::istringstream lines(r.out);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_NE(line.find("SELECTOR"), std::string::npos) << r.out;
  EXPECT_NE(line.find("HITS"), std::string::npos) << r.out;
  int rows = 0;
  while (std::getline(lines, line) && !line.empty()) {
    ++rows;
    line.erase(line.find_last_not_of(' ') + 1);
    EXPECT_EQ(line.substr(line.size() - 2), " -") << line;
  }
  EXPECT_EQ(rows, 2) << r.out;

  SetServer("127.0.0.1:1");  // Nobody listens there.
  r = Run({"get", "globalnetworkpolicy", "-o", "wide"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.rfind("HITS is \"-\": calico-flows at 127.0.0.1:1", 0), 0U) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

}  // namespace
}  // namespace calico::flows
