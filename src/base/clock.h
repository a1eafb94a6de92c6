#pragma once
// Time seam: production code asks a clock, tests substitute manual_clock.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace sluice {

class clock {
 public:
  virtual ~clock() = default;
  // Milliseconds since the Unix epoch (record timestamps, file ages).
  virtual int64_t wall_ms() const = 0;
  // Monotonic milliseconds (timeouts, intervals); unrelated to wall time.
  virtual int64_t monotonic_ms() const = 0;
};

class system_clock final : public clock {
 public:
  int64_t wall_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
  }
  int64_t monotonic_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  static system_clock& instance() {
    static system_clock c;
    return c;
  }
};

// Tests move time by hand. Thread-safe reads.
class manual_clock final : public clock {
 public:
  explicit manual_clock(int64_t start_ms = 1'700'000'000'000) : _wall(start_ms), _mono(0) {}
  int64_t wall_ms() const override { return _wall.load(); }
  int64_t monotonic_ms() const override { return _mono.load(); }
  void advance_ms(int64_t d) { _wall += d; _mono += d; }
  void set_wall_ms(int64_t v) { _wall = v; }

 private:
  std::atomic<int64_t> _wall;
  std::atomic<int64_t> _mono;
};

}  // namespace sluice
