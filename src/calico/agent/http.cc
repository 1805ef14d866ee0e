#include "calico/agent/http.h"

#include <httplib.h>

namespace calico::agent {

HttpEndpoints::HttpEndpoints(Metrics& metrics) : metrics_(metrics) {}

HttpEndpoints::~HttpEndpoints() {
  Stop();
}

Status HttpEndpoints::Start(const std::string& health_host, int health_port,
                            const std::string& metrics_host, int metrics_port) {
  if (health_port > 0) {
    health_ = std::make_unique<httplib::Server>();
    auto probe = [this](bool ready) {
      return [this, ready](const httplib::Request&, httplib::Response& res) {
        bool ok = ready ? metrics_.ready() : metrics_.live();
        res.status = ok ? 204 : 503;
      };
    };
    health_->Get("/liveness", probe(false));
    health_->Get("/readiness", probe(true));
    if (!health_->bind_to_port(health_host, health_port)) {
      return Unavailable("cannot listen for health checks on " + health_host + ":" +
                         std::to_string(health_port));
    }
    health_thread_ = std::thread([this] { health_->listen_after_bind(); });
  }
  if (metrics_port > 0) {
    prom_ = std::make_unique<httplib::Server>();
    prom_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_.Render(), "text/plain; version=0.0.4");
    });
    if (!prom_->bind_to_port(metrics_host, metrics_port)) {
      Stop();
      return Unavailable("cannot listen for Prometheus metrics on " + metrics_host + ":" +
                         std::to_string(metrics_port));
    }
    prom_thread_ = std::thread([this] { prom_->listen_after_bind(); });
  }
  return OkStatus();
}

void HttpEndpoints::Stop() {
  if (health_) health_->stop();
  if (prom_) prom_->stop();
  if (health_thread_.joinable()) health_thread_.join();
  if (prom_thread_.joinable()) prom_thread_.join();
  health_.reset();
  prom_.reset();
}

}  // namespace calico::agent
