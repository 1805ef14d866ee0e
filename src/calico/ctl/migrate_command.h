// `calicoctl datastore migrate lock|export|import|unlock` (calicoctl/calicoctl/commands/datastore/
// migrate): lock sets ClusterInformation's datastoreReady to false (unlock back to true); export
// (only while locked) writes the whole datastore as YAML to stdout; import -f FILE|- writes it
// into the configured datastore (validated first, nothing written when a document is invalid).
#pragma once

#include <span>
#include <string>

#include "calico/ctl/ctl.h"

namespace calico::ctl {

int RunDatastoreMigrate(std::span<const std::string> args, Context& ctx);

}  // namespace calico::ctl
