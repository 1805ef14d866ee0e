// Scenarios of reference section 2.9 (libcalico-go/lib/ipam tests) against the in-memory store.
#include "calico/ipam/ipam.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "calico/base/testing/temp_dir.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/ipam/host_lock.h"

namespace calico::ipam {
namespace {

net::IPAddr IP(const char* s) {
  return *net::IPAddr::Parse(s);
}
net::CIDR Net(const char* s) {
  return *net::CIDR::Parse(s);
}

class IpamTest : public ::testing::Test {
 protected:
  void AddPool(const std::string& name, const std::string& cidr, int block_size,
               const std::string& node_selector = "all()", bool disabled = false,
               Json allowed_uses = Json::array({"Workload", "Tunnel"})) {
    Json doc{{"kind", "IPPool"},
             {"apiVersion", "projectcalico.org/v3"},
             {"metadata", {{"name", name}}},
             {"spec",
              {{"cidr", cidr},
               {"blockSize", block_size},
               {"nodeSelector", node_selector},
               {"disabled", disabled},
               {"allowedUses", allowed_uses}}}};
    ASSERT_TRUE(backend_.Put("/calico/resources/v3/projectcalico.org/ippools/" + name, doc.dump()));
  }
  void DeletePools() {
    ASSERT_TRUE(backend_.DeletePrefix("/calico/resources/v3/projectcalico.org/ippools/"));
  }
  void AddNode(const std::string& name, Json labels = Json::object()) {
    Json doc{{"kind", "Node"},
             {"apiVersion", "projectcalico.org/v3"},
             {"metadata", {{"name", name}, {"labels", labels}}},
             {"spec", Json::object()}};
    ASSERT_TRUE(backend_.Put("/calico/resources/v3/projectcalico.org/nodes/" + name, doc.dump()));
  }
  AssignResult Assign(const std::string& host, int num4, const std::string& handle = "h",
                      int num6 = 0) {
    AutoAssignArgs args;
    args.num4 = num4;
    args.num6 = num6;
    args.handle = handle;
    args.host = host;
    auto r = ipam_.AutoAssign(args);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : AssignResult{};
  }

  datastore::MemBackend backend_;
  IpamClient ipam_{backend_};
};

// Secondary attributes are Go's map[string]string: a value of another type reads as absent.
TEST(AttributeTest, SecondaryReadsStrings) {
  Attribute attr{.handle_id = "h", .secondary = Json{{"node", "node-1"}, {"netnsInode", 7}}};
  EXPECT_EQ(attr.Secondary("node"), "node-1");
  EXPECT_EQ(attr.Secondary("netnsInode"), "");
  EXPECT_EQ(attr.Secondary("pod"), "");
  EXPECT_EQ(attr.FindSecondary("node"), "node-1");
  EXPECT_EQ(attr.FindSecondary("netnsInode"), std::nullopt);
  EXPECT_EQ(attr.FindSecondary("pod"), std::nullopt);
  const Attribute none{.handle_id = "", .secondary = Json()};
  EXPECT_EQ(none.Secondary("node"), "");
}

TEST_F(IpamTest, FifoReuseWrapsAroundASmallBlock) {  // 2.9 #3
  AddPool("p", "10.0.0.0/30", 30);
  std::set<std::string> seen;
  std::string first;
  for (int i = 0; i < 4; ++i) {
    auto r = Assign("node1", 1);
    ASSERT_EQ(r.ipv4.size(), 1u);
    if (i == 0) first = r.ipv4[0].addr().String();
    seen.insert(r.ipv4[0].addr().String());
    ASSERT_TRUE(ipam_.ReleaseIPs({r.ipv4[0].addr()}));
  }
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_EQ(Assign("node1", 1).ipv4[0].addr().String(), first);
}

TEST_F(IpamTest, WholeBlockAndReservations) {  // 2.9 #9, #10
  AddPool("p", "10.0.0.0/26", 26);
  EXPECT_EQ(Assign("node1", 64).ipv4.size(), 64u);
  datastore::MemBackend fresh;
  IpamClient ipam(fresh);
  Json pool{{"spec", {{"cidr", "10.0.0.0/26"}, {"blockSize", 26}}}, {"metadata", {{"name", "p"}}}};
  ASSERT_TRUE(fresh.Put("/calico/resources/v3/projectcalico.org/ippools/p", pool.dump()));
  Json res{
      {"spec", {{"reservedCIDRs", {"10.0.0.1/32", "10.0.0.32/30", "11.0.0.0/30", "10.0.0.17"}}}},
      {"metadata", {{"name", "r"}}}};
  ASSERT_TRUE(fresh.Put("/calico/resources/v3/projectcalico.org/ipreservations/r", res.dump()));
  AutoAssignArgs args;
  args.num4 = 64;
  args.host = "node1";
  auto r = ipam.AutoAssign(args);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ipv4.size(), 58u);
}

TEST_F(IpamTest, CalicoKeysAndValues) {
  AddPool("p", "10.65.0.0/16", 26);
  auto r = Assign("node1", 1, "net.abc");
  ASSERT_EQ(r.ipv4.size(), 1u);
  net::CIDR block = r.ipv4[0].Masked();
  std::string cidr = block.String();
  std::string dashed = cidr;
  dashed[dashed.find('/')] = '-';
  auto b = backend_.Get("/calico/ipam/v2/assignment/ipv4/block/" + dashed);
  ASSERT_TRUE(b);
  Json j = Json::parse(b->value);
  EXPECT_EQ(j["affinity"], "host:node1");
  EXPECT_EQ(j["attributes"][0]["handle_id"], "net.abc");
  EXPECT_EQ(j["allocations"].size(), 64u);
  auto aff = backend_.Get("/calico/ipam/v2/host/node1/ipv4/block/" + dashed);
  ASSERT_TRUE(aff);
  EXPECT_EQ(Json::parse(aff->value)["state"], "confirmed");
  auto handle = backend_.Get("/calico/ipam/v2/handle/net.abc");
  ASSERT_TRUE(handle);
  EXPECT_EQ(Json::parse(handle->value)["block"][cidr], 1);
  ASSERT_TRUE(ipam_.ReleaseByHandle("net.abc"));
  EXPECT_FALSE(backend_.Get("/calico/ipam/v2/handle/net.abc"));
  EXPECT_TRUE(ipam_.IPsByHandle("net.abc")->empty());
}

TEST_F(IpamTest, NeverDoubleAssigns) {  // 2.9 #17
  AddPool("p", "10.0.0.0/26", 26);
  auto all = Assign("node1", 64);
  ASSERT_EQ(all.ipv4.size(), 64u);
  net::IPAddr ip = all.ipv4[5].addr();
  auto unalloc = ipam_.ReleaseIPs({ip, ip});
  ASSERT_TRUE(unalloc);
  EXPECT_EQ(unalloc->size(), 1u);  // The duplicate is reported as unallocated.
  ASSERT_TRUE(ipam_.AssignIP(ip, "", Json::object(), "node1"));
  EXPECT_TRUE(Assign("node1", 1).ipv4.empty());
  auto again = ipam_.AssignIP(ip, "", Json::object(), "node1");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
}

TEST_F(IpamTest, BorrowingAndStrictAffinity) {  // 2.9 #22, #39
  AddPool("p", "10.0.0.0/28", 28);
  EXPECT_EQ(Assign("node1", 1).ipv4.size(), 1u);
  EXPECT_EQ(Assign("node2", 1).ipv4.size(), 1u);  // Borrowed from node1's block.
  ASSERT_TRUE(ipam_.SetConfig(IpamConfig{.strict_affinity = true}));
  EXPECT_EQ(Assign("node1", 1).ipv4.size(), 1u);
  auto strict = Assign("node2", 1);
  EXPECT_TRUE(strict.ipv4.empty());
  EXPECT_FALSE(strict.messages.empty());
}

TEST_F(IpamTest, BorrowsTheRestFromAnotherHostsBlock) {  // 2.9 #39
  AddPool("p", "10.0.0.0/25", 26);
  ASSERT_EQ(Assign("host-a", 1, "a1").ipv4.size(), 1u);
  ASSERT_EQ(Assign("host-b", 1, "b1").ipv4.size(), 1u);
  EXPECT_EQ(Assign("host-a", 64, "a2").ipv4.size(), 64u);
}

TEST_F(IpamTest, RequestedPoolsAreStrictAndValidated) {  // 2.9 #27, #33
  AddPool("pool1", "10.0.0.0/24", 26);
  AddPool("pool2", "20.0.0.0/24", 26);
  AddPool("off", "30.0.0.0/24", 26, "all()", true);
  AutoAssignArgs args;
  args.host = "node1";
  args.num4 = 257;
  args.ipv4_pools = {Net("20.0.0.0/24")};
  auto r = ipam_.AutoAssign(args);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ipv4.size(), 256u);
  for (const auto& ip : r->ipv4)
    EXPECT_TRUE(Net("20.0.0.0/24").Contains(ip.addr()));
  EXPECT_FALSE(r->messages.empty());
  args.ipv4_pools = {Net("30.0.0.0/24")};
  auto disabled = ipam_.AutoAssign(args);
  ASSERT_FALSE(disabled);
  EXPECT_NE(disabled.error().message().find("does not exist, or is not enabled"),
            std::string::npos);
  args.ipv4_pools = {Net("fd00::/120")};
  EXPECT_FALSE(ipam_.AutoAssign(args));
}

TEST_F(IpamTest, NodeSelectorsChooseThePool) {  // 2.9 #28, #31
  AddNode("node1", Json{{"foo", "bar"}});
  AddPool("pool1", "10.0.0.0/24", 26, "foo == \"bar\"");
  AddPool("pool2", "20.0.0.0/24", 26, "foo != \"bar\"");
  auto r = Assign("node1", 300);
  EXPECT_EQ(r.ipv4.size(), 256u);
  for (const auto& ip : r.ipv4)
    EXPECT_TRUE(Net("10.0.0.0/24").Contains(ip.addr()));
  DeletePools();
  AddPool("only", "10.1.0.0/24", 26, "foo == \"other\"");
  AutoAssignArgs args;
  args.host = "node1";
  args.num4 = 1;
  auto none = ipam_.AutoAssign(args);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "no configured Calico pools for node node1");
}

TEST_F(IpamTest, BlockLimitStopsWithoutBorrowing) {  // 2.9 #37
  AddPool("p", "10.0.0.0/24", 26);
  AutoAssignArgs args;
  args.host = "node1";
  args.num4 = 256;
  args.max_blocks_per_host = 1;
  auto r = ipam_.AutoAssign(args);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ipv4.size(), 64u);
  ASSERT_FALSE(r->messages.empty());
  EXPECT_NE(r->messages[0].find("limit of 1 blocks reached"), std::string::npos);
}

TEST_F(IpamTest, ExhaustedPoolSaysSo) {  // 2.9 #38
  AddPool("p", "192.168.1.0/24", 26);
  auto r = Assign("node1", 257);
  EXPECT_EQ(r.ipv4.size(), 256u);
  ASSERT_FALSE(r.messages.empty());
  EXPECT_EQ(r.messages.back(), "No IPs available in pools: [192.168.1.0/24]");
}

TEST_F(IpamTest, AssignSpecificAddresses) {  // 2.9 #41
  AddPool("p", "192.168.1.0/24", 26);
  AddPool("p6", "fd80:24e2:f998:72d6::/120", 122);
  EXPECT_TRUE(ipam_.AssignIP(IP("192.168.1.0"), "h", Json::object(), "node1"));
  EXPECT_TRUE(ipam_.AssignIP(IP("fd80:24e2:f998:72d6::"), "h", Json::object(), "node1"));
  auto outside = ipam_.AssignIP(IP("1.1.1.1"), "h", Json::object(), "node1");
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message().find("not in a configured pool"), std::string::npos);
  auto twice = ipam_.AssignIP(IP("192.168.1.0"), "h", Json::object(), "node1");
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message().find("Address already assigned in block"), std::string::npos);
  auto attrs = ipam_.GetAssignmentAttributes(IP("192.168.1.0"));
  ASSERT_TRUE(attrs && *attrs);
  EXPECT_EQ((*attrs)->handle_id, "h");
}

TEST_F(IpamTest, ReleaseReportsUnallocated) {  // 2.9 #43
  AddPool("p", "10.0.0.0/24", 26);
  auto r = Assign("node1", 66);
  ASSERT_EQ(r.ipv4.size(), 66u);
  auto outside = ipam_.ReleaseIPs({IP("1.1.1.1")});
  ASSERT_TRUE(outside);
  EXPECT_EQ(outside->size(), 1u);
  std::vector<net::IPAddr> ips;
  for (const auto& c : r.ipv4)
    ips.push_back(c.addr());
  auto released = ipam_.ReleaseIPs(ips);
  ASSERT_TRUE(released);
  EXPECT_TRUE(released->empty());
  auto again = ipam_.ReleaseIPs({ips[0]});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 1u);
  EXPECT_FALSE(backend_.Get("/calico/ipam/v2/handle/h"));
}

TEST_F(IpamTest, DualStack) {
  AddPool("p4", "10.0.0.0/24", 26);
  AddPool("p6", "fd00::/120", 122);
  auto r = Assign("node1", 1, "dual", 1);
  ASSERT_EQ(r.ipv4.size(), 1u);
  ASSERT_EQ(r.ipv6.size(), 1u);
  EXPECT_EQ(r.ipv6[0].prefix_len(), 122);
  EXPECT_EQ(ipam_.IPsByHandle("dual")->size(), 2u);
}

TEST_F(IpamTest, ConfigDefaultsAreNotPersisted) {  // 2.9 #45
  auto cfg = ipam_.GetConfig();
  ASSERT_TRUE(cfg);
  EXPECT_FALSE(cfg->strict_affinity);
  EXPECT_TRUE(cfg->auto_allocate_blocks);
  EXPECT_FALSE(backend_.Get("/calico/ipam/v2/config"));
  ASSERT_TRUE(ipam_.SetConfig(IpamConfig{.strict_affinity = true}));
  EXPECT_EQ(Json::parse(backend_.Get("/calico/ipam/v2/config")->value)["strict_affinity"], true);
}

// libcalico-go/lib/ipam/ipam.go SetIPAMConfig: the same refusals, nothing written when unchanged,
// and model.IPAMConfig's omitempty encoding.
TEST_F(IpamTest, SetConfigRefusesWhatCalicoRefusesAndWritesOmitempty) {
  Status both_off = ipam_.SetConfig({.strict_affinity = false, .auto_allocate_blocks = false});
  ASSERT_FALSE(both_off);
  EXPECT_EQ(both_off.error().message(),
            "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time");
  Status max_alone = ipam_.SetConfig({.strict_affinity = false, .max_blocks_per_host = 3});
  ASSERT_FALSE(max_alone);
  EXPECT_EQ(max_alone.error().message(), "MaxBlocksPerHost requires StrictAffinity to be enabled");
  EXPECT_FALSE(backend_.Get("/calico/ipam/v2/config"));
  // The defaults unchanged: nothing is written.
  ASSERT_TRUE(ipam_.SetConfig(IpamConfig{}));
  EXPECT_FALSE(backend_.Get("/calico/ipam/v2/config"));
  ASSERT_TRUE(ipam_.SetConfig({.strict_affinity = true, .auto_allocate_blocks = false}));
  EXPECT_EQ(Json::parse(backend_.Get("/calico/ipam/v2/config")->value),
            Json::parse(R"({"strict_affinity":true,"kubeVirtVMAddressPersistence":"Enabled"})"));
  auto back = ipam_.GetConfig();
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->auto_allocate_blocks);
  EXPECT_EQ(back->kubevirt_vm_address_persistence, "Enabled");
}

TEST_F(IpamTest, HostAffinitiesRelease) {  // 2.9 #15/16 (simplified)
  AddPool("p", "10.0.0.0/24", 30);
  auto r = Assign("node1", 12);
  ASSERT_EQ(r.ipv4.size(), 12u);
  ASSERT_TRUE(ipam_.ReleaseHostAffinities("node1"));
  EXPECT_TRUE(backend_.List("/calico/ipam/v2/host/node1/")->kvs.empty());
  EXPECT_EQ(ipam_.ListBlocks()->size(), 3u);  // Non-empty blocks stay, now unaffine.
  ASSERT_TRUE(ipam_.ReleaseByHandle("h"));
  EXPECT_EQ(ipam_.ListBlocks()->size(), 0u);  // Empty unaffine blocks are deleted.
  ASSERT_TRUE(ipam_.ReleaseHostAffinities("unknown-host"));
}

// Concurrent clients on one store never hand out an address twice (CAS on every block write).
TEST_F(IpamTest, ConcurrentAllocationsAreUnique) {
  AddPool("p", "10.0.0.0/22", 26);
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::vector<std::string>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      IpamClient client(backend_);
      for (int i = 0; i < kEach; ++i) {
        AutoAssignArgs args;
        args.num4 = 1;
        args.host = "node" + std::to_string(t % 2);
        args.handle = "h" + std::to_string(t) + "-" + std::to_string(i);
        auto r = client.AutoAssign(args);
        if (r && !r->ipv4.empty())
          got[static_cast<size_t>(t)].push_back(r->ipv4[0].addr().String());
      }
    });
  }
  for (auto& th : threads)
    th.join();
  std::set<std::string> all;
  size_t total = 0;
  for (const auto& v : got) {
    total += v.size();
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(total, static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(all.size(), total);
}

// A Backend over a MemBackend that runs `before_txn` ahead of each transaction (a rival's write
// between our read and our write, or a store that fails) and counts the transactions.
class TxnHookBackend final : public datastore::Backend {
 public:
  explicit TxnHookBackend(datastore::MemBackend& store) : store_(store) {}
  std::function<void(int n)> before_txn;  // n: this transaction's number, from 0
  int txns() const { return txns_; }

  Result<datastore::KVPair> Get(std::string_view key) override { return store_.Get(key); }
  Result<datastore::ListResult> List(std::string_view prefix) override {
    return store_.List(prefix);
  }
  Result<datastore::KVPair> Create(std::string_view key, std::string_view value,
                                   std::chrono::seconds ttl) override {
    return store_.Create(key, value, ttl);
  }
  Result<datastore::KVPair> Update(std::string_view key, std::string_view value, int64_t rev,
                                   std::chrono::seconds ttl) override {
    return store_.Update(key, value, rev, ttl);
  }
  Result<datastore::KVPair> Put(std::string_view key, std::string_view value,
                                std::chrono::seconds ttl) override {
    return store_.Put(key, value, ttl);
  }
  Result<datastore::KVPair> Delete(std::string_view key, int64_t rev) override {
    return store_.Delete(key, rev);
  }
  Result<std::vector<datastore::KVPair>> Txn(const std::vector<datastore::TxnOp>& ops) override {
    if (before_txn) before_txn(txns_);
    ++txns_;
    return store_.Txn(ops);
  }
  Result<int64_t> DeletePrefix(std::string_view prefix) override {
    return store_.DeletePrefix(prefix);
  }
  Result<std::unique_ptr<datastore::WatchStream>> Watch(std::string_view prefix,
                                                        int64_t from) override {
    return store_.Watch(prefix, from);
  }
  std::string Describe() const override { return store_.Describe(); }

 private:
  datastore::MemBackend& store_;
  int txns_ = 0;
};

constexpr char kHandleKey[] = "/calico/ipam/v2/handle/";

AutoAssignArgs OneIPv4(const std::string& handle, const std::string& host) {
  AutoAssignArgs args;
  args.num4 = 1;
  args.handle = handle;
  args.host = host;
  return args;
}
constexpr char kBlockKey[] = "/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26";

// An assignment writes its handle and its block in one transaction (one revision), and a release
// by handle the block and the handle's delete in one: the same keys and values as Calico's two
// writes each (libcalico-go ipam.go incrementHandle + block CAS; block CAS + decrementHandle).
TEST_F(IpamTest, HandleAndBlockAreWrittenInOneTransaction) {
  AddPool("p", "10.0.0.0/26", 26);
  TxnHookBackend hooked(backend_);
  IpamClient client(hooked);
  AutoAssignArgs args = OneIPv4("net.a", "node1");
  ASSERT_TRUE(client.AutoAssign(args));  // claims the block, then assigns
  const int after_first = hooked.txns();
  args.handle = "net.b";
  auto second = client.AutoAssign(args);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->ipv4.size(), 1u);
  EXPECT_EQ(hooked.txns() - after_first, 1);
  auto handle = backend_.Get(std::string(kHandleKey) + "net.b");
  auto block = backend_.Get(kBlockKey);
  ASSERT_TRUE(handle);
  ASSERT_TRUE(block);
  EXPECT_EQ(handle->mod_revision, block->mod_revision);
  EXPECT_EQ(Json::parse(handle->value),
            (Json{{"block", {{"10.0.0.0/26", 1}}}, {"deleted", false}}));

  auto watch = backend_.Watch("/calico/ipam/v2/", backend_.revision() + 1);
  ASSERT_TRUE(watch);
  const int before_release = hooked.txns();
  ASSERT_TRUE(client.ReleaseByHandle("net.b"));
  EXPECT_EQ(hooked.txns() - before_release, 1);
  auto events = (*watch)->Next(std::chrono::seconds(1));
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].kv.mod_revision, (*events)[1].kv.mod_revision);
  EXPECT_FALSE(backend_.Get(std::string(kHandleKey) + "net.b"));
  EXPECT_EQ(client.IPsByHandle("net.a")->size(), 1u);
}

// Another host's write between our reads and our transaction (the block, or the same handle):
// the transaction writes nothing, and the retry reads both again. No address is handed out twice
// and every handle counts exactly what its block holds.
TEST_F(IpamTest, ConflictingTransactionRetriesWithoutLeaks) {
  AddPool("p", "10.0.0.0/26", 26);
  ASSERT_EQ(Assign("node1", 1, "first").ipv4.size(), 1u);
  for (const char* rival_handle : {"rival", "mine"}) {
    TxnHookBackend hooked(backend_);
    IpamClient client(hooked);
    IpamClient rival(backend_);
    hooked.before_txn = [&](int n) {
      if (n != 0) return;
      AutoAssignArgs args = OneIPv4(rival_handle, "node1");
      EXPECT_TRUE(rival.AutoAssign(args));
    };
    AutoAssignArgs args = OneIPv4("mine", "node1");
    auto got = client.AutoAssign(args);
    ASSERT_TRUE(got) << got.error().message();
    ASSERT_EQ(got->ipv4.size(), 1u);
    EXPECT_EQ(hooked.txns(), 2) << rival_handle;  // the conflict, then the retry
  }
  // "first"; then "rival" and ours; then the rival's and ours under "mine": three for "mine".
  EXPECT_EQ(ipam_.IPsByHandle("rival")->size(), 1u);
  EXPECT_EQ(ipam_.IPsByHandle("mine")->size(), 3u);
  EXPECT_EQ(
      Json::parse(backend_.Get(std::string(kHandleKey) + "mine")->value)["block"]["10.0.0.0/26"],
      3);
  EXPECT_EQ(
      Json::parse(backend_.Get(std::string(kHandleKey) + "rival")->value)["block"]["10.0.0.0/26"],
      1);
  ASSERT_TRUE(ipam_.ReleaseByHandle("mine"));
  ASSERT_TRUE(ipam_.ReleaseByHandle("rival"));
  ASSERT_TRUE(ipam_.ReleaseByHandle("first"));
  EXPECT_TRUE(backend_.List(kHandleKey)->kvs.empty());
  EXPECT_EQ(ipam_.ListBlocks(4)->at(0).NumFree(), 64);
}

// The store fails the transaction (etcd unreachable): the assignment fails and leaves neither a
// handle nor an address; a release that fails leaves both, and the retried release frees both.
TEST_F(IpamTest, FailedTransactionLeavesNoHandleAndNoAddress) {
  AddPool("p", "10.0.0.0/26", 26);
  ASSERT_EQ(Assign("node1", 1, "first").ipv4.size(), 1u);
  TxnHookBackend hooked(backend_);
  IpamClient client(hooked);
  hooked.before_txn = [&](int) { backend_.FailNext(Error(ErrorCode::kUnavailable, "etcd down")); };
  AutoAssignArgs args = OneIPv4("lost", "node1");
  auto got = client.AutoAssign(args);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(backend_.Get(std::string(kHandleKey) + "lost"));
  EXPECT_EQ(ipam_.ListBlocks(4)->at(0).NumFree(), 63);

  auto release = client.ReleaseByHandle("first");
  ASSERT_FALSE(release);
  EXPECT_TRUE(backend_.Get(std::string(kHandleKey) + "first"));
  EXPECT_EQ(ipam_.IPsByHandle("first")->size(), 1u);
  hooked.before_txn = nullptr;
  ASSERT_TRUE(client.ReleaseByHandle("first"));
  EXPECT_FALSE(backend_.Get(std::string(kHandleKey) + "first"));
  EXPECT_EQ(ipam_.ListBlocks(4)->at(0).NumFree(), 64);
}

// A handle across two blocks (one per family, or a borrowed address): released block by block,
// each with the handle's own update, the handle deleted with the last.
TEST_F(IpamTest, ReleaseByHandleAcrossBlocks) {
  AddPool("p", "10.0.0.0/26", 26);
  AddPool("p6", "fd00::/120", 122);
  auto r = Assign("node1", 1, "dual", 1);
  ASSERT_EQ(r.ipv4.size(), 1u);
  ASSERT_EQ(r.ipv6.size(), 1u);
  EXPECT_EQ(Json::parse(backend_.Get(std::string(kHandleKey) + "dual")->value)["block"].size(), 2u);
  ASSERT_TRUE(ipam_.ReleaseByHandle("dual"));
  EXPECT_FALSE(backend_.Get(std::string(kHandleKey) + "dual"));
  EXPECT_TRUE(ipam_.IPsByHandle("dual")->empty());
  auto blocks = ipam_.ListBlocks();  // Held: a range-for over *temporary would dangle.
  ASSERT_TRUE(blocks);
  for (const Block& b : *blocks)
    EXPECT_TRUE(b.Empty()) << b.cidr().String();
}

// A CNI DEL's WorkloadEndpoint delete rides on the release's transaction (ReleaseByHandle with
// `with`): endpoint, addresses and handle go in one write, or the endpoint is left to the caller
// when its delete would fail, and the addresses are released all the same.
TEST_F(IpamTest, ReleaseByHandleWritesTheCallersDeleteInTheSameTransaction) {
  constexpr const char* kWep =
      "/calico/resources/v3/projectcalico.org/workloadendpoints/default/node1-cni-c-eth0";
  AddPool("p", "10.0.0.0/26", 26);
  ASSERT_EQ(Assign("node1", 1, "net.c").ipv4.size(), 1u);
  auto wep = backend_.Put(kWep, "{}");
  ASSERT_TRUE(wep);
  TxnHookBackend hooked(backend_);
  IpamClient client(hooked);
  auto released =
      client.ReleaseByHandle("net.c", {datastore::TxnOp::Delete(kWep, wep->mod_revision)});
  ASSERT_TRUE(released) << released.error().message();
  EXPECT_TRUE(*released);
  EXPECT_EQ(hooked.txns(), 1) << "the endpoint, the block and the handle in one transaction";
  EXPECT_FALSE(backend_.Get(kWep));
  EXPECT_FALSE(backend_.Get(std::string(kHandleKey) + "net.c"));
  EXPECT_EQ(ipam_.ListBlocks(4)->at(0).NumFree(), 64);

  // A retried DEL: no handle left, the endpoint's delete alone (here: already gone, a conflict).
  released = client.ReleaseByHandle("net.c", {datastore::TxnOp::Delete(kWep, wep->mod_revision)});
  ASSERT_TRUE(released) << released.error().message();
  EXPECT_FALSE(*released) << "the delete could not be written: the caller's to do";
  wep = backend_.Put(kWep, "{}");
  ASSERT_TRUE(wep);
  released = client.ReleaseByHandle("net.c", {datastore::TxnOp::Delete(kWep, wep->mod_revision)});
  ASSERT_TRUE(released && *released);
  EXPECT_FALSE(backend_.Get(kWep));
}

TEST_F(IpamTest, ReleaseByHandleGoesOnWhenTheCallersWriteConflicts) {
  constexpr const char* kWep =
      "/calico/resources/v3/projectcalico.org/workloadendpoints/default/node1-cni-d-eth0";
  AddPool("p", "10.0.0.0/26", 26);
  AddPool("p6", "fd00::/120", 122);
  ASSERT_EQ(Assign("node1", 1, "net.d", 1).ipv4.size(), 1u);
  auto old = backend_.Put(kWep, "{}");
  ASSERT_TRUE(old);
  ASSERT_TRUE(backend_.Put(kWep, R"({"taken":"over"})"));  // another sandbox's, since read
  auto released =
      ipam_.ReleaseByHandle("net.d", {datastore::TxnOp::Delete(kWep, old->mod_revision)});
  ASSERT_TRUE(released) << released.error().message();
  EXPECT_FALSE(*released);
  EXPECT_EQ(backend_.Get(kWep)->value, R"({"taken":"over"})") << "only the caller may delete it";
  EXPECT_FALSE(backend_.Get(std::string(kHandleKey) + "net.d"));
  auto blocks = ipam_.ListBlocks();
  ASSERT_TRUE(blocks);
  for (const Block& b : *blocks)
    EXPECT_TRUE(b.Empty()) << b.cidr().String();

  // Dual-stack, the endpoint's delete current: it goes with the first block, the handle with the
  // second.
  ASSERT_EQ(Assign("node1", 1, "net.e", 1).ipv6.size(), 1u);
  auto wep = backend_.Get(kWep);
  ASSERT_TRUE(wep);
  TxnHookBackend hooked(backend_);
  IpamClient client(hooked);
  released = client.ReleaseByHandle("net.e", {datastore::TxnOp::Delete(kWep, wep->mod_revision)});
  ASSERT_TRUE(released && *released);
  EXPECT_EQ(hooked.txns(), 2);
  EXPECT_FALSE(backend_.Get(kWep));
  EXPECT_FALSE(backend_.Get(std::string(kHandleKey) + "net.e"));
  EXPECT_TRUE(ipam_.IPsByHandle("net.e")->empty());
}

// Release by address updates the block and the handles of the addresses in one transaction.
TEST_F(IpamTest, ReleaseByAddressUpdatesBlockAndHandlesTogether) {
  AddPool("p", "10.0.0.0/26", 26);
  auto a = Assign("node1", 2, "two");
  auto b = Assign("node1", 1, "one");
  ASSERT_EQ(a.ipv4.size(), 2u);
  ASSERT_EQ(b.ipv4.size(), 1u);
  auto watch = backend_.Watch("/calico/ipam/v2/", backend_.revision() + 1);
  ASSERT_TRUE(watch);
  auto left = ipam_.ReleaseIPs({a.ipv4[0].addr(), b.ipv4[0].addr()});
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
  auto events = (*watch)->Next(std::chrono::seconds(1));
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 3u);  // the block, "two" updated, "one" deleted
  for (const auto& ev : *events)
    EXPECT_EQ(ev.kv.mod_revision, (*events)[0].kv.mod_revision) << ev.kv.key;
  EXPECT_FALSE(backend_.Get(std::string(kHandleKey) + "one"));
  EXPECT_EQ(
      Json::parse(backend_.Get(std::string(kHandleKey) + "two")->value)["block"]["10.0.0.0/26"], 1);
}

// A claim killed between its pending affinity and the block (kill -9 of a CNI plugin) leaves an
// affinity without a block: the next assignment for the host creates the block and confirms the
// affinity (libcalico-go getBlockFromAffinity) instead of counting a block that does not exist
// against the host's cap forever.
TEST_F(IpamTest, AffinityWithoutItsBlockIsCompletedByTheNextAssignment) {
  AddPool("p", "10.0.0.0/24", 26);
  ASSERT_TRUE(ipam_.SetConfig({.strict_affinity = true, .max_blocks_per_host = 1}));
  const std::string aff =
      datastore::BlockAffinityKey{.cidr = *net::CIDR::Parse("10.0.0.128/26"), .host = "node1"}
          .Format();
  ASSERT_TRUE(backend_.Put(aff, R"({"state":"pending","deleted":false})"));
  auto r = Assign("node1", 1);
  ASSERT_EQ(r.ipv4.size(), 1u) << (r.messages.empty() ? "" : r.messages[0]);
  EXPECT_EQ(r.ipv4[0].addr().String(), "10.0.0.128");
  auto block =
      backend_.Get(datastore::BlockKey{.cidr = *net::CIDR::Parse("10.0.0.128/26")}.Format());
  ASSERT_TRUE(block);
  EXPECT_EQ(Block::FromJson(block->value)->host(), "node1");
  EXPECT_EQ(Json::parse(backend_.Get(aff)->value)["state"], "confirmed");
  EXPECT_EQ(ipam_.ListBlocks()->size(), 1u);
}

// A claim killed after the block but before the affinity was confirmed: BIRD exports confirmed
// blocks only, so the next assignment confirms it.
TEST_F(IpamTest, PendingAffinityOfAnExistingBlockIsConfirmed) {
  AddPool("p", "10.0.0.0/24", 26);
  auto first = Assign("node1", 1);
  ASSERT_EQ(first.ipv4.size(), 1u);
  const std::string aff =
      datastore::BlockAffinityKey{.cidr = first.ipv4[0].Masked(), .host = "node1"}.Format();
  ASSERT_TRUE(backend_.Get(aff));
  ASSERT_TRUE(backend_.Put(aff, R"({"state":"pending","deleted":false})"));
  Assign("node1", 1, "h2");
  EXPECT_EQ(Json::parse(backend_.Get(aff)->value)["state"], "confirmed");
}

// An affinity whose block another host won is stale: dropped, and not counted as the host's.
TEST_F(IpamTest, StaleAffinityIsDroppedAndNotCounted) {
  AddPool("p", "10.0.0.0/24", 26);
  ASSERT_TRUE(ipam_.SetConfig({.strict_affinity = true, .max_blocks_per_host = 1}));
  auto other = Assign("node2", 1);
  ASSERT_EQ(other.ipv4.size(), 1u);
  const net::CIDR theirs = other.ipv4[0].Masked();
  const std::string stale = datastore::BlockAffinityKey{.cidr = theirs, .host = "node1"}.Format();
  ASSERT_TRUE(backend_.Put(stale, R"({"state":"confirmed","deleted":false})"));
  auto mine = Assign("node1", 1);
  ASSERT_EQ(mine.ipv4.size(), 1u) << (mine.messages.empty() ? "" : mine.messages[0]);
  EXPECT_NE(mine.ipv4[0].Masked(), theirs);
  EXPECT_FALSE(backend_.Get(stale));
}

// The host-wide lock excludes a second holder, also a second descriptor in the same process
// (flock is per open file), and is free again once the holder is gone.
TEST(HostLockTest, ExcludesOtherHoldersUntilReleased) {
  auto dir = ::calico::testing::MakeTestDir("host-lock");
  std::string path = (dir / "run" / "calico" / "ipam.lock").string();
  auto first = HostLock::Acquire(path);
  ASSERT_TRUE(first) << first.error().message();
  std::atomic<bool> second_held{false};
  std::thread waiter([&] {
    auto second = HostLock::Acquire(path);
    second_held = second.has_value();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(second_held) << "a second holder got the lock while the first held it";
  { HostLock released = std::move(*first); }
  waiter.join();
  EXPECT_TRUE(second_held);
}

TEST(HostLockTest, FileIsRootOnlyWhateverTheUmask) {
  auto dir = ::calico::testing::MakeTestDir("host-lock-mode");
  std::string path = (dir / "ipam.lock").string();
  mode_t old = ::umask(0);
  auto lock = HostLock::Acquire(path);
  ::umask(old);
  ASSERT_TRUE(lock) << lock.error().message();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(HostLockTest, UnusableLockFileIsAnErrorNamingIt) {
  auto dir = ::calico::testing::MakeTestDir("host-lock-bad");
  std::string path = (dir / "a-file" / "ipam.lock").string();
  std::FILE* f = std::fopen((dir / "a-file").c_str(), "w");
  std::fclose(f);
  auto lock = HostLock::Acquire(path);
  ASSERT_FALSE(lock);
  EXPECT_NE(lock.error().message().find("cannot take the host-wide IPAM lock " + path),
            std::string::npos)
      << lock.error().message();
}

// A stored block whose cidr has host bits set (never written by Calico; found by
// ipam_block_fuzz): cidr + ordinal would hand out addresses outside the block, and an address
// below the cidr's own would index before its allocations. Refused as corrupt, naming the network.
TEST(BlockTest, CidrWithHostBitsIsRefusedAsCorrupt) {
  for (const auto& [cidr, network] :
       {std::pair{"fd00:6::5/125", "fd00:6::/125"}, std::pair{"10.0.0.5/29", "10.0.0.0/29"}}) {
    const std::string value = std::string(R"({"cidr":")") + cidr +
                              R"(","affinity":null,"allocations":[null,null,null,null,null,null,)" +
                              R"(null,null],"unallocated":[0,1,2,3,4,5,6,7],"attributes":[],)" +
                              R"("sequenceNumber":0,"deleted":false})";
    auto block = Block::FromJson(value);
    ASSERT_FALSE(block) << cidr;
    EXPECT_EQ(block.error().message(),
              std::string("IPAM block ") + cidr +
                  " is corrupt: its cidr has host bits set (the network is " + network + ")");
  }
}

}  // namespace
}  // namespace calico::ipam
