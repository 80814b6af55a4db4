// libFuzzer target: the JSON / JSON-lines feed parser with its JSONPath and
// Ingest on it.  The input's first line is the JSONPath (compiled from the
// fuzz data, so the path language is fuzzed too), the rest the body.  Bodies
// starting with a byte below 0x20 use one of a few known paths instead, so
// the fuzzer also spends time on bodies that select something.
// Invariants: feed_fuzz_check.h.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "feed_fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  tw::feeds::FeedFormat f;
  f.kind = tw::feeds::FeedFormat::Kind::kJson;
  if (!in.empty() && static_cast<unsigned char>(in[0]) < 0x20) {
    static constexpr const char* kPaths[] = {"$.", "$.list[*]", "$.cidr", "$..value",
                                             "$.a[0].b[?(@.type=='ip-dst')].value", "$[*].ip"};
    f.json_path = kPaths[static_cast<unsigned char>(in[0]) % 6];
    in.remove_prefix(1);
  } else {
    size_t nl = in.find('\n');
    if (nl == std::string_view::npos || nl > 200) return 0;
    f.json_path = std::string(in.substr(0, nl));
    in.remove_prefix(nl + 1);
  }
  tw::feeds::ParseLimits limits;
  limits.max_line_bytes = 1024;
  tw::feeds::fuzz::CheckFeed(in, f, limits);
  return 0;
}
