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

// The BGP part of `calicoctl node status` for the BIRD control socket `socket_path`: what
// RenderNodeStatus prints after its first (process) line, from ShowBirdPeers (a BIRD that does not
// answer is reported as not running). Errors: RenderNodeStatus's.
[[nodiscard]] Result<std::string> NodeStatusBgpSection(const std::string& socket_path);

}  // namespace calico::bird
