#include "calico/cni/plugin_main.h"

#include <exception>
#include <iostream>
#include <iterator>

#include "calico/base/log.h"
#include "calico/base/subprocess.h"
#include "calico/cni/cni.h"
#include "calico/model/json_codec.h"

namespace calico::cni {

int PluginMain(int argc, char** argv, std::string_view name, PluginFn fn) {
  if (argc > 1 && std::string_view(argv[1]) == "-v") {
    std::cout << name << " v0.1.0\n";
    return 0;
  }
  try {
    const std::map<std::string, std::string> env = CurrentEnvironment();
    std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    // The log file of the netconf (LogFileConf); only here, so that tests calling the plugins as
    // functions write no files. A netconf that does not parse is reported by the plugin itself.
    if (env.count("CNI_COMMAND") > 0 && env.at("CNI_COMMAND") != "VERSION") {
      if (auto conf = model::ParseJson(in); conf && conf->is_object()) {
        const LogFileConf log_file = LogFileConfFrom(*conf);
        Status opened = OpenLogFile(log_file);
        // The default path may be unwritable (not root): only a chosen one is worth a warning.
        if (!opened && log_file.path_given) {
          CALICO_LOG(warn, "cni", "{} (logging to stderr only)", opened.error().message());
        }
      }
    }
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
