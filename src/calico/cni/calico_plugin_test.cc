// Privileged: the `calico` plugin driven exactly as a CNI runtime drives it (the real binary,
// env + stdin, run inside a test "host" namespace), with calico-ipam and host-local delegated
// from CNI_PATH, containers in namespaces this test creates; checks what a user would see.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "calico/cni/cni.h"
#include "calico/cni/testing/plugin_run.h"
#include "calico/dataplane/testing/netns_fixture.h"
#include "calico/datastore/client.h"
#include "calico/datastore/local/sqlite_backend.h"
#include "calico/ipam/host_lock.h"
#include "calico/ipam/ipam.h"

namespace calico::cni {
namespace {

using dataplane::testing::ScopedNetns;
using dataplane::testing::Sh;

struct PluginRun {
  int code;
  std::string out;
  Json json;
};

class CalicoPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "privileged test: run as root";
    ASSERT_TRUE(host_.ok() && a_.ok() && b_.ok());
    ASSERT_TRUE(dataplane::testing::MakeHost(host_));
    dir_ = std::filesystem::temp_directory_path() /
           ("calico-plugin-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "calico.db").string();
    ASSERT_TRUE(
        testing::MakeStoreWithPools(db_, "10.66.0.0/24", "fd00:66::/120", /*initialize=*/true));
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::string Conf(const std::string& network, const std::string& version = "0.3.1",
                   const std::string& ipam = R"({"type":"calico-ipam"})") {
    return R"({"cniVersion":")" + version + R"(","name":")" + network +
           R"(","type":"calico","nodename":"node1","mtu":1400,"datastore_path":")" + db_ +
           R"(","ipam_lock_file":")" + db_ + R"(.ipam.lock","ipam":)" + ipam + "}";
  }

  PluginRun Invoke(const std::string& command, const std::string& container, const ScopedNetns& ns,
                   const std::string& conf, const std::string& args = "",
                   const std::string& ifname = "eth0") {
    std::string stdin_path = (dir_ / ("stdin-" + container)).string();
    std::ofstream(stdin_path) << conf;
    std::string bin = std::string(CALICO_BINARY_DIR) + "/bin";
    std::string cmd = "{ ip netns exec " + host_.name() + " env -i CNI_COMMAND=" + command +
                      " CNI_CONTAINERID=" + container + " CNI_NETNS=" + ns.path() +
                      " CNI_IFNAME=" + ifname + " CNI_PATH=" + bin + ":/usr/lib/cni CNI_ARGS='" +
                      args + "' " + bin + "/calico < " + stdin_path + " 2>/dev/null; }";
    PluginRun r{0, "", Json()};
    r.code = Sh(cmd, &r.out);
    r.json = Json::parse(r.out, nullptr, false);
    return r;
  }

  std::unique_ptr<datastore::Backend> Store() {
    auto backend = datastore::SqliteBackend::Open(db_);
    if (!backend) {
      ADD_FAILURE() << "cannot open " << db_ << ": " << backend.error().message();
      std::abort();
    }
    return std::move(*backend);
  }
  size_t AllocatedAddresses() {
    auto store = Store();
    ipam::IpamClient client(*store);
    size_t n = 0;
    auto blocks = client.ListBlocks();
    EXPECT_TRUE(blocks);
    if (!blocks) return 0;
    for (const auto& b : *blocks)
      n += (b.size() - b.NumFree());
    return n;
  }

  ScopedNetns host_{"calico-cni-host"};
  ScopedNetns a_{"calico-cni-a"};
  ScopedNetns b_{"calico-cni-b"};
  std::filesystem::path dir_;
  std::string db_;
};

TEST_F(CalicoPluginTest, AddWiresTheWorkloadWritesItsEndpointAndDelRemovesEverything) {
  PluginRun add = Invoke("ADD", "0123456789abcdef", a_, Conf("net1"));
  ASSERT_EQ(add.code, 0) << add.out;
  const Json& j = add.json;
  EXPECT_EQ(j["cniVersion"], "0.3.1");
  ASSERT_EQ(j["interfaces"].size(), 2u) << add.out;
  EXPECT_EQ(j["interfaces"][0]["name"], "cali0123456789a");
  EXPECT_EQ(j["interfaces"][1]["name"], "eth0");
  EXPECT_EQ(j["interfaces"][1]["sandbox"], a_.path());
  ASSERT_EQ(j["ips"].size(), 1u);
  std::string addr = j["ips"][0]["address"];
  EXPECT_EQ(addr.substr(0, 8), "10.66.0.");
  EXPECT_EQ(addr.substr(addr.size() - 3), "/32");
  EXPECT_EQ(j["ips"][0]["interface"], 1);
  EXPECT_FALSE(j["ips"][0].contains("gateway"));
  std::string ip = addr.substr(0, addr.size() - 3);

  // What the user sees in the container and on the host.
  EXPECT_NE(a_.ExecOut("ip -4 -o addr show dev eth0").find(addr), std::string::npos);
  EXPECT_NE(a_.ExecOut("ip -o link show eth0").find("mtu 1400"), std::string::npos);
  EXPECT_NE(host_.ExecOut("ip -4 route show").find(ip + " dev cali0123456789a scope link"),
            std::string::npos);
  EXPECT_EQ(a_.Exec("busybox ping -c 1 -W 2 10.99.0.1"), 0) << "the workload cannot reach its host";

  // The endpoint and the network's profile in the datastore.
  auto store = Store();
  datastore::Client client(*store);
  auto wep = client.Get("WorkloadEndpoint", "default", "node1-cni-0123456789abcdef-eth0");
  ASSERT_TRUE(wep) << wep.error().message();
  EXPECT_EQ(wep->spec()["interfaceName"], "cali0123456789a");
  EXPECT_EQ(wep->spec()["ipNetworks"], Json::array({addr}));
  EXPECT_EQ(wep->spec()["profiles"], Json::array({"net1"}));
  EXPECT_EQ(wep->spec()["mac"], j["interfaces"][1]["mac"]);
  EXPECT_EQ(wep->metadata()["labels"]["projectcalico.org/orchestrator"], "cni");
  auto profile = client.Get("Profile", "", "net1");
  ASSERT_TRUE(profile);
  EXPECT_EQ(profile->spec()["ingress"][0]["source"]["selector"], "has(net1)");
  EXPECT_EQ(profile->spec()["egress"][0]["action"], "Allow");
  EXPECT_EQ(profile->spec()["labelsToApply"], Json({{"net1", ""}}));

  // A second workload on the same host: they reach each other through the host.
  PluginRun add_b = Invoke("ADD", "fedcba9876543210", b_, Conf("net1"));
  ASSERT_EQ(add_b.code, 0) << add_b.out;
  std::string ip_b = add_b.json["ips"][0]["address"];
  ip_b = ip_b.substr(0, ip_b.size() - 3);
  std::string out;
  EXPECT_EQ(a_.Exec("busybox ping -c 1 -W 2 " + ip_b, &out), 0) << out;

  // Repeat ADD: same endpoint and address, nothing new allocated.
  PluginRun again = Invoke("ADD", "0123456789abcdef", a_, Conf("net1"));
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(again.json["ips"][0]["address"], addr);
  EXPECT_EQ(AllocatedAddresses(), 2u);
  EXPECT_EQ(Invoke("CHECK", "0123456789abcdef", a_, Conf("net1", "0.4.0")).code, 0);
  EXPECT_EQ(Invoke("CHECK", "0123456789abcdef", a_, Conf("net1")).json["code"], 1)
      << "CHECK needs cniVersion 0.4.0 or later";

  // DEL: address, endpoint, veth and route all gone; a second DEL is fine.
  PluginRun del = Invoke("DEL", "0123456789abcdef", a_, Conf("net1"));
  ASSERT_EQ(del.code, 0) << del.out;
  EXPECT_EQ(Invoke("DEL", "0123456789abcdef", a_, Conf("net1")).code, 0);
  EXPECT_NE(host_.Exec("ip link show cali0123456789a"), 0);
  EXPECT_EQ(host_.ExecOut("ip -4 route show").find(ip + " "), std::string::npos);
  EXPECT_NE(a_.Exec("ip link show eth0"), 0);
  EXPECT_FALSE(client.Get("WorkloadEndpoint", "default", "node1-cni-0123456789abcdef-eth0"));
  EXPECT_EQ(AllocatedAddresses(), 1u);
  PluginRun check = Invoke("CHECK", "0123456789abcdef", a_, Conf("net1", "0.4.0"));
  EXPECT_NE(check.code, 0);
  EXPECT_TRUE(client.Get("Profile", "", "net1")) << "DEL never deletes the profile";
}

// Seed 001: a fixed address through CNI_ARGS, legacy 0.1.0 results, and two networks.
// A Kubernetes pod, as the kubelet calls the plugin (K8S_POD_* in CNI_ARGS) with Calico's
// Kubernetes network config (policy type k8s), its labels and named ports in the config's args:
// the endpoint is <node>-k8s-<pod>-<iface> in the pod's namespace with profile kns.<namespace>,
// no network profile is made, and the allocation names the pod and its network namespace.
TEST_F(CalicoPluginTest, KubernetesPodEndpoint) {
  std::string conf = R"j({"cniVersion":"0.3.1","name":"k8s-pod-network","type":"calico",
      "nodename":"node1","datastore_path":")j" +
                     db_ + R"j(","ipam":{"type":"calico-ipam"},
      "policy":{"type":"k8s"},
      "args":{"cni":{"labels":[{"key":"app","value":"web"}],
                     "ports":[{"name":"http","protocol":"TCP","containerPort":8080},
                              {"protocol":"TCP","containerPort":9090}]}}})j";
  const std::string args =
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=c1";
  PluginRun add = Invoke("ADD", "c1", a_, conf, args);
  ASSERT_EQ(add.code, 0) << add.out;
  std::string ip = add.json["ips"][0]["address"].get<std::string>();
  ip = ip.substr(0, ip.find('/'));
  {
    auto store = Store();
    datastore::Client client(*store);
    auto wep = client.Get("WorkloadEndpoint", "shop", "node1-k8s-web-eth0");
    ASSERT_TRUE(wep) << wep.error().message();
    EXPECT_EQ(wep->spec()["orchestrator"], "k8s");
    EXPECT_EQ(wep->spec()["pod"], "web");
    EXPECT_EQ(wep->spec()["profiles"], Json::array({"kns.shop"}));
    EXPECT_EQ(wep->spec()["ports"],
              Json::parse(R"j([{"name":"http","protocol":"TCP","port":8080}])j"));
    EXPECT_EQ(wep->metadata()["labels"]["app"], "web");
    EXPECT_EQ(wep->metadata()["labels"]["projectcalico.org/namespace"], "shop");
    EXPECT_EQ(wep->metadata()["labels"]["projectcalico.org/orchestrator"], "k8s");
    EXPECT_FALSE(client.Get("Profile", "", "k8s-pod-network"));
    ipam::IpamClient ipam(*store);
    auto attr = ipam.GetAssignmentAttributes(*net::IPAddr::Parse(ip));
    ASSERT_TRUE(attr && attr->has_value());
    EXPECT_EQ((*attr)->handle_id, "k8s-pod-network.c1");
    EXPECT_EQ((*attr)->secondary["pod"], "web");
    EXPECT_EQ((*attr)->secondary["namespace"], "shop");
    EXPECT_EQ((*attr)->secondary["netns"], a_.path());
    EXPECT_FALSE((*attr)->secondary.value("netnsInode", "").empty());
  }
  // Bad labels are refused with the endpoint validation's reason, and leave nothing behind.
  std::string bad = conf;
  bad.replace(bad.find("\"key\":\"app\""), 11, "\"key\":\"a b\"");
  PluginRun refused =
      Invoke("ADD", "c2", b_, bad, "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=other");
  EXPECT_NE(refused.code, 0) << refused.out;
  EXPECT_EQ(AllocatedAddresses(), 1u);
  PluginRun del = Invoke("DEL", "c1", a_, conf, args);
  ASSERT_EQ(del.code, 0) << del.out;
  auto store = Store();
  datastore::Client client(*store);
  EXPECT_FALSE(client.Get("WorkloadEndpoint", "shop", "node1-k8s-web-eth0"));
  EXPECT_EQ(AllocatedAddresses(), 0u);
}

TEST_F(CalicoPluginTest, FixedAddressLegacyResultAndTwoNetworks) {
  PluginRun add = Invoke("ADD", "c1", a_, Conf("network1", "0.1.0"), "IP=10.66.0.50");
  ASSERT_EQ(add.code, 0) << add.out;
  EXPECT_EQ(add.json["cniVersion"], "0.1.0");
  EXPECT_EQ(add.json["ip4"]["ip"], "10.66.0.50/32");
  PluginRun add_b = Invoke("ADD", "c2", b_, Conf("network2", "0.1.0"), "IP=10.66.0.51");
  ASSERT_EQ(add_b.code, 0) << add_b.out;
  auto store = Store();
  datastore::Client client(*store);
  EXPECT_TRUE(client.Get("Profile", "", "network1"));
  EXPECT_TRUE(client.Get("Profile", "", "network2"));
  // The same container joining another network gets that network's profile, not a new interface.
  PluginRun join = Invoke("ADD", "c1", a_, Conf("network2", "0.1.0"));
  ASSERT_EQ(join.code, 0) << join.out;
  EXPECT_EQ(join.json["ip4"]["ip"], "10.66.0.50/32");
  auto wep = client.Get("WorkloadEndpoint", "default", "node1-cni-c1-eth0");
  ASSERT_TRUE(wep);
  EXPECT_EQ(wep->spec()["profiles"], Json::array({"network1", "network2"}));
}

// Container IDs sharing their first 11 characters (ctr uses "<namespace>-<name>") get distinct
// host veths, and DEL of one leaves the other alone.
TEST_F(CalicoPluginTest, ContainerIdsWithACommonPrefixGetTheirOwnVeths) {
  PluginRun a = Invoke("ADD", "calico-test-a", a_, Conf("net1"));
  ASSERT_EQ(a.code, 0) << a.out;
  PluginRun b = Invoke("ADD", "calico-test-b", b_, Conf("net1"));
  ASSERT_EQ(b.code, 0) << b.out;
  std::string veth_a = a.json["interfaces"][0]["name"];
  std::string veth_b = b.json["interfaces"][0]["name"];
  EXPECT_EQ(veth_a, "calicalico-test");
  EXPECT_NE(veth_a, veth_b);
  EXPECT_EQ(veth_b.size(), 15u);
  ASSERT_EQ(Invoke("DEL", "calico-test-b", b_, Conf("net1")).code, 0);
  ASSERT_EQ(Invoke("DEL", "calico-test-b", b_, Conf("net1")).code, 0);
  EXPECT_EQ(host_.Exec("ip link show " + veth_a), 0) << "DEL of b removed a's veth";
  EXPECT_NE(host_.Exec("ip link show " + veth_b), 0);
  EXPECT_EQ(a_.Exec("busybox ping -c 1 -W 2 10.99.0.1"), 0);
}

TEST_F(CalicoPluginTest, DualStackEndpoint) {
  PluginRun add = Invoke("ADD", "dual", a_,
                         Conf("net6", "1.0.0", R"({"type":"calico-ipam","assign_ipv6":"true"})"));
  ASSERT_EQ(add.code, 0) << add.out;
  ASSERT_EQ(add.json["ips"].size(), 2u) << add.out;
  EXPECT_EQ(add.json["interfaces"][1]["mtu"], 1400);
  std::string v6 = add.json["ips"][1]["address"];
  EXPECT_EQ(v6.substr(v6.size() - 4), "/128");
  EXPECT_NE(a_.ExecOut("ip -6 route show default").find("fe80::ecee:eeff:feee:eeee"),
            std::string::npos);
  EXPECT_EQ(Invoke("DEL", "dual", a_, Conf("net6", "1.0.0")).code, 0);
  EXPECT_EQ(AllocatedAddresses(), 0u);
}

TEST_F(CalicoPluginTest, HostLocalIpam) {
  std::string ipam = R"({"type":"host-local","subnet":"10.67.0.0/24","dataDir":")" +
                     (dir_ / "host-local").string() + R"("})";
  PluginRun add = Invoke("ADD", "hl1", a_, Conf("hl", "0.4.0", ipam));
  ASSERT_EQ(add.code, 0) << add.out;
  std::string addr = add.json["ips"][0]["address"];
  EXPECT_EQ(addr.substr(0, 8), "10.67.0.");
  EXPECT_EQ(addr.substr(addr.size() - 3), "/32") << "Calico narrows every address to /32";
  EXPECT_EQ(a_.Exec("busybox ping -c 1 -W 2 10.99.0.1"), 0);
  ASSERT_EQ(Invoke("DEL", "hl1", a_, Conf("hl", "0.4.0", ipam)).code, 0);
  // host-local keeps one file per address: DEL removed it.
  std::string ip = addr.substr(0, addr.size() - 3);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "host-local" / "hl" / ip));
}

TEST_F(CalicoPluginTest, FailedAddLeavesNothingBehind) {
  // The container already has an eth0: the plumbing fails after IPAM assigned an address.
  ASSERT_EQ(a_.Exec("ip link add eth0 type veth peer name eth0peer"), 0);
  PluginRun add = Invoke("ADD", "broken", a_, Conf("net1"));
  EXPECT_EQ(add.code, 1);
  ASSERT_TRUE(add.json.is_object()) << add.out;
  EXPECT_NE(add.json["msg"].get<std::string>().find("eth0"), std::string::npos) << add.out;
  EXPECT_EQ(AllocatedAddresses(), 0u) << "the address was not released";
  EXPECT_NE(host_.Exec("ip link show calibroken"), 0);
  auto store = Store();
  datastore::Client client(*store);
  EXPECT_TRUE(client.List("WorkloadEndpoint", "default")->empty());

  // No IPAM plugin of that name: a clear error, nothing made.
  PluginRun missing =
      Invoke("ADD", "noipam", b_, Conf("net1", "0.3.1", R"({"type":"no-such-ipam"})"));
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("failed to find plugin \\\"no-such-ipam\\\""), std::string::npos)
      << missing.out;
  EXPECT_NE(b_.Exec("ip link show eth0"), 0);

  // Bad JSON and a missing datastore initialisation are named.
  PluginRun bad = Invoke("ADD", "bad", b_, "{");
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.json["code"], 6);
  ASSERT_TRUE(store->DeletePrefix("/calico/resources/v3/projectcalico.org/clusterinformations/"));
  PluginRun uninit = Invoke("ADD", "uninit", b_, Conf("net1"));
  EXPECT_EQ(uninit.code, 1);
  EXPECT_NE(uninit.out.find("ClusterInformation"), std::string::npos) << uninit.out;
  EXPECT_EQ(AllocatedAddresses(), 0u);
}

// kill -9 of the plugin at any point of ADD: whatever it had allocated is either in use by an
// endpoint or reported by `calicoctl ipam check`, and `calicoctl ipam release` frees it; DEL of
// every container then leaves an empty pool and no veth.
TEST_F(CalicoPluginTest, KillDuringAddLeavesOnlyWhatIpamCheckReports) {
  std::string bin = std::string(CALICO_BINARY_DIR) + "/bin";
  std::string conf = Conf("net1");
  std::ofstream(dir_ / "stdin") << conf;
  std::vector<std::unique_ptr<ScopedNetns>> containers;
  constexpr int kRuns = 12;
  for (int i = 0; i < kRuns; ++i)
    containers.push_back(std::make_unique<ScopedNetns>("calico-cni-k"));
  for (int i = 0; i < kRuns; ++i) {
    std::string cmd = "exec ip netns exec " + host_.name() +
                      " env -i CNI_COMMAND=ADD CNI_CONTAINERID=kill" + std::to_string(i) +
                      " CNI_NETNS=" + containers[static_cast<size_t>(i)]->path() +
                      " CNI_IFNAME=eth0 CNI_PATH=" + bin + " " + bin + "/calico < " +
                      (dir_ / "stdin").string() + " >/dev/null 2>&1";
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10 * i));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  // An orphaned calico-ipam may still be finishing its write.
  std::this_thread::sleep_for(std::chrono::seconds(1));

  std::string env = "DATASTORE_TYPE=local CALICO_DATASTORE_PATH=" + db_ + " ";
  std::string check;
  ASSERT_EQ(Sh(env + bin + "/calicoctl ipam check --show-problem-ips", &check), 0) << check;
  std::set<std::string> leaked;
  std::regex leaked_re(R"(^  (10\.66\.0\.\d+) leaked; attrs Main:net1\.kill)");
  std::istringstream lines(check);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, leaked_re)) leaked.insert(m[1]);
  }
  auto store = Store();
  datastore::Client client(*store);
  std::set<std::string> in_use;
  auto weps = client.List("WorkloadEndpoint", "default");
  ASSERT_TRUE(weps);
  for (const auto& wep : *weps) {
    for (const auto& n : wep.spec().value("ipNetworks", Json::array())) {
      std::string a = n.get<std::string>();
      in_use.insert(a.substr(0, a.find('/')));
    }
  }
  EXPECT_EQ(AllocatedAddresses(), in_use.size() + leaked.size()) << check;
  for (const std::string& ip : leaked) {
    std::string out;
    ASSERT_EQ(Sh(env + bin + "/calicoctl ipam release --ip " + ip, &out), 0) << out;
  }
  EXPECT_EQ(AllocatedAddresses(), in_use.size());
  for (int i = 0; i < kRuns; ++i) {
    PluginRun del =
        Invoke("DEL", "kill" + std::to_string(i), *containers[static_cast<size_t>(i)], conf);
    EXPECT_EQ(del.code, 0) << del.out;
  }
  EXPECT_EQ(AllocatedAddresses(), 0u);
  EXPECT_EQ(host_.ExecOut("ip -o link show").find("cali"), std::string::npos)
      << host_.ExecOut("ip -o link show");
  std::cout << "kill -9 during ADD: " << in_use.size() << " completed, " << leaked.size()
            << " leaked and released, " << (kRuns - in_use.size() - leaked.size())
            << " killed before IPAM\n";
}

// DEL removes the interfaces (and with them the route to the address) before it releases the
// address: released first, the address could go to a new container while the old veth still
// held its route, and that container's ADD failed with "route ... already exists for an interface
// other than ..." (seen under the 4 x 250 ADD/DEL stress test). Holding the host-wide IPAM lock
// stops the DEL at its IPAM step: by then the veth must be gone and the address still allocated.
TEST_F(CalicoPluginTest, DelRemovesTheVethBeforeItReleasesTheAddress) {
  PluginRun add = Invoke("ADD", "order", a_, Conf("net1"));
  ASSERT_EQ(add.code, 0) << add.out;
  ASSERT_NE(host_.ExecOut("ip -o link show").find("caliorder"), std::string::npos);
  auto lock = ipam::HostLock::Acquire(db_ + ".ipam.lock");
  ASSERT_TRUE(lock) << lock.error().message();
  std::thread del([&] {
    PluginRun r = Invoke("DEL", "order", a_, Conf("net1"));
    EXPECT_EQ(r.code, 0) << r.out;
  });
  bool veth_gone = false;
  for (int i = 0; i < 100 && !veth_gone; ++i) {
    veth_gone = host_.ExecOut("ip -o link show").find("caliorder") == std::string::npos;
    if (!veth_gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(veth_gone) << "DEL waits for the IPAM lock with the veth still there";
  EXPECT_EQ(AllocatedAddresses(), 1u) << "the address was released before the veth went";
  {
    auto store = Store();
    datastore::Client client(*store);
    EXPECT_TRUE(client.Get("WorkloadEndpoint", "default", "node1-cni-order-eth0"))
        << "the endpoint goes with the release, not before it";
  }
  { ipam::HostLock released = std::move(*lock); }
  del.join();
  EXPECT_EQ(AllocatedAddresses(), 0u);
}

// With calico-ipam, a DEL deletes the WorkloadEndpoint in the transaction that frees its address
// and deletes its handle (docs/COMPATIBILITY.md): the three changes share one store revision, so
// nobody ever sees the endpoint with its address free or the address held without its endpoint.
TEST_F(CalicoPluginTest, DelDeletesTheEndpointWithTheRelease) {
  PluginRun add = Invoke("ADD", "together", a_, Conf("net1"));
  ASSERT_EQ(add.code, 0) << add.out;
  auto store = Store();
  auto before = store->List("/calico/");
  ASSERT_TRUE(before);
  PluginRun del = Invoke("DEL", "together", a_, Conf("net1"));
  ASSERT_EQ(del.code, 0) << del.out;
  auto watch = store->Watch("/calico/", before->revision + 1);
  ASSERT_TRUE(watch) << watch.error().message();
  std::map<std::string, int64_t> deleted;
  std::set<int64_t> revisions;
  for (;;) {
    auto events = (*watch)->Next(std::chrono::milliseconds(500));
    ASSERT_TRUE(events) << events.error().message();
    if (events->empty()) break;
    for (const datastore::WatchEvent& e : *events) {
      revisions.insert(e.kv.mod_revision);
      if (e.type == datastore::WatchEventType::kDelete) deleted[e.kv.key] = e.kv.mod_revision;
    }
  }
  const std::string wep_key =
      "/calico/resources/v3/projectcalico.org/workloadendpoints/default/node1-cni-together-eth0";
  const std::string handle_key = "/calico/ipam/v2/handle/net1.together";
  ASSERT_TRUE(deleted.count(wep_key)) << "the endpoint was not deleted";
  ASSERT_TRUE(deleted.count(handle_key)) << "the handle was not deleted";
  EXPECT_EQ(deleted[wep_key], deleted[handle_key]);
  EXPECT_EQ(revisions.size(), 1u) << "one write for the endpoint, the block and the handle";
  EXPECT_EQ(AllocatedAddresses(), 0u);
  // The DEL again: nothing left to delete, nothing written, no error.
  EXPECT_EQ(Invoke("DEL", "together", a_, Conf("net1")).code, 0);
}

}  // namespace
}  // namespace calico::cni
