// What Felix's overlay filter rules admit (policy::RenderOptions::OverlayFilter), from the overlay
// models the agent already computes: which overlays are on, and the members of Felix's
// all-hosts-net (felix/dataplane/linux/ipset_hosts_mgr.go: every node's IPv4 address, this one's
// included) and all-vxlan-net sets (felix/dataplane/linux/vxlan_mgr.go
// updateNeighborsAndAllowedSources: the parent address of every other node's complete VTEP).
// FelixConfiguration externalNodesList, which upstream adds to both sets, is not acted on by
// this build (field_support.cc).
//
// Thread-safety: pure function.
#pragma once

#include "calico/agent/ipip.h"
#include "calico/agent/vxlan_model.h"
#include "calico/policy/ruleset_renderer.h"

namespace calico::agent {

// `v4`, `v6`, `ipip`: the states the agent programs, null when it programs no such overlay. An
// overlay counts as on when its state is enabled (VXLAN: a VXLAN pool or vxlanEnabled, and this
// node's VTEP complete; IPIP: an IPIP pool or ipipEnabled).
[[nodiscard]] policy::RenderOptions::OverlayFilter ComputeOverlayFilter(const VxlanInputs& inputs,
                                                                        const VxlanState* v4,
                                                                        const VxlanState* v6,
                                                                        const IpipState* ipip);

}  // namespace calico::agent
