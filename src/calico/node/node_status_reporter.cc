// CalicoNodeStatus reporter: node/pkg/status/reporter.go (reportStatus: populate, compare, write
// with conflict catch-up) and populators/{bird_status,peers,route}.go (the values).
#include "calico/node/node_status_reporter.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <utility>

#include "calico/base/log.h"

namespace calico::node {
namespace {

using model::Json;

bool HasClass(const model::v3::CalicoNodeStatusSpec& spec, std::string_view name) {
  return std::find(spec.classes.begin(), spec.classes.end(), name) != spec.classes.end();
}

// populators/bird_status.go toNodeStatusAPI.
Json DaemonJson(const bird::BirdDaemonStatus& s) {
  return Json{{"state", s.ready ? "Ready" : "NotReady"},
              {"version", s.version},
              {"routerID", s.router_id},
              {"lastBootTime", s.last_boot},
              {"lastReconfigurationTime", s.last_reconfig}};
}

// populators/peers.go: birdStateToBGPState and bgpTypeMap.
Json PeerJson(const bird::BgpPeerStatus& p) {
  Json out{{"peerIP", p.peer_address}, {"since", p.since}};
  switch (p.type) {
    case bird::BgpPeerType::kNodeToNodeMesh:
      out["type"] = "NodeMesh";
      break;
    case bird::BgpPeerType::kNodeSpecific:
      out["type"] = "NodePeer";
      break;
    case bird::BgpPeerType::kGlobal:
      out["type"] = "GlobalPeer";
      break;
  }
  static const std::set<std::string, std::less<>> kStates = {
      "Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established", "Close"};
  // BIRD 2 leaves the state empty for a protocol that is down; upstream's map gives "" there,
  // which the CRD's enum does not accept: the field is left out instead.
  if (kStates.count(p.bgp_state) != 0) out["state"] = p.bgp_state;
  return out;
}

// populators/route.go toNodeStatusAPI; nothing for a protocol that is not a source it knows.
std::optional<Json> RouteJson(const bird::BirdRoute& r) {
  Json from = Json::object();
  const std::string& proto = r.protocol;
  if (proto.rfind("kernel", 0) == 0) {
    from["sourceType"] = "Kernel";
  } else if (proto.rfind("static", 0) == 0) {
    from["sourceType"] = "Static";
  } else if (proto.rfind("direct", 0) == 0) {
    from["sourceType"] = "Direct";
  } else if (auto peer = bird::PeerFromProtocolName(proto)) {
    from["sourceType"] = peer->type == bird::BgpPeerType::kNodeToNodeMesh ? "NodeMesh" : "BGPPeer";
    from["peerIP"] = peer->peer_address;
  } else {
    return std::nullopt;
  }
  return Json{{"type", r.primary ? "FIB" : "RIB"},
              {"destination", r.destination},
              {"gateway", r.gateway},
              {"interface", r.interface},
              {"learnedFrom", std::move(from)}};
}

bool Unavailable(const Error& e) {
  return e.code() == ErrorCode::kUnavailable || e.code() == ErrorCode::kNotFound;
}

Json WithoutLastUpdated(Json status) {
  if (status.is_object()) status.erase("lastUpdated");
  return status;
}

}  // namespace

Result<Json> BuildCalicoNodeStatus(const model::v3::CalicoNodeStatusSpec& spec,
                                   BirdStatusSource& bird) {
  Json status = Json::object();
  if (HasClass(spec, "Agent")) {
    auto daemon = bird.DaemonStatus();
    if (!daemon && !Unavailable(daemon.error())) return Unexpected(daemon.error());
    Json one = daemon ? DaemonJson(*daemon) : Json{{"state", "NotReady"}};
    status["agent"] = Json{{"birdV4", one}, {"birdV6", one}};
  }
  if (HasClass(spec, "BGP")) {
    auto peers = bird.Peers();
    if (!peers && !Unavailable(peers.error())) return Unexpected(peers.error());
    Json bgp{{"numberEstablishedV4", 0},
             {"numberEstablishedV6", 0},
             {"numberNotEstablishedV4", 0},
             {"numberNotEstablishedV6", 0}};
    if (peers) {
      Json v4 = Json::array();
      Json v6 = Json::array();
      for (const bird::BgpPeerStatus& p : *peers) {
        const std::string v = p.family == 6 ? "V6" : "V4";
        const std::string counter = p.state == "up" ? "numberEstablished" : "numberNotEstablished";
        bgp[counter + v] = bgp[counter + v].get<int>() + 1;
        (p.family == 6 ? v6 : v4).push_back(PeerJson(p));
      }
      bgp["peersV4"] = std::move(v4);
      bgp["peersV6"] = std::move(v6);
    }
    status["bgp"] = std::move(bgp);
  }
  if (HasClass(spec, "Routes")) {
    auto routes = bird.Routes();
    if (!routes && !Unavailable(routes.error())) return Unexpected(routes.error());
    Json out = Json::object();
    if (routes) {
      Json v4 = Json::array();
      Json v6 = Json::array();
      for (const bird::BirdRoute& r : *routes) {
        if (auto j = RouteJson(r)) (r.family == 6 ? v6 : v4).push_back(std::move(*j));
      }
      out["routesV4"] = std::move(v4);
      out["routesV6"] = std::move(v6);
    }
    status["routes"] = std::move(out);
  }
  return status;
}

CalicoNodeStatusReporter::CalicoNodeStatusReporter(datastore::Client& client, const Clock& clock,
                                                   std::string node, BirdStatusSource& bird)
    : client_(client), clock_(clock), node_(std::move(node)), bird_(bird) {}

Result<int> CalicoNodeStatusReporter::Tick() {
  ASSIGN_OR_RETURN(std::vector<model::Resource> all, client_.List("CalicoNodeStatus"));
  const auto now = clock_.Now();
  std::set<std::string> seen;
  int written = 0;
  for (model::Resource& r : all) {
    auto typed = model::v3::DecodeCalicoNodeStatus(r);
    if (!typed) {
      // Not written through validation: skipped and logged, as Client::List skips a value it
      // cannot read.
      CALICO_LOG(warn, "node", "skipping unreadable resource: {}", typed.error().message());
      continue;
    }
    if (typed->spec.node != node_) continue;
    seen.insert(r.name());
    auto [it, is_new] = tracked_.try_emplace(r.name());
    Tracked& t = it->second;
    const int64_t period = typed->spec.update_period_seconds.value_or(0);
    const bool changed = is_new || t.resource_version != r.resource_version();
    if (!changed && (period <= 0 || now < t.next)) continue;
    const std::string name = r.name();
    auto wrote = Report(std::move(r), t);
    if (!wrote) {
      CALICO_LOG(warn, "node", "CalicoNodeStatus {}: {}", name, wrote.error().message());
      // Try again at the next period (or at the next spec change when there is none).
      t.next = now + std::chrono::seconds(period);
      continue;
    }
    if (*wrote) ++written;
  }
  std::erase_if(tracked_, [&](const auto& kv) { return seen.count(kv.first) == 0; });
  return written;
}

Result<bool> CalicoNodeStatusReporter::Report(model::Resource r, Tracked& tracked) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(model::v3::CalicoNodeStatus typed, model::v3::DecodeCalicoNodeStatus(r));
    const int64_t period = typed.spec.update_period_seconds.value_or(0);
    tracked.resource_version = r.resource_version();
    tracked.next = clock_.Now() + std::chrono::seconds(period);
    ASSIGN_OR_RETURN(Json status, BuildCalicoNodeStatus(typed.spec, bird_));
    const Json* old = r.doc().contains("status") ? &r.doc()["status"] : nullptr;
    if (old != nullptr && WithoutLastUpdated(*old) == status) return false;
    status["lastUpdated"] = FormatRfc3339(clock_.WallNow());
    model::Resource write = r;
    write.doc()["status"] = std::move(status);
    // r carries the revision it was read at: Update is a compare-and-swap.
    auto updated = client_.Update(std::move(write));
    if (updated) {
      tracked.resource_version = updated->resource_version();
      return true;
    }
    if (updated.error().code() != ErrorCode::kConflict || attempt == 2) {
      return Unexpected(updated.error());
    }
    // The resource changed since it was read (a user's spec change): report for what is there now.
    ASSIGN_OR_RETURN(r, client_.Get("CalicoNodeStatus", "", r.name()));
    ASSIGN_OR_RETURN(model::v3::CalicoNodeStatus again, model::v3::DecodeCalicoNodeStatus(r));
    if (again.spec.node != node_) {
      tracked.resource_version = r.resource_version();
      return false;
    }
  }
}

void CalicoNodeStatusReporter::Run(const std::atomic<bool>& stop) {
  while (!stop) {
    auto n = Tick();
    if (!n) CALICO_LOG(warn, "node", "CalicoNodeStatus: {}", n.error().message());
    for (int i = 0; i < 10 && !stop; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace calico::node
