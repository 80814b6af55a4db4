// libFuzzer target: the newlineDelimited feed parser and Ingest on it.
// The first byte picks the line length limit (tiny, to reach the long-line
// path, or the default); the rest is the body.  Invariants: feed_fuzz_check.h.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "feed_fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  tw::feeds::ParseLimits limits;
  if (data[0] & 1) limits.max_line_bytes = 8 + data[0] / 2;
  limits.max_examples = data[0] % 7;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  tw::feeds::fuzz::CheckFeed(body, tw::feeds::FeedFormat{}, limits);
  return 0;
}
