// The body format of a GlobalThreatFeed (`spec.pull.http.format`) and its
// content type, read from the feed's admitted JSON spec.
#ifndef TW_FEEDS_PARSE_FEED_FORMAT_H_
#define TW_FEEDS_PARSE_FEED_FORMAT_H_

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"

namespace tw::feeds {

enum class Content { kIPSet, kDomainNameSet };

// `format.csv`.  Delimiters are one UTF-8 encoded rune (admission checks that).
struct CsvFormat {
  std::optional<uint32_t> field_num;        // 0-based, as Calico; unset = 0
  std::string field_name;                   // needs header
  bool header = false;
  std::string column_delimiter = ",";
  std::string comment_delimiter;            // empty = none
  uint32_t record_size = 0;                 // 0 = the first record fixes it
  bool disable_record_size_validation = false;
};

struct FeedFormat {
  enum class Kind { kNewlineDelimited, kJson, kCsv };
  Kind kind = Kind::kNewlineDelimited;
  std::string json_path;                    // kJson
  CsvFormat csv;                            // kCsv
};

// Reads `pull.http.format` of a GlobalThreatFeed spec object (the `spec`
// member, not the whole object).  Missing pull/http/format = newline.  Like
// Calico, json wins over csv when both are set.  InvalidArgument naming the
// field on wrong JSON types.
Result<FeedFormat> FeedFormatFromSpec(const boost::json::value& spec);

// `spec.content`: missing = IPSet; anything but IPSet/DomainNameSet is an error.
Result<Content> ContentFromSpec(const boost::json::value& spec);

}  // namespace tw::feeds

#endif  // TW_FEEDS_PARSE_FEED_FORMAT_H_
