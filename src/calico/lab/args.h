// The calico-lab command line (DESIGN.md section 6):
//
//   calico-lab [--bin DIR] [--state-dir DIR] [-v] COMMAND ...
//     up [--hosts N] [--datastore local|etcd] [--etcd-members N] [--backend bird|vxlan] [--ipv6]
//        [--node-cmd CMD]
//     run HOST --net NET[,NET...] [--ip ADDR] --name NAME -- CMD...
//     run HOST --namespace NS [--label K=V]... [--port NAME=PORT[/PROTO]]... --name NAME -- CMD...
//     list
//     exec NAME [--] CMD...
//     host HOST [--] CMD...
//     rm NAME
//     stop HOST|etcd|etcd-N [--kill]
//     start HOST|etcd|etcd-N
//     down
//     tutorial NAME                   (not implemented yet)
//
// Flags take "--flag value" or "--flag=value" and may come anywhere before the command words;
// global flags are accepted before or after COMMAND. For `exec` and `host` everything after the
// NAME/HOST word is the command (a leading "--" is dropped); `run` needs the "--".
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "calico/base/result.h"

namespace calico::lab {

enum class Datastore { kLocal, kEtcd };
enum class Backend { kBird, kVxlan };

std::string_view DatastoreName(Datastore d);  // "local" | "etcd"
std::string_view BackendName(Backend b);      // "bird" | "vxlan"
[[nodiscard]] Result<Datastore> ParseDatastore(std::string_view text);
[[nodiscard]] Result<Backend> ParseBackend(std::string_view text);

// The node process started in each host namespace when neither --node-cmd nor CALICO_LAB_NODE_CMD
// says otherwise. `calico-node -felix` is the policy agent only; the full `calico-node` (start-up,
// agent and BIRD) takes the same environment and plugs in here once it carries BIRD.
inline constexpr std::string_view kDefaultNodeCommand = "calico-node";
inline constexpr int kMaxHosts = 99;
// The network of Kubernetes pods, named as in Calico's manifests; its conflist carries
// "policy": {"type": "k8s"}.
inline constexpr std::string_view kK8sNetworkName = "k8s-pod-network";

struct GlobalOptions {
  std::string bin_dir;    // --bin (else CALICO_LAB_BIN, else the directory of calico-lab)
  std::string state_dir;  // --state-dir (else CALICO_LAB_STATE_DIR, else /run/calico-lab)
  bool verbose = false;   // -v/--verbose: print every command the lab runs
};

struct UpCommand {
  int hosts = 2;
  bool controllers = true;  // --no-controllers: do not start calico-controllers
  Datastore datastore = Datastore::kLocal;
  Backend backend = Backend::kBird;
  bool ipv6 = false;
  std::vector<std::string> node_command;  // --node-cmd split on blanks; empty: the default
  int etcd_members = 1;                   // --etcd-members (1-5; needs --datastore etcd)
};
// A pod's named container port (--port http=8080/TCP).
struct PodPort {
  std::string name;
  int port = 0;
  std::string protocol = "TCP";
  bool operator==(const PodPort&) const = default;
};
struct RunCommand {
  std::string host;
  std::vector<std::string> nets;  // in order; the first gets eth0
  std::string ip;                 // --ip: passed to the first network as CNI_ARGS IP=
  std::string name;
  std::vector<std::string> argv;
  // --namespace: the workload is a Kubernetes pod NAME in that namespace (CNI_ARGS
  // K8S_POD_NAMESPACE/K8S_POD_NAME; the network defaults to k8s-pod-network); its --label and
  // --port go to the plugin in the network config's args.cni.labels / args.cni.ports.
  std::string k8s_namespace;
  std::map<std::string, std::string> labels;
  std::vector<PodPort> ports;
};
struct ListCommand {};
struct ExecCommand {
  std::string name;
  std::vector<std::string> argv;
};
struct HostCommand {
  std::string host;
  std::vector<std::string> argv;
};
struct RmCommand {
  std::string name;
};
struct DownCommand {};
// Stops (SIGTERM, or SIGKILL with --kill) / starts again one lab process: a host's node process
// or an etcd member, for fault tests and for playing with failures by hand.
struct StopCommand {
  std::string target;  // a host name, "etcd" or "etcd-N"
  bool kill = false;
};
struct StartCommand {
  std::string target;
};
struct TutorialCommand {
  std::string name;
  std::string datastore = "local";  // local | etcd
  bool keep = false;                // leave the lab up afterwards
};
struct HelpCommand {};

using Command =
    std::variant<HelpCommand, UpCommand, RunCommand, ListCommand, ExecCommand, HostCommand,
                 RmCommand, DownCommand, TutorialCommand, StopCommand, StartCommand>;

struct Invocation {
  GlobalOptions global;
  Command command;
};

// Parses the arguments after argv[0]. Errors (kInvalidArgument) read like
//   "run: missing --name", "up: invalid --hosts \"x\" (1-99)", "unknown command \"foo\"".
[[nodiscard]] Result<Invocation> ParseArgs(std::span<const std::string> args);

std::string Usage();

// Checks a workload name: 1-40 characters from [a-z0-9_.-], starting with a letter or digit;
// "node" is reserved (list shows the hosts' node processes under it).
[[nodiscard]] Status ValidateWorkloadName(std::string_view name);
// Checks a network name the way the CNI plugin does ([a-zA-Z0-9_.-]+).
[[nodiscard]] Status ValidateNetworkName(std::string_view name);
// Splits a command string on blanks ("calico-node -felix" -> {"calico-node", "-felix"}).
std::vector<std::string> SplitCommand(std::string_view text);

}  // namespace calico::lab
