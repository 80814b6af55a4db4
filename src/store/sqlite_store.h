// SqliteStore: the embedded, crash-safe Datastore (DESIGN.md §5).
//
// One SQLite database file in WAL mode.  Each write is one transaction
// (BEGIN IMMEDIATE ... COMMIT) that updates the object, appends to the
// event log and bumps the revision counter together, so an acknowledged
// write survives SIGKILL (and, with Sync::kFull, power loss).
//
// Schema (PRAGMA user_version = 1):
//   meta(key PRIMARY KEY, value)          rows "revision" and "compacted"
//   objects(kind, ns, name, create_rev, mod_rev, value BLOB),
//           PRIMARY KEY(kind, ns, name)   one row per live object
//   events(rev PRIMARY KEY, type, kind, ns, name, create_rev, value BLOB)
//                                         exactly the revisions in
//                                         (compacted, revision]; a deletion
//                                         keeps the last value
// The event log serves watch replay and is compacted by Compact() and
// automatically (StoreOptions::history_max_*), so large values are not kept
// in many copies.
//
// Open() takes an exclusive flock on "<path>.lock" (one process per
// database), checks the schema version, runs PRAGMA quick_check, checks the
// revision counter against both tables, and recovers the revision.
//
// Thread-safe.  Writes are serialised by a mutex on one write connection;
// reads (Get, List, watch replay) use a small pool of separate read
// connections and run concurrently with writes (WAL snapshot isolation: a
// List is one read transaction, consistent with the revision it reports).
#ifndef TW_STORE_SQLITE_STORE_H_
#define TW_STORE_SQLITE_STORE_H_

#include <chrono>
#include <memory>
#include <string>

#include "store/datastore.h"
#include "store/store_options.h"

namespace tw::store {

class SqliteStore : public Datastore {
 public:
  enum class Sync {
    kFull,    // fsync the WAL at every commit: survives power loss
    kNormal,  // fsync only at checkpoints: survives process crashes (SIGKILL)
              // but may lose the last commits on power loss; much faster
  };

  struct Options {
    StoreOptions limits;
    Sync sync = Sync::kFull;
    // How long a statement waits for a lock held by another connection.
    std::chrono::milliseconds busy_timeout{5000};
    // Idle read connections kept open (more are opened on demand).
    size_t max_idle_readers = 4;
  };

  // Opens or creates the database at `path` (its directory must exist).
  // IoError naming the path and the reason if it cannot be opened, is
  // corrupt or inconsistent; Unsupported for a newer schema version;
  // Unavailable if another process holds it.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path, const Options& options);
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path) { return Open(path, Options()); }

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<Record> Get(const Key& key) override;
  Result<ListResult> List(const Scope& scope) override;
  Result<Record> Create(const Key& key, std::string value) override;
  Result<Record> Update(const Key& key, std::string value, int64_t expected_mod_revision) override;
  Result<Record> Delete(const Key& key, int64_t expected_mod_revision) override;
  Result<std::unique_ptr<Watch>> WatchFrom(const Scope& scope, int64_t after_revision) override;
  int64_t CurrentRevision() override;
  int64_t CompactedRevision() override;
  Status Compact(int64_t revision) override;

  // PRAGMA quick_check plus the revision invariants Open() checks, on the
  // live database.  OK or IoError saying what is wrong.
  Status CheckConsistency();

  class Impl;

 private:
  explicit SqliteStore(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  // Shared with watches (as their HistorySource), which may outlive us.
  std::shared_ptr<Impl> impl_;
};

}  // namespace tw::store

#endif  // TW_STORE_SQLITE_STORE_H_
