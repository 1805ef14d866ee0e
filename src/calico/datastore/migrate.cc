// Export/import of a whole datastore (calicoctl/calicoctl/commands/datastore/migrate).
#include "calico/datastore/migrate.h"

#include <yaml-cpp/yaml.h>

#include "calico/base/strings.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/schema.h"
#include "calico/model/validate.h"

namespace calico::datastore {
namespace {

using model::Json;

// JSON -> YAML (flow style for leaves is fine: yaml-cpp emits block style maps and sequences).
void EmitJson(YAML::Emitter& out, const Json& v) {
  if (v.is_object()) {
    out << YAML::BeginMap;
    for (auto it = v.begin(); it != v.end(); ++it) {
      out << YAML::Key << it.key() << YAML::Value;
      EmitJson(out, *it);
    }
    out << YAML::EndMap;
  } else if (v.is_array()) {
    out << YAML::BeginSeq;
    for (const Json& e : v)
      EmitJson(out, e);
    out << YAML::EndSeq;
  } else if (v.is_string()) {
    out << YAML::DoubleQuoted << v.get<std::string>();
  } else if (v.is_null()) {
    out << YAML::Null;
  } else {
    out << v.dump();
  }
}

Json ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      Json obj = Json::object();
      for (auto it = n.begin(); it != n.end(); ++it)
        obj[it->first.as<std::string>()] = ToJson(it->second);
      return obj;
    }
    case YAML::NodeType::Sequence: {
      Json arr = Json::array();
      for (const auto& e : n)
        arr.push_back(ToJson(e));
      return arr;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // Quoted in the source: a string.
      if (s == "true") return true;
      if (s == "false") return false;
      Json num = Json::parse(s, nullptr, false);
      if (!num.is_discarded() && num.is_number()) return num;
      return s;
    }
    default:
      return nullptr;
  }
}

}  // namespace

Result<std::string> ExportDatastore(Backend& source) {
  ASSIGN_OR_RETURN(auto resources, source.List(kResourcePrefix));
  ASSIGN_OR_RETURN(auto ipam, source.List(kIpamPrefix));
  std::string out;
  for (const KVPair& kv : resources.kvs) {
    ASSIGN_OR_RETURN(model::Resource r, DecodeStoredResource(kv.key, kv.value, kv.mod_revision));
    r.set_resource_version("");
    YAML::Emitter e;
    EmitJson(e, r.doc());
    out += "---\n";
    out += e.c_str();
    out += "\n";
  }
  Json items = Json::array();
  for (const KVPair& kv : ipam.kvs)
    items.push_back(Json{{"key", kv.key}, {"value", kv.value}});
  YAML::Emitter e;
  EmitJson(e, Json{{"apiVersion", std::string(model::kApiVersion)},
                   {"kind", "IPAMData"},
                   {"items", items}});
  out += "---\n";
  out += e.c_str();
  out += "\n";
  return out;
}

Result<ImportSummary> ImportDatastore(std::string_view text, Backend& target) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("import: invalid YAML: ") + e.what());
  }
  std::vector<std::pair<std::string, std::string>> writes;
  ImportSummary summary;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (!docs[i] || docs[i].IsNull()) continue;
    Json doc = ToJson(docs[i]);
    std::string where = "import: document " + std::to_string(i + 1);
    if (doc.value("kind", "") == "IPAMData") {
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
    writes.emplace_back(ResourceKey(*kind, r.namespace_(), r.name()), EncodeStoredResource(r));
    ++summary.resources;
  }
  // The target holds this build's layout from now on (and refuses if it holds a newer one).
  RETURN_IF_ERROR(EnsureSchema(target, ThisBuild()));
  for (const auto& [key, value] : writes) {
    ASSIGN_OR_RETURN(auto written, target.Put(key, value));
    (void)written;
  }
  return summary;
}

}  // namespace calico::datastore
