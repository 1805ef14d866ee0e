// A small Docker Engine API client (GET over the daemon's unix socket): the name of a network by
// ID, which the driver uses to give same-named networks of several hosts one Calico profile.
#pragma once

#include <chrono>
#include <string>

#include "calico/base/result.h"

namespace calico::libnetwork {

// GET /networks/<id> on `socket` (e.g. /var/run/docker.sock); the network's "Name".
// Errors: kUnavailable (no daemon, timeout), kNotFound (unknown network), kInvalidArgument (reply).
[[nodiscard]] Result<std::string> DockerNetworkName(const std::string& socket,
                                                    const std::string& network_id,
                                                    std::chrono::milliseconds timeout);

}  // namespace calico::libnetwork
