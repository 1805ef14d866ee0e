// Text forms of resources as calicoctl reads and prints them. The codec itself lives in
// calico::model (yaml_codec.h: YAML in and out with the decoder limits; json_codec.h: Go's
// json.MarshalIndent), shared with `calicoctl datastore migrate` and the configuration file; these
// names keep calicoctl's call sites short.
//
// Thread-safety: pure functions.
#pragma once

#include "calico/model/json_codec.h"
#include "calico/model/yaml_codec.h"

namespace calico::ctl {

using model::EmitGoJson;
using model::EmitGoYaml;
using model::ParseYaml;
using model::ParseYamlStream;
using model::SplitYamlDocuments;

}  // namespace calico::ctl
