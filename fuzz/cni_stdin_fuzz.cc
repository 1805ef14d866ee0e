// Fuzzes what a CNI plugin reads: the environment's command and the network configuration on
// stdin (LoadNetConf: decoder limits, the skel's version check, typed fields), then what the
// plugin does with a parsed configuration that involves no datastore: the datastore settings,
// prevResult-style result parsing and rendering in every version. No crash, hang or sanitizer
// report; a refused input must give a CNI error object on stdout.
#include <cstddef>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include "calico/cni/cni.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using calico::cni::Json;
  if (size == 0) return 0;
  static const char* kCommands[] = {"ADD", "DEL", "CHECK", "VERSION"};
  std::map<std::string, std::string> env = {{"CNI_COMMAND", kCommands[data[0] % 4]},
                                            {"CNI_CONTAINERID", "fuzz"},
                                            {"CNI_NETNS", "/run/netns/fuzz"},
                                            {"CNI_IFNAME", "eth0"},
                                            {"CNI_PATH", "/opt/cni/bin"}};
  std::string_view stdin_text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::ostringstream out;
  std::ostringstream err;
  calico::cni::PluginCall call("calico", out, err);
  const bool go_on = call.Start(env, stdin_text);
  if (!go_on && call.exit_code() != 0) {
    // The CNI error object must be valid JSON with a code.
    Json e = Json::parse(out.str(), nullptr, false);
    if (!e.is_object() || !e.contains("code")) __builtin_trap();
  }
  if (!go_on) return 0;
  const auto& conf = call.conf();
  // The fuzzer looks for crashes and hangs: an error for fuzzed input is an expected outcome.
  (void)calico::cni::ClientConfigFor(conf);
  // The configuration's prevResult (or the whole document) read as another plugin's result.
  const Json& prev = conf.raw.contains("prevResult") ? conf.raw["prevResult"] : conf.raw;
  auto parsed = calico::cni::ParseResult(prev);
  if (parsed) {
    for (const char* v : calico::cni::kSupportedVersions) {
      auto rendered = calico::cni::RenderResult(*parsed, v);
      if (rendered) (void)rendered->dump();
    }
  }
  return 0;
}
