#include "calico/base/log.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace calico::log {
namespace {

struct State {
  std::mutex mu;
  spdlog::level::level_enum default_level = spdlog::level::info;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  std::vector<spdlog::sink_ptr> extra;  // AddRotatingLogFile
};

constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e [%L] %n: %v";

State& GetState() {
  static State* state = new State();  // Never destroyed: loggers may log during exit.
  return *state;
}

}  // namespace

spdlog::level::level_enum ParseLevel(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "trace") return spdlog::level::trace;
  if (lower == "debug") return spdlog::level::debug;
  if (lower == "info") return spdlog::level::info;
  if (lower == "warning" || lower == "warn") return spdlog::level::warn;
  if (lower == "error") return spdlog::level::err;
  if (lower == "fatal" || lower == "critical" || lower == "panic") return spdlog::level::critical;
  if (lower == "off" || lower == "none") return spdlog::level::off;
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> Get(std::string_view component) {
  State& st = GetState();
  std::lock_guard<std::mutex> lock(st.mu);
  std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  std::vector<spdlog::sink_ptr> sinks{st.sink};
  sinks.insert(sinks.end(), st.extra.begin(), st.extra.end());
  auto logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
  logger->set_level(st.default_level);
  logger->set_pattern(kPattern);
  spdlog::register_logger(logger);
  return logger;
}

void SetLevel(std::string_view component, std::string_view level) {
  Get(component)->set_level(ParseLevel(level));
}

void SetAllLevels(std::string_view level) {
  State& st = GetState();
  {
    std::lock_guard<std::mutex> lock(st.mu);
    st.default_level = ParseLevel(level);
  }
  spdlog::apply_all(
      [&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(ParseLevel(level)); });
}

bool SetLogFile(const std::string& path) {
  spdlog::sink_ptr sink;
  try {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
  } catch (const spdlog::spdlog_ex&) {
    return false;
  }
  State& st = GetState();
  std::lock_guard<std::mutex> lock(st.mu);
  st.sink = sink;
  st.extra.clear();
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    l->sinks().clear();
    l->sinks().push_back(sink);
  });
  return true;
}

bool AddLogFile(const std::string& path) {
  spdlog::sink_ptr sink;
  try {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
  } catch (const spdlog::spdlog_ex&) {
    return false;
  }
  sink->set_pattern(kPattern);
  State& st = GetState();
  std::lock_guard<std::mutex> lock(st.mu);
  sink->set_level(st.default_level);
  st.extra.push_back(sink);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->sinks().push_back(sink); });
  return true;
}

void SetScreenAndFileLevels(std::string_view screen, std::string_view file) {
  const spdlog::level::level_enum s = ParseLevel(screen);
  const spdlog::level::level_enum f = ParseLevel(file);
  State& st = GetState();
  std::lock_guard<std::mutex> lock(st.mu);
  st.sink->set_level(s);
  for (const spdlog::sink_ptr& sink : st.extra)
    sink->set_level(f);
  st.default_level = st.extra.empty() ? s : std::min(s, f);
  spdlog::apply_all(
      [&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(st.default_level); });
}

bool AddRotatingLogFile(const std::string& path, std::size_t max_bytes, std::size_t max_files) {
  spdlog::sink_ptr sink;
  try {
    sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(path, max_bytes, max_files);
  } catch (const spdlog::spdlog_ex&) {
    return false;
  }
  sink->set_pattern(kPattern);
  State& st = GetState();
  std::lock_guard<std::mutex> lock(st.mu);
  st.extra.push_back(sink);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->sinks().push_back(sink); });
  return true;
}

}  // namespace calico::log
