// Clock: the injectable source of time.  Real code takes a Clock&; tests
// pass a FakeClock and move it by hand (never sleep in a unit test).
#ifndef TW_BASE_CLOCK_H_
#define TW_BASE_CLOCK_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tw {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (for timestamps shown to users).
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // The process-wide real clock.
  static Clock& Real();
};

// Thread-safe fake; starts at a fixed instant (2026-01-01T00:00:00Z).
class FakeClock : public Clock {
 public:
  FakeClock();
  std::chrono::system_clock::time_point Now() const override;
  void Advance(std::chrono::nanoseconds d);
  void Set(std::chrono::system_clock::time_point t);

 private:
  mutable std::mutex mu_;
  std::chrono::system_clock::time_point now_;
};

// RFC 3339 UTC with seconds precision, as Kubernetes prints times:
// "2026-11-27T21:23:06Z".
std::string FormatRfc3339(std::chrono::system_clock::time_point t);
// Parses RFC 3339 (fractional seconds and offsets accepted); nullopt if not.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s);

// kubectl's AGE column: "5s", "3m12s", "4h", "2d3h", "400d".
std::string FormatAge(std::chrono::system_clock::duration d);

}  // namespace tw

#endif  // TW_BASE_CLOCK_H_
