// Golden-file helper for the policy tests: compares text with src/calico/policy/testdata/<name>.
// UPDATE_GOLDEN=1 (or CALICO_UPDATE_GOLDENS=1, as in the ctl tests) rewrites the files instead.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace calico::policy::testing {

inline std::string TestdataPath(const std::string& name) {
  return std::string(CALICO_SOURCE_DIR) + "/src/calico/policy/testdata/" + name;
}

inline bool UpdateGoldens() {
  for (const char* var : {"UPDATE_GOLDEN", "CALICO_UPDATE_GOLDENS"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && std::string(v) == "1") return true;
  }
  return false;
}

inline std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = TestdataPath(name);
  if (UpdateGoldens()) {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream f(path, std::ios::binary);
  ASSERT_TRUE(f.good()) << "missing golden " << path << " (run with UPDATE_GOLDEN=1)";
  EXPECT_EQ(actual, ReadFileOrEmpty(path)) << "golden " << name << " (UPDATE_GOLDEN=1 rewrites it)";
}

}  // namespace calico::policy::testing
