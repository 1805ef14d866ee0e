// The collector's records as calico-flows' flow record (calico/flows/flow.h: Goldmane's Flow
// with sourceIp/destIp) and the ingest body (newline-delimited JSON, POST /api/v1/flows;
// src/calico/flows/README.md).
#pragma once

#include <string>
#include <vector>

#include "calico/flowlog/collector.h"
#include "calico/flows/flow.h"

namespace calico::flowlog {

flows::Flow ToFlow(const FlowRecord& record);
// One encoded flow per line.
std::string EncodeIngestBody(const std::vector<FlowRecord>& records);

}  // namespace calico::flowlog
