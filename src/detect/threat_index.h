// ThreatIndex: every enabled threat feed's set in one immutable, in-memory
// index, asked for each flow and DNS record as it is recorded (DESIGN.md
// §8, calico-semantics.md §2).
//
// FeedSet is one feed's stored set (the FeedData record, feeds/controller/
// feed_data.h), parsed once and shared between index generations, so a
// rebuild after one feed changed re-parses only that feed.
//
// ThreatIndex is built from FeedSets (IPSet and DomainNameSet mixed):
//  * IPSet feeds: one PrefixMatcher over the union of all of them answers
//    "is this address listed anywhere?" (the hot path, ~1 cache miss per
//    IPv4 key, batched); only on a hit does each feed's CidrSet say whether
//    it holds the address, and which prefix (the CIDR of the feed's
//    minimal decomposition that contains it, as PrefixMatcher::
//    MatchedPrefix defines `suspicious_prefix`).  When several feeds hold
//    the address the most specific prefix (longest) is reported, ties to
//    the first feed by name.
//  * DomainNameSet feeds: one open-addressing hash table of the distinct
//    canonical names of all feeds -> the feeds listing it.  A name matches
//    a feed when the feed lists it exactly; a parent domain of the name
//    (walking the label suffixes: "a.b.evil.com" -> "b.evil.com" ->
//    "evil.com" -> "com") matches only feeds built with match_subdomains
//    (annotation threatwall.io/match-subdomains: "true").  Calico matches
//    exact names only.  Names are compared in the canonical form
//    (CanonicalDomain below; feed entries are stored canonical).
// Feeds are numbered by their names in sorted order (FeedId), so the
// `feeds` of an event -- and its id -- are deterministic.
//
// Memory, measured (detector_test.cc ThreatIndexBench, 1M entries): an
// IPSet feed of 1M random /32s costs its CidrSet (7.6 MiB, 8 bytes a
// range) + the matcher (45 MiB: 8 MiB + 32 bytes per /24 holding a
// boundary + 8 bytes a range), 55 bytes a prefix in all; a DomainNameSet
// feed of 1M names 63 bytes a name (29 MiB of text and offsets, 31 MiB of
// table).  Building: ~0.4 s + ~0.4 s (parse, index) for either.
//
// Thread-compatible; a const ThreatIndex (and FeedSet) may be shared
// between threads.
#ifndef TW_DETECT_THREAT_INDEX_H_
#define TW_DETECT_THREAT_INDEX_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/parse/domain.h"
#include "feeds/parse/feed_format.h"
#include "net/cidr.h"
#include "net/cidr_set.h"
#include "net/ip_addr.h"
#include "net/matcher.h"

namespace tw::detect {

inline constexpr std::string_view kMatchSubdomainsAnnotation = "threatwall.io/match-subdomains";

// The canonical form Calico compares names in (calico-semantics.md §1.4):
// ASCII lower-case, leading/trailing dots stripped, runs of dots collapsed,
// `xn--` labels decoded to UTF-8 (kept as written when they do not decode):
// the feeds' own normaliser's form, so a listed name and a query for it
// compare equal.  No validity check (attackers query invalid names).
using feeds::CanonicalDomain;

// One feed's set.  Immutable once made.
class FeedSet : public std::enable_shared_from_this<FeedSet> {
 public:
  // From a FeedData record's entries ("a\nb\n", one entry per line):
  // IPSet lines are CIDRs or addresses (a line that is neither is skipped
  // and counted in skipped()); DomainNameSet lines are canonical names
  // (empty lines skipped; sorted and de-duplicated here if they are not).
  static std::shared_ptr<const FeedSet> FromEntries(std::string name, feeds::Content content,
                                                    std::string_view entries);
  static std::shared_ptr<const FeedSet> FromIps(std::string name, net::CidrSet ips);
  // `domains` are taken as given (canonical); sorted and de-duplicated.
  static std::shared_ptr<const FeedSet> FromDomains(std::string name, std::vector<std::string> domains);

  const std::string& name() const { return name_; }
  feeds::Content content() const { return content_; }
  const net::CidrSet& ips() const { return ips_; }
  size_t domain_count() const { return starts_.empty() ? 0 : starts_.size() - 1; }
  // The i-th name in byte order, i < domain_count().
  std::string_view domain(size_t i) const {
    return std::string_view(text_).substr(starts_[i], starts_[i + 1] - starts_[i] - 1);
  }
  // Prefixes (CidrSet::CidrCount) or names.
  size_t entry_count() const;
  bool empty() const { return ips_.empty() && domain_count() == 0; }
  size_t skipped() const { return skipped_; }
  // What this set holds that `old` does not (old == nullptr or of the
  // other content: everything), for the retro-hunt.  Linear in both sizes.
  std::shared_ptr<const FeedSet> GainedSince(const FeedSet* old) const;
  // The `suspicious_prefix` of `a` in this feed, nullopt when not listed.
  std::optional<net::Cidr> PrefixOf(const net::IpAddr& a) const;
  size_t MemoryBytes() const;

 private:
  FeedSet(std::string name, feeds::Content content) : name_(std::move(name)), content_(content) {}
  void SortDomains();

  std::string name_;
  feeds::Content content_;
  net::CidrSet ips_;
  // Domains: the names in byte order, each followed by '\n', and the
  // offset of each (plus one past the end: n + 1 offsets, none when empty).
  std::string text_;
  std::vector<uint32_t> starts_;
  size_t skipped_ = 0;
};

struct IndexedFeed {
  std::shared_ptr<const FeedSet> set;
  bool match_subdomains = false;  // domain feeds only
};

struct IpMatch {
  std::vector<uint32_t> feeds;  // FeedIds, ascending; empty: not listed
  std::optional<net::Cidr> prefix;
};

class ThreatIndex {
 public:
  using FeedId = uint32_t;

  // Feeds with an empty or null set are left out; names must be unique
  // (a later duplicate is dropped).
  static std::shared_ptr<const ThreatIndex> Build(std::vector<IndexedFeed> feeds);
  // An index of no feeds.
  static std::shared_ptr<const ThreatIndex> Empty();

  // Sorted; FeedId = position.
  const std::vector<std::string>& feed_names() const { return names_; }
  const FeedSet& feed(FeedId id) const { return *feeds_[id].set; }
  bool match_subdomains(FeedId id) const { return feeds_[id].match_subdomains; }
  bool has_ip_feeds() const { return has_ip_; }
  bool has_domain_feeds() const { return !slots_.empty(); }

  // Is `a` listed in any IPSet feed?  The fast negative check.
  bool ContainsIp(const net::IpAddr& a) const { return has_ip_ && union_.Contains(a); }
  // out[i] = listed(keys[i]) for IPv4 keys in host order; out.size() >= keys.size().
  void ContainsBatchV4(std::span<const uint32_t> keys, std::span<uint8_t> out) const;
  // Which feeds list `a`, and the prefix (see the file comment).
  IpMatch MatchIp(const net::IpAddr& a) const;
  // FeedIds (ascending) whose set matches the canonical name `name`
  // (exactly, or a parent domain for match_subdomains feeds).
  std::vector<FeedId> MatchDomain(std::string_view name) const;
  // The names of `ids`, in order.
  std::vector<std::string> NamesOf(std::span<const FeedId> ids) const;

  size_t ip_prefix_count() const { return ip_prefixes_; }
  size_t domain_count() const { return domains_.size(); }
  // Heap bytes held by the index itself (matcher, table) -- not counting
  // the FeedSets, which are shared.
  size_t MemoryBytes() const;

 private:
  struct DomainEntry {
    const char* data;
    uint32_t len;
    uint32_t feed_set;  // index into feed_sets_
  };
  ThreatIndex() = default;
  void BuildDomains();
  std::optional<uint32_t> FindDomain(std::string_view name) const;
  static uint64_t Hash(std::string_view s);

  std::vector<IndexedFeed> feeds_;  // by FeedId
  std::vector<std::string> names_;
  std::vector<FeedId> ip_feeds_;
  bool has_ip_ = false;
  net::PrefixMatcher union_;
  size_t ip_prefixes_ = 0;
  std::vector<DomainEntry> domains_;
  std::vector<uint64_t> slots_;  // hash high 32 bits << 32 | (entry + 1); 0 = empty
  uint64_t mask_ = 0;
  std::vector<std::vector<FeedId>> feed_sets_;
};

}  // namespace tw::detect

#endif  // TW_DETECT_THREAT_INDEX_H_
