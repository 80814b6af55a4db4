// libFuzzer target: the CSV feed parser (Go encoding/csv rules) and Ingest
// on it.  The first byte picks the options (column, header, comment and
// column delimiters, record size validation); the rest is the body.
// Invariants: feed_fuzz_check.h.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "feed_fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t sel = data[0];
  tw::feeds::FeedFormat f;
  f.kind = tw::feeds::FeedFormat::Kind::kCsv;
  f.csv.field_num = sel & 3;
  f.csv.header = (sel & 0x04) != 0;
  f.csv.comment_delimiter = (sel & 0x08) ? "#" : "";
  static constexpr const char* kDelims[] = {",", "\t", ";", "\xE2\x80\x96"};  // the last: U+2016, 3 bytes
  f.csv.column_delimiter = kDelims[(sel >> 4) & 3];
  f.csv.disable_record_size_validation = (sel & 0x40) != 0;
  if (sel & 0x80) f.csv.field_name = "ip";
  tw::feeds::ParseLimits limits;
  limits.max_line_bytes = 512;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  tw::feeds::fuzz::CheckFeed(body, f, limits);
  return 0;
}
