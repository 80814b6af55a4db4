#include "base/clock.h"

#include <ctime>

namespace tw {
namespace {

class RealClock : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace

Clock& Clock::Real() {
  static RealClock clock;
  return clock;
}

FakeClock::FakeClock() : now_(std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}) {}

std::chrono::system_clock::time_point FakeClock::Now() const {
  std::lock_guard<std::mutex> l(mu_);
  return now_;
}

void FakeClock::Advance(std::chrono::nanoseconds d) {
  std::lock_guard<std::mutex> l(mu_);
  now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
}

void FakeClock::Set(std::chrono::system_clock::time_point t) {
  std::lock_guard<std::mutex> l(mu_);
  now_ = t;
}

std::string FormatRfc3339(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Mirrors k8s.io/apimachinery/pkg/util/duration.HumanDuration.
std::string FormatAge(std::chrono::system_clock::duration d) {
  using namespace std::chrono;
  long long secs = duration_cast<seconds>(d).count();
  if (secs < 0) secs = 0;
  auto s = [](long long v) { return std::to_string(v); };
  if (secs < 120) return s(secs) + "s";
  long long mins = secs / 60;
  if (mins < 10) return s(mins) + "m" + (secs % 60 ? s(secs % 60) + "s" : "");
  if (mins < 180) return s(mins) + "m";
  long long hours = secs / 3600;
  if (hours < 8) return s(hours) + "h" + (mins % 60 ? s(mins % 60) + "m" : "");
  if (hours < 48) return s(hours) + "h";
  if (hours < 24 * 8) return s(hours / 24) + "d" + (hours % 24 ? s(hours % 24) + "h" : "");
  if (hours < 24 * 365 * 2) return s(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    long long days = hours / 24;
    return s(days / 365) + "y" + (days % 365 ? s(days % 365) + "d" : "");
  }
  return s(hours / 24 / 365) + "y";
}

}  // namespace tw
