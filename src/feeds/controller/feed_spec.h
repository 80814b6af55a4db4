// FeedSpec: what the feed controller needs from a stored GlobalThreatFeed
// (its admitted JSON), read once per change.  Pure: no I/O.
#ifndef TW_FEEDS_CONTROLLER_FEED_SPEC_H_
#define TW_FEEDS_CONTROLLER_FEED_SPEC_H_

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "feeds/parse/feed_format.h"

namespace tw::feeds {

// Annotations a user (or `threatwall feeds sync`) sets on a GlobalThreatFeed.
inline constexpr std::string_view kSyncRequestAnnotation = "threatwall.io/sync-request";
// "force" in the sync request's value: accept a result the collapse guard holds.
inline constexpr std::string_view kCollapseThresholdAnnotation = "threatwall.io/collapse-threshold";
inline constexpr std::string_view kCreatorLabel = "tigera.io/creator";
inline constexpr std::string_view kCreatorValue = "intrusion-detection-controller";
inline constexpr std::string_view kGnsPrefix = "threatfeed.";

struct HeaderSpec {
  std::string name;
  std::string value;  // when from_kind is empty
  enum class From { kValue, kSecret, kConfigMap } from = From::kValue;
  std::string ref_name;  // Secret/ConfigMap name
  std::string ref_key;
  bool optional = false;
};

struct FeedSpec {
  std::string name;
  std::string uid;
  int64_t generation = 0;
  Content content = Content::kIPSet;
  bool enabled = true;  // spec.mode; gates searching only (calico-semantics §1.6)
  bool has_pull = false;
  std::chrono::nanoseconds period{std::chrono::hours(24)};
  std::string url;
  std::vector<HeaderSpec> headers;
  FeedFormat format;
  // spec.globalNetworkSet present: sync the set to GNS threatfeed.<name>.
  std::optional<std::map<std::string, std::string>> gns_labels;
  std::optional<double> collapse_threshold;  // annotation; nullopt = the daemon default
  // Annotation threatwall.io/sync-request: its token ("" = none) and
  // whether it asks to accept a result the collapse guard would hold.
  std::string sync_request;
  bool sync_force = false;
};

// The status fields the controller reads back (its own, plus Calico's).
struct FeedStatusView {
  std::optional<std::chrono::system_clock::time_point> last_successful_sync;
  int64_t synced_generation = 0;
  std::string etag;
  std::string last_modified;
  std::string handled_sync_request;
  int64_t entries = -1;  // -1 = never synced
};

// Reads a stored GlobalThreatFeed object.  InvalidArgument naming the field
// when something admission should have caught is wrong (a feed stored by an
// older version); the controller then reports it in the feed's status.
Result<FeedSpec> ReadFeedSpec(const boost::json::object& feed);
FeedStatusView ReadFeedStatus(const boost::json::object& feed);

// "threatfeed.<name>".
std::string GnsNameFor(std::string_view feed_name);


}  // namespace tw::feeds

#endif  // TW_FEEDS_CONTROLLER_FEED_SPEC_H_
