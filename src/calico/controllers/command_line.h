// calico-controllers' command line: flags and the environment variables that stand for them
// (NODE_REPORT_TIMEOUT, LOG_LEVEL), checked before anything starts. apps/calico-controllers only
// calls ParseCommandLine and wires the result.
//
//   calico-controllers [--identity NAME] [--lease-duration 15s] [--metrics-port N]
//                      [--metrics-host ADDR] [--node-netns-pattern PATH_WITH_{node}]
//                      [--node-report-timeout DURATION] [--log-level LEVEL]
//   calico-controllers -v | --version | -h | --help
//
// Flags take their value as `--flag value` or `--flag=value`.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/controllers/config.h"

namespace calico::controllers {

struct CommandLine {
  bool version = false;  // -v / --version
  bool help = false;     // -h / --help
  std::string identity;  // empty: the caller uses <hostname>/<pid>
  std::optional<std::chrono::seconds> lease;
  std::optional<int> metrics_port;  // unset: KubeControllersConfiguration's prometheusMetricsPort
  std::string metrics_host = "0.0.0.0";
  std::string node_netns_pattern;
  Duration node_report_timeout{0};  // 0: silent nodes are not cleaned up
  std::string log_level;            // --log-level, else LOG_LEVEL; empty: unchanged
};

// The usage text (ends with a newline).
std::string Usage();

// `args` without the program name. Errors (kInvalidArgument) name the flag or variable:
// "unknown flag --foo", "--metrics-port: not a port number: x".
[[nodiscard]] Result<CommandLine> ParseCommandLine(const std::vector<std::string>& args,
                                                   const std::map<std::string, std::string>& env);

}  // namespace calico::controllers
