// calico-flows: the cluster's flow aggregator (Goldmane's role) and its web page (Whisker's).
// Thin main: flags, then calico::flows' service on the repository's http::Server until
// SIGTERM/SIGINT. Every calico-node posts its flow records here (FelixConfiguration
// flowLogsGoldmaneServer); calicoctl flows and the web page read them.
//
//   calico-flows [--listen :7443] [--aggregation-interval 15s] [--window 1h] [--max-flows 200000]
//                [--max-streams 16] [--log-level info]
//
//   DATASTORE_TYPE, CALICO_DATASTORE_PATH, ETCD_ENDPOINTS, ...  the datastore (as calicoctl),
//   read by GET /api/v1/explain (the web page's explain view) on its first use; calico-flows
//   never creates a local store.
#include <signal.h>

#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "calico/base/clock.h"
#include "calico/base/log.h"
#include "calico/base/numbers.h"
#include "calico/datastore/config.h"
#include "calico/datastore/factory/factory.h"
#include "calico/flows/aggregator.h"
#include "calico/flows/explain_api.h"
#include "calico/flows/service.h"
#include "calico/http/server.h"
#include "calico/model/validation/infra_schema.h"

namespace {

// "host:port", ":port", "[v6]:port".
bool ParseListen(const std::string& text, std::string& host, int& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  calico::Result<int> p = calico::ParseIntInRange<int>(text.substr(colon + 1), 0, 65535);
  if (!p) return false;
  port = *p;
  return true;
}

bool Seconds(const std::string& flag, const std::string& text, int64_t& out) {
  std::optional<int64_t> ns = calico::model::validation::ParseGoDuration(text);
  if (!ns || *ns < 1000000000) {
    std::cerr << "calico-flows: " << flag << ": \"" << text
              << "\" is not a duration of at least 1s (e.g. 15s, 1h)\n";
    return false;
  }
  out = *ns / 1000000000;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "calico-flows: collects flow records from every calico-node, aggregates them "
      "(Goldmane) and serves queries, a live stream and the web page (Whisker)"};
  std::string listen = ":7443";
  std::string interval = "15s";
  std::string window = "1h";
  size_t max_flows = calico::flows::AggregatorOptions{}.max_flows;
  size_t max_streams = calico::flows::ServiceOptions{}.max_streams;
  std::string log_level = "info";
  app.add_option("--listen", listen, "address to serve on (host:port; :port for every address)")
      ->capture_default_str();
  app.add_option("--aggregation-interval", interval,
                 "flows with the same key starting in one interval are merged")
      ->capture_default_str();
  app.add_option("--window", window, "how long flows are kept (by their end time)")
      ->capture_default_str();
  app.add_option("--max-flows", max_flows, "at most this many aggregated flows; oldest go first")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000000}));
  app.add_option("--max-streams", max_streams, "concurrent live streams (web pages, --follow)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000}));
  app.add_option("--log-level", log_level, "trace, debug, info, warning, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  calico::log::SetAllLevels(log_level);

  calico::flows::AggregatorOptions agg_options;
  agg_options.max_flows = max_flows;
  if (!Seconds("--aggregation-interval", interval, agg_options.aggregation_interval_seconds) ||
      !Seconds("--window", window, agg_options.max_age_seconds)) {
    return 2;
  }
  calico::http::ServerOptions server_options;
  if (!ParseListen(listen, server_options.host, server_options.port)) {
    std::cerr << "calico-flows: --listen: \"" << listen << "\" is not host:port\n";
    return 2;
  }
  server_options.name = "flows";
  // A node's flush (up to 20000 records a request) fits; bigger bodies are refused with 413.
  server_options.limits.max_body_bytes = size_t{16} << 20;

  // Signals are taken by sigwait below; every thread started from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  calico::SystemClock clock;
  calico::flows::Aggregator aggregator(agg_options, clock);
  calico::flows::ServiceOptions service_options;
  service_options.max_streams = max_streams;
  // The explain view reads the datastore: opened on first use, so calico-flows serves flows
  // even when the datastore is down (explain then answers 503 with the calicoctl command).
  std::unique_ptr<calico::datastore::Backend> backend;
  std::unique_ptr<calico::datastore::Client> client;
  auto open_client = [&]() -> calico::Result<calico::datastore::Client*> {
    auto config = calico::datastore::ClientConfigFromEnv();
    if (!config) return calico::Unexpected(std::move(config).error());
    config->create_local_store = false;
    auto opened = calico::datastore::OpenBackend(*config);
    if (!opened) return calico::Unexpected(std::move(opened).error());
    backend = std::move(*opened);
    client = std::make_unique<calico::datastore::Client>(*backend);
    return client.get();
  };
  calico::flows::FlowService service(aggregator, clock, service_options,
                                     calico::flows::MakeExplainHandler(open_client));
  calico::http::Server server(server_options,
                              [&](const calico::http::Request& r) { return service.Handle(r); });
  if (auto st = server.Start(); !st) {
    std::cerr << "calico-flows: " << st.error().message() << "\n";
    return 1;
  }
  CALICO_LOG(info, "flows", "serving port={} window={}s interval={}s max_flows={}", server.port(),
             agg_options.max_age_seconds, agg_options.aggregation_interval_seconds, max_flows);
  std::cout << "calico-flows listening on port " << server.port() << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  CALICO_LOG(info, "flows", "signal={}: stopping", sig);
  server.Stop();
  return 0;
}
