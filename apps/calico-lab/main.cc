// calico-lab: parses the command line and hands it to calico::lab::Lab (src/calico/lab).
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "calico/base/subprocess.h"
#include "calico/lab/args.h"
#include "calico/lab/lab.h"
#include "calico/lab/process.h"

namespace {

std::string SelfDir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  auto inv = calico::lab::ParseArgs(args);
  if (!inv) {
    std::cerr << "calico-lab: " << inv.error().message() << "\n";
    return 2;
  }
  if (std::holds_alternative<calico::lab::HelpCommand>(inv->command)) {
    std::cout << calico::lab::Usage();
    return 0;
  }
  if (const auto* t = std::get_if<calico::lab::TutorialCommand>(&inv->command)) {
    // The tutorials are narrated shell scripts driving this binary, installed beside it
    // (build: bin/tutorials/, install: share/calico-lab/tutorials/).
    std::string dir = SelfDir();
    std::string script;
    for (const std::string& candidate :
         {dir + "/tutorials/" + t->name + ".sh",
          dir + "/../share/calico-lab/tutorials/" + t->name + ".sh"}) {
      if (std::filesystem::exists(candidate)) {
        script = candidate;
        break;
      }
    }
    if (script.empty()) {
      std::cerr << "calico-lab: tutorial " << t->name << ": script not found beside " << dir
                << "\n";
      return 1;
    }
    std::string self = dir + "/calico-lab";
    std::string bin = inv->global.bin_dir.empty() ? dir : inv->global.bin_dir;
    ::setenv("CALICO_LAB", self.c_str(), 1);
    ::setenv("CALICO_LAB_BIN", bin.c_str(), 1);
    if (!inv->global.state_dir.empty())
      ::setenv("CALICO_LAB_STATE_DIR", inv->global.state_dir.c_str(), 1);
    ::setenv("TUTORIAL_DATASTORE", t->datastore.c_str(), 1);
    ::setenv("TUTORIAL_KEEP", t->keep ? "1" : "0", 1);
    const calico::Status exec = calico::ExecSubprocess({.argv = {"bash", script}});
    std::cerr << "calico-lab: " << exec.error().message() << "\n";
    return 1;
  }
  calico::lab::Lab lab(inv->global, calico::CurrentEnvironment(), SelfDir(), std::cout, std::cerr);
  calico::Status st = std::visit(
      [&](const auto& cmd) -> calico::Status {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, calico::lab::UpCommand>) return lab.Up(cmd);
        if constexpr (std::is_same_v<T, calico::lab::RunCommand>) return lab.Run(cmd);
        if constexpr (std::is_same_v<T, calico::lab::ListCommand>) return lab.List();
        if constexpr (std::is_same_v<T, calico::lab::ExecCommand>) return lab.Exec(cmd);
        if constexpr (std::is_same_v<T, calico::lab::HostCommand>) return lab.Host(cmd);
        if constexpr (std::is_same_v<T, calico::lab::RmCommand>) return lab.Rm(cmd);
        if constexpr (std::is_same_v<T, calico::lab::DownCommand>) return lab.Down();
        if constexpr (std::is_same_v<T, calico::lab::StopCommand>) return lab.Stop(cmd);
        if constexpr (std::is_same_v<T, calico::lab::StartCommand>) return lab.Start(cmd);
        return calico::OkStatus();
      },
      inv->command);
  std::cout.flush();
  if (!st) {
    std::cerr << "calico-lab: " << st.error().message() << "\n";
    return lab.failure_exit_code();
  }
  return 0;
}
