// The lab's commands (DESIGN.md section 6): hosts as network namespaces on a fabric bridge, the
// datastore, the node process per host, and workloads wired by the real CNI plugins the way a
// runtime (rkt, podman) drives them.
//
//   up ──▶ lab.json ─▶ fabric netns + bridge ─▶ host netns + veth + address + default route
//          ─▶ [etcd in the fabric netns] ─▶ IP pools (calicoctl apply in calico-01)
//          ─▶ [calico-flows in the fabric netns, FelixConfiguration flowLogsGoldmaneServer]
//          ─▶ node process per host (NodeEnv; pid file) ─▶ calico-controllers in the fabric netns
//          ─▶ check they are still running
//   run ─▶ workload record ─▶ netns ─▶ conflist in the host's net.d ─▶ `calico` ADD in the host
//          netns (CNI_* env + stdin) ─▶ CMD in the workload netns, detached ─▶ print the IPs
//   rm/down ─▶ stop processes (pid + start time) ─▶ CNI DEL ─▶ delete netns ─▶ drop the state
//
// `up` failing part-way removes what it made; `down` works from whatever state is left (no
// lab.json, dead processes, namespaces without records) and finally removes every
// calico-lab-* namespace and the state directory. Commands that change the lab hold an flock on
// STATE.lock, so concurrent `run`s are safe.
//
// Where the full calico-node plugs in: the node command (LabConfig::node_command, --node-cmd,
// CALICO_LAB_NODE_CMD) is started with NodeEnv (NODENAME, IP, IP6, CALICO_NETWORKING_BACKEND,
// NO_DEFAULT_POOLS, the datastore), cwd STATE/<host>; BIRD, when calico-node starts it, should
// keep its control socket and its -P pid file in STATE/<host>/ (bird.pid): `down` stops every
// *.pid it finds there, checking that the process lives in a lab namespace.
//
// Thread-safety: one Lab per process, used from one thread.
#pragma once

#include <ostream>
#include <string>

#include "calico/base/result.h"
#include "calico/lab/args.h"
#include "calico/lab/layout.h"
#include "calico/lab/state.h"

namespace calico::lab {

class Lab {
 public:
  // `env` is the caller's environment (CALICO_LAB_BIN, CALICO_LAB_STATE_DIR, CALICO_LAB_NODE_CMD
  // are read from it); `self_dir` is the directory calico-lab itself is in.
  Lab(GlobalOptions global, EnvMap env, std::string self_dir, std::ostream& out, std::ostream& err);

  [[nodiscard]] Status Up(const UpCommand& up);
  [[nodiscard]] Status Run(const RunCommand& run);
  [[nodiscard]] Status List();
  // Exec and Host replace the calling process with the command; they return only on error.
  [[nodiscard]] Status Exec(const ExecCommand& exec);
  [[nodiscard]] Status Host(const HostCommand& host);
  [[nodiscard]] Status Rm(const RmCommand& rm);
  [[nodiscard]] Status Down();
  // A host's node process or an etcd member: stop (SIGTERM / SIGKILL), start again.
  [[nodiscard]] Status Stop(const StopCommand& stop);
  [[nodiscard]] Status Start(const StartCommand& start);

  // The exit code for the last error: 127 when Exec/Host could not find the command, else 1.
  int failure_exit_code() const { return failure_exit_code_; }
  const Paths& paths() const { return state_.paths(); }

 private:
  class Lock;
  // Runs a command of the lab's own plumbing (ip) and fails with its stderr.
  [[nodiscard]] Status Sh(const std::vector<std::string>& argv);
  [[nodiscard]] Status UpSteps(const LabConfig& config);
  [[nodiscard]] Status StartEtcd(const LabConfig& config);
  [[nodiscard]] Result<ProcessRef> SpawnEtcdMember(const LabConfig& config, int member);
  [[nodiscard]] Result<std::string> PidFileOf(const LabConfig& config, const std::string& target);
  [[nodiscard]] Status CreatePools(const LabConfig& config);
  // calico-flows (when the bin directory has it) in the fabric namespace on kFlowsListen.
  bool HasFlows(const LabConfig& config) const;
  [[nodiscard]] Status StartFlows(const LabConfig& config);
  // `calicoctl create --skip-exists` of the Namespace `ns`.
  [[nodiscard]] Status EnsureNamespace(const LabConfig& config, const std::string& ns);
  [[nodiscard]] Status DownLocked(bool quiet);
  // CNI `command` for one network of a workload; returns the plugin's stdout.
  [[nodiscard]] Result<std::string> Cni(const LabConfig& config, std::string_view command,
                                        const WorkloadRecord& workload, const WorkloadNet& net,
                                        std::string_view ip);
  // Stops the workload's processes, DELs its networks (when the datastore answers), deletes its
  // namespace and, unless a DEL failed (and not `force`), its record.
  [[nodiscard]] Status RemoveWorkload(const LabConfig* config, const WorkloadRecord& workload,
                                      bool force);
  bool DatastoreReachable(const LabConfig& config);
  std::string BinDir() const;  // --bin / CALICO_LAB_BIN / self_dir
  std::string ResolveBinary(const std::string& name, const std::string& bin_dir) const;
  void Note(const std::string& text);

  GlobalOptions global_;
  EnvMap env_;
  std::string self_dir_;
  std::ostream& out_;
  std::ostream& err_;
  StateDir state_;
  int failure_exit_code_ = 1;
};

// The state directory: --state-dir, else CALICO_LAB_STATE_DIR, else /run/calico-lab (absolute).
std::string StateDirFor(const GlobalOptions& global, const EnvMap& env);

}  // namespace calico::lab
