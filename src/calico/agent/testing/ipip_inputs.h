// Test fixture shared by the IPIP tests (agent/ipip_test.cc and the privileged
// agent/linux/ipip_programmer_test.cc). Test-only (target calico::agent_testing).
#pragma once

#include <string>

#include "calico/agent/vxlan_model.h"

namespace calico::agent::testing {

// One pool 10.90.0.0/16 with ipipMode `mode` ("Always", "CrossSubnet", "Never"); nodes a, b (same
// /24) and c (another /24), each with one confirmed block: a 10.90.1.0/26, b 10.90.2.0/26,
// c 10.90.3.0/26.
inline VxlanInputs IpipInputs(const std::string& mode) {
  VxlanInputs in;
  in.Ingest("/calico/resources/v3/projectcalico.org/ippools/p",
            R"({"kind":"IPPool","spec":{"cidr":"10.90.0.0/16","ipipMode":")" + mode + R"("}})");
  in.Ingest("/calico/resources/v3/projectcalico.org/nodes/a",
            R"({"kind":"Node","spec":{"bgp":{"ipv4Address":"198.18.0.11/24"}}})");
  in.Ingest("/calico/resources/v3/projectcalico.org/nodes/b",
            R"({"kind":"Node","spec":{"bgp":{"ipv4Address":"198.18.0.12/24"}}})");
  in.Ingest("/calico/resources/v3/projectcalico.org/nodes/c",
            R"({"kind":"Node","spec":{"bgp":{"ipv4Address":"198.18.1.13/24"}}})");
  in.Ingest("/calico/ipam/v2/host/a/ipv4/block/10.90.1.0-26", R"({"state":"confirmed"})");
  in.Ingest("/calico/ipam/v2/host/b/ipv4/block/10.90.2.0-26", R"({"state":"confirmed"})");
  in.Ingest("/calico/ipam/v2/host/c/ipv4/block/10.90.3.0-26", R"({"state":"confirmed"})");
  return in;
}

}  // namespace calico::agent::testing
