#include "calico/base/cleanup.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "calico/base/unique_fd.h"

namespace calico {
namespace {

TEST(CleanupTest, RunsAtScopeEndUnlessCancelled) {
  int runs = 0;
  {
    Cleanup c([&] { ++runs; });
  }
  EXPECT_EQ(runs, 1);
  {
    Cleanup c([&] { ++runs; });
    std::move(c).Cancel();
  }
  EXPECT_EQ(runs, 1);
  {
    Cleanup c([&] { ++runs; });
    std::move(c).Invoke();
    EXPECT_EQ(runs, 2);
  }
  EXPECT_EQ(runs, 2);  // Invoke runs it once.
}

TEST(CleanupTest, MovedFromDoesNotRun) {
  int runs = 0;
  {
    Cleanup a([&] { ++runs; });
    Cleanup b(std::move(a));
  }
  EXPECT_EQ(runs, 1);
}

Status Step(std::vector<std::string>& log, const std::string& name, bool fail) {
  log.push_back(name);
  if (fail) return Unavailable(name + " failed");
  return OkStatus();
}

Status ThreeSteps(std::vector<std::string>& log, int fail_at, bool undo_fails) {
  UndoStack undo("cleanup_test");
  RETURN_IF_ERROR(Step(log, "a", fail_at == 0));
  undo.Push("undo a", [&] { return Step(log, "undo a", false); });
  RETURN_IF_ERROR(Step(log, "b", fail_at == 1));
  undo.Push("undo b", [&] { return Step(log, "undo b", undo_fails); });
  RETURN_IF_ERROR(Step(log, "c", fail_at == 2));
  undo.Commit();
  return OkStatus();
}

TEST(UndoStackTest, UndoesDoneStepsInReverseOnFailure) {
  std::vector<std::string> log;
  EXPECT_FALSE(ThreeSteps(log, 2, false));
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c", "undo b", "undo a"}));
}

TEST(UndoStackTest, CommitKeepsEverything) {
  std::vector<std::string> log;
  EXPECT_TRUE(ThreeSteps(log, -1, false));
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(UndoStackTest, AFailingUndoStepDoesNotStopTheRest) {
  std::vector<std::string> log;
  EXPECT_FALSE(ThreeSteps(log, 2, true));
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c", "undo b", "undo a"}));
}

bool IsOpen(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

TEST(UniqueFdTest, ClosesOnceAndMoves) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    UniqueFd a(raw);
    EXPECT_TRUE(a.valid());
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is defined.
    EXPECT_EQ(b.get(), raw);
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));

  UniqueFd c(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int first = c.get();
  c.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_FALSE(IsOpen(first) && first != c.get());
  const int released = c.release();
  EXPECT_FALSE(c);
  EXPECT_TRUE(IsOpen(released));
  ::close(released);

  UniqueFd none;
  EXPECT_EQ(none.get(), -1);
  none = UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(none);
}

}  // namespace
}  // namespace calico
