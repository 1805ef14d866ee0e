#include "calico/base/testing/golden.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

namespace calico::testing {
namespace {

// The helper's own golden: a mismatch fails, a match passes.
TEST(GoldenTest, ComparesWithTheCheckedInFile) {
  if (UpdatingGoldens()) GTEST_SKIP() << "this test checks comparison, not rewriting";
  ExpectGolden("src/calico/base/testing/testdata/hello.golden", "hello, golden\n");
  EXPECT_NONFATAL_FAILURE(
      ExpectGolden("src/calico/base/testing/testdata/hello.golden", "something else\n"),
      "CALICO_UPDATE_GOLDENS=1 rewrites it");
  EXPECT_FATAL_FAILURE(ExpectGolden("src/calico/base/testing/testdata/missing.golden", "x"),
                       "missing golden");
}

TEST(GoldenTest, SourcePathIsInTheTree) {
  EXPECT_TRUE(std::filesystem::exists(SourcePath("src/calico/base/testing/golden.h")));
  EXPECT_EQ(ReadSourceFile("src/calico/base/testing/testdata/hello.golden"), "hello, golden\n");
}

}  // namespace
}  // namespace calico::testing
