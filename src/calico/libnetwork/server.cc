// docker/go-plugins-helpers' sdk.Handler as Calico's libnetwork-plugin used it: one POST route per
// method, the plugin media type on every answer.
#include "calico/libnetwork/server.h"

#include <fmt/format.h>

#include "calico/base/log.h"

namespace calico::libnetwork {

HttpResponse HandlePluginRequest(Driver& driver, const HttpRequest& req) {
  HttpResponse resp;
  resp.content_type = kPluginContentType;
  std::string_view path = req.path;
  size_t query = path.find('?');
  if (query != std::string_view::npos) path = path.substr(0, query);
  if (req.method != "POST") {
    resp.status = 405;
    resp.body =
        Json{{"Err", fmt::format("method {} not allowed (plugin calls are POST)", req.method)}}
            .dump(-1, ' ', false, Json::error_handler_t::replace);
    return resp;
  }
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  bool known = false;
  Json answer = driver.Dispatch(path, req.body, &known);
  if (!known) {
    CALICO_LOG(warn, "libnetwork", "unknown plugin method {}", path);
    resp.status = 404;
  }
  // An error may quote the request's bytes (the method name), which need not be UTF-8.
  resp.body = answer.dump(-1, ' ', false, Json::error_handler_t::replace);
  return resp;
}

PluginServer::PluginServer(Driver& driver, ServerOptions options)
    : http_(UnixHttpServer::Options{.socket_path = std::move(options.socket_path),
                                    .mode = options.mode,
                                    .listen_fd = options.listen_fd},
            [&driver](const HttpRequest& req) { return HandlePluginRequest(driver, req); }) {}

}  // namespace calico::libnetwork
