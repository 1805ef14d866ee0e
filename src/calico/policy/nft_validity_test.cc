// Loads every golden ruleset (testdata/*.nft) into the kernel with the real `nft`, and checks
// the policy semantics with real TCP connections between two "workload" namespaces routed through
// a "host" namespace that holds the ruleset, and host endpoint policy (failsafes, the "*"
// endpoint, preDNAT, doNotTrack) between that host and a client namespace. Everything happens in
// network namespaces created (and deleted) by the test, so the root namespace's nftables are never
// touched. ctest label: privileged (needs root, `ip` and `nft`).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
#include "calico/policy/host_endpoints.h"
#include "calico/policy/ruleset_renderer.h"

namespace calico::policy {
namespace {

using ::testing::HasSubstr;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr.
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0)
    result.output.append(buf.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A network namespace that exists for the lifetime of the object.
class ScopedNetns {
 public:
  explicit ScopedNetns(const std::string& suffix = "")
      : name_("calico-policy-test-" + std::to_string(getpid()) + suffix) {
    RunCommand("ip netns delete " + name_);  // A leftover from a killed run with the same pid.
    const CommandResult r = RunCommand("ip netns add " + name_);
    ok_ = r.exit_code == 0;
    error_ = r.output;
  }
  ~ScopedNetns() {
    if (ok_) RunCommand("ip netns delete " + name_);
  }
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;
  ScopedNetns(ScopedNetns&&) = delete;
  ScopedNetns& operator=(ScopedNetns&&) = delete;

  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  const std::string& error() const { return error_; }
  CommandResult Exec(const std::string& command) const {
    return RunCommand("ip netns exec " + name_ + " " + command);
  }

 private:
  std::string name_;
  bool ok_ = false;
  std::string error_;
};

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(
           calico::testing::SourcePath("src/calico/policy/testdata"))) {
    if (entry.path().extension() == ".nft") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class NftValidityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    if (RunCommand("command -v nft").exit_code != 0 || RunCommand("command -v ip").exit_code != 0) {
      GTEST_SKIP() << "needs nft and ip (tools/deps.sh installs nftables)";
    }
  }
};

TEST_F(NftValidityTest, GoldenRulesetsLoad) {
  const std::vector<std::string> files = GoldenFiles();
  ASSERT_GE(files.size(), 8u);
  ScopedNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    CommandResult r = ns.Exec("nft -c -f " + file);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // Loaded twice: the second load replaces the table from the first one.
    for (int i = 0; i < 2; ++i) {
      r = ns.Exec("nft -f " + file);
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    r = ns.Exec("nft list table inet calico");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("chain cali-FORWARD"));
    EXPECT_THAT(r.output, HasSubstr("type filter hook forward priority filter; policy accept;"));
    EXPECT_THAT(r.output, HasSubstr("map cali-from-wl-dispatch"));
    if (file.find("merged_runs") != std::string::npos) {
      // The kernel takes the concatenated interval maps and the lookups into them.
      EXPECT_THAT(r.output, HasSubstr("type ipv4_addr . inet_service : verdict"));
      EXPECT_THAT(r.output, HasSubstr("meta l4proto . ip saddr . th dport vmap @cali-m4-"));
      EXPECT_THAT(r.output, HasSubstr("ip6 saddr . th dport vmap @cali-m6-"));
      EXPECT_THAT(r.output,
                  HasSubstr("0.0.0.0/0 . 80 : jump cali-pi-default/prod/knp.default.web"));
    }
    if (file.find("host_endpoints") != std::string::npos) {
      EXPECT_THAT(r.output, HasSubstr("map cali-from-host-endpoint"));
      EXPECT_THAT(r.output, HasSubstr("chain cali-failsafe-in"));
      EXPECT_THAT(r.output,
                  HasSubstr("type filter hook postrouting priority mangle; policy accept;"));
    }
  }
  // Clean up inside the namespace as well, so nothing lingers if deletion of the namespace is
  // delayed.
  EXPECT_EQ(ns.Exec("nft delete table inet calico").exit_code, 0);
}

TEST_F(NftValidityTest, FreshlyRenderedRulesetLoads) {
  // A ruleset not covered by the goldens: custom prefixes/marks, no replace preamble.
  Model m;
  m.endpoints.push_back(Endpoint{.name = "a", .interface_name = "tap0", .profiles = {"p"}});
  m.profiles.push_back(Profile{.id = "p", .ingress = Json::parse(R"([{"action": "Allow"}])")});
  RenderOptions opts{.marks = {.accept = 0x1000000, .pass = 0x2000000},
                     .interface_prefixes = {"tap"},
                     .endpoint_to_host_action = EndpointToHostAction::kAccept,
                     .replace_table = false};
  auto text = RenderRuleset(m, opts);
  ASSERT_TRUE(text) << text.error().message();
  const std::string path = std::filesystem::temp_directory_path() /
                           ("calico-policy-test-" + std::to_string(getpid()) + ".nft");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(text->data(), 1, text->size(), f);
    std::fclose(f);
  }
  ScopedNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  const CommandResult r = ns.Exec("nft -f " + path);
  std::filesystem::remove(path);
  ASSERT_EQ(r.exit_code, 0) << r.output << "\n" << *text;
  EXPECT_THAT(ns.Exec("nft list chain inet calico cali-tw-tap0").output,
              HasSubstr("jump cali-pri-p"));
}

}  // namespace
}  // namespace calico::policy

namespace calico::policy {
namespace {

// A socket created inside network namespace `ns` (a socket stays in the namespace it was created
// in, so only a short-lived thread has to enter it).
int SocketInNetns(const std::string& ns) {
  int fd = -1;
  std::thread t([&] {
    const int nsfd = open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return;
    if (setns(nsfd, CLONE_NEWNET) == 0) fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    close(nsfd);
  });
  t.join();
  return fd;
}

sockaddr_in Addr(const char* ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

// A TCP connection from namespace `ns` to ip:port completes within 700 ms.
bool ConnectsFrom(const std::string& ns, const char* ip, uint16_t port) {
  const int fd = SocketInNetns(ns);
  if (fd < 0) return false;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  const sockaddr_in addr = Addr(ip, port);
  bool ok = false;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
    if (poll(&p, 1, 700) == 1) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      ok = err == 0;
    }
  }
  close(fd);
  return ok;
}

// Host namespace H with workloads W1 (calia, 10.65.1.2) and W2 (calib, 10.65.2.2) routed through
// it; W2 listens on TCP 8080.
class NftDataplaneTest : public NftValidityTest {
 protected:
  static constexpr uint16_t kPort = 8080;

  void SetUp() override {
    NftValidityTest::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(host_.ok() && w1_.ok() && w2_.ok()) << host_.error() << w1_.error() << w2_.error();
    for (const auto& [ns, iface, subnet] :
         {std::tuple{&w1_, "calia", "10.65.1"}, {&w2_, "calib", "10.65.2"}}) {
      const std::string h = host_.name();
      const std::string w = ns->name();
      for (const std::string& cmd : {
               "ip -n " + h + " link add " + iface + " type veth peer name eth0 netns " + w,
               "ip -n " + h + " addr add " + subnet + ".1/24 dev " + iface,
               "ip -n " + h + " link set " + iface + " up",
               "ip -n " + w + " addr add " + subnet + ".2/24 dev eth0",
               "ip -n " + w + " link set eth0 up",
               "ip -n " + w + " link set lo up",
               "ip -n " + w + " route add default via " + subnet + ".1",
           }) {
        const CommandResult r = RunCommand(cmd);
        ASSERT_EQ(r.exit_code, 0) << cmd << ": " << r.output;
      }
    }
    const CommandResult r = host_.Exec("sysctl -qw net.ipv4.ip_forward=1");
    ASSERT_EQ(r.exit_code, 0) << r.output;

    listener_ = SocketInNetns(w2_.name());
    ASSERT_GE(listener_, 0);
    const int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const sockaddr_in addr = Addr("0.0.0.0", kPort);
    ASSERT_EQ(bind(listener_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(listener_, 64), 0);
  }

  void TearDown() override {
    if (listener_ >= 0) close(listener_);
  }

  // Base model: both endpoints with a profile that allows everything.
  static Model BaseModel() {
    Model m;
    m.endpoints.push_back(Endpoint{.name = "w1",
                                   .interface_name = "calia",
                                   .addresses = {*net::CIDR::Parse("10.65.1.2/32")},
                                   .profiles = {"allow"}});
    m.endpoints.push_back(Endpoint{.name = "w2",
                                   .interface_name = "calib",
                                   .addresses = {*net::CIDR::Parse("10.65.2.2/32")},
                                   .profiles = {"allow"}});
    m.profiles.push_back(Profile{.id = "allow",
                                 .ingress = Json::parse(R"([{"action": "Allow"}])"),
                                 .egress = Json::parse(R"([{"action": "Allow"}])")});
    return m;
  }

  static void AddPolicy(Model& m, const std::string& id, const std::string& tier,
                        const char* ingress, const char* egress = "[]") {
    m.policies.push_back(Policy{
        .id = id, .tier = tier, .ingress = Json::parse(ingress), .egress = Json::parse(egress)});
  }

  void Load(const Model& m) {
    auto text = RenderRuleset(m);
    ASSERT_TRUE(text) << text.error().message();
    const std::string path = std::filesystem::temp_directory_path() /
                             ("calico-policy-test-" + std::to_string(getpid()) + "-dp.nft");
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(text->data(), 1, text->size(), f);
    std::fclose(f);
    const CommandResult r = host_.Exec("nft -f " + path);
    std::filesystem::remove(path);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  // A TCP connection from W1 to W2:8080 completes within the timeout.
  bool Connects() const { return ConnectsFrom(w1_.name(), "10.65.2.2", kPort); }

  // Packets counted by the rule carrying `comment` in `chain`.
  long CounterOf(const std::string& chain, const std::string& comment) const {
    const CommandResult r = host_.Exec("nft list chain inet calico " + chain);
    const std::regex re("counter packets ([0-9]+) bytes [0-9]+ .*comment \"" + comment + "\"");
    std::smatch m;
    if (!std::regex_search(r.output, m, re)) return -1;
    return std::stol(m[1].str());
  }

  ScopedNetns host_{"-h"};
  ScopedNetns w1_{"-w1"};
  ScopedNetns w2_{"-w2"};
  int listener_ = -1;
};

TEST_F(NftDataplaneTest, ProfileAllows) {
  Load(BaseModel());
  EXPECT_TRUE(Connects());
}

TEST_F(NftDataplaneTest, NoProfileMatchDrops) {
  Model m = BaseModel();
  m.profiles[0].ingress = Json::parse(R"([{"action": "Allow", "protocol": "UDP"}])");
  Load(m);
  EXPECT_FALSE(Connects());
  EXPECT_GT(CounterOf("cali-tw-calib", "Drop if no profiles matched"), 0);
}

TEST_F(NftDataplaneTest, DenyBeforeAllowAndCounterNamesTheRule) {
  Model m = BaseModel();
  AddPolicy(m, "guard", "default",
            R"([{"action": "Log", "protocol": "TCP"},
                {"action": "Deny", "protocol": "TCP", "destination": {"ports": [8080]}},
                {"action": "Allow"}])");
  m.endpoints[1].ingress_tiers = {{.name = "default", .policies = {"guard"}}};
  Load(m);
  EXPECT_FALSE(Connects());
  EXPECT_GT(CounterOf("cali-pi-default/guard", "policy default/guard ingress #1"), 0);
  EXPECT_GT(CounterOf("cali-pi-default/guard", "policy default/guard ingress #0"), 0);
}

TEST_F(NftDataplaneTest, EgressOfSenderAppliesToo) {
  Model m = BaseModel();
  AddPolicy(m, "no-egress", "default", "[]",
            R"([{"action": "Deny", "destination": {"nets": ["10.65.2.0/24"]}}])");
  m.endpoints[0].egress_tiers = {{.name = "default", .policies = {"no-egress"}}};
  Load(m);
  EXPECT_FALSE(Connects());
  EXPECT_GT(CounterOf("cali-po-default/no-egress", "policy default/no-egress egress #0"), 0);
}

TEST_F(NftDataplaneTest, PassSkipsToProfiles) {
  Model m = BaseModel();
  AddPolicy(m, "pass-w1", "security",
            R"([{"action": "Pass", "source": {"nets": ["10.65.1.0/24"]}}])");
  m.endpoints[1].ingress_tiers = {{.name = "security", .policies = {"pass-w1"}}};
  Load(m);
  EXPECT_TRUE(Connects());
}

TEST_F(NftDataplaneTest, PassThenEndOfNextTierDrops) {
  Model m = BaseModel();
  AddPolicy(m, "pass-w1", "security",
            R"([{"action": "Pass", "source": {"nets": ["10.65.1.0/24"]}}])");
  AddPolicy(m, "other-port", "default",
            R"([{"action": "Allow", "protocol": "TCP", "destination": {"ports": [9999]}}])");
  m.endpoints[1].ingress_tiers = {{.name = "security", .policies = {"pass-w1"}},
                                  {.name = "default", .policies = {"other-port"}}};
  Load(m);
  EXPECT_FALSE(Connects());
  EXPECT_GT(CounterOf("cali-tw-calib", "End of tier default. Drop if no policies passed packet"),
            0);

  // The same second tier with defaultAction Pass falls through to the profile.
  m.endpoints[1].ingress_tiers[1].default_deny = false;
  Load(m);
  EXPECT_TRUE(Connects());
}

TEST_F(NftDataplaneTest, EndOfTierDropsWhenNothingMatches) {
  Model m = BaseModel();
  AddPolicy(m, "elsewhere", "security",
            R"([{"action": "Pass", "source": {"nets": ["192.0.2.0/24"]}}])");
  m.endpoints[1].ingress_tiers = {{.name = "security", .policies = {"elsewhere"}}};
  Load(m);
  EXPECT_FALSE(Connects());
}

TEST_F(NftDataplaneTest, SelectorIpSets) {
  Model m = BaseModel();
  m.endpoints[0].labels = {{"app", "frontend"}};
  AddPolicy(m, "from-frontend", "default",
            R"([{"action": "Allow", "protocol": "TCP", "source": {"selector": "app == 'frontend'"},
                 "destination": {"ports": [8080]}}])");
  m.endpoints[1].ingress_tiers = {{.name = "default", .policies = {"from-frontend"}}};
  auto sets = ComputeSelectorIpSets(m);
  ASSERT_TRUE(sets) << sets.error().message();
  m.ip_sets = *sets;
  Load(m);
  EXPECT_TRUE(Connects());

  m.ip_sets[0].members.clear();  // W1 no longer in the set.
  Load(m);
  EXPECT_FALSE(Connects());
}

TEST_F(NftDataplaneTest, NamedPortsMatchTheEndpointsPorts) {
  // W2's "http" port: TCP 8080 while the set says so, then 9090 (the listener stays on 8080).
  auto http_set = [](uint16_t port) {
    return IpSet{.named_port = "http",
                 .port_members = {{.addr = *net::IPAddr::Parse("10.65.2.2"), .port = port}}};
  };
  Model m = BaseModel();
  AddPolicy(m, "named", "default", R"([{"action": "Allow", "destination": {"ports": ["http"]}}])");
  m.endpoints[1].ingress_tiers = {{.name = "default", .policies = {"named"}}};
  m.ip_sets = {http_set(8080)};
  Load(m);
  EXPECT_TRUE(Connects());
  const CommandResult listing = host_.Exec("nft list table inet calico");
  EXPECT_THAT(listing.output, HasSubstr("type ipv4_addr . inet_proto . inet_service"));
  EXPECT_THAT(listing.output, HasSubstr("10.65.2.2 . tcp . 8080"));
  EXPECT_THAT(listing.output, HasSubstr("ip daddr . meta l4proto . th dport @cali40n-"));

  m.ip_sets = {http_set(9090)};
  Load(m);
  EXPECT_FALSE(Connects());
  EXPECT_GT(CounterOf("cali-tw-calib", "End of tier default. Drop if no policies passed packet"),
            0);

  // Numeric and named ports are alternatives: 8080 allowed through the numeric list.
  m.policies[0].ingress = Json::parse(
      R"([{"action": "Allow", "protocol": "TCP", "destination": {"ports": [8080, "http"]}}])");
  Load(m);
  EXPECT_TRUE(Connects());

  // notPorts names are negations: "not http" denies while http is 8080, allows when it is 9090.
  m.policies[0].ingress = Json::parse(
      R"([{"action": "Allow", "protocol": "TCP", "destination": {"notPorts": ["http"]}}])");
  Load(m);
  EXPECT_TRUE(Connects());
  m.ip_sets = {http_set(8080)};
  Load(m);
  EXPECT_FALSE(Connects());
}

// Runs of simple policies are one verdict-map lookup (policy_merge.h): the packet reaches the
// policy chain of the rule it matches, whose counter names it; other rules count nothing.
TEST_F(NftDataplaneTest, MergedRunDecidesAtTheMatchingRule) {
  Model m = BaseModel();
  AddPolicy(m, "d1", "default",
            R"([{"action": "Deny", "protocol": "TCP", "source": {"nets": ["10.65.9.9/32"]},
                 "destination": {"ports": [8080]}}])");
  AddPolicy(m, "d2", "default",
            R"([{"action": "Deny", "protocol": "TCP", "source": {"nets": ["10.65.3.0/24"]},
                 "destination": {"ports": [8080]}},
                {"action": "Deny", "protocol": "TCP", "source": {"nets": ["10.65.1.2/32"]},
                 "destination": {"ports": ["8000:8100"]}}])");
  AddPolicy(m, "d3", "default",
            R"([{"action": "Deny", "protocol": "TCP", "source": {"nets": ["10.65.1.2/32"]},
                 "destination": {"ports": [9090]}}])");
  AddPolicy(m, "allow-all", "default", R"([{"action": "Allow"}])");
  m.endpoints[1].ingress_tiers = {{.name = "default", .policies = {"d1", "d2", "d3", "allow-all"}}};
  Load(m);
  EXPECT_THAT(host_.Exec("nft list chain inet calico cali-tw-calib").output,
              HasSubstr("vmap @cali-m4-"));
  EXPECT_FALSE(Connects());
  EXPECT_GT(CounterOf("cali-pi-default/d2", "policy default/d2 ingress #1"), 0);
  EXPECT_EQ(CounterOf("cali-pi-default/d2", "policy default/d2 ingress #0"), 0);
  EXPECT_EQ(CounterOf("cali-pi-default/d1", "policy default/d1 ingress #0"), 0);
  EXPECT_EQ(CounterOf("cali-pi-default/d3", "policy default/d3 ingress #0"), 0);

  // The rule's port range no longer covers 8080: nothing in the run matches, allow-all allows.
  m.policies[1].ingress = Json::parse(
      R"([{"action": "Deny", "protocol": "TCP", "source": {"nets": ["10.65.3.0/24"]},
           "destination": {"ports": [8080]}},
          {"action": "Deny", "protocol": "TCP", "source": {"nets": ["10.65.1.2/32"]},
           "destination": {"ports": ["8000:8079"]}}])");
  Load(m);
  EXPECT_TRUE(Connects());
  EXPECT_GT(CounterOf("cali-pi-default/allow-all", "policy default/allow-all ingress #0"), 0);
}

// Overlapping rules of consecutive policies: the first in order decides (the run is broken there
// rather than letting one lookup pick either).
TEST_F(NftDataplaneTest, OverlappingPoliciesKeepTheirOrder) {
  Model m = BaseModel();
  AddPolicy(m, "allow-subnet", "default",
            R"([{"action": "Allow", "protocol": "TCP", "source": {"nets": ["10.65.1.0/24"]},
                 "destination": {"ports": [8080]}}])");
  AddPolicy(m, "deny-host", "default",
            R"([{"action": "Deny", "protocol": "TCP", "source": {"nets": ["10.65.1.2/32"]},
                 "destination": {"ports": [8080]}}])");
  AddPolicy(m, "deny-other", "default",
            R"([{"action": "Deny", "protocol": "TCP", "source": {"nets": ["10.65.7.0/24"]},
                 "destination": {"ports": [8080]}}])");
  m.endpoints[1].ingress_tiers = {
      {.name = "default", .policies = {"allow-subnet", "deny-host", "deny-other"}}};
  Load(m);
  EXPECT_TRUE(Connects());
  EXPECT_GT(CounterOf("cali-pi-default/allow-subnet", "policy default/allow-subnet ingress #0"), 0);
  EXPECT_EQ(CounterOf("cali-pi-default/deny-host", "policy default/deny-host ingress #0"), 0);

  // The other order: the deny comes first and decides.
  m.endpoints[1].ingress_tiers[0].policies = {"deny-host", "allow-subnet", "deny-other"};
  Load(m);
  EXPECT_FALSE(Connects());
  EXPECT_GT(CounterOf("cali-pi-default/deny-host", "policy default/deny-host ingress #0"), 0);
}

// A Pass inside a merged run leaves the tier: the rest of it (merged or not) is skipped and the
// next tier decides.
TEST_F(NftDataplaneTest, PassInMergedRunSkipsTheRestOfTheTier) {
  Model m = BaseModel();
  AddPolicy(m, "pass-w1", "security",
            R"([{"action": "Pass", "protocol": "TCP", "source": {"nets": ["10.65.1.2/32"]},
                 "destination": {"ports": [8080]}}])");
  AddPolicy(m, "deny-x", "security",
            R"([{"action": "Deny", "protocol": "TCP", "source": {"nets": ["10.65.8.0/24"]},
                 "destination": {"ports": [8080]}}])");
  AddPolicy(m, "deny-all", "security", R"([{"action": "Deny"}])");
  AddPolicy(m, "deny-y", "security",
            R"([{"action": "Deny", "protocol": "TCP", "source": {"nets": ["10.65.1.0/24"]},
                 "destination": {"ports": [8080]}}])");
  AddPolicy(m, "deny-z", "security",
            R"([{"action": "Deny", "protocol": "TCP", "source": {"nets": ["10.65.9.0/24"]},
                 "destination": {"ports": [8080]}}])");
  AddPolicy(m, "allow-8080", "default",
            R"([{"action": "Allow", "protocol": "TCP", "destination": {"ports": [8080]}}])");
  m.endpoints[1].ingress_tiers = {
      {.name = "security", .policies = {"pass-w1", "deny-x", "deny-all", "deny-y", "deny-z"}},
      {.name = "default", .policies = {"allow-8080"}}};
  Load(m);
  EXPECT_TRUE(Connects());
  EXPECT_GT(CounterOf("cali-pi-default/allow-8080", "policy default/allow-8080 ingress #0"), 0);
  EXPECT_EQ(CounterOf("cali-pi-security/deny-all", "policy security/deny-all ingress #0"), 0);
  EXPECT_EQ(CounterOf("cali-pi-security/deny-y", "policy security/deny-y ingress #0"), 0);

  // Without the pass the tier's deny-all decides.
  m.endpoints[1].ingress_tiers[0].policies = {"deny-x", "deny-all", "deny-y", "deny-z"};
  Load(m);
  EXPECT_FALSE(Connects());
  EXPECT_GT(CounterOf("cali-pi-security/deny-all", "policy security/deny-all ingress #0"), 0);
}

TEST_F(NftDataplaneTest, UnknownWorkloadInterfaceDrops) {
  Model m = BaseModel();
  m.endpoints.pop_back();  // calib exists but is not a known endpoint.
  Load(m);
  EXPECT_FALSE(Connects());
  EXPECT_GT(CounterOf("cali-to-wl-dispatch", "Unknown interface"), 0);
}

// Host endpoint policy with real packets: a host namespace H whose eth1 (10.66.0.1) faces a
// client namespace C (10.66.0.2). H listens on TCP 22 (a failsafe port) and 8080; C listens on
// TCP 179 (an outbound failsafe port) and 8080.
class NftHostEndpointTest : public NftValidityTest {
 protected:
  void SetUp() override {
    NftValidityTest::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(host_.ok() && client_.ok()) << host_.error() << client_.error();
    const std::string h = host_.name();
    const std::string c = client_.name();
    for (const std::string& cmd : {
             "ip -n " + h + " link add eth1 type veth peer name eth0 netns " + c,
             "ip -n " + h + " addr add 10.66.0.1/24 dev eth1",
             "ip -n " + h + " link set eth1 up",
             "ip -n " + h + " link set lo up",
             "ip -n " + c + " addr add 10.66.0.2/24 dev eth0",
             "ip -n " + c + " link set eth0 up",
             "ip -n " + c + " link set lo up",
         }) {
      const CommandResult r = RunCommand(cmd);
      ASSERT_EQ(r.exit_code, 0) << cmd << ": " << r.output;
    }
    for (const auto& [ns, port] :
         {std::pair{&host_, 22}, {&host_, 8080}, {&client_, 179}, {&client_, 8080}}) {
      const int fd = SocketInNetns(ns->name());
      ASSERT_GE(fd, 0);
      const int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      const sockaddr_in addr = Addr("0.0.0.0", static_cast<uint16_t>(port));
      ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
      ASSERT_EQ(listen(fd, 64), 0);
      listeners_.push_back(fd);
    }
  }

  void TearDown() override {
    for (int fd : listeners_)
      close(fd);
  }

  void Load(const Model& m, const RenderOptions& opts = {}) {
    auto text = RenderRuleset(m, opts);
    ASSERT_TRUE(text) << text.error().message();
    const std::string path = std::filesystem::temp_directory_path() /
                             ("calico-policy-test-" + std::to_string(getpid()) + "-hep.nft");
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(text->data(), 1, text->size(), f);
    std::fclose(f);
    const CommandResult r = host_.Exec("nft -f " + path);
    std::filesystem::remove(path);
    ASSERT_EQ(r.exit_code, 0) << r.output << "\n" << *text;
  }

  bool ClientToHost(uint16_t port) const { return ConnectsFrom(client_.name(), "10.66.0.1", port); }
  bool HostToClient(uint16_t port) const { return ConnectsFrom(host_.name(), "10.66.0.2", port); }

  long CounterOf(const std::string& chain, const std::string& comment) const {
    const CommandResult r = host_.Exec("nft list chain inet calico " + chain);
    const std::regex re("counter packets ([0-9]+) bytes [0-9]+ .*comment \"" + comment + "\"");
    std::smatch m;
    if (!std::regex_search(r.output, m, re)) return -1;
    return std::stol(m[1].str());
  }

  // A workload-only model (the host endpoint tests add to it).
  static Model WorkloadModel() {
    Model m;
    m.endpoints.push_back(Endpoint{.name = "w", .interface_name = "calia", .profiles = {"allow"}});
    m.profiles.push_back(Profile{.id = "allow",
                                 .ingress = Json::parse(R"([{"action": "Allow"}])"),
                                 .egress = Json::parse(R"([{"action": "Allow"}])")});
    return m;
  }
  static void AddPolicy(Model& m, const std::string& id, const char* ingress,
                        const char* egress = "[]") {
    m.policies.push_back(Policy{.id = id,
                                .tier = "default",
                                .ingress = Json::parse(ingress),
                                .egress = Json::parse(egress)});
  }

  ScopedNetns host_{"-hh"};
  ScopedNetns client_{"-hc"};
  std::vector<int> listeners_;
};

TEST_F(NftHostEndpointTest, WithoutHostEndpointsHostTrafficIsUntouched) {
  Load(WorkloadModel());
  EXPECT_TRUE(ClientToHost(22));
  EXPECT_TRUE(ClientToHost(8080));
  EXPECT_TRUE(HostToClient(8080));
}

TEST_F(NftHostEndpointTest, EndpointWithoutPolicyAllowsOnlyFailsafes) {
  Model m = WorkloadModel();
  m.host_endpoints.push_back(HostEndpoint{.name = "h", .interface_name = "eth1"});
  Load(m);
  EXPECT_TRUE(ClientToHost(22));     // Failsafe inbound.
  EXPECT_FALSE(ClientToHost(8080));  // Dropped: no policies, no profiles.
  EXPECT_GT(CounterOf("cali-fh-eth1", "Drop if no profiles matched"), 0);
  EXPECT_GT(CounterOf("cali-failsafe-in", "Failsafe inbound host port"), 0);
  EXPECT_TRUE(HostToClient(179));  // Failsafe outbound.
  EXPECT_FALSE(HostToClient(8080));
  EXPECT_GT(CounterOf("cali-th-eth1", "Drop if no profiles matched"), 0);

  // Custom failsafes replace the defaults.
  RenderOptions opts;
  opts.failsafe_inbound = *ParseFailsafePorts("tcp:10.66.0.0/24:8080");
  opts.failsafe_outbound = {};
  Load(m, opts);
  EXPECT_FALSE(ClientToHost(22));
  EXPECT_TRUE(ClientToHost(8080));
  EXPECT_FALSE(HostToClient(179));
}

TEST_F(NftHostEndpointTest, PolicySelectsTheEndpoint) {
  Model m = WorkloadModel();
  AddPolicy(m, "web",
            R"([{"action": "Allow", "protocol": "TCP", "destination": {"ports": [8080]}}])");
  m.host_endpoints.push_back(
      HostEndpoint{.name = "h",
                   .interface_name = "eth1",
                   .ingress_tiers = {{.name = "default", .policies = {"web"}}}});
  Load(m);
  EXPECT_TRUE(ClientToHost(8080));
  EXPECT_TRUE(ClientToHost(22));
  EXPECT_FALSE(HostToClient(8080));  // No egress policy or profile.
}

TEST_F(NftHostEndpointTest, AllInterfacesEndpointIsTheDefault) {
  Model m = WorkloadModel();
  m.host_endpoints.push_back(HostEndpoint{.name = "all", .interface_name = "*"});
  Load(m);
  EXPECT_TRUE(ClientToHost(22));
  EXPECT_FALSE(ClientToHost(8080));
  EXPECT_GT(CounterOf("cali-fh-any-interface-at-all", "Drop if no profiles matched"), 0);
  // A specific endpoint on eth1 takes over from it.
  m.host_endpoints.push_back(
      HostEndpoint{.name = "h", .interface_name = "eth1", .profiles = {"allow"}});
  Load(m);
  EXPECT_TRUE(ClientToHost(8080));
}

TEST_F(NftHostEndpointTest, PreDnatPolicyDropsBeforeNormalPolicy) {
  Model m = WorkloadModel();
  AddPolicy(m, "no-8080",
            R"([{"action": "Deny", "protocol": "TCP", "destination": {"ports": [8080]}}])");
  m.host_endpoints.push_back(
      HostEndpoint{.name = "h",
                   .interface_name = "eth1",
                   .profiles = {"allow"},
                   .pre_dnat_ingress_tiers = {
                       {.name = "default", .policies = {"no-8080"}, .default_deny = false}}});
  Load(m);
  EXPECT_FALSE(ClientToHost(8080));
  EXPECT_TRUE(ClientToHost(22));
  EXPECT_GT(CounterOf("cali-pi-default/no-8080", "policy default/no-8080 ingress #0"), 0);
}

TEST_F(NftHostEndpointTest, UntrackedPolicyAllowsWithoutConntrack) {
  Model m = WorkloadModel();
  AddPolicy(m, "untracked-8080",
            R"([{"action": "Allow", "protocol": "TCP", "destination": {"ports": [8080]}}])",
            R"([{"action": "Allow", "protocol": "TCP", "source": {"ports": [8080]}}])");
  m.host_endpoints.push_back(HostEndpoint{
      .name = "h",
      .interface_name = "eth1",
      .untracked_ingress_tiers = {{.name = "default",
                                   .policies = {"untracked-8080"},
                                   .default_deny = false}},
      .untracked_egress_tiers = {
          {.name = "default", .policies = {"untracked-8080"}, .default_deny = false}}});
  Load(m);
  EXPECT_TRUE(ClientToHost(8080));  // Both directions allowed untracked; no normal policy needed.
  EXPECT_TRUE(ClientToHost(22));
  EXPECT_FALSE(HostToClient(8080));
  EXPECT_GT(CounterOf("cali-pi-default/untracked-8080", "policy default/untracked-8080 ingress #0"),
            0);
}

}  // namespace
}  // namespace calico::policy
