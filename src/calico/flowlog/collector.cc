// Felix's flow-log collector (felix/collector: collector.go, flowlog aggregation) over NFLOG and
// conntrack. See collector.h.
#include "calico/flowlog/collector.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace calico::flowlog {

std::string_view EndpointTypeName(EndpointType t) {
  switch (t) {
    case EndpointType::kWorkload:
      return "wep";
    case EndpointType::kHost:
      return "hep";
    case EndpointType::kNetwork:
      return "net";
  }
  return "net";
}

namespace {

bool IsPrivate(const net::IPAddr& addr) {
  static const std::array<net::CIDR, 7> kPrivate = {
      *net::CIDR::Parse("10.0.0.0/8"),     *net::CIDR::Parse("172.16.0.0/12"),
      *net::CIDR::Parse("192.168.0.0/16"), *net::CIDR::Parse("127.0.0.0/8"),
      *net::CIDR::Parse("169.254.0.0/16"), *net::CIDR::Parse("fc00::/7"),
      *net::CIDR::Parse("fe80::/10")};
  return std::any_of(kPrivate.begin(), kPrivate.end(),
                     [&](const net::CIDR& c) { return c.Contains(addr); });
}

std::string ProtoName(uint8_t proto) {
  switch (proto) {
    case 1:
      return "icmp";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 58:
      return "icmp6";
    case 132:
      return "sctp";
    default:
      return std::to_string(proto);
  }
}

// Goldmane's PolicyKind name of a short policy kind ("gnp" -> "GlobalNetworkPolicy").
std::string PolicyKindName(const std::string& short_kind) {
  if (short_kind == "gnp") return "GlobalNetworkPolicy";
  if (short_kind == "np") return "CalicoNetworkPolicy";
  if (short_kind == "knp") return "NetworkPolicy";
  if (short_kind == "sgnp") return "StagedGlobalNetworkPolicy";
  if (short_kind == "snp") return "StagedNetworkPolicy";
  if (short_kind == "sknp") return "StagedKubernetesNetworkPolicy";
  return short_kind;
}

// Goldmane's PolicyKind names.
std::string HitKind(const policy::RuleHit& hit) {
  switch (hit.kind) {
    case policy::RuleHit::Kind::kProfile:
    case policy::RuleHit::Kind::kNoProfileMatch:
      return "Profile";
    case policy::RuleHit::Kind::kEndOfTier:
      return "EndOfTier";
    case policy::RuleHit::Kind::kPolicy:
      break;
  }
  return PolicyKindName(hit.policy_kind);
}

std::string ActionName(policy::FlowAction a) {
  switch (a) {
    case policy::FlowAction::kAllow:
      return "Allow";
    case policy::FlowAction::kDeny:
      return "Deny";
    case policy::FlowAction::kPass:
      return "Pass";
  }
  return "Deny";
}

std::vector<FlowPolicyHit> ToTrace(const std::vector<policy::RuleHit>& hits) {
  std::vector<FlowPolicyHit> out;
  out.reserve(hits.size());
  for (std::size_t i = 0; i < hits.size(); ++i) {
    const policy::RuleHit& h = hits[i];
    out.push_back(FlowPolicyHit{.kind = HitKind(h),
                                .ns = h.namespace_,
                                .name = h.name,
                                .tier = h.tier,
                                .action = ActionName(h.action),
                                .policy_index = static_cast<int64_t>(i),
                                .rule_index = h.rule_index});
    if (h.trigger) {
      out.back().trigger = FlowPolicyTrigger{.kind = PolicyKindName(h.trigger->policy_kind),
                                             .ns = h.trigger->namespace_,
                                             .name = h.trigger->name,
                                             .tier = h.tier};
    }
  }
  return out;
}

bool Final(const policy::RuleHit& hit) {
  return hit.action != policy::FlowAction::kPass;
}

}  // namespace

EndpointTable BuildEndpointTable(std::vector<calc::EndpointSummary> endpoints) {
  EndpointTable out;
  for (calc::EndpointSummary& ep : endpoints) {
    EndpointInfo info{.type = ep.is_workload ? EndpointType::kWorkload : EndpointType::kHost,
                      .ns = std::move(ep.ns),
                      .name = std::move(ep.name),
                      .labels = std::move(ep.labels),
                      .local = ep.local};
    for (size_t i = 0; i < ep.addresses.size(); ++i) {
      const bool last = i + 1 == ep.addresses.size();
      const net::IPAddr addr = ep.addresses[i].addr();
      auto it = out.lower_bound(addr);
      if (it == out.end() || out.key_comp()(addr, it->first)) {
        out.emplace_hint(it, addr, last ? std::move(info) : info);
      } else if (info.local && !it->second.local) {
        // A local endpoint wins over a remote one claiming the same address.
        it->second = last ? std::move(info) : info;
      }
    }
  }
  return out;
}

FlowContext::FlowContext(policy::PolicyLookup lookup,
                         const std::vector<calc::EndpointSummary>& endpoints,
                         StagedEvaluator staged)
    : FlowContext(std::move(lookup),
                  std::make_shared<const EndpointTable>(
                      BuildEndpointTable(std::vector<calc::EndpointSummary>(endpoints))),
                  std::move(staged)) {}

FlowContext::FlowContext(policy::PolicyLookup lookup,
                         std::shared_ptr<const EndpointTable> endpoints, StagedEvaluator staged)
    : lookup_(std::move(lookup)),
      by_addr_(endpoints ? std::move(endpoints) : std::make_shared<const EndpointTable>()),
      staged_(std::move(staged)) {}

std::shared_ptr<const FlowContext> FlowContextSource::Make(const policy::Model& model,
                                                           const calc::CalcGraph& graph,
                                                           StagedEvaluator staged) {
  const uint64_t version = graph.EndpointsVersion();
  rebuilt_ = table_ == nullptr || version != version_;
  if (rebuilt_) {
    table_ = std::make_shared<const EndpointTable>(BuildEndpointTable(graph.Endpoints()));
    version_ = version;
  }
  return std::make_shared<const FlowContext>(policy::PolicyLookup::Build(model), table_,
                                             std::move(staged));
}

EndpointInfo FlowContext::Find(const net::IPAddr& addr) const {
  if (auto it = by_addr_->find(addr); it != by_addr_->end()) return it->second;
  return EndpointInfo{.type = EndpointType::kNetwork, .name = IsPrivate(addr) ? "pvt" : "pub"};
}

struct Collector::Conn {
  std::vector<policy::RuleHit> hits;   // The trace being collected (a packet in flight).
  std::vector<policy::RuleHit> trace;  // The last complete trace.
  std::optional<std::vector<policy::RuleHit>> pending;  // Staged evaluation, once per trace.
  bool complete = false;
  bool denied = false;
  bool started_reported = false;
  bool ended = false;
  Clock::time_point first_seen{}, last_seen{};
  // Totals from the reporter's point of view, and what earlier intervals reported.
  uint64_t packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
  uint64_t rep_packets_in = 0, rep_packets_out = 0, rep_bytes_in = 0, rep_bytes_out = 0;
  EndpointInfo src, dst;
};

Collector::Collector(CollectorOptions options) : options_(options) {
  tokens_ = options_.nflog_per_second;
}

Collector::~Collector() = default;

void Collector::SetContext(std::shared_ptr<const FlowContext> context) {
  context_ = std::move(context);
}

bool Collector::TakeToken(Clock::time_point now) {
  if (last_refill_ == Clock::time_point{}) last_refill_ = now;
  const double elapsed = std::chrono::duration<double>(now - last_refill_).count();
  if (elapsed > 0) {
    tokens_ = std::min(options_.nflog_per_second, tokens_ + elapsed * options_.nflog_per_second);
    last_refill_ = now;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void Collector::OnNflog(const NflogPacket& packet, Clock::time_point now) {
  ++stats_.nflog_messages;
  if (interval_start_ == Clock::time_point{}) interval_start_ = now;
  if (!TakeToken(now)) {
    ++stats_.dropped_rate_limited;
    return;
  }
  std::optional<policy::RuleHit> hit;
  if (context_ != nullptr) hit = context_->lookup().Find(packet.prefix);
  if (!hit) {
    ++stats_.dropped_unknown_prefix;
    return;
  }
  const ConnKey key{.tuple = packet.tuple, .ingress = packet.group == policy::kNflogIngressGroup};
  if (hit->kind == policy::RuleHit::Kind::kEndOfTier) {
    // The reporter's endpoint: the destination of an ingress verdict, the source of an egress one.
    hit->trigger = context_->lookup().EndOfTierTrigger(
        key.ingress ? packet.tuple.dst : packet.tuple.src, key.ingress, hit->tier);
  }
  auto it = conns_.find(key);
  if (it == conns_.end()) {
    if (conns_.size() >= options_.max_live_flows) {
      ++stats_.dropped_flow_limit;
      return;
    }
    auto conn = std::make_unique<Conn>();
    conn->first_seen = now;
    conn->src = context_->Find(packet.tuple.src);
    conn->dst = context_->Find(packet.tuple.dst);
    it = conns_.emplace(key, std::move(conn)).first;
  }
  Conn& conn = *it->second;
  conn.last_seen = now;
  conn.hits.push_back(*hit);
  if (!Final(*hit)) return;
  // The packet's verdict: its trace is complete. For the reporter, the packet came in (ingress)
  // or went out (egress); later packets of an allowed connection are counted by conntrack.
  if (key.ingress) {
    conn.packets_in = std::max<uint64_t>(conn.packets_in + (conn.complete ? 1 : 0), 1);
    conn.bytes_in += packet.bytes;
  } else {
    conn.packets_out = std::max<uint64_t>(conn.packets_out + (conn.complete ? 1 : 0), 1);
    conn.bytes_out += packet.bytes;
  }
  if (conn.trace != conn.hits) conn.pending.reset();
  conn.trace = std::move(conn.hits);
  conn.hits.clear();
  conn.denied = conn.trace.back().action == policy::FlowAction::kDeny;
  if (!conn.complete) CountPolicy(conn, 1, 0, 0);
  conn.complete = true;
  Complete(key, conn);
}

void Collector::Complete(const ConnKey& key, Conn& conn) {
  if (conn.pending || context_ == nullptr || !context_->staged()) return;
  const EndpointInfo& reporter = key.ingress ? conn.dst : conn.src;
  conn.pending = context_->staged()(key.tuple, key.ingress, reporter);
  if (!conn.pending) conn.pending = std::vector<policy::RuleHit>{};  // Evaluated: no change.
}

void Collector::OnConntrack(const ConntrackEntry& entry, Clock::time_point now) {
  for (bool ingress : {true, false}) {
    auto it = conns_.find(ConnKey{.tuple = entry.orig, .ingress = ingress});
    if (it == conns_.end()) continue;
    Conn& conn = *it->second;
    conn.last_seen = now;
    // The originator is the source: for the destination (ingress reporter) the original
    // direction comes in; for the source it goes out. Counters only grow.
    uint64_t& pin = ingress ? conn.packets_in : conn.packets_out;
    uint64_t& bin = ingress ? conn.bytes_in : conn.bytes_out;
    uint64_t& pout = ingress ? conn.packets_out : conn.packets_in;
    uint64_t& bout = ingress ? conn.bytes_out : conn.bytes_in;
    pin = std::max(pin, entry.orig_packets);
    bin = std::max(bin, entry.orig_bytes);
    pout = std::max(pout, entry.reply_packets);
    bout = std::max(bout, entry.reply_bytes);
    if (entry.type == ConntrackEntry::Type::kDestroy) conn.ended = true;
  }
}

void Collector::CountPolicy(const Conn& conn, int64_t flows, int64_t packets, int64_t bytes) {
  if (conn.trace.empty()) return;
  const policy::RuleHit& h = conn.trace.back();
  const std::string name = h.namespace_.empty() ? h.name : h.namespace_ + "/" + h.name;
  PolicyRuleCounts& c = policy_counts_[fmt::format("{}|{}|{}|{}|{}", HitKind(h), h.tier, name,
                                                   h.rule_index, policy::FlowActionName(h.action))];
  c.flows += flows;
  c.packets += packets;
  c.bytes += bytes;
}

std::vector<FlowRecord> Collector::Flush(Clock::time_point now) {
  const int64_t start =
      std::chrono::duration_cast<std::chrono::seconds>(
          (interval_start_ == Clock::time_point{} ? now : interval_start_).time_since_epoch())
          .count();
  const int64_t end =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::map<FlowKeyData, FlowRecord> records;
  for (auto it = conns_.begin(); it != conns_.end();) {
    const ConnKey& key = it->first;
    Conn& conn = *it->second;
    if (!conn.complete) {
      // A trace with no final verdict (a message lost): given up after an interval.
      if (now - conn.first_seen > std::chrono::seconds(1) && now > interval_start_) {
        ++stats_.dropped_incomplete;
        it = conns_.erase(it);
      } else {
        ++it;
      }
      continue;
    }
    // Denied connections end with their verdict; allowed ones at conntrack's destroy event or
    // after idle_timeout without news.
    if (conn.denied || now - conn.last_seen > options_.idle_timeout) conn.ended = true;
    FlowKeyData k{.source_name = conn.src.name,
                  .source_namespace = conn.src.ns,
                  .source_type = std::string(EndpointTypeName(conn.src.type)),
                  .dest_name = conn.dst.name,
                  .dest_namespace = conn.dst.ns,
                  .dest_type = std::string(EndpointTypeName(conn.dst.type)),
                  .dest_port = key.tuple.dst_port,
                  .source_ip = key.tuple.src.String(),
                  .dest_ip = key.tuple.dst.String(),
                  .proto = ProtoName(key.tuple.proto),
                  .reporter = key.ingress ? "Dst" : "Src",
                  .action = conn.denied ? "Deny" : "Allow",
                  .enforced = ToTrace(conn.trace)};
    k.pending = conn.pending && !conn.pending->empty() ? ToTrace(*conn.pending) : k.enforced;
    auto [rit, inserted] = records.try_emplace(k);
    FlowRecord& r = rit->second;
    if (inserted) {
      r.key = k;
      r.start_time = start;
      r.end_time = end;
      r.source_labels = conn.src.labels;
      r.dest_labels = conn.dst.labels;
    }
    const auto delta = [](uint64_t total, uint64_t& reported) {
      const auto d = static_cast<int64_t>(total - std::min(total, reported));
      reported = std::max(total, reported);
      return d;
    };
    const int64_t pin = delta(conn.packets_in, conn.rep_packets_in);
    const int64_t pout = delta(conn.packets_out, conn.rep_packets_out);
    const int64_t bin = delta(conn.bytes_in, conn.rep_bytes_in);
    const int64_t bout = delta(conn.bytes_out, conn.rep_bytes_out);
    r.packets_in += pin;
    r.packets_out += pout;
    r.bytes_in += bin;
    r.bytes_out += bout;
    CountPolicy(conn, 0, pin + pout, bin + bout);
    if (!conn.started_reported) {
      ++r.num_connections_started;
      conn.started_reported = true;
    }
    if (conn.ended) {
      ++r.num_connections_completed;
      it = conns_.erase(it);
    } else {
      ++r.num_connections_live;
      ++it;
    }
  }
  stats_.live_flows = conns_.size();
  interval_start_ = now;
  std::vector<FlowRecord> out;
  out.reserve(records.size());
  for (auto& [k, r] : records) {
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace calico::flowlog
