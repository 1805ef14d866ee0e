// projectcalico/libnetwork-plugin's plugin endpoint (main.go: one driver serving Docker's
// NetworkDriver and IpamDriver APIs): the dispatch table from method to handler.
#include "calico/libnetwork/driver.h"

#include <utility>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/libnetwork/driver_context.h"
#include "calico/libnetwork/ipam_driver.h"
#include "calico/libnetwork/network_driver.h"
#include "calico/model/json_codec.h"

namespace calico::libnetwork {
namespace {

Json ErrJson(std::string_view message) {
  return Json{{"Err", std::string(message)}};
}

// The calls Calico's driver answers with an empty object.
Result<Json> NoOp(Driver& /*driver*/, const Json& /*req*/) {
  return Json::object();
}

Result<Json> PluginActivate(Driver& /*driver*/, const Json& /*req*/) {
  return Json{{"Implements", Json::array({"NetworkDriver", "IpamDriver"})}};
}

}  // namespace

std::string HostIfname(std::string_view endpoint_id) {
  return "cali" + std::string(endpoint_id.substr(0, 11));
}
std::string TempIfname(std::string_view endpoint_id) {
  return "temp" + std::string(endpoint_id.substr(0, 11));
}

Driver::Driver(datastore::Backend& backend, Plumber& plumber, DriverOptions options)
    : ctx_(std::make_unique<DriverContext>(backend, std::move(options))),
      network_(std::make_unique<NetworkDriver>(*ctx_, plumber)),
      ipam_(std::make_unique<IpamDriver>(*ctx_)) {}

Driver::~Driver() = default;

const std::map<std::string_view, Driver::Handler>& Driver::Routes() {
  // Captureless lambdas: each names its driver and method once.
#define CALICO_NETWORK(M) [](Driver& d, const Json& r) { return d.network_->M(r); }
#define CALICO_IPAM(M) [](Driver& d, const Json& r) { return d.ipam_->M(r); }
  static const std::map<std::string_view, Handler> routes = {
      {"Plugin.Activate", PluginActivate},
      {"NetworkDriver.GetCapabilities", CALICO_NETWORK(GetCapabilities)},
      {"NetworkDriver.CreateNetwork", CALICO_NETWORK(CreateNetwork)},
      {"NetworkDriver.DeleteNetwork", CALICO_NETWORK(DeleteNetwork)},
      {"NetworkDriver.CreateEndpoint", CALICO_NETWORK(CreateEndpoint)},
      {"NetworkDriver.EndpointOperInfo", CALICO_NETWORK(EndpointOperInfo)},
      {"NetworkDriver.DeleteEndpoint", CALICO_NETWORK(DeleteEndpoint)},
      {"NetworkDriver.Join", CALICO_NETWORK(Join)},
      {"NetworkDriver.Leave", CALICO_NETWORK(Leave)},
      {"NetworkDriver.DiscoverNew", NoOp},
      {"NetworkDriver.DiscoverDelete", NoOp},
      {"NetworkDriver.ProgramExternalConnectivity", NoOp},
      {"NetworkDriver.RevokeExternalConnectivity", NoOp},
      {"NetworkDriver.AllocateNetwork", NoOp},
      {"NetworkDriver.FreeNetwork", NoOp},
      {"IpamDriver.GetCapabilities", CALICO_IPAM(GetCapabilities)},
      {"IpamDriver.GetDefaultAddressSpaces", CALICO_IPAM(GetDefaultAddressSpaces)},
      {"IpamDriver.RequestPool", CALICO_IPAM(RequestPool)},
      {"IpamDriver.ReleasePool", CALICO_IPAM(ReleasePool)},
      {"IpamDriver.RequestAddress", CALICO_IPAM(RequestAddress)},
      {"IpamDriver.ReleaseAddress", CALICO_IPAM(ReleaseAddress)},
  };
#undef CALICO_NETWORK
#undef CALICO_IPAM
  return routes;
}

Json Driver::Run(std::string_view method, Handler handler, const Json& req_in) {
  std::lock_guard<std::mutex> lock(mu_);
  Json req = req_in.is_null() ? Json::object() : req_in;
  if (!req.is_object())
    return ErrJson(fmt::format("{}: the request must be a JSON object", method));
  try {
    Result<Json> r = handler(*this, req);
    if (!r) {
      CALICO_LOG(warn, "libnetwork", "{} failed: {}", method, r.error().message());
      return ErrJson(r.error().message());
    }
    CALICO_LOG(debug, "libnetwork", "{} request={} response={}", method, req.dump(),
               r->dump(-1, ' ', false, Json::error_handler_t::replace));
    return std::move(*r);
  } catch (const std::exception& e) {  // a JSON type error in a field we did not check
    CALICO_LOG(error, "libnetwork", "{}: {}", method, e.what());
    return ErrJson(fmt::format("{}: malformed request: {}", method, e.what()));
  }
}

Json Driver::Call(std::string_view method, const Json& req) {
  auto route = Routes().find(method);
  if (route == Routes().end()) return ErrJson(fmt::format("unknown method \"{}\"", method));
  return Run(method, route->second, req);
}

Json Driver::Dispatch(std::string_view method, std::string_view body, bool* known) {
  auto route = Routes().find(method);
  if (known != nullptr) *known = route != Routes().end();
  if (route == Routes().end()) return ErrJson(fmt::format("unknown method \"{}\"", method));
  Json req = Json::object();
  bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (!blank) {
    auto parsed = model::ParseJson(body);  // the decoder limits (model/decode_limits.h)
    if (!parsed) {
      return ErrJson(fmt::format("{}: the request body is not valid JSON: {}", method,
                                 parsed.error().message()));
    }
    req = std::move(*parsed);
  }
  return Run(method, route->second, req);
}

Result<std::string> Driver::EndpointName(const std::string& endpoint_id) const {
  return network_->EndpointName(endpoint_id);
}

}  // namespace calico::libnetwork
