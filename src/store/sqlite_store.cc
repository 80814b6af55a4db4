#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "store/checks.h"
#include "store/sqlite/db.h"
#include "store/watch_hub.h"

namespace tw::store {

using sqlite::Db;
using sqlite::Query;
using sqlite::ReaderPool;
using sqlite::Transaction;

namespace {

constexpr int64_t kSchemaVersion = 1;

// The same formula as EventBytes(), computed by SQLite without loading
// the values (length() of a BLOB reads only its header).
constexpr const char* kEventBytesSql = "length(value) + length(kind) + length(ns) + length(name) + 64";

const char* const kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta(key, value) VALUES ('revision', 0), ('compacted', 0);
CREATE TABLE objects(
  kind TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
  create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY(kind, ns, name));
CREATE TABLE events(
  rev INTEGER PRIMARY KEY, type INTEGER NOT NULL,
  kind TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  value BLOB NOT NULL);
PRAGMA user_version = 1;
)sql";

// Values go last in each row: SQLite reads columns in order, and a large
// value lives in overflow pages that reading the key columns then skips.

int EventTypeCode(EventType t) { return static_cast<int>(t); }

Result<EventType> EventTypeFromCode(int64_t code, const std::string& path) {
  switch (code) {
    case 0:
      return EventType::kAdded;
    case 1:
      return EventType::kModified;
    case 2:
      return EventType::kDeleted;
  }
  return Status::IoError(path + ": events.type: unknown event type " + std::to_string(code));
}

}  // namespace

class SqliteStore::Impl : public HistorySource {
 public:
  Impl(std::string path, Options options, int lock_fd, std::unique_ptr<Db> writer)
      : path_(std::move(path)),
        options_(options),
        lock_fd_(lock_fd),
        writer_(std::move(writer)),
        hub_(options.limits) {}

  ~Impl() override {
    readers_.Clear();
    writer_.reset();
    if (lock_fd_ >= 0) close(lock_fd_);
  }

  // Schema creation/verification and recovery of the counters.
  Status Init() {
    readers_.Init(path_, options_.max_idle_readers, [this](Db& db) { return ConfigureConnection(db); });
    Db& db = *writer_;
    TW_ASSIGN_OR_RETURN(std::string mode, db.QueryText("PRAGMA journal_mode = WAL"));
    if (mode != "wal")
      return Status::IoError(path_ + ": cannot enable WAL mode (journal_mode is " + mode + ")");
    TW_RETURN_IF_ERROR(ConfigureConnection(db));
    TW_ASSIGN_OR_RETURN(int64_t version, db.QueryInt("PRAGMA user_version"));
    if (version == 0) {
      TW_ASSIGN_OR_RETURN(int64_t tables, db.QueryInt("SELECT count(*) FROM sqlite_master"));
      if (tables != 0) {
        return Status::IoError(path_ + ": not a threatwall database (it has tables but no schema version)");
      }
      TW_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db, true));
      TW_RETURN_IF_ERROR(db.Exec(kSchema));
      TW_RETURN_IF_ERROR(txn->Commit());
    } else if (version > kSchemaVersion) {
      return Status::Unsupported(path_ + ": schema version " + std::to_string(version) +
                                 " is newer than this threatwall supports (" +
                                 std::to_string(kSchemaVersion) + ")");
    } else if (version != kSchemaVersion) {
      return Status::IoError(path_ + ": unknown schema version " + std::to_string(version));
    }
    TW_RETURN_IF_ERROR(Verify(db));
    return Status::Ok();
  }

  Status ConfigureConnection(Db& db) {
    sqlite3_busy_timeout(db.raw(), static_cast<int>(options_.busy_timeout.count()));
    TW_RETURN_IF_ERROR(
        db.Exec(options_.sync == Sync::kFull ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
    // After a checkpoint, shrink a WAL that a huge value made large.
    TW_RETURN_IF_ERROR(db.Exec("PRAGMA journal_size_limit = 67108864"));
    return Status::Ok();
  }

  // quick_check plus the invariants of the counters; sets revision_,
  // compacted_ and history_bytes_.  Caller holds write_mu_ or is Open().
  Status Verify(Db& db) {
    TW_ASSIGN_OR_RETURN(std::string check, db.QueryText("PRAGMA quick_check"));
    if (check != "ok") return Status::IoError(path_ + ": integrity check failed: " + check);
    TW_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db, false));
    TW_ASSIGN_OR_RETURN(int64_t revision, db.QueryInt("SELECT value FROM meta WHERE key = 'revision'"));
    TW_ASSIGN_OR_RETURN(int64_t compacted, db.QueryInt("SELECT value FROM meta WHERE key = 'compacted'"));
    TW_ASSIGN_OR_RETURN(int64_t max_mod, db.QueryInt("SELECT COALESCE(MAX(mod_rev), 0) FROM objects"));
    TW_ASSIGN_OR_RETURN(
        int64_t bad_create,
        db.QueryInt("SELECT count(*) FROM objects WHERE create_rev < 1 OR create_rev > mod_rev"));
    TW_ASSIGN_OR_RETURN(int64_t events, db.QueryInt("SELECT count(*) FROM events"));
    TW_ASSIGN_OR_RETURN(int64_t min_rev, db.QueryInt("SELECT COALESCE(MIN(rev), 0) FROM events"));
    TW_ASSIGN_OR_RETURN(int64_t max_rev, db.QueryInt("SELECT COALESCE(MAX(rev), 0) FROM events"));
    TW_ASSIGN_OR_RETURN(int64_t bytes, db.QueryInt(std::string("SELECT COALESCE(SUM(") + kEventBytesSql +
                                                   "), 0) FROM events"));
    TW_RETURN_IF_ERROR(txn->Commit());
    auto fail = [&](const std::string& what) {
      return Status::IoError(path_ + ": inconsistent revision counter: " + what + " (revision " +
                             std::to_string(revision) + ", compacted " + std::to_string(compacted) + ")");
    };
    if (revision < 0 || compacted < 0 || compacted > revision) return fail("compacted revision out of range");
    if (max_mod > revision) return fail("an object has mod_rev " + std::to_string(max_mod));
    if (bad_create > 0) return fail(std::to_string(bad_create) + " objects have a bad create_rev");
    if (events != revision - compacted) {
      return fail("event log holds " + std::to_string(events) + " events, expected " +
                  std::to_string(revision - compacted));
    }
    if (events > 0 && (min_rev != compacted + 1 || max_rev != revision)) {
      return fail("event log spans " + std::to_string(min_rev) + ".." + std::to_string(max_rev));
    }
    revision_ = revision;
    compacted_ = compacted;
    history_bytes_ = bytes;
    return Status::Ok();
  }

  Status CheckConsistency() {
    std::lock_guard lock(write_mu_);
    return Verify(*writer_);
  }

  // ---- reads -------------------------------------------------------------

  Result<Record> Get(const Key& key) {
    TW_RETURN_IF_ERROR(CheckKey("get", key));
    TW_ASSIGN_OR_RETURN(ReaderPool::Lease reader, readers_.Acquire());
    Query q(*reader,
            reader->Prepare(
                "SELECT create_rev, mod_rev, value FROM objects WHERE kind = ?1 AND ns = ?2 AND name = ?3"));
    q.BindText(1, key.kind).BindText(2, key.ns).BindText(3, key.name);
    TW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFoundError("get", key);
    return Record{key, q.Blob(2), q.Int(0), q.Int(1)};
  }

  Result<ListResult> List(const Scope& scope) {
    TW_RETURN_IF_ERROR(CheckListScope(scope));
    TW_ASSIGN_OR_RETURN(ReaderPool::Lease reader, readers_.Acquire());
    Db& db = *reader;
    TW_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db, false));
    ListResult result;
    TW_ASSIGN_OR_RETURN(result.revision, db.QueryInt("SELECT value FROM meta WHERE key = 'revision'"));
    // The primary key index yields (ns, name) order within a kind.  Two
    // statements, because "(?2 IS NULL OR ns = ?2)" would defeat the index.
    Query q(db, db.Prepare(scope.ns ? "SELECT ns, name, create_rev, mod_rev, value FROM objects "
                                      "WHERE kind = ?1 AND ns = ?2 ORDER BY kind, ns, name"
                                    : "SELECT ns, name, create_rev, mod_rev, value FROM objects "
                                      "WHERE kind = ?1 ORDER BY kind, ns, name"));
    q.BindText(1, scope.kind);
    if (scope.ns) q.BindText(2, *scope.ns);
    while (true) {
      TW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      result.records.push_back(Record{Key{scope.kind, q.Text(0), q.Text(1)}, q.Blob(4), q.Int(2), q.Int(3)});
    }
    TW_RETURN_IF_ERROR(txn->Commit());
    return result;
  }

  Result<std::vector<WatchEvent>> ReadHistory(const Scope& scope, int64_t after, int64_t until,
                                              size_t max_events, size_t max_bytes) override {
    TW_ASSIGN_OR_RETURN(ReaderPool::Lease reader, readers_.Acquire());
    Db& db = *reader;
    TW_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db, false));
    TW_ASSIGN_OR_RETURN(int64_t compacted, db.QueryInt("SELECT value FROM meta WHERE key = 'compacted'"));
    if (after < compacted) {
      return Status::Gone("watch: revision " + std::to_string(after) +
                          " was compacted while the watch replayed it");
    }
    Query q(db,
            db.Prepare("SELECT rev, type, kind, ns, name, create_rev, value FROM events "
                       "WHERE rev > ?1 AND rev <= ?2 AND (?3 = '' OR kind = ?3) AND (?4 IS NULL OR ns = ?4) "
                       "ORDER BY rev"));
    q.Bind(1, after).Bind(2, until).BindText(3, scope.kind);
    if (scope.ns) {
      q.BindText(4, *scope.ns);
    } else {
      q.BindNull(4);
    }
    std::vector<WatchEvent> out;
    size_t bytes = 0;
    while (out.size() < max_events) {
      TW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      TW_ASSIGN_OR_RETURN(EventType type, EventTypeFromCode(q.Int(1), path_));
      WatchEvent e{type, Record{Key{q.Text(2), q.Text(3), q.Text(4)}, q.Blob(6), q.Int(5), q.Int(0)}};
      bytes += e.record.value.size();
      out.push_back(std::move(e));
      if (bytes >= max_bytes) break;
    }
    TW_RETURN_IF_ERROR(txn->Commit());
    return out;
  }

  // ---- writes ------------------------------------------------------------

  Result<Record> Create(const Key& key, std::string value) {
    TW_RETURN_IF_ERROR(CheckKey("create", key));
    TW_RETURN_IF_ERROR(CheckValue("create", key, value, options_.limits));
    std::lock_guard lock(write_mu_);
    Db& db = *writer_;
    TW_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db, true));
    const int64_t rev = revision_ + 1;
    Record record{key, std::move(value), rev, rev};
    {
      Query q(db, db.Prepare("INSERT INTO objects(kind, ns, name, create_rev, mod_rev, value) VALUES (?1, "
                             "?2, ?3, ?4, ?4, ?5) "
                             "ON CONFLICT DO NOTHING"));
      q.BindText(1, key.kind)
          .BindText(2, key.ns)
          .BindText(3, key.name)
          .Bind(4, rev)
          .BindBlob(5, record.value);
      TW_ASSIGN_OR_RETURN(int changed, q.Run());
      if (changed == 0) return AlreadyExistsError(key);
    }
    TW_RETURN_IF_ERROR(CommitLocked(*txn, EventType::kAdded, record));
    return record;
  }

  Result<Record> Update(const Key& key, std::string value, int64_t expected) {
    TW_RETURN_IF_ERROR(CheckKey("update", key));
    TW_RETURN_IF_ERROR(CheckValue("update", key, value, options_.limits));
    std::lock_guard lock(write_mu_);
    Db& db = *writer_;
    TW_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db, true));
    Record record{key, std::move(value), 0, revision_ + 1};
    {
      Query q(db, db.Prepare(
                      "SELECT create_rev, mod_rev FROM objects WHERE kind = ?1 AND ns = ?2 AND name = ?3"));
      q.BindText(1, key.kind).BindText(2, key.ns).BindText(3, key.name);
      TW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return NotFoundError("update", key);
      TW_RETURN_IF_ERROR(CheckPrecondition("update", key, expected, q.Int(1)));
      record.create_revision = q.Int(0);
    }
    {
      Query q(db,
              db.Prepare(
                  "UPDATE objects SET mod_rev = ?4, value = ?5 WHERE kind = ?1 AND ns = ?2 AND name = ?3"));
      q.BindText(1, key.kind).BindText(2, key.ns).BindText(3, key.name).Bind(4, record.mod_revision);
      q.BindBlob(5, record.value);
      TW_RETURN_IF_ERROR(q.Run());
    }
    TW_RETURN_IF_ERROR(CommitLocked(*txn, EventType::kModified, record));
    return record;
  }

  Result<Record> Delete(const Key& key, int64_t expected) {
    TW_RETURN_IF_ERROR(CheckKey("delete", key));
    std::lock_guard lock(write_mu_);
    Db& db = *writer_;
    TW_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db, true));
    Record record{key, "", 0, revision_ + 1};
    {
      Query q(
          db,
          db.Prepare(
              "SELECT create_rev, mod_rev, value FROM objects WHERE kind = ?1 AND ns = ?2 AND name = ?3"));
      q.BindText(1, key.kind).BindText(2, key.ns).BindText(3, key.name);
      TW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return NotFoundError("delete", key);
      TW_RETURN_IF_ERROR(CheckPrecondition("delete", key, expected, q.Int(1)));
      record.create_revision = q.Int(0);
      record.value = q.Blob(2);
    }
    {
      Query q(db, db.Prepare("DELETE FROM objects WHERE kind = ?1 AND ns = ?2 AND name = ?3"));
      q.BindText(1, key.kind).BindText(2, key.ns).BindText(3, key.name);
      TW_RETURN_IF_ERROR(q.Run());
    }
    TW_RETURN_IF_ERROR(CommitLocked(*txn, EventType::kDeleted, record));
    return record;
  }

  Result<std::unique_ptr<Watch>> WatchFrom(const Scope& scope, int64_t after,
                                           std::weak_ptr<HistorySource> self) {
    std::lock_guard lock(write_mu_);
    TW_RETURN_IF_ERROR(CheckWatchFrom(after, compacted_));
    return hub_.NewWatch(scope, after, revision_, std::move(self));
  }

  Status Compact(int64_t revision) {
    std::lock_guard lock(write_mu_);
    if (revision > revision_) {
      return Status::InvalidArgument("compact: revision " + std::to_string(revision) +
                                     " is in the future (current: " + std::to_string(revision_) + ")");
    }
    if (revision <= compacted_) return Status::Ok();
    TW_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*writer_, true));
    TW_ASSIGN_OR_RETURN(int64_t removed, CompactInTxn(revision));
    TW_RETURN_IF_ERROR(txn->Commit());
    compacted_ = revision;
    history_bytes_ -= removed;
    return Status::Ok();
  }

  int64_t CurrentRevision() const { return revision_.load(); }
  int64_t CompactedRevision() const { return compacted_.load(); }

 private:

  // Appends the event, bumps the counter, applies automatic compaction,
  // commits, then publishes.  Caller holds write_mu_ inside `txn`.
  Status CommitLocked(Transaction& txn, EventType type, const Record& record) {
    Db& db = *writer_;
    const int64_t rev = record.mod_revision;
    {
      Query q(db, db.Prepare("INSERT INTO events(rev, type, kind, ns, name, create_rev, value) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
      q.Bind(1, rev).Bind(2, EventTypeCode(type)).BindText(3, record.key.kind).BindText(4, record.key.ns);
      q.BindText(5, record.key.name).Bind(6, record.create_revision).BindBlob(7, record.value);
      TW_RETURN_IF_ERROR(q.Run());
    }
    {
      Query q(db, db.Prepare("UPDATE meta SET value = ?1 WHERE key = 'revision'"));
      q.Bind(1, rev);
      TW_RETURN_IF_ERROR(q.Run());
    }
    int64_t bytes = history_bytes_ + static_cast<int64_t>(EventBytes(record));
    int64_t compacted = compacted_;
    if (int64_t target = RevisionCompactionTarget(options_.limits, rev, compacted); target > 0) {
      TW_ASSIGN_OR_RETURN(int64_t removed, CompactInTxn(target));
      bytes -= removed;
      compacted = target;
    }
    if (NeedsByteCompaction(options_.limits, bytes)) {
      const int64_t goal = ByteCompactionGoal(options_.limits);
      int64_t target = compacted;
      int64_t remaining = bytes;
      Query q(db, db.Prepare(std::string("SELECT rev, ") + kEventBytesSql + " FROM events ORDER BY rev"));
      while (remaining > goal) {
        TW_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        target = q.Int(0);
        remaining -= q.Int(1);
      }
      if (target > compacted) {
        TW_ASSIGN_OR_RETURN(int64_t removed, CompactInTxn(target));
        bytes -= removed;
        compacted = target;
      }
    }
    TW_RETURN_IF_ERROR(txn.Commit());
    // Committed: only now do readers of the counters and watchers see it.
    revision_ = rev;
    compacted_ = compacted;
    history_bytes_ = bytes;
    hub_.Publish(type, record);
    return Status::Ok();
  }

  // Deletes history at or below `revision` inside the caller's write
  // transaction; returns the bytes removed (EventBytes units).
  Result<int64_t> CompactInTxn(int64_t revision) {
    Db& db = *writer_;
    int64_t removed = 0;
    {
      Query q(db, db.Prepare(std::string("SELECT COALESCE(SUM(") + kEventBytesSql +
                             "), 0) FROM events WHERE rev <= ?1"));
      q.Bind(1, revision);
      TW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) removed = q.Int(0);
    }
    {
      Query q(db, db.Prepare("DELETE FROM events WHERE rev <= ?1"));
      q.Bind(1, revision);
      TW_RETURN_IF_ERROR(q.Run());
    }
    {
      Query q(db, db.Prepare("UPDATE meta SET value = ?1 WHERE key = 'compacted'"));
      q.Bind(1, revision);
      TW_RETURN_IF_ERROR(q.Run());
    }
    return removed;
  }

  const std::string path_;
  const Options options_;
  const int lock_fd_;

  std::mutex write_mu_;
  std::unique_ptr<Db> writer_;         // guarded by write_mu_
  std::atomic<int64_t> revision_{0};   // written under write_mu_ after commit
  std::atomic<int64_t> compacted_{0};  // written under write_mu_ after commit
  int64_t history_bytes_ = 0;          // guarded by write_mu_
  WatchHub hub_;                       // Publish/NewWatch called under write_mu_

  ReaderPool readers_;  // idle read connections
};

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, const Options& options) {
  if (path.empty()) return Status::InvalidArgument("sqlite store: path: must not be empty");
  TW_ASSIGN_OR_RETURN(int fd, sqlite::LockDatabaseFile(path, "database"));
  Result<std::unique_ptr<Db>> db = Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db.ok()) {
    close(fd);
    return db.error();
  }
  auto impl = std::make_shared<Impl>(path, options, fd, std::move(*db));
  TW_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

SqliteStore::~SqliteStore() = default;

Result<Record> SqliteStore::Get(const Key& key) { return impl_->Get(key); }
Result<ListResult> SqliteStore::List(const Scope& scope) { return impl_->List(scope); }
Result<Record> SqliteStore::Create(const Key& key, std::string value) {
  return impl_->Create(key, std::move(value));
}
Result<Record> SqliteStore::Update(const Key& key, std::string value, int64_t expected_mod_revision) {
  return impl_->Update(key, std::move(value), expected_mod_revision);
}
Result<Record> SqliteStore::Delete(const Key& key, int64_t expected_mod_revision) {
  return impl_->Delete(key, expected_mod_revision);
}
Result<std::unique_ptr<Watch>> SqliteStore::WatchFrom(const Scope& scope, int64_t after_revision) {
  return impl_->WatchFrom(scope, after_revision, impl_);
}
int64_t SqliteStore::CurrentRevision() { return impl_->CurrentRevision(); }
int64_t SqliteStore::CompactedRevision() { return impl_->CompactedRevision(); }
Status SqliteStore::Compact(int64_t revision) { return impl_->Compact(revision); }
Status SqliteStore::CheckConsistency() { return impl_->CheckConsistency(); }

}  // namespace tw::store
