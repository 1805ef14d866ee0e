// Clock: the time seam. Production code takes a Clock& so tests can drive time (Envoy's
// TimeSource).
//
// Thread-safety: SystemClock is thread-safe; FakeClock is not (tests drive it from one thread).
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

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override { return now_; }
  std::chrono::system_clock::time_point WallNow() const override { return wall_; }
  void Advance(std::chrono::nanoseconds d) {
    now_ += d;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }
  void SetWall(std::chrono::system_clock::time_point t) { wall_ = t; }

 private:
  std::chrono::steady_clock::time_point now_{};
  std::chrono::system_clock::time_point wall_{};
};

// "2026-11-24T00:17:32Z" (UTC, seconds precision), as Kubernetes/Calico timestamps are written.
std::string FormatRfc3339(std::chrono::system_clock::time_point t);

}  // namespace calico
