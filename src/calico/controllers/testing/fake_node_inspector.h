// FakeNodeInspector: nodes, their interfaces and the namespaces of their containers, in memory.
//
// Thread-safety: none (tests drive it from one thread).
#pragma once

#include <map>
#include <set>
#include <string>

#include "calico/controllers/node_inspector.h"

namespace calico::controllers::testing {

class FakeNodeInspector final : public NodeInspector {
 public:
  // A node this inspector can see, with its interfaces.
  void AddNode(const std::string& node) { nodes_[node]; }
  void AddInterface(const std::string& node, const std::string& ifname) {
    nodes_[node].insert(ifname);
  }
  void RemoveInterface(const std::string& node, const std::string& ifname) {
    nodes_[node].erase(ifname);
  }
  void AddNetns(const std::string& path, const std::string& inode = "") { netns_[path] = inode; }
  void RemoveNetns(const std::string& path) { netns_.erase(path); }
  void FailNextInterfaceCheck() { fail_next_ = true; }

  bool CanInspect(std::string_view node) override { return nodes_.contains(std::string(node)); }
  [[nodiscard]] Result<bool> InterfaceExists(std::string_view node,
                                             std::string_view ifname) override {
    if (fail_next_) {
      fail_next_ = false;
      return Unavailable("injected failure");
    }
    auto it = nodes_.find(std::string(node));
    if (it == nodes_.end()) return Unavailable("cannot inspect node " + std::string(node));
    return it->second.contains(std::string(ifname));
  }
  [[nodiscard]] Result<bool> NetnsExists(std::string_view, std::string_view path,
                                         std::string_view inode) override {
    auto it = netns_.find(std::string(path));
    if (it == netns_.end()) return false;
    return inode.empty() || it->second.empty() || it->second == inode;
  }

 private:
  std::map<std::string, std::set<std::string>> nodes_;
  std::map<std::string, std::string> netns_;
  bool fail_next_ = false;
};

}  // namespace calico::controllers::testing
