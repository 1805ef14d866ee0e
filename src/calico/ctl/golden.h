// Golden-file helper for the ctl tests: compares text with src/calico/ctl/testdata/<name>.
// CALICO_UPDATE_GOLDENS=1 rewrites the files instead.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace calico::ctl::testing {

inline std::string GoldenPath(const std::string& name) {
  return std::string(CALICO_SOURCE_DIR) + "/src/calico/ctl/testdata/" + name;
}

inline void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = GoldenPath(name);
  const char* update = std::getenv("CALICO_UPDATE_GOLDENS");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream f(path, std::ios::binary);
  ASSERT_TRUE(f.good()) << "missing golden " << path << " (run with CALICO_UPDATE_GOLDENS=1)";
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(actual, ss.str()) << "golden " << name;
}

}  // namespace calico::ctl::testing
