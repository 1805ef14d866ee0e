// BirdSupervisor: owns one BIRD 2 daemon, the job runit and confd share in calico-node (reference
// §4.1: configs checked with `bird -p -c`, reloaded with `sv hup bird`, control socket
// /var/run/calico/bird.ctl).
//
//   Start(text)        write <dir>/bird.conf.new, `bird -p -c` it (BIRD's error text on failure,
//                      nothing started), rename over bird.conf, fork/exec
//                      `bird -f -c bird.conf -s bird.ctl -P bird.pid` (stdout/stderr → bird.log,
//                      inside options.netns_path when set), wait until bird.ctl answers
//   Reconfigure(text)  unchanged text: no-op; else `bird -p` check, rename, `birdc -s bird.ctl
//                      configure`; a rejected config leaves the running one (and the previous
//                      bird.conf) in place
//   Running()          reaps the child if it exited
//   EnsureRunning()    restarts a dead bird with the last good config, in graceful-restart
//                      recovery (`bird -R`, as calico-node's runit script runs it)
//   Stop()             SIGTERM, SIGKILL after 5 s; removes bird.ctl and bird.pid: bird withdraws
//                      this node's routes from its peers (BGP Cease)
//   StopForRestart()   `birdc graceful restart` (SIGKILL after 5 s): peers keep this node's
//                      routes as stale (RFC 4724, `graceful restart` in the rendered template) and
//                      the kernel keeps bird's routes (`persist`); the next Start recovers
//
// bird never outlives the process that supervises it: the child asks the kernel for SIGKILL when
// its parent dies (PR_SET_PDEATHSIG), so a SIGKILLed calico-node takes its bird along, and the
// peers see what they see after a graceful stop. A bird left by a supervisor that predates this
// (its bird.pid names a live bird serving our bird.ctl) is killed by the next Start.
//
// Graceful restart recovery: Start and EnsureRunning run `bird -R` when the previous bird did not
// end with a full Stop (bird.pid or the bird.restart marker left behind). bird then keeps the
// kernel's routes until its BGP sessions are back and have sent End-of-RIB, instead of deleting
// them at its first kernel scan, so traffic through the peers' blocks keeps flowing. Calico runs
// bird -R always (node/filesystem/etc/service/available/bird/run); here only after such an end,
// because recovery also holds back kernel updates until every graceful-restart peer is back (or
// BIRD's `graceful restart wait`, 240 s, passes) when a peer is down at the time.
//
// bird.conf and bird.conf.new are written mode 0600: they hold the BGP passwords; bird.ctl is
// created under umask 077 (root only) and a run directory this class creates is 0755.
//
// Foreground mode (-f) keeps bird our child, so its PID is known exactly and it is the only
// process this class ever signals, apart from a stale bird identified as above. The namespace is
// entered in the forked child (setns before exec, like `nsenter --net=`), so restarts from any
// thread land in the same namespace. PR_SET_PDEATHSIG fires when the *thread* that forked the
// child ends: call Start/EnsureRunning from a thread that lives as long as bird should (calico-node
// calls them from its main thread).
//
// Thread-safety: all methods are serialised by an internal mutex.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "calico/base/result.h"
#include "calico/bird/bird_daemon.h"

namespace calico::bird {

struct BirdSupervisorOptions {
  // Directory for bird.conf, bird.ctl, bird.pid and bird.log; created if missing.
  std::string run_dir{};
  // A network namespace file (/run/netns/<name>) bird runs in; "" = the caller's namespace.
  std::string netns_path{};
  std::string bird_binary = "bird";
  std::string birdc_binary = "birdc";
  // How long Start waits for the control socket, and how long `bird -p` / `birdc` may take.
  std::chrono::milliseconds start_timeout{10000};
  std::chrono::milliseconds command_timeout{10000};
  // Stop sends SIGKILL when bird has not exited this long after SIGTERM.
  std::chrono::milliseconds stop_timeout{5000};
};

class BirdSupervisor final : public BirdDaemon {
 public:
  explicit BirdSupervisor(BirdSupervisorOptions options);
  // Stops bird if it runs (errors are logged).
  ~BirdSupervisor() override;
  BirdSupervisor(const BirdSupervisor&) = delete;
  BirdSupervisor& operator=(const BirdSupervisor&) = delete;
  BirdSupervisor(BirdSupervisor&&) = delete;
  BirdSupervisor& operator=(BirdSupervisor&&) = delete;

  // Errors: kInvalidArgument (bird -p rejected the text: BIRD's message, with the path of
  // bird.conf), kAlreadyExists (this object's bird runs, or another bird answers on the socket),
  // kNotFound (bird is not installed / the namespace does not exist), kUnavailable (bird exited
  // or did not answer in time: the tail of bird.log), kInternal (files).
  [[nodiscard]] Status Start(const std::string& config_text) override;
  // Errors: kInvalidArgument (rejected by `bird -p` or by the running bird; the running config
  // is kept), kUnavailable (not running, or birdc failed).
  [[nodiscard]] Status Reconfigure(const std::string& config_text) override;
  // Idempotent. Errors: kInternal when the child could not be signalled.
  [[nodiscard]] Status Stop();
  // Ends bird for a restart (calico-node stopping with a restart requested: package upgrades):
  // `birdc graceful restart`, SIGKILL when bird has not exited after options.stop_timeout, and
  // the bird.restart marker so that the next Start recovers. Idempotent. Errors: kInternal
  // (files, signals).
  [[nodiscard]] Status StopForRestart();
  bool Running() override;
  // Starts bird again with the last configuration it accepted when it is not running.
  // Errors: kInvalidArgument when Start never succeeded; Start's errors.
  [[nodiscard]] Status EnsureRunning() override;

  // 0 when not running.
  pid_t pid();
  const std::string& config_path() const override { return config_path_; }
  const std::string& socket_path() const { return socket_path_; }
  const std::string& pid_path() const { return pid_path_; }
  const std::string& log_path() const { return log_path_; }
  const std::string& restart_marker_path() const { return restart_marker_path_; }
  // Whether the running bird was started with graceful restart recovery (-R).
  bool recovering();
  // The PID of the stale bird the last Start killed (0: none).
  pid_t killed_stale_pid();
  // The configuration bird runs with (last one accepted), "" before the first Start.
  std::string current_config() override;

 private:
  [[nodiscard]] Status StartLocked(const std::string& config_text, bool recovery);
  [[nodiscard]] Status StopLocked();
  // Kills a bird that an earlier supervisor left running on our socket (its pid file names a live
  // bird whose command line has `-s <our bird.ctl>`), and waits until it is gone.
  [[nodiscard]] Status KillStaleLocked();
  bool RunningLocked();
  // Waits up to options_.stop_timeout for bird to exit; if it has not, logs "bird pid=<pid>
  // <why_kill>: SIGKILL", kills and reaps it.
  void AwaitExitOrKillLocked(std::string_view why_kill);
  // Writes `text` to bird.conf.new and checks it with `bird -p -c`; on success the candidate is
  // left in place for CommitCandidate.
  [[nodiscard]] Status CheckCandidate(const std::string& text);
  [[nodiscard]] Status CommitCandidate();
  std::string LogTail() const;

  const BirdSupervisorOptions options_;
  const std::string config_path_;
  const std::string candidate_path_;
  const std::string socket_path_;
  const std::string pid_path_;
  const std::string log_path_;
  const std::string restart_marker_path_;

  std::mutex mu_;
  pid_t pid_ = 0;
  std::optional<std::string> good_config_;  // Last text bird accepted.
  std::string last_exit_;                   // How the last child ended ("exit 1", "signal 9").
  bool recovering_ = false;                 // The running bird was started with -R.
  pid_t killed_stale_pid_ = 0;
};

// Connects to a BIRD control socket and reads its "0001 BIRD ... ready." greeting.
bool BirdSocketAnswers(const std::string& socket_path, std::chrono::milliseconds timeout);

}  // namespace calico::bird
