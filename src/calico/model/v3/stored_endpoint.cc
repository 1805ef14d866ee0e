// The WorkloadEndpoint fast path, see stored_endpoint.h. Every check below is the one
// model::Validate makes (validate.cc ValidateMetadata, validation/policy_family.cc
// ValidateWorkloadEndpoint and ValidateEndpointPorts, validation/meta.cc ValidateLabels and
// ValidateAnnotations); where this reader is narrower it gives up (nullopt) and the reference path
// decides.
#include "calico/model/v3/stored_endpoint.h"

#include <string>
#include <utility>

#include "calico/base/strings.h"
#include "calico/model/decode_limits.h"
#include "calico/model/validation/common.h"
#include "calico/model/validation/meta.h"
#include "calico/net/ip.h"

namespace calico::model::v3 {
namespace {

using validation::IsDnsLabel;
using validation::IsDnsSubdomain;
using validation::IsQualifiedName;
using validation::IsValidInterfaceName;
using validation::IsValidLabelValue;
using validation::IsValidPortName;

// The annotation datastore::DecodeStoredResource takes the name from (and removes).
constexpr std::string_view kMetadataAnnotation = "projectcalico.org/metadata";

// A JSON reader for the subset the fast path accepts. Every method returns false for what it does
// not take, which ends the fast path; what it takes it reads as nlohmann::json (and so
// DecodeStoredResource) does.
class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  bool AtEnd() {
    SkipSpace();
    return i_ == s_.size();
  }
  bool Consume(char c) {
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  char Peek() {
    SkipSpace();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  // A string of printable ASCII without escapes (JSON's other strings go to the reference path).
  bool String(std::string_view& out) {
    if (!Consume('"')) return false;
    const size_t start = i_;
    for (; i_ < s_.size(); ++i_) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        out = s_.substr(start, i_ - start);
        ++i_;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
    }
    return false;
  }
  bool String(std::string& out) {
    std::string_view v;
    if (!String(v)) return false;
    out.assign(v);
    return true;
  }
  // A non-negative integer without sign, fraction or exponent, of at most 9 digits.
  bool Integer(int64_t& out) {
    SkipSpace();
    const size_t start = i_;
    int64_t n = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      n = n * 10 + (s_[i_] - '0');
      ++i_;
    }
    const size_t digits = i_ - start;
    if (digits == 0 || digits > 9 || (digits > 1 && s_[start] == '0')) return false;
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) return false;
    out = n;
    return true;
  }
  // An object: `field(key)` reads each member's value. No repeated keys (nlohmann keeps the last;
  // the reference path decides those).
  template <typename F>
  bool Object(F&& field) {
    if (!Consume('{')) return false;
    if (Consume('}')) return true;
    std::vector<std::string_view> seen;
    do {
      std::string_view key;
      if (!String(key) || !Consume(':')) return false;
      for (std::string_view k : seen) {
        if (k == key) return false;
      }
      seen.push_back(key);
      if (!field(key)) return false;
    } while (Consume(','));
    return Consume('}');
  }
  template <typename F>
  bool Array(F&& item) {
    if (!Consume('[')) return false;
    if (Consume(']')) return true;
    do {
      if (!item()) return false;
    } while (Consume(','));
    return Consume(']');
  }

 private:
  void SkipSpace() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// validate.cc MatchesWorkloadEndpointName: ^[a-zA-Z0-9]([-a-zA-Z0-9._]*[a-zA-Z0-9])?$, <= 253.
bool IsWorkloadEndpointName(std::string_view s) {
  if (s.empty() || s.size() > 253 || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

// ValidateWorkloadEndpoint's containerID rule.
bool IsContainerId(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

// A map of strings (labels, annotations), each key and value passing `ok`.
template <typename F>
bool StringMap(Reader& r, std::map<std::string, std::string>& out, F&& ok) {
  return r.Object([&](std::string_view key) {
    std::string_view value;
    if (!r.String(value) || !ok(key, value)) return false;
    out.emplace(std::string(key), std::string(value));
    return true;
  });
}

bool StringList(Reader& r, std::vector<std::string>& out, bool (*ok)(std::string_view)) {
  return r.Array([&] {
    std::string_view v;
    if (!r.String(v) || !ok(v)) return false;
    out.emplace_back(v);
    return true;
  });
}

bool Metadata(Reader& r, ObjectMeta& meta) {
  bool named = false;
  size_t annotation_bytes = 0;
  const bool ok = r.Object([&](std::string_view key) {
    if (key == "name") {
      named = true;
      return r.String(meta.name) && IsWorkloadEndpointName(meta.name);
    }
    if (key == "namespace") {
      return r.String(meta.namespace_) && (meta.namespace_.empty() || IsDnsLabel(meta.namespace_));
    }
    if (key == "labels") {
      return StringMap(r, meta.labels, [](std::string_view k, std::string_view v) {
        return IsQualifiedName(k) && IsValidLabelValue(v);
      });
    }
    if (key == "annotations") {
      return StringMap(r, meta.annotations, [&](std::string_view k, std::string_view v) {
        annotation_bytes += k.size() + v.size();
        return k != kMetadataAnnotation && IsQualifiedName(AsciiLower(k));
      });
    }
    if (key == "resourceVersion") {
      std::string_view ignored;  // DecodeStoredResource sets it from the revision.
      return r.String(ignored);
    }
    if (key == "uid") return r.String(meta.uid);
    if (key == "creationTimestamp") return r.String(meta.creation_timestamp);
    return false;
  });
  return ok && named && annotation_bytes <= 256 * 1024;
}

bool Port(Reader& r, WorkloadEndpointPort& port) {
  bool has_protocol = false;
  bool has_port = false;
  const bool ok = r.Object([&](std::string_view key) {
    if (key == "name") return r.String(port.name) && IsValidPortName(port.name);
    if (key == "protocol") {
      std::string_view p;
      if (!r.String(p) || (p != "TCP" && p != "UDP" && p != "SCTP")) return false;
      port.protocol = NumOrString::Str(std::string(p));
      has_protocol = true;
      return true;
    }
    if (key == "port") {
      has_port = true;
      return r.Integer(port.port) && port.port >= 1 && port.port <= 65535;
    }
    return false;
  });
  return ok && !port.name.empty() && has_protocol && has_port;
}

bool Spec(Reader& r, WorkloadEndpointSpec& spec) {
  return r.Object([&](std::string_view key) {
    if (key == "orchestrator") return r.String(spec.orchestrator);
    if (key == "workload") return r.String(spec.workload);
    if (key == "pod") return r.String(spec.pod);
    if (key == "endpoint") return r.String(spec.endpoint);
    if (key == "serviceAccountName") return r.String(spec.service_account_name);
    if (key == "node") return r.String(spec.node) && IsDnsSubdomain(spec.node);
    if (key == "containerID")
      return r.String(spec.container_id) && IsContainerId(spec.container_id);
    if (key == "interfaceName") {
      return r.String(spec.interface_name) && IsValidInterfaceName(spec.interface_name);
    }
    if (key == "mac") {
      return r.String(spec.mac) && (spec.mac.empty() || net::MAC::Parse(spec.mac).has_value());
    }
    if (key == "profiles") {
      return StringList(r, spec.profiles, [](std::string_view p) { return IsDnsSubdomain(p); });
    }
    if (key == "ipNetworks") {
      // A strictly masked network of one address (CheckNet kNet, then the host-route rule).
      return StringList(r, spec.ip_networks, [](std::string_view n) {
        auto cidr = net::CIDR::ParseNet(n);
        return cidr && cidr->IsStrictlyMasked() && cidr->prefix_len() == cidr->addr().bit_len();
      });
    }
    if (key == "ports") {
      return r.Array([&] {
        WorkloadEndpointPort port;
        if (!Port(r, port)) return false;
        spec.ports.push_back(std::move(port));
        return true;
      });
    }
    return false;
  });
}

}  // namespace

std::optional<WorkloadEndpoint> ReadValidStoredWorkloadEndpoint(std::string_view value,
                                                                int64_t mod_revision) {
  if (value.size() > kMaxStoredValueBytes) return std::nullopt;
  Reader r(value);
  WorkloadEndpoint wep;
  bool api_version = false, kind = false, metadata = false, spec = false;
  const bool ok = r.Object([&](std::string_view key) {
    std::string_view text;
    if (key == "apiVersion") {
      api_version = r.String(text) && text == "projectcalico.org/v3";
      return api_version;
    }
    if (key == "kind") {
      kind = r.String(text) && text == "WorkloadEndpoint";
      return kind;
    }
    if (key == "metadata") return metadata = Metadata(r, wep.metadata);
    if (key == "spec") return spec = Spec(r, wep.spec);
    return false;
  });
  // interfaceName is required (and non-empty, which IsValidInterfaceName checks).
  if (!ok || !r.AtEnd() || !api_version || !kind || !metadata || !spec ||
      wep.spec.interface_name.empty()) {
    return std::nullopt;
  }
  wep.metadata.resource_version = std::to_string(mod_revision);
  return wep;
}

}  // namespace calico::model::v3
