// calicoctl's resource loading (calicoctl/calicoctl/resourcemgr/resourcemgr.go
// CreateResourcesFromFile and its strict decoder, commands/file/iter.go).
#include "calico/ctl/resource_loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <span>
#include <sstream>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/ctl/document.h"
#include "calico/model/decode_limits.h"
#include "calico/model/json_codec.h"
#include "calico/model/validate.h"
#include "calico/model/validation/meta.h"

namespace calico::ctl {
namespace {

using model::Json;
using model::Resource;

// The object `obj` with its keys matched to `fields` as encoding/json matches struct fields
// (decode.go object(): exact name first, then case-insensitively). A key matching no field fails as
// the strict decoder does
// (`unknown field "x"`).
Result<Json> FoldKeys(const Json& obj, std::span<const std::string_view> fields) {
  Json out = Json::object();
  // Keys in sorted order, as Go sees them (sigs.k8s.io/yaml marshals the YAML as a map): of
  // several keys naming one field the last sorted wins, as each overwrites the field.
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(fields.begin(), fields.end(), it.key()) != fields.end()) {
      out[it.key()] = it.value();
      continue;
    }
    auto canonical = model::validation::FoldFieldName(it.key(), fields);
    if (!canonical) return InvalidArgument(fmt::format("unknown field \"{}\"", it.key()));
    out[std::string(*canonical)] = it.value();
  }
  return out;
}

}  // namespace

// One decoded document object -> resources (a <Kind>List gives its items).
Result<std::vector<Resource>> DecodeResourceObject(const Json& obj) {
  if (!obj.is_object()) {
    return InvalidArgument(fmt::format(
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of "
        "type map[string]interface {{}}",
        obj.is_array() ? "array" : (obj.is_string() ? "string" : "number")));
  }
  const std::string kind =
      obj.value("kind", Json("")).is_string() ? obj.value("kind", std::string()) : std::string();
  const std::string api = obj.value("apiVersion", Json("")).is_string()
                              ? obj.value("apiVersion", std::string())
                              : std::string();
  // projectcalico.org/v3 kinds, and the Kubernetes kinds calico-controllers converts
  // (networking.k8s.io/v1 NetworkPolicy, v1 Namespace, policy.networking.k8s.io/v1alpha1
  // AdminNetworkPolicy / BaselineAdminNetworkPolicy), each stored under its own key root.
  bool is_list = false;
  const model::KindInfo* info =
      kind.empty() ? nullptr : model::LookupKindByApi(api, kind, &is_list);
  if (info == nullptr) {
    return InvalidArgument(
        fmt::format("unknown resource type ({}) and/or version ({})", kind, api));
  }
  // kind and apiVersion are read from the document's map as written (unstructured); the typed
  // decoding then matches the other fields case-insensitively (encoding/json).
  static const std::vector<std::string_view> kTop = {"apiVersion", "kind", "metadata", "spec",
                                                     "status"};
  static const std::vector<std::string_view> kListTop = {"apiVersion", "kind", "metadata", "items"};
  Json folded;
  ASSIGN_OR_RETURN(folded, FoldKeys(obj, is_list ? kListTop : kTop));
  std::vector<Resource> out;
  if (is_list) {
    const Json items = folded.value("items", Json::array());
    if (!items.is_array()) return InvalidArgument("items must be a list");
    for (const auto& item : items) {
      Json copy = item;
      if (copy.is_object() && !copy.contains("apiVersion")) copy["apiVersion"] = api;
      if (copy.is_object() && !copy.contains("kind")) copy["kind"] = info->document_kind();
      ASSIGN_OR_RETURN(auto rs, DecodeResourceObject(copy));
      for (auto& r : rs)
        out.push_back(std::move(r));
    }
    return out;
  }
  if (folded.contains("metadata")) {
    Json& md = folded["metadata"];
    if (!md.is_object() && !md.is_null()) {
      return InvalidArgument(
          "cannot unmarshal metadata into Go struct field of type v1.ObjectMeta");
    }
    if (md.is_object()) {
      const auto& f = model::ObjectMetaFieldOrder();
      std::vector<std::string_view> names(f.begin(), f.end());
      ASSIGN_OR_RETURN(md, FoldKeys(md, names));
    }
  }
  if (!folded.contains("metadata") || folded["metadata"].is_null()) {
    folded["metadata"] = Json::object();
  }
  Resource r(std::move(folded));
  // The spec's own structs (rules, entity rules, ports, BGP fields, ...) as encoding/json
  // matches them; unknown fields stay for the strict check below.
  RETURN_IF_ERROR(model::CanonicalizeAndCheckStrictDecoding(r));
  // metav1.Duration fields hold what Go marshals ("2m5s" for "125s").
  model::FormatGoDurations(r);
  out.push_back(std::move(r));
  return out;
}

Result<std::vector<Resource>> ParseResourceStream(std::string_view text) {
  std::vector<Resource> out;
  ASSIGN_OR_RETURN(std::vector<Json> docs, ParseYamlStream(text));
  // Every document is decoded before the command acts on any (resourcemgr.go
  // CreateResourcesFromFile returns the first error and no resources). With several documents
  // the error also says which one: its position in the stream, kind and name.
  auto decode = [&](const Json& v, size_t index) -> Status {
    auto rs = DecodeResourceObject(v);
    if (!rs) {
      if (docs.size() == 1 && !v.is_array()) return Unexpected(rs.error());
      std::string what = fmt::format("document {}", index);
      if (v.is_object()) {
        const Json kind = v.value("kind", Json());
        const Json md = v.value("metadata", Json());
        const Json name = md.is_object() ? md.value("name", Json()) : Json();
        if (kind.is_string()) what += " (" + kind.get<std::string>();
        if (kind.is_string() && name.is_string()) what += " " + name.get<std::string>();
        if (kind.is_string()) what += ")";
      }
      return InvalidArgument(fmt::format("{}: {}", what, rs.error().message()));
    }
    for (auto& r : *rs)
      out.push_back(std::move(r));
    return OkStatus();
  };
  size_t index = 0;
  for (const Json& v : docs) {
    if (v.is_array()) {
      for (const auto& e : v)
        RETURN_IF_ERROR(decode(e, ++index));
      continue;
    }
    RETURN_IF_ERROR(decode(v, ++index));
  }
  return out;
}

// Reads at most the input limit (model::kMaxStreamBytes) and one byte more, so that an endless
// or huge input is refused without being held in memory.
Result<std::string> ReadLimited(std::istream& in, const std::string& path) {
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > model::kMaxStreamBytes) {
      return InvalidArgument(fmt::format("{}: input larger than the {} of {} bytes",
                                         path == "-" ? "stdin" : path, model::kMaxStreamBytesName,
                                         model::kMaxStreamBytes));
    }
  }
  return text;
}

Result<std::string> ReadResourceInput(const std::string& path, std::istream& in) {
  if (path == "-") return ReadLimited(in, path);
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::error_code ec;
    const bool exists = std::filesystem::exists(path, ec);
    return NotFound(fmt::format("open {}: {}", path,
                                exists ? "permission denied" : "no such file or directory"));
  }
  return ReadLimited(f, path);
}

// file.Iter: a file, stdin, or the .yaml/.yml/.json files of a directory (recursively with -R),
// in lexical order. As filepath.Walk there, symbolic links to directories are not followed (only
// the named directory itself may be one), so a link loop cannot apply a file twice.
std::vector<std::string> ExpandFilename(const std::string& filename, bool recursive) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (filename == "-" || !fs::is_directory(filename, ec)) return {filename};
  std::vector<std::string> files;
  std::function<void(const fs::path&)> walk = [&](const fs::path& dir) {
    std::vector<fs::directory_entry> entries;
    for (const auto& e : fs::directory_iterator(dir, ec))
      entries.push_back(e);
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return a.path().filename() < b.path().filename();
    });
    for (const auto& e : entries) {
      if (e.is_symlink(ec) && e.is_directory(ec)) continue;
      if (e.is_directory(ec)) {
        if (recursive) walk(e.path());
        continue;
      }
      const std::string ext = AsciiLower(e.path().extension().string());
      if (ext == ".yaml" || ext == ".yml" || ext == ".json") files.push_back(e.path().string());
    }
  };
  walk(filename);
  return files;
}

LoadedResources LoadResources(const std::string& filename, bool recursive, bool skip_empty,
                              std::istream& in) {
  LoadedResources out;
  auto fail = [&out](std::string message, bool file_invalid) {
    out.resources.clear();
    out.error = std::move(message);
    out.file_invalid = file_invalid;
    return std::move(out);
  };
  const bool error_on_empty = !skip_empty;
  for (const auto& file : ExpandFilename(filename, recursive)) {
    auto text = ReadResourceInput(file, in);
    if (!text) return fail(text.error().message(), true);
    auto parsed = ParseResourceStream(*text);
    if (!parsed) return fail(parsed.error().message(), true);
    if (parsed->empty() && error_on_empty) {
      return fail(fmt::format("no resources specified in file {}", file), false);
    }
    for (auto& r : *parsed)
      out.resources.push_back(std::move(r));
  }
  if (out.resources.empty() && error_on_empty) {
    return fail(fmt::format("no resources specified in directory {}", filename), false);
  }
  return out;
}

}  // namespace calico::ctl
