// `calicoctl ipam show|release|configure|check` (calicoctl/calicoctl/commands/ipam), over
// calico::ipam. Tables use go-pretty's default style as Calico does.
#pragma once

#include <span>
#include <string>

#include "calico/ctl/ctl.h"

namespace calico::ctl {

int RunIpam(std::span<const std::string> args, Context& ctx);

}  // namespace calico::ctl
