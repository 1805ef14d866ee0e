#include "calico/libnetwork/docker_api.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "calico/base/numbers.h"
#include "calico/base/unique_fd.h"
#include "calico/model/json_codec.h"

namespace calico::libnetwork {

Result<std::string> DockerNetworkName(const std::string& socket, const std::string& network_id,
                                      std::chrono::milliseconds timeout) {
  if (network_id.empty() ||
      network_id.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return InvalidArgument("invalid network ID \"" + network_id + "\"");
  }
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return Unexpected(Error::FromErrno(errno, "socket"));
  const int fd = sock.get();
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket.size() >= sizeof(addr.sun_path))
    return InvalidArgument("socket path too long: " + socket);
  std::memcpy(addr.sun_path, socket.c_str(), socket.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Unexpected(Error::FromErrno(errno, "connect to the Docker API at " + socket).Wrap(""));
  }
  // HTTP/1.0: no chunked encoding, the daemon closes after the reply.
  std::string req = "GET /networks/" + network_id + " HTTP/1.0\r\nHost: docker\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    return Unavailable("write to the Docker API at " + socket + " failed");
  }
  std::string reply;
  char buf[8192];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0)
    reply.append(buf, static_cast<size_t>(n));
  if (n < 0 && reply.empty()) return Unavailable("no reply from the Docker API at " + socket);
  size_t sp = reply.find(' ');
  size_t body = reply.find("\r\n\r\n");
  if (sp == std::string::npos || body == std::string::npos) {
    return InvalidArgument("malformed reply from the Docker API");
  }
  Result<int> parsed_status = ParseInt<int>(reply.substr(sp + 1, 3));
  if (!parsed_status) return InvalidArgument("malformed reply from the Docker API");
  const int status = *parsed_status;
  if (status == 404) return NotFound("Docker has no network " + network_id);
  if (status != 200) return Unavailable("Docker API answered " + std::to_string(status));
  auto j = model::ParseJson(std::string_view(reply).substr(body + 4))
               .value_or(nlohmann::json(nlohmann::json::value_t::discarded));
  if (!j.is_object() || !j.contains("Name") || !j["Name"].is_string()) {
    return InvalidArgument("Docker's network reply has no Name");
  }
  return j["Name"].get<std::string>();
}

}  // namespace calico::libnetwork
