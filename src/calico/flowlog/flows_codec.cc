// FlowRecord -> flows::Flow. See flows_codec.h.
#include "calico/flowlog/flows_codec.h"

#include <memory>
#include <string>

namespace calico::flowlog {
namespace {

flows::EndpointType ToType(const std::string& t) {
  if (t == "wep") return flows::EndpointType::kWorkloadEndpoint;
  if (t == "hep") return flows::EndpointType::kHostEndpoint;
  if (t == "ns") return flows::EndpointType::kNetworkSet;
  return flows::EndpointType::kNetwork;
}

flows::Action ToAction(const std::string& a) {
  if (a == "Allow") return flows::Action::kAllow;
  if (a == "Deny") return flows::Action::kDeny;
  if (a == "Pass") return flows::Action::kPass;
  return flows::Action::kUnspecified;
}

flows::PolicyKind ToKind(const std::string& k) {
  auto parsed = flows::ParsePolicyKind(k);
  return parsed ? *parsed : flows::PolicyKind::kUnspecified;
}

std::vector<flows::PolicyHit> ToHits(const std::vector<FlowPolicyHit>& hits) {
  std::vector<flows::PolicyHit> out;
  out.reserve(hits.size());
  for (const FlowPolicyHit& h : hits) {
    out.push_back(flows::PolicyHit{.kind = ToKind(h.kind),
                                   .ns = h.ns,
                                   .name = h.name,
                                   .tier = h.tier,
                                   .action = ToAction(h.action),
                                   .policy_index = h.policy_index,
                                   .rule_index = h.rule_index});
    if (h.trigger) {
      out.back().trigger =
          std::make_shared<const flows::PolicyHit>(flows::PolicyHit{.kind = ToKind(h.trigger->kind),
                                                                    .ns = h.trigger->ns,
                                                                    .name = h.trigger->name,
                                                                    .tier = h.trigger->tier});
    }
  }
  return out;
}

std::vector<std::string> Labels(const std::map<std::string, std::string>& labels) {
  std::vector<std::string> out;
  out.reserve(labels.size());
  for (const auto& [k, v] : labels) {
    out.push_back(k + "=" + v);
  }
  return out;
}

}  // namespace

flows::Flow ToFlow(const FlowRecord& r) {
  const FlowKeyData& k = r.key;
  return flows::Flow{
      .key = flows::FlowKey{.source_name = k.source_name,
                            .source_namespace = k.source_namespace,
                            .source_type = ToType(k.source_type),
                            .dest_name = k.dest_name,
                            .dest_namespace = k.dest_namespace,
                            .dest_type = ToType(k.dest_type),
                            .dest_port = k.dest_port,
                            .proto = k.proto,
                            .reporter =
                                k.reporter == "Src" ? flows::Reporter::kSrc : flows::Reporter::kDst,
                            .action = ToAction(k.action),
                            .policies = flows::PolicyTrace{.enforced_policies = ToHits(k.enforced),
                                                           .pending_policies = ToHits(k.pending)},
                            .source_ip = k.source_ip,
                            .dest_ip = k.dest_ip},
      .start_time = r.start_time,
      .end_time = r.end_time,
      .source_labels = Labels(r.source_labels),
      .dest_labels = Labels(r.dest_labels),
      .packets_in = r.packets_in,
      .packets_out = r.packets_out,
      .bytes_in = r.bytes_in,
      .bytes_out = r.bytes_out,
      .num_connections_started = r.num_connections_started,
      .num_connections_completed = r.num_connections_completed,
      .num_connections_live = r.num_connections_live};
}

std::string EncodeIngestBody(const std::vector<FlowRecord>& records) {
  std::string out;
  for (const FlowRecord& r : records) {
    out += flows::EncodeFlow(ToFlow(r));
    out += '\n';
  }
  return out;
}

}  // namespace calico::flowlog
