// The schema record (schema.h): a calico-cpp key beside Calico's layout.
#include "calico/datastore/schema.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "calico/model/json_codec.h"
#include "calico/model/resource.h"

namespace calico::datastore {
namespace {

using model::Json;

// Concurrent writers (calico-node on every host starting at once) retry a lost compare-and-swap.
constexpr int kWriteAttempts = 5;

std::string Encode(const SchemaRecord& r) {
  return Json{
      {"schema", r.schema}, {"minReaderSchema", r.min_reader_schema}, {"writtenBy", r.written_by}}
      .dump();
}

Result<SchemaRecord> Decode(const std::string& value) {
  auto bad = [](std::string_view why) {
    return InvalidArgument(
        fmt::format("{} is not a calico-cpp schema record: {}", kSchemaKey, why));
  };
  auto parsed = model::ParseStoredJson(kSchemaKey, value);  // the decoder limits
  if (!parsed) return bad(parsed.error().message());
  const Json& doc = *parsed;
  if (!doc.is_object()) return bad("not a JSON object");
  SchemaRecord r;
  for (auto [field, out] :
       {std::pair{"schema", &r.schema}, std::pair{"minReaderSchema", &r.min_reader_schema}}) {
    auto it = doc.find(field);
    if (it == doc.end() || !it->is_number_integer() || it->get<int64_t>() < 1 ||
        it->get<int64_t>() > 1000000) {
      return bad(fmt::format("\"{}\" must be a positive integer", field));
    }
    *out = it->get<int>();
  }
  if (r.min_reader_schema > r.schema) return bad("minReaderSchema is above schema");
  if (auto it = doc.find("writtenBy"); it != doc.end() && it->is_string()) {
    r.written_by = it->get<std::string>();
  }
  return r;
}

}  // namespace

const char* ThisBuild() {
  return "calico-cpp " CALICO_PROJECT_VERSION;
}

Result<std::optional<SchemaRecord>> ReadSchema(Backend& backend) {
  auto kv = backend.Get(kSchemaKey);
  if (!kv) {
    if (kv.error().code() == ErrorCode::kNotFound) return std::optional<SchemaRecord>();
    return Unexpected(kv.error().Wrap("read the schema record"));
  }
  ASSIGN_OR_RETURN(SchemaRecord r, Decode(kv->value));
  return std::optional<SchemaRecord>(std::move(r));
}

Status CheckSchema(Backend& backend, std::string_view program, int reader_schema) {
  ASSIGN_OR_RETURN(auto record, ReadSchema(backend));
  if (!record || record->min_reader_schema <= reader_schema) return OkStatus();
  return MakeError(
      ErrorCode::kUnsupported,
      fmt::format("refusing to use the datastore ({}): it holds schema {} data written by {}, "
                  "which needs binaries that read schema {} or later; {} reads schema {}. Install "
                  "the calico-cpp version that wrote it (or a later one): a downgrade cannot read "
                  "this datastore",
                  backend.Describe(), record->schema,
                  record->written_by.empty() ? "a newer calico-cpp" : record->written_by,
                  record->min_reader_schema, program, reader_schema));
}

Status EnsureSchema(Backend& backend, std::string_view written_by, int schema,
                    int min_reader_schema) {
  const SchemaRecord ours{.schema = schema,
                          .min_reader_schema = min_reader_schema,
                          .written_by = std::string(written_by)};
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    RETURN_IF_ERROR(CheckSchema(backend, written_by, schema));
    auto kv = backend.Get(kSchemaKey);
    if (!kv && kv.error().code() != ErrorCode::kNotFound) {
      return Unexpected(kv.error().Wrap("read the schema record"));
    }
    if (!kv) {
      auto created = backend.Create(kSchemaKey, Encode(ours));
      if (created || created.error().code() != ErrorCode::kAlreadyExists) {
        return created ? OkStatus() : Unexpected(created.error().Wrap("write the schema record"));
      }
      continue;  // Another writer was first: check what it wrote.
    }
    ASSIGN_OR_RETURN(SchemaRecord current, Decode(kv->value));
    if (current.schema >= schema) return OkStatus();  // Same or newer (and readable by us).
    SchemaRecord raised = ours;
    raised.min_reader_schema = std::max(current.min_reader_schema, min_reader_schema);
    auto updated = backend.Update(kSchemaKey, Encode(raised), kv->mod_revision);
    if (updated) return OkStatus();
    if (updated.error().code() != ErrorCode::kConflict &&
        updated.error().code() != ErrorCode::kNotFound) {
      return Unexpected(updated.error().Wrap("write the schema record"));
    }
  }
  return Unavailable(fmt::format("the schema record {} kept changing under {} attempts to raise it",
                                 kSchemaKey, kWriteAttempts));
}

}  // namespace calico::datastore
