// calico-node's flow-log pipeline on Linux. See node_flow_logs.h.
#include "calico/flowlog/linux/node_flow_logs.h"

#include <utility>

#include "calico/base/log.h"
#include "calico/dataplane/netfilter_sources.h"
#include "calico/policy/flow_log_prefix.h"

namespace calico::flowlog {

Result<std::unique_ptr<NodeFlowLogs>> NodeFlowLogs::Start(NodeFlowLogOptions options) {
  RETURN_IF_ERROR(ParseServerAddress(options.server));
  ASSIGN_OR_RETURN(
      std::unique_ptr<NflogSource> nflog,
      dataplane::OpenNflogSource({policy::kNflogIngressGroup, policy::kNflogEgressGroup}));
  std::unique_ptr<ConntrackSource> conntrack;
  if (Status st = dataplane::EnableConntrackAccounting(); !st) {
    CALICO_LOG(warn, "flowlog", "conntrack accounting: {} (flows carry no byte counts)",
               st.error().message());
  }
  if (auto ct = dataplane::OpenConntrackSource()) {
    conntrack = std::move(*ct);
  } else {
    CALICO_LOG(warn, "flowlog",
               "conntrack: {} (flows carry the first packet only; connections end after {}s idle)",
               ct.error().message(), options.collector.idle_timeout.count());
  }
  std::unique_ptr<NodeFlowLogs> out(new NodeFlowLogs(std::move(options)));
  const NodeFlowLogOptions& o = out->options_;
  if (o.evaluate_pending) out->pending_ = std::make_unique<PendingPolicies>(o.node_name);
  out->sender_ =
      std::make_unique<FlowSender>(SenderOptions{.server = o.server, .path = o.path}, o.encode);
  FlowSender* sender = out->sender_.get();
  const bool debug = o.debug_trace;
  out->runner_ = std::make_unique<FlowLogRunner>(
      RunnerOptions{.flush_interval = o.flush_interval, .collector = o.collector}, std::move(nflog),
      std::move(conntrack),
      [sender, debug](std::vector<FlowRecord> records) {
        if (debug) {
          for (const FlowRecord& r : records) {
            CALICO_LOG(debug, "flowlog", "flow {}/{} -> {}/{} port {} {} {} reporter {}",
                       r.key.source_namespace, r.key.source_name, r.key.dest_namespace,
                       r.key.dest_name, r.key.dest_port, r.key.proto, r.key.action, r.key.reporter);
          }
        }
        sender->Send(std::move(records));
      },
      [sender] { return sender->dropped(); });
  out->runner_->Start();
  CALICO_LOG(info, "flowlog", "flow logs to {} every {} ms", o.server, o.flush_interval.count());
  return out;
}

NodeFlowLogs::~NodeFlowLogs() {
  if (runner_) runner_->Stop();
  runner_.reset();
  sender_.reset();
}

void NodeFlowLogs::OnPolicyProgrammed(const policy::Model& model, const calc::CalcGraph& graph) {
  StagedEvaluator staged = pending_ ? pending_->Evaluator() : nullptr;
  runner_->SetContext(contexts_.Make(model, graph, std::move(staged)));
}

void NodeFlowLogs::OnResource(const model::Resource* resource, std::string_view kind,
                              std::string_view ns, std::string_view name) {
  if (pending_) pending_->OnResource(resource, kind, ns, name);
}

void NodeFlowLogs::OnWorkloadEndpoint(const model::v3::WorkloadEndpoint& wep) {
  if (pending_) pending_->OnWorkloadEndpoint(wep);
}

void NodeFlowLogs::OnResync() {
  if (pending_) pending_->OnResync();
}

std::string NodeFlowLogs::MetricsText() const {
  return runner_->MetricsText();
}

}  // namespace calico::flowlog
