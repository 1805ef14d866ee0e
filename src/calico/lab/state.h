// The lab's state directory (layout.h): lab.json, workload records and pid files. Everything the
// lab starts or creates is written here before or right after it exists, so `down` can undo a run
// that crashed at any point. Files are replaced atomically (write to a temporary, rename).
//
// Thread-safety: none; commands that change the state hold the lab lock (lab.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/lab/layout.h"

namespace calico::lab {

// A process the lab started: its PID and its start time (clock ticks after boot, field 22 of
// /proc/PID/stat; 0 when unknown).
struct ProcessRef {
  int pid = 0;
  uint64_t start_time = 0;
  bool operator==(const ProcessRef&) const = default;
};

struct WorkloadNet {
  std::string name;              // the network (CNI "name")
  std::string ifname;            // eth0, eth1, ...
  std::vector<std::string> ips;  // without prefix length
  std::string result;            // the ADD result as the plugin printed it
  bool operator==(const WorkloadNet&) const = default;
};

struct WorkloadRecord {
  std::string name;
  std::string host;
  std::string netns;
  std::string container_id;
  std::string requested_ip;
  std::vector<std::string> argv;
  std::vector<WorkloadNet> nets;  // the networks ADD succeeded for, in order
  ProcessRef process;             // pid 0 while the workload is being set up
  int64_t created = 0;            // Unix seconds
  // A Kubernetes pod (run --namespace): its namespace, labels and named ports.
  std::string k8s_namespace;
  std::map<std::string, std::string> labels;
  std::vector<PodPort> ports;
  bool operator==(const WorkloadRecord&) const = default;
};

std::string LabConfigToJson(const LabConfig& config);
[[nodiscard]] Result<LabConfig> LabConfigFromJson(std::string_view text);
std::string WorkloadToJson(const WorkloadRecord& workload);
[[nodiscard]] Result<WorkloadRecord> WorkloadFromJson(std::string_view text);

// "PID STARTTIME\n"; ParsePidFile also takes a bare "PID" (start time 0).
std::string PidFileText(const ProcessRef& ref);
[[nodiscard]] Result<ProcessRef> ParsePidFile(std::string_view text);

// Whole-file helpers. WriteFileAtomic creates missing parent directories.
[[nodiscard]] Result<std::string> ReadFile(const std::string& path);
[[nodiscard]] Status WriteFileAtomic(const std::string& path, std::string_view contents);

class StateDir {
 public:
  explicit StateDir(std::string root) : paths_(std::move(root)) {}
  const Paths& paths() const { return paths_; }

  // True when the directory exists (even partially).
  bool Exists() const;
  // kNotFound "lab is not up: run calico-lab up" when there is no lab.json; kInvalidArgument for
  // a corrupt one (naming the file and suggesting calico-lab down).
  [[nodiscard]] Result<LabConfig> LoadConfig() const;
  [[nodiscard]] Status SaveConfig(const LabConfig& config) const;

  // kNotFound "no workload NAME (workloads: a, b)" / "... (no workloads)".
  [[nodiscard]] Result<WorkloadRecord> LoadWorkload(std::string_view name) const;
  [[nodiscard]] Status SaveWorkload(const WorkloadRecord& workload) const;
  bool HasWorkload(std::string_view name) const;
  // Sorted by name. A directory whose record is missing or corrupt is returned as a record with
  // only the name set (and netns derived from it), so that rm and down can still clean it up.
  std::vector<WorkloadRecord> ListWorkloads() const;
  std::vector<std::string> WorkloadNames() const;
  [[nodiscard]] Status RemoveWorkload(std::string_view name) const;

  [[nodiscard]] Status SavePid(const std::string& path, const ProcessRef& ref) const;
  // Every pid file under the state directory (node.pid, bird.pid, etcd.pid, ...), but not the
  // workloads' (they are in their records). Unreadable files are skipped.
  std::vector<std::pair<std::string, ProcessRef>> PidFiles() const;

  // Removes the whole directory. Missing is fine.
  [[nodiscard]] Status RemoveAll() const;

 private:
  Paths paths_;
};

// kNotFound "no host calico-07 (hosts: calico-01, calico-02)".
[[nodiscard]] Status CheckHost(const LabConfig& config, std::string_view host);

}  // namespace calico::lab
