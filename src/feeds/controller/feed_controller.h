// FeedController: keeps every GlobalThreatFeed pulled on schedule, its set
// stored (FeedData, see feed_data.h) and, when the feed asks for it, the
// GlobalNetworkSet threatfeed.<name> equal to that set.  It reads and
// writes only through a store::Datastore (its watch tells it about changes)
// and fetches only through a Fetcher, so unit tests run it on a MemStore, a
// FakeFetcher and a FakeClock.
//
// Behaviour (calico-semantics.md §1, DESIGN.md §6; where we differ from
// Calico it is on purpose and listed here):
//  * Schedule: the first pull at create, and at once on any spec change
//    (metadata.generation moved: URL, headers, format, labels, period --
//    Calico waits for the next tick on URL/header edits); then every
//    spec.pull.period.  A restart does not re-pull a feed whose last
//    successful sync is younger than its period and whose set is stored.
//    `threatwall feeds sync` sets annotation threatwall.io/sync-request to
//    a fresh token ("TOKEN" or "TOKEN;force"): pulled at once, and
//    status.handledSyncRequest = TOKEN when that pull is done.
//  * Failures: transient ones (Fetcher's Unavailable: 5xx, timeouts,
//    resets, truncation) are retried max_retries times, base delay x 2^k
//    with +-20% jitter (capped at retry_max), then at the next period.  A
//    failed fetch, a parse error, a body or entry count over the limit:
//    the last good set stays in force and a PullFailed condition says why.
//  * Collapse guard (Calico wipes the set): a pull whose set is empty, or
//    below collapse_threshold (annotation threatwall.io/collapse-threshold
//    overrides; 0 = off) of the last good size, is held back as PullFailed
//    unless the sync request says force.
//  * Conditional pulls: ETag / Last-Modified of the last good pull are sent
//    (only while the spec generation is unchanged); 304 = a successful sync.
//  * Headers: value, or valueFrom secretKeyRef/configMapKeyRef read from
//    options.secrets_namespace before each pull (Calico:
//    tigera-intrusion-detection); optional honoured.  Values never appear
//    in status, logs or errors.
//  * GlobalNetworkSet: only for IPSet feeds with spec.globalNetworkSet;
//    labels + tigera.io/creator, ownerReference to the feed; written only
//    when its bytes differ (no write when nothing changed); manual edits or
//    deletion are reverted; removed when the stanza, the feed or the IPSet
//    content goes; a creator-labelled threatfeed.* set with no feed behind
//    it is deleted.  `mode: Disabled` does not stop pulling (Calico §1.6:
//    mode gates searching only).
//  * Status (Calico's fields plus ours): lastSuccessfulSync (only moves
//    forward), errorConditions (ring of 10; a type is cleared on the next
//    success of its step), entries (prefixes or domains in force),
//    entriesRead, invalidLines, invalidExamples[{line, reason, text}],
//    lastPullResult (Updated | Unchanged | NotModified | Held | Failed),
//    lastPullBytes, lastPullDuration, lastAttempt, nextPull, etag,
//    lastModified, syncedGeneration, handledSyncRequest.  Status writes are
//    skipped when nothing changed and retried on conflicts (5 times).
#ifndef TW_FEEDS_CONTROLLER_FEED_CONTROLLER_H_
#define TW_FEEDS_CONTROLLER_FEED_CONTROLLER_H_

#include <atomic>
#include <functional>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "feeds/controller/feed_data.h"
#include "feeds/controller/feed_spec.h"
#include "feeds/fetch/fetcher.h"
#include "feeds/ingest.h"
#include "store/datastore.h"

namespace tw::feeds {

struct FeedControllerOptions {
  std::string secrets_namespace = "tigera-intrusion-detection";
  FetchLimits fetch;
  IngestOptions ingest;
  int max_retries = 3;
  std::chrono::milliseconds retry_base{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_max{std::chrono::minutes(5)};
  double collapse_threshold = 0.1;
  int parallel_pulls = 4;  // worker threads in background mode
  uint64_t seed = 0;       // jitter; 0 = random
};

class FeedController {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // `store`, `fetcher` and `clock` must outlive the controller.
  FeedController(store::Datastore& store, Fetcher& fetcher, const Clock& clock, FeedControllerOptions options);
  ~FeedController();
  FeedController(const FeedController&) = delete;
  FeedController& operator=(const FeedController&) = delete;

  // Background mode (the daemon): Load() then a loop thread that follows
  // the store's watch and runs pulls on worker threads.
  Status Start();
  // Stops the loop and waits for running pulls to end (they are cancelled).
  void Stop();

  // Step mode (tests; one thread, never together with Start):
  // Load() lists feeds, stored sets and GlobalNetworkSets, repairs sets,
  // computes the schedule and starts following the watch.
  Status Load();
  // Applies watch events (waiting up to `wait` for the first), then runs
  // every pull due at clock.Now() to completion, inline; repeats until
  // nothing is due and no event is pending.
  Status Step(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  // When the next pull (or retry) is due; nullopt = none scheduled.
  std::optional<TimePoint> NextDue() const;

 private:
  struct FeedState;
  struct PullJob;
  struct PullOutcome;
  class Workers;

  Status LoadLocked();
  Status ApplyEvents(std::chrono::milliseconds wait);
  void HandleFeedObject(const std::string& value);
  void HandleFeedDeleted(const std::string& name);
  void HandleGnsEvent(const store::WatchEvent& event);
  std::vector<PullJob> TakeDueJobs(TimePoint now);
  std::optional<PullJob> PrepareJob(FeedState& st, TimePoint now);
  static PullOutcome Execute(Fetcher& fetcher, const FetchLimits& limits, const IngestOptions& ingest,
                             PullJob job);
  static TimePoint FirstDue(const FeedState& st, TimePoint now);
  void Finish(PullOutcome outcome);
  void FinishPull(PullOutcome outcome);
  Status ReconcileGns(FeedState& st);
  Status DeleteOwnedGns(const std::string& feed_name);
  Result<std::vector<std::pair<std::string, std::string>>> ResolveHeaders(const FeedSpec& spec);
  Status WriteFeedStatus(const std::string& name, const std::function<void(boost::json::object&)>& mutate);
  std::chrono::nanoseconds Backoff(int attempt);
  void RunLoop();

  store::Datastore& store_;
  Fetcher& fetcher_;
  const Clock& clock_;
  FeedControllerOptions options_;
  std::string feed_kind_, gns_kind_, secret_kind_, configmap_kind_;

  std::map<std::string, std::unique_ptr<FeedState>> feeds_;
  std::unique_ptr<store::Watch> feed_watch_;
  std::unique_ptr<store::Watch> gns_watch_;
  std::mt19937_64 rng_;

  std::unique_ptr<Workers> workers_;
  std::thread loop_;
  std::atomic<bool> stop_{false};
};

}  // namespace tw::feeds

#endif  // TW_FEEDS_CONTROLLER_FEED_CONTROLLER_H_
