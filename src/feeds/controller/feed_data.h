// The stored copy of a feed's last good set, and the GlobalNetworkSet made
// from it.  Pure: encoding and rendering only.
//
// FeedData record: kind kFeedDataKind, cluster-scoped, name = feed name.
// Value: the entries, one per line ("10.0.0.0/8", "1.2.3.4/32",
// "2001:db8::/32" for IPSet, in CidrSet order; canonical domains, sorted,
// for DomainNameSet), then one JSON line of FeedDataMeta (last, so the
// value is built by appending to the entries in place).  Large values are cut into
// pieces by store::ChunkedStore, so etcd's value limit never applies.  The
// detector (issue 5) reads the same records.
#ifndef TW_FEEDS_CONTROLLER_FEED_DATA_H_
#define TW_FEEDS_CONTROLLER_FEED_DATA_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "feeds/controller/feed_spec.h"
#include "feeds/parse/feed_format.h"

namespace tw::feeds {

inline constexpr std::string_view kFeedDataKind = "threatwall.io/FeedData";

struct FeedDataMeta {
  std::string feed;             // feed name
  std::string feed_uid;         // the feed object this set belongs to
  Content content = Content::kIPSet;
  int64_t version = 0;          // +1 on every content change
  std::string created_at;       // RFC 3339: the pull that produced this content
  std::string gns_uid;          // identity of threatfeed.<name>, stable across rewrites
  std::string gns_created;      // its creationTimestamp
  uint64_t count = 0;           // entries (lines)
  std::string sha256;           // hex SHA-256 of the entries text
};

struct FeedData {
  FeedDataMeta meta;
  std::string entries;  // "a\nb\n": one entry per line, each ending in '\n'
};

// Appends the meta line to `entries` and returns the value (moved from
// `entries`: no copy of a large set).
std::string EncodeFeedData(const FeedDataMeta& meta, std::string entries);
// IoError naming the feed when the value is not one EncodeFeedData wrote
// (or its entries do not match their SHA-256).
Result<FeedData> DecodeFeedData(std::string_view value);
// The same without copying the entries: the meta, and in *entries the view
// of `value` that holds them.
Result<FeedDataMeta> DecodeFeedDataView(std::string_view value, std::string_view* entries);

// Hex SHA-256.
std::string Sha256Hex(std::string_view data);

// The JSON the controller stores for GlobalNetworkSet threatfeed.<feed>:
// labels = spec.globalNetworkSet.labels + tigera.io/creator, an
// ownerReference to the feed, spec.nets = the entries in order.  The
// rendering is a pure function of (meta, labels, entries), so comparing
// bytes tells whether a stored set was edited by someone else.
std::string RenderGns(const FeedDataMeta& meta, const FeedSpec& feed, std::string_view entries);

}  // namespace tw::feeds

#endif  // TW_FEEDS_CONTROLLER_FEED_DATA_H_
