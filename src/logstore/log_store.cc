#include "logstore/log_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>

#include "base/log.h"
#include "logstore/log_tables.h"
#include "store/sqlite/db.h"

namespace tw::logstore {

namespace json = boost::json;
using store::sqlite::Db;
using store::sqlite::Query;
using store::sqlite::ReaderPool;
using store::sqlite::Transaction;

namespace {

constexpr int64_t kSchemaVersion = 1;
// Pages of 16 KiB hold ~14 flow records of ~1 KiB with less slack than
// 4 KiB pages hold 3.
constexpr int kPageSize = 16384;
// Rows per page of a ForEach*Since scan.
constexpr int64_t kScanPage = 2048;
// After a size-limited Enforce() the data is at most this share of max_bytes,
// so that the next appends do not trigger it again at once.
constexpr double kSizeLowWater = 0.9;
// Free pages kept for reuse (share of the file) before vacuuming the rest.
// More than 1 - kSizeLowWater, so that size retention in steady state only
// frees pages for the next appends and never moves pages around (which
// rewrites the data behind them: 800 MB took ~10 s here).
constexpr double kFreeSlack = 0.25;
// Free pages below this are never vacuumed (1 MiB).
constexpr int64_t kMinVacuumPages = (1 << 20) / kPageSize;
// Pages returned to the file system per write-lock hold (16 MiB, ~0.3 s).
constexpr int64_t kVacuumChunkPages = (16 << 20) / kPageSize;

constexpr int64_t kMinMs = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxMs = std::numeric_limits<int64_t>::max();

// WAL pages after which the checkpointer runs: 16 MiB.
constexpr int kCheckpointPages = 1024;

// Binds the column values from parameter `first` on; returns the next one.
int BindColumns(Query& q, int first, const ColumnValues& values) {
  int index = first;
  for (size_t i = 0; i < values.text.size(); ++i, ++index) {
    if (values.present[i]) {
      q.BindText(index, values.text[i]);
    } else {
      q.BindNull(index);
    }
  }
  return index;
}

// `doc` serialised into `out`, reusing its buffer.
void SerializeInto(const json::object& doc, json::serializer& sr, std::string& out) {
  out.clear();
  sr.reset(&doc);
  char buf[4096];
  while (!sr.done()) {
    std::string_view part = sr.read(buf, sizeof(buf));
    out.append(part.data(), part.size());
  }
}

// Copies the WAL into the database file on its own connection and thread
// (PRAGMA wal_checkpoint(PASSIVE): never blocks readers or the writer), so
// that an append never waits for a checkpoint's fsync.  The writer's commit
// hook calls Kick() when the WAL has grown past kCheckpointPages.
class Checkpointer {
 public:
  explicit Checkpointer(std::unique_ptr<Db> db) : db_(std::move(db)), thread_([this] { Run(); }) {}
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void Kick() {
    {
      std::lock_guard lock(mu_);
      pending_ = true;
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || pending_; });
      if (stop_) return;
      pending_ = false;
      lock.unlock();
      if (Status s = db_->Exec("PRAGMA wal_checkpoint(PASSIVE)"); !s.ok()) {
        TW_LOG_WARN("log store checkpoint: {}", s.message());
      }
      lock.lock();
    }
  }

  std::unique_ptr<Db> db_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;     // guarded by mu_
  bool pending_ = false;  // guarded by mu_
  std::thread thread_;    // last: starts after the members it uses
};

}  // namespace

class LogStore::Impl {
 public:
  Impl(std::string path, LogStoreOptions options, int lock_fd, std::unique_ptr<Db> writer)
      : path_(std::move(path)), options_(options), lock_fd_(lock_fd), writer_(std::move(writer)) {}

  ~Impl() {
    checkpointer_.reset();
    readers_.Clear();
    writer_.reset();
    if (lock_fd_ >= 0) close(lock_fd_);
  }

  Status Init() {
    readers_.Init(path_, options_.max_idle_readers, [this](Db& db) { return ConfigureConnection(db); });
    Db& db = *writer_;
    TW_ASSIGN_OR_RETURN(int64_t version, db.QueryInt("PRAGMA user_version"));
    if (version == 0) {
      TW_ASSIGN_OR_RETURN(int64_t tables, db.QueryInt("SELECT count(*) FROM sqlite_master"));
      if (tables != 0) {
        return Status::IoError(path_ + ": not a threatwall log database (it has tables but no schema version)");
      }
      // Must precede the first table.
      TW_RETURN_IF_ERROR(db.Exec("PRAGMA auto_vacuum = INCREMENTAL"));
      TW_RETURN_IF_ERROR(db.Exec("PRAGMA page_size = " + std::to_string(kPageSize)));
    } else if (version > kSchemaVersion) {
      return Status::Unsupported(path_ + ": log database schema version " + std::to_string(version) +
                                 " is newer than this threatwall supports (" + std::to_string(kSchemaVersion) +
                                 ")");
    } else if (version != kSchemaVersion) {
      return Status::IoError(path_ + ": unknown log database schema version " + std::to_string(version));
    }
    TW_ASSIGN_OR_RETURN(std::string mode, db.QueryText("PRAGMA journal_mode = WAL"));
    if (mode != "wal") {
      return Status::IoError(path_ + ": cannot enable WAL mode (journal_mode is " + mode + ")");
    }
    TW_RETURN_IF_ERROR(ConfigureConnection(db));
    if (version == 0) {
      TW_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db, true));
      TW_RETURN_IF_ERROR(db.Exec(SchemaSql() + "PRAGMA user_version = " + std::to_string(kSchemaVersion) + ";"));
      TW_RETURN_IF_ERROR(txn->Commit());
    }
    TW_ASSIGN_OR_RETURN(int64_t tables,
                        db.QueryInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                    "name IN ('flows', 'dns', 'events')"));
    if (tables != 3) return Status::IoError(path_ + ": not a threatwall log database (tables missing)");
    if (options_.check_integrity_on_open) {
      TW_ASSIGN_OR_RETURN(std::string check, db.QueryText("PRAGMA quick_check"));
      if (check != "ok") return Status::IoError(path_ + ": integrity check failed: " + check);
    }
    TW_ASSIGN_OR_RETURN(std::unique_ptr<Db> checkpoint_db, Db::Open(path_, SQLITE_OPEN_READWRITE));
    TW_RETURN_IF_ERROR(ConfigureConnection(*checkpoint_db));
    checkpointer_ = std::make_unique<Checkpointer>(std::move(checkpoint_db));
    // Replaces the automatic checkpoint of the writer's commits.
    sqlite3_wal_hook(db.raw(), &Impl::OnWalCommit, this);
    return Status::Ok();
  }

  static int OnWalCommit(void* self, sqlite3*, const char*, int pages) {
    if (pages >= kCheckpointPages) static_cast<Impl*>(self)->checkpointer_->Kick();
    return SQLITE_OK;
  }

  // ---- writes ------------------------------------------------------------

  Result<int64_t> Append(const TableSpec& spec, std::span<const json::object> records) {
    if (records.empty()) return int64_t{0};
    const int64_t now_ms = ToMs(options_.clock->Now());
    std::string doc;
    json::serializer serializer;
    ColumnValues columns;
    std::lock_guard lock(write_mu_);
    Db& db = *writer_;
    TW_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db, true));
    TW_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, db.Prepare(InsertSql(spec)));
    int64_t first_id = 0;
    for (const json::object& record : records) {
      SerializeInto(record, serializer, doc);
      ExtractColumns(spec, record, columns);
      Query q(db, stmt);
      q.Bind(1, ExtractTimeMs(spec, record).value_or(now_ms));
      q.BindText(BindColumns(q, 2, columns), doc);
      TW_RETURN_IF_ERROR(q.Run());
      if (first_id == 0) first_id = sqlite3_last_insert_rowid(db.raw());
    }
    TW_RETURN_IF_ERROR(txn->Commit());
    return first_id;
  }

  Result<bool> PutEvent(const json::object& event) {
    const json::value* id = event.if_contains("id");
    if (id == nullptr || !id->is_string() || id->get_string().empty()) {
      return Status::InvalidArgument("event: id: must be a non-empty string");
    }
    const TableSpec& spec = EventTable();
    const std::string doc = json::serialize(event);
    ColumnValues columns;
    ExtractColumns(spec, event, columns);
    const std::string event_id(id->get_string());
    const int64_t time_ms = ExtractTimeMs(spec, event).value_or(ToMs(options_.clock->Now()));
    const json::value* dismissed = event.if_contains("dismissed");
    const bool is_dismissed = dismissed != nullptr && dismissed->is_bool() && dismissed->get_bool();

    std::lock_guard lock(write_mu_);
    Db& db = *writer_;
    TW_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db, true));
    int changed = 0;
    {
      Query q(db, db.Prepare(InsertSql(spec)));
      q.Bind(1, time_ms).BindText(2, event_id);
      q.BindText(BindColumns(q, 3, columns), doc);
      TW_ASSIGN_OR_RETURN(changed, q.Run());
    }
    if (changed == 1 && is_dismissed) {
      Query q(db, db.Prepare("UPDATE events SET dismissed = 1 WHERE event_id = ?1"));
      q.BindText(1, event_id);
      TW_RETURN_IF_ERROR(q.Run());
    }
    TW_RETURN_IF_ERROR(txn->Commit());
    return changed == 1;
  }

  Status DismissEvent(const std::string& id) {
    std::lock_guard lock(write_mu_);
    Db& db = *writer_;
    Query q(db, db.Prepare("UPDATE events SET dismissed = 1 WHERE event_id = ?1"));
    q.BindText(1, id);
    TW_ASSIGN_OR_RETURN(int changed, q.Run());
    if (changed == 0) return Status::NotFound("event \"" + id + "\": not found");
    return Status::Ok();
  }

  // ---- reads -------------------------------------------------------------

  Result<json::object> GetEvent(const std::string& id) {
    TW_ASSIGN_OR_RETURN(ReaderPool::Lease reader, readers_.Acquire());
    Query q(*reader, reader->Prepare("SELECT doc, dismissed FROM events WHERE event_id = ?1"));
    q.BindText(1, id);
    TW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("event \"" + id + "\": not found");
    TW_ASSIGN_OR_RETURN(json::object event, ParseDoc(EventTable(), q.Text(0)));
    event["dismissed"] = q.Int(1) != 0;
    return event;
  }

  Result<std::vector<json::object>> Select(const TableSpec& spec, const LogQuery& query) {
    TW_ASSIGN_OR_RETURN(SelectSql select, BuildQuery(spec, query));
    TW_ASSIGN_OR_RETURN(ReaderPool::Lease reader, readers_.Acquire());
    Query q(*reader, reader->Prepare(select.sql));
    q.Bind(1, query.since ? ToMs(*query.since) : kMinMs);
    q.Bind(2, query.until ? ToMs(*query.until) : kMaxMs);
    q.Bind(3, static_cast<int64_t>(query.limit));
    for (size_t i = 0; i < select.binds.size(); ++i) q.BindText(static_cast<int>(i) + 4, select.binds[i]);
    std::vector<json::object> out;
    while (true) {
      TW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      TW_ASSIGN_OR_RETURN(json::object doc, ParseDoc(spec, q.Text(0)));
      if (spec.is_events) doc["dismissed"] = q.Int(1) != 0;
      out.push_back(std::move(doc));
    }
    return out;
  }

  Status ForEachSince(const TableSpec& spec, TimePoint since, const RecordFn& fn) {
    const std::string sql = "SELECT id, time, doc FROM " + std::string(spec.table) +
                            " WHERE time >= ?1 AND (time > ?1 OR id > ?2) ORDER BY time, id LIMIT ?3";
    int64_t cursor_time = ToMs(since);
    int64_t cursor_id = -1;
    std::vector<std::string> page;
    while (true) {
      page.clear();
      {
        TW_ASSIGN_OR_RETURN(ReaderPool::Lease reader, readers_.Acquire());
        Query q(*reader, reader->Prepare(sql));
        q.Bind(1, cursor_time).Bind(2, cursor_id).Bind(3, kScanPage);
        while (true) {
          TW_ASSIGN_OR_RETURN(bool row, q.Step());
          if (!row) break;
          cursor_id = q.Int(0);
          cursor_time = q.Int(1);
          page.push_back(q.Text(2));
        }
      }
      for (const std::string& text : page) {
        TW_ASSIGN_OR_RETURN(json::object doc, ParseDoc(spec, text));
        if (!fn(doc)) return Status::Ok();
      }
      if (static_cast<int64_t>(page.size()) < kScanPage) return Status::Ok();
    }
  }

  Result<LogStoreStats> Stats() {
    TW_ASSIGN_OR_RETURN(ReaderPool::Lease reader, readers_.Acquire());
    Db& db = *reader;
    LogStoreStats s;
    TW_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db, false));
    TW_ASSIGN_OR_RETURN(s.flows, db.QueryInt("SELECT count(*) FROM flows"));
    TW_ASSIGN_OR_RETURN(s.dns, db.QueryInt("SELECT count(*) FROM dns"));
    TW_ASSIGN_OR_RETURN(s.events, db.QueryInt("SELECT count(*) FROM events"));
    TW_ASSIGN_OR_RETURN(Pages pages, ReadPages(db));
    TW_RETURN_IF_ERROR(txn->Commit());
    s.data_bytes = pages.DataBytes();
    s.file_bytes = static_cast<uint64_t>(pages.count * pages.size);
    s.free_bytes = static_cast<uint64_t>(pages.free * pages.size);
    return s;
  }

  // ---- retention ---------------------------------------------------------

  Result<RetentionReport> Enforce() {
    RetentionReport report;
    const int64_t cutoff = ToMs(options_.clock->Now() - options_.max_age);
    const std::string older = " WHERE time < " + std::to_string(cutoff);
    TW_ASSIGN_OR_RETURN(report.flows_deleted, DeleteBatches("flows", older, -1));
    TW_ASSIGN_OR_RETURN(report.dns_deleted, DeleteBatches("dns", older, -1));
    TW_ASSIGN_OR_RETURN(report.events_deleted, DeleteBatches("events", older, -1));
    TW_RETURN_IF_ERROR(EnforceSize(report));
    TW_ASSIGN_OR_RETURN(report.bytes_vacuumed, Vacuum());
    return report;
  }

  const std::string& path() const { return path_; }

 private:
  struct Pages {
    int64_t count = 0;
    int64_t free = 0;
    int64_t size = 0;
    uint64_t DataBytes() const { return static_cast<uint64_t>((count - free) * size); }
  };


  Status ConfigureConnection(Db& db) {
    sqlite3_busy_timeout(db.raw(), 5000);
    // Logs: survive a process crash, not necessarily a power loss (header).
    TW_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = NORMAL"));
    TW_RETURN_IF_ERROR(db.Exec("PRAGMA journal_size_limit = 67108864"));
    TW_RETURN_IF_ERROR(db.Exec("PRAGMA cache_size = -16384"));  // 16 MiB
    return Status::Ok();
  }

  Result<json::object> ParseDoc(const TableSpec& spec, const std::string& text) const {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
      return Status::IoError(path_ + ": " + std::string(spec.table) + ": stored " + std::string(spec.what) +
                             " is not a JSON object" + (ec ? ": " + ec.message() : ""));
    }
    return std::move(v.get_object());
  }

  static Result<Pages> ReadPages(Db& db) {
    Pages p;
    TW_ASSIGN_OR_RETURN(p.count, db.QueryInt("PRAGMA page_count"));
    TW_ASSIGN_OR_RETURN(p.free, db.QueryInt("PRAGMA freelist_count"));
    TW_ASSIGN_OR_RETURN(p.size, db.QueryInt("PRAGMA page_size"));
    return p;
  }

  // Deletes the oldest rows of `table` matching `where` (" WHERE ...", may
  // be empty), options_.delete_batch per transaction, at most `max_rows`
  // (-1: all).  Returns the number deleted.
  Result<int64_t> DeleteBatches(const std::string& table, const std::string& where, int64_t max_rows) {
    const int64_t batch = Batch();
    const std::string sql = "DELETE FROM " + table + " WHERE id IN (SELECT id FROM " + table + where +
                            " ORDER BY time, id LIMIT ?1)";
    int64_t total = 0;
    while (max_rows < 0 || total < max_rows) {
      const int64_t n = max_rows < 0 ? batch : std::min(batch, max_rows - total);
      std::lock_guard lock(write_mu_);
      Query q(*writer_, writer_->Prepare(sql));
      q.Bind(1, n);
      TW_ASSIGN_OR_RETURN(int changed, q.Run());
      total += changed;
      if (changed < n) break;
    }
    return total;
  }

  // The oldest time in `table`, nullopt when empty.
  Result<std::optional<int64_t>> OldestTime(const std::string& table) {
    std::lock_guard lock(write_mu_);
    Query q(*writer_, writer_->Prepare("SELECT time FROM " + table + " ORDER BY time LIMIT 1"));
    TW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<int64_t>();
    return std::optional<int64_t>(q.Int(0));
  }

  Result<Pages> WriterPages() {
    std::lock_guard lock(write_mu_);
    return ReadPages(*writer_);
  }

  // Deletes the oldest flow / DNS rows (then dismissed events) while the
  // data is over max_bytes, down to kSizeLowWater of it.  Each round
  // deletes the rows the excess needs at the average row size, in batches,
  // then measures again.
  Status EnforceSize(RetentionReport& report) {
    TW_ASSIGN_OR_RETURN(Pages pages, WriterPages());
    if (pages.DataBytes() <= options_.max_bytes) return Status::Ok();
    const uint64_t goal = static_cast<uint64_t>(static_cast<double>(options_.max_bytes) * kSizeLowWater);
    while (pages.DataBytes() > goal) {
      TW_ASSIGN_OR_RETURN(LogStoreStats stats, Stats());
      const int64_t rows = std::max<int64_t>(stats.flows + stats.dns + stats.events, 1);
      const uint64_t per_row = std::max<uint64_t>(pages.DataBytes() / static_cast<uint64_t>(rows), 1);
      int64_t want = static_cast<int64_t>((pages.DataBytes() - goal) / per_row) + 16;
      while (want > 0) {
        TW_ASSIGN_OR_RETURN(int64_t deleted, DeleteOldest(std::min(want, Batch()), report));
        if (deleted == 0) return Status::Ok();  // only undismissed events left: kept
        want -= deleted;
      }
      TW_ASSIGN_OR_RETURN(pages, WriterPages());
    }
    return Status::Ok();
  }

  int64_t Batch() const { return static_cast<int64_t>(std::max<size_t>(options_.delete_batch, 1)); }

  // Deletes up to `n` of the oldest rows of whichever of flows and DNS holds
  // the oldest row; dismissed events when both are empty.
  Result<int64_t> DeleteOldest(int64_t n, RetentionReport& report) {
    TW_ASSIGN_OR_RETURN(std::optional<int64_t> oldest_flow, OldestTime("flows"));
    TW_ASSIGN_OR_RETURN(std::optional<int64_t> oldest_dns, OldestTime("dns"));
    int64_t deleted = 0;
    if (oldest_flow && (!oldest_dns || *oldest_flow <= *oldest_dns)) {
      TW_ASSIGN_OR_RETURN(deleted, DeleteBatches("flows", "", n));
      report.flows_deleted += deleted;
    } else if (oldest_dns) {
      TW_ASSIGN_OR_RETURN(deleted, DeleteBatches("dns", "", n));
      report.dns_deleted += deleted;
    } else {
      TW_ASSIGN_OR_RETURN(deleted, DeleteBatches("events", " WHERE dismissed = 1", n));
      report.events_deleted += deleted;
    }
    return deleted;
  }

  // Returns free pages beyond kFreeSlack of the file to the file system;
  // the bytes returned.
  Result<int64_t> Vacuum() {
    int64_t vacuumed = 0;
    while (true) {
      std::lock_guard lock(write_mu_);
      TW_ASSIGN_OR_RETURN(Pages pages, ReadPages(*writer_));
      const int64_t keep = std::max<int64_t>(static_cast<int64_t>(pages.count * kFreeSlack), kMinVacuumPages);
      if (pages.free <= keep) break;
      const int64_t n = std::min(pages.free - keep, kVacuumChunkPages);
      Query q(*writer_, writer_->Prepare("PRAGMA incremental_vacuum(" + std::to_string(n) + ")"));
      TW_RETURN_IF_ERROR(q.Run());
      vacuumed += n * pages.size;
    }
    return vacuumed;
  }

  const std::string path_;
  const LogStoreOptions options_;
  const int lock_fd_;

  std::mutex write_mu_;
  std::unique_ptr<Db> writer_;  // guarded by write_mu_

  ReaderPool readers_;  // idle read connections

  std::unique_ptr<Checkpointer> checkpointer_;  // set by Init()
};

Result<std::unique_ptr<LogStore>> LogStore::Open(const std::string& path, const LogStoreOptions& options) {
  if (path.empty()) return Status::InvalidArgument("log store: path: must not be empty");
  if (options.max_age.count() <= 0) {
    return Status::InvalidArgument("log store: max_age: " + std::to_string(options.max_age.count()) +
                                   "s: must be positive");
  }
  if (options.max_bytes == 0) return Status::InvalidArgument("log store: max_bytes: must be positive");
  if (options.clock == nullptr) return Status::InvalidArgument("log store: clock: must be set");
  TW_ASSIGN_OR_RETURN(int fd, store::sqlite::LockDatabaseFile(path, "log database"));
  Result<std::unique_ptr<Db>> db = Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db.ok()) {
    close(fd);
    return db.error();
  }
  auto impl = std::make_unique<Impl>(path, options, fd, std::move(*db));
  TW_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<LogStore>(new LogStore(std::move(impl)));
}

LogStore::LogStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LogStore::~LogStore() = default;

Result<int64_t> LogStore::AppendFlows(std::span<const json::object> records) {
  return impl_->Append(FlowTable(), records);
}
Result<int64_t> LogStore::AppendDns(std::span<const json::object> records) {
  return impl_->Append(DnsTable(), records);
}
Result<bool> LogStore::PutEvent(const json::object& event) { return impl_->PutEvent(event); }
Result<json::object> LogStore::GetEvent(const std::string& id) { return impl_->GetEvent(id); }
Status LogStore::DismissEvent(const std::string& id) { return impl_->DismissEvent(id); }
Result<std::vector<json::object>> LogStore::QueryFlows(const LogQuery& query) {
  return impl_->Select(FlowTable(), query);
}
Result<std::vector<json::object>> LogStore::QueryDns(const LogQuery& query) {
  return impl_->Select(DnsTable(), query);
}
Result<std::vector<json::object>> LogStore::QueryEvents(const LogQuery& query) {
  return impl_->Select(EventTable(), query);
}
Status LogStore::ForEachFlowSince(TimePoint since, const RecordFn& fn) {
  return impl_->ForEachSince(FlowTable(), since, fn);
}
Status LogStore::ForEachDnsSince(TimePoint since, const RecordFn& fn) {
  return impl_->ForEachSince(DnsTable(), since, fn);
}
Result<RetentionReport> LogStore::Enforce() { return impl_->Enforce(); }
Result<LogStoreStats> LogStore::Stats() { return impl_->Stats(); }

}  // namespace tw::logstore
