#include "calico/agent/overlay_filter.h"

namespace calico::agent {

policy::RenderOptions::OverlayFilter ComputeOverlayFilter(const VxlanInputs& inputs,
                                                          const VxlanState* v4,
                                                          const VxlanState* v6,
                                                          const IpipState* ipip) {
  policy::RenderOptions::OverlayFilter out;
  out.vxlan = v4 != nullptr && v4->enabled;
  out.vxlan_v6 = v6 != nullptr && v6->enabled;
  out.ipip = ipip != nullptr && ipip->enabled;
  if (out.ipip) {
    for (const auto& [name, node] : inputs.nodes) {
      if (node.parent) {
        const net::IPAddr a = node.parent->addr();
        out.host_nets.emplace_back(a, a.bit_len());
      }
    }
  }
  for (const VxlanState* s : {v4, v6}) {
    if (s == nullptr || !s->enabled) continue;
    for (const RemoteVtep& r : s->remotes) {
      out.vxlan_sources.emplace_back(r.parent_ip, r.parent_ip.bit_len());
    }
  }
  return out;
}

}  // namespace calico::agent
