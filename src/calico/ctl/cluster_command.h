// `calicoctl cluster diags` (calicoctl/calicoctl/commands/cluster/diags.go): a snapshot of the
// whole cluster's Calico state as ./calico-diagnostics-<UTC time>.tar.gz. Upstream gathers it with
// kubectl (every Calico resource, then the calico-node pods' logs and per-node dumps); without a
// Kubernetes API server, the bundle holds what the datastore knows:
//
//   calico-diagnostics-YYYYMMDD_HHMMSS/
//     resources/<plural>.yaml, <plural>.txt   every kind, as `calicoctl get KIND [-A] -o yaml|wide`
//     ipam/show.txt, show-blocks.txt, show-borrowed.txt, show-configuration.txt, check.txt,
//          check-report.json                   the `calicoctl ipam` views
//     ipam/keys.json                           every /calico/ipam/v2/ key and value
//     nodes/<node>/status.json, last_reported_status.json   calico-node's status reports
//     cluster-information.txt                  `calicoctl version` and ClusterInformation
//
// Every file is redacted (base::Redact, as `node diags`), the tarball is owner-only, and the
// temporary directory is removed unless --skip-temp-dir-cleanup.
#pragma once

#include <span>
#include <string>

#include "calico/ctl/ctl.h"

namespace calico::ctl {

int RunCluster(std::span<const std::string> args, Context& ctx);

}  // namespace calico::ctl
