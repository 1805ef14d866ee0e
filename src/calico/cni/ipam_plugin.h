// The calico-ipam CNI plugin (cni-plugin/pkg/ipamplugin): ADD assigns from Calico IPAM under the
// handle "<network>.<containerID>" (CNI_ARGS IP=... for fixed addresses), DEL releases the
// handle (idempotent), CHECK verifies the handle still holds addresses, VERSION lists versions.
//
// Thread-safety: one invocation per process, as CNI runs plugins.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/cni/cni.h"
#include "calico/datastore/backend.h"

namespace calico::cni {

// Runs one invocation; prints the result or a CNI error object on `out`; returns the exit code.
int RunIpamPlugin(const std::map<std::string, std::string>& env, std::string_view stdin_text,
                  std::ostream& out, std::ostream& err);

// The IPAM handle of a container on a network: "<network>.<containerID>".
std::string IpamHandle(const NetConf& conf, const Invocation& inv);

// The same ADD and DEL in-process, on an open datastore: the calico plugin uses these when
// ipam.type is calico-ipam instead of starting a second process and a second connection.
[[nodiscard]] Result<CniResult> IpamAdd(const Invocation& inv, const NetConf& conf,
                                        datastore::Backend& backend);
[[nodiscard]] Status IpamDel(const Invocation& inv, const NetConf& conf,
                             datastore::Backend& backend);
// IpamDel with the calico plugin's own writes (the WorkloadEndpoint's delete) in the release's
// transaction (ipam::IpamClient::ReleaseByHandle with `with`); returns whether they were written
// (false: a conflict on one of the keys; the addresses are released all the same).
[[nodiscard]] Result<bool> IpamDelWith(const Invocation& inv, const NetConf& conf,
                                       datastore::Backend& backend,
                                       std::vector<datastore::TxnOp> with);

}  // namespace calico::cni
