// Goldmane's aggregation window (goldmane/pkg/aggregator); see aggregator.h.
#include "calico/flows/aggregator.h"

#include <algorithm>
#include <functional>
#include <tuple>
#include <utility>

namespace calico::flows {
namespace {

bool EndpointMatches(const std::string& want, const std::string& name, const std::string& ns,
                     const std::string& ip) {
  if (want == name || want == ns || want == ip) return !want.empty();
  return !ns.empty() && want.size() == ns.size() + 1 + name.size() &&
         want.compare(0, ns.size(), ns) == 0 && want[ns.size()] == '/' &&
         want.compare(ns.size() + 1, std::string::npos, name) == 0;
}

bool HitNamed(const PolicyHit& hit, const std::string& want) {
  if (hit.name == want) return true;
  if (!hit.ns.empty() && want == hit.ns + "/" + hit.name) return true;
  // "tier.name": Calico's stored names carry the tier prefix; accept the bare name too.
  if (!hit.tier.empty() && hit.name.size() > hit.tier.size() + 1 &&
      hit.name.compare(0, hit.tier.size(), hit.tier) == 0 && hit.name[hit.tier.size()] == '.' &&
      hit.name.compare(hit.tier.size() + 1, std::string::npos, want) == 0) {
    return true;
  }
  return hit.trigger != nullptr && HitNamed(*hit.trigger, want);
}

bool TraceNames(const PolicyTrace& trace, const std::string& want) {
  for (const auto& h : trace.enforced_policies) {
    if (HitNamed(h, want)) return true;
  }
  for (const auto& h : trace.pending_policies) {
    if (HitNamed(h, want)) return true;
  }
  return false;
}

size_t HashKey(int64_t bucket, const FlowKey& key) {
  return std::hash<std::string>{}(EncodeFlowKey(key)) ^
         (std::hash<int64_t>{}(bucket)*0x9e3779b97f4a7c15ULL);
}

void Merge(Flow& into, const Flow& from) {
  into.start_time = std::min(into.start_time, from.start_time);
  into.end_time = std::max(into.end_time, from.end_time);
  into.packets_in += from.packets_in;
  into.packets_out += from.packets_out;
  into.bytes_in += from.bytes_in;
  into.bytes_out += from.bytes_out;
  into.num_connections_started += from.num_connections_started;
  into.num_connections_completed += from.num_connections_completed;
  // Live connections are a gauge: the latest report holds.
  into.num_connections_live = from.num_connections_live;
  if (into.source_labels.empty()) into.source_labels = from.source_labels;
  if (into.dest_labels.empty()) into.dest_labels = from.dest_labels;
}

int64_t WallSeconds(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.WallNow().time_since_epoch())
      .count();
}

}  // namespace

bool Matches(const FlowFilter& f, const Flow& flow) {
  const FlowKey& k = flow.key;
  if (!f.actions.empty() &&
      std::find(f.actions.begin(), f.actions.end(), k.action) == f.actions.end()) {
    return false;
  }
  if (f.since != 0 && flow.end_time < f.since) return false;
  if (!f.ns.empty() && k.source_namespace != f.ns && k.dest_namespace != f.ns) return false;
  if (!f.source.empty() &&
      !EndpointMatches(f.source, k.source_name, k.source_namespace, k.source_ip)) {
    return false;
  }
  if (!f.dest.empty() && !EndpointMatches(f.dest, k.dest_name, k.dest_namespace, k.dest_ip)) {
    return false;
  }
  if (!f.policy.empty() && !TraceNames(k.policies, f.policy)) return false;
  return true;
}

Aggregator::Aggregator(AggregatorOptions options, const Clock& clock)
    : options_(options), clock_(clock) {
  if (options_.aggregation_interval_seconds <= 0) {
    options_.aggregation_interval_seconds = 1;
  }
}

size_t Aggregator::Ingest(std::vector<Flow>&& flows) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t oldest = WallSeconds(clock_) - options_.max_age_seconds;
  size_t merged = 0;
  ++stats_.version;
  for (Flow& flow : flows) {
    ++stats_.records_ingested;
    if (flow.end_time < oldest) {
      ++stats_.evicted_by_age;  // arrived already outside the window
      continue;
    }
    const int64_t bucket =
        flow.start_time - flow.start_time % options_.aggregation_interval_seconds;
    const size_t hash = HashKey(bucket, flow.key);
    bool done = false;
    auto [lo, hi] = index_.equal_range(hash);
    for (auto it = lo; it != hi && !done; ++it) {
      Entry& e = entries_.at(it->second);
      if (e.bucket == bucket && e.stored.flow.key == flow.key) {
        Merge(e.stored.flow, flow);
        e.stored.version = stats_.version;
        ++merged;
        done = true;
      }
    }
    if (done) continue;
    const uint64_t id = next_id_++;
    Entry e{.hash = hash,
            .bucket = bucket,
            .stored = StoredFlow{.id = id, .version = stats_.version, .flow = std::move(flow)}};
    entries_.emplace(id, std::move(e));
    index_.emplace(hash, id);
    while (entries_.size() > options_.max_flows) {
      EraseLocked(entries_.begin());
      ++stats_.evicted_by_count;
    }
  }
  stats_.records_merged += merged;
  ExpireLocked();
  changed_.notify_all();
  return merged;
}

void Aggregator::EraseLocked(std::map<uint64_t, Entry>::iterator it) {
  auto [lo, hi] = index_.equal_range(it->second.hash);
  for (auto i = lo; i != hi; ++i) {
    if (i->second == it->first) {
      index_.erase(i);
      break;
    }
  }
  entries_.erase(it);
}

void Aggregator::ExpireLocked() {
  const int64_t now = WallSeconds(clock_);
  stats_.flows = entries_.size();
  if (now == last_sweep_) return;  // queries skip expired flows until the next sweep
  last_sweep_ = now;
  const int64_t oldest = now - options_.max_age_seconds;
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (it->second.stored.flow.end_time < oldest) {
      EraseLocked(it);
      ++stats_.evicted_by_age;
    }
    it = next;
  }
  stats_.flows = entries_.size();
}

std::vector<StoredFlow> Aggregator::Query(const FlowFilter& filter, size_t limit,
                                          size_t* total) const {
  std::vector<const StoredFlow*> hits;
  std::vector<StoredFlow> out;
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t oldest = WallSeconds(clock_) - options_.max_age_seconds;
  for (const auto& [id, e] : entries_) {
    if (e.stored.version <= filter.after_version) continue;
    if (e.stored.flow.end_time < oldest) continue;  // expired, not yet swept
    if (Matches(filter, e.stored.flow)) hits.push_back(&e.stored);
  }
  if (total != nullptr) *total = hits.size();
  auto newer = [](const StoredFlow* a, const StoredFlow* b) {
    return std::tie(a->flow.end_time, a->id) > std::tie(b->flow.end_time, b->id);
  };
  if (limit != 0 && hits.size() > limit) {
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(limit), hits.end(),
                      newer);
    hits.resize(limit);
  } else {
    std::sort(hits.begin(), hits.end(), newer);
  }
  out.reserve(hits.size());
  for (const StoredFlow* s : hits)
    out.push_back(*s);
  return out;
}

std::vector<PolicyHits> Aggregator::Hits() const {
  using Key = std::tuple<std::string, std::string, std::string, int, bool>;  // tier ns name kind
  std::map<Key, PolicyHits> by_policy;
  std::lock_guard<std::mutex> lock(mu_);
  auto count = [&](const PolicyHit& hit, const Flow& flow, bool pending) {
    // An end-of-tier step counts against the policy that triggered it.
    const PolicyHit& p = hit.kind == PolicyKind::kEndOfTier && hit.trigger ? *hit.trigger : hit;
    Key key{p.tier, p.ns, p.name, static_cast<int>(p.kind), pending};
    PolicyHits& ph = by_policy[key];
    if (ph.policy.name.empty()) {
      ph.policy = PolicyHit{.kind = p.kind, .ns = p.ns, .name = p.name, .tier = p.tier};
      ph.pending = pending;
    }
    PolicyHits::Counts& c = ph.by_action[hit.action];
    c.flows += 1;
    c.connections += flow.num_connections_started;
    c.packets += flow.packets_in + flow.packets_out;
    c.bytes += flow.bytes_in + flow.bytes_out;
    ph.flows_by_rule[hit.kind == PolicyKind::kEndOfTier ? -1 : hit.rule_index] += 1;
  };
  for (const auto& [id, e] : entries_) {
    for (const auto& h : e.stored.flow.key.policies.enforced_policies) {
      count(h, e.stored.flow, false);
    }
    for (const auto& h : e.stored.flow.key.policies.pending_policies) {
      count(h, e.stored.flow, true);
    }
  }
  std::vector<PolicyHits> out;
  out.reserve(by_policy.size());
  for (auto& [k, v] : by_policy)
    out.push_back(std::move(v));
  return out;
}

AggregatorStats Aggregator::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

uint64_t Aggregator::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_.version;
}

uint64_t Aggregator::WaitForChange(uint64_t seen, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, timeout, [&] { return stats_.version > seen; });
  return stats_.version;
}

}  // namespace calico::flows
