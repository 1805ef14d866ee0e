// The pending trace of a connection from explain's pending evaluation (staged.h).
#include "calico/flowlog/staged.h"

#include <utility>

namespace calico::flowlog {

StagedEvaluator MakeStagedEvaluator(std::shared_ptr<const explain::PendingEvaluator> evaluator) {
  return [evaluator = std::move(evaluator)](
             const FiveTuple& tuple, bool ingress,
             const EndpointInfo& reporter) -> std::optional<std::vector<policy::RuleHit>> {
    if (reporter.type != EndpointType::kWorkload || !reporter.local) return std::nullopt;
    explain::Packet packet{.src = tuple.src, .dst = tuple.dst, .protocol = tuple.proto};
    const bool ports = tuple.proto == 6 || tuple.proto == 17 || tuple.proto == 132 ||
                       tuple.proto == 136 || tuple.proto == 33;
    if (ports) {
      packet.source_port = tuple.src_port;
      packet.dest_port = tuple.dst_port;
    }
    if (tuple.proto == 58) packet.icmp_type = 128;
    return evaluator->Evaluate(reporter.ns + "/" + reporter.name, ingress, packet);
  };
}

PendingPolicies::PendingPolicies(std::string node_name)
    : node_name_(std::move(node_name)),
      graph_(std::make_unique<explain::PendingGraph>(node_name_)) {}

void PendingPolicies::OnResource(const model::Resource* resource, std::string_view kind,
                                 std::string_view ns, std::string_view name) {
  if (resource != nullptr) {
    graph_->OnUpdate(*resource);
  } else {
    graph_->OnDelete(kind, ns, name);
  }
}

void PendingPolicies::OnWorkloadEndpoint(const model::v3::WorkloadEndpoint& wep) {
  graph_->OnWorkloadEndpoint(model::v3::WorkloadEndpoint(wep));
}

void PendingPolicies::OnResync() {
  graph_ = std::make_unique<explain::PendingGraph>(node_name_);
}

StagedEvaluator PendingPolicies::Evaluator() const {
  if (!graph_->HasStaged()) return nullptr;
  return MakeStagedEvaluator(std::make_shared<const explain::PendingEvaluator>(graph_->Model()));
}

}  // namespace calico::flowlog
