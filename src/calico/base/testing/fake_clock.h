// FakeClock: the Clock seam (calico/base/clock.h) driven by the test.
//
// Thread-safety: not thread-safe; tests drive it from one thread.
#pragma once

#include <chrono>

#include "calico/base/clock.h"

namespace calico::testing {

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

}  // namespace calico::testing
