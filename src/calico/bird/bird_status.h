// `calicoctl node status` (calicoctl/commands/node/status.go, reference calicoctl §5.6 and
// node §4.13): BGP peer states read from BIRD's `show protocols`, printed as Calico prints them.
//
//   birdc -s SOCK show protocols ──> ParseBirdProtocols ──> [BgpPeerStatus] ──> RenderNodeStatus
//   (or the raw control-socket reply with 0001/2002-/1002-/0000 codes)
//
// ParseBirdProtocols accepts both forms: birdc's human-readable output ("BIRD 2.0.12 ready.",
// a "Name Proto Table State Since Info" header, one row per protocol) and the coded reply of the
// control socket that calicoctl reads itself. Rows are kept when the protocol is BGP and the name
// is Global_/Node_/Mesh_<address>, as calicoctl does; the address is rebuilt from the name
// (`_` → `.` for IPv4, `:` for IPv6) and a `_port_<n>` suffix (bird_config's naming for a
// non-default port) is split off into `port`.
//
// Differences from calicoctl, forced by the single BIRD 2 daemon:
//  * One daemon carries both families, so IPv4 and IPv6 peers come from the same reply and are
//    told apart by address.
//  * BIRD 2 leaves the Info column empty for a protocol that is down (disabled, or shut by a
//    reconfiguration); calicoctl's six-column rule would hide such a peer, here it is shown with
//    an empty INFO cell.
//  * A peer on a non-default port shows as "ip:port" ("[ip]:port" for IPv6).
//
// Thread-safety: pure functions, except ShowBirdPeers (runs birdc).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"

namespace calico::bird {

enum class BgpPeerType { kNodeToNodeMesh, kGlobal, kNodeSpecific };

// "node-to-node mesh", "global", "node specific".
std::string_view BgpPeerTypeName(BgpPeerType type);

struct BgpPeerStatus {
  std::string name{};          // BIRD protocol name: "Mesh_10_0_0_2".
  std::string peer_address{};  // "10.0.0.2", "fd00::2".
  uint16_t port = 0;           // From a "_port_<n>" suffix; 0 = default port.
  int family = 4;
  BgpPeerType type = BgpPeerType::kNodeToNodeMesh;
  std::string state{};      // Protocol state: "up", "start", "down", ...
  std::string since{};      // "13:28:02.898"
  std::string bgp_state{};  // "Established", "Active", "Connect", ... ("" when down in BIRD 2)
  std::string info{};       // Extra info, re-joined with single spaces: "Socket: Connection closed"

  bool operator==(const BgpPeerStatus&) const = default;
};

// Errors: kInvalidArgument for text that is neither form ("unknown BIRD table output format: ...",
// "unexpected output line from BIRD: ..."), or a BIRD error reply (8xxx/9xxx codes, or birdc's
// "Unable to connect to server control socket").
[[nodiscard]] Result<std::vector<BgpPeerStatus>> ParseBirdProtocols(std::string_view output);

// The peer a BIRD protocol name stands for ("Mesh_198_18_0_2" -> mesh peer 198.18.0.2, as
// ParseBirdProtocols reads a row's name; state fields empty), or nothing when it is not a peer.
std::optional<BgpPeerStatus> PeerFromProtocolName(std::string_view name);

struct NodeStatusInput {
  bool calico_running = true;          // calico-node -felix (or calico-felix) runs on this host.
  bool bird_running = true;            // The BIRD daemon answers on its control socket.
  std::vector<BgpPeerStatus> peers{};  // Both families, in BIRD's order.
};

// The text `calicoctl node status` prints, ending with an empty line:
//   Calico process is running.
//
//   IPv4 BGP status
//   +--------------+-------------------+-------+--------------+-------------+
//   | PEER ADDRESS |     PEER TYPE     | STATE |    SINCE     |    INFO     |
//   +--------------+-------------------+-------+--------------+-------------+
//   | 198.18.0.2   | node-to-node mesh | up    | 13:28:02.898 | Established |
//   +--------------+-------------------+-------+--------------+-------------+
//
//   IPv6 BGP status
//   No IPv6 peers found.
//
// With bird_running false: "\nThe BGP backend process (BIRD) is not running.\n" instead of the
// two sections. Errors: kUnavailable "Calico process is not running." (calicoctl exits 1).
[[nodiscard]] Result<std::string> RenderNodeStatus(const NodeStatusInput& input);

// Runs `birdc -s <socket> show protocols` and parses the reply.
// Errors: RunSubprocess's (kNotFound: birdc missing; kUnavailable: timeout), kUnavailable when
// birdc cannot reach the socket, ParseBirdProtocols' errors.
[[nodiscard]] Result<std::vector<BgpPeerStatus>> ShowBirdPeers(
    const std::string& socket_path, const std::string& birdc_binary = "birdc",
    std::chrono::milliseconds timeout = std::chrono::seconds(5));

// BIRD's `show status` (node/pkg/status/populators/bird_status.go, birdStatus):
//   BIRD 2.0.12 ready.            -> ready
//   BIRD 2.0.12                   -> version "2.0.12"
//   Router ID is 198.18.0.1       -> router_id
//   Current server time is ...    -> server_time
//   Last reboot on ...            -> last_boot
//   Last reconfiguration on ...   -> last_reconfig
struct BirdDaemonStatus {
  bool ready = false;
  std::string version{};
  std::string router_id{};
  std::string server_time{};
  std::string last_boot{};
  std::string last_reconfig{};

  bool operator==(const BirdDaemonStatus&) const = default;
};

// Errors: kUnavailable for birdc's "Unable to connect ..." reply; kInvalidArgument when no line
// of `output` is one of the above.
[[nodiscard]] Result<BirdDaemonStatus> ParseBirdShowStatus(std::string_view output);

// One route of BIRD 2's `show route` (node/pkg/status/populators/route.go, route):
//   10.65.1.0/26   unicast [Mesh_198_18_0_2 14:07:15.779] * (100) [i]
//   \tvia 198.18.0.2 on eth0
// A route line that starts with blanks is another route to the previous destination; the
// indented next-hop line gives gateway and interface ("dev d0": gateway "N/A"). Blackhole and
// unreachable routes have gateway "N/A" and interface "blackhole" / "unreachable", as upstream.
struct BirdRoute {
  std::string destination{};  // "10.65.1.0/26"
  std::string gateway{};      // "198.18.0.2" or "N/A"
  std::string interface {};   // "eth0", "blackhole", "unreachable"
  std::string protocol{};     // The protocol it was learned from: "Mesh_198_18_0_2", "static1".
  bool primary = false;       // Marked "*": the route BIRD exports to the kernel (FIB).
  int family = 4;             // From the table (master4/master6) or the destination.

  bool operator==(const BirdRoute&) const = default;
};

// Errors: kUnavailable for birdc's "Unable to connect ..." reply; kInvalidArgument for a route
// line without a destination to attach it to.
[[nodiscard]] Result<std::vector<BirdRoute>> ParseBirdRoutes(std::string_view output);

// Run `birdc -s <socket> show status` / `show route` and parse the reply. Errors as ShowBirdPeers.
[[nodiscard]] Result<BirdDaemonStatus> ShowBirdStatus(
    const std::string& socket_path, const std::string& birdc_binary = "birdc",
    std::chrono::milliseconds timeout = std::chrono::seconds(5));
[[nodiscard]] Result<std::vector<BirdRoute>> ShowBirdRoutes(
    const std::string& socket_path, const std::string& birdc_binary = "birdc",
    std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The BGP part of `calicoctl node status` for the BIRD control socket `socket_path`: what
// RenderNodeStatus prints after its first (process) line, from ShowBirdPeers (a BIRD that does not
// answer is reported as not running). Errors: RenderNodeStatus's.
[[nodiscard]] Result<std::string> NodeStatusBgpSection(const std::string& socket_path);

}  // namespace calico::bird
