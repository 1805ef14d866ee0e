// The calico-docker era's calicoctl commands that the libnetwork tutorial (seed 003) uses, mapped
// onto v3 resources (reference Part 6):
//   calicoctl pool add <CIDR> [--ipip] [--nat-outgoing]      -> IPPool pool-<cidr>
//   calicoctl pool remove <CIDR> | calicoctl pool show [--ipv4 | --ipv6]
//   calicoctl profile <NAME> rule show                        -> the Profile's rules, tag style
//   calicoctl endpoint <ID> profile show                      -> a WorkloadEndpoint's profiles
//   calicoctl endpoint show [--detailed]
// Tables are the old CLI's prettytable layout (centred cells).
#pragma once

#include <span>
#include <string>

#include "calico/ctl/ctl.h"

namespace calico::ctl {

int RunLegacyPool(std::span<const std::string> args, Context& ctx);
int RunLegacyProfile(std::span<const std::string> args, Context& ctx);
int RunLegacyEndpoint(std::span<const std::string> args, Context& ctx);

// prettytable's default layout: +---+ borders, every cell centred with one space of padding.
std::string RenderPrettyTableCentered(const std::vector<std::string>& header,
                                      const std::vector<std::vector<std::string>>& rows);

}  // namespace calico::ctl
