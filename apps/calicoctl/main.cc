// calicoctl: parses nothing itself; builds the Context (streams, datastore opener, build info)
// and hands the arguments to calico::ctl (calicoctl/calicoctl/calicoctl.go).
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "calico/ctl/ctl.h"

#ifndef CALICO_VERSION
#define CALICO_VERSION "v0.0.0"
#endif

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    calico::ctl::Context ctx{
        .in = std::cin,
        .out = std::cout,
        .err = std::cerr,
        // TODO(calicoctl): open the datastore through datastore::ClientConfig + OpenBackend
        // (CALICO_DATASTORE_PATH, -c config) once the factory library lands.
        .open_client = [](const calico::ctl::ClientOptions&)
            -> calico::Result<calico::datastore::Client*> {
          return calico::Unavailable("no datastore backend is available in this build");
        },
        .build = {.version = CALICO_VERSION, .git_commit = "unknown"},
        .retry_sleep_ms = 1000};
    calico::ctl::CommandRegistry registry = calico::ctl::DefaultRegistry();
    return calico::ctl::Run(registry, args, ctx);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
