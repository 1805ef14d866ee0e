// Golden files: text a test produces, compared with a file checked in under testdata/ next to the
// test (OVS AT_CHECK, felix's nftables testdata). One switch rewrites them all:
//
//   CALICO_UPDATE_GOLDENS=1 ctest --test-dir build -R policy_test
//
// then review the diff with git. Paths are relative to the source tree:
//
//   ExpectGolden("src/calico/ctl/testdata/tables.golden", out);
//
// Thread-safety: test code, one thread.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace calico::testing {

// The environment variable that makes ExpectGolden rewrite the files.
inline constexpr const char* kUpdateGoldensVar = "CALICO_UPDATE_GOLDENS";

// The absolute path of `relative` in the source tree.
inline std::string SourcePath(std::string_view relative) {
  return std::string(CALICO_SOURCE_DIR) + "/" + std::string(relative);
}

// True when CALICO_UPDATE_GOLDENS=1.
inline bool UpdatingGoldens() {
  const char* value = std::getenv(kUpdateGoldensVar);  // NOLINT(concurrency-mt-unsafe)
  return value != nullptr && std::string_view(value) == "1";
}

// The contents of a file in the source tree; "" plus a test failure when it is missing.
inline std::string ReadSourceFile(std::string_view relative) {
  const std::string path = SourcePath(relative);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `actual` equals the golden file at `relative` (or, with CALICO_UPDATE_GOLDENS=1, becomes it).
inline void ExpectGolden(std::string_view relative, const std::string& actual) {
  const std::string path = SourcePath(relative);
  if (UpdatingGoldens()) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << actual;
    EXPECT_TRUE(out.good()) << "cannot write " << path;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing golden " << path << " (" << kUpdateGoldensVar
                         << "=1 writes it)";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(actual, ss.str()) << "golden " << relative << " (" << kUpdateGoldensVar
                              << "=1 rewrites it)";
}

}  // namespace calico::testing
