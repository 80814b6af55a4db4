// WatchHub: fans committed events out to registered watchers; shared by
// every Datastore backend.
//
// How a backend uses it (the no-gap/no-duplicate protocol):
//   * Under its write lock, after each commit, the backend calls
//     Publish(event) with events in strictly increasing revision order.
//   * WatchFrom() calls NewWatch() under the same write lock, passing the
//     current revision.  The returned Watch first replays history in
//     (after_revision, current] by paging through the backend's
//     HistorySource (outside any store lock, so a long replay never stalls
//     writers), then delivers live events with revision > current, which
//     the hub queued from the moment of registration.
//
// Each watcher's live queue is bounded (StoreOptions::watch_queue_*): a
// watcher that falls behind is closed with Gone rather than blocking
// Publish or growing memory.  Queued events are shared between watchers.
//
// Thread-safe.  A Watch's Next() must be called from one thread at a time;
// Cancel() and status() may be called from any thread.  Watches may outlive
// the hub and the backend: they then end with Unavailable.
#ifndef TW_STORE_WATCH_HUB_H_
#define TW_STORE_WATCH_HUB_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "base/result.h"
#include "store/datastore.h"
#include "store/store_options.h"

namespace tw::store {

// The backend's retained event log, read by watches while they replay.
class HistorySource {
 public:
  virtual ~HistorySource() = default;
  // Events with after < revision <= until that match `scope`, ascending,
  // at most `max_events` of them and (beyond the first) about `max_bytes`
  // of values.  Fewer than asked only when the range is exhausted.  Gone if
  // `after` is below the compacted revision.
  virtual Result<std::vector<WatchEvent>> ReadHistory(const Scope& scope, int64_t after, int64_t until,
                                                      size_t max_events, size_t max_bytes) = 0;
};

// True if `key` is inside `scope` (empty kind = all kinds, nullopt ns = all).
bool InScope(const Scope& scope, const Key& key);

// Approximate memory an event of `record` holds (value + key + overhead).
size_t EventBytes(const Record& record);

namespace internal {
struct WatcherState;
}  // namespace internal

class WatchHub {
 public:
  explicit WatchHub(const StoreOptions& options);
  // Closes every remaining watcher with Unavailable ("store closed").
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Delivers one committed event (revision = record.mod_revision) to every
  // live watcher whose scope holds it and whose start revision is below it.
  // Never blocks on watchers; copies the record once, and only if some
  // watcher is registered.
  void Publish(EventType type, const Record& record);

  // A watch of `scope` that replays (after_revision, current_revision] from
  // `history` and then follows live events.  Call under the backend's write
  // lock (see above).  after_revision == 0 means "from now";
  // after_revision > current_revision is allowed: the watch then starts at
  // the later revision.  The caller checks compaction (Gone) first.
  std::unique_ptr<Watch> NewWatch(const Scope& scope, int64_t after_revision, int64_t current_revision,
                                  std::weak_ptr<HistorySource> history);

  // Watchers still registered (cancelled ones are pruned lazily).
  size_t WatcherCountForTest();

 private:
  void PruneLocked();

  const StoreOptions options_;
  std::mutex mu_;
  std::vector<std::shared_ptr<internal::WatcherState>> watchers_;  // guarded by mu_
};

}  // namespace tw::store

#endif  // TW_STORE_WATCH_HUB_H_
