// Regression test for the block-cap race (issue 19): with strict affinity and
// maxBlocksPerHost=2, 100 calico-ipam processes started at once on one node claimed 14-25 blocks,
// because each counted the node's blocks before any of them had claimed one. The plugins now hold
// the host-wide IPAM lock around assignment (cni-plugin ipam_plugin.go), so the cap holds: on the
// embedded store and on a real etcd, 100 parallel ADDs all succeed within 2 blocks, further ADDs
// fail with the limit named, nothing is handed out twice, and every DEL leaves the pool empty.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "calico/base/testing/temp_dir.h"
#include "calico/cni/testing/plugin_run.h"
#include "calico/datastore/client.h"
#include "calico/datastore/factory/factory.h"
#include "calico/datastore/testing/etcd_process.h"
#include "calico/ipam/ipam.h"

namespace calico::cni {
namespace {

using Json = nlohmann::json;

using Outcome = testing::PluginRun;

class IpamBlockCapTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = ::calico::testing::MakeTestDir("ipam-cap");
    datastore::ClientConfig cfg;
    if (GetParam() == "etcd") {
      ASSERT_TRUE(::calico::testing::EtcdInstalled()) << "etcd is not installed: run make deps";
      etcd_ = std::make_unique<::calico::testing::EtcdMember>(dir_, "cap");
      ASSERT_TRUE(etcd_->WaitUntilServing()) << "etcd did not start; see " << etcd_->log_path();
      cfg.type = datastore::DatastoreType::kEtcdV3;
      cfg.etcd.endpoints = {etcd_->client_url()};
      store_conf_ = R"("etcd_endpoints":")" + etcd_->client_url() + R"(")";
    } else {
      cfg.local_path = (dir_ / "calico.db").string();
      store_conf_ = R"("datastore_path":")" + cfg.local_path + R"(")";
    }
    auto backend = datastore::OpenBackend(cfg);
    ASSERT_TRUE(backend) << backend.error().message();
    backend_ = std::move(*backend);
    datastore::Client client(*backend_);
    model::Resource pool("IPPool", "wide");
    pool.spec()["cidr"] = "10.80.0.0/16";  // 1024 blocks: the cap, not the pool, must stop us
    auto created = client.Create(pool);
    ASSERT_TRUE(created) << created.error().message();
    ipam::IpamClient ipam(*backend_);
    ASSERT_TRUE(ipam.SetConfig({.strict_affinity = true, .max_blocks_per_host = 2}));
  }

  std::string Conf() const {
    return R"({"cniVersion":"1.0.0","name":"net","type":"calico","nodename":"node1",)" +
           store_conf_ + R"(,"ipam_lock_file":")" + (dir_ / "ipam.lock").string() +
           R"(","ipam":{"type":"calico-ipam"}})";
  }

  Outcome Invoke(const std::string& command, const std::string& container) const {
    return testing::RunPluginBinary("calico-ipam",
                                    {{"CNI_COMMAND", command},
                                     {"CNI_CONTAINERID", container},
                                     {"CNI_NETNS", "/run/netns/x"},
                                     {"CNI_IFNAME", "eth0"},
                                     {"CNI_PATH", "/opt/cni/bin"}},
                                    Conf());
  }

  // `count` ADDs (containers prefix0..) all started at once, each a real plugin process.
  std::vector<Outcome> ParallelAdds(const std::string& prefix, int count) const {
    std::vector<Outcome> runs(static_cast<size_t>(count));
    std::vector<std::thread> threads;
    for (int i = 0; i < count; ++i) {
      threads.emplace_back(
          [&, i] { runs[static_cast<size_t>(i)] = Invoke("ADD", prefix + std::to_string(i)); });
    }
    for (auto& t : threads)
      t.join();
    return runs;
  }

  std::map<std::string, std::string> BlocksByHost() const {
    ipam::IpamClient ipam(*backend_);
    auto blocks = ipam.ListBlocks();
    EXPECT_TRUE(blocks);
    std::map<std::string, std::string> out;
    for (const auto& b : blocks ? *blocks : std::vector<ipam::Block>{})
      out[b.cidr().String()] = b.host();
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<::calico::testing::EtcdMember> etcd_;
  std::unique_ptr<datastore::Backend> backend_;
  std::string store_conf_;
};

TEST_P(IpamBlockCapTest, HundredParallelAddsStayWithinTwoBlocks) {
  std::vector<Outcome> first = ParallelAdds("c", 100);
  std::set<std::string> addresses;
  for (size_t i = 0; i < first.size(); ++i) {
    const Outcome& r = first[i];
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    addresses.insert(Json::parse(r.out)["ips"][0]["address"].get<std::string>());
  }
  EXPECT_EQ(addresses.size(), 100u) << "an address was handed out twice";
  auto blocks = BlocksByHost();
  EXPECT_EQ(blocks.size(), 2u) << "the cap of 2 blocks per host was passed";
  for (const auto& [cidr, host] : blocks)
    EXPECT_EQ(host, "node1") << cidr;

  // The 2 blocks hold 128 addresses: of 40 more ADDs, 28 succeed and 12 fail naming the limit.
  std::vector<Outcome> more = ParallelAdds("m", 40);
  int ok = 0, limited = 0;
  for (const Outcome& r : more) {
    if (r.code == 0) {
      ++ok;
      addresses.insert(Json::parse(r.out)["ips"][0]["address"].get<std::string>());
    } else if (r.out.find("limit of 2 blocks reached for this node") != std::string::npos) {
      ++limited;
    } else {
      ADD_FAILURE() << "unexpected failure: " << r.out << r.err;
    }
  }
  EXPECT_EQ(ok, 28);
  EXPECT_EQ(limited, 12);
  EXPECT_EQ(addresses.size(), 128u);
  EXPECT_EQ(BlocksByHost().size(), 2u);

  // Every DEL (also those of failed ADDs, as a runtime sends them) leaves nothing allocated.
  std::vector<std::thread> dels;
  std::vector<Outcome> del_runs(140);
  auto container = [](int i) {
    return i < 100 ? "c" + std::to_string(i) : "m" + std::to_string(i - 100);
  };
  for (int i = 0; i < 140; ++i) {
    dels.emplace_back([&, i] { del_runs[static_cast<size_t>(i)] = Invoke("DEL", container(i)); });
  }
  for (auto& t : dels)
    t.join();
  for (int i = 0; i < 140; ++i) {
    const Outcome& r = del_runs[static_cast<size_t>(i)];
    EXPECT_EQ(r.code, 0) << "DEL " << container(i) << ": " << r.err;
  }
  ipam::IpamClient ipam(*backend_);
  auto blocks_after = ipam.ListBlocks();
  ASSERT_TRUE(blocks_after);
  for (const auto& b : *blocks_after)
    EXPECT_TRUE(b.Empty()) << b.cidr().String();
  EXPECT_TRUE(backend_->List("/calico/ipam/v2/handle/")->kvs.empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, IpamBlockCapTest, ::testing::Values("local", "etcd"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace calico::cni
