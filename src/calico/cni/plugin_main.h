// The shared main() of the CNI plugin binaries: `-v` prints the version, otherwise the process
// environment and stdin go to the plugin, and an exception becomes a CNI error object.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <string_view>

namespace calico::cni {

using PluginFn = int (*)(const std::map<std::string, std::string>& env, std::string_view stdin_text,
                         std::ostream& out, std::ostream& err);

int PluginMain(int argc, char** argv, std::string_view name, PluginFn fn);

}  // namespace calico::cni
