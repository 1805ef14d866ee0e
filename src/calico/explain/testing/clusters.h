// Test fixtures shared by the tests of policy explain and of staged policies
// (explain/explain_test.cc, explain/pending_test.cc, flowlog/staged_test.cc,
// ctl/policy_explain_command_test.cc): resources from YAML validated as the datastore would, and
// the small clusters those tests evaluate. Test-only (target calico::explain_testing).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "calico/model/resource.h"
#include "calico/model/validate.h"
#include "calico/model/yaml_codec.h"

namespace calico::explain::testing {

// The documents of `yaml`, each defaulted and validated; a stream that does not parse or a
// document that does not validate fails the calling test.
inline std::vector<model::Resource> ParseValidated(std::string_view yaml) {
  std::vector<model::Resource> out;
  auto docs = model::ParseYamlStream(yaml);
  EXPECT_TRUE(docs.has_value()) << docs.error().message();
  if (!docs) return out;
  for (model::Json& d : *docs) {
    model::Resource r(std::move(d));
    Status st = model::ApplyDefaultsAndValidate(r);
    EXPECT_TRUE(st.has_value()) << r.name() << ": " << st.error().message();
    out.push_back(std::move(r));
  }
  return out;
}

// Three workloads as the CNI plugin makes them: a1, a2 on net1 (node1), b1 on net2 (node2), each
// network's profile allowing its own members in and everything out; a1 has a named port.
inline constexpr std::string_view kNetworksCluster = R"(
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: net1}
spec:
  ingress: [{action: Allow, source: {selector: has(net1)}}]
  egress: [{action: Allow}]
  labelsToApply: {net1: ""}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: net2}
spec:
  ingress: [{action: Allow, source: {selector: has(net2)}}]
  egress: [{action: Allow}]
  labelsToApply: {net2: ""}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-cni-a1-eth0, namespace: default, labels: {app: web}}
spec: {node: node1, orchestrator: cni, workload: a1, endpoint: eth0, interfaceName: cali0000000a1,
       ipNetworks: [10.68.0.1/32], profiles: [net1],
       ports: [{name: http, protocol: TCP, port: 8080}]}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-cni-a2-eth0, namespace: default, labels: {app: client}}
spec: {node: node1, orchestrator: cni, workload: a2, endpoint: eth0, interfaceName: cali0000000a2,
       ipNetworks: [10.68.0.2/32], profiles: [net1]}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node2-cni-b1-eth0, namespace: default, labels: {app: other}}
spec: {node: node2, orchestrator: cni, workload: b1, endpoint: eth0, interfaceName: cali0000000b1,
       ipNetworks: [10.68.1.1/32], profiles: [net2]}
)";

// web (10.70.0.1, prod) and client (10.70.0.2, default) on node1; "web-only-frontend" denies
// everything to web that is not from app=frontend (default tier's end-of-tier drop). With
// `k8s_labels` the workloads also carry projectcalico.org/orchestrator and
// projectcalico.org/namespace as labels (what converted Kubernetes policies select on); without,
// only app (flow records list the labels).
inline std::string WebClientCluster(bool k8s_labels) {
  auto labels = [&](const std::string& app, const std::string& ns) {
    return k8s_labels
               ? "{app: " + app +
                     ", projectcalico.org/orchestrator: k8s, projectcalico.org/namespace: " + ns +
                     "}"
               : "{app: " + app + "}";
  };
  return R"(
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-web-eth0, namespace: prod, labels: )" +
         labels("web", "prod") + R"(}
spec: {node: node1, orchestrator: k8s, pod: web, endpoint: eth0, interfaceName: cali00000web,
       ipNetworks: [10.70.0.1/32], profiles: [kns.prod]}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-client-eth0, namespace: default, labels: )" +
         labels("client", "default") + R"(}
spec: {node: node1, orchestrator: k8s, pod: client, endpoint: eth0, interfaceName: cali0000client,
       ipNetworks: [10.70.0.2/32], profiles: [kns.default]}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.prod}
spec: {ingress: [{action: Allow}], egress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.default}
spec: {ingress: [{action: Allow}], egress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: default.web-only-frontend, namespace: prod}
spec:
  tier: default
  selector: app == 'web'
  ingress: [{action: Allow, source: {selector: app == 'frontend'}}]
)";
}

// A staged version of WebClientCluster's policy that also allows TCP 80 from client's address.
inline constexpr std::string_view kStagedAllowClient = R"(
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: default.web-only-frontend, namespace: prod}
spec:
  tier: default
  selector: app == 'web'
  ingress:
  - {action: Allow, source: {selector: app == 'frontend'}}
  - {action: Allow, protocol: TCP, source: {nets: [10.70.0.2/32]}, destination: {ports: [80]}}
)";

}  // namespace calico::explain::testing
