// See node_inspector.h.
#include "calico/controllers/node_inspector.h"

#include <net/if.h>
#include <sys/stat.h>

#include "calico/dataplane/netns.h"

namespace calico::controllers {
namespace {

bool InterfaceHere(std::string_view ifname) {
  return ::if_nametoindex(std::string(ifname).c_str()) != 0;
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
  bool exists = false;
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
  std::string now = NetnsInode(path);
  if (now.empty()) return false;
  return inode.empty() || now == inode;
}

}  // namespace calico::controllers
