// LinuxNodeInspector on this process's own node (no namespaces are entered or changed): an
// interface or namespace counts as gone only when the kernel says it is not there; any other
// failure is an error, on which the garbage collector removes nothing.
#include "calico/controllers/node_inspector.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace calico::controllers {
namespace {

TEST(LinuxNodeInspectorTest, LocalInterfaces) {
  LinuxNodeInspector inspector("here", "");
  EXPECT_TRUE(inspector.CanInspect("here"));
  EXPECT_FALSE(inspector.CanInspect("elsewhere"));  // no pattern: other nodes are unknown
  EXPECT_FALSE(inspector.CanInspect(""));
  auto lo = inspector.InterfaceExists("here", "lo");
  ASSERT_TRUE(lo) << lo.error().message();
  EXPECT_TRUE(*lo);
  auto gone = inspector.InterfaceExists("here", "calinotthere0");
  ASSERT_TRUE(gone) << gone.error().message();
  EXPECT_FALSE(*gone);
  auto other = inspector.InterfaceExists("elsewhere", "lo");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kUnavailable);
}

TEST(LinuxNodeInspectorTest, NamespacesGoneOnlyWhenNotThere) {
  LinuxNodeInspector inspector("here", "");
  const std::string own = "/proc/self/ns/net";
  const std::string inode = NetnsInode(own);
  ASSERT_FALSE(inode.empty());
  auto r = inspector.NetnsExists("here", own, inode);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(*r);
  r = inspector.NetnsExists("here", own, "");
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  r = inspector.NetnsExists("here", own, "1");  // the path now names another namespace
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  r = inspector.NetnsExists("here", "/run/netns/calico-test-not-there", "");
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_FALSE(inspector.NetnsExists("here", "", ""));

  // A path that cannot be examined (here a symlink loop) is not "gone".
  const std::string dir = ::testing::TempDir() + "/inspector-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::filesystem::create_symlink(dir + "/loop", dir + "/loop");
  r = inspector.NetnsExists("here", dir + "/loop", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  std::filesystem::remove_all(dir);
}

TEST(LinuxNodeInspectorTest, PatternNamesOtherNodes) {
  const std::string dir = ::testing::TempDir() + "/inspector-p-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  LinuxNodeInspector inspector("", dir + "/{node}");
  EXPECT_FALSE(inspector.CanInspect("n1"));
  { std::ofstream(dir + "/n1") << ""; }
  EXPECT_TRUE(inspector.CanInspect("n1"));
  // n1's "namespace" is a plain file: entering it fails, and that is an error, not "gone".
  auto r = inspector.InterfaceExists("n1", "lo");
  EXPECT_FALSE(r);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace calico::controllers
