#include "calico/cni/plugin_main.h"

#include <exception>
#include <iostream>
#include <iterator>

#include "calico/cni/cni.h"

extern char** environ;

namespace calico::cni {

int PluginMain(int argc, char** argv, std::string_view name, PluginFn fn) {
  if (argc > 1 && std::string_view(argv[1]) == "-v") {
    std::cout << name << " v0.1.0\n";
    return 0;
  }
  try {
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv(*e);
      size_t eq = kv.find('=');
      if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return fn(env, in, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cout << ErrorJson({CniCode::kInternal, std::string(name) + " failed: " + e.what(), ""},
                           "1.0.0")
                     .dump(-1, ' ', false, Json::error_handler_t::replace)
              << "\n";
    return 1;
  }
}

}  // namespace calico::cni
