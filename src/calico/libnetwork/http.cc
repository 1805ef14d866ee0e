// HTTP/1.1 over AF_UNIX for the Docker plugin protocol (docker/go-plugins-helpers serves the same
// over net/http on /run/docker/plugins/<name>.sock).
#include "calico/libnetwork/http.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "calico/base/unique_fd.h"

namespace calico::libnetwork {
namespace {

// Requests the plugin cannot read are answered as the plugin answers every error: {"Err": ...}.
http::Response PluginError(int status, const std::string& error) {
  return http::Response{status, "application/json",
                        nlohmann::json{{"Err", error}}.dump(
                            -1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

}  // namespace

UnixHttpServer::UnixHttpServer(Options options, Handler handler)
    : server_(http::ServerOptions{.unix_path = std::move(options.socket_path),
                                  .unix_mode = options.mode,
                                  .listen_fd = options.listen_fd,
                                  .max_connections = options.max_connections,
                                  .limits = http::Limits{.max_body_bytes = options.max_body},
                                  .name = "libnetwork",
                                  .error_response = PluginError},
              std::move(handler)) {}

Result<std::unique_ptr<UnixHttpClient>> UnixHttpClient::Connect(const std::string& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument(fmt::format("invalid unix socket path \"{}\"", socket_path));
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Unexpected(Error::FromErrno(errno, "socket"));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Unexpected(Error::FromErrno(errno, "connect " + socket_path));
  }
  return std::unique_ptr<UnixHttpClient>(new UnixHttpClient(std::move(fd)));
}

Result<HttpReply> UnixHttpClient::Post(const std::string& path, const std::string& body,
                                       const std::string& content_type) {
  std::string req = fmt::format("POST {} HTTP/1.1\r\nHost: plugin\r\n", path);
  if (!content_type.empty()) req += "Content-Type: " + content_type + "\r\n";
  req += fmt::format("Content-Length: {}\r\n\r\n", body.size());
  req += body;
  return Raw(req);
}

Result<HttpReply> UnixHttpClient::Raw(const std::string& bytes) {
  constexpr std::chrono::milliseconds kTimeout{120000};
  if (!http::WriteAll(fd_.get(), bytes, kTimeout)) {
    return Unavailable("write to the plugin socket failed");
  }
  http::ParseResult r =
      http::ReadMessage(fd_.get(), buf_, http::Limits{.max_body_bytes = size_t{64} << 20},
                        /*is_response=*/true, kTimeout, kTimeout);
  if (r.state != http::ParseState::kComplete) {
    return Unavailable("no valid HTTP response from the plugin socket");
  }
  HttpReply reply;
  reply.status = r.status;
  reply.headers = std::move(r.request.headers);
  reply.body = std::move(r.request.body);
  return reply;
}

}  // namespace calico::libnetwork
