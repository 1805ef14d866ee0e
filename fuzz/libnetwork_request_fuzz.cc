// Fuzzes the libnetwork driver's request decoding and handling: the first line of the input is
// the plugin method ("NetworkDriver.CreateNetwork", ...), the rest its JSON body, dispatched as
// Docker would over the plugin socket (HandlePluginRequest), against an in-memory store with a
// pool and a fake veth plumber. Every answer must be a JSON object; nothing may crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "calico/datastore/client.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/libnetwork/server.h"
#include "calico/libnetwork/testing/fake_plumber.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t eol = input.find('\n');
  std::string method(input.substr(0, eol == std::string_view::npos ? input.size() : eol));
  std::string body(eol == std::string_view::npos ? "" : input.substr(eol + 1));
  calico::datastore::MemBackend backend;
  {
    calico::datastore::Client client(backend);
    calico::model::Resource pool("IPPool", "pool1");
    pool.spec()["cidr"] = "10.65.0.0/24";
    // The fuzzer looks for crashes and hangs: an error for fuzzed input is an expected outcome.
    (void)client.Create(pool);
  }
  calico::libnetwork::testing::FakePlumber plumber;
  calico::libnetwork::Driver driver(backend, plumber,
                                    calico::libnetwork::DriverOptions{.node = "fuzz-node"});
  calico::libnetwork::HttpRequest req;
  req.method = "POST";
  req.path = "/" + method;
  req.body = body;
  auto resp = calico::libnetwork::HandlePluginRequest(driver, req);
  auto j = calico::libnetwork::Json::parse(resp.body, nullptr, false);
  if (!j.is_object()) __builtin_trap();
  return 0;
}
