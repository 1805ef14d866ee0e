#include "calico/model/field_errors.h"

namespace calico::model {

FieldPath FieldPath::Child(std::string_view name) const {
  FieldPath p;
  p.path_ = path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  return p;
}

FieldPath FieldPath::Index(size_t i) const {
  FieldPath p;
  p.path_ = path_ + "[" + std::to_string(i) + "]";
  return p;
}

FieldPath FieldPath::Key(std::string_view key) const {
  FieldPath p;
  p.path_ = path_ + "[" + std::string(key) + "]";
  return p;
}

void FieldErrors::Add(const FieldPath& field, std::string_view value, std::string_view reason) {
  Add(field.str(), value, reason);
}

void FieldErrors::Add(std::string_view field, std::string_view value, std::string_view reason) {
  errors_.push_back(FieldError{std::string(field), std::string(value), std::string(reason)});
}

Error FieldErrors::ToError() const {
  std::string msg;
  if (errors_.size() == 1) {
    const FieldError& e = errors_.front();
    msg = "error with field " + e.field + " = '" + e.value + "' (" + e.reason + ")";
  } else {
    msg = "error with the following fields:\n";
    for (const FieldError& e : errors_) {
      msg += "-  " + e.field + " = '" + e.value + "' (" + e.reason + ")\n";
    }
  }
  return {ErrorCode::kInvalidArgument, std::move(msg)};
}

Status FieldErrors::ToStatus() const {
  if (errors_.empty()) return OkStatus();
  return Unexpected(ToError());
}

}  // namespace calico::model
