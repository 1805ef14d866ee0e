// Logging: spdlog behind named per-component loggers (Envoy's Loggable<Id>, OVS's
// VLOG_DEFINE_THIS_MODULE). Messages are key=value so they read like felix's logrus output.
//
//   CALICO_LOG(info, "ipam", "assigned ip={} handle={}", ip, handle);
//
// The macro checks the component's level first: when the level is off, the arguments are not
// evaluated and nothing is formatted (Envoy's ENVOY_LOG), so debug lines cost a level check.
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

namespace calico::log::internal {
// The spdlog level of each CALICO_LOG level name.
inline constexpr spdlog::level::level_enum kLevel_trace = spdlog::level::trace;
inline constexpr spdlog::level::level_enum kLevel_debug = spdlog::level::debug;
inline constexpr spdlog::level::level_enum kLevel_info = spdlog::level::info;
inline constexpr spdlog::level::level_enum kLevel_warn = spdlog::level::warn;
inline constexpr spdlog::level::level_enum kLevel_error = spdlog::level::err;
inline constexpr spdlog::level::level_enum kLevel_critical = spdlog::level::critical;
}  // namespace calico::log::internal

// CALICO_LOG(trace|debug|info|warn|error|critical, component, format, args...)
#define CALICO_LOG(level, component, ...)                                                   \
  do {                                                                                      \
    const std::shared_ptr<::spdlog::logger> calico_logger_ = ::calico::log::Get(component); \
    if (calico_logger_->should_log(::calico::log::internal::kLevel_##level)) {              \
      calico_logger_->log(::calico::log::internal::kLevel_##level, __VA_ARGS__);            \
    }                                                                                       \
  } while (false)
