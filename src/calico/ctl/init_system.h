// `calicoctl node run --init-system`: what to give an init system to run calico-node. Calico's
// calicoctl prints the `docker run` command of its calico/node container and the `docker stop` to
// end it (calicoctl/calicoctl/commands/node/run.go); calico-node is a program here, so this prints
// the systemd unit the Debian package ships (packaging/systemd/calico-node.service, with the
// calico-node path of this installation) and its environment file (packaging/etc/calico.env)
// filled in with the settings the flags give.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace calico::ctl {

// The unit with ExecStart running `node_binary` (an absolute path).
std::string RenderNodeUnit(std::string_view node_binary);

// The environment file with `settings` set: a commented or set line of a variable is replaced by
// `KEY=VALUE` in place; variables the template does not mention are appended at its end.
// Values are written as they are (systemd's EnvironmentFile takes the rest of the line).
std::string RenderCalicoEnv(const std::vector<std::pair<std::string, std::string>>& settings);

// Everything `node run --init-system` prints: the unit, the environment file, how to start and
// enable it (and the libnetwork socket when `libnetwork`) and how to stop it.
std::string InitSystemText(std::string_view node_binary,
                           const std::vector<std::pair<std::string, std::string>>& settings,
                           bool libnetwork);

}  // namespace calico::ctl
