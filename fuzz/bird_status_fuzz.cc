// Fuzzes the parser of `birdc show protocols` output behind `calicoctl node status`, and the
// table rendered from whatever it parsed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "calico/bird/bird_status.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto peers = calico::bird::ParseBirdProtocols(text);
  if (!peers) return 0;
  calico::bird::NodeStatusInput input;
  input.peers = *peers;
  // The fuzzer looks for crashes and hangs: an error for fuzzed input is an expected outcome.
  (void)calico::bird::RenderNodeStatus(input);
  return 0;
}
