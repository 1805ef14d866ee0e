// CtlFixture: the ctl tests' harness. It runs a calicoctl command line in-process, as
// apps/calicoctl does, against an in-memory datastore (datastore::MemBackend behind a
// datastore::Client) with stdin given as text and stdout, stderr and the exit code captured.
//
//   class IpamCommandTest : public ctl::testing::CtlFixture {
//     void SetUp() override { registry_.Register("ipam", "IP address management", RunIpam); }
//   };
//   TEST_F(IpamCommandTest, Show) {
//     auto r = Run({"create", "-f", "-"}, pool_yaml);      // registry_: DefaultRegistry() + own
//     EXPECT_EQ(r.code, 0) << r.err;
//     EXPECT_EQ(Run({"ipam", "show"}).out, "...");
//   }
//
// Tests seed or inspect the store through backend_ / client_, extend the command tree through
// registry_, and choose what `open_client` does: the store (default), an error
// (FailDatastore: the "Failed to create Calico API client" path) or nothing configured
// (NoDatastore: commands that need no datastore, e.g. `node`). Retries on conflict do not sleep.
//
// Thread-safety: one test thread.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "calico/ctl/ctl.h"
#include "calico/datastore/client.h"
#include "calico/datastore/testing/mem_backend.h"

namespace calico::ctl::testing {

// What one command line did.
struct CommandOutcome {
  int code = 0;
  std::string out;
  std::string err;
};

class CtlFixture : public ::testing::Test {
 protected:
  // Runs `calicoctl <args>` through registry_ (global flags and dispatch as the binary does).
  CommandOutcome Run(const std::vector<std::string>& args, const std::string& stdin_text = "");
  // Runs one handler directly with `args` (the words after its command path).
  CommandOutcome RunHandler(const Handler& handler, const std::vector<std::string>& args,
                            const std::string& stdin_text = "");

  // Opening the datastore fails with `message` from now on.
  void FailDatastore(std::string message) { open_error_ = std::move(message); }
  // No datastore is configured from now on (Context::open_client is unset).
  void NoDatastore() { no_datastore_ = true; }

  datastore::MemBackend backend_;
  datastore::Client client_{backend_};
  CommandRegistry registry_ = DefaultRegistry();
  BuildInfo build_{.version = "v3.31.0", .git_commit = "0123abc"};
  // Context::flows_get of the commands (unset: no flows server can be asked).
  std::function<Result<std::string>(std::string_view, std::string_view)> flows_get_;

 private:
  template <typename Fn>
  CommandOutcome WithContext(const std::string& stdin_text, Fn&& fn);

  std::optional<std::string> open_error_;
  bool no_datastore_ = false;
};

}  // namespace calico::ctl::testing
