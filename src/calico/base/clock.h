// Clock: the time seam. Production code takes a Clock& so tests can drive time (Envoy's
// TimeSource); tests use calico::testing::FakeClock (base/testing/fake_clock.h, target
// calico::base_testing).
//
// Thread-safety: SystemClock is thread-safe.
#pragma once

#include <chrono>
#include <string>

namespace calico {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point Now() const = 0;
  virtual std::chrono::system_clock::time_point WallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::now();
  }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::now();
  }
};

// "2026-11-24T00:17:32Z" (UTC, seconds precision), as Kubernetes/Calico timestamps are written.
std::string FormatRfc3339(std::chrono::system_clock::time_point t);

}  // namespace calico
