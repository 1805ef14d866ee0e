// Fuzzes the resource loader: YAML/JSON documents -> defaults + validation -> YAML/JSON emitters.
// Any input must give a result or a clean error: no crash, hang or sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "calico/ctl/document.h"
#include "calico/model/resource.h"
#include "calico/model/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const std::string& doc : calico::ctl::SplitYamlDocuments(text)) {
    auto parsed = calico::ctl::ParseYaml(doc);
    if (!parsed) continue;
    std::vector<calico::model::Json> items;
    if (parsed->is_array()) {
      for (const auto& item : *parsed)
        items.push_back(item);
    } else {
      items.push_back(*parsed);
    }
    for (auto& item : items) {
      calico::model::Resource r(item);
      (void)calico::model::ApplyDefaultsAndValidate(r);
      (void)calico::ctl::EmitGoYaml(r.doc());
      (void)calico::ctl::EmitGoJson(r.doc());
    }
  }
  return 0;
}
