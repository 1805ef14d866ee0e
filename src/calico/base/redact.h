// Redact: takes secrets out of text that leaves the process for humans (diagnostics tarballs,
// copies of logs and configuration): BGP passwords in BIRD configuration, etcd passwords in
// command lines, environment dumps and calicoctl.cfg, and PEM private keys.
//
//   password "s3cret";                 -> password "<redacted>";
//   --password=s3cret / --password s3cret / ETCD_PASSWORD=s3cret / etcdPassword: s3cret
//                                      -> the value replaced by <redacted>
//   -----BEGIN ... PRIVATE KEY----- ... -----END ... PRIVATE KEY-----  -> one <redacted> line
//
// RedactFiles(dir) rewrites, in place, every regular file below `dir` whose text Redact changes
// (a diagnostics bundle before it is packed).
//
// Thread-safety: Redact is a pure function; RedactFiles touches only the files below `dir`.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace calico::base {

inline constexpr std::string_view kRedacted = "<redacted>";

std::string Redact(std::string_view text);

// Unreadable files and directories are skipped (what cannot be read cannot leak a secret).
void RedactFiles(const std::filesystem::path& dir);

}  // namespace calico::base
