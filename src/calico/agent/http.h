// Felix's HTTP endpoints: health (/liveness, /readiness: 204 when good, 503 when not) and
// Prometheus metrics (/metrics), each on its own host:port, served on background threads.
//
// Thread-safety: Start/Stop from one thread.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "calico/agent/metrics.h"
#include "calico/base/result.h"

namespace httplib {
class Server;
}

namespace calico::agent {

class HttpEndpoints {
 public:
  explicit HttpEndpoints(Metrics& metrics);
  ~HttpEndpoints();
  // port 0 leaves that endpoint off. Errors name the address that could not be bound.
  [[nodiscard]] Status Start(const std::string& health_host, int health_port,
                             const std::string& metrics_host, int metrics_port);
  void Stop();

 private:
  Metrics& metrics_;
  std::unique_ptr<httplib::Server> health_;
  std::unique_ptr<httplib::Server> prom_;
  std::thread health_thread_;
  std::thread prom_thread_;
};

}  // namespace calico::agent
