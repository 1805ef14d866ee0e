// Fuzzes the readers of stored values: whatever bytes etcd or the store file hold under a
// resource key, DecodeStoredResource gives a resource or an error, a list skips it, and the
// readers of IPAM values (handles, blocks, config) neither crash nor hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "calico/datastore/client.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/ipam/ipam.h"
#include "calico/model/json_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string value(reinterpret_cast<const char*>(data), size);
  const std::string key = "/calico/resources/v3/projectcalico.org/ippools/fuzz";
  auto r = calico::datastore::DecodeStoredResource(key, value, 7);
  if (r) (void)r->doc().dump();
  calico::datastore::MemBackend backend;
  // The fuzzer looks for crashes and hangs: an error for fuzzed input is an expected outcome.
  (void)backend.Put(key, value);
  (void)backend.Put(calico::datastore::IpamConfigKey{}.Format(), value);
  (void)backend.Put(calico::datastore::HandleKey{.handle_id = "h"}.Format(), value);
  calico::datastore::Client client(backend);
  auto listed = client.ListWithRevision("IPPool");
  if (!listed) __builtin_trap();  // an unreadable value is skipped, never fatal
  if (listed->items.size() + static_cast<size_t>(listed->skipped) != 1) __builtin_trap();
  calico::ipam::IpamClient ipam(backend);
  // The fuzzer looks for crashes and hangs: an error for fuzzed input is an expected outcome.
  (void)ipam.GetConfig();
  (void)ipam.IPsByHandle("h");
  (void)calico::model::ReadStoredJson(key, value);
  return 0;
}
