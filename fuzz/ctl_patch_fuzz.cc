// Fuzzes `calicoctl patch`: the first byte picks the patch type (merge or JSON patch), the rest is
// the patch, applied through the real command to a stored IPPool in an in-memory store. Any patch
// ends with success or a clear error; a stored result must read back.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "calico/ctl/ctl.h"
#include "calico/datastore/client.h"
#include "calico/datastore/testing/mem_backend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool json_patch = (data[0] & 1) != 0;
  std::string patch(reinterpret_cast<const char*>(data + 1), size - 1);
  calico::datastore::MemBackend backend;
  calico::datastore::Client client(backend);
  calico::model::Resource pool("IPPool", "p");
  pool.spec()["cidr"] = "10.66.0.0/24";
  if (!client.Create(pool)) __builtin_trap();
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  calico::ctl::Context ctx{.in = in,
                           .out = out,
                           .err = err,
                           .open_client = [&](const calico::ctl::ClientOptions&)
                               -> calico::Result<calico::datastore::Client*> { return &client; },
                           .build = {},
                           .retry_sleep_ms = 0};
  calico::ctl::CommandRegistry registry = calico::ctl::DefaultRegistry();
  std::vector<std::string> args = {"patch", "ippool", "p", "-p", patch};
  if (json_patch) {
    args.emplace_back("--type");
    args.emplace_back("json");
  }
  // The fuzzer looks for crashes and hangs: an error for fuzzed input is an expected outcome.
  (void)calico::ctl::Run(registry, args, ctx);
  // Whatever was stored reads back.
  if (!client.Get("IPPool", "", "p")) __builtin_trap();
  return 0;
}
