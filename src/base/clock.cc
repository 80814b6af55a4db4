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

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s) {
  auto num = [&](size_t pos, size_t len) -> int {
    if (pos + len > s.size()) return -1;
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':')
    return std::nullopt;
  int y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), se = num(17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
      se > 60)
    return std::nullopt;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  }
  int offset_minutes = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = num(i + 1, 2), om = num(i + 4, 2);
    if (oh < 0 || om < 0 || i + 3 >= s.size() || s[i + 3] != ':') return std::nullopt;
    offset_minutes = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                  std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  std::chrono::system_clock::time_point t = std::chrono::sys_days(ymd);
  t += std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(se) -
       std::chrono::minutes(offset_minutes);
  return t;
}

}  // namespace tw
