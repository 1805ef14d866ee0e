// Checks shared by the tests of the two etcd clients (etcd/etcd_backend_test.cc over gRPC,
// etcdhttp/etcd_http_backend_test.cc over the JSON gateway), against a real etcd: waiting for a
// member to serve, and authentication (token renewal, refusals). Test-only; header-only because
// the assertions are GoogleTest's.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/config.h"
#include "calico/datastore/testing/etcd_process.h"

namespace calico::datastore::testing {

using EtcdOpener = std::function<Result<std::unique_ptr<Backend>>(const EtcdConfig&)>;

// Opens through `open` until the member answers a List (at most 10 s); an error other than
// kUnavailable is returned at once.
inline Result<std::unique_ptr<Backend>> ConnectWhenUp(const EtcdOpener& open,
                                                      const EtcdConfig& cfg) {
  Result<std::unique_ptr<Backend>> last = Unavailable("not tried");
  for (int i = 0; i < 40; ++i) {
    last = open(cfg);
    if (last) {
      if ((*last)->List("/probe/")) return last;
    } else if (last.error().code() != ErrorCode::kUnavailable) {
      return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return last;
}

// For an etcd at `url` started with `--auth-token-ttl 1` and no users: enables auth with
// root:secret (etcdctl), then checks that a client with the password works and authenticates again
// by itself once its token has expired, and that one without credentials or with a wrong password
// is refused with kPermissionDenied.
inline void ExpectAuthWithTokenRenewal(const std::string& url, const EtcdOpener& open) {
  EtcdConfig plain;
  plain.endpoints = {url};
  ASSERT_TRUE(ConnectWhenUp(open, plain));
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"user", "add", "root:secret"}, {"auth", "enable"}}) {
    auto ran = ::calico::testing::RunEtcdctl(url, args);
    ASSERT_TRUE(ran && ran->exit_code == 0) << args[0] << " " << args[1];
  }
  EtcdConfig cfg = plain;
  cfg.username = "root";
  cfg.password = "secret";
  auto backend = open(cfg);
  ASSERT_TRUE(backend) << backend.error().message();
  ASSERT_TRUE((*backend)->Put("/calico/auth", "ok"));
  // The token expires after 1 s unused; the backend authenticates again by itself.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  auto after_expiry = (*backend)->Get("/calico/auth");
  ASSERT_TRUE(after_expiry) << after_expiry.error().message();
  EXPECT_EQ(after_expiry->value, "ok");
  auto anonymous = open(plain);
  ASSERT_TRUE(anonymous);
  auto denied = (*anonymous)->Put("/calico/auth", "no");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), ErrorCode::kPermissionDenied);
  EtcdConfig wrong = cfg;
  wrong.password = "bad";
  auto rejected = open(wrong);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code(), ErrorCode::kPermissionDenied);
}

}  // namespace calico::datastore::testing
