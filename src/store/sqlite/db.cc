#include "store/sqlite/db.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <utility>

namespace tw::store::sqlite {

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return Status::IoError(path + ": cannot open database: " + msg);
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw, path));
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Db::Error(int rc, std::string_view what) const {
  std::string msg = path_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_);
  if ((rc & 0xff) == SQLITE_TOOBIG) return Status::TooLarge(std::move(msg));
  return Status::IoError(std::move(msg));
}

Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = path_ + ": " + sql + ": " + (err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return Status::IoError(std::move(msg));
  }
  return Status::Ok();
}

Result<sqlite3_stmt*> Db::Prepare(const std::string& sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                              &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "prepare " + sql);
  cache_.emplace(sql, stmt);
  return stmt;
}

Result<int64_t> Db::QueryInt(const std::string& sql) {
  Query q(*this, Prepare(sql));
  TW_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::IoError(path_ + ": " + sql + ": no result");
  return q.Int(0);
}

Result<std::string> Db::QueryText(const std::string& sql) {
  Query q(*this, Prepare(sql));
  TW_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::IoError(path_ + ": " + sql + ": no result");
  return q.Text(0);
}

Query::Query(Db& db, Result<sqlite3_stmt*> stmt) : db_(db) {
  if (stmt.ok()) {
    stmt_ = *stmt;
  } else {
    status_ = stmt.error();
  }
}

Query::~Query() {
  if (stmt_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Query& Query::Bind(int index, int64_t value) {
  if (stmt_ && status_.ok()) {
    int rc = sqlite3_bind_int64(stmt_, index, value);
    if (rc != SQLITE_OK) status_ = db_.Error(rc, "bind");
  }
  return *this;
}

Query& Query::BindText(int index, std::string_view value) {
  if (stmt_ && status_.ok()) {
    // A null pointer would bind SQL NULL; an empty string is not NULL.
    int rc = sqlite3_bind_text64(stmt_, index, value.data() ? value.data() : "", value.size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
    if (rc != SQLITE_OK) status_ = db_.Error(rc, "bind");
  }
  return *this;
}

Query& Query::BindBlob(int index, std::string_view value) {
  if (stmt_ && status_.ok()) {
    int rc = sqlite3_bind_blob64(stmt_, index, value.data() ? value.data() : "", value.size(), SQLITE_STATIC);
    if (rc != SQLITE_OK) status_ = db_.Error(rc, "bind");
  }
  return *this;
}

Query& Query::BindNull(int index) {
  if (stmt_ && status_.ok()) {
    int rc = sqlite3_bind_null(stmt_, index);
    if (rc != SQLITE_OK) status_ = db_.Error(rc, "bind");
  }
  return *this;
}

Result<bool> Query::Step() {
  if (!status_.ok()) return status_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  status_ = db_.Error(rc, sqlite3_sql(stmt_));
  return status_;
}

Result<int> Query::Run() {
  while (true) {
    TW_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
  }
  return sqlite3_changes(db_.raw());
}

int64_t Query::Int(int column) { return sqlite3_column_int64(stmt_, column); }

std::string Query::Text(int column) {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

std::string Query::Blob(int column) {
  const void* p = sqlite3_column_blob(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(static_cast<const char*>(p), n) : std::string();
}

Result<std::unique_ptr<Transaction>> Transaction::Begin(Db& db, bool immediate) {
  Query q(db, db.Prepare(immediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  TW_RETURN_IF_ERROR(q.Run());
  return std::unique_ptr<Transaction>(new Transaction(db));
}

Transaction::~Transaction() {
  if (done_ || sqlite3_get_autocommit(db_.raw())) return;
  Query q(db_, db_.Prepare("ROLLBACK"));
  (void)q.Run();  // nothing more to do if even the rollback fails
}

Status Transaction::Commit() {
  Query q(db_, db_.Prepare("COMMIT"));
  TW_RETURN_IF_ERROR(q.Run());
  done_ = true;
  return Status::Ok();
}

Result<int> LockDatabaseFile(const std::string& path, std::string_view what) {
  const std::string lock_path = path + ".lock";
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError(lock_path + ": cannot open lock file: " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK)
      return Status::Unavailable(path + ": " + std::string(what) + " is in use by another process");
    return Status::IoError(lock_path + ": cannot lock: " + std::strerror(err));
  }
  return fd;
}

void ReaderPool::Init(std::string path, size_t max_idle, std::function<Status(Db&)> configure) {
  path_ = std::move(path);
  max_idle_ = max_idle;
  configure_ = std::move(configure);
}

Result<ReaderPool::Lease> ReaderPool::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Db> db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(db));
    }
  }
  if (path_.empty()) return Status::Internal("sqlite ReaderPool: Init was not called");
  TW_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(path_, SQLITE_OPEN_READWRITE));
  if (configure_) TW_RETURN_IF_ERROR(configure_(*db));
  TW_RETURN_IF_ERROR(db->Exec("PRAGMA query_only = 1"));
  return Lease(this, std::move(db));
}

void ReaderPool::Release(std::unique_ptr<Db> db) {
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(db));
}

void ReaderPool::Clear() {
  std::lock_guard lock(mu_);
  idle_.clear();
}

}  // namespace tw::store::sqlite
