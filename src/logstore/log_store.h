// LogStore: flow logs, DNS logs and security events in one SQLite file
// (DATA_DIR/logs.db), separate from the resource store (threatwall.db) so
// that log churn never touches it (DESIGN.md §8, issue 5).
//
// Records are JSON documents with Calico's field names (calico-semantics.md
// §2.2, §6.1, §6.2), stored as written; the store only extracts the columns
// it filters on.  Producers and the store stay decoupled: a field the store
// does not know is kept, a filtered field that is absent or null is NULL
// (and matches no equality filter).
//
// Time.  Every row has a time in milliseconds, taken from the document:
//   flow, DNS: end_time, else start_time;  event: time.
// A number is Unix seconds (Calico's unit; fractions kept to the ms), a
// string is RFC 3339 (DNS logs from Go print times that way).  A record
// with neither gets the clock's time at append.  Time ranges, order and
// retention all use this time.
//
// Durability.  WAL with synchronous=NORMAL: a committed batch survives a
// crash of the process (SIGKILL) but the last batches may be lost on power
// loss.  That is the right trade for logs (the flow flusher writes a batch
// every 15 s; an fsync per batch would cost more than it saves).  The WAL
// is copied into the database by a background thread of the store (a
// passive checkpoint every 16 MiB of WAL), so an append never waits for a
// checkpoint's fsync.
//
// Schema (PRAGMA user_version = 1, page_size 16384, auto_vacuum =
// INCREMENTAL):
//   flows(id INTEGER PRIMARY KEY, time, <filter columns>, doc)
//   dns(id ..., time, <filter columns>, doc)
//   events(id ..., time, event_id UNIQUE, dismissed, <filter columns>, doc)
// with one index per log table on (time, id, <filter columns>): queries
// walk it newest first and test the filters there, reading a row only for
// a match.  Ids grow with each append (they restart only if a table was
// emptied completely).  The document goes last in each row.
//
// Retention.  Enforce() deletes flow and DNS rows older than max_age and
// then, while the database's live pages exceed max_bytes, the oldest flow /
// DNS rows (whichever is older first) until the data is under 90% of
// max_bytes.  Events are kept for max_age like the logs, but the size limit
// never deletes an undismissed event younger than max_age (they are few
// and they are what a user must see); dismissed events may go under size
// pressure, oldest first.  Freed pages are reused by later appends, so
// the file does not grow past its peak; when more than a quarter of the
// file is free (a large purge, a lowered max_bytes), Enforce() returns the
// rest to the file system (incremental vacuum: moves the live pages behind
// them, ~60 MB/s here, in 16 MiB steps).  The owner calls Enforce()
// periodically off the request path (the daemon: every minute, and once at
// start-up); nothing is deleted otherwise.  Measured on 1M flows (1.5 GB):
// deleting 550k rows took 4.5 s, the vacuum of 626 MB 11 s.
//
// Thread-safe.  Writes (appends, PutEvent, DismissEvent, Enforce) are
// serialised on one write connection; queries use a pool of read
// connections and run concurrently with writes (WAL snapshot isolation).
// Enforce() deletes in bounded batches, releasing the write lock between
// them, so appends are never held up for long.
#ifndef TW_LOGSTORE_LOG_STORE_H_
#define TW_LOGSTORE_LOG_STORE_H_

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"

namespace tw::logstore {

using TimePoint = std::chrono::system_clock::time_point;

// A query over one kind of record.
//
// `where` maps a field to the value it must equal (text; numbers are
// compared as their decimal text).  Fields per kind:
//   flows:  action, reporter, proto, source_ip, source_namespace,
//           source_name, dest_ip, dest_namespace, dest_name, dest_port,
//           plus
//           pod        "NS/NAME": the source OR the destination is that pod
//           namespace  the source OR the destination is in that namespace
//           policy     substring of one of policies.all_policies
//                      ("security.block-snort", "|deny|")
//   dns:    qname, qtype, rcode, client_ip, client_namespace, client_name,
//           pod "NS/NAME" (the client)
//   events: id, type, origin, source_ip, source_namespace, source_name,
//           dest_ip, dest_namespace, dest_name,
//           dismissed  "true" | "false"
//           feed       one of record.feeds is this feed name
//           pod        "NS/NAME": source OR destination
// An unknown field or a malformed value is InvalidArgument naming it, so an
// API route can pass its query parameters straight through.
struct LogQuery {
  std::optional<TimePoint> since;  // inclusive; none = from the oldest
  std::optional<TimePoint> until;  // exclusive; none = up to now and later
  size_t limit = 1000;             // 1..kMaxQueryLimit; newest first
  std::map<std::string, std::string> where;
};

inline constexpr size_t kMaxQueryLimit = 100000;

struct LogStoreOptions {
  std::chrono::seconds max_age = std::chrono::hours(24 * 7);
  uint64_t max_bytes = uint64_t{1} << 30;  // live pages of the database file
  const Clock* clock = &Clock::Real();
  // PRAGMA quick_check at Open(): reads every page (about 1 s per GiB
  // here).  Off, a damaged page is reported by the query that reads it.
  bool check_integrity_on_open = true;
  // Rows per delete transaction in Enforce().
  size_t delete_batch = 20000;
  // Idle read connections kept open.
  size_t max_idle_readers = 4;
};

// What Enforce() did.
struct RetentionReport {
  int64_t flows_deleted = 0;
  int64_t dns_deleted = 0;
  int64_t events_deleted = 0;
  int64_t bytes_vacuumed = 0;  // returned to the file system
};

struct LogStoreStats {
  int64_t flows = 0;
  int64_t dns = 0;
  int64_t events = 0;
  uint64_t data_bytes = 0;  // live pages (what max_bytes limits)
  uint64_t file_bytes = 0;  // the database file, free pages included (not the WAL)
  uint64_t free_bytes = 0;  // free pages, reused before the file grows
};

// Return false to stop a scan early.
using RecordFn = std::function<bool(const boost::json::object&)>;

class LogStore {
 public:
  // Opens or creates the database at `path` (its directory must exist) and
  // locks "<path>.lock" (one process per file).  IoError naming the path and
  // the reason when it cannot be opened, is not a log database or is
  // corrupt; Unsupported for a newer schema; Unavailable when another
  // process has it open; InvalidArgument for bad options.
  static Result<std::unique_ptr<LogStore>> Open(const std::string& path, const LogStoreOptions& options);
  static Result<std::unique_ptr<LogStore>> Open(const std::string& path) {
    return Open(path, LogStoreOptions());
  }

  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // Appends a batch in one transaction: all or nothing.  Returns the id of
  // the first record; the batch has consecutive ids.  An empty batch
  // returns 0 and writes nothing.  Measured on the 2-core dev VM under
  // load: 50k-100k flow records/s (~1 KiB each; ~1.5 KiB on disk with the
  // index), bound by bytes written (bench/logstore_bench.cc).
  Result<int64_t> AppendFlows(std::span<const boost::json::object> records);
  Result<int64_t> AppendDns(std::span<const boost::json::object> records);

  // Stores an event unless one with the same `id` (a non-empty string,
  // required: InvalidArgument otherwise) exists.  true: stored; false: an
  // event with that id was already there and is left unchanged (its
  // dismissed flag included).
  Result<bool> PutEvent(const boost::json::object& event);
  // The event with this id, with its current `dismissed` flag; NotFound.
  Result<boost::json::object> GetEvent(const std::string& id);
  // Sets `dismissed: true` (idempotent); NotFound when there is no such id.
  Status DismissEvent(const std::string& id);

  // Matching records, newest first (time, then id), at most query.limit.
  // Events carry their current `dismissed` flag (false when never set).
  Result<std::vector<boost::json::object>> QueryFlows(const LogQuery& query);
  Result<std::vector<boost::json::object>> QueryDns(const LogQuery& query);
  Result<std::vector<boost::json::object>> QueryEvents(const LogQuery& query);

  // Streaming scans for the retro-hunt: every record with time >= since,
  // oldest first, read in pages of a few thousand rows (no transaction is
  // held while `fn` runs, so appends go on; records appended during the
  // scan are seen when they sort after the current position).  Stops early
  // when `fn` returns false.  Records are matched by their own time, which
  // lags the append by up to a flush interval: a hunt "since the last
  // search" should start that long before it.
  Status ForEachFlowSince(TimePoint since, const RecordFn& fn);
  Status ForEachDnsSince(TimePoint since, const RecordFn& fn);

  // Applies max_age and max_bytes (see above).  Call periodically.
  Result<RetentionReport> Enforce();

  Result<LogStoreStats> Stats();

  class Impl;

 private:
  explicit LogStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tw::logstore

#endif  // TW_LOGSTORE_LOG_STORE_H_
