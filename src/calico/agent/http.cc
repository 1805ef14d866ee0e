// Felix's health aggregator and Prometheus endpoints (felix/health, felix/metrics) on the
// project's HTTP server.
#include "calico/agent/http.h"

namespace calico::agent {

HttpEndpoints::HttpEndpoints(Metrics& metrics, const HealthAggregator& health)
    : metrics_(metrics), health_agg_(health) {}

HttpEndpoints::~HttpEndpoints() {
  Stop();
}

Status HttpEndpoints::Start(const std::string& health_host, int health_port,
                            const std::string& metrics_host, int metrics_port) {
  if (health_port > 0) {
    health_ = std::make_unique<http::Server>(
        http::ServerOptions{.host = health_host, .port = health_port, .name = "health"},
        [this](const http::Request& req) {
          if (req.method != "GET" && req.method != "HEAD") {
            return http::Response{405, "text/plain", "method not allowed\n"};
          }
          std::string_view path = std::string_view(req.path).substr(0, req.path.find('?'));
          if (path != "/liveness" && path != "/readiness") {
            return http::Response{404, "text/plain", "404 page not found\n"};
          }
          // health.go genResponse: 200 with the detail (204 without), 503 with it when bad.
          const HealthReport summary = health_agg_.Summary();
          const bool ok = path == "/readiness" ? summary.ready : summary.live;
          const int status = !ok ? 503 : (summary.detail.empty() ? 204 : 200);
          return http::Response{status, "text/plain; charset=utf-8", summary.detail};
        });
    if (auto st = health_->Start(); !st) {
      health_.reset();
      return Unavailable("cannot listen for health checks on " + health_host + ":" +
                         std::to_string(health_port) + ": " + st.error().message());
    }
  }
  if (metrics_port > 0) {
    prom_ = std::make_unique<http::Server>(
        http::ServerOptions{.host = metrics_host, .port = metrics_port, .name = "metrics"},
        [this](const http::Request& req) {
          if (req.method != "GET" && req.method != "HEAD") {
            return http::Response{405, "text/plain", "method not allowed\n"};
          }
          if (req.path.substr(0, req.path.find('?')) != "/metrics") {
            return http::Response{404, "text/plain", "404 page not found\n"};
          }
          return http::Response{200, "text/plain; version=0.0.4", metrics_.Render()};
        });
    if (auto st = prom_->Start(); !st) {
      prom_.reset();
      Stop();
      return Unavailable("cannot listen for Prometheus metrics on " + metrics_host + ":" +
                         std::to_string(metrics_port) + ": " + st.error().message());
    }
  }
  return OkStatus();
}

void HttpEndpoints::Stop() {
  if (health_) health_->Stop();
  if (prom_) prom_->Stop();
  health_.reset();
  prom_.reset();
}

}  // namespace calico::agent
