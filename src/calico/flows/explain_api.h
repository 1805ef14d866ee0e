// GET /api/v1/explain for calico-flows: the explain library (calico::explain, the same
// evaluation as `calicoctl policy explain`) over the datastore, for the web page's explain view.
//
//   GET /api/v1/explain?from=10.65.0.2&to=prod/web&protocol=TCP&port=80
//     200  explain::ToJson's form ({"verdict","directions":[{"steps":[...]}],...})
//     400  {"error"} for a bad query (the field named)
//     503  {"error","command"} when the datastore cannot be read (with calicoctl's command)
//
// Thread-safety: the handler may be called concurrently; the opener is called under a mutex.
#pragma once

#include <functional>

#include "calico/base/result.h"
#include "calico/datastore/client.h"
#include "calico/flows/service.h"

namespace calico::flows {

// Opens the datastore client (once it succeeds, the same client is used; a failure is retried on
// the next request). The client must outlive the handler.
using ClientOpener = std::function<Result<datastore::Client*>()>;

ExplainHandler MakeExplainHandler(ClientOpener open);

}  // namespace calico::flows
