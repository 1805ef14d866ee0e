// Test helper: fresh directories under the system temp dir, named
// calico-<what>-<pid>-<n>, removed when the test process exits.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace calico::testing {

inline std::filesystem::path MakeTestDir(std::string_view what) {
  struct Registry {
    std::mutex mu;
    std::vector<std::filesystem::path> dirs;
    int counter = 0;
    ~Registry() {
      std::error_code ec;
      for (const auto& d : dirs)
        std::filesystem::remove_all(d, ec);
    }
  };
  static Registry registry;
  std::lock_guard<std::mutex> lock(registry.mu);
  auto dir = std::filesystem::temp_directory_path() /
             ("calico-" + std::string(what) + "-" + std::to_string(::getpid()) + "-" +
              std::to_string(registry.counter++));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  registry.dirs.push_back(dir);
  return dir;
}

}  // namespace calico::testing
