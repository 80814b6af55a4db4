// Shared by the feed parser fuzz targets (feed_*_fuzz.cc): parses one body
// with both entry points and both contents and traps when they disagree.
//
// Invariants checked on every input:
// - neither ParseFeedBody nor Ingest crashes; both fail or both succeed;
// - entries have a line number (and, in the newline format, are non-empty);
// - Ingest counts add up: valid + invalid entries = parsed entries, invalid
//   includes every parser skip, examples = min(max_examples, invalid), each
//   cut to 120 bytes and in line order;
// - IPSet: prefixes = CidrCount() = ToCidrs().size() = lines of ToText(),
//   and every valid entry's address is in the set;
// - DomainNameSet: the names are sorted, unique and non-empty.
#ifndef TW_FUZZ_FEED_FUZZ_CHECK_H_
#define TW_FUZZ_FEED_FUZZ_CHECK_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "feeds/ingest.h"
#include "feeds/parse/parse.h"
#include "net/cidr.h"

namespace tw::feeds::fuzz {

inline void Check(bool ok) {
  if (!ok) __builtin_trap();
}

inline void CheckFeed(std::string_view body, const FeedFormat& format, const ParseLimits& limits) {
  for (Content content : {Content::kIPSet, Content::kDomainNameSet}) {
    auto parsed = ParseFeedBody(body, format, content, limits);
    IngestOptions options;
    options.limits = limits;
    auto r = Ingest(body, format, content, options);
    Check(parsed.ok() == r.ok());
    if (!parsed.ok()) {
      Check(!parsed.error().message().empty());
      continue;
    }
    Check(parsed->entries.size() == parsed->entry_lines.size());
    for (size_t i = 0; i < parsed->entries.size(); ++i) {
      // CSV fields and JSON strings may be empty (an invalid entry); a
      // newline-format entry is a token, never empty.
      Check(format.kind != FeedFormat::Kind::kNewlineDelimited || !parsed->entries[i].empty());
      Check(parsed->entry_lines[i] >= 1);
    }
    Check(r->content == content);
    Check(r->data_lines == parsed->data_lines);
    Check(r->ignored == parsed->ignored);
    Check(r->invalid >= parsed->skipped);
    Check(r->entries + (r->invalid - parsed->skipped) == parsed->entries.size());
    Check(r->examples.size() == std::min<uint64_t>(limits.max_examples, r->invalid));
    for (size_t i = 0; i < r->examples.size(); ++i) {
      Check(r->examples[i].text.size() <= 120 && !r->examples[i].reason.empty());
      if (i > 0) Check(r->examples[i - 1].line <= r->examples[i].line);
    }
    if (content == Content::kIPSet) {
      Check(r->domains.empty());
      Check(r->prefixes == r->ips.CidrCount());
      Check(r->prefixes == r->ips.ToCidrs().size());
      std::string text = r->ips.ToText(/*compact=*/false);
      Check(static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')) == r->prefixes);
      uint64_t valid = 0;
      for (std::string_view e : parsed->entries) {
        net::Cidr c;
        if (net::TryParseCidr(e, &c) != net::ParseError::kOk) continue;
        ++valid;
        Check(r->ips.Contains(c.addr()));
      }
      Check(valid == r->entries);
    } else {
      Check(r->ips.empty());
      Check(r->prefixes == r->domains.size());
      for (size_t i = 0; i < r->domains.size(); ++i) {
        Check(!r->domains[i].empty());
        if (i > 0) Check(r->domains[i - 1] < r->domains[i]);
      }
    }
  }
}

}  // namespace tw::feeds::fuzz

#endif  // TW_FUZZ_FEED_FUZZ_CHECK_H_
