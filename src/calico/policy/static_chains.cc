// The static part of the ruleset (felix/rules/static.go, dispatch.go in nftables form):
// cali-FORWARD, cali-INPUT, cali-OUTPUT with their host endpoint hooks, cali-wl-to-host
// (defaultEndpointToHostAction) and the workload dispatch chains. See renderer_internal.h.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/policy/names.h"
#include "calico/policy/renderer_internal.h"

namespace calico::policy::internal {

void Renderer::RenderStaticChains() {
  const MarkBits& m = options_.marks;
  const std::string clear =
      fmt::format("meta mark set meta mark & {} {}", ClearMask(m.accept | m.pass),
                  Comment("Clear accept and pass marks"));
  const std::string accepted = fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                           Comment("Policy explicitly accepted packet."));

  const bool heps = !host_endpoints_.empty();
  // With pre-DNAT or untracked policy the accept mark may carry their verdict from prerouting
  // (whose first chain clears the marks), so only pass is cleared here.
  const bool early_verdict = heps && (pre_dnat_ || untracked_);
  Chain fwd{.owner = std::string("static"),
            .base = "type filter hook forward priority filter; policy accept;"};
  fwd.rules.push_back("ct state established,related accept");
  if (early_verdict) {
    fwd.rules.push_back(fmt::format("meta mark set meta mark & {} {}", ClearMask(m.pass),
                                    Comment("Clear pass mark")));
    fwd.rules.push_back(fmt::format("meta mark & {} == 0 jump {}", Hex(m.accept), kFromHepForward));
  } else {
    fwd.rules.push_back(clear);
    if (heps) fwd.rules.push_back(fmt::format("jump {}", kFromHepForward));
  }
  for (const std::string& prefix : options_.interface_prefixes) {
    fwd.rules.push_back(fmt::format("iifname \"{}*\" jump {}", prefix, kFromWlDispatch));
  }
  for (const std::string& prefix : options_.interface_prefixes) {
    fwd.rules.push_back(fmt::format("oifname \"{}*\" jump {}", prefix, kToWlDispatch));
  }
  if (heps) fwd.rules.push_back(fmt::format("jump {}", kToHepForward));
  fwd.rules.push_back(accepted);
  if (heps) {
    // Tells mangle-cali-POSTROUTING that the packet was forwarded, not sent by the host.
    fwd.rules.push_back(fmt::format("meta mark set meta mark | {} {}", Hex(m.accept),
                                    Comment("Mark forwarded traffic")));
  }
  AddChain("cali-FORWARD", std::move(fwd));

  const std::string hep_accepted = fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                               Comment("Host endpoint policy accepted packet."));
  Chain input{.owner = std::string("static"),
              .base = "type filter hook input priority filter; policy accept;"};
  for (const std::string& prefix : options_.interface_prefixes) {
    input.rules.push_back(fmt::format("iifname \"{}*\" goto {}", prefix, kWlToHost));
  }
  if (heps) {
    if (early_verdict) {
      input.rules.push_back(fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                        Comment("Accepted by pre-DNAT or untracked policy")));
    }
    input.rules.push_back(clear);
    input.rules.push_back(fmt::format("jump {}", kFromHostEndpoint));
    input.rules.push_back(hep_accepted);
  }
  AddChain("cali-INPUT", std::move(input));

  Chain output{.owner = std::string("static"),
               .base = "type filter hook output priority filter; policy accept;"};
  if (heps && untracked_) {
    output.rules.push_back(fmt::format("meta mark & {0} == {0} accept {1}", Hex(m.accept),
                                       Comment("Accepted by untracked policy")));
  }
  for (const std::string& prefix : options_.interface_prefixes) {
    output.rules.push_back(fmt::format("oifname \"{}*\" return {}", prefix,
                                       Comment("Host to workload traffic is not policed")));
  }
  if (heps) {
    // DNAT'd host traffic gets its egress policy in mangle-cali-POSTROUTING instead, once the
    // output interface is the one of the new destination.
    output.rules.push_back(clear);
    output.rules.push_back(fmt::format("ct status != dnat jump {}", kToHostEndpoint));
    output.rules.push_back(hep_accepted);
  }
  AddChain("cali-OUTPUT", std::move(output));

  Chain to_host{.owner = std::string("static")};
  to_host.rules.push_back(
      fmt::format("meta nfproto ipv6 meta l4proto 58 icmpv6 type {{ 130, 131, 132, 133, 135, 136 "
                  "}} accept {}",
                  Comment("Allow IPv6 multicast listener and neighbour discovery")));
  to_host.rules.push_back("ct state established,related accept");
  to_host.rules.push_back(clear);
  to_host.rules.push_back(fmt::format("jump {}", kFromWlDispatch));
  const std::string action_comment = Comment("Configured DefaultEndpointToHostAction");
  switch (options_.endpoint_to_host_action) {
    case EndpointToHostAction::kDrop:
      to_host.rules.push_back(fmt::format("counter drop {}", action_comment));
      break;
    case EndpointToHostAction::kAccept:
      to_host.rules.push_back(fmt::format("counter accept {}", action_comment));
      break;
    case EndpointToHostAction::kReturn:
      to_host.rules.push_back(fmt::format("counter return {}", action_comment));
      break;
  }
  AddChain(std::string(kWlToHost), std::move(to_host));

  for (const auto& [chain, key] :
       {std::pair{kFromWlDispatch, "iifname"}, {kToWlDispatch, "oifname"}}) {
    Chain dispatch{.owner = std::string("static")};
    dispatch.rules.push_back(fmt::format("{} vmap @{}", key, chain));
    dispatch.rules.push_back(
        fmt::format("counter {} {}", DenyVerdict(), Comment("Unknown interface")));
    AddChain(std::string(chain), std::move(dispatch));
  }
}

}  // namespace calico::policy::internal
