// Felix's HTTP endpoints: health (/liveness, /readiness: the aggregate of health.h, 200 with
// upstream's table of reporters when good, 503 with it when not; health.go genResponse) and
// Prometheus metrics (/metrics), each on its own host:port (FelixConfiguration healthHost /
// healthPort, default localhost:9099, and prometheusMetricsHost / prometheusMetricsPort, default
// every address :9091, as upstream). Both run on http::Server: connections served concurrently
// (at most 64 each), with read, idle and write deadlines, so slow clients cannot stall the
// probes.
//
// Thread-safety: Start/Stop from one thread.
#pragma once

#include <memory>
#include <string>

#include "calico/agent/health.h"
#include "calico/agent/metrics.h"
#include "calico/base/result.h"
#include "calico/http/server.h"

namespace calico::agent {

class HttpEndpoints {
 public:
  HttpEndpoints(Metrics& metrics, const HealthAggregator& health);
  ~HttpEndpoints();
  // port 0 leaves that endpoint off; host "" is every address. Errors name the address that
  // could not be bound.
  [[nodiscard]] Status Start(const std::string& health_host, int health_port,
                             const std::string& metrics_host, int metrics_port);
  void Stop();
  // The bound ports (0 when off).
  int health_port() const { return health_ ? health_->port() : 0; }
  int metrics_port() const { return prom_ ? prom_->port() : 0; }

 private:
  Metrics& metrics_;
  const HealthAggregator& health_agg_;
  std::unique_ptr<http::Server> health_;
  std::unique_ptr<http::Server> prom_;
};

}  // namespace calico::agent
