// Test helpers shared by the tests that drive the plugin binaries as a CNI runtime does
// (cni/ipam_plugin_test.cc, cni/ipam_block_cap_test.cc, cni/calico_plugin_test.cc).
// Test-only (target calico::cni_testing).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

#include "calico/base/subprocess.h"
#include "calico/datastore/client.h"
#include "calico/datastore/local/sqlite_backend.h"

namespace calico::cni::testing {

struct PluginRun {
  int code = -1;  // the exit code (128 + signal when killed); -1: not started
  std::string out;
  std::string err;
};

// Runs this build's bin/<plugin> with `cni_env` (CNI_COMMAND, CNI_CONTAINERID, ...) as its whole
// environment and `conf` on stdin; a plugin that cannot be started fails the calling test.
inline PluginRun RunPluginBinary(std::string_view plugin, const Environment& cni_env,
                                 std::string_view conf) {
  PluginRun r;
  auto run = RunSubprocess(
      {.argv = {std::string(CALICO_BINARY_DIR) + "/bin/" + std::string(plugin)}, .env = cni_env},
      {.input = conf});
  if (!run) {
    ADD_FAILURE() << plugin << ": " << run.error().message();
    return r;
  }
  r.code = run->exit_code;
  r.out = std::move(run->out);
  r.err = std::move(run->err);
  return r;
}

// Makes the embedded store `db` with the IPPools pool1 (`v4_cidr`) and pool6 (`v6_cidr`); with
// `initialize`, first the cluster resources calico-node makes on a new store.
[[nodiscard]] inline bool MakeStoreWithPools(const std::string& db, const std::string& v4_cidr,
                                             const std::string& v6_cidr, bool initialize) {
  auto backend = datastore::SqliteBackend::Open(db);
  EXPECT_TRUE(backend) << db << ": " << backend.error().message();
  if (!backend) return false;
  datastore::Client client(**backend);
  if (initialize) {
    auto init = client.EnsureInitialized();
    EXPECT_TRUE(init) << init.error().message();
    if (!init) return false;
  }
  for (const auto& [name, cidr] : {std::pair{"pool1", v4_cidr}, std::pair{"pool6", v6_cidr}}) {
    model::Resource pool("IPPool", name);
    pool.spec()["cidr"] = cidr;
    auto created = client.Create(pool);
    EXPECT_TRUE(created) << name << ": " << created.error().message();
    if (!created) return false;
  }
  return true;
}

}  // namespace calico::cni::testing
