// The policy model in a JSON form, for tests: the golden cases in policy/testdata/*.json are
// models written this way. Test-only (target calico::policy_testing); the product builds its
// Model from the datastore (calc::CalcGraph).
//
// Thread-safety: a pure function.
#pragma once

#include "calico/base/result.h"
#include "calico/policy/policy_model.h"

namespace calico::policy {

// Builds a Model from its JSON form (the golden tests' input files; rules are parsed here, a
// rule that does not parse is kept as ParsedRules' error for the renderer to report):
//   {"endpoints": [{"name", "interfaceName", "addresses": [cidr], "labels": {}, "profiles": [],
//                   "ingressTiers"/"egressTiers": [{"name", "policies": [], "defaultAction":
//                   "Deny"|"Pass"}]}],
//    "policies": [{"id", "tier", "ingress": [Rule], "egress": [Rule]}],
//    "profiles": [{"id", "ingress", "egress"}],
//    "hostEndpoints": [{"name", "interfaceName", "expectedIPs": [ip], "labels": {}, "profiles": [],
//                       "ingressTiers", "egressTiers", "forwardIngressTiers",
//                       "forwardEgressTiers", "preDNATIngressTiers", "untrackedIngressTiers",
//                       "untrackedEgressTiers"}],
//    "ipSets": [{"id" | "selector", "members": [cidr]},
//               {"id" | "selector", "namedPort": "http", "protocol": "tcp"|"udp"|"sctp",
//                "members": ["10.0.0.1,tcp:8080", "fd00::1,tcp:8080"]}]}
//   (a named-port set without id and selector is the all() one; protocol defaults to tcp)
// Errors name the offending field, e.g. "endpoints[0].interfaceName: required".
[[nodiscard]] Result<Model> ModelFromJson(const Json& doc);

}  // namespace calico::policy
