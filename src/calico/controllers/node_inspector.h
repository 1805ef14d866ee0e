// NodeInspector: the seam through which calico-controllers looks at a node's kernel, for the two
// duties Kubernetes' API server answers upstream and a datastore cannot: does a WorkloadEndpoint's
// host interface still exist, and does a container's network namespace (recorded by the CNI
// plugin in its IP allocation's attributes, "netns" and "netnsInode") still exist.
//
// A node can be inspected when this process shares its filesystem and can enter its network
// namespace: the node this process runs on (its own namespace), or nodes whose namespace is at
// a path given by a pattern ("/run/netns/calico-lab-{node}", the calico-lab hosts). For any other
// node both answers are unknown and the controllers never release or remove anything of it on
// those grounds (only a deleted node's resources are cleaned up); `calicoctl ipam check` finds
// what is left.
//
// Thread-safety: implementations are called from the controllers' one thread.
#pragma once

#include <string>
#include <string_view>

#include "calico/base/result.h"

namespace calico::controllers {

class NodeInspector {
 public:
  virtual ~NodeInspector() = default;
  virtual bool CanInspect(std::string_view node) = 0;
  // Precondition: CanInspect(node). Errors: kUnavailable (cannot enter the node's namespace).
  [[nodiscard]] virtual Result<bool> InterfaceExists(std::string_view node,
                                                     std::string_view ifname) = 0;
  // Whether `path` is still a network namespace (with inode `inode` when given: a recycled
  // /proc/PID/ns/net path names another namespace). Precondition: CanInspect(node).
  [[nodiscard]] virtual Result<bool> NetnsExists(std::string_view node, std::string_view path,
                                                 std::string_view inode) = 0;
};

// The real one. `local_node` is inspected in this process's own namespace; `netns_pattern`
// ("" = none) maps other node names to namespace paths, "{node}" standing for the name.
class LinuxNodeInspector final : public NodeInspector {
 public:
  LinuxNodeInspector(std::string local_node, std::string netns_pattern);
  bool CanInspect(std::string_view node) override;
  [[nodiscard]] Result<bool> InterfaceExists(std::string_view node,
                                             std::string_view ifname) override;
  [[nodiscard]] Result<bool> NetnsExists(std::string_view node, std::string_view path,
                                         std::string_view inode) override;

 private:
  std::string PathFor(std::string_view node) const;
  std::string local_node_;
  std::string netns_pattern_;
};

// The inode of a namespace file as the CNI plugin records it ("" when it cannot be read).
std::string NetnsInode(std::string_view path);

}  // namespace calico::controllers
