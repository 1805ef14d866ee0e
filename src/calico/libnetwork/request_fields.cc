#include "calico/libnetwork/request_fields.h"

#include <cctype>

#include <fmt/format.h>

namespace calico::libnetwork {
namespace {

// Docker's IDs are hex; anything that could escape a datastore key or interface name is refused.
Status CheckId(const std::string& id, const char* what) {
  for (char c : id) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_' && c != '.') {
      return InvalidArgument(fmt::format("invalid {} \"{}\"", what, id));
    }
  }
  return OkStatus();
}

}  // namespace

Result<std::string> Field(const Json& req, const char* name) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null())
    return InvalidArgument(fmt::format("missing field \"{}\"", name));
  if (!it->is_string()) return InvalidArgument(fmt::format("field \"{}\" must be a string", name));
  std::string value = it->get<std::string>();
  if (value.empty()) return InvalidArgument(fmt::format("field \"{}\" is empty", name));
  return value;
}

Result<std::string> OptField(const Json& req, const char* name) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidArgument(fmt::format("field \"{}\" must be a string", name));
  return it->get<std::string>();
}

Result<Json> OptObject(const Json& req, const char* name) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null()) return Json::object();
  if (!it->is_object()) return InvalidArgument(fmt::format("field \"{}\" must be an object", name));
  return *it;
}

Result<Json> OptArray(const Json& req, const char* name) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null()) return Json::array();
  if (!it->is_array()) return InvalidArgument(fmt::format("field \"{}\" must be a list", name));
  return *it;
}

Result<std::string> IdField(const Json& req, const char* name) {
  ASSIGN_OR_RETURN(std::string id, Field(req, name));
  RETURN_IF_ERROR(CheckId(id, name));
  return id;
}

}  // namespace calico::libnetwork
