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
#include "calico/model/v3/stored_reader.h"
#include "calico/model/validation/common.h"
#include "calico/model/validation/meta.h"
#include "calico/net/ip.h"

namespace calico::model::v3 {
namespace {

using stored::Reader;
using stored::StringList;
using stored::StringMap;
using validation::IsDnsLabel;
using validation::IsDnsSubdomain;
using validation::IsQualifiedName;
using validation::IsValidInterfaceName;
using validation::IsValidPortName;

// The annotation datastore::DecodeStoredResource takes the name from (and removes).
constexpr std::string_view kMetadataAnnotation = "projectcalico.org/metadata";

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
      return stored::Labels(r, meta.labels);
    }
    if (key == "annotations") {
      return StringMap(r, meta.annotations, [&](std::string_view k, std::string_view v) {
        annotation_bytes += k.size() + v.size();
        return k != kMetadataAnnotation && IsQualifiedName(AsciiLower(k));
      });
    }
    return stored::CommonMetadataField(r, key, meta);
  });
  return ok && named && annotation_bytes <= validation::kTotalAnnotationSizeLimitB;
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
  WorkloadEndpoint wep;
  // interfaceName is required (and non-empty, which IsValidInterfaceName checks).
  if (!stored::Resource(
          value, "WorkloadEndpoint", [&](Reader& r) { return Metadata(r, wep.metadata); },
          [&](Reader& r) { return Spec(r, wep.spec); }) ||
      wep.spec.interface_name.empty()) {
    return std::nullopt;
  }
  wep.metadata.resource_version = std::to_string(mod_revision);
  return wep;
}

}  // namespace calico::model::v3
