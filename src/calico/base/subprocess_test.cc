#include "calico/base/subprocess.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/status_matchers.h"
#include "calico/base/testing/temp_dir.h"
#include "calico/base/unique_fd.h"

namespace calico {
namespace {

using ::calico::testing::IsOk;
using ::calico::testing::StatusIs;
using ::testing::HasSubstr;

TEST(RunSubprocessTest, CapturesOutputApartAndTheExitCode) {
  auto r = RunSubprocess({.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(RunSubprocessTest, MergedStderrIsInterleaved) {
  auto r = RunSubprocess({.argv = {"sh", "-c", "echo one; echo two >&2; echo three"}},
                         {.merge_stderr = true});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->out, "one\ntwo\nthree\n");
  EXPECT_EQ(r->err, "");
}

TEST(RunSubprocessTest, ArgumentsAreNotShellWords) {
  // argv goes to the program as it is: no word splitting, globbing or substitution.
  auto r = RunSubprocess({.argv = {"printf", "%s|", "a b", "*", "$(id)", "'q'"}});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->out, "a b|*|$(id)|'q'|");
}

TEST(RunSubprocessTest, FeedsStdin) {
  auto r = RunSubprocess({.argv = {"cat"}}, {.input = "line 1\nline 2\n"});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->out, "line 1\nline 2\n");
}

TEST(RunSubprocessTest, LargeOutputAndUnreadInput) {
  // More than a pipe buffer each way; the child never reads its stdin and exits, which must not
  // kill the caller with SIGPIPE.
  const std::string input(1 << 20, 'x');
  auto r =
      RunSubprocess({.argv = {"sh", "-c", "head -c 300000 /dev/zero; exit 0"}}, {.input = input});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->out.size(), 300000u);
  EXPECT_EQ(r->exit_code, 0);
}

TEST(RunSubprocessTest, TimeoutKillsTheChild) {
  auto r = RunSubprocess({.argv = {"sh", "-c", "echo partial; exec sleep 30"}},
                         {.timeout = std::chrono::milliseconds(300)});
  EXPECT_THAT(r, StatusIs(ErrorCode::kUnavailable, HasSubstr("sh timed out after 300 ms")));
  EXPECT_THAT(r, StatusIs(ErrorCode::kUnavailable, HasSubstr("partial")));
}

TEST(RunSubprocessTest, SignalledChildGives128PlusSignal) {
  auto r = RunSubprocess({.argv = {"sh", "-c", "kill -TERM $$"}});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->exit_code, 128 + SIGTERM);
}

TEST(RunSubprocessTest, MissingProgramAndEmptyArgv) {
  EXPECT_THAT(
      RunSubprocess({.argv = {"no-such-program-calico"}}),
      StatusIs(ErrorCode::kNotFound, HasSubstr("no-such-program-calico: command not found")));
  EXPECT_THAT(RunSubprocess({.argv = {"/nonexistent/prog"}}),
              StatusIs(ErrorCode::kNotFound, "/nonexistent/prog: command not found"));
  EXPECT_THAT(RunSubprocess({}), StatusIs(ErrorCode::kInvalidArgument, "empty command"));
}

TEST(RunSubprocessTest, CompleteEnvironmentAndDirectory) {
  const auto dir = testing::MakeTestDir("subprocess");
  auto r = RunSubprocess({.argv = {"sh", "-c", "echo \"$FOO ${HOME:-unset}\"; pwd"},
                          .env = Environment{{"FOO", "bar"}, {"PATH", "/usr/bin:/bin"}},
                          .cwd = dir.string()});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->out, "bar unset\n" + dir.string() + "\n");

  EXPECT_THAT(RunSubprocess({.argv = {"true"}, .cwd = "/nonexistent-dir"}),
              StatusIs(ErrorCode::kNotFound, HasSubstr("start true: chdir /nonexistent-dir")));
}

TEST(RunSubprocessTest, InheritsOnlyStdio) {
  UniqueFd leaked(::open("/dev/null", O_RDONLY));  // no O_CLOEXEC on purpose
  ASSERT_TRUE(leaked);
  const std::string path = "/proc/self/fd/" + std::to_string(leaked.get());
  auto r =
      RunSubprocess({.argv = {"sh", "-c", "test -e " + path + " && echo open || echo closed"}});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->out, "closed\n");
}

TEST(RunSubprocessTest, NetworkNamespaceByFd) {
  // Not a namespace: setns fails in the child and the error says which step.
  UniqueFd not_ns(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_THAT(
      RunSubprocess({.argv = {"true"}, .netns_fd = not_ns.get()}),
      StatusIs(ErrorCode::kInvalidArgument, HasSubstr("start true: enter the network namespace")));
  if (::geteuid() != 0) GTEST_SKIP() << "entering a namespace needs root";
  UniqueFd own(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(own);
  auto r = RunSubprocess({.argv = {"readlink", "/proc/self/ns/net"}, .netns_fd = own.get()});
  ASSERT_THAT(r, IsOk());
  char self[128] = {};
  ASSERT_GT(::readlink("/proc/self/ns/net", self, sizeof(self) - 1), 0);
  EXPECT_EQ(r->out, std::string(self) + "\n");
}

TEST(RunSubprocessTest, ConcurrentCallsEachGetTheirOwnChild) {
  std::vector<std::thread> threads;
  std::vector<std::string> outs(6);
  for (size_t i = 0; i < outs.size(); ++i) {
    threads.emplace_back([&outs, i] {
      auto r = RunSubprocess({.argv = {"sh", "-c", "echo " + std::to_string(i)}});
      outs[i] = r ? r->out : r.error().message();
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    EXPECT_EQ(outs[i], std::to_string(i) + "\n");
  }
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(SpawnSubprocessTest, AppendsToTheLogAndReturnsThePid) {
  const auto dir = testing::MakeTestDir("spawn");
  const std::string log = (dir / "child.log").string();
  { std::ofstream(log) << "before\n"; }
  auto pid = SpawnSubprocess({.argv = {"sh", "-c", "echo out; echo err >&2; exit 4"}},
                             {.log_path = log, .new_session = true});
  ASSERT_THAT(pid, IsOk());
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  EXPECT_EQ(ExitCodeFromWaitStatus(status), 4);
  EXPECT_EQ(ReadAll(log), "before\nout\nerr\n");
}

TEST(SpawnSubprocessTest, SetsTheChildsUmask) {
  const auto dir = testing::MakeTestDir("spawn-umask");
  const std::string log = (dir / "child.log").string();
  auto pid = SpawnSubprocess({.argv = {"sh", "-c", "umask"}, .umask = 077}, {.log_path = log});
  ASSERT_THAT(pid, IsOk());
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  EXPECT_EQ(ReadAll(log), "0077\n");
  // RunSubprocess too; the caller's umask is untouched.
  const mode_t before = ::umask(022);
  auto ran = RunSubprocess({.argv = {"sh", "-c", "umask"}, .umask = 027});
  ASSERT_THAT(ran, IsOk());
  EXPECT_EQ(ran->out, "0027\n");
  EXPECT_EQ(::umask(before), 022);
}

// bird is started this way: it must not outlive the thread (in calico-node, the process) that
// supervises it.
TEST(SpawnSubprocessTest, DieWithParentKillsTheChildWhenTheSpawningThreadEnds) {
  Result<pid_t> pid = Internal("not spawned");
  std::thread spawner([&] {
    pid = SpawnSubprocess({.argv = {"sleep", "600"}}, {.die_with_parent = true});
  });
  spawner.join();
  ASSERT_THAT(pid, IsOk());
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);  // Returns only once the child is gone.
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(SpawnSubprocessTest, ExecFailuresAreErrorsNotDeadChildren) {
  EXPECT_THAT(SpawnSubprocess({.argv = {"no-such-program-calico"}}),
              StatusIs(ErrorCode::kNotFound));
  EXPECT_THAT(SpawnSubprocess({.argv = {"true"}, .cwd = "/nonexistent-dir"}),
              StatusIs(ErrorCode::kNotFound, HasSubstr("chdir")));
  EXPECT_THAT(SpawnSubprocess({.argv = {"true"}}, {.log_path = "/nonexistent-dir/x.log"}),
              StatusIs(ErrorCode::kNotFound, HasSubstr("open /nonexistent-dir/x.log")));
}

TEST(ExecSubprocessTest, ReplacesTheProcess) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Status st = ExecSubprocess({.argv = {"sh", "-c", "exit 7"}});
    ::_exit(st ? 0 : 99);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_EQ(ExitCodeFromWaitStatus(status), 7);
  EXPECT_THAT(ExecSubprocess({.argv = {"no-such-program-calico"}}), StatusIs(ErrorCode::kNotFound));
}

TEST(FindProgramTest, LooksUpPath) {
  EXPECT_EQ(FindProgram("sh", "/nonexistent:/bin"), "/bin/sh");
  EXPECT_EQ(FindProgram("./local", "/bin"), "./local");
  EXPECT_EQ(FindProgram("no-such-program-calico", "/bin:/usr/bin"), "");
  EXPECT_TRUE(CurrentEnvironment().contains("PATH"));
}

}  // namespace
}  // namespace calico
