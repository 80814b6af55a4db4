// Ingest: a pulled feed body -> the normalised set the controller stores
// (parse + validate + normalise + dedupe/merge), in one pass and without a
// per-entry vector: the parser hands each entry straight to the CidrSet
// builder (IPSet) or the domain normaliser (DomainNameSet).  Pure: no I/O.
// Used by the feed controller and by `threatwall feeds parse`, so the dry
// run and the daemon agree by construction.
#ifndef TW_FEEDS_INGEST_H_
#define TW_FEEDS_INGEST_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "feeds/parse/feed_format.h"
#include "feeds/parse/parse.h"
#include "net/cidr_set.h"

namespace tw::feeds {

struct IngestOptions {
  ParseLimits limits;
  // More valid entries than this: TooLarge ("feed has more than N entries")
  // -- a clear status error instead of an unbounded set.
  uint64_t max_entries = 5'000'000;
};

struct IngestResult {
  Content content = Content::kIPSet;
  net::CidrSet ips;                  // kIPSet: the merged set
  std::vector<std::string> domains;  // kDomainNameSet: canonical, sorted, unique
  uint64_t data_lines = 0;           // lines/records/values looked at as data
  uint64_t entries = 0;              // valid entries read (before dedupe/merge)
  uint64_t invalid = 0;              // data lines or entries dropped as invalid
  uint64_t ignored = 0;              // hosts-file localhost-style names (not invalid)
  // The first ParseLimits::max_examples dropped lines, parser skips and
  // invalid entries together, in line order, each with its reason
  // ("not an IP address or CIDR", "defanged host", ...).
  std::vector<SkippedLine> examples;
  // What is stored: the number of CIDRs in ips.ToCidrs() (IPSet) or of
  // domains (DomainNameSet).
  uint64_t prefixes = 0;
};

// Errors: the parser's (InvalidArgument naming the line for CSV/JSON
// structure errors, TooLarge for the body size), TooLarge over max_entries.
Result<IngestResult> Ingest(std::string_view body, const FeedFormat& format, Content content,
                            const IngestOptions& options = {});

}  // namespace tw::feeds

#endif  // TW_FEEDS_INGEST_H_
