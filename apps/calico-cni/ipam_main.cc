// calico-ipam: reads the CNI environment and stdin and runs the IPAM plugin.
#include <exception>
#include <iostream>
#include <iterator>
#include <map>
#include <string>

#include "calico/cni/cni.h"
#include "calico/cni/ipam_plugin.h"

extern char** environ;

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "-v") {
    std::cout << "calico-ipam v0.1.0\n";
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
    return calico::cni::RunIpamPlugin(env, in, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cout << calico::cni::ErrorJson({calico::cni::CniCode::kInternal,
                                         std::string("calico-ipam failed: ") + e.what(), ""},
                                        "1.0.0")
                     .dump()
              << "\n";
    return 1;
  }
}
