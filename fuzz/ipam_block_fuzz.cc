// Fuzzes the IPAM block decoder (Calico's AllocationBlock JSON): any stored value is refused or
// gives a block whose allocation, release and re-encoding keep its invariants: every address is
// handed out at most once, and the block's JSON reads back as the same block.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>
#include <vector>

#include "calico/ipam/block.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto block = calico::ipam::Block::FromJson(text);
  if (!block) return 0;
  const std::string encoded = block->ToJson();
  auto again = calico::ipam::Block::FromJson(encoded);
  if (!again || again->ToJson() != encoded) __builtin_trap();
  calico::ipam::Attribute attr;
  attr.handle_id = "fuzz";
  auto ips = block->AutoAssign(8, attr, {});
  std::set<std::string> seen;
  for (const auto& ip : ips) {
    if (!seen.insert(ip.String()).second) __builtin_trap();  // handed out twice
    if (!block->cidr().Contains(ip)) __builtin_trap();
  }
  std::vector<calico::net::IPAddr> unallocated;
  // The fuzzer looks for crashes and hangs: an error for fuzzed input is an expected outcome.
  (void)block->Release(ips, unallocated);
  if (!calico::ipam::Block::FromJson(block->ToJson())) __builtin_trap();
  return 0;
}
