#include "feeds/ingest.h"

#include <algorithm>
#include <utility>

#include "feeds/parse/domain.h"

namespace tw::feeds {
namespace {

constexpr std::string_view kNotAnIp = "not an IP address or CIDR";

// Shared by both contents: counting and the merged, line-ordered examples.
// The parser calls Skip and Entry in line order, so appending as they come
// keeps parser skips and invalid entries interleaved correctly.
class IngestSink : public EntrySink {
 public:
  IngestSink(IngestResult& out, const IngestOptions& options) : out_(out), options_(options) {}

  void Skip(uint64_t line, std::string_view reason, std::string_view text) override {
    ++out_.invalid;
    Example(line, reason, text);
  }

  bool over_limit() const { return over_limit_; }

 protected:
  void Example(uint64_t line, std::string_view reason, std::string_view text) {
    if (out_.examples.size() < options_.limits.max_examples) {
      out_.examples.push_back({line, std::string(reason), std::string(text.substr(0, 120))});
    }
  }
  // Counts a valid entry; false once there are more than max_entries (the
  // rest of the body is then only counted, not stored).
  bool Valid() {
    if (++out_.entries > options_.max_entries) over_limit_ = true;
    return !over_limit_;
  }

  IngestResult& out_;
  const IngestOptions& options_;
  bool over_limit_ = false;
};

class IpSink final : public IngestSink {
 public:
  using IngestSink::IngestSink;
  void Entry(std::string_view entry, uint64_t line) override {
    if (over_limit_) return;
    if (!builder_.AddText(entry)) {
      ++out_.invalid;
      Example(line, kNotAnIp, entry);
      return;
    }
    Valid();
  }
  net::CidrSet::Builder& builder() { return builder_; }

 private:
  net::CidrSet::Builder builder_;
};

class DomainSink final : public IngestSink {
 public:
  using IngestSink::IngestSink;
  void Entry(std::string_view entry, uint64_t line) override {
    if (over_limit_) return;
    DomainResult d = NormalizeDomain(entry);
    if (!d.ok()) {
      ++out_.invalid;
      Example(line, d.reason, entry);
      return;
    }
    if (Valid()) out_.domains.push_back(std::move(d.name));
  }
};

Status TooMany(const IngestOptions& options) {
  return Status::TooLarge("feed has more than " + std::to_string(options.max_entries) + " entries");
}

}  // namespace

Result<IngestResult> Ingest(std::string_view body, const FeedFormat& format, Content content,
                            const IngestOptions& options) {
  IngestResult out;
  out.content = content;
  if (content == Content::kIPSet) {
    IpSink sink(out, options);
    // A valid IPv4 line takes at least 8 bytes ("1.1.1.1\n"): reserving for
    // that many saves the vector's doubling copies on big feeds without
    // over-reserving much on small ones.
    sink.builder().Reserve(std::min<uint64_t>(body.size() / 8 + 1, options.max_entries));
    TW_ASSIGN_OR_RETURN(ParseCounts counts, ParseFeedBody(body, format, content, options.limits, sink));
    if (sink.over_limit()) return TooMany(options);
    out.data_lines = counts.data_lines;
    out.ignored = counts.ignored;
    out.ips = sink.builder().Build();
    out.prefixes = out.ips.CidrCount();
  } else {
    DomainSink sink(out, options);
    TW_ASSIGN_OR_RETURN(ParseCounts counts, ParseFeedBody(body, format, content, options.limits, sink));
    if (sink.over_limit()) return TooMany(options);
    out.data_lines = counts.data_lines;
    out.ignored = counts.ignored;
    std::sort(out.domains.begin(), out.domains.end());
    out.domains.erase(std::unique(out.domains.begin(), out.domains.end()), out.domains.end());
    out.domains.shrink_to_fit();
    out.prefixes = out.domains.size();
  }
  return out;
}

}  // namespace tw::feeds
