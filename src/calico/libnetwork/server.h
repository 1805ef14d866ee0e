// The Docker remote-plugin endpoint of the Calico driver: Driver behind HTTP on a unix socket
// (default /run/docker/plugins/calico.sock: Docker finds the plugin "calico" by that name).
//
//   POST /Plugin.Activate, /NetworkDriver.<M>, /IpamDriver.<M>  (body JSON, Content-Type optional)
//     -> 200, Content-Type application/vnd.docker.plugins.v1+json, the Driver's answer
//        ({"Err": ...} on failure, also with 200, as Docker's plugin client reads it)
//   unknown method -> 404 {"Err": ...}; not POST -> 405 {"Err": ...}
//
// Thread-safety: as UnixHttpServer.
#pragma once

#include <memory>
#include <string>

#include "calico/base/result.h"
#include "calico/libnetwork/driver.h"
#include "calico/libnetwork/http.h"

namespace calico::libnetwork {

inline constexpr const char* kDefaultSocket = "/run/docker/plugins/calico.sock";
inline constexpr const char* kPluginContentType = "application/vnd.docker.plugins.v1+json";

struct ServerOptions {
  std::string socket_path = kDefaultSocket;
  mode_t mode = 0660;
  // A listening socket passed by systemd (socket activation), served instead of binding
  // socket_path; see UnixHttpServer::Options::listen_fd.
  int listen_fd = -1;
};

// The HTTP handler for `driver` (exposed for tests without a socket).
HttpResponse HandlePluginRequest(Driver& driver, const HttpRequest& req);

class PluginServer {
 public:
  PluginServer(Driver& driver, ServerOptions options);
  [[nodiscard]] Status Start() { return http_.Start(); }
  void Stop() { http_.Stop(); }
  void Wait() { http_.Wait(); }

 private:
  UnixHttpServer http_;
};

}  // namespace calico::libnetwork
