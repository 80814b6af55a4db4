// Feed body parsers: bytes of a pulled feed -> raw entry strings.  Pure
// functions, no I/O.  IPs are NOT parsed or normalised here (src/net does
// that); domains are normalised separately (feeds/parse/domain.h).
//
// Formats (FeedFormat::Kind):
//  * newlineDelimited -- better than Calico (which only strips `#`):
//    UTF-8 BOM at the start, CRLF / CR, a missing final newline; `#` and `;`
//    comments, whole-line and inline; whole-line `!` comments and `[...]`
//    section lines without a colon (adblock; `[v6]` is kept); ASCII and Unicode spaces (NBSP, U+2000-U+200B,
//    U+3000, U+FEFF) trimmed and treated as separators; hosts-file lines
//    (`0.0.0.0 a b`, `127.0.0.1 a`, `::1 a`, ...) give their names, and
//    `localhost`, `localhost.localdomain`, `broadcasthost`, `local`, `ip6-*`
//    names are ignored (not counted as invalid); otherwise the first token of
//    the line is the entry (`IP<TAB>count`); adblock `||host^[$opts]` -> host.
//  * json -- the whole body as one JSON document with the JSONPath
//    (model/jsonpath.h) applied; the selection must be an array (or a list of
//    values); non-string elements are skipped and counted.  If the body is not
//    one JSON document but has several lines, it is read as JSON-lines: the
//    path is applied to every non-blank line, a selected string or the string
//    elements of a selected array are entries, and lines selecting nothing
//    (metadata records) are skipped and counted.
//  * csv -- Go encoding/csv semantics as Calico: RFC 4180 quotes (a quoted
//    field may span lines; `""` is a quote; a bare `"` in an unquoted field or
//    text after a closing quote is an error), lines starting with the comment
//    delimiter and blank lines skipped, CRLF accepted, values not trimmed;
//    recordSize (0 = the first record fixes it) enforced unless
//    disableRecordSizeValidation -- a violation aborts with InvalidArgument
//    naming the line; header + fieldName (exact match, error if absent);
//    rows too short for the column are skipped and counted.
//
// Limits: a body over ParseLimits::max_body_bytes is TooLarge.  A text line
// (newline format) longer than max_line_bytes is skipped and counted (Calico
// aborts the pull instead); a CSV record longer than that aborts.
#ifndef TW_FEEDS_PARSE_PARSE_H_
#define TW_FEEDS_PARSE_PARSE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "feeds/parse/feed_format.h"

namespace tw::feeds {

struct ParseLimits {
  size_t max_body_bytes = size_t{256} << 20;
  size_t max_line_bytes = size_t{64} << 10;
  size_t max_examples = 5;  // skipped lines kept as examples
};

struct SkippedLine {
  uint64_t line = 0;     // 1-based line number in the body
  std::string reason;
  std::string text;      // the line, cut to 120 bytes
};

struct ParsedBody {
  // Entries in feed order, trimmed; duplicates kept.  They view either the
  // parsed body (which must outlive this object) or `storage_`.
  std::vector<std::string_view> entries;
  std::vector<uint64_t> entry_lines;   // 1-based line of each entry
  uint64_t data_lines = 0;             // lines/records/values looked at as data
  uint64_t skipped = 0;                // data lines that gave no entry
  uint64_t ignored = 0;                // hosts-file localhost-style names
  std::vector<SkippedLine> examples;   // the first ParseLimits::max_examples skipped

  // Owned texts for entries that are not a slice of the body (unquoted CSV,
  // JSON strings).  A deque keeps addresses stable.
  std::deque<std::string> storage_;
};

// Receives what a parser finds, in body order (line numbers never go down).
// The parser keeps no per-entry state: a sink that only counts or feeds a
// builder parses in constant extra memory.
class EntrySink {
 public:
  virtual ~EntrySink() = default;
  // One trimmed, non-empty entry found on 1-based line `line`.  `entry`
  // views the body or parser scratch space: it is valid only during the call.
  virtual void Entry(std::string_view entry, uint64_t line) = 0;
  // A data line (or JSON value / CSV record) that gave no entry: `reason`
  // says why, `text` is the line as read (not cut; valid during the call).
  virtual void Skip(uint64_t line, std::string_view reason, std::string_view text) = 0;
};

// What a sink-based parse counted (entries themselves went to the sink).
struct ParseCounts {
  uint64_t data_lines = 0;  // lines/records/values looked at as data
  uint64_t skipped = 0;     // = the number of EntrySink::Skip calls
  uint64_t ignored = 0;     // hosts-file localhost-style names
};

// Parses `body` as `format`, handing each entry and skip to `sink` as it is
// found.  On an error some entries may already have been delivered; the
// caller discards them.  `content` is informational (entries are raw
// strings either way; callers validate as IP or domain).
Result<ParseCounts> ParseFeedBody(std::string_view body, const FeedFormat& format, Content content,
                                  const ParseLimits& limits, EntrySink& sink);

// The same parse collected into a ParsedBody (a thin wrapper over the sink
// form: entries that are slices of `body` are kept as views, others copied
// into storage_).
Result<ParsedBody> ParseFeedBody(std::string_view body, const FeedFormat& format, Content content,
                                 const ParseLimits& limits = {});

// The whitespace set of the newline parser, exposed for tests: the length in
// bytes of the (ASCII or Unicode) space at the start of `s`, or 0.
size_t SpaceAt(std::string_view s);

}  // namespace tw::feeds

#endif  // TW_FEEDS_PARSE_PARSE_H_
