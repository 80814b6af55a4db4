// StoreOptions: the limits every Datastore backend shares (value size,
// retained watch history, per-watcher queues).  Plain value type.
#ifndef TW_STORE_STORE_OPTIONS_H_
#define TW_STORE_STORE_OPTIONS_H_

#include <cstddef>
#include <cstdint>

namespace tw::store {

struct StoreOptions {
  // Create/Update of a larger value fails with TooLarge.  A
  // GlobalNetworkSet of 1M CIDRs is ~20 MB of JSON.
  size_t max_value_bytes = size_t{128} << 20;

  // Automatic compaction of the watch history (event log).  After a write,
  // when more than `history_max_revisions` revisions, or more than
  // `history_max_bytes` of event values, are retained, the oldest history
  // is compacted away (a little more than strictly needed, so that the
  // work is amortised).  0 disables that limit.  Objects are never touched.
  int64_t history_max_revisions = 10000;
  int64_t history_max_bytes = int64_t{64} << 20;

  // Per-watcher live queue.  A watcher whose unread events exceed either
  // bound is closed with Gone (it must re-list) instead of blocking writers
  // or growing memory.  One event is always accepted into an empty queue,
  // whatever its size.
  size_t watch_queue_max_events = 10000;
  size_t watch_queue_max_bytes = size_t{128} << 20;
};

}  // namespace tw::store

#endif  // TW_STORE_STORE_OPTIONS_H_
