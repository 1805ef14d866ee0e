// Export/import of a whole datastore (calicoctl/calicoctl/commands/datastore/migrate).
#include "calico/datastore/migrate.h"

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/schema.h"
#include "calico/model/validate.h"
#include "calico/model/yaml_codec.h"

namespace calico::datastore {

using model::Json;

Result<std::string> ExportDatastore(Backend& source) {
  ASSIGN_OR_RETURN(auto resources, source.List(kResourcePrefix));
  ASSIGN_OR_RETURN(auto ipam, source.List(kIpamPrefix));
  std::string out;
  for (const KVPair& kv : resources.kvs) {
    auto decoded = DecodeStoredResource(kv.key, kv.value, kv.mod_revision);
    if (!decoded) {
      // As every reader: an unreadable value is skipped and reported, never fatal.
      CALICO_LOG(warn, "migrate", "export: skipping unreadable resource {}: {}", kv.key,
                 decoded.error().message());
      continue;
    }
    model::Resource& r = *decoded;
    r.set_resource_version("");
    out += "---\n";
    out += model::EmitGoYaml(r.doc());
  }
  Json items = Json::array();
  for (const KVPair& kv : ipam.kvs)
    items.push_back(Json{{"key", kv.key}, {"value", kv.value}});
  out += "---\n";
  out += model::EmitGoYaml(Json{
      {"apiVersion", std::string(model::kApiVersion)}, {"kind", "IPAMData"}, {"items", items}});
  return out;
}

Result<ImportSummary> ImportDatastore(std::string_view text, Backend& target) {
  // The calicoctl codec, with the import limits (a whole datastore in one stream).
  auto parsed = model::ParseYamlStream(text, model::kImportDecodeLimits);
  if (!parsed) return InvalidArgument("import: invalid YAML: " + parsed.error().message());
  const std::vector<Json>& docs = *parsed;
  std::vector<std::pair<std::string, std::string>> writes;
  ImportSummary summary;
  for (size_t i = 0; i < docs.size(); ++i) {
    const Json& doc = docs[i];
    if (!doc.is_object()) {
      return InvalidArgument("import: document " + std::to_string(i + 1) + " is not a mapping");
    }
    std::string where = "import: document " + std::to_string(i + 1);
    if (model::Resource(doc).kind() == "IPAMData") {
      if (!doc.contains("items") || !doc["items"].is_array()) {
        return InvalidArgument(where + ": IPAMData needs a list of items");
      }
      for (const Json& item : doc["items"]) {
        if (!item.is_object() || !item.contains("key") || !item.contains("value") ||
            !item["key"].is_string() || !item["value"].is_string() ||
            !StartsWith(item["key"].get<std::string>(), kIpamPrefix)) {
          return InvalidArgument(where + ": IPAMData items need key (under " +
                                 std::string(kIpamPrefix) + ") and value strings");
        }
        writes.emplace_back(item["key"].get<std::string>(), item["value"].get<std::string>());
        ++summary.ipam_keys;
      }
      continue;
    }
    model::Resource r(doc);
    const model::KindInfo* kind = model::LookupKind(r.kind());
    if (kind == nullptr) return InvalidArgument(where + ": unknown kind " + r.kind());
    if (Status st = model::ApplyDefaultsAndValidate(r); !st) {
      return InvalidArgument(where + " (" + r.kind() + " " + r.name() +
                             "): " + st.error().message());
    }
    writes.emplace_back(ResourceKey{.kind = kind, .ns = r.namespace_(), .name = r.name()}.Format(),
                        EncodeStoredResource(r));
    ++summary.resources;
  }
  // The target holds this build's layout from now on (and refuses if it holds a newer one).
  RETURN_IF_ERROR(EnsureSchema(target, ThisBuild()));
  for (const auto& [key, value] : writes) {
    RETURN_IF_ERROR(target.Put(key, value));
  }
  return summary;
}

}  // namespace calico::datastore
