// calico-libnetwork: Calico's Docker network and IPAM driver (calico/libnetwork-plugin). Thin main:
// flags and environment, the datastore, then calico::libnetwork's server until SIGTERM/SIGINT.
//
//   DATASTORE_TYPE, CALICO_DATASTORE_PATH, ETCD_ENDPOINTS, ...  the datastore (as calicoctl)
//   NODENAME (else HOSTNAME, else gethostname())                 this node's name
//   CALICO_LIBNETWORK_VETH_MTU                                   veth MTU (default: kernel's)
//   LISTEN_PID, LISTEN_FDS (systemd socket activation, sd_listen_fds(3)): serve the socket
//   systemd passes as fd 3 (calico-libnetwork.socket) instead of binding --socket, so Docker
//   finds the plugin before the driver has started.
//   CALICO_IPAM_LOCK_FILE (--ipam-lock-file)                     the host-wide IPAM lock
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "calico/base/log.h"
#include "calico/base/numbers.h"
#include "calico/datastore/config.h"
#include "calico/datastore/factory/factory.h"
#include "calico/ipam/host_lock.h"
#include "calico/libnetwork/docker_api.h"
#include "calico/libnetwork/driver.h"
#include "calico/libnetwork/plumbing.h"
#include "calico/libnetwork/server.h"

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// The listening socket systemd passed (sd_listen_fds(3): LISTEN_PID is us, LISTEN_FDS >= 1, the
// first at fd 3), or -1. The variables are removed so that children do not take them as theirs.
int SocketFromSystemd() {
  constexpr int kFirstFd = 3;  // SD_LISTEN_FDS_START
  const std::string pid = Env("LISTEN_PID");
  const std::string fds = Env("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (pid.empty() || fds.empty() || pid != std::to_string(::getpid())) return -1;
  const calico::Result<int> n = calico::ParseInt<int>(fds);
  if (!n || *n < 1) return -1;
  return kFirstFd;
}

std::string NodeName() {
  for (const char* var : {"NODENAME", "HOSTNAME"}) {
    std::string v = Env(var);
    if (!v.empty()) return v;
  }
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Calico network and IPAM driver for Docker (libnetwork remote plugin)"};
  std::string socket_path = calico::libnetwork::kDefaultSocket;
  std::string scope = "local";
  std::string log_level =
      Env("CALICO_LIBNETWORK_LOG_LEVEL").empty() ? "info" : Env("CALICO_LIBNETWORK_LOG_LEVEL");
  std::string mode_text = "0660";
  app.add_option("--socket", socket_path, "unix socket Docker connects to")->capture_default_str();
  app.add_option("--socket-mode", mode_text, "permissions of the socket (octal)")
      ->capture_default_str();
  app.add_option("--scope", scope, "network scope reported to Docker (local or global)")
      ->check(CLI::IsMember({"local", "global"}))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warning, error")
      ->capture_default_str();
  std::string docker_host =
      Env("DOCKER_HOST").empty() ? "unix:///var/run/docker.sock" : Env("DOCKER_HOST");
  app.add_option("--docker-host", docker_host,
                 "the Docker daemon's API (unix://PATH), for network names; same-named networks "
                 "on several hosts then share one Calico profile")
      ->capture_default_str();
  std::string ipam_lock_file = Env("CALICO_IPAM_LOCK_FILE").empty()
                                   ? std::string(calico::ipam::kDefaultIpamLockFile)
                                   : Env("CALICO_IPAM_LOCK_FILE");
  app.add_option("--ipam-lock-file", ipam_lock_file,
                 "the host-wide IPAM lock shared with the CNI plugins (CALICO_IPAM_LOCK_FILE)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  calico::log::SetAllLevels(log_level);

  auto parsed_mode = calico::ParseIntInRange<unsigned>(mode_text, 0, 0777, 8);
  if (!parsed_mode) {
    std::cerr << "calico-libnetwork: invalid --socket-mode " << mode_text << "\n";
    return 2;
  }
  const unsigned mode = *parsed_mode;

  calico::libnetwork::DriverOptions options;
  options.node = NodeName();
  options.scope = scope;
  options.ipam_lock_file = ipam_lock_file;
  if (docker_host.rfind("unix://", 0) == 0) {
    std::string docker_socket = docker_host.substr(7);
    options.network_name = [docker_socket](const std::string& id) {
      return calico::libnetwork::DockerNetworkName(docker_socket, id, std::chrono::seconds(2));
    };
  }
  if (options.node.empty()) {
    std::cerr << "calico-libnetwork: cannot determine the node name (set NODENAME)\n";
    return 1;
  }
  if (std::string mtu = Env("CALICO_LIBNETWORK_VETH_MTU"); !mtu.empty()) {
    auto veth_mtu = calico::ParseInt<decltype(options.veth_mtu)>(mtu);
    if (!veth_mtu || *veth_mtu < 68) {
      std::cerr << "calico-libnetwork: invalid CALICO_LIBNETWORK_VETH_MTU " << mtu << "\n";
      return 1;
    }
    options.veth_mtu = *veth_mtu;
  }

  auto config = calico::datastore::ClientConfigFromEnv();
  if (!config) {
    std::cerr << "calico-libnetwork: " << config.error().message() << "\n";
    return 1;
  }
  auto backend = calico::datastore::OpenBackend(*config);
  if (!backend) {
    std::cerr << "calico-libnetwork: " << backend.error().message() << "\n";
    return 1;
  }

  // Signals are taken by sigwait below; every thread started from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto plumber = calico::libnetwork::NewHostPlumber();
  calico::libnetwork::Driver driver(**backend, *plumber, options);
  const int activated = SocketFromSystemd();
  calico::libnetwork::PluginServer server(
      driver,
      {.socket_path = socket_path, .mode = static_cast<mode_t>(mode), .listen_fd = activated});
  if (auto st = server.Start(); !st) {
    std::cerr << "calico-libnetwork: " << st.error().message() << "\n";
    return 1;
  }
  CALICO_LOG(info, "libnetwork", "calico-libnetwork serving node {} on {}{} ({})", options.node,
             socket_path, activated >= 0 ? " (socket from systemd)" : "", (*backend)->Describe());
  int sig = 0;
  sigwait(&signals, &sig);
  CALICO_LOG(info, "libnetwork", "signal {}: stopping", sig);
  server.Stop();
  return 0;
}
