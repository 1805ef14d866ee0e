// See node_inspector.h.
#include "calico/controllers/node_inspector.h"

#include <errno.h>
#include <net/if.h>
#include <sys/stat.h>

#include <cstring>

#include "calico/dataplane/netns.h"

namespace calico::controllers {
namespace {

// Only "no such device" means the interface is gone: any other failure (no socket, for
// instance, under a sandbox) is an error, so that nothing is removed on its account.
Result<bool> InterfaceHere(std::string_view ifname) {
  errno = 0;
  if (::if_nametoindex(std::string(ifname).c_str()) != 0) return true;
  const int err = errno;
  if (err == ENODEV || err == ENXIO) return false;
  return Unavailable("look up interface " + std::string(ifname) + ": " +
                     std::string(std::strerror(err != 0 ? err : EIO)));
}

}  // namespace

std::string NetnsInode(std::string_view path) {
  struct stat st {};
  if (path.empty() || ::stat(std::string(path).c_str(), &st) != 0) return "";
  return std::to_string(st.st_ino);
}

LinuxNodeInspector::LinuxNodeInspector(std::string local_node, std::string netns_pattern)
    : local_node_(std::move(local_node)), netns_pattern_(std::move(netns_pattern)) {}

std::string LinuxNodeInspector::PathFor(std::string_view node) const {
  std::string path = netns_pattern_;
  for (size_t pos = path.find("{node}"); pos != std::string::npos; pos = path.find("{node}")) {
    path.replace(pos, 6, node);
  }
  return path;
}

bool LinuxNodeInspector::CanInspect(std::string_view node) {
  if (node.empty()) return false;
  if (node == local_node_) return true;
  if (netns_pattern_.empty()) return false;
  struct stat st {};
  return ::stat(PathFor(node).c_str(), &st) == 0;
}

Result<bool> LinuxNodeInspector::InterfaceExists(std::string_view node, std::string_view ifname) {
  if (!local_node_.empty() && node == local_node_) return InterfaceHere(ifname);
  if (netns_pattern_.empty()) return Unavailable("cannot inspect node " + std::string(node));
  auto ns = dataplane::NetnsFd::Open(PathFor(node));
  if (!ns) return Unexpected(ns.error().Wrap("enter the namespace of node " + std::string(node)));
  Result<bool> exists = false;
  Status st = dataplane::RunInNetns(*ns, [&]() -> Status {
    exists = InterfaceHere(ifname);
    return OkStatus();
  });
  if (!st) return Unexpected(st.error());
  return exists;
}

Result<bool> LinuxNodeInspector::NetnsExists(std::string_view /*node*/, std::string_view path,
                                             std::string_view inode) {
  if (path.empty()) return Unavailable("no namespace path");
  struct stat st {};
  if (::stat(std::string(path).c_str(), &st) != 0) {
    // Only "not there" means gone; anything else (a sandbox, a loop) leaves it in use.
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return Unavailable("stat " + std::string(path) + ": " + std::strerror(errno));
  }
  return inode.empty() || std::to_string(st.st_ino) == inode;
}

}  // namespace calico::controllers
