// calico-node's status report on a real etcd (loopback, free ports, stopped by PID): the live key
// carries an etcd lease granted with reportingTTL (read back with etcdctl), the
// last_reported_status key none, and the live key goes when its lease expires.
#include <array>
#include <cstdio>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "calico/base/clock.h"
#include "calico/base/testing/temp_dir.h"
#include "calico/datastore/etcd/etcd_backend.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/etcd_process.h"
#include "calico/node/status_report.h"

namespace calico::node {
namespace {

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
    out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

TEST(StatusReportEtcdTest, LiveKeyHasALeaseOfReportingTtl) {
  if (!calico::testing::EtcdInstalled()) GTEST_SKIP() << "etcd is not installed";
  calico::testing::EtcdMember etcd(calico::testing::MakeTestDir("status-report-etcd"), "m0");
  ASSERT_TRUE(etcd.WaitUntilServing()) << "etcd did not start; see " << etcd.log_path();
  datastore::EtcdConfig cfg;
  cfg.endpoints = {etcd.client_url()};
  auto backend = datastore::etcd::OpenEtcdBackend(cfg);
  ASSERT_TRUE(backend) << backend.error().message();
  SystemClock clock;
  StatusReporter reporter(**backend, clock, "node-7",
                          {std::chrono::seconds(30), std::chrono::seconds(3)});
  ASSERT_TRUE(reporter.ReportOnce().has_value());

  const std::string ctl = "ETCDCTL_API=3 etcdctl --endpoints=" + etcd.client_url() + " ";
  auto lease_of = [&](const std::string& key) -> int64_t {
    auto j = nlohmann::json::parse(Shell(ctl + "get -w json " + key), nullptr, false);
    if (j.is_discarded() || !j.contains("kvs") || j["kvs"].empty()) return -1;
    return j["kvs"][0].value("lease", int64_t{0});
  };
  const int64_t lease = lease_of(datastore::FelixStatusKey("node-7"));
  ASSERT_GT(lease, 0) << "the live status key has no lease";
  EXPECT_EQ(lease_of(datastore::FelixLastStatusKey("node-7")), 0);
  char hex[32];
  std::snprintf(hex, sizeof(hex), "%llx", static_cast<unsigned long long>(lease));
  const std::string ttl = Shell(ctl + "lease timetolive " + hex);
  EXPECT_NE(ttl.find("granted with TTL(3s)"), std::string::npos) << ttl;

  // The lease expires: the live key goes, the last report stays (polled; no time is asserted).
  for (int i = 0; i < 300 && lease_of(datastore::FelixStatusKey("node-7")) > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(lease_of(datastore::FelixStatusKey("node-7")), -1);
  EXPECT_EQ(lease_of(datastore::FelixLastStatusKey("node-7")), 0);
}

}  // namespace
}  // namespace calico::node
