// Logging: spdlog behind named per-component loggers (Envoy's Loggable<Id>, OVS's
// VLOG_DEFINE_THIS_MODULE). Messages are key=value so they read like felix's logrus output.
//
//   CALICO_LOG(info, "ipam", "assigned ip={} handle={}", ip, handle);
//
// Levels: trace, debug, info, warn, error, critical. SetLevel("ipam", "debug") changes one
// component at run time; SetAllLevels() changes all, and sets the level for loggers created later.
// Loggers write to stderr by default; SetLogFile() redirects every component to a file.
//
// Thread-safety: all functions are thread-safe (spdlog's registry is).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace calico::log {

// The logger for a component, created on first use.
std::shared_ptr<spdlog::logger> Get(std::string_view component);

// Parses "trace|debug|info|warning|warn|error|fatal|critical|panic|off" (case-insensitive, Calico's
// logrus names included). Unknown names give info.
spdlog::level::level_enum ParseLevel(std::string_view name);

void SetLevel(std::string_view component, std::string_view level);
void SetAllLevels(std::string_view level);

// Redirects all loggers (existing and future) to `path` (appending). Returns false on failure.
bool SetLogFile(const std::string& path);

// Adds `path` (appending; Felix's log file, rotated by logrotate, not by us) as a second output of
// all loggers (existing and future). Returns false (and changes nothing) on failure.
bool AddLogFile(const std::string& path);

// Separate levels for stderr and the added log files (Felix's logSeverityScreen and
// logSeverityFile): loggers pass what either wants, each output keeps its own level.
void SetScreenAndFileLevels(std::string_view screen, std::string_view file);

// Adds `path` as a second output of all loggers (existing and future), beside the current one,
// rotated by size: when it would exceed `max_bytes` it becomes <stem>.1<ext> (the older ones
// shift up, at most `max_files` are kept). Returns false (and changes nothing) on failure.
bool AddRotatingLogFile(const std::string& path, std::size_t max_bytes, std::size_t max_files);

}  // namespace calico::log

#define CALICO_LOG(level, component, ...) ::calico::log::Get(component)->level(__VA_ARGS__)
