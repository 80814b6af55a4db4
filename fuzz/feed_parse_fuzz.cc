// libFuzzer target: the three feed body formats and domain normalisation.
// The first byte picks the format and options; the rest is the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "feeds/parse/domain.h"
#include "feeds/parse/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t sel = data[0];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  tw::feeds::FeedFormat f;
  tw::feeds::ParseLimits limits;
  limits.max_line_bytes = 256;
  switch (sel % 3) {
    case 0:
      break;
    case 1: {
      f.kind = tw::feeds::FeedFormat::Kind::kJson;
      static constexpr const char* kPaths[] = {"$.", "$.list[*]", "$.cidr", "$..value",
                                               "$.a[0].b[?(@.type=='ip-dst')].value"};
      f.json_path = kPaths[(sel / 3) % 5];
      break;
    }
    default:
      f.kind = tw::feeds::FeedFormat::Kind::kCsv;
      f.csv.field_num = (sel >> 2) & 3;
      f.csv.header = (sel & 0x10) != 0;
      f.csv.comment_delimiter = (sel & 0x20) ? "#" : "";
      f.csv.column_delimiter = (sel & 0x40) ? "\t" : ",";
      f.csv.disable_record_size_validation = (sel & 0x80) != 0;
      break;
  }
  auto r = tw::feeds::ParseFeedBody(body, f, tw::feeds::Content::kDomainNameSet, limits);
  if (r.ok()) {
    if (r->entries.size() != r->entry_lines.size()) __builtin_trap();
    for (std::string_view e : r->entries) {
      tw::feeds::DomainResult d = tw::feeds::NormalizeDomain(e);
      if (d.ok() == d.name.empty()) __builtin_trap();
    }
  }
  return 0;
}
