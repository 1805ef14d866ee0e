// FieldErrors: collects validation failures with their field path, value and reason, and renders
// them as Calico's validator does (reference Part 1.15):
//   one:     error with field spec.cidr = '10.0.0.1/8' (IP pool CIDR is not strictly masked)
//   several: error with the following fields:
//            -  spec.cidr = '10.0.0.1/8' (IP pool CIDR is not strictly masked)
//            -  spec.blockSize = '40' (block size must be between 20 and 32)
// Paths are JSON paths as the user wrote them: metadata.name, spec.ingress[0].destination.ports[1].
//
// Thread-safety: values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"

namespace calico::model {

struct FieldError {
  std::string field;
  std::string value;
  std::string reason;
};

// Builds a JSON-style path: FieldPath("spec").Child("ingress").Index(0) -> "spec.ingress[0]".
class FieldPath {
 public:
  FieldPath() = default;
  explicit FieldPath(std::string_view root) : path_(root) {}
  [[nodiscard]] FieldPath Child(std::string_view name) const;
  [[nodiscard]] FieldPath Index(size_t i) const;
  [[nodiscard]] FieldPath Key(std::string_view key) const;  // map entry: metadata.labels[foo]
  const std::string& str() const { return path_; }

 private:
  std::string path_;
};

class FieldErrors {
 public:
  void Add(const FieldPath& field, std::string_view value, std::string_view reason);
  void Add(std::string_view field, std::string_view value, std::string_view reason);
  bool empty() const { return errors_.empty(); }
  const std::vector<FieldError>& errors() const { return errors_; }
  // kInvalidArgument with the rendered text. Precondition: !empty().
  Error ToError() const;
  // OkStatus() when empty, otherwise ToError().
  [[nodiscard]] Status ToStatus() const;

 private:
  std::vector<FieldError> errors_;
};

}  // namespace calico::model
