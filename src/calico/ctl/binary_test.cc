// Runs the real build/bin/calicoctl binary (process boundary: argv, exit code, stdout/stderr).
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace {

struct ProcResult {
  int code;
  std::string out;
};

ProcResult RunBinary(const std::string& args) {
  const std::string cmd = std::string(CALICO_BINARY_DIR) + "/bin/calicoctl " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n = 0;
  while (p != nullptr && (n = fread(buf, 1, sizeof(buf), p)) > 0)
    out.append(buf, n);
  const int status = p != nullptr ? pclose(p) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(CalicoctlBinaryTest, VersionAndErrors) {
  auto r = RunBinary("version --client");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("Client Version:    v", 0), 0u) << r.out;
  r = RunBinary("frobnicate");
  EXPECT_EQ(r.code, 1);
  r = RunBinary("get ippools --bogus");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "unknown flag: --bogus\n");
}

}  // namespace
