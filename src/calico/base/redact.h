// Redact: takes secrets out of text that leaves the process for humans (diagnostics tarballs,
// copies of logs and configuration): BGP passwords in BIRD configuration, etcd passwords in
// command lines, environment dumps and calicoctl.cfg, and PEM private keys.
//
//   password "s3cret";                 -> password "<redacted>";
//   --password=s3cret / --password s3cret / ETCD_PASSWORD=s3cret / etcdPassword: s3cret
//                                      -> the value replaced by <redacted>
//   -----BEGIN ... PRIVATE KEY----- ... -----END ... PRIVATE KEY-----  -> one <redacted> line
//
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>

namespace calico::base {

inline constexpr std::string_view kRedacted = "<redacted>";

std::string Redact(std::string_view text);

}  // namespace calico::base
