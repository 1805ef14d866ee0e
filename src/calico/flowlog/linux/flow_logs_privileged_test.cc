// Flow logs end to end in private network namespaces: the renderer's ruleset with flow logs on,
// loaded with the real nft into a host namespace that routes between two workload namespaces;
// the NFLOG and conntrack sources opened in that namespace; real TCP connections, one allowed
// and one denied; the collector's records name the deciding policy and rule.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "calico/dataplane/netfilter_sources.h"
#include "calico/dataplane/netns.h"
#include "calico/dataplane/testing/netns_fixture.h"
#include "calico/flowlog/runner.h"
#include "calico/policy/flow_log_prefix.h"
#include "calico/policy/ruleset_renderer.h"

namespace calico::flowlog {
namespace {

using dataplane::testing::ScopedNetns;
using dataplane::testing::Sh;

// A socket of `type` created inside namespace `ns` (it stays there).
int SocketIn(const ScopedNetns& ns, int type) {
  int fd = -1;
  auto nsfd = dataplane::NetnsFd::Open(ns.path());
  if (!nsfd) return -1;
  (void)dataplane::RunInNetns(*nsfd, [&]() -> Status {
    fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    return OkStatus();
  });
  return fd;
}

sockaddr_in Addr(const char* ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

// Connects from `ns` to ip:port within 700 ms; sends `payload` when connected.
bool Connect(const ScopedNetns& ns, const char* ip, uint16_t port, const std::string& payload) {
  const int fd = SocketIn(ns, SOCK_STREAM);
  if (fd < 0) return false;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  const sockaddr_in addr = Addr(ip, port);
  bool ok = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  if (!ok && errno == EINPROGRESS) {
    pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
    if (poll(&p, 1, 700) == 1) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      ok = err == 0;
    }
  }
  if (ok) (void)!write(fd, payload.data(), payload.size());
  close(fd);
  return ok;
}

class FlowLogsPrivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    if (Sh("command -v nft >/dev/null && command -v ip >/dev/null") != 0) {
      GTEST_SKIP() << "needs nft and ip (tools/deps.sh installs nftables)";
    }
    ASSERT_TRUE(host_.ok() && w1_.ok() && w2_.ok());
    for (const auto& [ns, iface, subnet] :
         {std::tuple{&w1_, "calia", "10.66.1"}, {&w2_, "calib", "10.66.2"}}) {
      const std::string h = host_.name();
      const std::string w = ns->name();
      for (const std::string& cmd : {
               "ip -n " + h + " link add " + iface + " type veth peer name eth0 netns " + w,
               "ip -n " + h + " addr add " + subnet + ".1/24 dev " + iface,
               "ip -n " + h + " link set " + iface + " up",
               "ip -n " + w + " addr add " + subnet + ".2/24 dev eth0",
               "ip -n " + w + " link set eth0 up",
               "ip -n " + w + " route add default via " + subnet + ".1",
           }) {
        std::string out;
        ASSERT_EQ(Sh(cmd, &out), 0) << cmd << ": " << out;
      }
    }
    ASSERT_EQ(host_.Exec("sysctl -qw net.ipv4.ip_forward=1"), 0);
    listener_ = SocketIn(w2_, SOCK_STREAM);
    ASSERT_GE(listener_, 0);
    const int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const sockaddr_in addr = Addr("0.0.0.0", 8080);
    ASSERT_EQ(bind(listener_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(listener_, 64), 0);
  }

  void TearDown() override {
    if (listener_ >= 0) close(listener_);
  }

  // w1 (calia) and w2 (calib) with an allow-all profile; w2's ingress: tier default, policy
  // ns1/web: #0 Allow TCP 8080, #1 Deny.
  static policy::Model TestModel() {
    policy::Model m;
    m.endpoints.push_back(policy::Endpoint{.name = "ns2/w1",
                                           .interface_name = "calia",
                                           .addresses = {*net::CIDR::Parse("10.66.1.2/32")},
                                           .profiles = {"allow"}});
    m.endpoints.push_back(
        policy::Endpoint{.name = "ns1/w2",
                         .interface_name = "calib",
                         .addresses = {*net::CIDR::Parse("10.66.2.2/32")},
                         .profiles = {"allow"},
                         .ingress_tiers = {{.name = "default", .policies = {"ns1/web"}}}});
    m.profiles.push_back(
        policy::Profile{.id = "allow",
                        .ingress = policy::Json::parse(R"([{"action": "Allow"}])"),
                        .egress = policy::Json::parse(R"([{"action": "Allow"}])")});
    m.policies.push_back(policy::Policy{
        .id = "ns1/web",
        .tier = "default",
        .ingress = policy::Json::parse(
            R"([{"action": "Allow", "protocol": "TCP", "destination": {"ports": [8080]}},
                {"action": "Deny"}])")});
    return m;
  }

  void Load(const policy::Model& m) {
    policy::RenderOptions o;
    o.flow_logs.enabled = true;
    auto text = policy::RenderRuleset(m, o);
    ASSERT_TRUE(text) << text.error().message();
    const std::string path = std::filesystem::temp_directory_path() /
                             ("calico-flowlog-test-" + std::to_string(getpid()) + ".nft");
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(text->data(), 1, text->size(), f);
    std::fclose(f);
    std::string out;
    const int rc = host_.Exec("nft -f " + path, &out);
    std::filesystem::remove(path);
    ASSERT_EQ(rc, 0) << out;
  }

  ScopedNetns host_{"cfl-h"};
  ScopedNetns w1_{"cfl-w1"};
  ScopedNetns w2_{"cfl-w2"};
  int listener_ = -1;
};

const FlowRecord* Find(const std::vector<FlowRecord>& records, int64_t port,
                       const std::string& reporter) {
  for (const FlowRecord& r : records) {
    if (r.key.dest_port == port && r.key.reporter == reporter) return &r;
  }
  return nullptr;
}

TEST_F(FlowLogsPrivilegedTest, AllowedAndDeniedConnectionsNameTheirRule) {
  const policy::Model model = TestModel();
  Load(model);

  // The sources live in the host namespace (netlink sockets belong to the namespace that made
  // them).
  std::unique_ptr<NflogSource> nflog;
  std::unique_ptr<ConntrackSource> conntrack;
  auto nsfd = dataplane::NetnsFd::Open(host_.path());
  ASSERT_TRUE(nsfd);
  Status opened = dataplane::RunInNetns(*nsfd, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::EnableConntrackAccounting());
    ASSIGN_OR_RETURN(
        nflog, dataplane::OpenNflogSource({policy::kNflogIngressGroup, policy::kNflogEgressGroup}));
    ASSIGN_OR_RETURN(conntrack, dataplane::OpenConntrackSource());
    return OkStatus();
  });
  ASSERT_TRUE(opened) << opened.error().message();

  std::vector<FlowRecord> records;
  FlowLogRunner runner(
      RunnerOptions{}, std::move(nflog), std::move(conntrack),
      [&](std::vector<FlowRecord> r) { records.insert(records.end(), r.begin(), r.end()); });
  std::vector<calc::EndpointSummary> endpoints = {{.local = true,
                                                   .ns = "ns2",
                                                   .name = "w1",
                                                   .addresses = {*net::CIDR::Parse("10.66.1.2/32")},
                                                   .labels = {{"app", "client"}}},
                                                  {.local = true,
                                                   .ns = "ns1",
                                                   .name = "w2",
                                                   .addresses = {*net::CIDR::Parse("10.66.2.2/32")},
                                                   .labels = {{"app", "web"}}}};
  runner.SetContext(std::make_shared<FlowContext>(policy::PolicyLookup::Build(model), endpoints));

  EXPECT_TRUE(Connect(w1_, "10.66.2.2", 8080, std::string(1000, 'x')));
  EXPECT_FALSE(Connect(w1_, "10.66.2.2", 2222, ""));

  // NFLOG delivers within its 100 ms timeout; poll for up to 5 s.
  for (int i = 0; i < 50; ++i) {
    runner.PollOnce(Clock::now());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (runner.MetricsText().find("calico_node_flow_logs_nflog_messages_total 0\n") ==
            std::string::npos &&
        i >= 10) {
      break;
    }
  }
  runner.FlushNow(Clock::now());

  const FlowRecord* denied = Find(records, 2222, "Dst");
  ASSERT_NE(denied, nullptr) << runner.MetricsText();
  EXPECT_EQ(denied->key.action, "Deny");
  EXPECT_EQ(denied->key.source_name, "w1");
  EXPECT_EQ(denied->key.source_namespace, "ns2");
  EXPECT_EQ(denied->key.dest_name, "w2");
  EXPECT_EQ(denied->key.dest_ip, "10.66.2.2");
  ASSERT_FALSE(denied->key.enforced.empty());
  const FlowPolicyHit& deciding = denied->key.enforced.back();
  EXPECT_EQ(deciding.kind, "CalicoNetworkPolicy");
  EXPECT_EQ(deciding.ns, "ns1");
  EXPECT_EQ(deciding.name, "web");
  EXPECT_EQ(deciding.tier, "default");
  EXPECT_EQ(deciding.rule_index, 1);
  EXPECT_EQ(deciding.action, "Deny");
  EXPECT_GE(denied->packets_in, 1);

  const FlowRecord* allowed = Find(records, 8080, "Dst");
  ASSERT_NE(allowed, nullptr) << runner.MetricsText();
  EXPECT_EQ(allowed->key.action, "Allow");
  ASSERT_FALSE(allowed->key.enforced.empty());
  EXPECT_EQ(allowed->key.enforced.back().name, "web");
  EXPECT_EQ(allowed->key.enforced.back().rule_index, 0);
  // conntrack's counters: the handshake and the 1000 bytes at least.
  EXPECT_GE(allowed->bytes_in, 1000);
  EXPECT_GE(allowed->packets_out, 1);
  EXPECT_EQ(allowed->num_connections_started, 1);

  // The sender's side: w1's egress allowed by its profile, reported by the source.
  const FlowRecord* egress = Find(records, 8080, "Src");
  ASSERT_NE(egress, nullptr);
  EXPECT_EQ(egress->key.enforced.back().kind, "Profile");
  EXPECT_EQ(egress->key.enforced.back().name, "allow");
}

// A merged run of simple policies (policy/policy_merge.h: one verdict-map lookup jumping to the
// matching rule's policy chain) logs the rule that matched, as the per-policy jumps did.
TEST_F(FlowLogsPrivilegedTest, MergedRunNamesTheMatchingPolicyAndRule) {
  policy::Model model = TestModel();
  auto rule = [](const char* action, const char* net, int port) {
    return policy::Json::array({{{"action", action},
                                 {"protocol", "TCP"},
                                 {"source", {{"nets", {net}}}},
                                 {"destination", {{"ports", {port}}}}}});
  };
  model.policies.push_back(policy::Policy{
      .id = "ns1/a", .tier = "default", .ingress = rule("Deny", "10.66.9.9/32", 8080)});
  policy::Json b = rule("Deny", "10.66.7.0/24", 8080);
  b.push_back(rule("Allow", "10.66.1.2/32", 8080)[0]);
  model.policies.push_back(policy::Policy{.id = "ns1/b", .tier = "default", .ingress = b});
  model.policies.push_back(policy::Policy{
      .id = "ns1/c", .tier = "default", .ingress = rule("Deny", "10.66.1.0/24", 2222)});
  model.endpoints[1].ingress_tiers = {
      {.name = "default", .policies = {"ns1/a", "ns1/b", "ns1/c", "ns1/web"}}};
  Load(model);
  std::string chain;
  ASSERT_EQ(host_.Exec("nft list chain inet calico cali-tw-calib", &chain), 0);
  ASSERT_NE(chain.find("vmap @cali-m4-"), std::string::npos) << chain;

  std::unique_ptr<NflogSource> nflog;
  std::unique_ptr<ConntrackSource> conntrack;
  auto nsfd = dataplane::NetnsFd::Open(host_.path());
  ASSERT_TRUE(nsfd);
  Status opened = dataplane::RunInNetns(*nsfd, [&]() -> Status {
    RETURN_IF_ERROR(dataplane::EnableConntrackAccounting());
    ASSIGN_OR_RETURN(
        nflog, dataplane::OpenNflogSource({policy::kNflogIngressGroup, policy::kNflogEgressGroup}));
    ASSIGN_OR_RETURN(conntrack, dataplane::OpenConntrackSource());
    return OkStatus();
  });
  ASSERT_TRUE(opened) << opened.error().message();
  std::vector<FlowRecord> records;
  FlowLogRunner runner(
      RunnerOptions{}, std::move(nflog), std::move(conntrack),
      [&](std::vector<FlowRecord> r) { records.insert(records.end(), r.begin(), r.end()); });
  std::vector<calc::EndpointSummary> endpoints = {
      {.local = true, .ns = "ns2", .name = "w1", .addresses = {*net::CIDR::Parse("10.66.1.2/32")}},
      {.local = true, .ns = "ns1", .name = "w2", .addresses = {*net::CIDR::Parse("10.66.2.2/32")}}};
  runner.SetContext(std::make_shared<FlowContext>(policy::PolicyLookup::Build(model), endpoints));

  EXPECT_TRUE(Connect(w1_, "10.66.2.2", 8080, "hello"));
  EXPECT_FALSE(Connect(w1_, "10.66.2.2", 2222, ""));
  for (int i = 0; i < 50; ++i) {
    runner.PollOnce(Clock::now());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (runner.MetricsText().find("calico_node_flow_logs_nflog_messages_total 0\n") ==
            std::string::npos &&
        i >= 10) {
      break;
    }
  }
  runner.FlushNow(Clock::now());

  const FlowRecord* allowed = Find(records, 8080, "Dst");
  ASSERT_NE(allowed, nullptr) << runner.MetricsText();
  EXPECT_EQ(allowed->key.action, "Allow");
  ASSERT_FALSE(allowed->key.enforced.empty());
  EXPECT_EQ(allowed->key.enforced.back().name, "b");
  EXPECT_EQ(allowed->key.enforced.back().rule_index, 1);
  EXPECT_EQ(allowed->key.enforced.back().action, "Allow");

  const FlowRecord* denied = Find(records, 2222, "Dst");
  ASSERT_NE(denied, nullptr) << runner.MetricsText();
  EXPECT_EQ(denied->key.action, "Deny");
  ASSERT_FALSE(denied->key.enforced.empty());
  EXPECT_EQ(denied->key.enforced.back().name, "c");
  EXPECT_EQ(denied->key.enforced.back().rule_index, 0);
}

}  // namespace
}  // namespace calico::flowlog
