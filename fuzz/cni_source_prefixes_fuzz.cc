// Fuzzes the pod annotation cni.projectcalico.org/allowedSourcePrefixes as the CNI plugin parses
// it on ADD (cni::AllowedSourcePrefixes; libcalico-go k8s/conversion
// HandleSourceIPSpoofingAnnotation): any value is refused with an error naming the annotation, or
// gives one normalised CIDR per list entry, and parsing that result again gives it unchanged.
// cni_stdin_fuzz stops at LoadNetConf and never reaches this parser.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "calico/cni/calico_plugin.h"
#include "calico/model/resource.h"
#include "calico/net/ip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using calico::cni::AllowedSourcePrefixes;
  using calico::cni::kAllowedSourcePrefixesAnnotation;
  const std::string key(kAllowedSourcePrefixesAnnotation);
  std::string value(reinterpret_cast<const char*>(data), size);
  auto parsed = AllowedSourcePrefixes({{key, value}, {"other", "x"}});
  if (!parsed) {
    // A refusal names the annotation.
    if (parsed.error().message().rfind(key + ": ", 0) != 0) __builtin_trap();
    return 0;
  }
  if (value.empty()) {
    if (!parsed->empty()) __builtin_trap();
    return 0;
  }
  const calico::model::Json list = calico::model::Json::parse(value, nullptr, false);
  if (!list.is_array() || list.size() != parsed->size()) __builtin_trap();
  calico::model::Json again_list = calico::model::Json::array();
  for (const std::string& s : *parsed) {
    auto cidr = calico::net::CIDR::Parse(s);
    if (!cidr || cidr->Masked().String() != s) __builtin_trap();  // not normalised
    again_list.push_back(s);
  }
  auto again = AllowedSourcePrefixes({{key, again_list.dump()}});
  if (!again || *again != *parsed) __builtin_trap();
  return 0;
}
