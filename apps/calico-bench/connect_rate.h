// calico-bench connect-rate: TCP connections per second from one network namespace to a listener
// in another. Every new connection meets the policy chains (and, with flow logs on, NFLOG and
// conntrack events); established packets do not. The flow-logs row connects and resets; the
// connect-rate row (bench/connect_rate.sh) sends a request and reads a response on each
// connection, as netperf's TCP_CRR.
#pragma once

#include "calico/base/result.h"

namespace calico::bench {

// A listener on 0.0.0.0:`port` in namespace `server_ns` (a path, /var/run/netns/x); connections
// from `client_ns` to `ip`:`port` for `seconds`, each closed with a reset (no TIME_WAIT).
// With `request`, each connection carries a 64-byte request and a 128-byte response before the
// client resets it. Returns the completed connections per second.
[[nodiscard]] Result<double> MeasureConnectRate(const char* server_ns, const char* client_ns,
                                                const char* ip, int port, double seconds,
                                                bool request = false);

}  // namespace calico::bench
