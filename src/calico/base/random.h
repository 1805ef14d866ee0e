// Random identifiers: hex strings (container IDs, libnetwork handles) and RFC 4122 version 4
// UUIDs (metadata.uid, as Kubernetes and libcalico-go's uuid.NewUUID make them), from the
// kernel's random source (getrandom(2)).
//
// Thread-safety: thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace calico {

// Fills `out` with random bytes.
void RandomBytes(std::span<uint8_t> out);

// `digits` lowercase hex digits: RandomHex(64) is a Docker-style container ID.
std::string RandomHex(size_t digits);

// "6ba7b810-9dad-41d1-80b4-00c04fd430c8": version 4, variant 10.
std::string NewUuid();

}  // namespace calico
